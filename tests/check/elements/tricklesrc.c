/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tricklesrc (and tricklesink) in real pipelines against the real server
 * on loopback: x264enc, mpegtsmux, tsdemux, avdec_h264 from the Debian
 * plugin packages.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/trickle/trickle.h>
#include "trickletestutil.h"

static gboolean
have_h264 (void)
{
  if (trickle_test_have ("x264enc") && trickle_test_have ("mpegtsmux")
      && trickle_test_have ("tsdemux") && trickle_test_have ("avdec_h264"))
    return TRUE;
  GST_WARNING ("encoder/muxer plugins missing, skipping");
  return FALSE;
}


static gchar *accept_request_head_keep (GSocket * listener, GSocket ** conn);

/* Starts a subscriber pipeline (@desc_fmt: its description, with %u for
 * the port) that has seen its channel @channel not exist, before the
 * server @ts (not started yet; @prepare, if given, fills its store first)
 * comes up: the test answers the subscriber's first GET with a 404 itself,
 * then starts @ts on that port. The order subscriber-first tests are
 * about, without counting on how fast each side starts. */
static GstElement *
start_subscriber_first (TrickleTestServer * ts, const gchar * desc_fmt,
    const gchar * channel, void (*prepare) (TrickleTestServer * ts))
{
  GSocket *listener = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  const gchar *not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 16\r\n"
      "Connection: close\r\n\r\nStream not found";
  GstElement *sub;
  GSocket *conn;
  gchar *desc, *head, *want;
  guint port;

  fail_unless (g_socket_bind (listener, addr, TRUE, NULL));
  fail_unless (g_socket_listen (listener, NULL));
  bound = g_socket_get_local_address (listener, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  desc = g_strdup_printf (desc_fmt, port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);

  /* the subscriber's first GET (the live edge): the channel is unknown */
  head = accept_request_head_keep (listener, &conn);
  want = g_strdup_printf ("GET /%s/-1 ", channel);
  fail_unless (g_str_has_prefix (head, want), "%s", head);
  g_free (want);
  g_free (head);
  g_socket_close (listener, NULL);

  if (prepare)
    prepare (ts);
  trickle_test_server_start (ts, "port", port, NULL);
  fail_unless_equals_int (g_socket_send (conn, not_found, strlen (not_found),
          NULL, NULL), strlen (not_found));
  g_socket_close (conn, NULL);

  g_object_unref (conn);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (listener);
  return sub;
}

/* the first error posted on @p's bus, as text (for failure messages) */
static gchar *
bus_error (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GError *err = NULL;
  gchar *dbg = NULL, *text;

  gst_object_unref (bus);
  if (!msg)
    return g_strdup ("none");
  gst_message_parse_error (msg, &err, &dbg);
  text = g_strdup_printf ("%s (%s)", err->message, GST_STR_NULL (dbg));
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  return text;
}

/* a sample from @sink of @sub (published by @pub, or NULL), waiting up to
 * @seconds; fails with what the pipelines said if none comes */
static GstSample *
pull_or_fail (GstElement * sub, GstElement * pub, const gchar * sink_name,
    guint seconds, const gchar * what)
{
  GstElement *sink = trickle_test_get (sub, sink_name);
  GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
      seconds * GST_SECOND);

  gst_object_unref (sink);
  if (!sample) {
    gchar *sub_err = bus_error (sub);
    gchar *pub_err = pub ? bus_error (pub) : g_strdup ("-");

    fail_unless (sample != NULL, "%s (subscriber error: %s; publisher "
        "error: %s)", what, sub_err, pub_err);
  }
  return sample;
}

/* waits for EOS or an error on @p; returns the message */
static GstMessage *
wait_end (GstElement * p, guint seconds)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, seconds * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  gst_object_unref (bus);
  fail_unless (msg != NULL, "neither EOS nor an error in %u s", seconds);
  return msg;
}



static guint64
stat_u64 (GstElement * e, const gchar * prop, const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (e, prop, &s, NULL);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s", field);
  gst_structure_free (s);
  return v;
}

/* The subscriber starts first and waits for the channel; every frame of
 * the H.264/MPEG-TS publisher is decoded, in order, and the subscriber
 * ends with the channel (EOS) */
GST_START_TEST (test_mpegts_roundtrip)
{
  TrickleTestServer *ts;
  GstElement *sub, *pub, *sink;
  GstMessage *msg;
  gchar *desc;
  GstSample *sample;
  GstClockTime last = GST_CLOCK_TIME_NONE;
  guint frames = 0;

  if (!have_h264 ())
    return;
  ts = trickle_test_server_new ();
  /* the subscriber polls for the channel every 100 ms: room for what is
   * published meanwhile */
  g_object_set (ts->store, "window", 16, NULL);
  sub = start_subscriber_first (ts, "tricklesrc name=src "
      "location=http://127.0.0.1:%u/ts ! tsdemux ! h264parse ! avdec_h264 ! "
      "appsink name=sink sync=false", "ts", NULL);

  desc = g_strdup_printf ("videotestsrc num-buffers=60 is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=10 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/ts", ts->port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);

  sink = trickle_test_get (sub, "sink");
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              20 * GST_SECOND))) {
    GstBuffer *b = gst_sample_get_buffer (sample);
    if (GST_CLOCK_TIME_IS_VALID (last))
      fail_unless (GST_BUFFER_PTS (b) > last, "frames out of order");
    last = GST_BUFFER_PTS (b);
    frames++;
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)),
      "the subscriber did not end with the channel");
  fail_unless_equals_int (frames, 60);
  {
    GstElement *src = trickle_test_get (sub, "src");
    fail_unless_equals_int (stat_u64 (src, "stats", "segments"), 6);
    fail_unless (stat_u64 (src, "stats", "preconnect-hits") >= 5);
    gst_object_unref (src);
  }
  gst_object_unref (sink);
  msg = wait_end (pub, 60);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* collects every buffer (and the caps) of an appsink to EOS */
static GPtrArray *
pull_all (GstElement * sink, GstCaps ** caps, guint timeout_s)
{
  GPtrArray *bufs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstSample *sample;

  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              timeout_s * GST_SECOND))) {
    g_ptr_array_add (bufs, gst_buffer_ref (gst_sample_get_buffer (sample)));
    if (caps && !*caps)
      *caps = gst_caps_ref (gst_sample_get_caps (sample));
    gst_sample_unref (sample);
  }
  return bufs;
}

/* raw video, one frame per segment: bit-exact frames, identical caps */
GST_START_TEST (test_raw_roundtrip)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  const gchar *source = "videotestsrc num-buffers=8 pattern=ball ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=25/1";
  const gchar *live = "is-live=true";
  GstElement *sub, *pub, *ref, *sink;
  GstCaps *got_caps = NULL, *ref_caps = NULL;
  GPtrArray *got, *want;
  gchar *desc;
  guint i;

  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/raw "
      "start-seq=0 ! appsink name=sink sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  /* the same frames, paced (the subscriber is still looking for the
   * channel when it appears) */
  desc = g_strdup_printf ("videotestsrc %s %s ! tricklesink "
      "location=http://127.0.0.1:%u/raw", live, source + strlen
      ("videotestsrc "), ts->port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  got = pull_all (sink, &got_caps, 20);
  gst_object_unref (sink);

  desc = g_strdup_printf ("%s ! appsink name=sink sync=false", source);
  ref = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (ref, "sink");
  want = pull_all (sink, &ref_caps, 20);
  gst_object_unref (sink);

  fail_unless_equals_int (want->len, 8);
  fail_unless_equals_int (got->len, 8);
  fail_unless (gst_caps_is_equal (got_caps, ref_caps),
      "caps differ: %" GST_PTR_FORMAT " vs %" GST_PTR_FORMAT, got_caps,
      ref_caps);
  for (i = 0; i < 8; i++) {
    GstBuffer *a = g_ptr_array_index (got, i), *b = g_ptr_array_index (want,
        i);
    GstMapInfo ma, mb;
    fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
    fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
    fail_unless_equals_int (ma.size, mb.size);
    fail_unless (memcmp (ma.data, mb.data, ma.size) == 0, "frame %u", i);
    gst_buffer_unmap (a, &ma);
    gst_buffer_unmap (b, &mb);
    /* each frame carries the running time at which it arrived */
    fail_unless (GST_BUFFER_PTS_IS_VALID (a));
  }
  gst_caps_unref (got_caps);
  gst_caps_unref (ref_caps);
  g_ptr_array_unref (got);
  g_ptr_array_unref (want);
  trickle_test_stop_pipeline (ref);
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* JSON documents: appsrc -> tricklesink -> tricklesrc -> appsink, one per
 * segment, intact */
GST_START_TEST (test_json_messages)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  const gchar *docs[] = { "{\"a\":1}", "{\"set\":{\"x.y\":\"z\"}}",
    "[1,2,3,\"\\u00e9\"]", "{}"
  };
  GstElement *sub, *sub2, *pub, *src, *sink;
  GstCaps *caps = NULL;
  GPtrArray *got;
  gchar *desc;
  guint i;

  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/control "
      "start-seq=0 ! appsink name=sink sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  /* a second subscriber overrides the caps */
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/control "
      "start-seq=0 caps=\"text/x-json, origin=(string)gateway\" ! "
      "appsink name=sink sync=false", ts->port);
  sub2 = trickle_test_start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("appsrc name=src format=time "
      "caps=application/json ! tricklesink location=http://127.0.0.1:%u/"
      "control", ts->port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  src = trickle_test_get (pub, "src");
  for (i = 0; i < G_N_ELEMENTS (docs); i++) {
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
            gst_buffer_new_memdup (docs[i], strlen (docs[i]))), GST_FLOW_OK);
    g_usleep (100 * 1000);      /* as a gateway sends them */
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);

  sink = trickle_test_get (sub, "sink");
  got = pull_all (sink, &caps, 20);
  gst_object_unref (sink);
  fail_unless_equals_int (got->len, G_N_ELEMENTS (docs));
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "application/json"));
  for (i = 0; i < got->len; i++) {
    GstMapInfo m;
    fail_unless (gst_buffer_map (g_ptr_array_index (got, i), &m,
            GST_MAP_READ));
    fail_unless_equals_int (m.size, strlen (docs[i]));
    fail_unless (memcmp (m.data, docs[i], m.size) == 0);
    gst_buffer_unmap (g_ptr_array_index (got, i), &m);
  }
  gst_caps_unref (caps);
  g_ptr_array_unref (got);

  caps = NULL;
  sink = trickle_test_get (sub2, "sink");
  got = pull_all (sink, &caps, 20);
  gst_object_unref (sink);
  fail_unless_equals_int (got->len, G_N_ELEMENTS (docs));
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "text/x-json"));
  fail_unless_equals_string (gst_structure_get_string (gst_caps_get_structure
          (caps, 0), "origin"), "gateway");
  gst_caps_unref (caps);
  g_ptr_array_unref (got);
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  trickle_test_stop_pipeline (sub2);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* posts one segment of @size bytes with plain HTTP */
static void
post_segment (guint port, const gchar * ch, gint seq, gsize size,
    const gchar * type)
{
  gchar *path = g_strdup_printf ("/%s/%d", ch, seq);
  GBytes *data = trickle_test_make_data (size, seq);
  TrickleTestConn *c = trickle_test_request (port, "POST", path,
      g_bytes_get_data (data, NULL), size, "Content-Type", type, NULL);

  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  g_bytes_unref (data);
  g_free (path);
}

/* the seq of a segment post_segment() made (its bytes are
 * trickle_test_make_data (size, seq)), checking every byte; fails if it is
 * none of 0..@max */
static gint
segment_seq (GstBuffer * buf, gint max)
{
  GstMapInfo map;
  gint seq;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless (map.size >= 8);
  for (seq = 0; seq <= max; seq++) {
    GBytes *head = trickle_test_make_data (8, seq);
    gboolean match = memcmp (g_bytes_get_data (head, NULL), map.data, 8) == 0;

    g_bytes_unref (head);
    if (match) {
      GBytes *all = trickle_test_make_data (map.size, seq);

      fail_unless (memcmp (g_bytes_get_data (all, NULL), map.data,
              map.size) == 0, "segment %d: bytes differ", seq);
      g_bytes_unref (all);
      break;
    }
  }
  gst_buffer_unmap (buf, &map);
  fail_unless (seq <= max, "a buffer that is no segment");
  return seq;
}

/* the highest seq a GET of a channel has waited on / been sent (server
 * "subscriber-connected", preconnects included) */
typedef struct
{
  GMutex lock;
  GCond cond;
  gint64 max_seq;
} GetWatch;

static void
get_watch_on_subscriber (GstTrickleHttpServer * server, const gchar * channel,
    gint64 seq, GetWatch * w)
{
  g_mutex_lock (&w->lock);
  w->max_seq = MAX (w->max_seq, seq);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

static gboolean
get_watch_reached (GetWatch * w, gint64 seq)
{
  gboolean reached;

  g_mutex_lock (&w->lock);
  reached = w->max_seq >= seq;
  g_mutex_unlock (&w->lock);
  return reached;
}

/* A subscriber joining late starts at the live edge; one that stalls past
 * the server's window gets a 470, jumps to the live edge with DISCONT and
 * a warning, and goes on. Order, not timing: every frame it delivers is a
 * whole segment, in order, DISCONT exactly where segments were skipped
 * (when the jump happens depends on how fast each side runs: during the
 * publishing, or once the stalled frames are pulled) */
GST_START_TEST (test_late_and_stalled)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  GstElement *sub, *sink, *src;
  GstSample *sample;
  GstBuffer *buf;
  GstBus *bus;
  GstMessage *msg;
  GetWatch watch;
  gchar *desc;
  gint seq, prev, gaps = 0;
  gint64 deadline;
  gboolean posted_last = FALSE;

  g_mutex_init (&watch.lock);
  g_cond_init (&watch.cond);
  watch.max_seq = -1;
  g_signal_connect (ts->server, "subscriber-connected",
      G_CALLBACK (get_watch_on_subscriber), &watch);

  for (seq = 0; seq < 3; seq++)
    post_segment (ts->port, "late", seq, 1000, "application/x-test");
  /* joins at the live edge: segment 3, once its GET waits for it */
  desc = g_strdup_printf ("tricklesrc name=src location=http://127.0.0.1:%u/"
      "late ! appsink name=sink sync=false max-buffers=1", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  src = trickle_test_get (sub, "src");
  /* generous: only bounds a hang */
  fail_unless (trickle_test_wait_channel_stat (ts, "late", "subscribers", 1,
          30),
      "the subscriber's GET never reached the server");
  post_segment (ts->port, "late", 3, 1000, "application/x-test");
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 30 * GST_SECOND);
  fail_unless (sample != NULL);
  buf = gst_sample_get_buffer (sample);
  fail_unless_equals_int (gst_buffer_get_size (buf), 1000);
  fail_unless_equals_int (segment_seq (buf, 3), 3);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  gst_sample_unref (sample);
  fail_unless_equals_int (stat_u64 (src, "stats", "segments"), 1);

  /* stall: nobody pulls; 1 MiB segments overflow the subscriber's read
   * queue (4 MiB) and the server's window (5 segments): whatever it holds
   * (queue, appsink, the segment being sent and the preconnected one),
   * segments are lost */
  for (seq = 4; seq < 24; seq++)
    post_segment (ts->port, "late", seq, 1024 * 1024, "application/x-test");
  /* pull: each frame whole, in order, DISCONT iff a seq was skipped. The
   * subscriber ends up at the live edge, 24, either after a jump or by
   * reading on to it; 24 is posted once a GET waits for it. */
  prev = 3;
  deadline = g_get_monotonic_time () + 45 * G_USEC_PER_SEC;
  while (prev < 24) {
    gboolean discont;

    if (!posted_last && get_watch_reached (&watch, 24)) {
      post_segment (ts->port, "late", 24, 2000, "application/x-test");
      posted_last = TRUE;
    }
    /* generous: only bounds a hang */
    fail_unless (g_get_monotonic_time () < deadline,
        "stuck after segment %d (24 posted: %d)", prev, posted_last);
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        100 * GST_MSECOND);
    if (!sample)
      continue;
    buf = gst_sample_get_buffer (sample);
    seq = segment_seq (buf, 24);
    discont = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT);
    gst_sample_unref (sample);
    fail_unless (seq > prev, "segment %d after %d", seq, prev);
    if (seq == prev + 1) {
      fail_if (discont, "DISCONT on segment %d, which follows %d", seq, prev);
    } else {
      fail_unless (discont, "no DISCONT on segment %d after %d", seq, prev);
      gaps++;
    }
    prev = seq;
  }
  fail_unless (gaps >= 1, "the stall lost no segment");
  fail_unless (stat_u64 (src, "stats", "jumps") >= 1, "no 470 jump");
  bus = gst_element_get_bus (sub);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning for the lost segments");
  gst_message_unref (msg);
  gst_object_unref (bus);

  gst_object_unref (src);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  g_signal_handlers_disconnect_by_func (ts->server, get_watch_on_subscriber,
      &watch);
  trickle_test_server_free (ts);
  g_mutex_clear (&watch.lock);
  g_cond_clear (&watch.cond);
}

GST_END_TEST;

/* channel "fresh" with three segments, published at once */
static void
publish_three (TrickleTestServer * ts)
{
  GstTrickleChannel *ch = gst_trickle_channel_store_create (ts->store,
      "fresh", "application/x-test", NULL);
  gint seq;

  for (seq = 0; seq < 3; seq++) {
    GBytes *data = trickle_test_make_data (1000, seq);

    fail_unless (gst_trickle_channel_write_segment (ch, data, NULL));
    g_bytes_unref (data);
  }
  gst_trickle_channel_unref (ch);
}

/* A subscriber that started before its channel existed reads the channel
 * from its first segment, however many segments were published before it
 * noticed the channel (its 404 polls are 100 ms apart, longer on a busy
 * machine; low-latency segments are shorter). Deterministic: the channel
 * appears with three segments already published before the next poll. */
GST_START_TEST (test_channel_appears)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstElement *sub;
  GstSample *sample;
  gint seq;

  sub = start_subscriber_first (ts, "tricklesrc location=http://127.0.0.1:%u/"
      "fresh ! appsink name=sink sync=false", "fresh", publish_three);
  for (seq = 0; seq < 3; seq++) {
    sample = pull_or_fail (sub, NULL, "sink", 30, "no segment");
    fail_unless_equals_int (segment_seq (gst_sample_get_buffer (sample), 3),
        seq);
    gst_sample_unref (sample);
  }

  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* 404: RESOURCE/NOT_FOUND, at once or after wait-timeout */
GST_START_TEST (test_not_found)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  GstElement *sub;
  GstMessage *msg;
  gchar *desc;
  gint64 start;

  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/none "
      "wait-timeout=0 ! fakesink", ts->port);
  sub = trickle_test_start_pipeline (desc);
  msg = wait_end (sub, 10);
  gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND);
  gst_message_unref (msg);
  trickle_test_stop_pipeline (sub);
  g_free (desc);

  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/none "
      "wait-timeout=1 ! fakesink", ts->port);
  start = g_get_monotonic_time ();
  sub = trickle_test_start_pipeline (desc);
  msg = wait_end (sub, 10);
  fail_unless (g_get_monotonic_time () - start >= G_USEC_PER_SEC);
  gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND);
  gst_message_unref (msg);
  trickle_test_stop_pipeline (sub);
  g_free (desc);

  /* no location */
  sub = gst_parse_launch ("tricklesrc ! fakesink", NULL);
  fail_unless_equals_int (gst_element_set_state (sub, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* PLAYING -> NULL never waits on a pending GET: one waiting for a segment
 * on a real server, one on a server that never answers */
GST_START_TEST (test_state_change_never_waits)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  guint ports[2];
  gint i;

  post_segment (ts->port, "wait", 0, 10, "application/x-test");
  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  fail_unless (g_socket_listen (sock, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  ports[0] = ts->port;
  ports[1] = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  for (i = 0; i < 6; i++) {
    gchar *desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
        "wait ! fakesink", ports[i % 2]);
    GstElement *p = trickle_test_start_pipeline (desc);
    gint64 start;

    g_usleep (200 * 1000);
    start = g_get_monotonic_time ();
    trickle_test_stop_pipeline (p);
    fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC,
        "PLAYING -> NULL took %" G_GINT64_FORMAT " us",
        g_get_monotonic_time () - start);
    g_free (desc);
  }
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (sock);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* trickle:// and trickles:// URIs: the URI handler, and playbin */
GST_START_TEST (test_uri_handler)
{
  TrickleTestServer *ts;
  GstElement *e, *pub, *play, *vsink;
  GError *err = NULL;
  GstMessage *msg;
  gchar *uri, *desc;
  guint64 rendered = 0;

  e = gst_element_make_from_uri (GST_URI_SRC,
      "trickle://127.0.0.1:2939/some/ch", NULL, &err);
  fail_unless (e != NULL, "%s", err ? err->message : "");
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (e), "GstTrickleSrc");
  g_object_get (e, "location", &uri, NULL);
  fail_unless_equals_string (uri, "http://127.0.0.1:2939/some/ch");
  g_free (uri);
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_unless_equals_string (uri, "trickle://127.0.0.1:2939/some/ch");
  g_free (uri);
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "trickles://h:1/x", NULL));
  g_object_get (e, "location", &uri, NULL);
  fail_unless_equals_string (uri, "https://h:1/x");
  g_free (uri);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e), "file:///x", &err));
  fail_unless (g_error_matches (err, GST_URI_ERROR,
          GST_URI_ERROR_UNSUPPORTED_PROTOCOL));
  g_clear_error (&err);
  gst_object_unref (e);

  e = gst_element_make_from_uri (GST_URI_SINK, "trickle://127.0.0.1:1/c",
      NULL, &err);
  fail_unless (e != NULL, "%s", err ? err->message : "");
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (e), "GstTrickleSink");
  gst_object_unref (e);

  if (!have_h264 ())
    return;
  /* playbin plays a channel */
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  uri = g_strdup_printf ("trickle://127.0.0.1:%u/play", ts->port);
  play = gst_element_factory_make ("playbin", NULL);
  vsink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (vsink, "sync", FALSE, NULL);
  g_object_set (play, "uri", uri, "video-sink", vsink, "audio-sink",
      gst_element_factory_make ("fakesink", NULL), NULL);
  gst_element_set_state (play, GST_STATE_PLAYING);
  desc = g_strdup_printf ("videotestsrc num-buffers=30 is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=10 ! mpegtsmux ! "
      "tricklesink location=%s", uri);
  pub = trickle_test_start_pipeline (desc);
  msg = wait_end (play, 30);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *perr = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (msg, &perr, &dbg);
    fail ("playbin: %s (%s)", perr->message, dbg);
  }
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  {
    GstStructure *s = NULL;
    g_object_get (vsink, "stats", &s, NULL);
    gst_structure_get_uint64 (s, "rendered", &rendered);
    gst_structure_free (s);
  }
  fail_unless_equals_int (rendered, 30);
  trickle_test_stop_pipeline (play);
  trickle_test_stop_pipeline (pub);
  g_free (desc);
  g_free (uri);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* 50 start/stop cycles with traffic: no fd or thread left behind (the
 * leaks tracer checks objects at exit) */
GST_START_TEST (test_start_stop_cycles)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  gint fds = -1, i;

  for (i = 0; i < 50; i++) {
    gchar *desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
        "cyc start-seq=-2 ! fakesink", ts->port);
    GstElement *p;

    post_segment (ts->port, "cyc", i, 100, "application/x-test");
    p = trickle_test_start_pipeline (desc);
    if (i % 2)
      g_usleep (20 * 1000);
    trickle_test_stop_pipeline (p);
    g_free (desc);
    if (i == 4)
      fds = trickle_test_count_fds ();
  }
  trickle_test_assert_fds_at_most (fds);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* Interop with peers no one here wrote: ffmpeg's segment muxer POSTs one
 * MPEG-TS file per segment (no Content-Type: tricklesrc typefinds) and
 * tricklesrc decodes every frame; a tricklesink stream read back with
 * plain curl GETs is MPEG-TS starting with a PAT */
GST_START_TEST (test_interop_ffmpeg_curl)
{
  gchar *ffmpeg = g_find_program_in_path ("ffmpeg");
  gchar *curl = g_find_program_in_path ("curl");
  TrickleTestServer *ts;
  GstElement *sub, *sink, *pub;
  GstMessage *msg;
  GError *err = NULL;
  gchar *desc, *url, *out = NULL;
  gint status = -1;
  guint frames = 0;
  GstSample *sample;

  if (!ffmpeg || !curl || !have_h264 ()) {
    GST_WARNING ("ffmpeg or curl missing, skipping");
    g_free (ffmpeg);
    g_free (curl);
    return;
  }
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  sub = start_subscriber_first (ts, "tricklesrc location=http://127.0.0.1:%u/"
      "ff ! tsdemux ! h264parse ! avdec_h264 ! appsink name=sink sync=false",
      "ff", NULL);
  url = g_strdup_printf ("http://127.0.0.1:%u/ff/%%d", ts->port);
  {
    const gchar *argv[] = { ffmpeg, "-nostdin", "-hide_banner", "-loglevel",
      "error", "-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30",
      "-t", "2", "-map", "0:v", "-c:v", "libx264", "-g", "10",
      "-pix_fmt", "yuv420p", "-f", "segment", "-segment_format", "mpegts",
      "-segment_time", "0.3", url, NULL
    };
    fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL,
            G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &err), "%s",
        err ? err->message : "");
    fail_unless (g_spawn_check_wait_status (status, NULL), "ffmpeg failed");
  }
  g_free (url);
  /* ffmpeg does not close the channel: DELETE ends the stream */
  trickle_test_conn_free (trickle_test_request (ts->port, "DELETE", "/ff",
          NULL, 0, NULL));
  sink = trickle_test_get (sub, "sink");
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              30 * GST_SECOND))) {
    frames++;
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)));
  fail_unless_equals_int (frames, 60);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);

  /* the other way: tricklesink publishes, curl reads segment 1 */
  desc = g_strdup_printf ("videotestsrc num-buffers=30 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=10 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/tc delete-on-eos=false",
      ts->port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  msg = wait_end (pub, 60);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  trickle_test_stop_pipeline (pub);
  url = g_strdup_printf ("http://127.0.0.1:%u/tc/1", ts->port);
  {
    gchar *dir = g_dir_make_tmp ("tricklesrc-XXXXXX", NULL);
    gchar *file = g_build_filename (dir, "seg.ts", NULL);
    const gchar *argv[] = { curl, "-sf", "-o", file, url, NULL };
    gsize len = 0;
    fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL,
            G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &err), "%s",
        err ? err->message : "");
    fail_unless (g_spawn_check_wait_status (status, NULL), "curl failed");
    fail_unless (g_file_get_contents (file, &out, &len, NULL));
    fail_unless (len > 188 && len % 188 == 0, "curl got %" G_GSIZE_FORMAT
        " bytes", len);
    fail_unless_equals_int ((guint8) out[0], 0x47);
    fail_unless_equals_int ((guint8) out[1] & 0x5f, 0x40);
    fail_unless_equals_int ((guint8) out[2], 0x00);
    g_unlink (file);
    g_rmdir (dir);
    g_free (file);
    g_free (dir);
  }
  g_free (out);
  g_free (url);
  g_free (ffmpeg);
  g_free (curl);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* The server stops and comes back on the same port mid-stream: the
 * publisher retries (or drops the broken segment) and goes on, the
 * subscriber retries, waits for the channel to reappear, jumps to its live
 * edge (DISCONT) and goes on; neither posts an error */
GST_START_TEST (test_server_restart)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstElement *sub, *pub, *sink, *src, *snk;
  GstSample *sample;
  GstBus *bus;
  GstMessage *msg;
  gchar *desc;
  guint port, i, after = 0;
  gboolean discont = FALSE;

  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  port = ts->port;
  desc = g_strdup_printf ("tricklesrc name=src location=http://127.0.0.1:%u/"
      "rs ! appsink name=sink sync=false", port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=20/1 ! "
      "tricklesink name=snk location=http://127.0.0.1:%u/rs", port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  src = trickle_test_get (sub, "src");
  snk = trickle_test_get (pub, "snk");
  for (i = 0; i < 5; i++) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        10 * GST_SECOND);
    fail_unless (sample != NULL, "no frame before the restart");
    gst_sample_unref (sample);
  }

  trickle_test_server_free (ts);
  g_usleep (500 * 1000);
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, "port", port, NULL);

  /* frames again: the first after the gap marked DISCONT */
  while (after < 5) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        20 * GST_SECOND);
    fail_unless (sample != NULL, "no frame after the restart");
    if (GST_BUFFER_FLAG_IS_SET (gst_sample_get_buffer (sample),
            GST_BUFFER_FLAG_DISCONT))
      discont = TRUE;
    if (discont)
      after++;
    gst_sample_unref (sample);
  }
  fail_unless (stat_u64 (src, "stats", "retries") >= 1);
  fail_unless (stat_u64 (snk, "stats", "retries") +
      stat_u64 (snk, "stats", "lost") >= 1);
  bus = gst_element_get_bus (pub);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "publisher error");
  gst_object_unref (bus);
  bus = gst_element_get_bus (sub);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "subscriber error");
  gst_object_unref (bus);

  gst_object_unref (snk);
  gst_object_unref (src);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* https: trusted through ca-file (the test's self-signed certificate for
 * localhost), or accept-any-certificate; untrusted is an error.
 * Events, not time: a TLS connection costs far more CPU than the rest here
 * (seconds each in the sanitized build, where a publisher starved by
 * subscribers' TLS set-ups can miss its own 10 s answer bound), so the
 * publisher publishes its frames alone, to its EOS, and the subscribers
 * then read them from seq 0; the waits are generous and only bound a
 * hang. */
GST_START_TEST (test_tls)
{
  TrickleTestServer *ts;
  GTlsCertificate *cert;
  GstElement *sub, *pub;
  GstMessage *msg;
  GstSample *sample;
  gchar *dir = NULL, *ca, *desc;
  gint i;

  cert = trickle_test_make_certificate (&dir);
  if (!cert) {
    trickle_test_remove_tmpdir (dir);
    g_free (dir);
    return;
  }
  ca = g_build_filename (dir, "cert.pem", NULL);
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, "tls-certificate", cert, NULL);

  desc = g_strdup_printf ("videotestsrc num-buffers=5 is-live=true ! "
      "video/x-raw,format=I420,width=32,height=32,framerate=20/1 ! "
      "tricklesink location=trickles://localhost:%u/sec ca-file=%s "
      "delete-on-eos=false", ts->port, ca);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  msg = wait_end (pub, 60);
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_EOS) {
    gchar *pub_err = bus_error (pub);

    gst_message_unref (msg);
    msg = NULL;
    fail_unless (FALSE, "the publisher failed over https (%s)", pub_err);
  }
  gst_message_unref (msg);
  trickle_test_stop_pipeline (pub);

  desc = g_strdup_printf ("tricklesrc location=https://localhost:%u/sec "
      "ca-file=%s start-seq=0 ! appsink name=sink sync=false", ts->port, ca);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  for (i = 0; i < 3; i++) {
    sample = pull_or_fail (sub, NULL, "sink", 60, "no frame over https");
    fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
            (sample)), 32 * 32 * 3 / 2);
    gst_sample_unref (sample);
  }
  trickle_test_stop_pipeline (sub);

  /* accept-any-certificate (by address: the name does not match) */
  desc = g_strdup_printf ("tricklesrc location=trickles://127.0.0.1:%u/sec "
      "accept-any-certificate=true start-seq=0 ! appsink name=sink "
      "sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sample = pull_or_fail (sub, NULL, "sink", 60,
      "no frame with accept-any-certificate");
  gst_sample_unref (sample);
  trickle_test_stop_pipeline (sub);

  /* not trusted: an error, not a hang */
  desc = g_strdup_printf ("tricklesrc location=https://localhost:%u/sec "
      "retries=0 ! fakesink", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  msg = wait_end (sub, 60);
  gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_READ);
  gst_message_unref (msg);
  trickle_test_stop_pipeline (sub);

  trickle_test_server_free (ts);
  g_object_unref (cert);
  trickle_test_remove_tmpdir (dir);
  g_free (dir);
  g_free (ca);
}

GST_END_TEST;

/* reads one request head from a connection accepted on @listener; the
 * connection is closed, or kept in @conn */
static gchar *
accept_request_head_keep (GSocket * listener, GSocket ** conn)
{
  GSocket *c = g_socket_accept (listener, NULL, NULL);
  GString *head = g_string_new (NULL);
  gchar buf[1024];

  fail_unless (c != NULL);
  g_socket_set_timeout (c, 10);
  while (!strstr (head->str, "\r\n\r\n")) {
    gssize n = g_socket_receive (c, buf, sizeof (buf), NULL, NULL);
    fail_unless (n > 0, "no request head");
    g_string_append_len (head, buf, n);
  }
  if (conn)
    *conn = c;
  else
    g_object_unref (c);
  return g_string_free (head, FALSE);
}

static gchar *
accept_request_head (GSocket * listener)
{
  return accept_request_head_keep (listener, NULL);
}

static GSocket *
listen_loopback (guint * port)
{
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;

  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  fail_unless (g_socket_listen (sock, NULL));
  g_socket_set_timeout (sock, 10);
  bound = g_socket_get_local_address (sock, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  return sock;
}

/* extra-headers go with every request of both elements (seen by a plain
 * socket standing in for the server) */
GST_START_TEST (test_extra_headers)
{
  const gchar *headers[] = { "Authorization: Bearer s3cret",
    "X-Trickle-Test: 1", NULL
  };
  GstElement *p, *e;
  gchar *desc, *head;
  guint port;
  gint i;
  GSocket *sock = listen_loopback (&port);

  for (i = 0; i < 2; i++) {
    desc = g_strdup_printf (i == 0 ?
        "tricklesrc name=e location=http://127.0.0.1:%u/h ! fakesink" :
        "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink name=e "
        "location=http://127.0.0.1:%u/h", port);
    p = gst_parse_launch (desc, NULL);
    e = trickle_test_get (p, "e");
    g_object_set (e, "extra-headers", headers, NULL);
    gst_object_unref (e);
    gst_element_set_state (p, GST_STATE_PLAYING);
    head = accept_request_head (sock);
    fail_unless (strstr (head, "\r\nAuthorization: Bearer s3cret\r\n")
        != NULL, "%s", head);
    fail_unless (strstr (head, "\r\nX-Trickle-Test: 1\r\n") != NULL, "%s",
        head);
    g_free (head);
    trickle_test_stop_pipeline (p);
    g_free (desc);
  }
  g_object_unref (sock);
}

GST_END_TEST;

/* a GET that waits longer than preconnect-timeout is sent again (seen by
 * a socket that never answers, the first connection kept open); on a real
 * server the segment still arrives */
GST_START_TEST (test_preconnect_reissue)
{
  TrickleTestServer *ts;
  GstElement *sub, *sink;
  GstSample *sample;
  GSocket *listener, *held;
  gchar *desc, *head;
  gint64 start;
  guint port;

  listener = listen_loopback (&port);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/re "
      "preconnect-timeout=1000 ! fakesink", port);
  /* measured from before the first GET can have gone out: a late reader
   * (a busy machine) can only lengthen what is measured, never shorten it */
  start = g_get_monotonic_time ();
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  head = accept_request_head_keep (listener, &held);
  fail_unless (g_str_has_prefix (head, "GET /re/-1 "), "%s", head);
  g_free (head);
  head = accept_request_head (listener);
  fail_unless (g_str_has_prefix (head, "GET /re/-1 "), "%s", head);
  fail_unless (g_get_monotonic_time () - start >= 1000 * 1000,
      "sent again before preconnect-timeout");
  g_free (head);
  trickle_test_stop_pipeline (sub);
  g_object_unref (held);
  g_object_unref (listener);

  ts = trickle_test_server_new_started ();
  post_segment (ts->port, "re", 0, 10, "application/x-test");
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/re "
      "preconnect-timeout=150 ! appsink name=sink sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  g_usleep (700 * 1000);        /* four reissues of GET 1 */
  post_segment (ts->port, "re", 1, 20, "application/x-test");
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
      10 * GST_SECOND);
  fail_unless (sample != NULL);
  fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
          (sample)), 20);
  gst_sample_unref (sample);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* post-messages: one "trickle-segment" element message per segment on
 * both sides; tricklesrc answers the latency query as a live source */
GST_START_TEST (test_messages_and_latency)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstElement *sub, *pub, *sink, *src;
  GstMessage *msg;
  GstQuery *q;
  GstBus *bus;
  GstClockTime min = GST_CLOCK_TIME_NONE;
  gboolean live = FALSE;
  gchar *desc;
  guint n, i;

  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  desc = g_strdup_printf ("tricklesrc name=src post-messages=true location="
      "http://127.0.0.1:%u/msg start-seq=0 ! appsink name=sink sync=false",
      ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  src = trickle_test_get (sub, "src");
  q = gst_query_new_latency ();
  fail_unless (gst_element_query (src, q));
  gst_query_parse_latency (q, &live, &min, NULL);
  fail_unless (live, "tricklesrc is not live");
  fail_unless_equals_uint64 (min, 0);
  gst_query_unref (q);
  gst_object_unref (src);

  desc = g_strdup_printf ("videotestsrc num-buffers=5 is-live=true ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1 ! "
      "tricklesink post-messages=true location=http://127.0.0.1:%u/msg",
      ts->port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  for (i = 0; i < 5; i++) {
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        10 * GST_SECOND);
    fail_unless (sample != NULL);
    gst_sample_unref (sample);
  }
  gst_object_unref (sink);
  /* (not popping the publisher's EOS first: that would drop the element
   * messages before it) */

  /* each side: 5 segments of 256 bytes, seq 0..4 */
  for (i = 0; i < 2; i++) {
    bus = gst_element_get_bus (i == 0 ? pub : sub);
    n = 0;
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
      const GstStructure *st = gst_message_get_structure (msg);
      if (gst_structure_has_name (st, "trickle-segment")) {
        gint64 seq = -1;
        guint64 bytes = 0, duration = G_MAXUINT64;
        fail_unless (gst_structure_get_int64 (st, "seq", &seq));
        fail_unless (gst_structure_get_uint64 (st, "bytes", &bytes));
        fail_unless (gst_structure_get_uint64 (st, "duration", &duration));
        if (bytes > 0) {
          fail_unless_equals_int (seq, n);
          fail_unless_equals_int (bytes, 256);
          fail_unless (duration < 10 * GST_SECOND);
          n++;
        }
      }
      gst_message_unref (msg);
    }
    gst_object_unref (bus);
    fail_unless_equals_int (n, 5);
  }
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

static Suite *
tricklesrc_suite (void)
{
  Suite *s = suite_create ("tricklesrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_mpegts_roundtrip);
  tcase_add_test (tc, test_raw_roundtrip);
  tcase_add_test (tc, test_json_messages);
  tcase_add_test (tc, test_late_and_stalled);
  tcase_add_test (tc, test_channel_appears);
  tcase_add_test (tc, test_not_found);
  tcase_add_test (tc, test_state_change_never_waits);
  tcase_add_test (tc, test_uri_handler);
  tcase_add_test (tc, test_start_stop_cycles);
  tcase_add_test (tc, test_interop_ffmpeg_curl);
  tcase_add_test (tc, test_server_restart);
  tcase_add_test (tc, test_tls);
  tcase_add_test (tc, test_extra_headers);
  tcase_add_test (tc, test_preconnect_reissue);
  tcase_add_test (tc, test_messages_and_latency);
  return s;
}

GST_CHECK_MAIN (tricklesrc);
