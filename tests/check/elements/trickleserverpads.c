/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * trickleserver hosting channels as pads: an external publisher (a
 * tricklesink pipeline) feeds video-in, the pipeline transforms it, an
 * external subscriber (a tricklesrc pipeline) reads video-out.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <gst/trickle/trickle.h>
#include "trickletestutil.h"

/* `srv.src_x ! filter ! srv.sink_y` links trickleserver to itself: GstBin
 * warns that its graph has a loop (the order of state changes inside the
 * loop is free; harmless here) */
static void
allow_loop_warning (void)
{
  gst_check_add_log_filter ("GStreamer", G_LOG_LEVEL_WARNING,
      g_regex_new ("loop detected in the graph", 0, 0, NULL), NULL, NULL, NULL);
}




/* the chain's bound port */
static guint
server_port (GstElement * chain)
{
  GstElement *srv = trickle_test_get (chain, "srv");
  guint port = 0;
  gint i;

  for (i = 0; i < 100 && port == 0; i++) {
    g_object_get (srv, "current-port", &port, NULL);
    if (port == 0)
      g_usleep (10 * 1000);
  }
  gst_object_unref (srv);
  fail_unless (port != 0);
  return port;
}

/* waits until a GET is open on @channel of the chain's server "srv" (the
 * subscriber waits for its next segment): the event a test needs before it
 * publishes frames that subscriber must see from the first. 30 s only
 * bounds a hang. */
static void
wait_subscribed (GstElement * chain, const gchar * channel)
{
  GstElement *srv = trickle_test_get (chain, "srv");
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint subs = 0;

  for (;;) {
    GstStructure *stats = NULL;
    const GValue *v;

    g_object_get (srv, "stats", &stats, NULL);
    v = stats ? gst_structure_get_value (stats, channel) : NULL;
    if (v && GST_VALUE_HOLDS_STRUCTURE (v))
      gst_structure_get_uint (gst_value_get_structure (v), "subscribers",
          &subs);
    if (stats)
      gst_structure_free (stats);
    if (subs >= 1 || g_get_monotonic_time () >= deadline)
      break;
    g_usleep (10 * 1000);
  }
  gst_object_unref (srv);
  fail_unless (subs >= 1, "no subscriber on %s", channel);
}

/* pulls frames from an appsink until @n or a timeout */
static GPtrArray *
pull_frames (GstElement * sink, guint n, guint timeout_s)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstSample *sample;

  while (frames->len < n && (sample =
          gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              timeout_s * GST_SECOND))) {
    g_ptr_array_add (frames, gst_buffer_ref (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }
  return frames;
}

/* the frames of a local pipeline (the reference) */
static GPtrArray *
reference_frames (const gchar * desc, guint n)
{
  GstElement *p = trickle_test_start_pipeline (desc);
  GstElement *sink = trickle_test_get (p, "sink");
  GPtrArray *frames = pull_frames (sink, n, 10);

  gst_object_unref (sink);
  trickle_test_stop_pipeline (p);
  fail_unless_equals_int (frames->len, n);
  return frames;
}

/* mean absolute difference of the first @size bytes of two buffers */
static gdouble
mean_diff (GstBuffer * a, GstBuffer * b, gsize size)
{
  GstMapInfo ma, mb;
  guint64 sum = 0;
  gsize i;

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  fail_unless (ma.size >= size && mb.size >= size);
  for (i = 0; i < size; i++)
    sum += ABS ((gint) ma.data[i] - (gint) mb.data[i]);
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return (gdouble) sum / size;
}

#define RAW_CAPS "video/x-raw,format=GRAY8,width=32,height=8,framerate=20/1"

/* raw video through video-in -> videoflip -> video-out: every frame
 * arrives, mirrored exactly as a local videoflip mirrors it */
GST_START_TEST (test_raw_chain)
{
  GstElement *chain, *pub, *sub, *sink;
  GPtrArray *got, *flipped, *plain;
  gchar *desc;
  guint port, i;

  allow_loop_warning ();
  chain = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "srv.src_video-in ! videoflip video-direction=horiz ! "
      "srv.sink_video-out");
  port = server_port (chain);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
      "video-out ! appsink name=sink sync=false", port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  wait_subscribed (chain, "video-out");
  desc = g_strdup_printf ("videotestsrc num-buffers=10 is-live=true "
      "pattern=smpte75 ! " RAW_CAPS " ! tricklesink "
      "location=http://127.0.0.1:%u/video-in", port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  got = pull_frames (sink, 10, 30);
  gst_object_unref (sink);
  fail_unless_equals_int (got->len, 10);

  flipped = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      RAW_CAPS " ! videoflip video-direction=horiz ! appsink name=sink "
      "sync=false", 1);
  plain = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      RAW_CAPS " ! appsink name=sink sync=false", 1);
  /* the check can fail: the pattern is not symmetric */
  fail_unless (mean_diff (g_ptr_array_index (flipped, 0),
          g_ptr_array_index (plain, 0), 32 * 8) > 10);
  for (i = 0; i < got->len; i++)
    fail_unless (mean_diff (g_ptr_array_index (got, i),
            g_ptr_array_index (flipped, 0), 32 * 8) == 0,
        "frame %u (%" G_GSIZE_FORMAT " bytes): %.1f from the mirrored "
        "pattern, %.1f from the original", i,
        gst_buffer_get_size (g_ptr_array_index (got, i)),
        mean_diff (g_ptr_array_index (got, i), g_ptr_array_index (flipped,
                0), 32 * 8), mean_diff (g_ptr_array_index (got, i),
            g_ptr_array_index (plain, 0), 32 * 8));

  g_ptr_array_unref (got);
  g_ptr_array_unref (flipped);
  g_ptr_array_unref (plain);

  /* the stats property: video-out's 10 segments, bytes, the subscriber's
   * open GET, a 470 served for a segment that left the window (video-in
   * was deleted by the publisher at its EOS and made again: new counters) */
  {
    TrickleTestConn *c = trickle_test_request (port, "GET", "/video-out/0",
        NULL, 0, NULL);
    GstElement *srv = trickle_test_get (chain, "srv");
    GstStructure *stats = NULL;
    const GstStructure *out;
    guint64 v = 0;
    guint subs = 0;

    fail_unless_equals_int (c->status, 470);
    trickle_test_conn_free (c);
    g_object_get (srv, "stats", &stats, NULL);
    out = gst_value_get_structure (gst_structure_get_value (stats,
            "video-out"));
    fail_unless (gst_structure_get_uint64 (out, "segments", &v) && v >= 10);
    fail_unless (gst_structure_get_uint64 (out, "bytes", &v)
        && v >= 10 * 32 * 8);
    fail_unless (gst_structure_get_uint64 (out, "gone", &v) && v >= 1);
    fail_unless (gst_structure_get_uint (out, "subscribers", &subs)
        && subs >= 1, "%" GST_PTR_FORMAT, stats);
    gst_structure_free (stats);
    gst_object_unref (srv);
  }
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  trickle_test_stop_pipeline (chain);
}

GST_END_TEST;

/* the events channel: stats every stats-interval, "stopped" when the
 * pipeline leaves PLAYING */
GST_START_TEST (test_events_stats)
{
  GstElement *chain;
  TrickleTestConn *c;
  guint port;

  chain = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "events=events stats-interval=1 srv.src_video-in ! fakesink "
      "async=false");
  port = server_port (chain);
  /* the next event: stats within a second or so */
  c = trickle_test_request (port, "GET", "/events/-1", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  fail_unless (g_str_has_prefix (trickle_test_conn_body_str (c),
          "{\"event\":\"stats\",\"channels\":{"), "%s",
      trickle_test_conn_body_str (c));
  fail_unless (strstr (trickle_test_conn_body_str (c),
          "\"video-in\":{\"segments\":0,") != NULL, "%s",
      trickle_test_conn_body_str (c));
  trickle_test_conn_free (c);
  fail_unless_equals_int (gst_element_set_state (chain, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
  c = trickle_test_request (port, "GET", "/events/-2", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  fail_unless_equals_string (trickle_test_conn_body_str (c),
      "{\"event\":\"stopped\"}");
  trickle_test_conn_free (c);
  trickle_test_stop_pipeline (chain);
}

GST_END_TEST;

#define H264_SIZE "width=160,height=120"

/* The one-liner: H.264 in MPEG-TS in, decoded, mirrored,
 * encoded, out; an external tricklesink publishes, an external tricklesrc
 * receives every frame, mirrored */
GST_START_TEST (test_h264_chain)
{
  GstElement *chain, *pub, *sub, *sink;
  GPtrArray *got, *flipped, *plain;
  gchar *desc;
  guint port, i;

  if (!trickle_test_have ("x264enc") || !trickle_test_have ("avdec_h264")) {
    GST_WARNING ("encoder plugins missing, skipping");
    return;
  }
  allow_loop_warning ();
  chain = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "srv.src_video-in ! tsdemux ! h264parse ! avdec_h264 ! videoconvert ! "
      "videoflip video-direction=horiz ! x264enc tune=zerolatency "
      "key-int-max=10 ! mpegtsmux ! srv.sink_video-out");
  port = server_port (chain);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
      "video-out ! tsdemux ! h264parse ! avdec_h264 ! videoconvert ! "
      "video/x-raw,format=I420 ! appsink name=sink sync=false", port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  wait_subscribed (chain, "video-out");
  desc = g_strdup_printf ("videotestsrc num-buffers=60 is-live=true "
      "pattern=smpte75 ! video/x-raw," H264_SIZE ",framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=10 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/video-in", port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  /* all 60, but for the last frame held by each of the two MPEG-TS
   * demuxers (the worker's and the subscriber's): a video PES carries no
   * length, so a demuxer hands a frame on when the next one begins; the
   * stream goes on (the input channel stays open), nothing else ends it.
   * So 58 are waited for (30 s between two only bounds a hang). */
  got = pull_frames (sink, 58, 30);
  gst_object_unref (sink);
  fail_unless (got->len == 58, "%u frames", got->len);
  for (i = 1; i < got->len; i++)
    fail_unless (GST_BUFFER_PTS (g_ptr_array_index (got, i)) >
        GST_BUFFER_PTS (g_ptr_array_index (got, i - 1)), "out of order");

  flipped = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      "video/x-raw,format=I420," H264_SIZE " ! videoflip "
      "video-direction=horiz ! appsink name=sink sync=false", 1);
  plain = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      "video/x-raw,format=I420," H264_SIZE " ! appsink name=sink "
      "sync=false", 1);
  /* luma of every frame: close to the mirrored pattern (two lossy
   * encodings), far from the original */
  for (i = 0; i < got->len; i++) {
    gdouble to_flipped = mean_diff (g_ptr_array_index (got, i),
        g_ptr_array_index (flipped, 0), 160 * 120);
    gdouble to_plain = mean_diff (g_ptr_array_index (got, i),
        g_ptr_array_index (plain, 0), 160 * 120);
    fail_unless (to_flipped < 8 && to_plain > 3 * to_flipped,
        "frame %u: %.1f from the mirrored pattern, %.1f from the original",
        i, to_flipped, to_plain);
  }
  g_ptr_array_unref (got);
  g_ptr_array_unref (flipped);
  g_ptr_array_unref (plain);
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  trickle_test_stop_pipeline (chain);
}

GST_END_TEST;

static void
post_json (guint port, const gchar * ch, const gchar * json)
{
  gchar *path = g_strdup_printf ("/%s/-1", ch);
  TrickleTestConn *c = trickle_test_request (port, "POST", path, json, -1,
      "Content-Type", "application/json", NULL);

  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  g_free (path);
}

static void
count_control (GstElement * srv, gint64 seq, const gchar * json,
    GstStructure * data, gint * n)
{
  g_atomic_int_inc (n);
}

static void
count_control_added (GstElement * srv, const gchar * channel, gint * n)
{
  if (g_strcmp0 (channel, "watch") == 0)
    g_atomic_int_inc (n);
}

/* control messages change a property mid-stream; bad ones change nothing
 * and the stream keeps flowing; every message reaches the bus and the
 * signal; the events channel tells what happened */
GST_START_TEST (test_control)
{
  GstElement *chain, *pub, *sub, *sink, *srv, *flip;
  GPtrArray *flipped, *plain, *got;
  GstBus *bus;
  GstMessage *msg;
  gchar *desc, *events = NULL;
  guint port, i, warnings = 0, controls = 0, with_data = 0;
  gint signalled = 0, direction = -1;
  gint64 next, seq;
  const gchar *bad[] = { "{not json", "{\"set\":{\"nope.x\":1}}",
    "{\"set\":{\"flip.video-direction\":\"sideways\"}}",
    "{\"set\":{\"flip.no-such-property\":1}}",
    "{\"set\":{\"flip.video-direction\":\"horiz\",\"flip.qos\":3}}",
    /* not UTF-8 (GStreamer warns on such a string in a structure: fatal
     * here) */
    "{\"set\":{\"flip.video-direction\":\"horiz\"},\"note\":\"\xc3\x28\"}",
    /* the server's own settings: never from a control document */
    "{\"set\":{\"srv.max-channels\":3}}"
  };

  allow_loop_warning ();
  chain =
      trickle_test_start_pipeline ("trickleserver name=srv port=0 window=64 "
      "control=control events=events stats-interval=0 "
      "srv.src_video-in ! videoflip name=flip ! srv.sink_video-out");
  port = server_port (chain);
  srv = trickle_test_get (chain, "srv");
  g_signal_connect (srv, "control", G_CALLBACK (count_control), &signalled);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
      "video-out ! appsink name=sink sync=false", port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc is-live=true pattern=smpte75 ! "
      RAW_CAPS " ! tricklesink location=http://127.0.0.1:%u/video-in", port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  flipped = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      RAW_CAPS " ! videoflip video-direction=horiz ! appsink name=sink "
      "sync=false", 1);
  plain = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      RAW_CAPS " ! appsink name=sink sync=false", 1);

  got = pull_frames (sink, 5, 10);
  fail_unless_equals_int (got->len, 5);
  for (i = 0; i < got->len; i++)
    fail_unless (mean_diff (g_ptr_array_index (got, i),
            g_ptr_array_index (plain, 0), 32 * 8) == 0);
  g_ptr_array_unref (got);

  /* refused, one by one: the video goes on, unchanged */
  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    post_json (port, "control", bad[i]);
  got = pull_frames (sink, 10, 10);
  fail_unless_equals_int (got->len, 10);
  for (i = 0; i < got->len; i++)
    fail_unless (mean_diff (g_ptr_array_index (got, i),
            g_ptr_array_index (plain, 0), 32 * 8) == 0, "frame %u changed", i);
  g_ptr_array_unref (got);
  flip = trickle_test_get (chain, "flip");
  g_object_get (flip, "video-direction", &direction, NULL);
  fail_unless_equals_int (direction, 0);

  /* applied: from a later frame on, every frame is mirrored */
  post_json (port, "control",
      "{\"set\": {\"flip.video-direction\": \"horiz\"}}");
  got = pull_frames (sink, 40, 10);
  for (i = 0; i < got->len; i++)
    if (mean_diff (g_ptr_array_index (got, i),
            g_ptr_array_index (flipped, 0), 32 * 8) == 0)
      break;
  fail_unless (i < got->len, "no mirrored frame after the control message");
  for (; i < got->len; i++)
    fail_unless (mean_diff (g_ptr_array_index (got, i),
            g_ptr_array_index (flipped, 0), 32 * 8) == 0, "frame %u", i);
  g_ptr_array_unref (got);
  g_object_get (flip, "video-direction", &direction, NULL);
  fail_unless (direction != 0);

  /* the bus: a warning per refused message, a message per document */
  bus = gst_element_get_bus (chain);
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      if (g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT))
        warnings++;
      g_error_free (err);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name (gst_message_get_structure (msg),
            "trickle-control")) {
      const GstStructure *st = gst_message_get_structure (msg);
      controls++;
      fail_unless (gst_structure_get_string (st, "json") != NULL);
      with_data += gst_structure_has_field (st, "data");
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  fail_unless_equals_int (warnings, G_N_ELEMENTS (bad));
  fail_unless_equals_int (controls, G_N_ELEMENTS (bad) + 1);
  /* all but "{not json" and the one that is not UTF-8 are objects */
  fail_unless_equals_int (with_data, G_N_ELEMENTS (bad) - 1);
  fail_unless_equals_int (g_atomic_int_get (&signalled),
      G_N_ELEMENTS (bad) + 1);

  /* the events channel: started, an error per refused message, the
   * applied one */
  {
    TrickleTestConn *c = trickle_test_request (port, "GET", "/events/next",
        NULL, 0, NULL);
    GString *all = g_string_new (NULL);
    fail_unless_equals_int (c->status, 200);
    next = g_ascii_strtoll (trickle_test_conn_body_str (c), NULL, 10);
    trickle_test_conn_free (c);
    for (seq = 0; seq < next; seq++) {
      gchar *path = g_strdup_printf ("/events/%" G_GINT64_FORMAT, seq);
      GValue v = G_VALUE_INIT;
      c = trickle_test_request (port, "GET", path, NULL, 0, NULL);
      fail_unless_equals_int (c->status, 200);
      fail_unless (gst_trickle_json_parse (trickle_test_conn_body_str (c), -1,
              &v, NULL), "not JSON: %s", trickle_test_conn_body_str (c));
      g_value_unset (&v);
      g_string_append_printf (all, "%s\n", trickle_test_conn_body_str (c));
      trickle_test_conn_free (c);
      g_free (path);
    }
    events = g_string_free (all, FALSE);
  }
  fail_unless (strstr (events, "{\"event\":\"started\"}") != NULL, "%s",
      events);
  {
    guint errors = 0;
    const gchar *p = events;
    while ((p = strstr (p, "\"event\":\"error\""))) {
      errors++;
      p++;
    }
    fail_unless_equals_int (errors, G_N_ELEMENTS (bad));
  }
  fail_unless (strstr (events, "{\"event\":\"control\",\"seq\":") !=
      NULL, "%s", events);
  g_free (events);

  gst_object_unref (flip);
  gst_object_unref (srv);
  gst_object_unref (sink);
  g_ptr_array_unref (flipped);
  g_ptr_array_unref (plain);
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  trickle_test_stop_pipeline (chain);
}

GST_END_TEST;

/* the publish-document action signal: a control document applied, a
 * document on any channel served as a POSTed one would be, bad calls
 * refused with -1 and nothing written; keepalive-interval and n-channels
 * reach the running server */
GST_START_TEST (test_publish_document)
{
  GstElement *chain, *srv, *flip, *idle;
  TrickleTestConn *c;
  GstStructure *stats = NULL;
  gint64 seq, deadline;
  gint direction = 0, signalled = 0;
  guint port, n_channels = 0, keepalive = 0;

  idle = gst_element_factory_make ("trickleserver", NULL);
  g_signal_emit_by_name (idle, "publish-document", "x", "{}", &seq);
  fail_unless_equals_int64 (seq, -1);   /* not running */
  gst_object_unref (idle);

  chain = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "control=control events=events stats-interval=0 keepalive-interval=1 "
      "videotestsrc is-live=true ! " RAW_CAPS " ! videoflip name=flip ! "
      "fakesink");
  port = server_port (chain);
  srv = trickle_test_get (chain, "srv");
  flip = trickle_test_get (chain, "flip");
  g_object_get (srv, "keepalive-interval", &keepalive, NULL);
  fail_unless_equals_int (keepalive, 1);
  g_signal_connect (srv, "control", G_CALLBACK (count_control), &signalled);

  /* a control document, in process: applied as one from a client */
  g_signal_emit_by_name (srv, "publish-document", "control",
      "{\"set\": {\"flip.video-direction\": \"horiz\"}}", &seq);
  fail_unless (seq >= 0);
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;     /* a hang */
  while (direction == 0 && g_get_monotonic_time () < deadline) {
    g_object_get (flip, "video-direction", &direction, NULL);
    if (direction == 0)
      g_usleep (10 * 1000);
  }
  fail_unless (direction != 0, "the control document was not applied");
  fail_unless_equals_int (g_atomic_int_get (&signalled), 1);

  /* any channel: created as JSON, served to HTTP subscribers */
  g_signal_emit_by_name (srv, "publish-document", "notes", "{\"a\": [1, 2]}",
      &seq);
  fail_unless_equals_int64 (seq, 0);
  g_signal_emit_by_name (srv, "publish-document", "notes", "\"two\"", &seq);
  fail_unless_equals_int64 (seq, 1);
  c = trickle_test_request (port, "GET", "/notes/0", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  fail_unless_equals_string (trickle_test_conn_get_header (c,
          "Content-Type"), "application/json");
  fail_unless_equals_string (trickle_test_conn_body_str (c), "{\"a\": [1, 2]}");
  trickle_test_conn_free (c);

  /* refused: not JSON, a bad name, a channel of another type; nothing
   * written */
  g_signal_emit_by_name (srv, "publish-document", "notes", "{not json", &seq);
  fail_unless_equals_int64 (seq, -1);
  g_signal_emit_by_name (srv, "publish-document", "a/b", "{}", &seq);
  fail_unless_equals_int64 (seq, -1);
  g_signal_emit_by_name (srv, "publish-document", "..", "{}", &seq);
  fail_unless_equals_int64 (seq, -1);
  g_signal_emit_by_name (srv, "publish-document", "_changes", "{}", &seq);
  fail_unless_equals_int64 (seq, -1);
  {
    gchar *long_name = g_strnfill (257, 'a');
    g_signal_emit_by_name (srv, "publish-document", long_name, "{}", &seq);
    fail_unless_equals_int64 (seq, -1);
    g_free (long_name);
  }
  c = trickle_test_request (port, "POST", "/media/0", "\x47", 1,
      "Content-Type", "video/MP2T", NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  g_signal_emit_by_name (srv, "publish-document", "media", "{}", &seq);
  fail_unless_equals_int64 (seq, -1);
  c = trickle_test_request (port, "GET", "/notes/next", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  fail_unless_equals_string (trickle_test_conn_body_str (c), "2");
  trickle_test_conn_free (c);
  c = trickle_test_request (port, "GET", "/media/next", NULL, 0, NULL);
  fail_unless_equals_string (trickle_test_conn_body_str (c), "1");
  trickle_test_conn_free (c);

  /* n-channels counts what stats lists */
  g_object_get (srv, "n-channels", &n_channels, "stats", &stats, NULL);
  fail_unless_equals_int (n_channels, gst_structure_n_fields (stats));
  fail_unless (gst_structure_has_field (stats, "notes"));
  fail_unless (n_channels >= 4);        /* control, events, notes, media */
  gst_structure_free (stats);

  /* keepalive-interval reached the server: a preconnected POST without a
   * body gets interim 100 responses */
  c = trickle_test_conn_new (port);
  fail_unless (trickle_test_conn_start_post (c, "/media/1", NULL));
  fail_unless_equals_int (trickle_test_conn_read_one_head (c), 100);
  fail_unless_equals_int (trickle_test_conn_read_one_head (c), 100);
  trickle_test_conn_free (c);

  gst_object_unref (flip);
  gst_object_unref (srv);
  trickle_test_stop_pipeline (chain);
  g_object_get (idle = gst_element_factory_make ("trickleserver", NULL),
      "n-channels", &n_channels, NULL);
  fail_unless_equals_int (n_channels, 0);
  gst_object_unref (idle);
}

GST_END_TEST;

/* the publisher goes away and comes back (a new tricklesink: GET /next,
 * then POSTs with Lp-Trickle-Reset), once after deleting the channel and
 * once without: the same pipeline goes on and the output resumes */
GST_START_TEST (test_publisher_comes_back)
{
  GstElement *chain, *sub, *sink, *pub;
  GPtrArray *got;
  gchar *desc;
  guint port;
  gint run;

  allow_loop_warning ();
  chain = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "srv.src_video-in ! videoflip video-direction=horiz ! "
      "srv.sink_video-out");
  port = server_port (chain);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
      "video-out ! appsink name=sink sync=false", port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  wait_subscribed (chain, "video-out");
  sink = trickle_test_get (sub, "sink");
  for (run = 0; run < 3; run++) {
    GstMessage *msg;
    GstBus *bus;

    desc = g_strdup_printf ("videotestsrc num-buffers=8 is-live=true "
        "pattern=smpte75 ! " RAW_CAPS " ! tricklesink "
        "location=http://127.0.0.1:%u/video-in delete-on-eos=%s", port,
        run == 1 ? "true" : "false");
    pub = trickle_test_start_pipeline (desc);
    g_free (desc);
    got = pull_frames (sink, 6, 10);
    fail_unless (got->len == 6, "run %d: %u frames", run, got->len);
    g_ptr_array_unref (got);
    bus = gst_element_get_bus (pub);
    msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
    gst_message_unref (msg);
    gst_object_unref (bus);
    trickle_test_stop_pipeline (pub);
    /* what is left of this run */
    got = pull_frames (sink, 8, 1);
    g_ptr_array_unref (got);
  }
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  trickle_test_stop_pipeline (chain);
}

GST_END_TEST;

/* a pad requested and released while PLAYING: its channel appears, its
 * data flows, it goes with the pad; the rest goes on */
GST_START_TEST (test_request_release_playing)
{
  GstElement *chain, *srv, *appsink;
  GstPad *pad, *sinkpad;
  GstSample *sample;
  TrickleTestConn *c;
  guint port;

  chain = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "srv.src_video-in ! fakesink async=false");
  port = server_port (chain);
  srv = trickle_test_get (chain, "srv");

  pad = gst_element_request_pad_simple (srv, "src_extra");
  fail_unless (pad != NULL);
  fail_unless_equals_string (GST_PAD_NAME (pad), "src_extra");
  appsink = gst_element_factory_make ("appsink", NULL);
  g_object_set (appsink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (chain), appsink);
  sinkpad = gst_element_get_static_pad (appsink, "sink");
  fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
  fail_unless (gst_element_sync_state_with_parent (appsink));

  /* the channel exists, and what is posted comes out of the pad */
  c = trickle_test_request (port, "GET", "/extra/next", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  post_json (port, "extra", "{\"hello\":1}");
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (appsink),
      10 * GST_SECOND);
  fail_unless (sample != NULL);
  fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
          (sample)), 11);
  fail_unless (gst_structure_has_name (gst_caps_get_structure
          (gst_sample_get_caps (sample), 0), "application/json"));
  gst_sample_unref (sample);

  /* released: gone, channel and all */
  sinkpad = gst_pad_get_peer (pad);
  fail_unless (gst_pad_unlink (pad, sinkpad));
  gst_object_unref (sinkpad);
  gst_element_release_request_pad (srv, pad);
  gst_object_unref (pad);
  c = trickle_test_request (port, "GET", "/extra/next", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 404);
  trickle_test_conn_free (c);
  /* a sink pad too */
  pad = gst_element_request_pad_simple (srv, "sink_out2");
  fail_unless (pad != NULL);
  c = trickle_test_request (port, "GET", "/out2/next", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  gst_element_release_request_pad (srv, pad);
  gst_object_unref (pad);
  /* a name without a channel is refused */
  fail_unless (gst_element_request_pad_simple (srv, "src_") == NULL);

  gst_element_set_state (appsink, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (chain), appsink);
  gst_object_unref (srv);
  trickle_test_stop_pipeline (chain);
}

GST_END_TEST;

/* 50 start/stop cycles of a hosting pipeline with traffic: no fd left
 * behind (the leaks tracer checks the objects) */
GST_START_TEST (test_start_stop_cycles)
{
  gint fds = -1, i;

  allow_loop_warning ();
  for (i = 0; i < 50; i++) {
    GstElement *chain =
        trickle_test_start_pipeline ("trickleserver name=srv port=0 "
        "control=control events=events stats-interval=1 "
        "srv.src_video-in ! queue ! srv.sink_video-out");
    guint port = server_port (chain);

    if (i % 2)
      post_json (port, "video-in", "{\"frame\":1}");
    if (i % 3 == 0)
      post_json (port, "control", "{\"set\":{\"srv.stats-interval\":2}}");
    trickle_test_stop_pipeline (chain);
    if (i == 4)
      fds = trickle_test_count_fds ();
  }
  fail_unless (trickle_test_count_fds () <= fds, "fds: %d then %d", fds,
      trickle_test_count_fds ());
}

GST_END_TEST;

static void
count_event (GstElement * srv, const gchar * channel, gint64 seq, gint * n)
{
  if (g_strcmp0 (channel, "watch") == 0)
    g_atomic_int_inc (n);
}

/* publishers and subscribers coming and going: signals, and messages
 * with post-messages; channel-added/-removed signals */
GST_START_TEST (test_connection_events)
{
  GstElement *p, *srv;
  GstBus *bus;
  GstMessage *msg;
  TrickleTestConn *c;
  gint pub_conn = 0, sub_conn = 0, added = 0;
  guint port, pubs = 0, subs = 0, complete = 0;

  p = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "post-messages=true " "srv.src_idle ! fakesink async=false");
  port = server_port (p);
  srv = trickle_test_get (p, "srv");
  g_signal_connect (srv, "publisher-connected", G_CALLBACK (count_event),
      &pub_conn);
  g_signal_connect (srv, "subscriber-connected", G_CALLBACK (count_event),
      &sub_conn);
  g_signal_connect (srv, "channel-added", G_CALLBACK (count_control_added),
      &added);

  post_json (port, "watch", "{\"a\":1}");
  c = trickle_test_request (port, "GET", "/watch/0", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  c = trickle_test_request (port, "DELETE", "/watch", NULL, 0, NULL);
  trickle_test_conn_free (c);

  fail_unless_equals_int (g_atomic_int_get (&pub_conn), 1);
  fail_unless_equals_int (g_atomic_int_get (&sub_conn), 1);
  fail_unless_equals_int (g_atomic_int_get (&added), 1);
  bus = gst_element_get_bus (p);
  while ((msg = gst_bus_timed_pop_filtered (bus, GST_SECOND / 2,
              GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    gboolean done = FALSE;
    if (gst_structure_has_name (st, "trickle-publisher")) {
      pubs++;
      gst_structure_get_boolean (st, "complete", &done);
      complete += done;
    } else if (gst_structure_has_name (st, "trickle-subscriber")) {
      subs++;
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  fail_unless_equals_int (pubs, 2);     /* connected, disconnected */
  fail_unless_equals_int (complete, 1);
  fail_unless_equals_int (subs, 2);
  gst_object_unref (srv);
  trickle_test_stop_pipeline (p);
}

GST_END_TEST;

typedef struct
{
  GMutex lock;
  GPtrArray *names;
} AddedNames;

static void
collect_added (GstElement * srv, const gchar * channel, AddedNames * a)
{
  g_mutex_lock (&a->lock);
  g_ptr_array_add (a->names, g_strdup (channel));
  g_mutex_unlock (&a->lock);
}

static gboolean
added_has (AddedNames * a, const gchar * name)
{
  gboolean found;

  g_mutex_lock (&a->lock);
  found = g_ptr_array_find_with_equal_func (a->names, name, g_str_equal, NULL);
  g_mutex_unlock (&a->lock);
  return found;
}

/* issue 10, point 12: an application connects channel-added after
 * gst_parse_launch() made the pads (src_ and sink_), then plays: it sees
 * channel-added for every hosted channel, and the channels answer */
GST_START_TEST (test_channel_added_after_parse_launch)
{
  GstElement *p, *srv;
  AddedNames a;
  TrickleTestConn *c;
  GError *err = NULL;
  guint port;

  g_mutex_init (&a.lock);
  a.names = g_ptr_array_new_with_free_func (g_free);
  p = gst_parse_launch ("trickleserver name=srv port=0 "
      "srv.src_video-in ! fakesink async=false "
      "videotestsrc is-live=true ! " RAW_CAPS " ! srv.sink_video-out", &err);
  fail_unless (p != NULL, "%s", err ? err->message : "");
  srv = trickle_test_get (p, "srv");
  g_signal_connect (srv, "channel-added", G_CALLBACK (collect_added), &a);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  port = server_port (p);

  fail_unless (added_has (&a, "video-in"));
  fail_unless (added_has (&a, "video-out"));
  c = trickle_test_request (port, "GET", "/video-in/next", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);

  gst_object_unref (srv);
  trickle_test_stop_pipeline (p);
  g_ptr_array_unref (a.names);
  g_mutex_clear (&a.lock);
}

GST_END_TEST;

/* issue 10, point 11: EOS sent to a pipeline whose trickleserver hosts
 * src_ and sink_ pads (gst-launch-1.0 -e does this on Ctrl-C) ends with
 * an EOS message on the bus: the src pads end their streams, the sink
 * pads take their EOS and the server posts EOS once all of them have */
GST_START_TEST (test_eos_ends_pipeline)
{
  GstElement *p;
  GstBus *bus;
  GstMessage *msg;
  guint port;

  allow_loop_warning ();
  p = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "srv.src_video-in ! queue ! srv.sink_video-out "
      "videotestsrc is-live=true ! " RAW_CAPS " ! srv.sink_cam "
      "srv.src_json ! fakesink");
  port = server_port (p);
  post_json (port, "json", "{\"a\":1}");
  fail_unless_equals_int (gst_element_get_state (p, NULL, NULL,
          30 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);

  fail_unless (gst_element_send_event (p, gst_event_new_eos ()));
  bus = gst_element_get_bus (p);
  /* 30 s: ending takes milliseconds; without EOS handling it never ends */
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS on the bus");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
  trickle_test_stop_pipeline (p);
}

GST_END_TEST;

/* a sink pad alone: EOS from upstream (a finite source) is the pipeline's
 * EOS, as with any sink */
GST_START_TEST (test_sink_pad_eos_message)
{
  GstMessage *msg;

  msg = trickle_test_run_pipeline ("videotestsrc num-buffers=5 ! " RAW_CAPS
      " ! srv.sink_out trickleserver port=0 name=srv");
  if (msg) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    fail ("error: %s", err->message);
  }
}

GST_END_TEST;

static void
subprocess_done (GObject * proc, GAsyncResult * res, gpointer loop)
{
  g_subprocess_wait_finish (G_SUBPROCESS (proc), res, NULL);
  g_main_loop_quit (loop);
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* what a spawned program needs to load this build's plugin: nothing in a
 * plain build; in a sanitized one (an uninstrumented gst-launch-1.0 cannot
 * load a sanitized plugin otherwise) the sanitizer runtimes this test
 * runs with, preloaded, and no leak report of gst-launch-1.0's own */
static void
launcher_for_plugin (GSubprocessLauncher * l)
{
  gchar *maps = NULL, **lines, **line;
  GString *preload = g_string_new (NULL);

  if (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL)) {
    lines = g_strsplit (maps, "\n", -1);
    for (line = lines; *line; line++) {
      const gchar *path = strchr (*line, '/');
      if (path && (strstr (path, "/libasan.so") || strstr (path,
                  "/libubsan.so")) && !strstr (preload->str, path)) {
        if (preload->len)
          g_string_append_c (preload, ' ');
        g_string_append (preload, path);
      }
    }
    g_strfreev (lines);
    g_free (maps);
  }
  if (preload->len) {
    g_subprocess_launcher_setenv (l, "LD_PRELOAD", preload->str, TRUE);
    g_subprocess_launcher_setenv (l, "ASAN_OPTIONS",
        "detect_leaks=0:verify_asan_link_order=0", TRUE);
  }
  g_string_free (preload, TRUE);
}

/* issue 10, point 11: `gst-launch-1.0 -e` with trickleserver src_ and
 * sink_ pads, sent SIGINT (Ctrl-C), sends EOS, gets it back and exits 0 */
GST_START_TEST (test_gst_launch_eos_on_sigint)
{
  gchar *prog = g_find_program_in_path ("gst-launch-1.0");
  gchar *dir, *log, *out = NULL;
  GSubprocessLauncher *l;
  GSubprocess *proc;
  GMainLoop *loop;
  GError *err = NULL;
  guint timeout, i;

  fail_unless (prog != NULL, "gst-launch-1.0 not found "
      "(Debian package gstreamer1.0-tools)");
  dir = g_dir_make_tmp ("trickle-launch-XXXXXX", NULL);
  log = g_build_filename (dir, "out.txt", NULL);
  l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (l, log);
  launcher_for_plugin (l);
  proc = g_subprocess_launcher_spawn (l, &err, prog, "-e",
      "videotestsrc", "is-live=true", "!", RAW_CAPS, "!", "srv.sink_out",
      "trickleserver", "name=srv", "port=0", "srv.src_in", "!", "fakesink",
      NULL);
  fail_unless (proc != NULL, "%s", err ? err->message : "");

  /* playing (gst-launch-1.0 prints the clock once it is) */
  for (i = 0; i < 600; i++) {
    g_clear_pointer (&out, g_free);
    g_file_get_contents (log, &out, NULL, NULL);
    if (out && strstr (out, "New clock"))
      break;
    g_usleep (100 * 1000);
  }
  fail_unless (out && strstr (out, "New clock"), "not playing: %s",
      GST_STR_NULL (out));
  g_subprocess_send_signal (proc, SIGINT);

  /* 60 s: it ends in well under a second; without the fix it waits for
   * EOS forever */
  loop = g_main_loop_new (NULL, FALSE);
  g_subprocess_wait_async (proc, NULL, subprocess_done, loop);
  timeout = g_timeout_add_seconds (60, quit_loop, loop);
  g_main_loop_run (loop);
  if (!g_subprocess_get_identifier (proc)) {
    g_source_remove (timeout);
  } else {
    g_subprocess_force_exit (proc);
    g_subprocess_wait (proc, NULL, NULL);
  }
  g_clear_pointer (&out, g_free);
  g_file_get_contents (log, &out, NULL, NULL);
  fail_unless (g_subprocess_get_if_exited (proc) &&
      g_subprocess_get_exit_status (proc) == 0,
      "gst-launch-1.0 -e did not end on SIGINT: %s", GST_STR_NULL (out));
  fail_unless (strstr (out, "Got EOS from element"), "%s", out);

  g_main_loop_unref (loop);
  g_object_unref (proc);
  g_object_unref (l);
  g_unlink (log);
  g_rmdir (dir);
  g_free (out);
  g_free (log);
  g_free (dir);
  g_free (prog);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Issue 10: MPEG-TS through the hosted pads */


/* frames the MPEG-TS/H.264 @ts decodes to on its own */
static guint
count_decoded_frames (GBytes * ts)
{
  gchar *dir = g_dir_make_tmp ("trickleserverpads-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "seg.ts", NULL);
  gchar *desc;
  GstElement *p, *sink;
  GstMessage *msg;
  GstBus *bus;
  GstStructure *stats = NULL;
  guint64 frames = 0;

  fail_unless (g_file_set_contents (file, g_bytes_get_data (ts, NULL),
          g_bytes_get_size (ts), NULL));
  desc = g_strdup_printf ("filesrc location=%s ! tsdemux ! h264parse ! "
      "avdec_h264 ! fakesink name=sink", file);
  p = trickle_test_start_pipeline (desc);
  bus = gst_element_get_bus (p);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "a segment does not decode");
  gst_message_unref (msg);
  sink = trickle_test_get (p, "sink");
  g_object_get (sink, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "rendered", &frames);
  gst_structure_free (stats);
  gst_object_unref (sink);
  gst_object_unref (bus);
  trickle_test_stop_pipeline (p);
  trickle_test_remove_tmpdir (dir);
  g_free (desc);
  g_free (file);
  g_free (dir);
  return frames;
}

/* Waits for the EOS of @p (60 s at most: seconds of media; an error fails
 * the test); returns the STREAM/FORMAT warnings posted meanwhile */
static guint
wait_eos_counting_format_warnings (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;
  guint n = 0;
  gboolean done = FALSE;

  while (!done) {
    GError *err = NULL;

    msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
    fail_unless (msg != NULL, "neither EOS nor an error in 60 s");
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, NULL);
        GST_INFO ("warning from %s: %s", GST_MESSAGE_SRC_NAME (msg),
            err->message);
        if (g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT))
          n++;
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, NULL);
        fail ("error from %s: %s", GST_MESSAGE_SRC_NAME (msg), err->message);
        break;
      default:
        done = TRUE;
        break;
    }
    g_clear_error (&err);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return n;
}

/* issue 10: `h264parse ! mpegtsmux ! srv.sink_out` (mpegtsmux flags
 * keyframes HEADER) published nothing; now one segment per GOP, each
 * beginning with a PAT and decoding on its own, no warning */
GST_START_TEST (test_sink_pad_mpegts_h264parse)
{
  GstElement *p;
  GPtrArray *segs;
  guint port, i, total = 0;

  if (!trickle_test_have ("x264enc") || !trickle_test_have ("avdec_h264")) {
    GST_WARNING ("encoder plugins missing, skipping");
    return;
  }
  p = trickle_test_start_pipeline ("trickleserver name=srv port=0 window=16 "
      "videotestsrc num-buffers=60 ! video/x-raw," H264_SIZE
      ",framerate=30/1 ! x264enc tune=zerolatency key-int-max=15 ! "
      "h264parse ! mpegtsmux ! srv.sink_out");
  port = server_port (p);
  fail_unless_equals_int (wait_eos_counting_format_warnings (p), 0);
  segs = trickle_test_get_ts_segments (port, "out");
  fail_unless_equals_int (segs->len, 4);
  for (i = 0; i < segs->len; i++) {
    guint frames = count_decoded_frames (g_ptr_array_index (segs, i));
    fail_unless_equals_int (frames, 15);
    total += frames;
  }
  fail_unless_equals_int (total, 60);
  g_ptr_array_unref (segs);
  trickle_test_stop_pipeline (p);
}

GST_END_TEST;

/* issue 10: video MPEG-TS in which no keyframe can be found (an H.264
 * recording cut after its only keyframe, at a PAT) into a sink pad: the
 * server warns (STREAM/FORMAT), once, and publishes segments cut by
 * duration, each beginning with a PAT */
GST_START_TEST (test_sink_pad_mpegts_no_keyframe)
{
  GstElement *p;
  GPtrArray *segs;
  gchar *dir, *full, *file, *contents = NULL, *desc;
  gsize size = 0, i, pat = 0;
  guint port;

  if (!trickle_test_have ("x264enc")) {
    GST_WARNING ("encoder plugins missing, skipping");
    return;
  }
  dir = g_dir_make_tmp ("trickleserverpads-XXXXXX", NULL);
  full = g_build_filename (dir, "full.ts", NULL);
  file = g_build_filename (dir, "nokey.ts", NULL);
  /* 7 s at 100 fps, one keyframe */
  desc = g_strdup_printf ("videotestsrc num-buffers=700 ! video/x-raw,"
      H264_SIZE ",framerate=100/1 ! x264enc tune=zerolatency "
      "key-int-max=100000 ! h264parse ! mpegtsmux ! filesink location=%s",
      full);
  fail_unless (trickle_test_run_pipeline (desc) == NULL);
  g_free (desc);
  fail_unless (g_file_get_contents (full, &contents, &size, NULL));
  /* the first PAT after a quarter of the file */
  for (i = size / 188 / 4; (i + 1) * 188 <= size && !pat; i++)
    if (contents[i * 188] == 0x47 && (contents[i * 188 + 1] & 0x5f) == 0x40
        && contents[i * 188 + 2] == 0)
      pat = i;
  fail_unless (pat > 0);
  /* the premise: no IDR or SPS NAL unit left */
  for (i = pat * 188; i + 3 < size; i++)
    fail_if (contents[i] == 0 && contents[i + 1] == 0 && contents[i + 2] == 1
        && ((contents[i + 3] & 0x1f) == 5 || (contents[i + 3] & 0x1f) == 7),
        "x264enc made a second keyframe");
  fail_unless (g_file_set_contents (file, contents + pat * 188,
          size - pat * 188, NULL));
  g_free (contents);

  desc = g_strdup_printf ("trickleserver name=srv port=0 window=16 "
      "filesrc location=%s ! tsparse ! srv.sink_nk", file);
  p = trickle_test_start_pipeline (desc);
  g_free (desc);
  port = server_port (p);
  fail_unless_equals_int (wait_eos_counting_format_warnings (p), 1);
  segs = trickle_test_get_ts_segments (port, "nk");
  fail_unless (segs->len >= 2 && segs->len <= 4, "%u segments", segs->len);
  g_ptr_array_unref (segs);
  trickle_test_stop_pipeline (p);
  trickle_test_remove_tmpdir (dir);
  g_free (full);
  g_free (file);
  g_free (dir);
}

GST_END_TEST;

/* what a probe saw pass */
typedef struct
{
  GMutex lock;
  GCond cond;
  GByteArray *data;
  GArray *key_offsets;          /* where buffers without DELTA_UNIT began */
  guint buffers;
  GstClockTime last_pts;
  gboolean bad_pts;
} Seen;

static GstPadProbeReturn
seen_buffer (GstPad * pad, GstPadProbeInfo * info, Seen * seen)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;

  g_mutex_lock (&seen->lock);
  /* no byte-stream buffer carries a timestamp: tsdemux maps the PCR
   * itself instead of tracking arrival as clock skew */
  if (GST_BUFFER_PTS_IS_VALID (buf) || GST_BUFFER_DTS_IS_VALID (buf))
    seen->bad_pts = TRUE;
  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
    guint64 off = seen->data->len;
    g_array_append_val (seen->key_offsets, off);
  }
  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_byte_array_append (seen->data, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  seen->buffers++;
  g_cond_broadcast (&seen->cond);
  g_mutex_unlock (&seen->lock);
  return GST_PAD_PROBE_OK;
}

/* issue 10: a hosted src pad's MPEG-TS carries no timestamps (the
 * worker's tsdemux maps the PCR) and marks the first buffer of each trickle segment (a keyframe with PAT/PMT)
 * as a keyframe, without DELTA_UNIT, and all others DELTA_UNIT: the
 * unmarked buffers begin exactly where the segments do (before: every
 * buffer unmarked). (multifilesink next-file=key-frame
 * splits at most every 10 s of timestamps: not a per-segment check.) */
GST_START_TEST (test_src_pad_mpegts_marks)
{
  GstElement *chain, *sink;
  GstPad *pad;
  GPtrArray *segs;
  Seen seen = { 0 };
  gchar *desc;
  guint64 total = 0;
  guint port, i;
  gint64 end;

  if (!trickle_test_have ("x264enc")) {
    GST_WARNING ("encoder plugins missing, skipping");
    return;
  }
  g_mutex_init (&seen.lock);
  g_cond_init (&seen.cond);
  seen.last_pts = GST_CLOCK_TIME_NONE;
  seen.data = g_byte_array_new ();
  seen.key_offsets = g_array_new (FALSE, FALSE, sizeof (guint64));
  chain = trickle_test_start_pipeline ("trickleserver name=srv port=0 "
      "window=16 srv.src_in ! fakesink name=sink async=false");
  sink = trickle_test_get (chain, "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
      (GstPadProbeCallback) seen_buffer, &seen, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  port = server_port (chain);
  desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=60 ! "
      "video/x-raw," H264_SIZE ",framerate=30/1 ! x264enc tune=zerolatency "
      "key-int-max=15 ! mpegtsmux ! tricklesink location=http://127.0.0.1:"
      "%u/in delete-on-eos=false", port);
  fail_unless (trickle_test_run_pipeline (desc) == NULL);
  g_free (desc);
  segs = trickle_test_get_ts_segments (port, "in");
  fail_unless_equals_int (segs->len, 4);
  for (i = 0; i < segs->len; i++)
    total += g_bytes_get_size (g_ptr_array_index (segs, i));

  /* all bytes through the pad (20 s: they are there already) */
  end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  g_mutex_lock (&seen.lock);
  while (seen.data->len < total && g_cond_wait_until (&seen.cond, &seen.lock,
          end));
  fail_unless_equals_int (seen.data->len, total);
  fail_if (seen.bad_pts, "a buffer with a timestamp");
  fail_unless (seen.buffers > segs->len);
  fail_unless_equals_int (seen.key_offsets->len, segs->len);
  total = 0;
  for (i = 0; i < segs->len; i++) {
    GBytes *seg = g_ptr_array_index (segs, i);
    fail_unless_equals_int (g_array_index (seen.key_offsets, guint64, i),
        total);
    fail_unless (memcmp (seen.data->data + total, g_bytes_get_data (seg,
                NULL), g_bytes_get_size (seg)) == 0, "segment %u differs", i);
    total += g_bytes_get_size (seg);
  }
  g_mutex_unlock (&seen.lock);
  trickle_test_stop_pipeline (chain);
  g_ptr_array_unref (segs);
  g_byte_array_unref (seen.data);
  g_array_unref (seen.key_offsets);
  g_mutex_clear (&seen.lock);
  g_cond_clear (&seen.cond);
}

GST_END_TEST;

static guint
post_status (guint port, const gchar * path, const gchar * body,
    const gchar * token)
{
  gchar *auth = token ? g_strdup_printf ("Bearer %s", token) : NULL;
  TrickleTestConn *c = auth ?
      trickle_test_request (port, "POST", path, body, -1, "Content-Type",
      "application/json", "Authorization", auth, NULL) :
      trickle_test_request (port, "POST", path, body, -1, "Content-Type",
      "application/json", NULL);
  guint status = c->status;

  trickle_test_conn_free (c);
  g_free (auth);
  return status;
}

static GString *logged;
static GMutex logged_lock;

static void
collect_log (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer data)
{
  g_mutex_lock (&logged_lock);
  g_string_append (logged, gst_debug_message_get (message));
  g_mutex_unlock (&logged_lock);
}

static guint
count_authorize (GstElement * srv, const gchar * method, const gchar * action,
    const gchar * channel, SoupMessageHeaders * headers, const gchar * client,
    gint * n)
{
  g_atomic_int_inc (n);
  return 0;
}

static guint
refuse_denied (GstElement * srv, const gchar * method, const gchar * action,
    const gchar * channel, SoupMessageHeaders * headers, const gchar * client,
    gpointer data)
{
  return g_str_equal (channel, "denied") ? 403 : 0;
}

/* the control channel takes its own token, sets only what control-allow
 * names, and the channels the server writes (events, video-out) refuse
 * clients' POSTs; no token reaches the debug log */
GST_START_TEST (test_control_security)
{
  GstElement *chain, *flip, *pub;
  guint port, i;
  gint direction = 0, authorized = 0;
  gboolean qos = TRUE;
  gchar *desc;

  logged = g_string_new (NULL);
  gst_debug_set_active (TRUE);
  /* the trickle categories, and the core ones that print properties and
   * pipelines (all of them at LOG level would take minutes) */
  gst_debug_set_threshold_from_string ("*trickle*:9,GST_PROPERTIES:9,"
      "GST_PIPELINE:9,GST_PARAMS:9,GST_ELEMENT_FACTORY:9", FALSE);
  gst_debug_add_log_function (collect_log, NULL, NULL);
  allow_loop_warning ();
  /* the tokens set as an application sets them (GStreamer's parser logs
   * a gst-launch line whole, tokens included) */
  chain = gst_parse_launch ("trickleserver name=srv port=0 "
      "control=control events=events stats-interval=0 "
      "control-allow=\"flip.video-*\" "
      "srv.src_video-in ! videoflip name=flip ! srv.sink_video-out", NULL);
  {
    GstElement *srv = trickle_test_get (chain, "srv");
    g_object_set (srv, "publish-token", "TOKpub7", "control-token",
        "TOKctl7", NULL);
    gst_object_unref (srv);
  }
  fail_unless (gst_element_set_state (chain, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  port = server_port (chain);
  flip = trickle_test_get (chain, "flip");
  {
    GstElement *srv = trickle_test_get (chain, "srv");
    /* the first that refuses decides, a later 0 does not undo it */
    g_signal_connect (srv, "authorize", G_CALLBACK (refuse_denied), NULL);
    g_signal_connect (srv, "authorize", G_CALLBACK (count_authorize),
        &authorized);
    gst_object_unref (srv);
  }

  /* the control channel: its own token only */
  fail_unless_equals_int (post_status (port, "/control/-1",
          "{\"set\":{\"flip.video-direction\":\"vert\"}}", NULL), 401);
  fail_unless_equals_int (post_status (port, "/control/-1",
          "{\"set\":{\"flip.video-direction\":\"vert\"}}", "TOKpub7"), 403);
  /* not in control-allow: refused, changes nothing */
  fail_unless_equals_int (post_status (port, "/control/-1",
          "{\"set\":{\"flip.qos\":false}}", "TOKctl7"), 200);
  fail_unless_equals_int (post_status (port, "/control/-1",
          "{\"set\":{\"flip.video-direction\":\"horiz\"}}", "TOKctl7"), 200);
  /* applied in order: once the second is, the first was refused */
  for (i = 0; i < 1000 && direction == 0; i++) {
    g_usleep (10000);
    g_object_get (flip, "video-direction", &direction, NULL);
  }
  fail_unless (direction != 0, "the allowed setting was not applied");
  g_object_get (flip, "qos", &qos, NULL);
  fail_unless (qos, "flip.qos was set though not in control-allow");

  /* what the server writes: read-only, even with the publish token */
  fail_unless_equals_int (post_status (port, "/events/-1", "{}", "TOKpub7"),
      403);
  fail_unless_equals_int (post_status (port, "/video-out/-1", "x",
          "TOKpub7"), 403);
  fail_unless_equals_int (post_status (port, "/denied/0", "x", "TOKpub7"), 403);
  /* the input channel takes the publish token */
  fail_unless_equals_int (post_status (port, "/video-in/-1", "x", NULL), 401);
  desc = g_strdup_printf ("videotestsrc num-buffers=3 ! " RAW_CAPS
      " ! tricklesink name=ts location=http://127.0.0.1:%u/video-in", port);
  pub = gst_parse_launch (desc, NULL);
  {
    GstStructure *h = gst_structure_new ("h", "Authorization", G_TYPE_STRING,
        "Bearer TOKpub7", NULL);
    GstElement *ts = gst_bin_get_by_name (GST_BIN (pub), "ts");
    GstBus *bus = gst_element_get_bus (pub);
    GstMessage *msg;

    g_object_set (ts, "extra-headers", h, NULL);
    gst_structure_free (h);
    gst_object_unref (ts);
    gst_element_set_state (pub, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
        "the publisher with the token did not reach EOS");
    gst_message_unref (msg);
    gst_object_unref (bus);
  }
  trickle_test_stop_pipeline (pub);
  g_free (desc);
  fail_unless (g_atomic_int_get (&authorized) > 0);

  gst_object_unref (flip);
  trickle_test_stop_pipeline (chain);
  gst_debug_remove_log_function (collect_log);
  gst_debug_set_threshold_from_string ("*:0", FALSE);
  g_mutex_lock (&logged_lock);
  fail_unless (logged->len > 0, "nothing was logged");
  fail_unless (strstr (logged->str, "TOKpub7") == NULL, "a token was logged");
  fail_unless (strstr (logged->str, "TOKctl7") == NULL, "a token was logged");
  g_string_free (logged, TRUE);
  g_mutex_unlock (&logged_lock);
}

GST_END_TEST;

static Suite *
trickleserverpads_suite (void)
{
  Suite *s = suite_create ("trickleserverpads");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_raw_chain);
  tcase_add_test (tc, test_h264_chain);
  tcase_add_test (tc, test_control);
  tcase_add_test (tc, test_control_security);
  tcase_add_test (tc, test_publish_document);
  tcase_add_test (tc, test_publisher_comes_back);
  tcase_add_test (tc, test_request_release_playing);
  tcase_add_test (tc, test_start_stop_cycles);
  tcase_add_test (tc, test_connection_events);
  tcase_add_test (tc, test_events_stats);
  tcase_add_test (tc, test_channel_added_after_parse_launch);
  tcase_add_test (tc, test_eos_ends_pipeline);
  tcase_add_test (tc, test_sink_pad_eos_message);
  tcase_add_test (tc, test_gst_launch_eos_on_sigint);
  tcase_add_test (tc, test_sink_pad_mpegts_h264parse);
  tcase_add_test (tc, test_sink_pad_mpegts_no_keyframe);
  tcase_add_test (tc, test_src_pad_mpegts_marks);
  return s;
}

GST_CHECK_MAIN (trickleserverpads);
