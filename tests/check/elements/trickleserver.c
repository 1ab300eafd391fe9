/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Tests of the trickleserver element: real HTTP over loopback, with
 * libsoup 3 as the client.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>
#include <glib/gstdio.h>
#include <unistd.h>

static GstElement *
make_server (guint port)
{
  GstElement *server = gst_element_factory_make ("trickleserver", NULL);

  fail_unless (server != NULL);
  g_object_set (server, "host", "127.0.0.1", "port", port, NULL);
  return server;
}

/* Sets @server (in a pipeline) to @state and returns the listening port
 * announced on the bus. */
static guint
start_pipeline (GstElement * pipeline, GstElement * server)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  guint port = 0, bound = 0;

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_SUCCESS);
  /* 30 s only bounds a hang */
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  fail_unless (gst_message_has_name (msg, "trickleserver-listening"));
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (msg), "host"), "127.0.0.1");
  fail_unless (gst_structure_get_uint (gst_message_get_structure (msg), "port",
          &port));
  gst_message_unref (msg);
  gst_object_unref (bus);
  g_object_get (server, "current-port", &bound, NULL);
  fail_unless (port > 0);
  fail_unless_equals_int (port, bound);
  return port;
}

static SoupMessage *
http (SoupSession * session, const gchar * method, const gchar * url,
    const gchar * body, GBytes ** out, const gchar * header, const gchar * val)
{
  SoupMessage *msg = soup_message_new (method, url);
  GError *err = NULL;
  GBytes *res;

  fail_unless (msg != NULL, "bad url %s", url);
  if (body) {
    GBytes *b = g_bytes_new (body, strlen (body));
    soup_message_set_request_body_from_bytes (msg, "application/octet-stream",
        b);
    g_bytes_unref (b);
  }
  if (header)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        header, val);
  res = soup_session_send_and_read (session, msg, NULL, &err);
  fail_unless (res != NULL, "%s %s: %s", method, url, err ? err->message : "");
  if (out)
    *out = res;
  else
    g_bytes_unref (res);
  return msg;
}

static gint
count_dir_entries (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  gint n = 0;

  if (!dir)
    return -1;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n;
}

GST_START_TEST (test_defaults)
{
  GstElement *server = gst_element_factory_make ("trickleserver", NULL);
  guint port, window, idle, max_channels;
  gboolean auto_create, changefeed;
  gchar *base_path;

  g_object_get (server, "port", &port, "window", &window, "idle-timeout",
      &idle, "auto-create", &auto_create, "changefeed", &changefeed,
      "base-path", &base_path, "max-channels", &max_channels, NULL);
  fail_unless_equals_int (port, 2939);
  fail_unless_equals_int (window, 5);
  fail_unless_equals_int (idle, 300);
  fail_unless (auto_create);
  fail_unless (!changefeed);
  fail_unless_equals_string (base_path, "/");
  g_free (base_path);
  gst_object_unref (server);
}

GST_END_TEST;

GST_START_TEST (test_listen_and_serve)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *server = make_server (0);
  SoupSession *session = soup_session_new ();
  SoupMessage *msg;
  GBytes *body;
  gchar *url;
  guint port;

  g_object_set (server, "base-path", "/ai/trickle", NULL);
  gst_bin_add (GST_BIN (pipeline), server);
  port = start_pipeline (pipeline, server);

  url = g_strdup_printf ("http://127.0.0.1:%u/ai/trickle/demo/-1", port);
  msg = http (session, "POST", url, "hello", NULL, NULL, NULL);
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  fail_unless_equals_string (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Lp-Trickle-Seq"), "0");
  g_object_unref (msg);
  g_free (url);

  url = g_strdup_printf ("http://127.0.0.1:%u/ai/trickle/demo/0", port);
  msg = http (session, "GET", url, NULL, &body, NULL, NULL);
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  fail_unless_equals_int (g_bytes_get_size (body), 5);
  fail_unless (memcmp (g_bytes_get_data (body, NULL), "hello", 5) == 0);
  g_bytes_unref (body);
  g_object_unref (msg);
  g_free (url);

  /* outside the base path */
  url = g_strdup_printf ("http://127.0.0.1:%u/demo/0", port);
  msg = http (session, "GET", url, NULL, NULL, NULL, NULL);
  fail_unless_equals_int (soup_message_get_status (msg), 404);
  g_object_unref (msg);
  g_free (url);

  g_object_unref (session);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (server, "current-port", &port, NULL);
  fail_unless_equals_int (port, 0);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static void
expect_resource_error (GstElement * pipeline, gint code)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR, code);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

GST_START_TEST (test_port_in_use)
{
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *server;
  guint port;

  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  fail_unless (g_socket_listen (sock, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  server = make_server (port);
  gst_bin_add (GST_BIN (pipeline), server);
  expect_resource_error (pipeline, GST_RESOURCE_ERROR_OPEN_READ_WRITE);

  /* a bad address is a resource error too */
  g_object_set (server, "host", "not-an-address", "port", 0, NULL);
  expect_resource_error (pipeline, GST_RESOURCE_ERROR_OPEN_READ_WRITE);

  gst_object_unref (pipeline);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (sock);
}

GST_END_TEST;

GST_START_TEST (test_bad_certificate)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *server = make_server (0);
  gchar *dir = g_dir_make_tmp ("trickle-XXXXXX", NULL);
  gchar *bogus = g_build_filename (dir, "bogus.pem", NULL);

  gst_bin_add (GST_BIN (pipeline), server);
  g_object_set (server, "tls-certificate", "/nonexistent/cert.pem", NULL);
  expect_resource_error (pipeline, GST_RESOURCE_ERROR_OPEN_READ);

  fail_unless (g_file_set_contents (bogus, "not a certificate", -1, NULL));
  g_object_set (server, "tls-certificate", bogus, NULL);
  expect_resource_error (pipeline, GST_RESOURCE_ERROR_OPEN_READ);

  g_object_set (server, "tls-certificate", NULL, "tls-key", bogus, NULL);
  expect_resource_error (pipeline, GST_RESOURCE_ERROR_SETTINGS);

  g_unlink (bogus);
  g_rmdir (dir);
  g_free (bogus);
  g_free (dir);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* 50 start/stop cycles, each serving a request: no fd, thread or object
 * leak (objects: GST_TRACERS=leaks fails the run at exit) */
GST_START_TEST (test_start_stop_cycles)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *server = make_server (0);
  gint fds_before = -1, threads_before = -1, i;

  g_object_set (server, "threads", 2, NULL);
  gst_bin_add (GST_BIN (pipeline), server);
  for (i = 0; i < 50; i++) {
    SoupSession *session = soup_session_new ();
    SoupMessage *msg;
    gchar *url;
    guint port = start_pipeline (pipeline, server);

    url = g_strdup_printf ("http://127.0.0.1:%u/c%d/0", port, i);
    msg = http (session, "POST", url, "x", NULL, NULL, NULL);
    fail_unless_equals_int (soup_message_get_status (msg), 200);
    g_object_unref (msg);
    g_free (url);
    g_object_unref (session);

    fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    if (i == 0) {
      fds_before = count_dir_entries ("/proc/self/fd");
      threads_before = count_dir_entries ("/proc/self/task");
    }
  }
  /* libsoup sessions may leave a resolver thread behind for a moment */
  g_usleep (100 * 1000);
  fail_unless (count_dir_entries ("/proc/self/fd") <= fds_before,
      "fds: %d -> %d", fds_before, count_dir_entries ("/proc/self/fd"));
  fail_unless (count_dir_entries ("/proc/self/task") <= threads_before + 1,
      "threads: %d -> %d", threads_before,
      count_dir_entries ("/proc/self/task"));
  gst_object_unref (pipeline);
}

GST_END_TEST;

typedef struct
{
  gchar *base;
  GString *received;
  gint segments;
  gboolean closed;
  GMutex lock;
  GCond cond;
  gint64 connected;             /* the highest seq a GET of it waits on (as
                                 * the server says) */
} Subscriber;

static void
on_subscriber_connected (GstElement * server, const gchar * channel,
    gint64 seq, Subscriber * sub)
{
  if (g_strcmp0 (channel, "chan") != 0)
    return;
  g_mutex_lock (&sub->lock);
  sub->connected = MAX (sub->connected, seq);
  g_cond_broadcast (&sub->cond);
  g_mutex_unlock (&sub->lock);
}

/* until the subscriber's GET of @seq is on the server (the event to
 * publish @seq on: a GET -1 that came later would wait for the one after
 * it); 30 s only bounds a hang */
static void
wait_get_of (Subscriber * sub, gint64 seq)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&sub->lock);
  while (sub->connected < seq)
    if (!g_cond_wait_until (&sub->cond, &sub->lock, deadline))
      break;
  g_mutex_unlock (&sub->lock);
  fail_unless (sub->connected >= seq, "no GET of segment %" G_GINT64_FORMAT,
      seq);
}

/* A subscriber as the reference clients behave: start at -1, follow
 * Lp-Trickle-Seq + 1, stop on Lp-Trickle-Closed. */
static gpointer
subscriber_thread (gpointer data)
{
  Subscriber *sub = data;
  SoupSession *session = soup_session_new_with_options ("timeout", 0, NULL);
  gint64 seq = -1;

  for (;;) {
    gchar *url = g_strdup_printf ("%s/%" G_GINT64_FORMAT, sub->base, seq);
    SoupMessage *msg = soup_message_new ("GET", url);
    GInputStream *in;
    GBytes *body;
    SoupMessageHeaders *h;
    const gchar *s;

    in = soup_session_send (session, msg, NULL, NULL);
    fail_unless (in != NULL);
    h = soup_message_get_response_headers (msg);
    fail_unless_equals_int (soup_message_get_status (msg), 200);
    body = g_input_stream_read_bytes (in, 1 << 20, NULL, NULL);
    g_mutex_lock (&sub->lock);
    g_string_append_len (sub->received, g_bytes_get_data (body, NULL),
        g_bytes_get_size (body));
    if (g_bytes_get_size (body))
      sub->segments++;
    g_mutex_unlock (&sub->lock);
    g_bytes_unref (body);
    g_input_stream_close (in, NULL, NULL);
    g_object_unref (in);
    if (soup_message_headers_get_one (h, "Lp-Trickle-Closed")) {
      sub->closed = TRUE;
      g_object_unref (msg);
      g_free (url);
      break;
    }
    s = soup_message_headers_get_one (h, "Lp-Trickle-Seq");
    fail_unless (s != NULL);
    seq = g_ascii_strtoll (s, NULL, 10) + 1;
    g_object_unref (msg);
    g_free (url);
  }
  g_object_unref (session);
  return NULL;
}

/* The reference clients' usage pattern against the element: create the
 * channel, preconnected GET, POSTs, follow seq+1, DELETE -> Closed. */
GST_START_TEST (test_reference_usage_pattern)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *server = make_server (0);
  SoupSession *session = soup_session_new ();
  Subscriber sub = { 0, };
  SoupMessage *msg;
  GThread *thread;
  gchar *url;
  guint port;
  gint i;

  gst_bin_add (GST_BIN (pipeline), server);
  port = start_pipeline (pipeline, server);
  sub.base = g_strdup_printf ("http://127.0.0.1:%u/chan", port);
  sub.received = g_string_new (NULL);
  g_mutex_init (&sub.lock);
  g_cond_init (&sub.cond);

  msg = http (session, "POST", sub.base, NULL, NULL, "Expect-Content",
      "video/MP2T");
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  g_object_unref (msg);

  sub.connected = -1;
  g_signal_connect (server, "subscriber-connected",
      G_CALLBACK (on_subscriber_connected), &sub);
  thread = g_thread_new ("sub", subscriber_thread, &sub);
  for (i = 0; i < 3; i++) {
    gchar body[16];
    /* the subscriber is already waiting on the next seq (preconnect) */
    wait_get_of (&sub, i);
    g_snprintf (body, sizeof (body), "seg%d;", i);
    url = g_strdup_printf ("%s/%d", sub.base, i);
    msg = http (session, "POST", url, body, NULL, "Content-Type", "video/MP2T");
    fail_unless_equals_int (soup_message_get_status (msg), 200);
    g_object_unref (msg);
    g_free (url);
  }
  wait_get_of (&sub, 3);
  msg = http (session, "DELETE", sub.base, NULL, NULL, NULL, NULL);
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  g_object_unref (msg);

  g_thread_join (thread);
  fail_unless (sub.closed);
  fail_unless_equals_int (sub.segments, 3);
  fail_unless_equals_string (sub.received->str, "seg0;seg1;seg2;");

  g_object_unref (session);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_signal_handlers_disconnect_by_func (server, on_subscriber_connected, &sub);
  gst_object_unref (pipeline);
  g_string_free (sub.received, TRUE);
  g_free (sub.base);
  g_mutex_clear (&sub.lock);
  g_cond_clear (&sub.cond);
}

GST_END_TEST;

static gboolean
accept_any (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

GST_START_TEST (test_tls)
{
  GstElement *pipeline, *server;
  SoupSession *session;
  SoupMessage *msg;
  GBytes *body;
  gchar *dir, *cert, *key, *cmd, *url, *openssl, *stderr_text = NULL;
  gint status;
  guint port;

  openssl = g_find_program_in_path ("openssl");
  if (!openssl) {
    GST_WARNING ("openssl not found, skipping TLS test");
    return;
  }
  g_free (openssl);
  dir = g_dir_make_tmp ("trickle-tls-XXXXXX", NULL);
  cert = g_build_filename (dir, "cert.pem", NULL);
  key = g_build_filename (dir, "key.pem", NULL);
  cmd = g_strdup_printf ("openssl req -x509 -newkey rsa:2048 -nodes "
      "-subj /CN=localhost -days 1 -keyout %s -out %s", key, cert);
  fail_unless (g_spawn_command_line_sync (cmd, NULL, &stderr_text, &status,
          NULL));
  g_free (stderr_text);
  fail_unless_equals_int (status, 0);

  pipeline = gst_pipeline_new (NULL);
  server = make_server (0);
  g_object_set (server, "tls-certificate", cert, "tls-key", key, NULL);
  gst_bin_add (GST_BIN (pipeline), server);
  port = start_pipeline (pipeline, server);

  session = soup_session_new ();
  url = g_strdup_printf ("https://127.0.0.1:%u/secure/0", port);
  msg = soup_message_new ("POST", url);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any), NULL);
  body = g_bytes_new_static ("over tls", 8);
  soup_message_set_request_body_from_bytes (msg, "text/plain", body);
  g_bytes_unref (body);
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  fail_unless (body != NULL);
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  g_bytes_unref (body);
  g_object_unref (msg);

  msg = soup_message_new ("GET", url);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any), NULL);
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  fail_unless (body != NULL);
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  fail_unless_equals_int (g_bytes_get_size (body), 8);
  fail_unless (memcmp (g_bytes_get_data (body, NULL), "over tls", 8) == 0);
  fail_unless_equals_string (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Content-Type"), "text/plain");
  g_bytes_unref (body);
  g_object_unref (msg);
  g_object_unref (session);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
  g_free (url);
  g_free (cmd);
  g_free (cert);
  g_free (key);
  g_free (dir);
}

GST_END_TEST;

/* max-header-size reaches the server: a head over it is a 431, one under
 * it is served */
GST_START_TEST (test_max_header_size)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *server = make_server (0);
  SoupSession *session = soup_session_new ();
  gchar *big = g_strnfill (3000, 'x');
  gchar *url;
  SoupMessage *msg;
  guint port, size;

  g_object_get (server, "max-header-size", &size, NULL);
  fail_unless_equals_int (size, 16 * 1024);
  g_object_set (server, "max-header-size", 2048, NULL);
  gst_bin_add (GST_BIN (pipeline), server);
  port = start_pipeline (pipeline, server);
  url = g_strdup_printf ("http://127.0.0.1:%u/ch/next", port);

  msg = http (session, "GET", url, NULL, NULL, "X-Big", big);
  fail_unless_equals_int (soup_message_get_status (msg), 431);
  g_object_unref (msg);
  /* 1000 bytes of header fit */
  big[1000] = '\0';
  msg = http (session, "GET", url, NULL, NULL, "X-Big", big);
  fail_unless_equals_int (soup_message_get_status (msg), 404);
  g_object_unref (msg);

  g_free (url);
  g_free (big);
  g_object_unref (session);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
trickleserver_suite (void)
{
  Suite *s = suite_create ("trickleserver");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_defaults);
  tcase_add_test (tc, test_listen_and_serve);
  tcase_add_test (tc, test_port_in_use);
  tcase_add_test (tc, test_bad_certificate);
  tcase_add_test (tc, test_start_stop_cycles);
  tcase_add_test (tc, test_reference_usage_pattern);
  tcase_add_test (tc, test_tls);
  tcase_add_test (tc, test_max_header_size);
  return s;
}

GST_CHECK_MAIN (trickleserver);
