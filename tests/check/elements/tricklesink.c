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
#include <gst/check/gstharness.h>
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
  /* (the DELETE may still be on its way when the EOS message is posted:
   * seen once in ~20 CI runs) */
  {
    gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    guint status;
    do {
      c = trickle_test_request (ts->port, "GET", "/made/next", NULL, 0, NULL);
      status = c->status;
      trickle_test_conn_free (c);
      if (status != 404)
        g_usleep (20 * 1000);
    } while (status != 404 && g_get_monotonic_time () < deadline);
    fail_unless_equals_int (status, 404);
  }

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

/* holds the publisher's /next (the first "subscribe" the server is asked
 * to authorize) until released */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean held, released;
} Gate;

static guint
gate_next (GstTrickleHttpServer * server, const gchar * method,
    const gchar * action, const gchar * channel, SoupMessageHeaders * headers,
    const gchar * client, Gate * g)
{
  g_mutex_lock (&g->lock);
  if (g_str_equal (action, "subscribe") && !g->released) {
    g->held = TRUE;
    g_cond_broadcast (&g->cond);
    while (!g->released)
      g_cond_wait (&g->cond, &g->lock);
  }
  g_mutex_unlock (&g->lock);
  return 0;
}

static GstBuffer *
text_buffer (const gchar * text)
{
  return gst_buffer_new_memdup (text, strlen (text));
}

/* A flush while the start waits for the server: what came before it is
 * not published, and what comes after is published alone (before: the
 * start's thread wrote the old frames once it ran, the first into the
 * new stream's segments) */
GST_START_TEST (test_flush_during_start)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  Gate g = { 0 };
  GstElement *sink;
  GstHarness *h;
  GstSegment seg;
  gchar *url;
  guint i;

  trickle_test_server_start (ts, NULL);
  g_signal_connect (ts->server, "authorize", G_CALLBACK (gate_next), &g);
  url = trickle_test_server_url (ts, FALSE, "/ch");
  sink = gst_element_factory_make ("tricklesink", NULL);
  g_object_set (sink, "location", url, "delete-on-eos", FALSE, "sync", FALSE,
      "async", FALSE, NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_harness_set_src_caps_str (h, "image/jpeg");
  g_mutex_lock (&g.lock);
  while (!g.held)
    g_cond_wait (&g.cond, &g.lock);
  g_mutex_unlock (&g.lock);
  for (i = 1; i <= 3; i++) {
    gchar *t = g_strdup_printf ("A%u", i);
    fail_unless_equals_int (gst_harness_push (h, text_buffer (t)), GST_FLOW_OK);
    g_free (t);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  for (i = 1; i <= 3; i++) {
    gchar *t = g_strdup_printf ("B%u", i);
    fail_unless_equals_int (gst_harness_push (h, text_buffer (t)), GST_FLOW_OK);
    g_free (t);
  }
  g_mutex_lock (&g.lock);
  g.released = TRUE;
  g_cond_broadcast (&g.cond);
  g_mutex_unlock (&g.lock);
  /* a file's EOS (not live): waits for the start, writes what waited */
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < 3; i++) {
    gchar *path = g_strdup_printf ("/ch/%u", i), *want;
    TrickleTestConn *c = trickle_test_request (ts->port, "GET", path, NULL,
        0, NULL);

    want = g_strdup_printf ("B%u", i + 1);
    fail_unless_equals_int (c->status, 200);
    fail_unless_equals_string (trickle_test_conn_body_str (c), want);
    trickle_test_conn_free (c);
    g_free (want);
    g_free (path);
  }
  gst_harness_teardown (h);
  gst_object_unref (sink);
  g_free (url);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a server that answers /next and then reads nothing of the POSTs */
typedef struct
{
  GSocket *listener;
  GCancellable *stop;
  GThread *thread;
  GPtrArray *held;              /* the POSTs' connections */
  gint posts;
} Deaf;

static gpointer
deaf_thread (gpointer data)
{
  Deaf *d = data;
  GSocket *c;

  while ((c = g_socket_accept (d->listener, d->stop, NULL))) {
    gchar buf[4096];
    gssize n = g_socket_receive (c, buf, sizeof (buf) - 1, d->stop, NULL);

    if (n > 0 && g_str_has_prefix (buf, "GET ")) {
      const gchar *a = "HTTP/1.1 200 OK\r\nLp-Trickle-Latest: 0\r\n"
          "Content-Length: 1\r\nConnection: close\r\n\r\n0";
      g_socket_send (c, a, strlen (a), NULL, NULL);
      g_object_unref (c);
    } else {
      g_atomic_int_inc (&d->posts);
      g_ptr_array_add (d->held, c);     /* never read again */
    }
  }
  return NULL;
}

/* A state change to NULL while tricklesink writes a big frame into a POST
 * the server stopped reading: the chunk begun is given up at once (a pause
 * would let it end). With timeout=0 it waited for ever before. */
GST_START_TEST (test_stop_while_server_stops_reading)
{
  Deaf d = { 0 };
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  GstElement *p;
  gchar *desc;
  guint i;

  d.listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  d.stop = g_cancellable_new ();
  d.held = g_ptr_array_new_with_free_func (g_object_unref);
  fail_unless (g_socket_bind (d.listener, addr, FALSE, NULL));
  fail_unless (g_socket_listen (d.listener, NULL));
  bound = g_socket_get_local_address (d.listener, NULL);
  d.thread = g_thread_new ("deaf", deaf_thread, &d);
  /* 8 MB frames: one is more than the socket buffers take */
  desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=GRAY8,width=3840,height=2160,framerate=5/1 ! "
      "tricklesink location=http://127.0.0.1:%u/ch timeout=0",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  p = gst_parse_launch (desc, NULL);
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  /* the first segment's POST, then time for its frame to fill the
   * buffers (a stop before that is tested above) */
  for (i = 0; i < 6000 && g_atomic_int_get (&d.posts) == 0; i++)
    g_usleep (10000);
  fail_unless (g_atomic_int_get (&d.posts) > 0);
  g_usleep (G_USEC_PER_SEC);
  /* bounded by the test's timeout: it hung for ever before */
  fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (p);
  g_cancellable_cancel (d.stop);
  g_thread_join (d.thread);
  g_ptr_array_unref (d.held);
  g_object_unref (d.stop);
  g_object_unref (d.listener);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_free (desc);
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

/* ------------------------------------------------------------------------ */
/* Issue 10: MPEG-TS cut for every shape a user can produce */

/* Runs @desc to EOS (60 s at most: a few seconds of media, generous for a
 * loaded machine; an error fails the test). Returns how many STREAM/FORMAT
 * warnings were posted (the no-keyframe warning). */
static guint
run_counting_format_warnings (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;
  guint n = 0;
  gboolean done = FALSE;

  fail_unless (p != NULL, "%s: %s", desc, err ? err->message : "");
  bus = gst_element_get_bus (p);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  while (!done) {
    gchar *dbg = NULL;

    msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
    fail_unless (msg != NULL, "%s: neither EOS nor an error in 60 s", desc);
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, &dbg);
        GST_INFO ("warning from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
            err->message, dbg);
        if (g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT))
          n++;
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, &dbg);
        fail ("%s: error from %s: %s (%s)", desc, GST_MESSAGE_SRC_NAME (msg),
            err->message, dbg);
        break;
      default:
        done = TRUE;
        break;
    }
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
  }
  fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (p);
  return n;
}


/* buffers out of "tsdemux ! @decode" fed with the MPEG-TS @ts alone: the
 * frames it decodes to on its own (an error fails the test) */
static guint
count_decoded (GBytes * ts, const gchar * decode)
{
  gchar *dir = g_dir_make_tmp ("tricklesink-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "seg.ts", NULL);
  gchar *desc;
  GstElement *pipeline, *sink;
  GstMessage *msg;
  GstBus *bus;
  GstStructure *stats = NULL;
  guint64 frames = 0;

  fail_unless (g_file_set_contents (file, g_bytes_get_data (ts, NULL),
          g_bytes_get_size (ts), NULL));
  desc = g_strdup_printf ("filesrc location=%s ! tsdemux ! %s ! "
      "fakesink name=sink", file, decode);
  pipeline = gst_parse_launch (desc, NULL);
  fail_unless (pipeline != NULL);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "decoding a segment: neither EOS nor an error");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    fail ("a segment (%" G_GSIZE_FORMAT " bytes) does not decode: %s",
        g_bytes_get_size (ts), err->message);
  }
  gst_message_unref (msg);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_get (sink, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "rendered", &frames);
  gst_structure_free (stats);
  gst_object_unref (sink);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  trickle_test_remove_tmpdir (dir);
  g_free (desc);
  g_free (file);
  g_free (dir);
  return frames;
}

#define H264_DECODE "h264parse ! avdec_h264"

/* channel @ch of H.264 in MPEG-TS: @n segments beginning with a PAT, each
 * decoding on its own to @frames frames */
static void
check_h264_segments (guint port, const gchar * ch, guint n, guint frames)
{
  GPtrArray *segs = trickle_test_get_ts_segments (port, ch);
  guint i, total = 0;

  fail_unless_equals_int (segs->len, n);
  for (i = 0; i < segs->len; i++) {
    guint got = count_decoded (g_ptr_array_index (segs, i), H264_DECODE);
    fail_unless_equals_int (got, frames);
    total += got;
  }
  fail_unless_equals_int (total, n * frames);
  g_ptr_array_unref (segs);
}

static gboolean
have_ts_h264 (void)
{
  if (trickle_test_have ("x264enc") && trickle_test_have ("h264parse")
      && trickle_test_have ("mpegtsmux") && trickle_test_have ("tsdemux")
      && trickle_test_have ("tsparse") && trickle_test_have ("avdec_h264"))
    return TRUE;
  GST_WARNING ("encoder/muxer plugins missing, skipping");
  return FALSE;
}

/* a server whose channels keep more segments than a test publishes */
static TrickleTestServer *
roomy_server (void)
{
  TrickleTestServer *ts = trickle_test_server_new ();

  g_object_set (ts->store, "window", 64, NULL);
  trickle_test_server_start (ts, NULL);
  return ts;
}

/* 2 s of 160x120 H.264 at 30 fps, a keyframe every 15 frames, SPS/PPS
 * inserted by h264parse (mpegtsmux then flags keyframes HEADER) */
#define GOP15_SOURCE "videotestsrc num-buffers=60 ! " \
  "video/x-raw,width=160,height=120,framerate=30/1 ! " \
  "x264enc tune=zerolatency key-int-max=15 ! h264parse"

/* issue 10: `h264parse ! mpegtsmux ! tricklesink` published nothing
 * (mpegtsmux flags keyframe buffers HEADER); now one segment per GOP, each
 * decoding on its own, no warning; keyframes-per-segment and min-duration
 * still set the length */
GST_START_TEST (test_mpegts_h264parse)
{
  TrickleTestServer *ts;
  gchar *desc;

  if (!have_ts_h264 ())
    return;
  ts = roomy_server ();
  desc = g_strdup_printf (GOP15_SOURCE " ! mpegtsmux ! tricklesink "
      "location=http://127.0.0.1:%u/parse delete-on-eos=false sync=false",
      ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  g_free (desc);
  check_h264_segments (ts->port, "parse", 4, 15);

  /* two GOPs a segment */
  desc = g_strdup_printf (GOP15_SOURCE " ! mpegtsmux ! tricklesink "
      "location=http://127.0.0.1:%u/kps delete-on-eos=false sync=false "
      "keyframes-per-segment=2", ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  g_free (desc);
  check_h264_segments (ts->port, "kps", 2, 30);

  /* a keyframe every 5 frames (167 ms), segments of at least 400 ms: a
   * new one every 3rd keyframe */
  desc = g_strdup_printf ("videotestsrc num-buffers=60 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=5 ! h264parse ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/mind delete-on-eos=false "
      "sync=false min-duration=400000000", ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  g_free (desc);
  check_h264_segments (ts->port, "mind", 4, 15);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* issue 10: the same with openh264enc (it fails below about 320x240 in
 * Debian 12) */
GST_START_TEST (test_mpegts_openh264)
{
  TrickleTestServer *ts;
  gchar *desc;

  if (!have_ts_h264 () || !trickle_test_have ("openh264enc")) {
    GST_WARNING ("openh264enc missing, skipping");
    return;
  }
  ts = roomy_server ();
  desc = g_strdup_printf ("videotestsrc num-buffers=60 ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! "
      "openh264enc gop-size=15 ! h264parse ! mpegtsmux ! tricklesink "
      "location=http://127.0.0.1:%u/oh delete-on-eos=false sync=false",
      ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  g_free (desc);
  check_h264_segments (ts->port, "oh", 4, 15);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* runs "@source ! filesink location=<dir>/<name>"; returns the file */
static gchar *
make_file (const gchar * dir, const gchar * name, const gchar * source)
{
  gchar *file = g_build_filename (dir, name, NULL);
  gchar *desc = g_strdup_printf ("%s ! filesink location=%s", source, file);

  fail_unless (trickle_test_run_pipeline (desc) == NULL, "%s failed", desc);
  g_free (desc);
  return file;
}

/* the shapes of test_mpegts_file_shapes */
static const gchar *file_shapes[] = {
  "filesrc location=%s ! tsparse",
  "filesrc location=%s ! tsparse alignment=7",
  "filesrc location=%s blocksize=1000",
  "filesrc location=%s ! tsdemux ! h264parse ! mpegtsmux",
};

/* issue 10: a file made by mpegtsmux, published as it is by tsparse
 * (buffers of 100 packets, no flags), by tsparse alignment=7, by filesrc
 * alone (no caps: typefound; buffers not packet aligned), and remuxed by
 * tsdemux ! h264parse ! mpegtsmux (one shape per loop index): one segment
 * per GOP, each decoding on its own, no warning (before: one segment per
 * buffer, or none) */
GST_START_TEST (test_mpegts_file_shapes)
{
  TrickleTestServer *ts;
  gchar *dir, *file, *src, *desc;

  if (!have_ts_h264 ())
    return;
  ts = roomy_server ();
  dir = g_dir_make_tmp ("tricklesink-XXXXXX", NULL);
  file = make_file (dir, "gop15.ts", GOP15_SOURCE " ! mpegtsmux");
  src = g_strdup_printf (file_shapes[__i__], file);
  desc = g_strdup_printf ("%s ! tricklesink location=http://127.0.0.1:%u/"
      "shape delete-on-eos=false sync=false", src, ts->port);
  GST_INFO ("shape: %s", src);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  check_h264_segments (ts->port, "shape", 4, 15);
  g_free (desc);
  g_free (src);
  trickle_test_remove_tmpdir (dir);
  g_free (file);
  g_free (dir);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* issue 10: MPEG-TS made by ffmpeg (SDT first, random access indicators,
 * B-frames), through tsparse: one segment per GOP, each decoding */
GST_START_TEST (test_mpegts_ffmpeg_file)
{
  gchar *ffmpeg = g_find_program_in_path ("ffmpeg");
  TrickleTestServer *ts;
  GError *err = NULL;
  gchar *dir, *file, *desc;
  gint status = -1;

  if (!ffmpeg || !have_ts_h264 ()) {
    GST_WARNING ("ffmpeg missing (Debian package ffmpeg), skipping");
    g_free (ffmpeg);
    return;
  }
  ts = roomy_server ();
  dir = g_dir_make_tmp ("tricklesink-XXXXXX", NULL);
  file = g_build_filename (dir, "ff.ts", NULL);
  {
    const gchar *argv[] = { ffmpeg, "-nostdin", "-hide_banner", "-loglevel",
      "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30", "-t",
      "2", "-c:v", "libx264", "-g", "15", "-sc_threshold", "0",
      "-pix_fmt", "yuv420p", "-f", "mpegts", file, NULL
    };
    fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL,
            G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &err), "%s",
        err ? err->message : "");
    fail_unless (g_spawn_check_wait_status (status, NULL), "ffmpeg failed");
  }
  desc = g_strdup_printf ("filesrc location=%s ! tsparse ! tricklesink "
      "location=http://127.0.0.1:%u/ff delete-on-eos=false sync=false",
      file, ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  g_free (desc);
  check_h264_segments (ts->port, "ff", 4, 15);
  trickle_test_remove_tmpdir (dir);
  g_free (file);
  g_free (dir);
  g_free (ffmpeg);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* AAC frames the whole of @source decodes to */
static guint
count_reference_frames (const gchar * source)
{
  gchar *desc = g_strdup_printf ("%s ! avdec_aac ! fakesink name=sink",
      source);
  GstElement *p = trickle_test_start_pipeline (desc);
  GstElement *sink = trickle_test_get (p, "sink");
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  GstStructure *stats = NULL;
  guint64 frames = 0;

  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_object_get (sink, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "rendered", &frames);
  gst_structure_free (stats);
  gst_object_unref (sink);
  gst_object_unref (bus);
  trickle_test_stop_pipeline (p);
  g_free (desc);
  return frames;
}

/* 2.9 s of AAC (44.1 kHz, 1024 samples a frame) */
#define AAC_SOURCE "audiotestsrc num-buffers=125 ! avenc_aac ! aacparse"

/* issue 10: audio-only MPEG-TS made 0 segments, silently; now cut at a PES
 * start every min-duration (1 s when 0): 3 segments of about 1 s, each
 * decoding on its own, all frames there, no warning; 500 ms: twice as
 * many */
GST_START_TEST (test_mpegts_audio_only)
{
  TrickleTestServer *ts;
  GPtrArray *segs;
  gchar *desc;
  guint i, total = 0, want;

  if (!have_ts_h264 () || !trickle_test_have ("avenc_aac")
      || !trickle_test_have ("avdec_aac") || !trickle_test_have ("aacparse")) {
    GST_WARNING ("AAC plugins missing, skipping");
    return;
  }
  want = count_reference_frames (AAC_SOURCE);
  fail_unless (want >= 125, "%u AAC frames", want);
  ts = roomy_server ();
  desc = g_strdup_printf (AAC_SOURCE " ! mpegtsmux ! tricklesink "
      "location=http://127.0.0.1:%u/aac delete-on-eos=false sync=false",
      ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  g_free (desc);
  segs = trickle_test_get_ts_segments (ts->port, "aac");
  fail_unless_equals_int (segs->len, 3);
  for (i = 0; i < segs->len; i++) {
    guint frames = count_decoded (g_ptr_array_index (segs, i),
        "aacparse ! avdec_aac");
    /* about 1 s each (23.2 ms frames), the last what is left */
    if (i < segs->len - 1)
      fail_unless (frames >= 43 && frames <= 45, "segment %u: %u frames",
          i, frames);
    else
      fail_unless (frames > 0);
    total += frames;
  }
  fail_unless_equals_int (total, want);
  g_ptr_array_unref (segs);

  desc = g_strdup_printf (AAC_SOURCE " ! mpegtsmux ! tricklesink "
      "location=http://127.0.0.1:%u/aac2 delete-on-eos=false sync=false "
      "min-duration=500000000", ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  g_free (desc);
  segs = trickle_test_get_ts_segments (ts->port, "aac2");
  fail_unless (segs->len >= 5 && segs->len <= 7, "%u segments", segs->len);
  total = 0;
  for (i = 0; i < segs->len; i++) {
    guint frames = count_decoded (g_ptr_array_index (segs, i),
        "aacparse ! avdec_aac");
    if (i < segs->len - 1)
      fail_unless (frames >= 21 && frames <= 23, "segment %u: %u frames",
          i, frames);
    total += frames;
  }
  fail_unless_equals_int (total, want);
  g_ptr_array_unref (segs);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* packet index of the first PAT at or after packet @from, or -1 */
static gssize
find_pat (const guint8 * d, gsize size, gsize from)
{
  gsize i;

  for (i = from; (i + 1) * 188 <= size; i++) {
    const guint8 *p = d + i * 188;
    if (p[0] == 0x47 && (p[1] & 0x5f) == 0x40 && p[2] == 0)
      return i;
  }
  return -1;
}

/* TRUE if @d holds an H.264 IDR or SPS NAL unit start */
static gboolean
has_h264_keyframe (const guint8 * d, gsize size)
{
  gsize i;

  for (i = 0; i + 3 < size; i++)
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1
        && ((d[i + 3] & 0x1f) == 5 || (d[i + 3] & 0x1f) == 7))
      return TRUE;
  return FALSE;
}

/* issue 10: MPEG-TS video in which no keyframe can be found (a recording
 * joined after its only keyframe: 7 s at 100 fps, the first quarter cut
 * off at a PAT, or, loop index 1, 50 packets after it, in the middle of
 * the stream): the sink warns (STREAM/FORMAT), once, and publishes
 * segments cut by duration, each beginning with PAT/PMT (before: one
 * segment per tsparse buffer, no warning) */
GST_START_TEST (test_mpegts_no_keyframe)
{
  TrickleTestServer *ts;
  GPtrArray *segs;
  gchar *dir, *full, *file, *contents = NULL, *desc;
  gsize size = 0;
  gssize pat;

  if (!have_ts_h264 ())
    return;
  dir = g_dir_make_tmp ("tricklesink-XXXXXX", NULL);
  full = make_file (dir, "full.ts", "videotestsrc num-buffers=700 ! "
      "video/x-raw,width=160,height=120,framerate=100/1 ! "
      "x264enc tune=zerolatency key-int-max=100000 ! h264parse ! mpegtsmux");
  fail_unless (g_file_get_contents (full, &contents, &size, NULL));
  pat = find_pat ((const guint8 *) contents, size, size / 188 / 4);
  fail_unless (pat > 0);
  pat += __i__ * 50;
  /* the test's premise: nothing left to find */
  fail_if (has_h264_keyframe ((const guint8 *) contents + pat * 188,
          size - pat * 188), "x264enc made a second keyframe");
  file = g_build_filename (dir, "nokey.ts", NULL);
  fail_unless (g_file_set_contents (file, contents + pat * 188,
          size - pat * 188, NULL));
  g_free (contents);

  ts = roomy_server ();
  desc = g_strdup_printf ("filesrc location=%s ! tsparse ! tricklesink "
      "location=http://127.0.0.1:%u/nokey delete-on-eos=false sync=false",
      file, ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 1);
  g_free (desc);
  /* 5.25 s left, cut by 1 s from 3 s (300 PES) on */
  segs = trickle_test_get_ts_segments (ts->port, "nokey");
  fail_unless (segs->len >= 2 && segs->len <= 4, "%u segments", segs->len);
  g_ptr_array_unref (segs);
  trickle_test_server_free (ts);
  trickle_test_remove_tmpdir (dir);
  g_free (full);
  g_free (file);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Issue 10: pacing */

/* issue 10: the run: a source that is not live (num-buffers
 * without is-live), H.264 in MPEG-TS published with the defaults, and a
 * subscriber that plays in real time (fakesink sync=true) from seq 0. The
 * publisher goes out in real time, so the subscriber, keeping pace, loses
 * nothing: no 470 (jump) and every frame but what the demuxer may hold.
 * (At 20 Mbit/s the 5 s exceed what the server's window and the
 * subscriber's read queue hold: published as fast as it encodes, without
 * pacing, segments left the window before the subscriber asked for them.) */
GST_START_TEST (test_pacing_subscriber_keeps_pace)
{
  TrickleTestServer *ts;
  GstElement *sub, *src, *sink;
  GstBus *bus;
  GstMessage *msg;
  GstStructure *stats = NULL;
  guint64 rendered = 0, jumps = 0;
  gchar *desc, *problem = NULL;

  if (!have_ts_h264 ())
    return;
  ts = trickle_test_server_new_started ();      /* window 5 */
  {
    TrickleTestConn *c = trickle_test_request (ts->port, "POST", "/pace",
        NULL, 0, "Expect-Content", "video/MP2T", NULL);
    fail_unless_equals_int (c->status, 200);
    trickle_test_conn_free (c);
  }
  desc = g_strdup_printf ("tricklesrc name=src location=http://127.0.0.1:%u/"
      "pace start-seq=0 ! tsdemux ! h264parse ! avdec_h264 ! "
      "fakesink name=sink sync=true", ts->port);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=150 pattern=snow ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast bitrate=20000 "
      "key-int-max=5 ! mpegtsmux ! tricklesink "
      "location=http://127.0.0.1:%u/pace", ts->port);
  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  g_free (desc);

  /* the publisher deleted the channel at its EOS: the subscriber ends
   * once it read all (60 s: it plays 5 s) */
  bus = gst_element_get_bus (sub);
  while ((msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    GstMessageType type = GST_MESSAGE_TYPE (msg);

    if (type != GST_MESSAGE_EOS) {
      GError *err = NULL;
      if (type == GST_MESSAGE_ERROR)
        gst_message_parse_error (msg, &err, NULL);
      else
        gst_message_parse_warning (msg, &err, NULL);
      GST_INFO ("subscriber: %s from %s: %s", GST_MESSAGE_TYPE_NAME (msg),
          GST_MESSAGE_SRC_NAME (msg), err->message);
      if (!problem)
        problem = g_strdup_printf ("%s from %s: %s",
            GST_MESSAGE_TYPE_NAME (msg), GST_MESSAGE_SRC_NAME (msg),
            err->message);
      g_clear_error (&err);
    }
    gst_message_unref (msg);
    if (type != GST_MESSAGE_WARNING)
      break;
  }
  gst_object_unref (bus);
  src = trickle_test_get (sub, "src");
  g_object_get (src, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "jumps", &jumps));
  gst_structure_free (stats);
  sink = trickle_test_get (sub, "sink");
  g_object_get (sink, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "rendered", &rendered);
  gst_structure_free (stats);
  fail_unless (rendered >= 148 && jumps == 0, "%" G_GUINT64_FORMAT " of "
      "150 frames played, %" G_GUINT64_FORMAT " jumps (470)", rendered, jumps);
  fail_unless (problem == NULL, "the subscriber: %s", problem);
  gst_object_unref (sink);
  gst_object_unref (src);
  trickle_test_stop_pipeline (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* seconds @desc takes to run to EOS */
static gdouble
timed_run (const gchar * desc)
{
  gint64 start = g_get_monotonic_time ();

  fail_unless_equals_int (run_counting_format_warnings (desc), 0);
  return (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
}

/* issue 10: sources that are not live stream in real time by default: a
 * file of 3 s through tsparse (its buffers all stamped 0, the PES
 * timestamps inside), through filesrc alone (no timestamps at all), and
 * mpegtsmux's output (timestamped) each take at least 0.8 x 3 s to
 * publish, and all 6 segments arrive; with sync=false the same file goes
 * out in much less. Only lower bounds on the paced runs: a loaded machine
 * only makes them slower. */
GST_START_TEST (test_pacing_file)
{
  const gchar *paced[] = {
    "filesrc location=%s ! tsparse",
    "filesrc location=%s",
    "videotestsrc num-buffers=90 ! video/x-raw,width=160,height=120,"
        "framerate=30/1 ! x264enc tune=zerolatency key-int-max=15 ! "
        "mpegtsmux",
  };
  TrickleTestServer *ts;
  gchar *dir, *file, *desc;
  gdouble t, fastest = G_MAXDOUBLE;
  guint i;

  if (!have_ts_h264 ())
    return;
  ts = roomy_server ();
  dir = g_dir_make_tmp ("tricklesink-XXXXXX", NULL);
  file = make_file (dir, "3s.ts", "videotestsrc num-buffers=90 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=15 ! h264parse ! mpegtsmux");
  for (i = 0; i < G_N_ELEMENTS (paced); i++) {
    gchar *src = g_strdup_printf (paced[i], file);
    gchar *ch = g_strdup_printf ("paced%u", i);

    desc = g_strdup_printf ("%s ! tricklesink location=http://127.0.0.1:%u/"
        "%s delete-on-eos=false", src, ts->port, ch);
    t = timed_run (desc);
    GST_INFO ("%s: %.2f s", src, t);
    fail_unless (t >= 0.8 * 3, "%s published in %.2f s: not paced", src, t);
    fastest = MIN (fastest, t);
    check_h264_segments (ts->port, ch, 6, 15);
    g_free (desc);
    g_free (ch);
    g_free (src);
  }

  /* unpaced: parsing and sending 200 kB; a fraction of the paced time
   * even when the machine is busy */
  desc = g_strdup_printf ("filesrc location=%s ! tsparse ! tricklesink "
      "location=http://127.0.0.1:%u/unpaced delete-on-eos=false "
      "sync=false", file, ts->port);
  t = timed_run (desc);
  GST_INFO ("sync=false: %.2f s", t);
  fail_unless (t < fastest / 2, "sync=false took %.2f s, paced %.2f s", t,
      fastest);
  check_h264_segments (ts->port, "unpaced", 6, 15);
  g_free (desc);

  trickle_test_remove_tmpdir (dir);
  g_free (file);
  g_free (dir);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* issue 10: a paced publisher paused in the middle and played again goes
 * on where it was: all segments published, EOS; stopped while it waits,
 * it stops (filesrc alone; loop index 1: mpegtsmux's timestamped output) */
GST_START_TEST (test_pacing_pause)
{
  const gchar *sources[] = {
    "filesrc location=%s",
    "videotestsrc num-buffers=90 ! video/x-raw,width=160,height=120,"
        "framerate=30/1 ! x264enc tune=zerolatency key-int-max=15 ! "
        "mpegtsmux",
  };
  TrickleTestServer *ts;
  GstElement *p;
  GstBus *bus;
  GstMessage *msg;
  gchar *dir, *file, *src, *desc;

  if (!have_ts_h264 ())
    return;
  ts = roomy_server ();
  dir = g_dir_make_tmp ("tricklesink-XXXXXX", NULL);
  file = make_file (dir, "3s.ts", "videotestsrc num-buffers=90 ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=15 ! h264parse ! mpegtsmux");
  src = g_strdup_printf (sources[__i__], file);
  desc = g_strdup_printf ("%s ! tricklesink location=http://127.0.0.1:%u/"
      "pause delete-on-eos=false", src, ts->port);
  p = trickle_test_start_pipeline (desc);
  bus = gst_element_get_bus (p);
  g_usleep (G_USEC_PER_SEC);
  fail_if (gst_element_set_state (p, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  g_usleep (G_USEC_PER_SEC / 2);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  /* 30 s: 2 s of media left */
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "%s: no EOS after a pause", src);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
  trickle_test_stop_pipeline (p);
  check_h264_segments (ts->port, "pause", 6, 15);

  /* stopped while it waits: to NULL at once (trickle_test_stop_pipeline
   * fails unless the state change succeeds) */
  p = trickle_test_start_pipeline (desc);
  g_usleep (G_USEC_PER_SEC / 2);
  trickle_test_stop_pipeline (p);
  trickle_test_remove_tmpdir (dir);
  g_free (desc);
  g_free (src);
  g_free (file);
  g_free (dir);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* segments tricklesink @sink had answered within @seconds, once it had
 * @want (polled: it has no signal for this) */
static guint64
wait_segments (GstElement * sink, guint64 want, guint seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  guint64 segments = 0;

  do {
    GstStructure *stats = NULL;

    g_object_get (sink, "stats", &stats, NULL);
    fail_unless (gst_structure_get_uint64 (stats, "segments", &segments));
    gst_structure_free (stats);
    if (segments < want)
      g_usleep (20 * 1000);
  } while (segments < want && g_get_monotonic_time () < end);
  return segments;
}

/* issue 10: a live source is never held back by the sync default. With
 * the pipeline's latency set to 30 s, a sink that waited for each
 * buffer's running time + latency would publish nothing for 30 s: 1.5 s
 * of live video (MPEG-TS: its first 2 GOPs end when the 3rd begins; raw:
 * 45 one-frame segments) is all published before 20 s (far more than 1.5
 * s of media takes on a loaded machine; held, it would take over 30 s).
 * Only the data: basesink holds EOS itself until running time + latency. */
GST_START_TEST (test_live_not_held)
{
  const gchar *sources[] = {
    "videotestsrc is-live=true num-buffers=45 ! video/x-raw,width=160,"
        "height=120,framerate=30/1 ! x264enc tune=zerolatency "
        "key-int-max=15 ! mpegtsmux",
    "videotestsrc is-live=true num-buffers=45 ! video/x-raw,format=I420,"
        "width=64,height=48,framerate=30/1",
  };
  const guint64 want[] = { 2, 45 };
  TrickleTestServer *ts;
  guint i;

  if (!have_ts_h264 ())
    return;
  ts = roomy_server ();
  for (i = 0; i < G_N_ELEMENTS (sources); i++) {
    gchar *desc = g_strdup_printf ("%s ! tricklesink name=pub location="
        "http://127.0.0.1:%u/live%u delete-on-eos=false", sources[i],
        ts->port, i);
    GstElement *p = gst_parse_launch (desc, NULL);
    GstElement *sink = trickle_test_get (p, "pub");
    guint64 segments;

    g_object_set (p, "latency", 30 * GST_SECOND, NULL);
    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE);
    segments = wait_segments (sink, want[i], 20);
    fail_unless (segments >= want[i], "%s: %" G_GUINT64_FORMAT " of %"
        G_GUINT64_FORMAT " segments in 20 s: held back", sources[i],
        segments, want[i]);
    gst_object_unref (sink);
    trickle_test_stop_pipeline (p);
    g_free (desc);
  }
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* timeout does not bound a preconnected POST whose body waits for its
 * segment (it waits on the pipeline, not on the network): with a frame
 * every 2 s and timeout=1, every segment is published, none lost or
 * retried (a busy machine only lengthens the gaps) */
GST_START_TEST (test_timeout_spares_idle_preconnect)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstElement *p, *snk;
  GstStructure *st = NULL;
  GstMessage *msg;
  TrickleTestConn *c;
  guint64 segments = 0, lost = 1, retries = 1;
  gchar *desc;
  gint seq;

  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  desc = g_strdup_printf ("videotestsrc num-buffers=3 is-live=true ! "
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=1/2 ! "
      "tricklesink name=snk location=http://127.0.0.1:%u/idle timeout=1 "
      "delete-on-eos=false", ts->port);
  p = trickle_test_start_pipeline (desc);
  g_free (desc);
  snk = trickle_test_get (p, "snk");
  {
    GstBus *bus = gst_element_get_bus (p);
    msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_WARNING);
    gst_object_unref (bus);
  }
  fail_unless (msg != NULL, "neither EOS nor an error");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_object_get (snk, "stats", &st, NULL);
  gst_structure_get_uint64 (st, "segments", &segments);
  gst_structure_get_uint64 (st, "lost", &lost);
  gst_structure_get_uint64 (st, "retries", &retries);
  gst_structure_free (st);
  fail_unless_equals_uint64 (segments, 3);
  fail_unless_equals_uint64 (lost, 0);
  fail_unless_equals_uint64 (retries, 0);
  gst_object_unref (snk);
  trickle_test_stop_pipeline (p);
  for (seq = 0; seq < 3; seq++) {
    gchar *path = g_strdup_printf ("/idle/%d", seq);
    c = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
    fail_unless_equals_int (c->status, 200);
    fail_unless_equals_int (c->body_result, TRICKLE_TEST_BODY_END);
    fail_unless_equals_int (c->body->len, 64);
    trickle_test_conn_free (c);
    g_free (path);
  }
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
  tcase_add_test (tc, test_flush_during_start);
  tcase_add_test (tc, test_stop_while_server_stops_reading);
  tcase_add_test (tc, test_segment_length_properties);
  tcase_add_test (tc, test_start_stop_cycles);
  tcase_add_test (tc, test_location_without_channel);
  tcase_add_test (tc, test_starts_before_server);
  tcase_add_test (tc, test_mpegts_h264parse);
  tcase_add_test (tc, test_mpegts_openh264);
  tcase_add_loop_test (tc, test_mpegts_file_shapes, 0,
      G_N_ELEMENTS (file_shapes));
  tcase_add_test (tc, test_mpegts_ffmpeg_file);
  tcase_add_test (tc, test_mpegts_audio_only);
  tcase_add_loop_test (tc, test_mpegts_no_keyframe, 0, 2);
  tcase_add_test (tc, test_pacing_subscriber_keeps_pace);
  tcase_add_test (tc, test_pacing_file);
  tcase_add_loop_test (tc, test_pacing_pause, 0, 2);
  tcase_add_test (tc, test_live_not_held);
  tcase_add_test (tc, test_timeout_spares_idle_preconnect);
  return s;
}

GST_CHECK_MAIN (tricklesink);
