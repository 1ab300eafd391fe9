/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tricklesink in real pipelines (x264enc, mpegtsmux, tsdemux, avdec_h264
 * from the Debian plugin packages) against the real server on loopback.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <gst/trickle/trickle.h>
#include "trickletestutil.h"

/* frames decoded from an MPEG-TS/H.264 byte string */
static guint
count_decoded_frames (GBytes * ts)
{
  gchar *dir = g_dir_make_tmp ("tricklesink-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "seg.ts", NULL);
  gchar *desc;
  GstElement *pipeline, *sink;
  GstMessage *msg;
  GstBus *bus;
  guint64 frames = 0;

  fail_unless (g_file_set_contents (file, g_bytes_get_data (ts, NULL),
          g_bytes_get_size (ts), NULL));
  desc = g_strdup_printf ("filesrc location=%s ! tsdemux ! h264parse ! "
      "avdec_h264 ! fakesink name=sink", file);
  pipeline = gst_parse_launch (desc, NULL);
  fail_unless (pipeline != NULL);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  {
    GstStructure *stats = NULL;
    g_object_get (sink, "stats", &stats, NULL);
    gst_structure_get_uint64 (stats, "rendered", &frames);
    gst_structure_free (stats);
  }
  gst_object_unref (sink);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_unlink (file);
  g_rmdir (dir);
  g_free (desc);
  g_free (file);
  g_free (dir);
  return frames;
}

/* H.264 in MPEG-TS, one segment per GOP: every segment starts with a PAT
 * and decodes on its own; all frames are there */
GST_START_TEST (test_mpegts_segments)
{
  TrickleTestServer *ts;
  GstMessage *err;
  gchar *desc;
  guint total = 0;
  gint seq;

  if (!trickle_test_have ("x264enc") || !trickle_test_have ("mpegtsmux")
      || !trickle_test_have ("tsdemux") || !trickle_test_have ("avdec_h264")) {
    GST_WARNING ("encoder/muxer plugins missing, skipping");
    return;
  }
  ts = trickle_test_server_new_started ();
  desc = g_strdup_printf ("videotestsrc num-buffers=60 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=15 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/ts delete-on-eos=false",
      ts->port);
  err = trickle_test_run_pipeline (desc);
  fail_unless (err == NULL, "pipeline error");
  g_free (desc);

  for (seq = 0; seq < 4; seq++) {
    gchar *path = g_strdup_printf ("/ts/%d", seq);
    TrickleTestConn *c = trickle_test_request (ts->port, "GET", path, NULL,
        0, NULL);
    const guint8 *d;
    GBytes *seg;
    guint frames;

    fail_unless_equals_int (c->status, 200);
    fail_unless_equals_string (trickle_test_conn_get_header (c,
            "Content-Type"), "video/MP2T");
    fail_unless (c->body->len > 188);
    d = c->body->data;
    /* a TS packet on PID 0 (the PAT), payload unit start */
    fail_unless_equals_int (d[0], 0x47);
    fail_unless_equals_int (d[1] & 0x5f, 0x40);
    fail_unless_equals_int (d[2], 0x00);
    seg = g_bytes_new (c->body->data, c->body->len);
    frames = count_decoded_frames (seg);
    fail_unless_equals_int (frames, 15);
    total += frames;
    g_bytes_unref (seg);
    trickle_test_conn_free (c);
    g_free (path);
  }
  fail_unless_equals_int (total, 60);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* raw video: one frame per segment, a Content-Type that carries the caps */
GST_START_TEST (test_raw_frames)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstMessage *err;
  gchar *desc;
  gint seq;

  /* room for the 5 frames and the empty segment the abandoned preconnect
   * leaves at EOS */
  g_object_set (ts->store, "window", 10, NULL);
  trickle_test_server_start (ts, NULL);
  desc = g_strdup_printf ("videotestsrc num-buffers=5 ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=10/1 ! "
      "tricklesink location=http://127.0.0.1:%u/raw delete-on-eos=false",
      ts->port);
  err = trickle_test_run_pipeline (desc);
  fail_unless (err == NULL);
  g_free (desc);
  for (seq = 0; seq < 5; seq++) {
    gchar *path = g_strdup_printf ("/raw/%d", seq);
    TrickleTestConn *c = trickle_test_request (ts->port, "GET", path, NULL,
        0, NULL);
    const gchar *ct;

    fail_unless_equals_int (c->status, 200);
    fail_unless_equals_int (c->body->len, 64 * 48 * 3 / 2);
    ct = trickle_test_conn_get_header (c, "Content-Type");
    fail_unless (g_str_has_prefix (ct, "video/x-raw;"), "%s", ct);
    fail_unless (strstr (ct, ";format=I420") && strstr (ct, ";width=64")
        && strstr (ct, ";height=48") && strstr (ct, ";framerate=10/1"),
        "%s", ct);
    trickle_test_conn_free (c);
    g_free (path);
  }
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* an unknown channel on a server without auto-create: RESOURCE/NOT_FOUND;
 * with delete-on-eos the channel is gone after EOS */
GST_START_TEST (test_errors_and_delete)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c;
  GstMessage *msg;
  gchar *desc;

  g_object_set (ts->store, "auto-create", FALSE, NULL);
  trickle_test_server_start (ts, NULL);
  desc = g_strdup_printf ("videotestsrc num-buffers=50 ! "
      "video/x-raw,width=32,height=32 ! "
      "tricklesink location=http://127.0.0.1:%u/missing", ts->port);
  msg = trickle_test_run_pipeline (desc);
  fail_unless (msg != NULL, "no error for an unknown channel");
  gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND);
  gst_message_unref (msg);
  g_free (desc);

  /* create-channel makes it (on a server that lets clients create
   * channels), delete-on-eos (the default) removes it at EOS */
  trickle_test_server_free (ts);
  ts = trickle_test_server_new_started ();
  desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,width=32,height=32 ! "
      "tricklesink location=http://127.0.0.1:%u/made create-channel=true",
      ts->port);
  fail_unless (trickle_test_run_pipeline (desc) == NULL);
  g_free (desc);
  c = trickle_test_request (ts->port, "GET", "/made/next", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 404);
  trickle_test_conn_free (c);

  /* no location: a settings error */
  msg = trickle_test_run_pipeline ("fakesrc num-buffers=1 ! tricklesink");
  fail_unless (msg != NULL);
  gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_SETTINGS);
  gst_message_unref (msg);
  trickle_test_server_free (ts);
}

GST_END_TEST;


/* PLAYING -> NULL while the server never answers returns promptly */
GST_START_TEST (test_state_change_never_waits)
{
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  GstElement *pipeline;
  gchar *desc;
  gint64 start;
  guint port;
  gint i;

  /* a server that accepts connections (the kernel does) but never answers */
  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  fail_unless (g_socket_listen (sock, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,width=32,height=32 ! tricklesink location="
      "http://127.0.0.1:%u/stuck", port);
  for (i = 0; i < 3; i++) {
    pipeline = gst_parse_launch (desc, NULL);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    g_usleep (300 * 1000);
    start = g_get_monotonic_time ();
    fail_unless_equals_int (gst_element_set_state (pipeline,
            GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC,
        "PLAYING -> NULL took %" G_GINT64_FORMAT " us",
        g_get_monotonic_time () - start);
    gst_object_unref (pipeline);
  }
  g_free (desc);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (sock);
}

GST_END_TEST;

/* segments published to @ch with data (the preconnect abandoned at EOS
 * may leave an empty one) */
static gint64
published_segments (TrickleTestServer * ts, const gchar * ch)
{
  gchar *path = g_strdup_printf ("/%s/next", ch);
  TrickleTestConn *c = trickle_test_request (ts->port, "GET", path, NULL, 0,
      NULL);
  gint64 next, seq, n = 0;

  fail_unless_equals_int (c->status, 200);
  next = g_ascii_strtoll (trickle_test_conn_body_str (c), NULL, 10);
  trickle_test_conn_free (c);
  g_free (path);
  for (seq = 0; seq < next; seq++) {
    path = g_strdup_printf ("/%s/%" G_GINT64_FORMAT, ch, seq);
    c = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
    fail_unless_equals_int (c->status, 200);
    n += c->body->len > 0;
    trickle_test_conn_free (c);
    g_free (path);
  }
  return n;
}

/* keyframe-interval makes the encoder cut where the sink wants (the GOP
 * alone would give one segment); min-duration merges short GOPs */
GST_START_TEST (test_segment_length_properties)
{
  TrickleTestServer *ts;
  gchar *desc;
  gint64 n;

  if (!trickle_test_have ("x264enc") || !trickle_test_have ("mpegtsmux")) {
    GST_WARNING ("encoder/muxer plugins missing, skipping");
    return;
  }
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 32, NULL);
  trickle_test_server_start (ts, NULL);

  /* 2 s at 30 fps, no keyframe but the first from the encoder's own GOP;
   * one asked every 200 ms: about 10 segments */
  desc = g_strdup_printf ("videotestsrc num-buffers=60 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=1000 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/kfi delete-on-eos=false "
      "keyframe-interval=200000000", ts->port);
  fail_unless (trickle_test_run_pipeline (desc) == NULL);
  g_free (desc);
  n = published_segments (ts, "kfi");
  fail_unless (n >= 8 && n <= 12, "%" G_GINT64_FORMAT " segments", n);

  /* a keyframe every 5 frames (167 ms), segments of at least 400 ms: a
   * new one every 3rd keyframe, 4 in 2 s */
  desc = g_strdup_printf ("videotestsrc num-buffers=60 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=5 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/mind delete-on-eos=false "
      "min-duration=400000000", ts->port);
  fail_unless (trickle_test_run_pipeline (desc) == NULL);
  g_free (desc);
  n = published_segments (ts, "mind");
  fail_unless_equals_int (n, 4);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* 50 start/stop cycles while publishing: no fd left behind (the leaks
 * tracer checks objects) */
GST_START_TEST (test_start_stop_cycles)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  gint fds = -1, i;

  for (i = 0; i < 50; i++) {
    gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
        "video/x-raw,width=32,height=32,framerate=100/1 ! "
        "tricklesink location=http://127.0.0.1:%u/cyc", ts->port);
    GstElement *p = gst_parse_launch (desc, NULL);

    fail_unless (p != NULL);
    gst_element_set_state (p, GST_STATE_PLAYING);
    g_usleep ((i % 3) * 20 * 1000);
    fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (p);
    g_free (desc);
    if (i == 4)
      fds = trickle_test_count_fds ();
  }
  trickle_test_assert_fds_at_most (fds);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a location without a channel name (http://host:port/ or without the
 * slash) is a RESOURCE/SETTINGS error at start, and nothing reaches the
 * server (it would have published to /0, /1... and ended "fine") */
GST_START_TEST (test_location_without_channel)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  const gchar *forms[] = { "http://127.0.0.1:%u/", "http://127.0.0.1:%u",
    "trickle://127.0.0.1:%u/"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (forms); i++) {
    gchar *location = g_strdup_printf (forms[i], ts->port);
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
        "video/x-raw,width=16,height=16 ! tricklesink location=%s",
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
  {
    TrickleTestConn *c = trickle_test_request (ts->port, "GET", "/0/next",
        NULL, 0, NULL);
    fail_unless_equals_int (c->status, 404);
    trickle_test_conn_free (c);
  }
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* A sink started before its server: the start waits (retries, backing
 * off) instead of failing at once, and every frame arrives once the server
 * is up on the port reserved for it */
GST_START_TEST (test_starts_before_server)
{
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  TrickleTestServer *ts;
  GstElement *p, *snk;
  GstBus *bus;
  GstMessage *msg;
  gchar *desc;
  guint port;
  gint seq;
  guint64 retries = 0;

  /* a port nobody listens on: connections to it are refused */
  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (sock);

  desc = g_strdup_printf ("videotestsrc num-buffers=8 ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=10/1 ! "
      "tricklesink name=snk location=http://127.0.0.1:%u/early "
      "delete-on-eos=false", port);
  p = trickle_test_start_pipeline (desc);
  g_free (desc);
  snk = trickle_test_get (p, "snk");
  bus = gst_element_get_bus (p);
  /* the sink tries, is refused and waits: retries counted, no error */
  while (retries == 0) {
    GstStructure *st = NULL;
    msg = gst_bus_timed_pop_filtered (bus, 20 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg == NULL, "the sink gave up before the server started");
    g_object_get (snk, "stats", &st, NULL);
    gst_structure_get_uint64 (st, "retries", &retries);
    gst_structure_free (st);
  }

  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, "port", port, NULL);
  /* generous: the retries back off up to 4 s on a loaded machine */
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL, "neither EOS nor an error");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_object_unref (snk);
  trickle_test_stop_pipeline (p);

  for (seq = 0; seq < 8; seq++) {
    gchar *path = g_strdup_printf ("/early/%d", seq);
    TrickleTestConn *c = trickle_test_request (ts->port, "GET", path, NULL,
        0, NULL);

    fail_unless_equals_int (c->status, 200);
    fail_unless_equals_int (c->body->len, 64 * 48 * 3 / 2);
    trickle_test_conn_free (c);
    g_free (path);
  }
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  trickle_test_server_free (ts);
}

GST_END_TEST;

static Suite *
tricklesink_suite (void)
{
  Suite *s = suite_create ("tricklesink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_mpegts_segments);
  tcase_add_test (tc, test_raw_frames);
  tcase_add_test (tc, test_errors_and_delete);
  tcase_add_test (tc, test_state_change_never_waits);
  tcase_add_test (tc, test_segment_length_properties);
  tcase_add_test (tc, test_start_stop_cycles);
  tcase_add_test (tc, test_location_without_channel);
  tcase_add_test (tc, test_starts_before_server);
  return s;
}

GST_CHECK_MAIN (tricklesink);
