/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GstTricklePublisher against the real server on loopback.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
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

/* ------------------------------------------------------------------------ */
/* What goes on the wire, read by a server of the test's own: every
 * request, on which connection, its head and its body as decoded from the
 * chunked encoding */

typedef struct
{
  GSocket *listener;
  GMutex lock;
  GPtrArray *requests;          /* WireRequest */
  guint connections;
  GThread *thread;
  gboolean stop;
} Wire;

typedef struct
{
  guint conn;
  gchar *head;
  GByteArray *body;
} WireRequest;

static void
wire_request_free (WireRequest * r)
{
  g_free (r->head);
  g_byte_array_unref (r->body);
  g_free (r);
}

/* reads until @buf holds @want bytes (or a line end / head end when
 * @want is 0 and @until is given); FALSE at EOF */
static gboolean
wire_fill (GSocket * s, GByteArray * buf, gsize want, const gchar * until)
{
  for (;;) {
    guint8 tmp[65536];
    gssize n;

    if (want && buf->len >= want)
      return TRUE;
    if (until && buf->len > 0 && g_strstr_len ((gchar *) buf->data, buf->len,
            until))
      return TRUE;
    n = g_socket_receive (s, (gchar *) tmp, sizeof (tmp), NULL, NULL);
    if (n <= 0)
      return FALSE;
    g_byte_array_append (buf, tmp, n);
  }
}

/* one connection: requests one after another (keep-alive) */
static gpointer
wire_conn (gpointer data)
{
  gpointer *args = data;
  Wire *w = args[0];
  GSocket *s = args[1];
  guint id = GPOINTER_TO_UINT (args[2]);
  GByteArray *buf = g_byte_array_new ();

  g_free (args);
  for (;;) {
    WireRequest *r;
    gchar *end;
    const gchar *answer;
    gsize hlen;

    if (!wire_fill (s, buf, 0, "\r\n\r\n"))
      break;
    end = g_strstr_len ((gchar *) buf->data, buf->len, "\r\n\r\n");
    hlen = end + 4 - (gchar *) buf->data;
    r = g_new0 (WireRequest, 1);
    r->conn = id;
    r->head = g_strndup ((gchar *) buf->data, hlen);
    r->body = g_byte_array_new ();
    g_byte_array_remove_range (buf, 0, hlen);
    if (strstr (r->head, "Transfer-Encoding: chunked")) {
      for (;;) {
        gchar *eol;
        guint64 size;
        if (!wire_fill (s, buf, 0, "\r\n"))
          goto out;
        eol = g_strstr_len ((gchar *) buf->data, buf->len, "\r\n");
        size = g_ascii_strtoull ((gchar *) buf->data, NULL, 16);
        g_byte_array_remove_range (buf, 0, eol + 2 - (gchar *) buf->data);
        if (!wire_fill (s, buf, size + 2, NULL))
          goto out;
        g_byte_array_append (r->body, buf->data, size);
        g_byte_array_remove_range (buf, 0, size + 2);
        if (size == 0)
          break;
      }
    }
    answer = g_str_has_prefix (r->head, "GET") ? "HTTP/1.1 200 OK\r\n"
        "Lp-Trickle-Latest: 0\r\nContent-Length: 0\r\n\r\n" :
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    g_mutex_lock (&w->lock);
    g_ptr_array_add (w->requests, r);
    g_mutex_unlock (&w->lock);
    g_socket_send (s, answer, strlen (answer), NULL, NULL);
    continue;
  out:
    wire_request_free (r);
    break;
  }
  g_byte_array_unref (buf);
  g_object_unref (s);
  return NULL;
}

static gpointer
wire_accept (gpointer data)
{
  Wire *w = data;

  for (;;) {
    GSocket *s = g_socket_accept (w->listener, NULL, NULL);
    gpointer *args;
    if (!s)
      return NULL;
    g_mutex_lock (&w->lock);
    args = g_new (gpointer, 3);
    args[0] = w;
    args[1] = s;
    args[2] = GUINT_TO_POINTER (++w->connections);
    g_mutex_unlock (&w->lock);
    g_thread_unref (g_thread_new ("wire-conn", wire_conn, args));
  }
}

static Wire *
wire_new (guint * port)
{
  Wire *w = g_new0 (Wire, 1);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;

  w->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  fail_unless (g_socket_bind (w->listener, addr, TRUE, NULL));
  fail_unless (g_socket_listen (w->listener, NULL));
  bound = g_socket_get_local_address (w->listener, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_mutex_init (&w->lock);
  w->requests = g_ptr_array_new_with_free_func ((GDestroyNotify)
      wire_request_free);
  w->thread = g_thread_new ("wire", wire_accept, w);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  return w;
}

/* the POST of @path, once it came (bounded: 10 s) */
static WireRequest *
wire_wait_post (Wire * w, const gchar * path)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  gchar *line = g_strdup_printf ("POST %s HTTP/1.1\r\n", path);

  while (g_get_monotonic_time () < deadline) {
    guint i;
    g_mutex_lock (&w->lock);
    for (i = 0; i < w->requests->len; i++) {
      WireRequest *r = g_ptr_array_index (w->requests, i);
      if (g_str_has_prefix (r->head, line)) {
        g_mutex_unlock (&w->lock);
        g_free (line);
        return r;
      }
    }
    g_mutex_unlock (&w->lock);
    g_usleep (10000);
  }
  fail ("no %s", line);
  return NULL;
}

static void
wire_free (Wire * w)
{
  /* shutdown() wakes the accepting thread (close() would not) */
  g_socket_shutdown (w->listener, TRUE, TRUE, NULL);
  g_thread_join (w->thread);
  g_socket_close (w->listener, NULL);
  g_object_unref (w->listener);
  g_ptr_array_unref (w->requests);
  g_mutex_clear (&w->lock);
  g_free (w);
}

/* 4 segments of 2 writes each, then a stop: what the server got */
static void
check_wire (gboolean libsoup)
{
  guint port, i, conns = 0, first_conn = 0;
  Wire *w = wire_new (&port);
  gchar *url = g_strdup_printf ("http://127.0.0.1:%u/ch", port);
  GstTricklePublisher *pub = gst_trickle_publisher_new (url, "video/MP2T");
  GstStructure *extra = gst_structure_new ("headers", "X-Test", G_TYPE_STRING,
      "yes", NULL);
  GError *err = NULL;

  if (libsoup)
    g_setenv ("GST_TRICKLE_PUBLISHER_LIBSOUP", "1", TRUE);
  g_object_set (pub, "extra-headers", extra, NULL);
  gst_structure_free (extra);
  fail_unless (gst_trickle_publisher_start (pub, &err), "%s",
      err ? err->message : "");
  g_unsetenv ("GST_TRICKLE_PUBLISHER_LIBSOUP");
  for (i = 0; i < 4; i++) {
    gchar a[32], b[40000];
    fail_unless_equals_int64 (gst_trickle_publisher_begin_segment (pub,
            &err), i);
    g_snprintf (a, sizeof (a), "segment %u: ", i);
    memset (b, 'a' + i, sizeof (b));
    fail_unless (gst_trickle_publisher_write (pub, a, strlen (a), &err));
    fail_unless (gst_trickle_publisher_write (pub, b, sizeof (b), &err));
    fail_unless (gst_trickle_publisher_end_segment (pub, &err), "%s",
        err ? err->message : "");
  }
  fail_unless (gst_trickle_publisher_stop (pub, FALSE, &err), "%s",
      err ? err->message : "");
  for (i = 0; i < 4; i++) {
    gchar *path = g_strdup_printf ("/ch/%u", i), a[32];
    WireRequest *r = wire_wait_post (w, path);
    gsize alen;

    g_snprintf (a, sizeof (a), "segment %u: ", i);
    alen = strlen (a);
    fail_unless (strstr (r->head, "\r\nHost: 127.0.0.1:") != NULL, "%s",
        r->head);
    fail_unless (strstr (r->head, "\r\nContent-Type: video/MP2T\r\n") !=
        NULL, "%s", r->head);
    fail_unless (strstr (r->head, "\r\nX-Test: yes\r\n") != NULL, "%s",
        r->head);
    fail_unless_equals_int (r->body->len, alen + 40000);
    fail_unless (memcmp (r->body->data, a, alen) == 0);
    fail_unless (r->body->data[alen] == 'a' + i
        && r->body->data[r->body->len - 1] == 'a' + i);
    if (first_conn == 0)
      first_conn = r->conn;
    conns = MAX (conns, r->conn);
    g_free (path);
  }
  if (!libsoup) {
    /* kept alive: the current POST and the preconnected one take turns
     * on two connections (the start's GET has its own) */
    fail_unless (conns - first_conn + 1 <= 2, "POSTs on %u connections",
        conns - first_conn + 1);
  }
  g_object_unref (pub);
  g_free (url);
  wire_free (w);
}

/* our own HTTP/1.1 on the socket (plain http): head, chunked body, the
 * connections kept alive */
GST_START_TEST (test_publish_wire_direct)
{
  check_wire (FALSE);
}

GST_END_TEST;

/* the same through libsoup (what TLS and proxies use) */
GST_START_TEST (test_publish_wire_libsoup)
{
  check_wire (TRUE);
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
  tcase_add_test (tc, test_publish_wire_direct);
  tcase_add_test (tc, test_publish_wire_libsoup);
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
