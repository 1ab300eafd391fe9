/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Library General Public License for more details.
 */
/*
 * The trickle protocol's requests (docs/protocol.md, "Endpoints"): the
 * routing of a parsed request and one function per row of the protocol's
 * table of requests:
 *
 * - `POST /{ch}`: endpoint_create_channel()
 * - `DELETE /{ch}`: endpoint_delete_channel()
 * - `POST /{ch}/{seq}`: endpoint_post_segment(), then the body in
 *   _gst_trickle_http_endpoint_post_body()
 * - `GET /{ch}/{seq}`: endpoint_get_segment(), then the answer in
 *   _gst_trickle_http_endpoint_get_stream()
 * - `HEAD /{ch}/{seq}`: endpoint_head_segment()
 * - `GET` or `HEAD /{ch}/next`: endpoint_next()
 * - `DELETE /{ch}/{seq}`: endpoint_delete_segment()
 * - other methods: endpoint_not_allowed()
 * - other paths: endpoint_not_found()
 *
 * They run on the connection's worker thread and answer through the
 * connection (tricklehttpconnection.c); the channel store is thread safe.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "tricklehttpconnection-private.h"

/* a publisher's body is read this much at a time, and at most
 * BODY_STEP_BUDGET per step before the worker's other connections run */
#define BODY_READ_SIZE 65536
#define BODY_STEP_BUDGET (4 * BODY_READ_SIZE)

/* ------------------------------------------------------------------------ */
/* request routing */

static gboolean
is_safe_name_char (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* percent-decodes one path component; FALSE on a bad escape */
static gboolean
decode_component (const gchar * s, gsize len, GString * out)
{
  gsize i;

  g_string_truncate (out, 0);
  for (i = 0; i < len; i++) {
    if (s[i] == '%') {
      guint8 c;

      if (i + 2 >= len || !g_ascii_isxdigit (s[i + 1])
          || !g_ascii_isxdigit (s[i + 2]))
        return FALSE;
      c = g_ascii_xdigit_value (s[i + 1]) * 16 +
          g_ascii_xdigit_value (s[i + 2]);
      /* an escaped control character (%00 would cut the string short:
       * /ch/0%00x read as /ch/0) is no name, no index */
      if (c < 0x20 || c == 0x7f)
        return FALSE;
      g_string_append_c (out, (gchar) c);
      i += 2;
    } else {
      g_string_append_c (out, s[i]);
    }
  }
  return TRUE;
}

static gboolean
parse_seq (const gchar * s, gboolean for_write, gint64 * seq)
{
  gint64 v;

  if (!g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, &v, NULL))
    return FALSE;
  if (v < 0 && v != GST_TRICKLE_SEQ_NEXT && v != GST_TRICKLE_SEQ_CURRENT)
    return FALSE;
  /* a GET far ahead is simply "gone" (470); a POST must leave room for
   * seq + 1 */
  if (for_write && v > GST_TRICKLE_SEQ_MAX)
    return FALSE;
  *seq = v;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* the endpoints */

/* POST /{ch} */
static void
endpoint_create_channel (TrickleHttpConn * conn, const gchar * name,
    SoupMessageHeaders * headers)
{
  GstTrickleHttpServer *server = conn->worker->server;
  GstTrickleChannel *ch;
  GError *err = NULL;

  ch = gst_trickle_channel_store_lookup (server->store, name);
  if (!ch) {
    if (!_gst_trickle_channel_store_get_auto_create (server->store)) {
      _gst_trickle_http_conn_respond_error (conn, SOUP_STATUS_NOT_FOUND,
          "Stream not found");
      return;
    }
    ch = gst_trickle_channel_store_create (server->store, name,
        soup_message_headers_get_one (headers, "Expect-Content"), &err);
    if (!ch) {
      _gst_trickle_http_conn_respond_error (conn,
          SOUP_STATUS_SERVICE_UNAVAILABLE, err->message);
      g_clear_error (&err);
      return;
    }
  }
  gst_trickle_channel_unref (ch);
  _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, NULL, NULL, NULL, 0);
}

/* DELETE /{ch} */
static void
endpoint_delete_channel (TrickleHttpConn * conn, const gchar * name)
{
  if (gst_trickle_channel_store_remove (conn->worker->server->store, name))
    _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, NULL, NULL, NULL, 0);
  else
    _gst_trickle_http_conn_respond_error (conn, SOUP_STATUS_BAD_REQUEST,
        "Invalid stream");
}

/* the publisher is done with its segment one way or another: answer it */
static void
post_respond (TrickleHttpConn * conn, gboolean early)
{
  GString *extra = g_string_new (NULL);
  gint64 seq = gst_trickle_segment_get_seq (conn->segment);
  gboolean closed = gst_trickle_channel_is_closed (conn->channel);

  if (early)
    conn->close_after = TRUE;
  if (closed)
    g_string_append (extra, "Lp-Trickle-Closed: terminated\r\n");
  _gst_trickle_http_header_int (extra, "Lp-Trickle-Seq", seq);
  _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, extra->str, NULL,
      NULL, 0);
  g_string_free (extra, TRUE);
  _gst_trickle_http_conn_release_segment (conn);
  /* Subscribers first: finishing the segment queued this worker's readers
   * of it; the publisher's answer goes out after their last chunk, so a
   * subscriber learns a segment ended no later than its publisher does. */
  if (!early) {
    conn->respond_later = TRUE;
    _gst_trickle_http_conn_wake (conn);
  }
}

/* POST /{ch}/{seq}: claims the segment; the body follows
 * (_gst_trickle_http_endpoint_post_body()) */
static void
endpoint_post_segment (TrickleHttpConn * conn, const gchar * name, gint64 seq,
    SoupMessageHeaders * headers)
{
  GstTrickleHttpServer *server = conn->worker->server;
  GstTrickleChannel *ch;
  GError *err = NULL;
  const gchar *expect;

  if (seq == GST_TRICKLE_SEQ_CURRENT) {
    _gst_trickle_http_conn_respond_error_close (conn, SOUP_STATUS_BAD_REQUEST,
        "Invalid idx");
    return;
  }
  ch = gst_trickle_channel_store_lookup (server->store, name);
  if (!ch && _gst_trickle_channel_store_get_auto_create (server->store)) {
    ch = gst_trickle_channel_store_create (server->store, name,
        soup_message_headers_get_content_type (headers, NULL) ?
        soup_message_headers_get_one (headers, "Content-Type") : NULL, &err);
    if (!ch) {
      _gst_trickle_http_conn_respond_error_close (conn,
          SOUP_STATUS_SERVICE_UNAVAILABLE, err->message);
      g_clear_error (&err);
      return;
    }
  }
  if (!ch) {
    _gst_trickle_http_conn_respond_error_close (conn, SOUP_STATUS_NOT_FOUND,
        "Stream not found");
    return;
  }
  /* a pipeline's hosted channel follows each POST's Content-Type, a
   * channel made without a type takes the first (the reference keeps the
   * type a channel was made with, none included) */
  _gst_trickle_channel_publisher_content_type (ch,
      soup_message_headers_get_one (headers, "Content-Type"));

  conn->segment = _gst_trickle_channel_open_write_claim (ch, seq,
      soup_message_headers_get_one (headers, "Lp-Trickle-Reset") != NULL,
      &conn->writer);
  if (!conn->segment) {
    GString *extra = g_string_new ("Lp-Trickle-Closed: terminated\r\n");
    _gst_trickle_http_header_int (extra, "Lp-Trickle-Seq", seq);
    conn->close_after = TRUE;
    _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, extra->str, NULL,
        NULL, 0);
    g_string_free (extra, TRUE);
    gst_trickle_channel_unref (ch);
    return;
  }
  conn->channel = ch;
  conn->close_after = FALSE;
  if (conn->writer == 0) {
    /* that seq was written already: as the reference, keep it and answer
     * without reading the body */
    post_respond (conn, TRUE);
    return;
  }
  conn->waiter.func = _gst_trickle_http_conn_wake;
  conn->waiter.user_data = conn;
  gst_trickle_segment_add_waiter (conn->segment, &conn->waiter);
  conn->waiting = TRUE;
  conn->got_body_byte = FALSE;
  conn->state = CONN_BODY;
  conn->publishing = TRUE;
  _gst_trickle_http_conn_emit (conn, TRICKLE_HTTP_SIGNAL_PUBLISHER_CONNECTED,
      gst_trickle_segment_get_seq (conn->segment), FALSE);
  conn->next_keepalive = g_get_monotonic_time () +
      (gint64) server->keepalive_interval * 1000;

  expect = soup_message_headers_get_one (headers, "Expect");
  if (expect && g_ascii_strcasecmp (expect, "100-continue") == 0 &&
      !conn->http10)
    _gst_trickle_http_conn_push (conn, NULL,
        (const guint8 *) TRICKLE_HTTP_CONTINUE_100,
        sizeof (TRICKLE_HTTP_CONTINUE_100) - 1);
}

/* the segment is not (or no longer) in the window: 470 */
static void
respond_gone (TrickleHttpConn * conn, gint64 seq, gint64 latest)
{
  GString *extra = g_string_new (NULL);

  _gst_trickle_http_header_int (extra, "Lp-Trickle-Latest", latest);
  _gst_trickle_http_header_int (extra, "Lp-Trickle-Seq", seq);
  _gst_trickle_http_conn_respond (conn, 470, extra->str,
      "text/plain; charset=utf-8", "Entry not found", 15);
  g_string_free (extra, TRUE);
}

/* GET /{ch}/{seq}: subscribes to the segment; the stream follows
 * (_gst_trickle_http_endpoint_get_stream()) */
static void
endpoint_get_segment (TrickleHttpConn * conn, GstTrickleChannel * ch,
    gint64 seq, gboolean drained)
{
  GstTrickleReadResult result;
  GstTrickleSegment *seg;
  gint64 latest;

  seg = gst_trickle_channel_open_read (ch, seq, &result, &latest);
  conn->drained_read = drained;
  if (drained && result != GST_TRICKLE_READ_OK) {
    /* a deleted channel: only its kept segments are known */
    _gst_trickle_http_conn_respond_error (conn, SOUP_STATUS_NOT_FOUND,
        "Stream not found");
    return;
  }
  if (result == GST_TRICKLE_READ_GONE) {
    respond_gone (conn, seq, latest);
    return;
  }
  if (result == GST_TRICKLE_READ_CLOSED) {
    GString *extra = g_string_new ("Lp-Trickle-Closed: terminated\r\n");
    _gst_trickle_http_header_int (extra, "Lp-Trickle-Latest", latest);
    _gst_trickle_http_header_int (extra, "Lp-Trickle-Seq", seq);
    _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, extra->str, NULL,
        NULL, 0);
    g_string_free (extra, TRUE);
    return;
  }

  conn->channel = gst_trickle_channel_ref (ch);
  conn->subscribed = TRUE;
  _gst_trickle_channel_add_subscriber (ch, 1);
  conn->segment = seg;
  _gst_trickle_http_conn_emit (conn, TRICKLE_HTTP_SIGNAL_SUBSCRIBER_CONNECTED,
      gst_trickle_segment_get_seq (seg), FALSE);
  conn->latest = latest;
  conn->headers_sent = FALSE;
  conn->next_page = 0;
  conn->waiter.func = _gst_trickle_http_conn_wake;
  conn->waiter.user_data = conn;
  gst_trickle_segment_add_waiter (seg, &conn->waiter);
  conn->waiting = TRUE;
  conn->state = CONN_STREAM;
}

/* HEAD /{ch}/{seq}: opened as a GET is (the 470 and closed answers alike);
 * the stream step then answers with the head at once (conn->is_head) */
static void
endpoint_head_segment (TrickleHttpConn * conn, GstTrickleChannel * ch,
    gint64 seq, gboolean drained)
{
  endpoint_get_segment (conn, ch, seq, drained);
}

/* GET or HEAD /{ch}/next */
static void
endpoint_next (TrickleHttpConn * conn, GstTrickleChannel * ch)
{
  gint64 next = gst_trickle_channel_get_next_seq (ch);
  GString *extra = g_string_new (NULL);
  gchar body[32];

  _gst_trickle_http_header_int (extra, "Lp-Trickle-Latest", next);
  if (gst_trickle_channel_is_closed (ch))
    g_string_append (extra, "Lp-Trickle-Closed: terminated\r\n");
  g_snprintf (body, sizeof (body), "%" G_GINT64_FORMAT, next);
  _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, extra->str,
      "text/plain; charset=utf-8", body, strlen (body));
  g_string_free (extra, TRUE);
}

/* DELETE /{ch}/{seq} */
static void
endpoint_delete_segment (TrickleHttpConn * conn, GstTrickleChannel * ch,
    gint64 seq)
{
  if (gst_trickle_channel_close_segment (ch, seq))
    _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, NULL, NULL, NULL, 0);
  else
    _gst_trickle_http_conn_respond_error (conn, SOUP_STATUS_BAD_REQUEST,
        "Nonexistent segment");
}

/* other methods: 405 with the methods @allow(ed) */
static void
endpoint_not_allowed (TrickleHttpConn * conn, const gchar * allow)
{
  gchar *extra = g_strdup_printf ("Allow: %s\r\n"
      "X-Content-Type-Options: nosniff\r\n", allow);

  _gst_trickle_http_conn_respond (conn, SOUP_STATUS_METHOD_NOT_ALLOWED,
      extra, "text/plain; charset=utf-8", "Method Not Allowed\n", 19);
  g_free (extra);
}

/* other paths */
static void
endpoint_not_found (TrickleHttpConn * conn)
{
  _gst_trickle_http_conn_respond_error_close (conn, SOUP_STATUS_NOT_FOUND,
      "404 page not found");
}

/* ------------------------------------------------------------------------ */
/* routing */

/* the tokens, the authorize signal, read-only channels: FALSE when the
 * request was answered (refused) */
static gboolean
allowed (TrickleHttpConn * conn, TrickleHttpRequest * req,
    TrickleHttpAction action, gboolean next, const gchar * name)
{
  GstTrickleHttpServer *server = conn->worker->server;
  const gchar *auth = soup_message_headers_get_list (req->headers,
      "Authorization");
  gboolean read_only = FALSE;
  gchar *token = NULL;
  guint status;

  /* two Authorization headers: which one a front end checked is unknown */
  if (auth && strchr (auth, ',')) {
    _gst_trickle_http_conn_respond_error_close (conn,
        SOUP_STATUS_BAD_REQUEST, "More than one Authorization");
    return FALSE;
  }
  /* a guarded name decides, whether its channel exists now or not (an idle
   * sweep, a DELETE, a POST creating it first); else the channel's own */
  if (!_gst_trickle_channel_store_get_guard (server->store, name, &read_only,
          &token)) {
    GstTrickleChannel *ch = gst_trickle_channel_store_lookup (server->store,
        name);

    if (ch) {
      read_only = gst_trickle_channel_get_read_only (ch);
      token = _gst_trickle_channel_dup_publish_token (ch);
      gst_trickle_channel_unref (ch);
    }
  }
  status = _gst_trickle_http_server_authorize (server, req->method, action,
      next, name, action == TRICKLE_HTTP_ACTION_SUBSCRIBE ? NULL : token,
      req->headers, conn->socket);
  g_free (token);
  if (status == SOUP_STATUS_UNAUTHORIZED) {
    _gst_trickle_http_conn_respond (conn, status,
        "WWW-Authenticate: Bearer realm=\"trickle\"\r\n"
        "X-Content-Type-Options: nosniff\r\n", "text/plain; charset=utf-8",
        "Unauthorized\n", 13);
    return FALSE;
  }
  if (status) {
    _gst_trickle_http_conn_respond_error (conn, status,
        soup_status_get_phrase (status) ? soup_status_get_phrase (status) :
        "Refused");
    return FALSE;
  }
  if (read_only && (action == TRICKLE_HTTP_ACTION_PUBLISH
          || action == TRICKLE_HTTP_ACTION_DELETE)) {
    _gst_trickle_http_conn_respond_error (conn, SOUP_STATUS_FORBIDDEN,
        "Channel is written by the server");
    return FALSE;
  }
  return TRUE;
}

/* Answers a parsed request: checks its path and calls the endpoint of its
 * method and path. */
void
_gst_trickle_http_route (TrickleHttpConn * conn, TrickleHttpRequest * req)
{
  GstTrickleHttpServer *server = conn->worker->server;
  const gchar *method = req->method, *path = req->target, *q;
  gchar **parts = NULL;
  GString *name = NULL, *idx = NULL;
  GstTrickleChannel *ch = NULL;
  gboolean drained = FALSE;
  gsize base_len = strlen (server->base_path);
  guint n, i;
  gint64 seq;
  gchar *path_only;

  conn->is_head = g_str_equal (method, "HEAD");

  /* over max-connections-per-client */
  if (conn->refused) {
    conn->close_after = TRUE;
    _gst_trickle_http_conn_respond (conn, 429, "Retry-After: 1\r\n"
        "X-Content-Type-Options: nosniff\r\n", "text/plain; charset=utf-8",
        "Too many connections\n", 21);
    return;
  }

  /* absolute-form request targets */
  if (g_ascii_strncasecmp (path, "http://", 7) == 0
      || g_ascii_strncasecmp (path, "https://", 8) == 0) {
    path = strchr (strstr (path, "//") + 2, '/');
    if (!path)
      path = "/";
  }
  q = strpbrk (path, "?#");
  path_only = q ? g_strndup (path, q - path) : g_strdup (path);
  if (path_only[0] != '/') {
    _gst_trickle_http_conn_respond_error_close (conn, SOUP_STATUS_BAD_REQUEST,
        "Bad request");
    goto out;
  }

  /* `.` and `..` anywhere, raw or escaped: refused, never redirected */
  parts = g_strsplit (path_only, "/", -1);
  name = g_string_new (NULL);
  idx = g_string_new (NULL);
  for (i = 0; parts[i]; i++) {
    if (!decode_component (parts[i], strlen (parts[i]), name)) {
      _gst_trickle_http_conn_respond_error_close (conn,
          SOUP_STATUS_BAD_REQUEST, "Invalid escape");
      goto out;
    }
    if (g_str_equal (name->str, ".") || g_str_equal (name->str, "..")) {
      _gst_trickle_http_conn_respond_error_close (conn,
          SOUP_STATUS_BAD_REQUEST, "Invalid path");
      goto out;
    }
  }
  g_strfreev (parts);
  parts = NULL;

  if (strncmp (path_only, server->base_path, base_len) != 0) {
    endpoint_not_found (conn);
    goto out;
  }
  parts = g_strsplit (path_only + base_len, "/", -1);
  n = g_strv_length (parts);
  for (i = 0; i < n; i++) {
    if (parts[i][0] == '\0')
      break;
  }
  if (n == 0 || n > 2 || i < n) {
    endpoint_not_found (conn);
    goto out;
  }
  decode_component (parts[0], strlen (parts[0]), name);
  if (name->len > TRICKLE_HTTP_MAX_NAME_LENGTH
      || strlen (name->str) != name->len) {
    _gst_trickle_http_conn_respond_error_close (conn, SOUP_STATUS_BAD_REQUEST,
        "Invalid channel name");
    goto out;
  }
  for (i = 0; i < name->len; i++) {
    if (!is_safe_name_char (name->str[i])) {
      _gst_trickle_http_conn_respond_error_close (conn,
          SOUP_STATUS_BAD_REQUEST, "Invalid channel name");
      goto out;
    }
  }

  /* max-channel-request-rate */
  {
    guint wait = _gst_trickle_http_server_channel_rate (server, name->str);

    if (wait) {
      gchar *extra = g_strdup_printf ("Retry-After: %u\r\n"
          "X-Content-Type-Options: nosniff\r\n", wait);

      /* a refused POST's body is not read */
      if (g_str_equal (method, "POST"))
        conn->close_after = TRUE;
      _gst_trickle_http_conn_respond (conn, SOUP_STATUS_SERVICE_UNAVAILABLE,
          extra, "text/plain; charset=utf-8", "Too many requests on this "
          "channel\n", 34);
      g_free (extra);
      goto out;
    }
  }

  /* /{ch} */
  if (n == 1) {
    if (g_str_equal (method, "POST")) {
      if (allowed (conn, req, TRICKLE_HTTP_ACTION_CREATE, FALSE, name->str))
        endpoint_create_channel (conn, name->str, req->headers);
    } else if (g_str_equal (method, "DELETE")) {
      if (allowed (conn, req, TRICKLE_HTTP_ACTION_DELETE, FALSE, name->str))
        endpoint_delete_channel (conn, name->str);
    } else {
      endpoint_not_allowed (conn, "DELETE, POST");
    }
    goto out;
  }

  /* /{ch}/{seq} and /{ch}/next */
  decode_component (parts[1], strlen (parts[1]), idx);
  if (g_str_equal (method, "POST")) {
    if (!parse_seq (idx->str, TRUE, &seq)) {
      _gst_trickle_http_conn_respond_error_close (conn,
          SOUP_STATUS_BAD_REQUEST, "Invalid idx");
      goto out;
    }
    if (allowed (conn, req, TRICKLE_HTTP_ACTION_PUBLISH, FALSE, name->str))
      endpoint_post_segment (conn, name->str, seq, req->headers);
    goto out;
  }
  if (!g_str_equal (method, "GET") && !conn->is_head
      && !g_str_equal (method, "DELETE")) {
    endpoint_not_allowed (conn, "DELETE, GET, HEAD, POST");
    goto out;
  }
  if (!allowed (conn, req, g_str_equal (method, "DELETE") ?
          TRICKLE_HTTP_ACTION_PUBLISH : TRICKLE_HTTP_ACTION_SUBSCRIBE,
          g_str_equal (idx->str, "next"), name->str))
    goto out;

  ch = gst_trickle_channel_store_lookup (server->store, name->str);
  if (!ch && !g_str_equal (method, "DELETE")
      && parse_seq (idx->str, FALSE, &seq)) {
    /* a deleted channel's segments are still read by the subscribers
     * behind its end (anything else of it is unknown) */
    ch = _gst_trickle_channel_store_lookup_drained (server->store, name->str);
    drained = ch != NULL;
  }
  if (!ch) {
    _gst_trickle_http_conn_respond_error (conn, SOUP_STATUS_NOT_FOUND,
        "Stream not found");
    goto out;
  }
  if (!g_str_equal (method, "DELETE") && g_str_equal (idx->str, "next")) {
    endpoint_next (conn, ch);
    goto out;
  }
  if (!parse_seq (idx->str, FALSE, &seq)) {
    _gst_trickle_http_conn_respond_error (conn, SOUP_STATUS_BAD_REQUEST,
        "Invalid idx");
    goto out;
  }
  if (g_str_equal (method, "DELETE"))
    endpoint_delete_segment (conn, ch, seq);
  else if (conn->is_head)
    endpoint_head_segment (conn, ch, seq, drained);
  else
    endpoint_get_segment (conn, ch, seq, drained);

out:
  if (ch)
    gst_trickle_channel_unref (ch);
  if (name)
    g_string_free (name, TRUE);
  if (idx)
    g_string_free (idx, TRUE);
  g_strfreev (parts);
  g_free (path_only);
}

/* ------------------------------------------------------------------------ */
/* a segment POST's body, a segment GET's stream */

/* CONN_BODY: reads the body of a segment POST into the segment */
void
_gst_trickle_http_endpoint_post_body (TrickleHttpConn * conn)
{
  gboolean done = _gst_trickle_http_body_decoder_is_done (&conn->body);
  gsize got = 0;
  gssize n;

  if (!_gst_trickle_segment_writer_is_current (conn->segment, conn->writer)) {
    /* closed by DELETE, by the channel closing, or taken by a retry */
    if (!conn->got_body_byte && gst_trickle_segment_get_state (conn->segment)
        != GST_TRICKLE_SEGMENT_OPEN)
      _gst_trickle_channel_mark_empty_written (conn->channel,
          gst_trickle_segment_get_seq (conn->segment));
    post_respond (conn, TRUE);
    return;
  }

  for (;;) {
    if (conn->rpos < conn->rlen && !done) {
      gsize start = conn->rpos, used;
      GByteArray *page = g_byte_array_sized_new (conn->rlen - conn->rpos);
      GBytes *bytes;
      TrickleAppendResult res;
      gboolean ok;

      ok = _gst_trickle_http_body_decode (&conn->body, conn->rbuf + start,
          conn->rlen - start, &used, page);
      conn->rpos += used;
      done = _gst_trickle_http_body_decoder_is_done (&conn->body);
      if (!ok) {
        g_byte_array_unref (page);
        _gst_trickle_segment_end (conn->segment, GST_TRICKLE_SEGMENT_ABORTED);
        _gst_trickle_http_conn_release_segment (conn);
        _gst_trickle_http_conn_respond_error_close (conn,
            SOUP_STATUS_BAD_REQUEST, "Bad chunk");
        return;
      }
      if (page->len * 2 < conn->rlen - start) {
        /* mostly framing (tiny chunks): keep only the payload */
        bytes = g_bytes_new (page->data, page->len);
        g_byte_array_unref (page);
      } else {
        bytes = g_byte_array_free_to_bytes (page);
      }
      if (g_bytes_get_size (bytes) > 0) {
        conn->got_body_byte = TRUE;
        conn->last_rx = g_get_monotonic_time ();
      }
      res = _gst_trickle_channel_append_claimed (conn->channel, conn->segment,
          conn->writer, bytes);
      g_bytes_unref (bytes);
      if (res == TRICKLE_APPEND_TOO_LARGE) {
        _gst_trickle_http_conn_release_segment (conn);
        _gst_trickle_http_conn_respond_error_close (conn,
            SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "Segment too large");
        return;
      }
      if (res == TRICKLE_APPEND_CLOSED) {
        post_respond (conn, TRUE);
        return;
      }
    }
    if (done) {
      gint64 seq = gst_trickle_segment_get_seq (conn->segment);
      if (!conn->got_body_byte)
        _gst_trickle_channel_mark_empty_written (conn->channel, seq);
      gst_trickle_channel_finish (conn->channel, conn->segment);
      post_respond (conn, FALSE);
      return;
    }
    if (got >= BODY_STEP_BUDGET) {
      /* let the subscribers (and other publishers) of this worker run;
       * the socket is still readable, epoll reports it again */
      _gst_trickle_http_conn_want_input (conn, TRUE);
      break;
    }
    n = _gst_trickle_http_conn_read (conn, BODY_READ_SIZE);
    if (n == -1)
      break;
    if (n <= 0) {
      /* disconnected mid-body: closing aborts the segment */
      _gst_trickle_http_conn_close (conn);
      return;
    }
    got += n;
  }
}

/* CONN_STREAM: sends a segment GET's answer (or a HEAD's) as the segment
 * is written */
void
_gst_trickle_http_endpoint_get_stream (TrickleHttpConn * conn)
{
  GBytes *pages[TRICKLE_HTTP_MAX_PAGES_PER_WRITE];
  GstTrickleSegmentState state;
  gsize total = 0;
  guint n, i;

  for (;;) {
    if (conn->out_n > 0 && !_gst_trickle_http_conn_flush (conn))
      return;
    if (conn->is_head) {
      GString *extra = g_string_new (NULL);
      gchar *mime = gst_trickle_channel_dup_mime_type (conn->channel);
      gint64 seq = gst_trickle_segment_get_seq (conn->segment);
      if (seq != conn->latest)
        _gst_trickle_http_header_int (extra, "Lp-Trickle-Latest", conn->latest);
      _gst_trickle_http_header_int (extra, "Lp-Trickle-Seq", seq);
      _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, extra->str, mime,
          NULL, 0);
      g_string_free (extra, TRUE);
      g_free (mime);
      _gst_trickle_http_conn_release_segment (conn);
      return;
    }

    n = gst_trickle_segment_peek_pages (conn->segment, conn->next_page, pages,
        TRICKLE_HTTP_MAX_PAGES_PER_WRITE, &state);
    if (!conn->headers_sent) {
      GString *s;
      gint64 seq = gst_trickle_segment_get_seq (conn->segment);

      if (n == 0 && state == GST_TRICKLE_SEGMENT_OPEN)
        return;                 /* preconnected: wait for the first byte */
      if (state == GST_TRICKLE_SEGMENT_ABORTED) {
        /* incomplete: a reader that has nothing yet gets it as dropped */
        for (i = 0; i < n; i++)
          g_bytes_unref (pages[i]);
        n = 0;
      }
      s = g_string_new (NULL);
      if (n == 0) {
        /* ended without data (dropped, reset, channel closed; one kept
         * by a deleted channel had ended before it: the next may not) */
        if (gst_trickle_channel_is_closed (conn->channel)
            && !conn->drained_read)
          g_string_append (s, "Lp-Trickle-Closed: terminated\r\n");
        _gst_trickle_http_header_int (s, "Lp-Trickle-Latest",
            gst_trickle_channel_get_next_seq (conn->channel));
        _gst_trickle_http_header_int (s, "Lp-Trickle-Seq", seq);
        _gst_trickle_http_conn_respond (conn, SOUP_STATUS_OK, s->str, NULL,
            NULL, 0);
        g_string_free (s, TRUE);
        _gst_trickle_http_conn_release_segment (conn);
        return;
      } else {
        gchar *mime = gst_trickle_channel_dup_mime_type (conn->channel);

        if (conn->http10)
          conn->keep_alive = FALSE;     /* the body ends with the connection */
        if (seq != conn->latest)
          _gst_trickle_http_header_int (s, "Lp-Trickle-Latest", conn->latest);
        _gst_trickle_http_header_int (s, "Lp-Trickle-Seq", seq);
        /* no Content-Type if the publisher named none */
        _gst_trickle_http_conn_push_bytes (conn,
            _gst_trickle_http_stream_head_new (!conn->keep_alive, mime,
                s->str, _gst_trickle_http_worker_date (conn->worker),
                !conn->http10));
        g_string_free (s, TRUE);
        g_free (mime);
        conn->headers_sent = TRUE;
      }
    }
    if (n > 0) {
      for (i = 0; i < n; i++)
        total += g_bytes_get_size (pages[i]);
      if (!conn->http10)
        _gst_trickle_http_conn_push (conn, NULL,
            (const guint8 *) conn->chunk_head,
            _gst_trickle_http_chunk_head (conn->chunk_head, total));
      for (i = 0; i < n; i++)
        _gst_trickle_http_conn_push_bytes (conn, pages[i]);
      if (!conn->http10)
        _gst_trickle_http_conn_push (conn, NULL,
            (const guint8 *) TRICKLE_HTTP_CRLF, 2);
      conn->next_page += n;
      total = 0;
      continue;
    }
    if (state == GST_TRICKLE_SEGMENT_OPEN)
      return;
    if (state == GST_TRICKLE_SEGMENT_ABORTED) {
      /* the data is incomplete: end without the last chunk so the
       * subscriber sees an error, not a short segment. A chunk whose
       * data never comes goes first: a client that reads a close between
       * two chunks as a clean end (libsoup 3.2 does) then fails inside a
       * chunk, as every client does */
      _gst_trickle_http_conn_release_segment (conn);
      if (!conn->http10)
        _gst_trickle_http_conn_push (conn, NULL,
            (const guint8 *) TRICKLE_HTTP_ABORT_CHUNK, 3);
      conn->close_after = TRUE;
      conn->state = CONN_RESPOND;
      return;
    }
    if (!conn->http10)
      _gst_trickle_http_conn_push (conn, NULL,
          (const guint8 *) TRICKLE_HTTP_LAST_CHUNK, 5);
    _gst_trickle_http_conn_release_segment (conn);
    if (!conn->keep_alive)
      conn->close_after = TRUE;
    conn->state = CONN_RESPOND;
    return;
  }
}
