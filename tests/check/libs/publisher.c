/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GstTricklePublisher against the real server on loopback.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/trickle/trickle.h>
#include "trickletestutil.h"

static gchar *
channel_url (TrickleTestServer * ts, const gchar * ch)
{
  return g_strdup_printf ("http://127.0.0.1:%u/%s", ts->port, ch);
}

static TrickleTestConn *
get (TrickleTestServer * ts, const gchar * path)
{
  TrickleTestConn *c = trickle_test_conn_new (ts->port);

  fail_unless (trickle_test_conn_send_request (c, "GET", path, NULL));
  return c;
}

/* segments stream through as they are written, in order, with the
 * channel's MIME type; a preconnected subscriber gets each piece before
 * the next is written */
GST_START_TEST (test_publish_streams)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  gchar *url = channel_url (ts, "pub");
  GstTricklePublisher *pub = gst_trickle_publisher_new (url, "video/MP2T");
  GError *err = NULL;
  gint seg;

  g_object_set (pub, "create-channel", TRUE, NULL);
  fail_unless (gst_trickle_publisher_start (pub, &err), "%s",
      err ? err->message : "");
  for (seg = 0; seg < 3; seg++) {
    gchar *path = g_strdup_printf ("/pub/%d", seg);
    TrickleTestConn *sub = get (ts, path);
    GBytes *piece = NULL;
    gint i;

    fail_unless_equals_int64 (gst_trickle_publisher_begin_segment (pub,
            &err), seg);
    for (i = 0; i < 3; i++) {
      gchar text[32];
      g_snprintf (text, sizeof (text), "seg%d-piece%d;", seg, i);
      fail_unless (gst_trickle_publisher_write (pub, text, strlen (text),
              &err));
      if (i == 0)
        fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
      /* this piece reaches the subscriber before the next is written */
      fail_unless_equals_int (trickle_test_conn_read_chunk (sub, &piece),
          TRICKLE_TEST_BODY_DATA);
      fail_unless_equals_int (g_bytes_get_size (piece), strlen (text));
      fail_unless (memcmp (g_bytes_get_data (piece, NULL), text,
              strlen (text)) == 0);
      g_bytes_unref (piece);
    }
    fail_unless_equals_string (trickle_test_conn_get_header (sub,
            "Content-Type"), "video/MP2T");
    fail_unless (gst_trickle_publisher_end_segment (pub, &err));
    fail_unless_equals_int (trickle_test_conn_read_body (sub),
        TRICKLE_TEST_BODY_END);
    trickle_test_conn_free (sub);
    g_free (path);
  }
  fail_unless (gst_trickle_publisher_stop (pub, TRUE, &err), "%s",
      err ? err->message : "");
  /* deleted: the channel is gone */
  {
    TrickleTestConn *c = trickle_test_request (ts->port, "GET", "/pub/next",
        NULL, 0, NULL);
    fail_unless_equals_int (c->status, 404);
    trickle_test_conn_free (c);
  }
  g_object_unref (pub);
  g_free (url);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a restarted publisher continues at the channel's next seq (the seq its
 * predecessor had preconnected is recorded as an empty segment), and its
 * segments are where begin_segment() said */
GST_START_TEST (test_publish_continues_at_next_seq)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  gchar *url = channel_url (ts, "cont");
  GstTricklePublisher *pub;
  GError *err = NULL;
  TrickleTestConn *c;
  gint64 seqs[4], next;
  gint run;

  for (run = 0; run < 2; run++) {
    gchar *path;

    pub = gst_trickle_publisher_new (url, "application/json");
    fail_unless (gst_trickle_publisher_start (pub, &err));
    if (run == 0) {
      next = 0;
    } else {
      c = trickle_test_request (ts->port, "GET", "/cont/next", NULL, 0, NULL);
      next = g_ascii_strtoll (trickle_test_conn_body_str (c), NULL, 10);
      trickle_test_conn_free (c);
    }
    seqs[run * 2] = gst_trickle_publisher_begin_segment (pub, &err);
    fail_unless_equals_int64 (seqs[run * 2], next);
    fail_unless (gst_trickle_publisher_write (pub, "{}", 2, &err));
    seqs[run * 2 + 1] = gst_trickle_publisher_begin_segment (pub, &err);
    fail_unless_equals_int64 (seqs[run * 2 + 1], next + 1);
    fail_unless (gst_trickle_publisher_write (pub, "[]", 2, &err));
    fail_unless (gst_trickle_publisher_stop (pub, FALSE, &err));
    g_object_unref (pub);
    /* the abandoned preconnect of this run reaches the server as it closes
     * the session: let it land before the next run reads the next seq */
    g_usleep (200 * 1000);

    path = g_strdup_printf ("/cont/%" G_GINT64_FORMAT, seqs[run * 2]);
    c = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
    fail_unless_equals_int (c->status, 200);
    fail_unless_equals_string (trickle_test_conn_body_str (c), "{}");
    trickle_test_conn_free (c);
    g_free (path);
    path = g_strdup_printf ("/cont/%" G_GINT64_FORMAT, seqs[run * 2 + 1]);
    c = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
    fail_unless_equals_int (c->status, 200);
    fail_unless_equals_string (trickle_test_conn_body_str (c), "[]");
    trickle_test_conn_free (c);
    g_free (path);
  }
  fail_unless (seqs[2] > seqs[1]);
  g_free (url);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* an unknown channel on a server without auto-create: NOT_FOUND */
GST_START_TEST (test_publish_not_found)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  gchar *url;
  GstTricklePublisher *pub;
  GError *err = NULL;
  gint64 seq;
  gint i;

  g_object_set (ts->store, "auto-create", FALSE, NULL);
  trickle_test_server_start (ts, NULL);
  url = channel_url (ts, "nope");
  pub = gst_trickle_publisher_new (url, NULL);
  fail_unless (gst_trickle_publisher_start (pub, &err));
  /* the 404 arrives asynchronously; it surfaces within a few calls */
  for (i = 0; i < 50; i++) {
    seq = gst_trickle_publisher_begin_segment (pub, &err);
    if (seq < 0)
      break;
    if (!gst_trickle_publisher_write (pub, "x", 1, &err))
      break;
    g_usleep (20000);
  }
  fail_unless (err != NULL);
  fail_unless (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND), "%s", err->message);
  g_clear_error (&err);
  gst_trickle_publisher_stop (pub, FALSE, NULL);
  g_object_unref (pub);
  g_free (url);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* Start, a 404 while the body streams, stop: many times, and every
 * message is released in the end. libsoup closes a streamed body in GIO's
 * thread pool; releasing the message while that task still held the body
 * stream aborted the process in GLib (invalid_closure_notify) about once
 * in 50 stops. */
GST_START_TEST (test_stop_cycles_release_messages)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GType msg_type;
  gchar *url;
  gint cycle, i;
  gint64 deadline;

  g_object_set (ts->store, "auto-create", FALSE, NULL);
  trickle_test_server_start (ts, NULL);
  url = channel_url (ts, "nope");
  for (cycle = 0; cycle < 100; cycle++) {
    GstTricklePublisher *pub = gst_trickle_publisher_new (url, NULL);
    GError *err = NULL;

    fail_unless (gst_trickle_publisher_start (pub, &err));
    for (i = 0; i < 500; i++) {
      if (gst_trickle_publisher_begin_segment (pub, &err) < 0)
        break;
      if (!gst_trickle_publisher_write (pub, "x", 1, &err))
        break;
      g_usleep (2000);
    }
    fail_unless (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND), "cycle %d: %s", cycle,
        err ? err->message : "no error");
    g_clear_error (&err);
    gst_trickle_publisher_stop (pub, FALSE, NULL);
    g_object_unref (pub);
  }
  /* the last releases may happen a moment after stop() returned, in the
   * thread that drops the session's last reference: wait for them (the
   * bound only limits a failure) */
  msg_type = g_type_from_name ("SoupMessage");
  fail_unless (msg_type != 0);
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (g_type_get_instance_count (msg_type) > 0
      && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  fail_unless_equals_int (g_type_get_instance_count (msg_type), 0);
  g_free (url);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a URL without a channel name is a SETTINGS error at start, before
 * anything is sent (the server sees no channel "0") */
GST_START_TEST (test_publish_url_without_channel)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  const gchar *forms[] = { "http://127.0.0.1:%u/", "http://127.0.0.1:%u" };
  TrickleTestConn *c;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (forms); i++) {
    gchar *url = g_strdup_printf (forms[i], ts->port);
    GstTricklePublisher *pub = gst_trickle_publisher_new (url, NULL);
    GError *err = NULL;

    fail_if (gst_trickle_publisher_start (pub, &err), "%s started", url);
    fail_unless (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_SETTINGS), "%s: %s", url,
        err ? err->message : "no error");
    g_clear_error (&err);
    g_object_unref (pub);
    g_free (url);
  }
  c = trickle_test_request (ts->port, "GET", "/0/next", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 404);
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* An unlock that comes before the start has got anywhere (a state change
 * to NULL while the element starts) is not forgotten: the start returns
 * CANCELLED instead of waiting for a server that never answers. The error
 * says which: without the unlock it would be the IO error of a request
 * with no answer. */
GST_START_TEST (test_unlock_before_start)
{
  GSocket *silent = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  GstTricklePublisher *pub;
  GError *err = NULL;
  gchar *url;

  /* accepts connections (the kernel does) but never answers */
  fail_unless (g_socket_bind (silent, addr, FALSE, NULL));
  fail_unless (g_socket_listen (silent, NULL));
  bound = g_socket_get_local_address (silent, NULL);
  url = g_strdup_printf ("http://127.0.0.1:%u/quiet",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  pub = gst_trickle_publisher_new (url, "video/MP2T");
  gst_trickle_publisher_unlock (pub);
  fail_if (gst_trickle_publisher_start (pub, &err));
  fail_unless (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CANCELLED), "%s", err->message);
  g_clear_error (&err);

  g_object_unref (pub);
  g_free (url);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (silent);
}

GST_END_TEST;

static Suite *
publisher_suite (void)
{
  Suite *s = suite_create ("publisher");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_publish_streams);
  tcase_add_test (tc, test_publish_continues_at_next_seq);
  tcase_add_test (tc, test_publish_not_found);
  tcase_add_test (tc, test_stop_cycles_release_messages);
  tcase_add_test (tc, test_publish_url_without_channel);
  tcase_add_test (tc, test_unlock_before_start);
  return s;
}

int
main (int argc, char **argv)
{
  /* counts SoupMessage instances (test_stop_cycles_release_messages); read
   * when the type system starts, so before anything else */
  g_setenv ("GOBJECT_DEBUG", "instance-count", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (publisher_suite (), "publisher", __FILE__);
}
