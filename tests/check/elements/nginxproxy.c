/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tricklesink and tricklesrc through a real nginx (Debian's, started by the
 * test) that terminates TLS, offers HTTP/2 through ALPN (as go-livepeer's
 * orchestrator does with Go's ListenAndServeTLS) and streams to our server
 * on loopback in HTTP/1.1 without buffering. x264enc, mpegtsmux, tsdemux,
 * avdec_h264 from the Debian plugin packages.
 *
 * Also the HTTP client properties that need a real front: user-id/user-pw
 * against nginx's auth_basic, proxy/proxy-id/proxy-pw through a real
 * tinyproxy (Debian's tinyproxy-bin) with BasicAuth.
 *
 * libsoup 3.2.3's HTTP/2 client aborts the process on a streamed POST, so
 * this program always runs its tests in fork mode: a crash is a failed
 * test, not a dead test program.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/trickle/trickle.h>
#include "trickletestutil.h"

typedef struct
{
  gchar *dir;                   /* the test's certificate and nginx files */
  gchar *ca;                    /* dir/cert.pem */
  GPid pid;
  guint port;
} Nginx;

static gboolean
have_h264 (void)
{
  if (trickle_test_have ("x264enc") && trickle_test_have ("mpegtsmux")
      && trickle_test_have ("tsdemux") && trickle_test_have ("avdec_h264"))
    return TRUE;
  GST_WARNING ("encoder/muxer plugins missing, skipping");
  return FALSE;
}

static gchar *
find_nginx (void)
{
  gchar *path = g_find_program_in_path ("nginx");

  /* /usr/sbin is not in every user's PATH */
  if (!path && g_file_test ("/usr/sbin/nginx", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/sbin/nginx");
  return path;
}

static gboolean
port_accepts (guint port)
{
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *conn;

  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL,
      NULL);
  g_object_unref (client);
  if (!conn)
    return FALSE;
  g_object_unref (conn);
  return TRUE;
}

/* nginx goes with the test process, even one that crashed */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* The nginx configuration: everything nginx writes is in @dir (it runs as
 * any user), one process in the foreground (its pid is ours to stop), TLS
 * with HTTP/2 offered (@tls; else plain HTTP/1.1), @extra lines in the
 * server block, and streaming both ways: request bodies passed on as
 * they come (chunked, HTTP/1.1 upstream), answers not buffered, waits as
 * long as a preconnected request's. */
static gchar *
nginx_config (const gchar * dir, guint port, guint upstream, gboolean tls,
    const gchar * extra)
{
  gchar *tls_lines = tls ? g_strdup_printf ("    ssl_certificate "
      "%1$s/cert.pem;\n    ssl_certificate_key %1$s/key.pem;\n", dir) :
      g_strdup ("");
  gchar *conf = g_strdup_printf ("daemon off;\n"
      "master_process off;\n"
      "worker_processes 1;\n"
      "pid %1$s/nginx.pid;\n"
      "error_log %1$s/error.log info;\n"
      "events { worker_connections 256; }\n"
      "http {\n"
      "  log_format proto '$request_method $uri $server_protocol $status';\n"
      "  access_log %1$s/access.log proto;\n"
      "  client_body_temp_path %1$s/client_body;\n"
      "  proxy_temp_path %1$s/proxy;\n"
      "  fastcgi_temp_path %1$s/fastcgi;\n"
      "  uwsgi_temp_path %1$s/uwsgi;\n"
      "  scgi_temp_path %1$s/scgi;\n"
      "  server {\n"
      "    listen 127.0.0.1:%2$u%4$s;\n"
      "%5$s"
      "    client_max_body_size 0;\n"
      "%6$s"
      "    location / {\n"
      "      proxy_pass http://127.0.0.1:%3$u;\n"
      "      proxy_http_version 1.1;\n"
      "      proxy_set_header Connection \"\";\n"
      "      proxy_request_buffering off;\n"
      "      proxy_buffering off;\n"
      "      proxy_read_timeout 300s;\n"
      "      proxy_send_timeout 300s;\n"
      "    }\n" "  }\n" "}\n", dir, port, upstream,
      tls ? " ssl http2" : "", tls_lines, extra ? extra : "");

  g_free (tls_lines);
  return conf;
}

/* starts nginx in front of 127.0.0.1:@upstream; NULL (the test skips)
 * when nginx or openssl is missing */
static Nginx *
nginx_start_full (guint upstream, gboolean tls, const gchar * extra)
{
  Nginx *n;
  GTlsCertificate *cert;
  gchar *nginx, *conf_file, *error_log, *dir = NULL;
  gint attempt;

  nginx = find_nginx ();
  if (!nginx) {
    g_print ("nginx not found (tests/setup.sh installs it): skipping\n");
    return NULL;
  }
  cert = trickle_test_make_certificate (&dir);
  if (!cert) {
    trickle_test_remove_tmpdir (dir);
    g_free (dir);
    g_free (nginx);
    return NULL;
  }
  g_object_unref (cert);
  n = g_new0 (Nginx, 1);
  n->dir = dir;
  n->ca = g_build_filename (dir, "cert.pem", NULL);
  conf_file = g_build_filename (dir, "nginx.conf", NULL);
  error_log = g_build_filename (dir, "error.log", NULL);

  /* the port is free when picked but may be taken before nginx binds it:
   * a few picks */
  for (attempt = 0; attempt < 5 && n->port == 0; attempt++) {
    gchar *conf;
    gchar *argv[] = { nginx, (gchar *) "-p", dir, (gchar *) "-c", conf_file,
      (gchar *) "-e", error_log, NULL
    };
    GError *err = NULL;
    guint port = trickle_test_free_port ();
    gint i, status;

    conf = nginx_config (dir, port, upstream, tls, extra);
    fail_unless (g_file_set_contents (conf_file, conf, -1, NULL));
    g_free (conf);
    fail_unless (g_spawn_async (dir, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
            G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
            die_with_parent, NULL, &n->pid, &err), "nginx: %s",
        err ? err->message : "");
    /* up when it accepts; gone if it could not start (generous: the
     * machine may be loaded) */
    for (i = 0; i < 200; i++) {
      if (waitpid (n->pid, &status, WNOHANG) == n->pid) {
        g_spawn_close_pid (n->pid);
        n->pid = 0;
        break;
      }
      if (port_accepts (port)) {
        n->port = port;
        break;
      }
      g_usleep (50 * 1000);
    }
    if (n->port == 0 && n->pid) {
      kill (n->pid, SIGKILL);
      waitpid (n->pid, &status, 0);
      g_spawn_close_pid (n->pid);
      n->pid = 0;
    }
  }
  if (n->port == 0) {
    gchar *log = NULL;
    g_file_get_contents (error_log, &log, NULL, NULL);
    fail ("nginx did not start: %s", log ? log : "(no error log)");
  }
  g_free (error_log);
  g_free (conf_file);
  g_free (nginx);
  return n;
}

static Nginx *
nginx_start (guint upstream)
{
  return nginx_start_full (upstream, TRUE, NULL);
}

/* stops nginx; returns its access log (one "METHOD uri protocol status"
 * line per request) */
static gchar *
nginx_stop (Nginx * n)
{
  gchar *file = g_build_filename (n->dir, "access.log", NULL);
  gchar *log = NULL;
  gint status;

  kill (n->pid, SIGTERM);
  fail_unless (waitpid (n->pid, &status, 0) == n->pid);
  g_spawn_close_pid (n->pid);
  if (!g_file_get_contents (file, &log, NULL, NULL))
    log = g_strdup ("");
  g_free (file);
  trickle_test_remove_tmpdir (n->dir);
  g_free (n->dir);
  g_free (n->ca);
  g_free (n);
  return log;
}

/* every request of @log to a path starting with @prefix was HTTP/1.1 (the
 * client did not take the HTTP/2 nginx offered); returns their number */
static guint
check_protocols (const gchar * log, const gchar * prefix)
{
  gchar **lines = g_strsplit (log, "\n", -1);
  guint n = 0, i;

  for (i = 0; lines[i]; i++) {
    gchar **f = g_strsplit (lines[i], " ", -1);
    if (g_strv_length (f) == 4 && g_str_has_prefix (f[1], prefix)) {
      fail_unless_equals_string (f[2], "HTTP/1.1");
      n++;
    }
    g_strfreev (f);
  }
  g_strfreev (lines);
  return n;
}

/* frames decoded from the H.264/MPEG-TS byte string @ts */
static guint
decoded_frames (GByteArray * ts)
{
  GstElement *p, *src, *sink;
  GstSample *sample;
  guint n = 0;

  p = trickle_test_start_pipeline ("appsrc name=src "
      "caps=video/mpegts,systemstream=true ! tsdemux ! h264parse ! "
      "avdec_h264 ! appsink name=sink sync=false");
  src = trickle_test_get (p, "src");
  sink = trickle_test_get (p, "sink");
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
          gst_buffer_new_memdup (ts->data, ts->len)), GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              30 * GST_SECOND))) {
    n++;
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)));
  gst_object_unref (src);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (p);
  return n;
}

/* tricklesink publishes H.264/MPEG-TS through nginx (TLS, HTTP/2 offered):
 * every segment reaches the server, all 60 frames decode, and every
 * request went in HTTP/1.1 */
GST_START_TEST (test_publish_through_h2_proxy)
{
  TrickleTestServer *ts;
  Nginx *nginx;
  GByteArray *all;
  GstMessage *msg;
  gchar *desc, *log;
  gint64 seq, next;
  TrickleTestConn *c;

  if (!have_h264 ())
    return;
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 32, NULL);
  trickle_test_server_start (ts, NULL);
  nginx = nginx_start (ts->port);
  if (!nginx) {
    trickle_test_server_free (ts);
    return;
  }
  /* several buffers per segment, written as they come: the POST bodies
   * run dry between them (what libsoup's HTTP/2 client cannot stand) */
  desc = g_strdup_printf ("videotestsrc num-buffers=60 is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=15 ! mpegtsmux ! "
      "tricklesink location=https://localhost:%u/h2pub ssl-ca-file=%s "
      "delete-on-eos=false", nginx->port, nginx->ca);
  msg = trickle_test_run_pipeline (desc);
  fail_unless (msg == NULL, "publishing through nginx failed");
  g_free (desc);

  /* straight from the server */
  c = trickle_test_request (ts->port, "GET", "/h2pub/next", NULL, 0, NULL);
  fail_unless_equals_int (c->status, 200);
  next = g_ascii_strtoll (trickle_test_conn_body_str (c), NULL, 10);
  trickle_test_conn_free (c);
  fail_unless (next >= 4, "%" G_GINT64_FORMAT " segments", next);
  all = g_byte_array_new ();
  for (seq = 0; seq < next; seq++) {
    gchar *path = g_strdup_printf ("/h2pub/%" G_GINT64_FORMAT, seq);
    c = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
    fail_unless_equals_int (c->status, 200);
    fail_unless_equals_int (c->body_result, TRICKLE_TEST_BODY_END);
    g_byte_array_append (all, c->body->data, c->body->len);
    trickle_test_conn_free (c);
    g_free (path);
  }
  fail_unless_equals_int (decoded_frames (all), 60);
  g_byte_array_unref (all);

  log = nginx_stop (nginx);
  fail_unless (check_protocols (log, "/h2pub/") >= 4, "%s", log);
  g_free (log);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* tricklesrc follows a channel through nginx (TLS, HTTP/2 offered): all
 * 60 frames in order, EOS when the channel is deleted, every GET in
 * HTTP/1.1. The channel stays until the subscriber has every frame: a
 * subscriber slower than the publisher (TLS handshakes in a sanitized build
 * on a loaded machine) would otherwise see it deleted while behind, which
 * is an early end of stream */
GST_START_TEST (test_subscribe_through_h2_proxy)
{
  TrickleTestServer *ts;
  Nginx *nginx;
  GstElement *sub, *pub, *sink, *src;
  GstMessage *msg;
  GstSample *sample;
  GstClockTime last = GST_CLOCK_TIME_NONE;
  gchar *desc, *log;
  guint frames = 0;

  if (!have_h264 ())
    return;
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 32, NULL);
  trickle_test_server_start (ts, NULL);
  nginx = nginx_start (ts->port);
  if (!nginx) {
    trickle_test_server_free (ts);
    return;
  }
  desc = g_strdup_printf ("tricklesrc name=src location=https://localhost:%u/"
      "h2sub ssl-ca-file=%s start-seq=0 wait-timeout=30 ! tsdemux ! h264parse ! "
      "avdec_h264 ! appsink name=sink sync=false", nginx->port, nginx->ca);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=60 is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=10 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/h2sub delete-on-eos=false",
      ts->port);
  pub = trickle_test_start_pipeline (desc);
  g_free (desc);

  sink = trickle_test_get (sub, "sink");
  /* all but the last frame, which tsdemux holds until EOS (generous
   * timeouts: a sanitized build on a loaded machine is slow) */
  while (frames < 59 && (sample =
          gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              30 * GST_SECOND))) {
    GstBuffer *b = gst_sample_get_buffer (sample);
    if (GST_CLOCK_TIME_IS_VALID (last))
      fail_unless (GST_BUFFER_PTS (b) > last, "frames out of order");
    last = GST_BUFFER_PTS (b);
    frames++;
    gst_sample_unref (sample);
  }
  fail_unless_equals_int (frames, 59);
  {
    GstBus *bus = gst_element_get_bus (pub);
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (msg != NULL);
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
    gst_message_unref (msg);
    gst_object_unref (bus);
  }
  trickle_test_stop_pipeline (pub);
  {
    TrickleTestConn *c = trickle_test_request (ts->port, "DELETE", "/h2sub",
        NULL, 0, NULL);
    fail_unless_equals_int (c->status, 200);
    trickle_test_conn_free (c);
  }
  /* the last frame, then EOS */
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              30 * GST_SECOND))) {
    frames++;
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)),
      "the subscriber did not end with the channel");
  fail_unless_equals_int (frames, 60);
  gst_object_unref (sink);
  src = trickle_test_get (sub, "src");
  {
    GstStructure *s = NULL;
    guint64 segments = 0;
    g_object_get (src, "stats", &s, NULL);
    fail_unless (gst_structure_get_uint64 (s, "segments", &segments));
    /* 6, and the empty one the publisher's abandoned preconnect left */
    fail_unless (segments >= 6, "%" G_GUINT64_FORMAT " segments", segments);
    gst_structure_free (s);
  }
  gst_object_unref (src);
  trickle_test_stop_pipeline (sub);

  log = nginx_stop (nginx);
  fail_unless (check_protocols (log, "/h2sub/") >= 6, "%s", log);
  g_free (log);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* authentication and proxies */

typedef struct
{
  gchar *dir;
  GPid pid;
  guint port;
} Tinyproxy;

/* tinyproxy on 127.0.0.1 (a free port), asking for BasicAuth tuser/tpass,
 * logging every request into dir/tinyproxy.log; NULL (the test skips) if
 * it is not installed */
static Tinyproxy *
tinyproxy_start (void)
{
  gchar *prog = g_find_program_in_path ("tinyproxy");
  Tinyproxy *t;
  gchar *conf_file;
  gint attempt;

  if (!prog) {
    g_print ("tinyproxy not found (tests/setup.sh installs it): skipping\n");
    return NULL;
  }
  t = g_new0 (Tinyproxy, 1);
  t->dir = g_dir_make_tmp ("trickle-tinyproxy-XXXXXX", NULL);
  fail_unless (t->dir != NULL);
  conf_file = g_build_filename (t->dir, "tinyproxy.conf", NULL);
  for (attempt = 0; attempt < 5 && t->port == 0; attempt++) {
    gchar *argv[] = { prog, (gchar *) "-d", (gchar *) "-c", conf_file, NULL };
    guint port = trickle_test_free_port ();
    gchar *conf = g_strdup_printf ("Port %u\n"
        "Listen 127.0.0.1\n"
        "Timeout 600\n"
        "MaxClients 64\n"
        "LogLevel Info\n"
        "LogFile \"%s/tinyproxy.log\"\n"
        "Allow 127.0.0.1\n" "BasicAuth tuser tpass\n", port, t->dir);
    GError *err = NULL;
    gint i, status;

    fail_unless (g_file_set_contents (conf_file, conf, -1, NULL));
    g_free (conf);
    fail_unless (g_spawn_async (t->dir, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD
            | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
            die_with_parent, NULL, &t->pid, &err), "tinyproxy: %s",
        err ? err->message : "");
    for (i = 0; i < 200; i++) {
      if (waitpid (t->pid, &status, WNOHANG) == t->pid) {
        g_spawn_close_pid (t->pid);
        t->pid = 0;
        break;
      }
      if (port_accepts (port)) {
        t->port = port;
        break;
      }
      g_usleep (50 * 1000);
    }
    if (t->port == 0 && t->pid) {
      kill (t->pid, SIGKILL);
      waitpid (t->pid, &status, 0);
      g_spawn_close_pid (t->pid);
      t->pid = 0;
    }
  }
  fail_unless (t->port != 0, "tinyproxy did not start");
  g_free (conf_file);
  g_free (prog);
  return t;
}

/* stops tinyproxy; returns its log */
static gchar *
tinyproxy_stop (Tinyproxy * t)
{
  gchar *file = g_build_filename (t->dir, "tinyproxy.log", NULL);
  gchar *log = NULL;
  gint status;

  kill (t->pid, SIGTERM);
  fail_unless (waitpid (t->pid, &status, 0) == t->pid);
  g_spawn_close_pid (t->pid);
  if (!g_file_get_contents (file, &log, NULL, NULL))
    log = g_strdup ("");
  g_free (file);
  trickle_test_remove_tmpdir (t->dir);
  g_free (t->dir);
  g_free (t);
  return log;
}

/* publishes three 32x32 I420 frames to @location (with the element
 * properties @props) and reads them back through a tricklesrc with the
 * same properties, from seq 0 */
static void
publish_and_read (const gchar * location, const gchar * props)
{
  GstElement *sub, *sink;
  GstSample *sample;
  GstMessage *msg;
  gchar *desc;
  gint i;

  desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=32,height=32,framerate=20/1 ! "
      "tricklesink location=%s delete-on-eos=false %s", location, props);
  msg = trickle_test_run_pipeline (desc);
  if (msg) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    fail ("%s: %s (%s)", desc, err->message, GST_STR_NULL (dbg));
  }
  g_free (desc);
  desc = g_strdup_printf ("tricklesrc location=%s start-seq=0 %s ! "
      "appsink name=sink sync=false", location, props);
  sub = trickle_test_start_pipeline (desc);
  g_free (desc);
  sink = trickle_test_get (sub, "sink");
  for (i = 0; i < 3; i++) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        30 * GST_SECOND);
    fail_unless (sample != NULL, "frame %d not read back", i);
    fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
            (sample)), 32 * 32 * 3 / 2);
    gst_sample_unref (sample);
  }
  gst_object_unref (sink);
  trickle_test_stop_pipeline (sub);
}

/* both elements, with @props, fail at once with RESOURCE/NOT_AUTHORIZED */
static void
check_refused (const gchar * location, const gchar * props)
{
  GstMessage *msg;
  gchar *desc;
  gint i;

  for (i = 0; i < 2; i++) {
    desc = g_strdup_printf (i == 0 ?
        "videotestsrc num-buffers=3 ! video/x-raw,width=32,height=32 ! "
        "tricklesink location=%s %s" :
        "tricklesrc location=%s %s ! fakesink", location, props);
    msg = trickle_test_run_pipeline (desc);
    fail_unless (msg != NULL, "%s: no error", desc);
    gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_AUTHORIZED);
    gst_message_unref (msg);
    g_free (desc);
  }
}

/* user-id/user-pw against nginx's auth_basic in front of the server: with
 * them both elements publish and read through it (nginx answered 401 to
 * the first bodiless request of each and 200 to the channel's requests
 * that followed); without them, or with a wrong password,
 * RESOURCE/NOT_AUTHORIZED for both */
GST_START_TEST (test_basic_auth)
{
  TrickleTestServer *ts;
  Nginx *nginx;
  gchar *extra, *htpasswd, *location, *log;

  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  htpasswd = g_build_filename (g_get_tmp_dir (), "trickle-htpasswd-XXXXXX",
      NULL);
  {
    gint fd = g_mkstemp (htpasswd);
    fail_unless (fd >= 0);
    close (fd);
  }
  fail_unless (g_file_set_contents (htpasswd, "tuser:{PLAIN}tpass\n", -1,
          NULL));
  extra = g_strdup_printf ("    auth_basic \"trickle\";\n"
      "    auth_basic_user_file %s;\n", htpasswd);
  nginx = nginx_start_full (ts->port, FALSE, extra);
  g_free (extra);
  if (!nginx) {
    g_unlink (htpasswd);
    g_free (htpasswd);
    trickle_test_server_free (ts);
    return;
  }
  location = g_strdup_printf ("http://127.0.0.1:%u/auth", nginx->port);

  publish_and_read (location, "user-id=tuser user-pw=tpass");
  check_refused (location, "user-id=tuser user-pw=wrong");
  check_refused (location, "");

  log = nginx_stop (nginx);
  /* through nginx: the segments' POSTs and GETs, accepted */
  fail_unless (strstr (log, "POST /auth/0 HTTP/1.1 200") != NULL, "%s", log);
  fail_unless (strstr (log, "GET /auth/0 HTTP/1.1 200") != NULL, "%s", log);
  fail_unless (strstr (log, " 401") != NULL, "%s", log);
  g_free (log);
  g_free (location);
  g_unlink (htpasswd);
  g_free (htpasswd);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* proxy, proxy-id, proxy-pw: both elements publish and read through a
 * real tinyproxy asking for BasicAuth (its log has the channel's POSTs and
 * GETs, so they went through it); a wrong proxy password or none is
 * RESOURCE/NOT_AUTHORIZED (407) for both; an invalid proxy URI a
 * RESOURCE/SETTINGS error */
GST_START_TEST (test_proxy)
{
  TrickleTestServer *ts;
  Tinyproxy *tp;
  GstMessage *msg;
  gchar *location, *props, *log, *line;

  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 16, NULL);
  trickle_test_server_start (ts, NULL);
  tp = tinyproxy_start ();
  if (!tp) {
    trickle_test_server_free (ts);
    return;
  }
  location = g_strdup_printf ("http://127.0.0.1:%u/pxy", ts->port);

  props = g_strdup_printf ("proxy=127.0.0.1:%u proxy-id=tuser "
      "proxy-pw=tpass", tp->port);
  publish_and_read (location, props);
  g_free (props);
  props = g_strdup_printf ("proxy=http://127.0.0.1:%u proxy-id=tuser "
      "proxy-pw=wrong", tp->port);
  check_refused (location, props);
  g_free (props);
  props = g_strdup_printf ("proxy=http://127.0.0.1:%u", tp->port);
  check_refused (location, props);
  g_free (props);

  msg = trickle_test_run_pipeline ("tricklesrc location=http://127.0.0.1:9/x "
      "proxy=\"ftp://127.0.0.1:1\" ! fakesink");
  fail_unless (msg != NULL);
  gst_check_message_error (msg, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_SETTINGS);
  gst_message_unref (msg);

  log = tinyproxy_stop (tp);
  line = g_strdup_printf ("POST %s/0 HTTP/1.1", location);
  fail_unless (strstr (log, line) != NULL, "%s", log);
  g_free (line);
  line = g_strdup_printf ("GET %s/0 HTTP/1.1", location);
  fail_unless (strstr (log, line) != NULL, "%s", log);
  g_free (line);
  g_free (log);
  g_free (location);
  trickle_test_server_free (ts);
}

GST_END_TEST;

static Suite *
nginxproxy_suite (void)
{
  Suite *s = suite_create ("nginxproxy");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 90);
  tcase_add_test (tc, test_publish_through_h2_proxy);
  tcase_add_test (tc, test_subscribe_through_h2_proxy);
  tcase_add_test (tc, test_basic_auth);
  tcase_add_test (tc, test_proxy);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  gint failed;

  gst_check_init (&argc, &argv);
  sr = srunner_create (nginxproxy_suite ());
  /* always: an abort inside libsoup must fail one test, not end the
   * program (CK_FORK=no would otherwise apply) */
  srunner_set_fork_status (sr, CK_FORK);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
