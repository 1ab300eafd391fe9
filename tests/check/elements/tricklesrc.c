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
#include <sys/socket.h>
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
    GstBuffer *a = g_ptr_array_index (got, i), *b = g_ptr_array_index (want, i);
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
    fail_unless (gst_buffer_map (g_ptr_array_index (got, i), &m, GST_MAP_READ));
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
          30), "the subscriber's GET never reached the server");
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

/* https: trusted through ssl-ca-file (the test's self-signed certificate for
 * localhost), or ssl-strict=false; untrusted is an error.
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
      "tricklesink location=trickles://localhost:%u/sec ssl-ca-file=%s "
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
      "ssl-ca-file=%s start-seq=0 ! appsink name=sink sync=false", ts->port,
      ca);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  for (i = 0; i < 3; i++) {
    sample = pull_or_fail (sub, NULL, "sink", 60, "no frame over https");
    fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
            (sample)), 32 * 32 * 3 / 2);
    gst_sample_unref (sample);
  }
  trickle_test_stop_pipeline (sub);

  /* ssl-strict=false (by address: the name does not match) */
  desc = g_strdup_printf ("tricklesrc location=trickles://127.0.0.1:%u/sec "
      "ssl-strict=false start-seq=0 ! appsink name=sink "
      "sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sample = pull_or_fail (sub, NULL, "sink", 60,
      "no frame with ssl-strict=false");
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

/* the values of header @name in @h, in order, joined with "|" */
static gchar *
header_values (SoupMessageHeaders * h, const gchar * name)
{
  SoupMessageHeadersIter iter;
  const char *n, *v;
  GString *all = g_string_new (NULL);

  soup_message_headers_iter_init (&iter, h);
  while (soup_message_headers_iter_next (&iter, &n, &v))
    if (g_ascii_strcasecmp (n, name) == 0)
      g_string_append_printf (all, "%s%s", all->len ? "|" : "", v);
  return g_string_free (all, FALSE);
}

/* extra-headers, a GstStructure as souphttpsrc's, set on a gst-launch
 * line: every request of both elements carries them, as a real server
 * receives them (a string, an int turned into a string, an array sent as
 * the header repeated) */
GST_START_TEST (test_extra_headers)
{
  TrickleTestRecorder *rec = trickle_test_recorder_new (404, NULL);
  guint port = trickle_test_recorder_get_port (rec);
  GstElement *p;
  gchar *desc, *v;
  gint i, j;

  for (i = 0; i < 2; i++) {
    const gchar *headers = "extra-headers=\"headers,Authorization=\\\"Bearer "
        "s3cret\\\",X-Count=(int)3,X-Multi=<a,b>\"";

    desc = g_strdup_printf (i == 0 ?
        "tricklesrc location=http://127.0.0.1:%u/h %s ! fakesink" :
        "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink "
        "location=http://127.0.0.1:%u/h %s", port, headers);
    p = trickle_test_start_pipeline (desc);
    g_free (desc);
    /* the first two requests (the sink's GET /h/next and POST /h/0, the
     * source's GET /h/-1 and its retry) */
    for (j = 0; j < 2; j++) {
      TrickleTestRequest *r = trickle_test_recorder_pop (rec, 60);

      fail_unless (r != NULL, "no request reached the server");
      v = header_values (r->headers, "Authorization");
      fail_unless_equals_string (v, "Bearer s3cret");
      g_free (v);
      v = header_values (r->headers, "X-Count");
      fail_unless_equals_string (v, "3");
      g_free (v);
      v = header_values (r->headers, "X-Multi");
      fail_unless_equals_string (v, "a|b");
      g_free (v);
      trickle_test_request_free (r);
    }
    trickle_test_stop_pipeline (p);
    /* what came in while stopping */
    while ((p = (GstElement *) trickle_test_recorder_pop (rec, 0)))
      trickle_test_request_free ((TrickleTestRequest *) p);
  }
  trickle_test_recorder_free (rec);
}

GST_END_TEST;

/* an extra header libsoup could not send (not an HTTP token as a name, a
 * line break in a value) is a RESOURCE/SETTINGS error at start, for both
 * elements */
GST_START_TEST (test_extra_headers_invalid)
{
  GstStructure *broken = gst_structure_new ("headers", "X-Broken",
      G_TYPE_STRING, "a\r\nX-Injected: 1", NULL);
  GstElement *p, *e;
  GstMessage *msg;
  gchar *desc;
  gint i, j;

  for (i = 0; i < 2; i++) {
    for (j = 0; j < 2; j++) {
      desc = g_strdup_printf (i == 0 ?
          "tricklesrc name=e location=http://127.0.0.1:9/h %s ! fakesink" :
          "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink name=e "
          "location=http://127.0.0.1:9/h %s",
          j == 0 ? "extra-headers=\"headers,Bad/Name=x\"" : "");
      p = gst_parse_launch (desc, NULL);
      fail_unless (p != NULL);
      if (j == 1) {
        e = trickle_test_get (p, "e");
        g_object_set (e, "extra-headers", broken, NULL);
        gst_object_unref (e);
      }
      gst_element_set_state (p, GST_STATE_PLAYING);
      msg = wait_end (p, 60);
      gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS);
      gst_message_unref (msg);
      trickle_test_stop_pipeline (p);
      g_free (desc);
    }
  }
  gst_structure_free (broken);
}

GST_END_TEST;

/* user-agent: by default "gst-trickle/VERSION" (libsoup appends its own
 * after the trailing space), or what the gst-launch line says; as a real
 * server receives it from both elements */
GST_START_TEST (test_user_agent)
{
  TrickleTestRecorder *rec = trickle_test_recorder_new (404, NULL);
  guint port = trickle_test_recorder_get_port (rec);
  TrickleTestRequest *r;
  GstElement *p;
  gchar *desc;
  const gchar *ua;
  gint i;

  for (i = 0; i < 4; i++) {
    const gchar *prop = i % 2 ? "user-agent=\"my-agent/1.0\"" : "";

    desc = g_strdup_printf (i < 2 ?
        "tricklesrc location=http://127.0.0.1:%u/ua %s ! fakesink" :
        "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink "
        "location=http://127.0.0.1:%u/ua %s", port, prop);
    p = trickle_test_start_pipeline (desc);
    g_free (desc);
    r = trickle_test_recorder_pop (rec, 60);
    fail_unless (r != NULL, "no request reached the server");
    ua = soup_message_headers_get_one (r->headers, "User-Agent");
    fail_unless (ua != NULL);
    if (i % 2) {
      fail_unless_equals_string (ua, "my-agent/1.0");
    } else {
      fail_unless (g_str_has_prefix (ua, "gst-trickle/" PACKAGE_VERSION " "),
          "%s", ua);
    }
    trickle_test_request_free (r);
    trickle_test_stop_pipeline (p);
    while ((r = trickle_test_recorder_pop (rec, 0)))
      trickle_test_request_free (r);
  }
  trickle_test_recorder_free (rec);
}

GST_END_TEST;

/* retries=-1 retries for ever: a server answering 503 gets request after
 * request, far more than the default count, and no error comes; the
 * requests arrive at least retry-delay apart, doubling (a lower bound on
 * arrival times taken by the server: a busy machine only lengthens the
 * gaps) */
GST_START_TEST (test_retries_forever_and_delay)
{
  TrickleTestRecorder *rec = trickle_test_recorder_new (503, NULL);
  guint port = trickle_test_recorder_get_port (rec);
  TrickleTestRequest *r;
  GstElement *p;
  GstBus *bus;
  GstMessage *msg;
  gchar *desc;
  gint64 last;
  gint i, n;

  for (i = 0; i < 2; i++) {
    desc = g_strdup_printf (i == 0 ?
        "tricklesrc location=http://127.0.0.1:%u/rf retries=-1 "
        "retry-delay=0 ! fakesink" :
        "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink "
        "location=http://127.0.0.1:%u/rf retries=-1 retry-delay=0", port);
    p = trickle_test_start_pipeline (desc);
    g_free (desc);
    for (n = 0; n < 20; n++) {
      r = trickle_test_recorder_pop (rec, 60);
      fail_unless (r != NULL, "request %d did not come", n);
      trickle_test_request_free (r);
    }
    bus = gst_element_get_bus (p);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg == NULL, "an error after %d retries", n);
    gst_object_unref (bus);
    trickle_test_stop_pipeline (p);
    while ((r = trickle_test_recorder_pop (rec, 0)))
      trickle_test_request_free (r);
  }

  /* retry-delay=0.3: 0.3 s, then 0.6 s between arrivals at least; then
   * the error (retries=2) */
  for (i = 0; i < 2; i++) {
    desc = g_strdup_printf (i == 0 ?
        "tricklesrc location=http://127.0.0.1:%u/rd retries=2 "
        "retry-delay=0.3 ! fakesink" :
        "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink "
        "location=http://127.0.0.1:%u/rd retries=2 retry-delay=0.3", port);
    p = trickle_test_start_pipeline (desc);
    g_free (desc);
    last = 0;
    for (n = 0; n < 3; n++) {
      r = trickle_test_recorder_pop (rec, 60);
      fail_unless (r != NULL, "request %d did not come", n);
      if (n > 0)
        fail_unless (r->time - last >= (n == 1 ? 300000 : 600000),
            "retry %d after %" G_GINT64_FORMAT " us", n, r->time - last);
      last = r->time;
      trickle_test_request_free (r);
    }
    msg = wait_end (p, 60);
    gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
        i == 0 ? GST_RESOURCE_ERROR_READ : GST_RESOURCE_ERROR_OPEN_WRITE);
    gst_message_unref (msg);
    trickle_test_stop_pipeline (p);
    while ((r = trickle_test_recorder_pop (rec, 0)))
      trickle_test_request_free (r);
  }
  trickle_test_recorder_free (rec);
}

GST_END_TEST;

/* timeout bounds the set-up of a connection: an https "server" that
 * accepts the TCP connection (the kernel does) and never answers the TLS
 * handshake makes both elements fail (retries=0) instead of waiting for
 * ever (preconnect-timeout=0: no reissue either); with the sink, a plain
 * http one that never answers its request does too */
GST_START_TEST (test_timeout)
{
  GSocket *silent;
  GstElement *p;
  GstMessage *msg;
  gchar *desc;
  guint port;
  gint i;

  silent = listen_loopback (&port);
  for (i = 0; i < 3; i++) {
    desc = g_strdup_printf (i == 0 ?
        "tricklesrc location=https://127.0.0.1:%u/to timeout=1 retries=0 "
        "preconnect-timeout=0 ! fakesink" : i == 1 ?
        "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink "
        "location=https://127.0.0.1:%u/to timeout=1 retries=0" :
        "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink "
        "location=http://127.0.0.1:%u/to timeout=1 retries=0", port);
    p = trickle_test_start_pipeline (desc);
    g_free (desc);
    msg = wait_end (p, 60);
    gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
        i == 0 ? GST_RESOURCE_ERROR_READ : GST_RESOURCE_ERROR_OPEN_WRITE);
    gst_message_unref (msg);
    trickle_test_stop_pipeline (p);
  }
  g_object_unref (silent);
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
      "preconnect-timeout=1 ! fakesink", port);
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
      "preconnect-timeout=1 ! appsink name=sink sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  g_usleep (2500 * 1000);       /* two reissues of GET 1 */
  post_segment (ts->port, "re", 1, 20, "application/x-test");
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
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

  /* (the 5 frames can go out in a burst, held while the start runs on a
   * loaded machine, and the channel is deleted at EOS: a subscriber still
   * behind then reads the segments the server keeps for it) */
  desc = g_strdup_printf ("videotestsrc num-buffers=5 is-live=true ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1 ! "
      "tricklesink post-messages=true "
      "location=http://127.0.0.1:%u/msg", ts->port);
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

/* the seqs of the GETs a server saw begin on one channel, in order */
typedef struct
{
  GMutex lock;
  GCond cond;
  GArray *seqs;
} SeenGets;

static void
seen_get (GstTrickleHttpServer * server, const gchar * channel, gint64 seq,
    SeenGets * seen)
{
  if (g_strcmp0 (channel, "cam") != 0)
    return;
  g_mutex_lock (&seen->lock);
  g_array_append_val (seen->seqs, seq);
  g_cond_broadcast (&seen->cond);
  g_mutex_unlock (&seen->lock);
}

/* TRUE once a GET of @seq began at or after position @from of the list */
static gboolean
wait_get (SeenGets * seen, guint from, gint64 seq)
{
  /* 20 s: a loopback round trip of a subscriber on a loaded machine takes
   * far less; without the restart handling the GET never comes */
  gint64 end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  gboolean found = FALSE;
  guint i;

  g_mutex_lock (&seen->lock);
  while (!found) {
    for (i = from; i < seen->seqs->len && !found; i++)
      found = g_array_index (seen->seqs, gint64, i) == seq;
    if (!found && !g_cond_wait_until (&seen->cond, &seen->lock, end))
      break;
  }
  g_mutex_unlock (&seen->lock);
  return found;
}

static guint
n_seen (SeenGets * seen)
{
  guint n;

  g_mutex_lock (&seen->lock);
  n = seen->seqs->len;
  g_mutex_unlock (&seen->lock);
  return n;
}

/* the POST go-livepeer's TricklePublisher sends (trickle_publisher.go):
 * chunked, Content-Type video/MP2T, sent when the segment before begins
 * (the preconnect), no Lp-Trickle-Reset */
static TrickleTestConn *
go_preconnect (guint port, gint64 seq)
{
  TrickleTestConn *c = trickle_test_conn_new (port);
  gchar *path = g_strdup_printf ("/cam/%" G_GINT64_FORMAT, seq);

  fail_unless (trickle_test_conn_start_post (c, path,
          "User-Agent", "Go-http-client/1.1", "Content-Type", "video/MP2T",
          "Accept-Encoding", "gzip", NULL));
  g_free (path);
  return c;
}

/* writes one segment into a preconnected POST and reads its answer:
 * FALSE if the server did not take it (the caller decides whether that
 * fails the test) */
static gboolean
go_write (TrickleTestConn * c, const gchar * who, gint64 seq)
{
  gchar *body = g_strdup_printf ("%s-%" G_GINT64_FORMAT ";", who, seq);
  gchar *want = g_strdup_printf ("%" G_GINT64_FORMAT, seq);
  gboolean ok;

  ok = trickle_test_conn_send_chunk (c, body, -1)
      && trickle_test_conn_send_last_chunk (c)
      && trickle_test_conn_read_head (c) == 200
      && g_strcmp0 (trickle_test_conn_get_header (c, "Lp-Trickle-Seq"),
      want) == 0 && trickle_test_conn_read_body (c) == TRICKLE_TEST_BODY_END;
  if (!ok)
    GST_WARNING ("segment %s-%" G_GINT64_FORMAT " not taken (HTTP %u)", who,
        seq, c->status);
  g_free (body);
  g_free (want);
  return ok;
}

/* issue 10, point 10: a reference publisher restarts on a channel whose
 * write head is far ahead. The publisher is a raw-HTTP re-enactment of
 * go-livepeer's TricklePublisher, same requests and headers (PyTrickle's
 * and http-trickle's restart the same way, differing only in headers such
 * as Connection: close): it starts at seq 0 with no Lp-Trickle-Reset, POSTs
 * seq 0 as soon as it is made (headers only), and POSTs seq N+1 when
 * segment N begins, before writing N. (The Go client itself is not built:
 * its package needs Go 1.21 for log/slog, Debian 12 has 1.19.) A real
 * tricklesrc follows the channel. The reference server
 * moves its write head back to 1 and its subscribers rejoin there (seq 0
 * is lost); every segment of the restarted publisher must reach the
 * subscriber, in order, none skipped. Each segment is written once the
 * subscriber asked for it, as a live publisher (one segment every second
 * or two) gives it time to. */
GST_START_TEST (test_reference_publisher_restart)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstElement *sub, *sink;
  TrickleTestConn *c, *next;
  SeenGets seen;
  GstSample *sample;
  GString *got = g_string_new (NULL), *want = g_string_new (NULL);
  gchar *desc;
  guint mark;
  gint64 i;
  gboolean paced = TRUE;

  g_mutex_init (&seen.lock);
  g_cond_init (&seen.cond);
  seen.seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  trickle_test_server_start (ts, NULL); /* window 5, as the reference */
  g_signal_connect (ts->server, "subscriber-connected",
      G_CALLBACK (seen_get), &seen);
  c = trickle_test_request (ts->port, "POST", "/cam", NULL, 0,
      "Expect-Content", "video/MP2T", NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/cam "
      "start-seq=0 ! appsink name=sink sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);

  /* the first publisher: 12 segments, then it dies with seq 12 preconnected */
  c = go_preconnect (ts->port, 0);
  for (i = 0; i < 12; i++) {
    fail_unless (wait_get (&seen, 0, i), "the subscriber never asked for %"
        G_GINT64_FORMAT, i);
    next = go_preconnect (ts->port, i + 1);
    fail_unless (go_write (c, "old", i));
    trickle_test_conn_free (c);
    c = next;
  }
  fail_unless (wait_get (&seen, 0, 12));
  trickle_test_conn_abort (c);
  trickle_test_conn_free (c);

  /* the restarted publisher: from seq 0 again */
  mark = n_seen (&seen);
  c = go_preconnect (ts->port, 0);
  for (i = 0; i < 15; i++) {
    /* a subscriber left behind is not waited for again: what it lost
     * shows below */
    if (paced && !wait_get (&seen, mark, i)) {
      GST_WARNING ("the subscriber did not ask for seq %" G_GINT64_FORMAT
          " of the restarted publisher", i);
      paced = FALSE;
    }
    next = go_preconnect (ts->port, i + 1);
    go_write (c, "new", i);     /* the subscriber tells below */
    trickle_test_conn_free (c);
    c = next;
    g_string_append_printf (want, "new-%" G_GINT64_FORMAT ";", i);
  }

  sink = trickle_test_get (sub, "sink");
  while (!strstr (got->str, "new-14;") &&
      (sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              20 * GST_SECOND))) {
    GstMapInfo map;
    fail_unless (gst_buffer_map (gst_sample_get_buffer (sample), &map,
            GST_MAP_READ));
    g_string_append_len (got, (const gchar *) map.data, map.size);
    gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
    gst_sample_unref (sample);
  }
  gst_object_unref (sink);
  fail_unless (g_str_has_prefix (got->str, "old-0;old-1;"), "%s", got->str);
  fail_unless (strstr (got->str, want->str) != NULL,
      "segments of the restarted publisher lost: got %s", got->str);
  fail_unless (paced);

  trickle_test_conn_free (c);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
  g_string_free (got, TRUE);
  g_string_free (want, TRUE);
  g_array_unref (seen.seqs);
  g_mutex_clear (&seen.lock);
  g_cond_clear (&seen.cond);
}

GST_END_TEST;

/* issue 10, point 13: a channel made by curl with no Expect-Content, raw
 * I420 video published into it by tricklesink, read by tricklesrc from
 * seq 0: the channel takes its publisher's Content-Type, and the
 * subscriber gets the 150 frames as 150 buffers with the publisher's caps
 * (not pieces of frames after a failed typefind) */
GST_START_TEST (test_untyped_channel_takes_publisher_type)
{
  gchar *curl = g_find_program_in_path ("curl");
  TrickleTestServer *ts;
  GstElement *sub, *sink;
  GstSample *sample;
  GstMessage *msg;
  GstCaps *want;
  GError *err = NULL;
  gchar *desc, *url;
  gint status = -1;
  guint frames = 0;

  if (!curl) {
    GST_WARNING ("curl missing (Debian package curl), skipping");
    return;
  }
  ts = trickle_test_server_new ();
  /* the publisher is not paced: a window it cannot outrun */
  g_object_set (ts->store, "window", 256, NULL);
  trickle_test_server_start (ts, NULL);
  url = g_strdup_printf ("http://127.0.0.1:%u/ch", ts->port);
  {
    const gchar *argv[] = { curl, "-sS", "-f", "-X", "POST", url, NULL };
    fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL,
            G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &err), "%s",
        err ? err->message : "");
    fail_unless (g_spawn_check_wait_status (status, NULL), "curl failed");
  }
  desc = g_strdup_printf ("tricklesrc location=%s start-seq=0 ! "
      "appsink name=sink sync=false", url);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=150 ! "
      "video/x-raw,format=I420,width=160,height=120,framerate=30/1 ! "
      "tricklesink location=%s delete-on-eos=false", url);
  msg = trickle_test_run_pipeline (desc);
  fail_unless (msg == NULL, "the publisher failed");
  g_free (desc);

  want = gst_caps_from_string ("video/x-raw,format=I420,width=160,"
      "height=120,framerate=30/1");
  sink = trickle_test_get (sub, "sink");
  while (frames < 200 && (sample =
          gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              (frames < 150 ? 20 : 1) * GST_SECOND))) {
    GstCaps *caps = gst_sample_get_caps (sample);
    if (!caps || !gst_caps_is_subset (caps, want)) {
      gchar *str = caps ? gst_caps_to_string (caps) : g_strdup ("none");
      fail ("buffer %u of %" G_GSIZE_FORMAT " bytes, caps %s", frames,
          gst_buffer_get_size (gst_sample_get_buffer (sample)), str);
    }
    fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
            (sample)), 160 * 120 * 3 / 2);
    frames++;
    gst_sample_unref (sample);
  }
  fail_unless_equals_int (frames, 150);
  gst_caps_unref (want);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
  g_free (url);
  g_free (curl);
}

GST_END_TEST;

/* issue 10, point 13: a channel with no type, fed by a publisher that
 * sends no Content-Type, with bytes typefinding cannot recognise: a
 * tricklesrc posts STREAM/TYPE_NOT_FOUND and pushes nothing; with the caps
 * property it reads the bytes, all of them */
GST_START_TEST (test_untyped_unknown_data)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  GstElement *sub, *sink;
  TrickleTestConn *c;
  GstMessage *msg;
  GstSample *sample;
  GError *err = NULL;
  guint8 data[16384];
  GByteArray *got = g_byte_array_new ();
  gchar *desc;
  guint i;

  for (i = 0; i < sizeof (data); i++)
    data[i] = i % 256;          /* no format typefinding knows */
  c = trickle_test_request (ts->port, "POST", "/raw", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  for (i = 0; i < 3; i++) {
    gchar *path = g_strdup_printf ("/raw/%u", i);
    c = trickle_test_request (ts->port, "POST", path, data, sizeof (data),
        NULL);
    fail_unless_equals_int (c->status, 200);
    fail_unless (trickle_test_conn_get_header (c, "Content-Type") == NULL);
    trickle_test_conn_free (c);
    g_free (path);
  }

  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/raw "
      "start-seq=0 ! appsink name=sink sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  msg = wait_end (sub, 20);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_STREAM_ERROR,
          GST_STREAM_ERROR_TYPE_NOT_FOUND), "%s", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  sink = trickle_test_get (sub, "sink");
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 0);
  fail_unless (sample == NULL, "a buffer was pushed");
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);

  /* told the caps: the bytes as they are */
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/raw "
      "start-seq=0 caps=application/x-pattern ! appsink name=sink "
      "sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  while (got->len < 3 * sizeof (data) && (sample =
          gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              20 * GST_SECOND))) {
    GstMapInfo map;
    fail_unless (gst_structure_has_name (gst_caps_get_structure
            (gst_sample_get_caps (sample), 0), "application/x-pattern"));
    fail_unless (gst_buffer_map (gst_sample_get_buffer (sample), &map,
            GST_MAP_READ));
    g_byte_array_append (got, map.data, map.size);
    gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
    gst_sample_unref (sample);
  }
  fail_unless_equals_int (got->len, 3 * sizeof (data));
  for (i = 0; i < 3; i++)
    fail_unless (memcmp (got->data + i * sizeof (data), data,
            sizeof (data)) == 0, "segment %u differs", i);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  g_byte_array_unref (got);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a location without a channel name is a RESOURCE/SETTINGS error at
 * start (it would have asked the server's root for /-1) */
GST_START_TEST (test_location_without_channel)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  const gchar *forms[] = { "http://127.0.0.1:%u/", "http://127.0.0.1:%u",
    "trickle://127.0.0.1:%u/"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (forms); i++) {
    gchar *location = g_strdup_printf (forms[i], ts->port);
    gchar *desc = g_strdup_printf ("tricklesrc location=%s ! fakesink",
        location);
    GstElement *p = gst_parse_launch (desc, NULL);
    GstBus *bus = gst_element_get_bus (p);
    GstMessage *msg;

    fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE, "%s started", location);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no error for %s", location);
    gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS);
    gst_message_unref (msg);
    gst_object_unref (bus);
    trickle_test_stop_pipeline (p);
    g_free (desc);
    g_free (location);
  }
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* A subscriber behind its channel (a slow consumer: it asks for the next
 * segments only as it gets through the earlier ones) whose channel is
 * deleted meanwhile: it still gets every segment the channel held (the
 * server keeps them for it), then its next GET is answered 404, which is
 * the end of the stream (as for Go's and PyTrickle's subscribers), at once,
 * not an error after wait-timeout */
GST_START_TEST (test_deleted_while_behind)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstElement *sub, *sink, *src;
  GstSample *sample;
  GstBus *bus;
  GstMessage *msg;
  TrickleTestConn *c;
  gchar *desc;
  gint seq;
  guint got = 0;
  GetWatch watch = { 0 };

  g_object_set (ts->store, "window", 32, NULL);
  trickle_test_server_start (ts, NULL);
  g_mutex_init (&watch.lock);
  g_cond_init (&watch.cond);
  watch.max_seq = -1;
  g_signal_connect (ts->server, "subscriber-connected",
      G_CALLBACK (get_watch_on_subscriber), &watch);
  /* 16 MiB: far more than the subscriber reads ahead (its 4 MiB queue and
   * a frame or two downstream), so GETs are still to come */
  for (seq = 0; seq < 16; seq++)
    post_segment (ts->port, "gone", seq, 1024 * 1024, "application/x-test");
  /* wait-timeout=30: a 404 waited for would outlast the checks below */
  desc = g_strdup_printf ("tricklesrc name=src location=http://127.0.0.1:%u/"
      "gone start-seq=0 wait-timeout=30 ! appsink name=sink sync=false "
      "max-buffers=1", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  src = trickle_test_get (sub, "src");
  /* following: the first segment is in */
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
  fail_unless (sample != NULL);
  got++;
  gst_sample_unref (sample);

  /* behind: the GETs of the last segments are still to come */
  fail_if (get_watch_reached (&watch, 15), "the subscriber was not behind");
  c = trickle_test_request (ts->port, "DELETE", "/gone", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);

  /* all the rest still comes, then EOS (well within wait-timeout) */
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              20 * GST_SECOND))) {
    fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
            (sample)), 1024 * 1024);
    got++;
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)),
      "no EOS after the channel was deleted");
  fail_unless_equals_int (got, 16);
  bus = gst_element_get_bus (sub);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "an error instead of EOS");
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
  g_mutex_clear (&watch.lock);
  g_cond_clear (&watch.cond);
}

GST_END_TEST;

/* A publisher (a raw socket) dies in the middle of a segment: the server
 * ends that segment's answer without its last chunk. tricklesrc must not
 * take it for a complete segment: a warning, the trickle-segment message
 * says complete=false, stats count it, and the next segment's first buffer
 * is DISCONT */
GST_START_TEST (test_publisher_died_mid_segment)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstElement *sub, *sink, *src;
  TrickleTestConn *pub;
  GstSample *sample;
  GstBus *bus;
  GstMessage *msg;
  GBytes *data = trickle_test_make_data (1000, 1);
  gchar *desc;
  gboolean seen = FALSE, warned = FALSE;

  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  /* a byte stream: pieces are pushed as they arrive */
  desc = g_strdup_printf ("tricklesrc name=src post-messages=true "
      "location=http://127.0.0.1:%u/cut start-seq=0 ! appsink name=sink "
      "sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  src = trickle_test_get (sub, "src");

  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/cut/0", "Content-Type",
          "video/MP2T", NULL));
  fail_unless (trickle_test_conn_send_chunk (pub, g_bytes_get_data (data,
              NULL), 1000));
  /* the subscriber has the segment's first piece, then the publisher dies */
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
  fail_unless (sample != NULL);
  fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
          (sample)), 1000);
  gst_sample_unref (sample);
  trickle_test_conn_abort (pub);
  trickle_test_conn_free (pub);

  post_segment (ts->port, "cut", 1, 2000, "video/MP2T");
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
  fail_unless (sample != NULL);
  fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
          (sample)), 2000);
  fail_unless (GST_BUFFER_FLAG_IS_SET (gst_sample_get_buffer (sample),
          GST_BUFFER_FLAG_DISCONT), "no DISCONT after the cut segment");
  gst_sample_unref (sample);

  /* posted before the next segment's data was pushed */
  bus = gst_element_get_bus (sub);
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT |
              GST_MESSAGE_WARNING))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
              GST_RESOURCE_ERROR_READ), "%s", err->message);
      g_clear_error (&err);
      warned = TRUE;
    } else if (gst_structure_has_name (gst_message_get_structure (msg),
            "trickle-segment")) {
      const GstStructure *st = gst_message_get_structure (msg);
      gint64 seq = -1;
      gboolean complete = TRUE;
      fail_unless (gst_structure_get_int64 (st, "seq", &seq));
      fail_unless (gst_structure_get_boolean (st, "complete", &complete));
      if (seq == 0) {
        fail_if (complete, "the cut segment was reported complete");
        seen = TRUE;
      }
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  fail_unless (seen, "no trickle-segment message for segment 0");
  fail_unless (warned, "no warning for the cut segment");
  fail_unless_equals_int (stat_u64 (src, "stats", "incomplete"), 1);

  g_bytes_unref (data);
  gst_object_unref (src);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

static gboolean
accept_any_certificate (GTlsConnection * conn, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer data)
{
  return TRUE;
}

static void
trust_test_server (GSocketClient * client, GSocketClientEvent event,
    GSocketConnectable * connectable, GIOStream * connection, gpointer data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate",
        G_CALLBACK (accept_any_certificate), NULL);
}

/* @n MPEG-TS packets of one stream (PID 0x100), the first starting a
 * PES: where tricklesink may begin a segment (no PAT/PMT: the buffer's
 * flags decide, and this one is not a delta unit) */
static GstBuffer *
ts_packets (guint n)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 188 * n, NULL);
  GstMapInfo map;
  guint i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memset (map.data, 0xab, map.size);
  for (i = 0; i < n; i++) {
    guint8 *p = map.data + 188 * i;
    p[0] = 0x47;
    p[1] = (i == 0 ? 0x40 : 0x00) | 0x01;
    p[2] = 0x00;
    p[3] = 0x10 | (i & 0x0f);
    if (i == 0) {
      /* a PES start code */
      p[4] = 0x00;
      p[5] = 0x00;
      p[6] = 0x01;
      p[7] = 0xe0;
    }
  }
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* The same over https: the publisher (raw bytes over TLS) dies in the
 * middle of a segment; the subscriber reports the segment cut off */
GST_START_TEST (test_publisher_died_mid_segment_tls)
{
  TrickleTestServer *ts;
  GTlsCertificate *cert;
  GstElement *sub, *sink, *src;
  GSocketClient *client;
  GSocketConnection *pub;
  GstSample *sample;
  GBytes *data = trickle_test_make_data (1000, 1);
  GOutputStream *out;
  GString *head;
  gchar *dir = NULL, *ca, *desc;
  struct linger l = { 1, 0 };

  cert = trickle_test_make_certificate (&dir);
  if (!cert) {
    g_bytes_unref (data);
    return;
  }
  ca = g_build_filename (dir, "cert.pem", NULL);
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, "tls-certificate", cert, NULL);
  desc = g_strdup_printf ("tricklesrc name=src location=https://localhost:%u/"
      "cut start-seq=0 ssl-ca-file=%s ! appsink name=sink sync=false", ts->port,
      ca);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  src = trickle_test_get (sub, "src");

  client = g_socket_client_new ();
  g_socket_client_set_tls (client, TRUE);
  g_signal_connect (client, "event", G_CALLBACK (trust_test_server), NULL);
  pub = g_socket_client_connect_to_host (client, "localhost", ts->port, NULL,
      NULL);
  fail_unless (pub != NULL);
  out = g_io_stream_get_output_stream (G_IO_STREAM (pub));
  head = g_string_new (NULL);
  g_string_append_printf (head, "POST /cut/0 HTTP/1.1\r\nHost: localhost:%u"
      "\r\nContent-Type: video/MP2T\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3e8\r\n", ts->port);
  g_string_append_len (head, g_bytes_get_data (data, NULL), 1000);
  g_string_append (head, "\r\n");
  fail_unless (g_output_stream_write_all (out, head->str, head->len, NULL,
          NULL, NULL));
  g_string_free (head, TRUE);
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 30 * GST_SECOND);
  fail_unless (sample != NULL);
  gst_sample_unref (sample);
  /* dies: a reset, no TLS close */
  setsockopt (g_socket_get_fd (g_socket_connection_get_socket (pub)),
      SOL_SOCKET, SO_LINGER, &l, sizeof (l));
  g_socket_close (g_socket_connection_get_socket (pub), NULL);
  g_object_unref (pub);
  g_object_unref (client);

  /* the next segment (any publisher): DISCONT after the cut one */
  {
    GstElement *p;
    desc = g_strdup_printf ("appsrc name=a format=time caps=video/mpegts ! "
        "tricklesink location=https://localhost:%u/cut ssl-ca-file=%s",
        ts->port, ca);
    p = trickle_test_start_pipeline (desc);
    g_free (desc);
    {
      GstElement *a = trickle_test_get (p, "a");
      fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (a),
              ts_packets (2)), GST_FLOW_OK);
      gst_app_src_end_of_stream (GST_APP_SRC (a));
      gst_object_unref (a);
    }
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        30 * GST_SECOND);
    fail_unless (sample != NULL);
    fail_unless (GST_BUFFER_FLAG_IS_SET (gst_sample_get_buffer (sample),
            GST_BUFFER_FLAG_DISCONT), "no DISCONT after the cut segment");
    gst_sample_unref (sample);
    trickle_test_stop_pipeline (p);
  }
  fail_unless_equals_int (stat_u64 (src, "stats", "incomplete"), 1);

  g_bytes_unref (data);
  gst_object_unref (src);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
  g_object_unref (cert);
  trickle_test_remove_tmpdir (dir);
  g_free (dir);
  g_free (ca);
}

GST_END_TEST;

/* @path (absolute) written relative to the working directory */
static gchar *
relative_to_cwd (const gchar * path)
{
  gchar *cwd = g_get_current_dir ();
  gchar **a = g_strsplit (cwd, "/", -1), **b = g_strsplit (path, "/", -1);
  GString *rel = g_string_new (NULL);
  guint i = 0, j;

  while (a[i] && b[i] && g_str_equal (a[i], b[i]))
    i++;
  for (j = i; a[j]; j++)
    if (*a[j])
      g_string_append (rel, "../");
  for (j = i; b[j]; j++) {
    g_string_append (rel, b[j]);
    if (b[j + 1])
      g_string_append_c (rel, '/');
  }
  g_strfreev (a);
  g_strfreev (b);
  g_free (cwd);
  fail_if (g_path_is_absolute (rel->str));
  fail_unless (g_file_test (rel->str, G_FILE_TEST_IS_REGULAR), "%s", rel->str);
  return g_string_free (rel, FALSE);
}

/* ssl-ca-file as a relative path (from the working directory, as on a command
 * line) works for both elements against a real TLS server: a sink
 * publishes three frames, a subscriber reads them from the first segment.
 * (Not live: both sides at their own pace, timeouts generous for a
 * sanitized build on a loaded machine.) */
GST_START_TEST (test_tls_relative_ca_file)
{
  TrickleTestServer *ts;
  GTlsCertificate *cert;
  GstElement *sub, *sink;
  GstSample *sample;
  GstMessage *msg;
  gchar *dir = NULL, *ca, *rel, *desc;
  gint i;

  cert = trickle_test_make_certificate (&dir);
  if (!cert)
    return;
  ca = g_build_filename (dir, "cert.pem", NULL);
  rel = relative_to_cwd (ca);
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, "tls-certificate", cert, NULL);

  desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=32,height=32,framerate=20/1 ! "
      "tricklesink location=https://localhost:%u/relca ssl-ca-file=%s "
      "delete-on-eos=false", ts->port, rel);
  msg = trickle_test_run_pipeline (desc);
  fail_unless (msg == NULL, "publishing with ssl-ca-file=%s failed", rel);
  g_free (desc);

  desc = g_strdup_printf ("tricklesrc location=https://localhost:%u/relca "
      "start-seq=0 ssl-ca-file=%s ! appsink name=sink sync=false", ts->port,
      rel);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  for (i = 0; i < 3; i++) {
    /* (90 s: once, in a sanitized build on a machine running other
     * pipelines, the first frame took longer than 30) */
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        90 * GST_SECOND);
    fail_unless (sample != NULL, "no frame over https with ssl-ca-file=%s",
        rel);
    fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
            (sample)), 32 * 32 * 3 / 2);
    gst_sample_unref (sample);
  }
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
  g_object_unref (cert);
  trickle_test_remove_tmpdir (dir);
  g_free (dir);
  g_free (rel);
  g_free (ca);
}

GST_END_TEST;

/* tls-database: a GTlsDatabase the application made (here from the test's
 * CA file) is what both elements verify the server with: the self-signed
 * certificate, unknown to the system's database, is trusted through it
 * (the sink publishes three frames, the source reads them back) */
GST_START_TEST (test_tls_database)
{
  TrickleTestServer *ts;
  GTlsCertificate *cert;
  GTlsDatabase *db;
  GstElement *p, *e, *sink;
  GstSample *sample;
  GstMessage *msg;
  GError *err = NULL;
  gchar *dir = NULL, *ca, *desc;
  gint i;

  cert = trickle_test_make_certificate (&dir);
  if (!cert)
    return;
  ca = g_build_filename (dir, "cert.pem", NULL);
  db = g_tls_file_database_new (ca, &err);
  fail_unless (db != NULL, "%s", err ? err->message : "");
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, "tls-certificate", cert, NULL);

  desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=32,height=32,framerate=20/1 ! "
      "tricklesink name=e location=https://localhost:%u/tlsdb "
      "delete-on-eos=false", ts->port);
  p = gst_parse_launch (desc, NULL);
  g_free (desc);
  e = trickle_test_get (p, "e");
  g_object_set (e, "tls-database", db, NULL);
  gst_object_unref (e);
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = wait_end (p, 60);
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_EOS) {
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    fail_unless (FALSE, "publishing with tls-database failed: %s (%s)",
        err->message, GST_STR_NULL (dbg));
  }
  gst_message_unref (msg);
  trickle_test_stop_pipeline (p);

  desc = g_strdup_printf ("tricklesrc name=e "
      "location=https://localhost:%u/tlsdb start-seq=0 ! appsink name=sink "
      "sync=false", ts->port);
  p = gst_parse_launch (desc, NULL);
  g_free (desc);
  e = trickle_test_get (p, "e");
  g_object_set (e, "tls-database", db, NULL);
  gst_object_unref (e);
  gst_element_set_state (p, GST_STATE_PLAYING);
  sink = trickle_test_get (p, "sink");
  for (i = 0; i < 3; i++) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        60 * GST_SECOND);
    fail_unless (sample != NULL, "no frame over https with tls-database");
    fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
            (sample)), 32 * 32 * 3 / 2);
    gst_sample_unref (sample);
  }
  gst_object_unref (sink);
  trickle_test_stop_pipeline (p);

  trickle_test_server_free (ts);
  g_object_unref (db);
  g_object_unref (cert);
  trickle_test_remove_tmpdir (dir);
  g_free (dir);
  g_free (ca);
}

GST_END_TEST;

/* a GTlsInteraction that answers a server's certificate request with a
 * given certificate */
typedef struct
{
  GTlsInteraction parent;
  GTlsCertificate *cert;
  gint asked;                   /* atomic */
} TestInteraction;
typedef GTlsInteractionClass TestInteractionClass;
static GType test_interaction_get_type (void);
G_DEFINE_TYPE (TestInteraction, test_interaction, G_TYPE_TLS_INTERACTION);

static GTlsInteractionResult
test_interaction_request_certificate (GTlsInteraction * interaction,
    GTlsConnection * connection, GTlsCertificateRequestFlags flags,
    GCancellable * cancellable, GError ** error)
{
  TestInteraction *self = (TestInteraction *) interaction;

  g_atomic_int_inc (&self->asked);
  g_tls_connection_set_certificate (connection, self->cert);
  return G_TLS_INTERACTION_HANDLED;
}

static void
test_interaction_finalize (GObject * object)
{
  g_clear_object (&((TestInteraction *) object)->cert);
  G_OBJECT_CLASS (test_interaction_parent_class)->finalize (object);
}

static void
test_interaction_class_init (TestInteractionClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_interaction_finalize;
  klass->request_certificate = test_interaction_request_certificate;
}

static void
test_interaction_init (TestInteraction * self)
{
}

/* tls-interaction: a server that requires a client certificate (a real
 * SoupServer, TLS client authentication required, trusting the test's
 * certificate) gets requests from both elements only through their
 * tls-interaction, which is asked for the certificate; without one the
 * handshake fails, no request reaches the server and it is an error */
GST_START_TEST (test_tls_interaction)
{
  TrickleTestRecorder *rec;
  TrickleTestRequest *r;
  TestInteraction *ti;
  GTlsCertificate *cert;
  GTlsDatabase *db;
  GstElement *p, *e;
  GstMessage *msg;
  GError *err = NULL;
  gchar *dir = NULL, *ca, *desc;
  guint port;
  gint i;

  cert = trickle_test_make_certificate (&dir);
  if (!cert)
    return;
  ca = g_build_filename (dir, "cert.pem", NULL);
  db = g_tls_file_database_new (ca, &err);
  fail_unless (db != NULL, "%s", err ? err->message : "");
  rec = trickle_test_recorder_new_full (404, cert, db);
  port = trickle_test_recorder_get_port (rec);
  ti = g_object_new (test_interaction_get_type (), NULL);
  ti->cert = g_object_ref (cert);

  for (i = 0; i < 4; i++) {
    gboolean with = i % 2 == 0;

    desc = g_strdup_printf (i < 2 ?
        "tricklesrc name=e location=https://localhost:%u/ci ssl-ca-file=%s "
        "retries=0 wait-timeout=0 ! fakesink" :
        "videotestsrc ! video/x-raw,width=8,height=8 ! tricklesink name=e "
        "location=https://localhost:%u/ci ssl-ca-file=%s retries=0", port, ca);
    p = gst_parse_launch (desc, NULL);
    g_free (desc);
    fail_unless (p != NULL);
    if (with) {
      e = trickle_test_get (p, "e");
      g_object_set (e, "tls-interaction", ti, NULL);
      gst_object_unref (e);
    }
    gst_element_set_state (p, GST_STATE_PLAYING);
    if (with) {
      r = trickle_test_recorder_pop (rec, 60);
      fail_unless (r != NULL, "no request with the client certificate");
      trickle_test_request_free (r);
    } else {
      msg = wait_end (p, 60);
      gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
          i < 2 ? GST_RESOURCE_ERROR_READ : GST_RESOURCE_ERROR_OPEN_WRITE);
      gst_message_unref (msg);
      r = trickle_test_recorder_pop (rec, 0);
      fail_unless (r == NULL, "a request without the client certificate");
    }
    trickle_test_stop_pipeline (p);
    while ((r = trickle_test_recorder_pop (rec, 0)))
      trickle_test_request_free (r);
  }
  fail_unless (g_atomic_int_get (&ti->asked) >= 2);

  trickle_test_recorder_free (rec);
  g_object_unref (ti);
  g_object_unref (db);
  g_object_unref (cert);
  trickle_test_remove_tmpdir (dir);
  g_free (dir);
  g_free (ca);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Issue 10: frame formats whose caps carry buffers */

typedef struct
{
  GstCaps *pub_caps;            /* on tricklesink's pad */
  GstCaps *sub_caps;            /* on tricklesrc's pad */
  GPtrArray *out;               /* what the subscriber's appsink got */
  guint64 segments;             /* published (with data) */
  gchar *problem;               /* the subscriber's first warning or error */
} Roundtrip;

static void
roundtrip_clear (Roundtrip * r)
{
  gst_clear_caps (&r->pub_caps);
  gst_clear_caps (&r->sub_caps);
  g_clear_pointer (&r->out, g_ptr_array_unref);
  g_clear_pointer (&r->problem, g_free);
}

/* caps on @element's pad @pad now */
static GstCaps *
pad_caps (GstElement * p, const gchar * element, const gchar * pad)
{
  GstElement *e = trickle_test_get (p, element);
  GstPad *pd = gst_element_get_static_pad (e, pad);
  GstCaps *caps = gst_pad_get_current_caps (pd);

  fail_unless (caps != NULL, "no caps on %s.%s", element, pad);
  gst_object_unref (pd);
  gst_object_unref (e);
  return caps;
}

/* "@source ! tricklesink" publishes channel @ch to its end; then
 * "tricklesrc start-seq=0 ! @decode ! appsink" reads all of it (the
 * channel is deleted once the subscriber read every segment: EOS) */
static void
frames_roundtrip (TrickleTestServer * ts, const gchar * ch,
    const gchar * source, const gchar * decode, Roundtrip * r)
{
  GstElement *pub, *sub, *src, *sink;
  GstMessage *msg;
  GstBus *bus;
  gchar *desc;
  gint64 end;
  guint64 got = 0;

  desc = g_strdup_printf ("%s ! tricklesink name=pub location=http://"
      "127.0.0.1:%u/%s delete-on-eos=false sync=false", source, ts->port, ch);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  msg = wait_end (pub, 30);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  r->pub_caps = pad_caps (pub, "pub", "sink");
  {
    GstElement *e = trickle_test_get (pub, "pub");
    r->segments = stat_u64 (e, "stats", "segments");
    gst_object_unref (e);
  }
  trickle_test_stop_pipeline (pub);

  desc = g_strdup_printf ("tricklesrc name=src location=http://127.0.0.1:%u/"
      "%s start-seq=0 ! %s ! appsink name=sink sync=false", ts->port, ch,
      decode);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  src = trickle_test_get (sub, "src");
  /* every segment read (20 s: they are all there) */
  end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while ((got = stat_u64 (src, "stats", "segments")) < r->segments
      && g_get_monotonic_time () < end)
    g_usleep (20 * 1000);
  GST_INFO ("%s: published %" G_GUINT64_FORMAT " segments, read %"
      G_GUINT64_FORMAT, ch, r->segments, got);
  desc = g_strdup_printf ("/%s", ch);
  trickle_test_conn_free (trickle_test_request (ts->port, "DELETE", desc,
          NULL, 0, NULL));
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  r->out = pull_all (sink, NULL, 20);
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)),
      "the subscriber did not end");
  gst_object_unref (sink);
  r->sub_caps = pad_caps (sub, "src", "src");
  bus = gst_element_get_bus (sub);
  while (!r->problem && (msg = gst_bus_pop_filtered (bus,
              GST_MESSAGE_WARNING | GST_MESSAGE_ERROR))) {
    GError *err = NULL;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      gst_message_parse_error (msg, &err, NULL);
    else
      gst_message_parse_warning (msg, &err, NULL);
    r->problem = g_strdup_printf ("%s from %s: %s",
        GST_MESSAGE_TYPE_NAME (msg), GST_MESSAGE_SRC_NAME (msg), err->message);
    g_error_free (err);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  gst_object_unref (src);
  trickle_test_stop_pipeline (sub);
}

/* the buffers of a local pipeline "@desc ! appsink name=sink" to EOS */
static GPtrArray *
local_buffers (const gchar * desc)
{
  gchar *full = g_strdup_printf ("%s ! appsink name=sink sync=false", desc);
  GstElement *p = trickle_test_start_pipeline (full);
  GstElement *sink = trickle_test_get (p, "sink");
  GPtrArray *bufs = pull_all (sink, NULL, 20);

  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)));
  gst_object_unref (sink);
  trickle_test_stop_pipeline (p);
  g_free (full);
  return bufs;
}

/* all bytes of @bufs, one after the other */
static GByteArray *
concat (GPtrArray * bufs)
{
  GByteArray *all = g_byte_array_new ();
  guint i;

  for (i = 0; i < bufs->len; i++) {
    GstMapInfo map;
    fail_unless (gst_buffer_map (g_ptr_array_index (bufs, i), &map,
            GST_MAP_READ));
    g_byte_array_append (all, map.data, map.size);
    gst_buffer_unmap (g_ptr_array_index (bufs, i), &map);
  }
  return all;
}

/* fails unless field @name of @a and @b is there and equal */
static void
assert_same_field (GstCaps * a, GstCaps * b, const gchar * name)
{
  const GValue *va = gst_structure_get_value (gst_caps_get_structure (a, 0),
      name);
  const GValue *vb = gst_structure_get_value (gst_caps_get_structure (b, 0),
      name);
  gchar *sa = gst_caps_to_string (a), *sb = gst_caps_to_string (b);

  fail_unless (va != NULL, "no %s in %s", name, sa);
  fail_unless (vb != NULL, "no %s in %s", name, sb);
  fail_unless (gst_value_compare (va, vb) == GST_VALUE_EQUAL,
      "%s differs: %s vs %s", name, sa, sb);
  g_free (sa);
  g_free (sb);
}

/* fails unless @a and @b are equal */
static void
assert_caps_equal (GstCaps * a, GstCaps * b)
{
  gchar *sa = gst_caps_to_string (a), *sb = gst_caps_to_string (b);

  fail_unless (gst_caps_is_equal (a, b), "%s vs %s", sa, sb);
  g_free (sa);
  g_free (sb);
}

/* a server that keeps every segment these tests publish */
static TrickleTestServer *
big_window_server (void)
{
  TrickleTestServer *ts = trickle_test_server_new ();

  g_object_set (ts->store, "window", 256, NULL);
  trickle_test_server_start (ts, NULL);
  return ts;
}

#define AUDIO_SOURCE "audiotestsrc num-buffers=50 wave=sine freq=440"

/* the pre-skip of an OpusHead (samples at 48 kHz) */
static guint
opus_pre_skip (GstCaps * caps)
{
  const GValue *sh = gst_structure_get_value (gst_caps_get_structure (caps,
          0), "streamheader");
  GstBuffer *head = gst_value_get_buffer (gst_value_array_get_value (sh, 0));
  guint8 b[12];

  fail_unless_equals_int (gst_buffer_extract (head, 0, b, 12), 12);
  fail_unless (memcmp (b, "OpusHead", 8) == 0);
  return b[10] | (b[11] << 8);
}

/* issue 10: Opus as its own channel: each segment began with OpusHead/
 * OpusTags and opusdec reported a corrupted stream. Now the subscriber's
 * caps carry the publisher's streamheader, and opusdec decodes every
 * packet, without a warning, to the samples a local opusdec makes of the
 * same encoder's output. (Locally opusdec trims the encoder's pre-skip and
 * end padding by the GstAudioClippingMeta opusenc adds; buffer metas do
 * not travel, so the subscriber's audio may begin with the pre-skip.) */
GST_START_TEST (test_opus_channel)
{
  TrickleTestServer *ts;
  Roundtrip r = { 0 };
  GPtrArray *want;
  GByteArray *a, *b;
  gsize off;

  if (!trickle_test_have ("opusenc") || !trickle_test_have ("opusdec")) {
    GST_WARNING ("opus plugins missing, skipping");
    return;
  }
  ts = big_window_server ();
  /* mono S16 at 48 kHz */
  frames_roundtrip (ts, "opus", AUDIO_SOURCE " ! audio/x-raw,rate=48000,"
      "channels=1 ! opusenc", "opusdec", &r);
  want = local_buffers (AUDIO_SOURCE " ! audio/x-raw,rate=48000,channels=1 "
      "! opusenc ! opusdec");
  assert_same_field (r.pub_caps, r.sub_caps, "streamheader");
  fail_unless (r.problem == NULL, "the subscriber: %s", r.problem);
  /* one segment, one decoded buffer per packet */
  fail_unless (r.segments > 0);
  fail_unless_equals_int (r.out->len, r.segments);
  fail_unless_equals_int (r.out->len, want->len);
  a = concat (r.out);
  b = concat (want);
  fail_unless_equals_int (b->len, 50 * 1024 * 2);
  off = memcmp (a->data, b->data, MIN (a->len, b->len)) == 0 ? 0 :
      opus_pre_skip (r.sub_caps) * 2;
  fail_unless (a->len >= off + b->len, "%u bytes decoded, %u locally",
      a->len, b->len);
  fail_unless (memcmp (a->data + off, b->data, b->len) == 0,
      "decoded audio differs");
  g_byte_array_unref (a);
  g_byte_array_unref (b);
  g_ptr_array_unref (want);
  roundtrip_clear (&r);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* issue 10: Vorbis (three header buffers, a setup header of kilobytes):
 * the same as Opus */
GST_START_TEST (test_vorbis_channel)
{
  TrickleTestServer *ts;
  Roundtrip r = { 0 };
  GPtrArray *want;
  GByteArray *a, *b;

  if (!trickle_test_have ("vorbisenc") || !trickle_test_have ("vorbisdec")) {
    GST_WARNING ("vorbis plugins missing, skipping");
    return;
  }
  ts = big_window_server ();
  frames_roundtrip (ts, "vorbis", AUDIO_SOURCE " ! vorbisenc", "vorbisdec", &r);
  want = local_buffers (AUDIO_SOURCE " ! vorbisenc ! vorbisdec");
  assert_same_field (r.pub_caps, r.sub_caps, "streamheader");
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (gst_caps_get_structure (r.sub_caps, 0), "streamheader")), 3);
  fail_unless (r.problem == NULL, "the subscriber: %s", r.problem);
  a = concat (r.out);
  b = concat (want);
  fail_unless (a->len > 0);
  fail_unless_equals_int (a->len, b->len);
  fail_unless (memcmp (a->data, b->data, a->len) == 0, "decoded audio "
      "differs");
  g_byte_array_unref (a);
  g_byte_array_unref (b);
  g_ptr_array_unref (want);
  roundtrip_clear (&r);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* issue 10: H.264 avc (SPS/PPS only in the caps' codec_data): the
 * subscriber's caps carry the publisher's codec_data and avdec_h264
 * decodes every frame */
GST_START_TEST (test_h264_avc_channel)
{
  TrickleTestServer *ts;
  Roundtrip r = { 0 };

  if (!have_h264 ())
    return;
  ts = big_window_server ();
  frames_roundtrip (ts, "avc", "videotestsrc num-buffers=30 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=10 ! h264parse ! "
      "video/x-h264,stream-format=avc,alignment=au", "avdec_h264", &r);
  assert_same_field (r.pub_caps, r.sub_caps, "codec_data");
  assert_caps_equal (r.pub_caps, r.sub_caps);
  fail_unless (r.problem == NULL, "the subscriber: %s", r.problem);
  fail_unless_equals_int (r.out->len, 30);
  fail_unless_equals_int (r.segments, 30);
  roundtrip_clear (&r);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* issue 10: raw audio as a channel: bytes and caps identical */
GST_START_TEST (test_raw_audio_channel)
{
  const gchar *source = AUDIO_SOURCE " ! audio/x-raw,format=S16LE,"
      "rate=48000,channels=2";
  TrickleTestServer *ts;
  Roundtrip r = { 0 };
  GPtrArray *want;
  GByteArray *a, *b;

  ts = big_window_server ();
  frames_roundtrip (ts, "pcm", source, "identity", &r);
  want = local_buffers (source);
  assert_caps_equal (r.pub_caps, r.sub_caps);
  fail_unless (r.problem == NULL, "the subscriber: %s", r.problem);
  fail_unless_equals_int (r.out->len, 50);
  a = concat (r.out);
  b = concat (want);
  fail_unless_equals_int (a->len, b->len);
  fail_unless (memcmp (a->data, b->data, a->len) == 0, "audio differs");
  g_byte_array_unref (a);
  g_byte_array_unref (b);
  g_ptr_array_unref (want);
  roundtrip_clear (&r);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Issue 10: tricklesrc's MPEG-TS for muxers and sinks that split */

/* frames the MPEG-TS/H.264 file @path decodes to on its own */
static guint
decoded_frames_of_file (const gchar * path)
{
  gchar *desc = g_strdup_printf ("filesrc location=%s ! tsdemux ! "
      "h264parse ! avdec_h264 ! fakesink name=sink", path);
  GstElement *p = trickle_test_start_pipeline (desc);
  GstElement *sink = trickle_test_get (p, "sink");
  GstMessage *msg = wait_end (p, 30);
  guint64 frames;

  fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "%s does not "
      "decode", path);
  gst_message_unref (msg);
  frames = stat_u64 (sink, "stats", "rendered");
  gst_object_unref (sink);
  trickle_test_stop_pipeline (p);
  g_free (desc);
  return frames;
}

/* a channel made before its publisher comes (the subscriber waits on it) */
static void
make_ts_channel (TrickleTestServer * ts, const gchar * ch)
{
  gchar *path = g_strdup_printf ("/%s", ch);
  TrickleTestConn *c = trickle_test_request (ts->port, "POST", path, NULL,
      0, "Expect-Content", "video/MP2T", NULL);

  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  g_free (path);
}

/* issue 10: `tricklesrc ! hlssink` wrote one file with
 * #EXTINF:18446743552. hlssink asks upstream for a keyframe every
 * target-duration and splits where a downstream force-key-unit comes;
 * tricklesrc answers at segment starts, with arrival timestamps
 * (do-timestamp=true): from 4 s
 * of 0.5 s segments, several files of sane durations, each starting with a
 * PAT and decoding, all 120 frames there */
GST_START_TEST (test_hlssink)
{
  TrickleTestServer *ts;
  GstElement *sub, *pub;
  GstMessage *msg;
  gchar *dir, *desc, *playlist = NULL, **lines;
  guint i, entries = 0, frames = 0;

  if (!have_h264 () || !trickle_test_have ("hlssink")) {
    GST_WARNING ("hlssink missing, skipping");
    return;
  }
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  make_ts_channel (ts, "hls");
  dir = g_dir_make_tmp ("tricklesrc-XXXXXX", NULL);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/hls "
      "start-seq=0 do-timestamp=true ! hlssink target-duration=1 max-files=0 "
      "playlist-length=0 location=%s/seg%%05d.ts "
      "playlist-location=%s/playlist.m3u8", ts->port, dir, dir);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  /* live: 0.5 s segments as they are made */
  desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=120 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=15 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/hls", ts->port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  msg = wait_end (pub, 30);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  trickle_test_stop_pipeline (pub);
  /* the channel was deleted: the subscriber ends, hlssink closes */
  msg = wait_end (sub, 30);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  trickle_test_stop_pipeline (sub);

  desc = g_build_filename (dir, "playlist.m3u8", NULL);
  fail_unless (g_file_get_contents (desc, &playlist, NULL, NULL));
  g_free (desc);
  GST_INFO ("playlist:\n%s", playlist);
  lines = g_strsplit (playlist, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gdouble d;
    gchar *file;
    guint f;

    if (!g_str_has_prefix (lines[i], "#EXTINF:"))
      continue;
    d = g_ascii_strtod (lines[i] + strlen ("#EXTINF:"), NULL);
    fail_unless (d > 0 && d < 10, "%s", lines[i]);
    fail_unless (lines[i + 1] != NULL);
    file = g_build_filename (dir, g_strstrip (lines[i + 1]), NULL);
    {
      gchar *contents = NULL;
      gsize size = 0;
      fail_unless (g_file_get_contents (file, &contents, &size, NULL),
          "%s", file);
      fail_unless (size > 188 && (guint8) contents[0] == 0x47
          && ((guint8) contents[1] & 0x5f) == 0x40 && contents[2] == 0,
          "%s does not begin with a PAT", file);
      g_free (contents);
    }
    f = decoded_frames_of_file (file);
    fail_unless (f > 0, "%s: no frame", file);
    frames += f;
    entries++;
    g_free (file);
  }
  fail_unless (entries >= 3, "%u entries:\n%s", entries, playlist);
  fail_unless_equals_int (frames, 120);
  g_strfreev (lines);
  g_free (playlist);
  trickle_test_remove_tmpdir (dir);
  g_free (dir);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* issue 10: with do-timestamp, tricklesrc's MPEG-TS buffers carry their
 * arrival running time (never backwards) and the first buffer of each trickle segment (a
 * keyframe with PAT/PMT) is the only one without DELTA_UNIT: the unmarked
 * buffers begin exactly where the segments do. (multifilesink
 * next-file=key-frame splits at most every 10 s of timestamps: no
 * per-segment check there.) */
GST_START_TEST (test_mpegts_marks)
{
  TrickleTestServer *ts;
  GstElement *sub, *sink;
  GByteArray *data = g_byte_array_new ();
  GArray *keys = g_array_new (FALSE, FALSE, sizeof (guint));
  GstClockTime last = GST_CLOCK_TIME_NONE;
  GstSample *sample;
  GString *want = g_string_new (NULL);
  GArray *starts = g_array_new (FALSE, FALSE, sizeof (guint));
  gchar *desc;
  gint64 seq, next;
  guint n_buffers = 0;

  if (!have_h264 ())
    return;
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  make_ts_channel (ts, "marks");
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/marks "
      "start-seq=0 do-timestamp=true ! appsink name=sink sync=false", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=60 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=15 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/marks delete-on-eos=false",
      ts->port);
  fail_unless (trickle_test_run_pipeline (desc) == NULL);
  g_free (desc);
  /* what was published */
  {
    TrickleTestConn *c = trickle_test_request (ts->port, "GET",
        "/marks/next", NULL, 0, NULL);
    next = g_ascii_strtoll (trickle_test_conn_body_str (c), NULL, 10);
    trickle_test_conn_free (c);
  }
  for (seq = 0; seq < next; seq++) {
    gchar *path = g_strdup_printf ("/marks/%" G_GINT64_FORMAT, seq);
    TrickleTestConn *c = trickle_test_request (ts->port, "GET", path, NULL,
        0, NULL);
    guint at = want->len;

    fail_unless_equals_int (c->status, 200);
    if (c->body->len > 0)
      g_array_append_val (starts, at);
    g_string_append_len (want, (const gchar *) c->body->data, c->body->len);
    trickle_test_conn_free (c);
    g_free (path);
  }
  fail_unless_equals_int (starts->len, 4);

  sink = trickle_test_get (sub, "sink");
  while (data->len < want->len && (sample =
          gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              20 * GST_SECOND))) {
    GstBuffer *b = gst_sample_get_buffer (sample);
    GstMapInfo map;

    fail_unless (GST_BUFFER_PTS_IS_VALID (b) && GST_BUFFER_DTS_IS_VALID (b),
        "buffer %u without a timestamp", n_buffers);
    fail_if (GST_CLOCK_TIME_IS_VALID (last) && GST_BUFFER_PTS (b) < last,
        "buffer %u goes back in time", n_buffers);
    last = GST_BUFFER_PTS (b);
    if (!GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DELTA_UNIT))
      g_array_append_val (keys, data->len);
    fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
    g_byte_array_append (data, map.data, map.size);
    gst_buffer_unmap (b, &map);
    n_buffers++;
    gst_sample_unref (sample);
  }
  gst_object_unref (sink);
  fail_unless_equals_int (data->len, want->len);
  fail_unless (memcmp (data->data, want->str, want->len) == 0);
  fail_unless (n_buffers > starts->len);
  fail_unless_equals_int (keys->len, starts->len);
  for (seq = 0; seq < starts->len; seq++)
    fail_unless_equals_int (g_array_index (keys, guint, seq),
        g_array_index (starts, guint, seq));
  trickle_test_stop_pipeline (sub);
  g_byte_array_unref (data);
  g_array_unref (keys);
  g_array_unref (starts);
  g_string_free (want, TRUE);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* A frame leaves the demuxer when its segment ends (issue 14): counted at
 * tsdemux's output and at the decoder's, one frame published at a time */

typedef struct
{
  GMutex lock;
  GCond cond;
  guint demuxed, decoded;
  gsize smallest;               /* of the demuxed frames */
} Released;

static GstPadProbeReturn
count_demuxed (GstPad * pad, GstPadProbeInfo * info, Released * r)
{
  g_mutex_lock (&r->lock);
  r->demuxed++;
  r->smallest = MIN (r->smallest,
      gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)));
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
count_decoded (GstPad * pad, GstPadProbeInfo * info, Released * r)
{
  g_mutex_lock (&r->lock);
  r->decoded++;
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
  return GST_PAD_PROBE_OK;
}

static void
released_demux_pad (GstElement * demux, GstPad * pad, Released * r)
{
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
      (GstPadProbeCallback) count_demuxed, r, NULL);
}

/* a subscriber of @channel from its segment 0: tricklesrc ! tsdemux !
 * (tsdemux's buffers are whole frames) h264parse ! avdec_h264, counted */
static GstElement *
released_subscriber (TrickleTestServer * ts, const gchar * channel,
    Released * r)
{
  gchar *desc = g_strdup_printf ("tricklesrc name=src start-seq=0 "
      "wait-timeout=-1 location=http://127.0.0.1:%u/%s ! tsdemux name=d ! "
      "capssetter caps=video/x-h264,alignment=au ! h264parse ! avdec_h264 ! "
      "fakesink name=out sync=false", ts->port, channel);
  GstElement *sub = gst_parse_launch (desc, NULL), *e;
  GstPad *pad;

  fail_unless (sub != NULL, "%s", desc);
  g_free (desc);
  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->demuxed = r->decoded = 0;
  r->smallest = G_MAXSIZE;
  e = trickle_test_get (sub, "d");
  g_signal_connect (e, "pad-added", G_CALLBACK (released_demux_pad), r);
  gst_object_unref (e);
  e = trickle_test_get (sub, "out");
  pad = gst_element_get_static_pad (e, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
      (GstPadProbeCallback) count_decoded, r, NULL);
  gst_object_unref (pad);
  gst_object_unref (e);
  fail_unless (gst_element_set_state (sub, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  return sub;
}

/* @n frames came out of the demuxer and of the decoder. What is asserted
 * is the order: nothing more is published before they do; the wait only
 * bounds the test (20 s for one small frame: a sanitized build on a
 * loaded 2-core machine is far quicker) */
static void
released_wait (Released * r, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&r->lock);
  while (r->demuxed < n || r->decoded < n)
    if (!g_cond_wait_until (&r->cond, &r->lock, deadline))
      break;
  fail_unless (r->demuxed >= n && r->decoded >= n, "frame %u held: %u "
      "demuxed, %u decoded before the next segment", n, r->demuxed, r->decoded);
  g_mutex_unlock (&r->lock);
}

static void
released_clear (Released * r)
{
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
}

#define RELEASE_FRAMES 8

/* tricklesink publishes an all-intra stream, 1 frame per segment, frame by
 * frame: from the second on (the first ends when the second comes: the
 * stream is not known to be all-intra before), each frame leaves the
 * subscriber's tsdemux and decoder before the next is published. @big:
 * frames over 64 KiB, whose PES mpegtsmux leaves without a length (as
 * ffmpeg does with all video): tsdemux would hold each until the next */
static void
check_frames_released (gboolean big)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  GstElement *gen, *pub, *sub, *sink, *src;
  GstSample *samples[RELEASE_FRAMES];
  Released r;
  gchar *desc;
  guint i;

  gen = trickle_test_start_pipeline (big ? "videotestsrc num-buffers=8 "
      "pattern=snow ! video/x-raw,format=I420,width=640,height=360,"
      "framerate=30/1 ! appsink name=s sync=false" : "videotestsrc "
      "num-buffers=8 pattern=ball ! video/x-raw,format=I420,width=640,"
      "height=360,framerate=30/1 ! appsink name=s sync=false");
  sink = trickle_test_get (gen, "s");
  for (i = 0; i < RELEASE_FRAMES; i++)
    fail_unless ((samples[i] = gst_app_sink_try_pull_sample (GST_APP_SINK
                (sink), 30 * GST_SECOND)) != NULL);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (gen);

  sub = released_subscriber (ts, "live", &r);
  desc = g_strdup_printf ("appsrc name=a is-live=true format=time ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=1 "
      "bitrate=%u ! mpegtsmux ! tricklesink location=http://127.0.0.1:%u/live",
      big ? 40000 : 1000, ts->port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);
  src = trickle_test_get (pub, "a");
  g_object_set (src, "caps", gst_sample_get_caps (samples[0]), NULL);
  for (i = 0; i < RELEASE_FRAMES; i++) {
    GstBuffer *b = gst_buffer_copy (gst_sample_get_buffer (samples[i]));
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    GST_BUFFER_DTS (b) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION (b) = GST_SECOND / 30;
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), b),
        GST_FLOW_OK);
    if (i >= 1)
      released_wait (&r, i + 1);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);
  /* the frames were what they should be: over 64 KiB, or not */
  if (big)
    fail_unless (r.smallest > 65535, "a %" G_GSIZE_FORMAT "-byte frame",
        r.smallest);
  else
    fail_unless (r.smallest < 65536);
  trickle_test_stop_pipeline (pub);
  trickle_test_stop_pipeline (sub);
  released_clear (&r);
  for (i = 0; i < RELEASE_FRAMES; i++)
    gst_sample_unref (samples[i]);
  trickle_test_server_free (ts);
}

GST_START_TEST (test_segment_end_releases_big_frames)
{
  if (have_h264 () && trickle_test_have ("capssetter"))
    check_frames_released (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_segment_end_releases_small_frames)
{
  if (have_h264 () && trickle_test_have ("capssetter"))
    check_frames_released (FALSE);
}

GST_END_TEST;

/* the same from ffmpeg's segment muxer (what go-livepeer and PyTrickle
 * publish with): standalone segments, continuity counters from 0 in each,
 * video PES without a length at any size. The test posts the segments,
 * one frame each, one at a time, without a Content-Type (as ffmpeg's own
 * HTTP output does): the first segment's bytes tell what it is */
GST_START_TEST (test_segment_end_ffmpeg)
{
  gchar *ffmpeg = g_find_program_in_path ("ffmpeg");
  gchar *dir, *pattern;
  TrickleTestServer *ts;
  GstElement *sub;
  Released r;
  GError *err = NULL;
  gint status = -1;
  guint i;

  if (!ffmpeg || !have_h264 () || !trickle_test_have ("capssetter")) {
    GST_WARNING ("ffmpeg missing, skipping");
    g_free (ffmpeg);
    return;
  }
  dir = g_dir_make_tmp ("trickle-ff-XXXXXX", NULL);
  pattern = g_build_filename (dir, "%d.ts", NULL);
  {
    const gchar *argv[] = { ffmpeg, "-nostdin", "-hide_banner", "-loglevel",
      "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
      "-frames:v", "8", "-c:v", "libx264", "-g", "1", "-tune", "zerolatency",
      "-pix_fmt", "yuv420p", "-f", "segment", "-segment_format", "mpegts",
      "-segment_time", "0.001", pattern, NULL
    };
    fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL,
            G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &err), "%s",
        err ? err->message : "");
    fail_unless (g_spawn_check_wait_status (status, NULL), "ffmpeg failed");
  }
  ts = trickle_test_server_new_started ();
  sub = released_subscriber (ts, "ff", &r);
  for (i = 0; i < RELEASE_FRAMES; i++) {
    gchar *name = g_strdup_printf ("%u.ts", i), *file, *path, *data;
    gsize len;
    TrickleTestConn *c;

    file = g_build_filename (dir, name, NULL);
    fail_unless (g_file_get_contents (file, &data, &len, NULL), "%s", file);
    path = g_strdup_printf ("/ff/%u", i);
    c = trickle_test_request (ts->port, "POST", path, data, len, NULL);
    fail_unless_equals_int (c->status, 200);
    trickle_test_conn_free (c);
    /* every frame, the first included: each segment was posted whole */
    released_wait (&r, i + 1);
    g_unlink (file);
    g_free (file);
    g_free (path);
    g_free (data);
    g_free (name);
  }
  trickle_test_stop_pipeline (sub);
  released_clear (&r);
  trickle_test_server_free (ts);
  g_rmdir (dir);
  g_free (pattern);
  g_free (dir);
  g_free (ffmpeg);
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
  tcase_add_test (tc, test_segment_end_releases_big_frames);
  tcase_add_test (tc, test_segment_end_releases_small_frames);
  tcase_add_test (tc, test_segment_end_ffmpeg);
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
  tcase_add_test (tc, test_extra_headers_invalid);
  tcase_add_test (tc, test_user_agent);
  tcase_add_test (tc, test_retries_forever_and_delay);
  tcase_add_test (tc, test_timeout);
  tcase_add_test (tc, test_preconnect_reissue);
  tcase_add_test (tc, test_messages_and_latency);
  tcase_add_test (tc, test_reference_publisher_restart);
  tcase_add_test (tc, test_untyped_channel_takes_publisher_type);
  tcase_add_test (tc, test_untyped_unknown_data);
  tcase_add_test (tc, test_location_without_channel);
  tcase_add_test (tc, test_tls_relative_ca_file);
  tcase_add_test (tc, test_tls_database);
  tcase_add_test (tc, test_tls_interaction);
  tcase_add_test (tc, test_deleted_while_behind);
  tcase_add_test (tc, test_publisher_died_mid_segment);
  tcase_add_test (tc, test_publisher_died_mid_segment_tls);
  tcase_add_test (tc, test_opus_channel);
  tcase_add_test (tc, test_vorbis_channel);
  tcase_add_test (tc, test_h264_avc_channel);
  tcase_add_test (tc, test_raw_audio_channel);
  tcase_add_test (tc, test_hlssink);
  tcase_add_test (tc, test_mpegts_marks);
  return s;
}

GST_CHECK_MAIN (tricklesrc);
