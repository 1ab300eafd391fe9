/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* memmem */
#endif
#include "trickletestutil.h"

#include <gst/check/gstcheck.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <glib/gstdio.h>

#define MAX_HEAD_SIZE (1024 * 1024)
#define MAX_LINE_SIZE (64 * 1024)

/* ------------------------------------------------------------------------ */
/* In-process server */

TrickleTestServer *
trickle_test_server_new (void)
{
  TrickleTestServer *ts = g_new0 (TrickleTestServer, 1);

  ts->store = gst_trickle_channel_store_new ();
  fail_unless (ts->store != NULL, "could not create the channel store");

  return ts;
}

void
trickle_test_server_start (TrickleTestServer * ts,
    const gchar * first_property_name, ...)
{
  GError *err = NULL;
  va_list args;

  fail_unless (ts->server == NULL, "server already started");

  ts->server = gst_trickle_http_server_new (ts->store);
  fail_unless (ts->server != NULL, "could not create the HTTP server");
  g_object_set (ts->server, "address", "127.0.0.1", "port", 0, NULL);
  if (first_property_name) {
    va_start (args, first_property_name);
    g_object_set_valist (G_OBJECT (ts->server), first_property_name, args);
    va_end (args);
  }

  if (!gst_trickle_http_server_start (ts->server, &err)) {
    fail ("could not start the trickle HTTP server: %s",
        err ? err->message : "(no error)");
  }
  ts->port = gst_trickle_http_server_get_bound_port (ts->server);
  fail_unless (ts->port != 0, "server has no bound port");
}

TrickleTestServer *
trickle_test_server_new_started (void)
{
  TrickleTestServer *ts = trickle_test_server_new ();

  trickle_test_server_start (ts, NULL);
  return ts;
}

gchar *
trickle_test_server_url (TrickleTestServer * ts, gboolean https,
    const gchar * path)
{
  return g_strdup_printf ("%s://127.0.0.1:%u%s", https ? "https" : "http",
      ts->port, path);
}

void
trickle_test_server_free (TrickleTestServer * ts)
{
  if (ts == NULL)
    return;
  if (ts->server) {
    gst_trickle_http_server_stop (ts->server);
    g_object_unref (ts->server);
  }
  if (ts->store)
    g_object_unref (ts->store);
  g_free (ts);
}

/* ------------------------------------------------------------------------ */
/* Raw client: connection */

static TrickleTestConn *
conn_new_full (guint port, gint rcvbuf)
{
  TrickleTestConn *c;
  GError *err = NULL;
  GInetAddress *ia;
  GSocketAddress *sa;
  GSocket *sock;

  /* a send to a peer that closed must be an error, not a signal */
  signal (SIGPIPE, SIG_IGN);

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &err);
  fail_unless (sock != NULL, "socket: %s", err ? err->message : "?");
  if (rcvbuf > 0)
    g_socket_set_option (sock, SOL_SOCKET, SO_RCVBUF, rcvbuf, NULL);
  g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_socket_set_timeout (sock, TRICKLE_TEST_IO_TIMEOUT);

  ia = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  sa = g_inet_socket_address_new (ia, port);
  if (!g_socket_connect (sock, sa, NULL, &err))
    fail ("connect to 127.0.0.1:%u failed: %s", port, err->message);
  g_object_unref (sa);
  g_object_unref (ia);

  c = g_new0 (TrickleTestConn, 1);
  c->port = port;
  c->socket = sock;
  c->rbuf = g_byte_array_new ();
  c->body = g_byte_array_new ();
  c->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  return c;
}

TrickleTestConn *
trickle_test_conn_new (guint port)
{
  return conn_new_full (port, 0);
}

TrickleTestConn *
trickle_test_conn_new_small_rcvbuf (guint port, gint rcvbuf)
{
  return conn_new_full (port, rcvbuf);
}

void
trickle_test_conn_set_timeout (TrickleTestConn * c, guint seconds)
{
  g_socket_set_timeout (c->socket, seconds);
}

void
trickle_test_conn_close (TrickleTestConn * c)
{
  if (c->closed_locally)
    return;
  c->closed_locally = TRUE;
  g_socket_close (c->socket, NULL);
}

void
trickle_test_conn_abort (TrickleTestConn * c)
{
  struct linger l = { 1, 0 };

  if (c->closed_locally)
    return;
  setsockopt (g_socket_get_fd (c->socket), SOL_SOCKET, SO_LINGER, &l,
      sizeof (l));
  trickle_test_conn_close (c);
}

void
trickle_test_conn_free (TrickleTestConn * c)
{
  if (c == NULL)
    return;
  trickle_test_conn_close (c);
  g_object_unref (c->socket);
  g_byte_array_unref (c->rbuf);
  g_byte_array_unref (c->body);
  soup_message_headers_unref (c->headers);
  g_free (c->reason);
  g_free (c->last_method);
  g_free (c);
}

/* ------------------------------------------------------------------------ */
/* Raw client: sending */

gboolean
trickle_test_conn_send (TrickleTestConn * c, gconstpointer data, gssize len)
{
  const gchar *p = data;
  gsize left;

  if (len < 0)
    len = strlen (data);
  left = len;
  if (c->closed_locally)
    return FALSE;

  while (left > 0) {
    GError *err = NULL;
    gssize n = g_socket_send (c->socket, p, left, NULL, &err);

    if (n <= 0) {
      GST_INFO ("send failed after %" G_GSIZE_FORMAT " of %" G_GSSIZE_FORMAT
          " bytes: %s", len - left, len, err ? err->message : "0 bytes");
      g_clear_error (&err);
      return FALSE;
    }
    p += n;
    left -= n;
  }
  return TRUE;
}

static GString *
build_head (TrickleTestConn * c, const gchar * method, const gchar * path,
    const gchar * extra_raw, const gchar * first_header, va_list args)
{
  GString *s = g_string_new (NULL);
  const gchar *name;

  g_string_append_printf (s, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n",
      method, path, c->port);
  if (extra_raw)
    g_string_append (s, extra_raw);
  for (name = first_header; name; name = va_arg (args, const gchar *))
  {
    const gchar *value = va_arg (args, const gchar *);
    g_string_append_printf (s, "%s: %s\r\n", name, value);
  }
  g_string_append (s, "\r\n");

  g_free (c->last_method);
  c->last_method = g_strdup (method);
  return s;
}

gboolean
trickle_test_conn_send_request (TrickleTestConn * c, const gchar * method,
    const gchar * path, const gchar * first_header, ...)
{
  GString *s;
  va_list args;
  gboolean ret;

  va_start (args, first_header);
  s = build_head (c, method, path, NULL, first_header, args);
  va_end (args);
  ret = trickle_test_conn_send (c, s->str, s->len);
  g_string_free (s, TRUE);
  return ret;
}

static GString *
build_request_with_body (TrickleTestConn * c, const gchar * method,
    const gchar * path, gconstpointer body, gssize len,
    const gchar * first_header, va_list args)
{
  GString *s;
  gchar *cl;

  if (len < 0)
    len = strlen (body);
  cl = g_strdup_printf ("Content-Length: %" G_GSSIZE_FORMAT "\r\n", len);
  s = build_head (c, method, path, cl, first_header, args);
  g_free (cl);
  g_string_append_len (s, body, len);
  return s;
}

gboolean
trickle_test_conn_send_request_with_body (TrickleTestConn * c,
    const gchar * method, const gchar * path, gconstpointer body,
    gssize len, const gchar * first_header, ...)
{
  GString *s;
  va_list args;
  gboolean ret;

  va_start (args, first_header);
  s = build_request_with_body (c, method, path, body, len, first_header, args);
  va_end (args);
  ret = trickle_test_conn_send (c, s->str, s->len);
  g_string_free (s, TRUE);
  return ret;
}

gboolean
trickle_test_conn_start_post (TrickleTestConn * c, const gchar * path,
    const gchar * first_header, ...)
{
  GString *s;
  va_list args;
  gboolean ret;

  va_start (args, first_header);
  s = build_head (c, "POST", path, "Transfer-Encoding: chunked\r\n",
      first_header, args);
  va_end (args);
  ret = trickle_test_conn_send (c, s->str, s->len);
  g_string_free (s, TRUE);
  return ret;
}

gboolean
trickle_test_conn_send_chunk (TrickleTestConn * c, gconstpointer data,
    gssize len)
{
  GString *s;
  gboolean ret;

  if (len < 0)
    len = strlen (data);
  fail_unless (len > 0, "a chunk of 0 bytes is the terminator");

  s = g_string_sized_new (len + 32);
  g_string_append_printf (s, "%" G_GSIZE_MODIFIER "x\r\n", (gsize) len);
  g_string_append_len (s, data, len);
  g_string_append (s, "\r\n");
  ret = trickle_test_conn_send (c, s->str, s->len);
  g_string_free (s, TRUE);
  return ret;
}

gboolean
trickle_test_conn_send_last_chunk (TrickleTestConn * c)
{
  return trickle_test_conn_send (c, "0\r\n\r\n", 5);
}

/* ------------------------------------------------------------------------ */
/* Raw client: receiving */

typedef enum
{
  FILL_DATA,
  FILL_EOF,
  FILL_TIMEOUT,
} FillResult;

/* Blocks (up to the socket timeout) for more bytes into c->rbuf. */
static FillResult
conn_fill (TrickleTestConn * c)
{
  gchar buf[65536];
  GError *err = NULL;
  gssize n;

  if (c->eof || c->closed_locally) {
    c->eof = TRUE;
    return FILL_EOF;
  }

  n = g_socket_receive (c->socket, buf, sizeof (buf), NULL, &err);
  if (n > 0) {
    g_byte_array_append (c->rbuf, (const guint8 *) buf, n);
    return FILL_DATA;
  }
  if (n == 0) {
    c->eof = TRUE;
    return FILL_EOF;
  }
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    g_error_free (err);
    return FILL_TIMEOUT;
  }
  GST_INFO ("receive error (taken as a close): %s", err->message);
  g_error_free (err);
  c->eof = TRUE;
  c->reset = TRUE;
  return FILL_EOF;
}

/* Waits for at least @n buffered bytes. */
static FillResult
conn_need (TrickleTestConn * c, gsize n)
{
  while (c->rbuf->len < n) {
    FillResult r = conn_fill (c);
    if (r != FILL_DATA)
      return r;
  }
  return FILL_DATA;
}

typedef enum
{
  LINE_OK,
  LINE_EOF,
  LINE_TIMEOUT,
  LINE_ERROR,
} LineResult;

static LineResult
conn_read_line (TrickleTestConn * c, gchar ** line)
{
  *line = NULL;
  for (;;) {
    guint8 *nl = memchr (c->rbuf->data, '\n', c->rbuf->len);

    if (nl) {
      gsize len = nl - c->rbuf->data;
      gsize linelen = len;

      if (linelen > 0 && c->rbuf->data[linelen - 1] == '\r')
        linelen--;
      *line = g_strndup ((const gchar *) c->rbuf->data, linelen);
      g_byte_array_remove_range (c->rbuf, 0, len + 1);
      return LINE_OK;
    }
    if (c->rbuf->len > MAX_LINE_SIZE)
      return LINE_ERROR;
    switch (conn_fill (c)) {
      case FILL_DATA:
        break;
      case FILL_EOF:
        return LINE_EOF;
      case FILL_TIMEOUT:
        return LINE_TIMEOUT;
    }
  }
}

static void
conn_reset_response (TrickleTestConn * c)
{
  c->status = 0;
  g_clear_pointer (&c->reason, g_free);
  soup_message_headers_clear (c->headers);
  c->have_head = FALSE;
  c->head_timed_out = FALSE;
  c->framing = TRICKLE_TEST_FRAMING_NONE;
  c->remaining = 0;
  c->in_chunk = FALSE;
  c->in_trailer = FALSE;
  c->body_done = FALSE;
  g_byte_array_set_size (c->body, 0);
  c->body_result = TRICKLE_TEST_BODY_ERROR;
}

/* Finds the end of a head: sets *head_len (up to and including the last
 * header line's LF) and *consumed (including the blank line). */
static gboolean
find_head_end (const guint8 * d, gsize len, gsize * head_len, gsize * consumed)
{
  gsize i;

  for (i = 0; i < len; i++) {
    if (d[i] != '\n')
      continue;
    if (i + 1 < len && d[i + 1] == '\n') {
      *head_len = i + 1;
      *consumed = i + 2;
      return TRUE;
    }
    if (i + 2 < len && d[i + 1] == '\r' && d[i + 2] == '\n') {
      *head_len = i + 1;
      *consumed = i + 3;
      return TRUE;
    }
  }
  return FALSE;
}

guint
trickle_test_conn_read_one_head (TrickleTestConn * c)
{
  gsize head_len = 0, consumed = 0;
  SoupHTTPVersion ver;
  guint status = 0;
  gchar *head;

  conn_reset_response (c);

  while (!find_head_end (c->rbuf->data, c->rbuf->len, &head_len, &consumed)) {
    if (c->rbuf->len > MAX_HEAD_SIZE)
      return 0;
    switch (conn_fill (c)) {
      case FILL_DATA:
        break;
      case FILL_EOF:
        return 0;
      case FILL_TIMEOUT:
        c->head_timed_out = TRUE;
        return 0;
    }
  }

  head = g_malloc (head_len + 1);
  memcpy (head, c->rbuf->data, head_len);
  head[head_len] = '\0';
  g_byte_array_remove_range (c->rbuf, 0, consumed);

  if (!soup_headers_parse_response (head, head_len, c->headers, &ver, &status,
          &c->reason)) {
    GST_WARNING ("unparsable response head: %s", head);
    g_free (head);
    soup_message_headers_clear (c->headers);
    return 0;
  }
  GST_DEBUG ("response head:\n%s", head);
  g_free (head);

  c->status = status;
  c->have_head = TRUE;

  if (status < 200 || status == 204 || status == 304 ||
      g_strcmp0 (c->last_method, "HEAD") == 0) {
    c->framing = TRICKLE_TEST_FRAMING_NONE;
    c->body_done = TRUE;
  } else {
    const gchar *te = soup_message_headers_get_list (c->headers,
        "Transfer-Encoding");
    const gchar *cl = soup_message_headers_get_one (c->headers,
        "Content-Length");

    if (te && soup_header_contains (te, "chunked")) {
      c->framing = TRICKLE_TEST_FRAMING_CHUNKED;
    } else if (cl) {
      gchar *end = NULL;

      c->framing = TRICKLE_TEST_FRAMING_LENGTH;
      c->remaining = g_ascii_strtoull (cl, &end, 10);
      if (end == cl)
        c->framing = TRICKLE_TEST_FRAMING_EOF;
      if (c->remaining == 0)
        c->body_done = TRUE;
    } else {
      c->framing = TRICKLE_TEST_FRAMING_EOF;
    }
  }
  return status;
}

guint
trickle_test_conn_read_head (TrickleTestConn * c)
{
  for (;;) {
    guint status = trickle_test_conn_read_one_head (c);

    if (status == 0 || status >= 200)
      return status;
    /* 101 would switch protocols: not expected here, treat as final */
    if (status == 101)
      return status;
    c->n_interim++;
  }
}

const gchar *
trickle_test_conn_get_header (TrickleTestConn * c, const gchar * name)
{
  return soup_message_headers_get_one (c->headers, name);
}

static TrickleTestBodyResult
fill_to_body_result (FillResult r)
{
  return r == FILL_TIMEOUT ? TRICKLE_TEST_BODY_TIMEOUT :
      TRICKLE_TEST_BODY_CLOSED;
}

static TrickleTestBodyResult
line_to_body_result (LineResult r)
{
  switch (r) {
    case LINE_EOF:
      return TRICKLE_TEST_BODY_CLOSED;
    case LINE_TIMEOUT:
      return TRICKLE_TEST_BODY_TIMEOUT;
    default:
      return TRICKLE_TEST_BODY_ERROR;
  }
}

static GBytes *
take_bytes (TrickleTestConn * c, gsize n)
{
  GBytes *b = g_bytes_new (c->rbuf->data, n);

  g_byte_array_remove_range (c->rbuf, 0, n);
  return b;
}

static TrickleTestBodyResult
read_chunked (TrickleTestConn * c, GBytes ** data)
{
  LineResult lr;
  FillResult fr;
  gchar *line;

  if (c->in_trailer)
    goto trailer;

  if (!c->in_chunk) {
    gchar *end = NULL;
    guint64 size;

    lr = conn_read_line (c, &line);
    if (lr != LINE_OK)
      return line_to_body_result (lr);
    size = g_ascii_strtoull (line, &end, 16);
    if (end == line || (*end != '\0' && *end != ';' && *end != ' ' &&
            *end != '\t')) {
      GST_WARNING ("bad chunk size line '%s'", line);
      g_free (line);
      return TRICKLE_TEST_BODY_ERROR;
    }
    g_free (line);
    if (size == 0) {
      c->in_trailer = TRUE;
      goto trailer;
    }
    c->remaining = size;
    c->in_chunk = TRUE;
  }

  /* the chunk data and its CRLF */
  fr = conn_need (c, c->remaining + 2);
  if (fr != FILL_DATA)
    return fill_to_body_result (fr);
  if (c->rbuf->data[c->remaining] != '\r' ||
      c->rbuf->data[c->remaining + 1] != '\n') {
    GST_WARNING ("chunk of %" G_GUINT64_FORMAT " bytes not followed by CRLF",
        c->remaining);
    return TRICKLE_TEST_BODY_ERROR;
  }
  if (data)
    *data = take_bytes (c, c->remaining);
  else
    g_byte_array_remove_range (c->rbuf, 0, c->remaining);
  g_byte_array_remove_range (c->rbuf, 0, 2);
  c->remaining = 0;
  c->in_chunk = FALSE;
  return TRICKLE_TEST_BODY_DATA;

trailer:
  for (;;) {
    gboolean empty;

    lr = conn_read_line (c, &line);
    if (lr != LINE_OK)
      return line_to_body_result (lr);
    empty = (line[0] == '\0');
    g_free (line);
    if (empty)
      break;
  }
  c->in_trailer = FALSE;
  c->body_done = TRUE;
  return TRICKLE_TEST_BODY_END;
}

TrickleTestBodyResult
trickle_test_conn_read_chunk (TrickleTestConn * c, GBytes ** data)
{
  FillResult fr;
  gsize take;

  if (data)
    *data = NULL;
  if (!c->have_head)
    return TRICKLE_TEST_BODY_ERROR;
  if (c->body_done)
    return TRICKLE_TEST_BODY_END;

  switch (c->framing) {
    case TRICKLE_TEST_FRAMING_NONE:
      c->body_done = TRUE;
      return TRICKLE_TEST_BODY_END;

    case TRICKLE_TEST_FRAMING_LENGTH:
      if (c->remaining == 0) {
        c->body_done = TRUE;
        return TRICKLE_TEST_BODY_END;
      }
      if (c->rbuf->len == 0) {
        fr = conn_fill (c);
        if (fr != FILL_DATA)
          return fill_to_body_result (fr);
      }
      take = MIN (c->rbuf->len, c->remaining);
      if (data)
        *data = take_bytes (c, take);
      else
        g_byte_array_remove_range (c->rbuf, 0, take);
      c->remaining -= take;
      return TRICKLE_TEST_BODY_DATA;

    case TRICKLE_TEST_FRAMING_EOF:
      if (c->rbuf->len == 0) {
        fr = conn_fill (c);
        if (fr == FILL_EOF) {
          c->body_done = TRUE;
          return TRICKLE_TEST_BODY_END;
        }
        if (fr == FILL_TIMEOUT)
          return TRICKLE_TEST_BODY_TIMEOUT;
      }
      take = c->rbuf->len;
      if (data)
        *data = take_bytes (c, take);
      else
        g_byte_array_remove_range (c->rbuf, 0, take);
      return TRICKLE_TEST_BODY_DATA;

    case TRICKLE_TEST_FRAMING_CHUNKED:
      return read_chunked (c, data);
  }
  return TRICKLE_TEST_BODY_ERROR;
}

TrickleTestBodyResult
trickle_test_conn_read_body (TrickleTestConn * c)
{
  /* never "at least" G_MAXSIZE: reads until the body ends or fails */
  return trickle_test_conn_read_body_at_least (c, G_MAXSIZE);
}

TrickleTestBodyResult
trickle_test_conn_read_body_at_least (TrickleTestConn * c, gsize n)
{
  while (c->body->len < n) {
    GBytes *b = NULL;
    TrickleTestBodyResult r = trickle_test_conn_read_chunk (c, &b);

    if (r == TRICKLE_TEST_BODY_DATA) {
      gsize len;
      gconstpointer d = g_bytes_get_data (b, &len);

      g_byte_array_append (c->body, d, len);
      g_bytes_unref (b);
      continue;
    }
    c->body_result = r;
    return r;
  }
  c->body_result = TRICKLE_TEST_BODY_DATA;
  return TRICKLE_TEST_BODY_DATA;
}

const gchar *
trickle_test_conn_body_str (TrickleTestConn * c)
{
  g_byte_array_append (c->body, (const guint8 *) "", 1);
  g_byte_array_set_size (c->body, c->body->len - 1);
  return (const gchar *) c->body->data;
}

gboolean
trickle_test_conn_has_data (TrickleTestConn * c, guint timeout_ms)
{
  if (c->rbuf->len > 0 || c->eof)
    return TRUE;
  if (c->closed_locally)
    return FALSE;
  if (timeout_ms == 0)
    return g_socket_condition_check (c->socket,
        G_IO_IN | G_IO_HUP | G_IO_ERR) != 0;
  return g_socket_condition_timed_wait (c->socket,
      G_IO_IN | G_IO_HUP | G_IO_ERR, (gint64) timeout_ms * 1000, NULL, NULL);
}

gboolean
trickle_test_conn_wait_closed (TrickleTestConn * c, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;) {
    gint64 left;

    if (c->rbuf->len > 0)
      return FALSE;
    if (c->eof)
      return TRUE;
    if (c->closed_locally)
      return FALSE;

    left = deadline - g_get_monotonic_time ();
    if (!trickle_test_conn_has_data (c, MAX (left, 0) / 1000))
      return FALSE;
    if (conn_fill (c) == FILL_TIMEOUT && g_get_monotonic_time () >= deadline)
      return FALSE;
  }
}

gboolean
trickle_test_conn_drain_until_closed (TrickleTestConn * c, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;) {
    gint64 left;

    g_byte_array_set_size (c->rbuf, 0);
    if (c->eof)
      return TRUE;
    if (c->closed_locally)
      return FALSE;

    left = deadline - g_get_monotonic_time ();
    if (left <= 0 || !trickle_test_conn_has_data (c, MAX (left / 1000, 1)))
      return FALSE;
    conn_fill (c);
  }
}

TrickleTestConn *
trickle_test_request (guint port, const gchar * method, const gchar * path,
    gconstpointer body, gssize len, const gchar * first_header, ...)
{
  TrickleTestConn *c = trickle_test_conn_new (port);
  GString *s;
  va_list args;

  va_start (args, first_header);
  if (body)
    s = build_request_with_body (c, method, path, body, len, first_header,
        args);
  else
    s = build_head (c, method, path, NULL, first_header, args);
  va_end (args);

  /* a failed send may still have a response to read (early error) */
  trickle_test_conn_send (c, s->str, s->len);
  g_string_free (s, TRUE);

  if (trickle_test_conn_read_head (c) != 0)
    trickle_test_conn_read_body (c);
  return c;
}

/* ------------------------------------------------------------------------ */
/* Misc */

gboolean
trickle_test_wait_channel_stat (TrickleTestServer * ts, const gchar * name,
    const gchar * field, guint64 min, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () +
      (gint64) timeout_s * G_USEC_PER_SEC;

  for (;;) {
    GstTrickleChannel *ch = gst_trickle_channel_store_lookup (ts->store, name);

    if (ch) {
      GstStructure *st = gst_trickle_channel_get_stats (ch);
      const GValue *v = gst_structure_get_value (st, field);
      GValue u = G_VALUE_INIT;
      guint64 n;

      fail_unless (v != NULL, "no channel statistic %s", field);
      g_value_init (&u, G_TYPE_UINT64);
      fail_unless (g_value_transform (v, &u));
      n = g_value_get_uint64 (&u);
      gst_structure_free (st);
      gst_trickle_channel_unref (ch);
      if (n >= min)
        return TRUE;
    }
    if (g_get_monotonic_time () >= deadline)
      return FALSE;
    g_usleep (10 * 1000);
  }
}

GTlsCertificate *
trickle_test_make_certificate (gchar ** tmpdir)
{
  gchar *openssl, *dir, *cert_file, *key_file;
  GTlsCertificate *cert = NULL;
  GError *err = NULL;
  gint wait_status = 0;

  *tmpdir = NULL;
  openssl = g_find_program_in_path ("openssl");
  if (openssl == NULL) {
    g_print ("openssl not found: skipping the TLS test\n");
    return NULL;
  }

  dir = g_dir_make_tmp ("trickle-tls-XXXXXX", &err);
  fail_unless (dir != NULL, "g_dir_make_tmp: %s", err ? err->message : "?");
  cert_file = g_build_filename (dir, "cert.pem", NULL);
  key_file = g_build_filename (dir, "key.pem", NULL);

  {
    gchar *argv[] = { openssl, (gchar *) "req", (gchar *) "-x509",
      (gchar *) "-newkey", (gchar *) "rsa:2048", (gchar *) "-nodes",
      (gchar *) "-subj", (gchar *) "/CN=localhost", (gchar *) "-days",
      (gchar *) "1", (gchar *) "-keyout", key_file, (gchar *) "-out",
      cert_file, NULL
    };

    if (!g_spawn_sync (NULL, argv, NULL,
            G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
            NULL, NULL, NULL, &wait_status, &err) ||
        !g_spawn_check_wait_status (wait_status, &err)) {
      g_print ("openssl failed (%s): skipping the TLS test\n",
          err ? err->message : "?");
      g_clear_error (&err);
      goto out;
    }
  }

  cert = g_tls_certificate_new_from_files (cert_file, key_file, &err);
  if (cert == NULL) {
    g_print ("could not load the certificate (%s): skipping the TLS test\n",
        err ? err->message : "?");
    g_clear_error (&err);
  }

out:
  *tmpdir = dir;
  g_free (cert_file);
  g_free (key_file);
  g_free (openssl);
  return cert;
}

void
trickle_test_remove_tmpdir (const gchar * tmpdir)
{
  GDir *d;
  const gchar *name;

  if (tmpdir == NULL)
    return;
  d = g_dir_open (tmpdir, 0, NULL);
  if (d) {
    while ((name = g_dir_read_name (d))) {
      gchar *path = g_build_filename (tmpdir, name, NULL);
      g_unlink (path);
      g_free (path);
    }
    g_dir_close (d);
  }
  g_rmdir (tmpdir);
}

gint
trickle_test_count_fds (void)
{
  GDir *d = g_dir_open ("/proc/self/fd", 0, NULL);
  gint n = 0;

  if (d == NULL)
    return -1;
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  return n;
}

GBytes *
trickle_test_make_data (gsize size, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (size);
  gsize i;

  for (i = 0; i + 4 <= size; i += 4) {
    guint32 v = g_rand_int (rand);
    memcpy (data + i, &v, 4);
  }
  for (; i < size; i++)
    data[i] = g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);
  return g_bytes_new_take (data, size);
}

/* ------------------------------------------------------------------------ */
/* pipelines */

/* runs @desc to EOS (or error); returns the error message, if any */
GstMessage *
trickle_test_run_pipeline (const gchar * desc)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;

  fail_unless (pipeline != NULL, "%s: %s", desc, err ? err->message : "");
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "%s: neither EOS nor error", desc);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    gst_message_unref (msg);
    return NULL;
  }
  return msg;
}

gboolean
trickle_test_have (const gchar * factory)
{
  GstElementFactory *f = gst_element_factory_find (factory);

  if (!f)
    return FALSE;
  gst_object_unref (f);
  return TRUE;
}

/* gst_parse_launch() + PLAYING (the test fails on errors) */
GstElement *
trickle_test_start_pipeline (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);

  fail_unless (p != NULL, "%s: %s", desc, err ? err->message : "");
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  return p;
}

/* to NULL (must succeed at once) and unref */
void
trickle_test_stop_pipeline (GstElement * p)
{
  fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (p);
}

/* the element named @name in bin @p (a reference; fails if missing) */
GstElement *
trickle_test_get (GstElement * p, const gchar * name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (p), name);

  fail_unless (e != NULL, "no element %s", name);
  return e;
}

/* fails unless the process is back to at most @fds descriptors within a
 * second (a server may still be closing its last connections) */
void
trickle_test_assert_fds_at_most (gint fds)
{
  gint i;

  for (i = 0; i < 50 && trickle_test_count_fds () > fds; i++)
    g_usleep (20 * 1000);
  fail_unless (trickle_test_count_fds () <= fds, "fds: %d then %d", fds,
      trickle_test_count_fds ());
}

/* Every segment of @ch (GET /<ch>/<seq> from 0 to /<ch>/next), as bytes,
 * each checked to be MPEG-TS (Content-Type video/MP2T) beginning with a
 * PAT packet (0x47, PID 0, payload unit start). Only the last may be
 * empty: the preconnect tricklesink abandons at EOS; it is left out. */
GPtrArray *
trickle_test_get_ts_segments (guint port, const gchar * ch)
{
  GPtrArray *segs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  gchar *path = g_strdup_printf ("/%s/next", ch);
  TrickleTestConn *c = trickle_test_request (port, "GET", path, NULL, 0,
      NULL);
  gint64 next, seq;

  fail_unless_equals_int (c->status, 200);
  next = g_ascii_strtoll (trickle_test_conn_body_str (c), NULL, 10);
  trickle_test_conn_free (c);
  g_free (path);
  for (seq = 0; seq < next; seq++) {
    const guint8 *d;

    path = g_strdup_printf ("/%s/%" G_GINT64_FORMAT, ch, seq);
    c = trickle_test_request (port, "GET", path, NULL, 0, NULL);
    fail_unless_equals_int (c->status, 200);
    g_free (path);
    if (c->body->len == 0) {
      fail_unless (seq == next - 1, "segment %" G_GINT64_FORMAT " of %"
          G_GINT64_FORMAT " is empty", seq, next);
      trickle_test_conn_free (c);
      break;
    }
    fail_unless_equals_string (trickle_test_conn_get_header (c,
            "Content-Type"), "video/MP2T");
    fail_unless (c->body->len >= 188 && c->body->len % 188 == 0,
        "segment %" G_GINT64_FORMAT ": %u bytes", seq, c->body->len);
    d = c->body->data;
    fail_unless (d[0] == 0x47 && (d[1] & 0x5f) == 0x40 && d[2] == 0x00,
        "segment %" G_GINT64_FORMAT " does not begin with a PAT: %02x %02x "
        "%02x", seq, d[0], d[1], d[2]);
    g_ptr_array_add (segs, g_bytes_new (c->body->data, c->body->len));
    trickle_test_conn_free (c);
  }
  return segs;
}

/* ------------------------------------------------------------------------ */
/* A SoupServer that records every request's head */

struct _TrickleTestRecorder
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  GTlsCertificate *cert;
  GTlsDatabase *client_ca;      /* client certificates required */
  guint port;
  guint status;
  GAsyncQueue *requests;        /* TrickleTestRequest */
  GMutex lock;
  GCond cond;
  gboolean ready;
};

void
trickle_test_request_free (TrickleTestRequest * r)
{
  g_free (r->method);
  g_free (r->path);
  soup_message_headers_unref (r->headers);
  g_free (r);
}

/* runs once the head is parsed: a streamed POST is recorded (and
 * answered) without waiting for its body */
static void
recorder_early (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  TrickleTestRecorder *rec = data;
  TrickleTestRequest *r = g_new0 (TrickleTestRequest, 1);
  SoupMessageHeadersIter iter;
  const char *name, *value;

  r->time = g_get_monotonic_time ();
  r->method = g_strdup (soup_server_message_get_method (msg));
  r->path = g_strdup (path);
  r->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  soup_message_headers_iter_init (&iter,
      soup_server_message_get_request_headers (msg));
  while (soup_message_headers_iter_next (&iter, &name, &value))
    soup_message_headers_append (r->headers, name, value);
  g_async_queue_push (rec->requests, r);
  soup_server_message_set_status (msg, rec->status, NULL);
}

static void
recorder_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  TrickleTestRecorder *rec = data;

  soup_server_message_set_status (msg, rec->status, NULL);
}

/* a client certificate is required, any one accepted (the test's are
 * self-signed) */
static gboolean
recorder_accept_client (SoupServerMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer data)
{
  return TRUE;
}

static void
recorder_request_started (SoupServer * server, SoupServerMessage * msg,
    gpointer data)
{
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (recorder_accept_client), NULL);
}

static gpointer
recorder_thread (gpointer data)
{
  TrickleTestRecorder *rec = data;
  GError *err = NULL;
  GSList *uris;

  g_main_context_push_thread_default (rec->context);
  rec->server = soup_server_new ("server-header", "recorder", NULL);
  if (rec->cert)
    soup_server_set_tls_certificate (rec->server, rec->cert);
  if (rec->client_ca) {
    soup_server_set_tls_database (rec->server, rec->client_ca);
    soup_server_set_tls_auth_mode (rec->server, G_TLS_AUTHENTICATION_REQUIRED);
    g_signal_connect (rec->server, "request-started",
        G_CALLBACK (recorder_request_started), NULL);
  }
  soup_server_add_early_handler (rec->server, NULL, recorder_early, rec, NULL);
  soup_server_add_handler (rec->server, NULL, recorder_handler, rec, NULL);
  fail_unless (soup_server_listen_local (rec->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY | (rec->cert ? SOUP_SERVER_LISTEN_HTTPS
              : 0), &err), "%s", err ? err->message : "");
  uris = soup_server_get_uris (rec->server);
  rec->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_mutex_lock (&rec->lock);
  rec->ready = TRUE;
  g_cond_broadcast (&rec->cond);
  g_mutex_unlock (&rec->lock);
  g_main_loop_run (rec->loop);
  soup_server_disconnect (rec->server);
  g_clear_object (&rec->server);
  while (g_main_context_iteration (rec->context, FALSE));
  g_main_context_pop_thread_default (rec->context);
  return NULL;
}

TrickleTestRecorder *
trickle_test_recorder_new (guint status, GTlsCertificate * cert)
{
  return trickle_test_recorder_new_full (status, cert, NULL);
}

TrickleTestRecorder *
trickle_test_recorder_new_full (guint status, GTlsCertificate * cert,
    GTlsDatabase * client_ca)
{
  TrickleTestRecorder *rec = g_new0 (TrickleTestRecorder, 1);

  rec->status = status;
  rec->cert = cert ? g_object_ref (cert) : NULL;
  rec->client_ca = client_ca ? g_object_ref (client_ca) : NULL;
  rec->requests = g_async_queue_new_full ((GDestroyNotify)
      trickle_test_request_free);
  g_mutex_init (&rec->lock);
  g_cond_init (&rec->cond);
  rec->context = g_main_context_new ();
  rec->loop = g_main_loop_new (rec->context, FALSE);
  rec->thread = g_thread_new ("recorder", recorder_thread, rec);
  g_mutex_lock (&rec->lock);
  while (!rec->ready)
    g_cond_wait (&rec->cond, &rec->lock);
  g_mutex_unlock (&rec->lock);
  return rec;
}

guint
trickle_test_recorder_get_port (TrickleTestRecorder * rec)
{
  return rec->port;
}

TrickleTestRequest *
trickle_test_recorder_pop (TrickleTestRecorder * rec, guint timeout_s)
{
  return g_async_queue_timeout_pop (rec->requests,
      (guint64) timeout_s * G_USEC_PER_SEC);
}

static gboolean
recorder_quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
trickle_test_recorder_free (TrickleTestRecorder * rec)
{
  g_main_context_invoke (rec->context, recorder_quit, rec->loop);
  g_thread_join (rec->thread);
  g_main_loop_unref (rec->loop);
  g_main_context_unref (rec->context);
  g_async_queue_unref (rec->requests);
  g_clear_object (&rec->cert);
  g_clear_object (&rec->client_ca);
  g_mutex_clear (&rec->lock);
  g_cond_clear (&rec->cond);
  g_free (rec);
}

/* ------------------------------------------------------------------------ */
/* A scripted (hostile) server */

struct _TrickleTestScripted
{
  TrickleTestScriptFunc func;
  gpointer user_data;
  GSocket *listener;
  GThread *accept_thread;
  GMutex lock;
  GPtrArray *conns;             /* GSocket */
  GPtrArray *threads;           /* GThread */
  GPtrArray *seen;              /* "METHOD path" of every request */
  gboolean stopping;
};

typedef struct
{
  TrickleTestScripted *s;
  GSocket *sock;
} ScriptedConn;

/* reads more into @buf; FALSE on EOF or error */
static gboolean
scripted_read (GSocket * sock, GByteArray * buf)
{
  guint8 tmp[65536];
  gssize n = g_socket_receive (sock, (gchar *) tmp, sizeof (tmp), NULL, NULL);

  if (n <= 0)
    return FALSE;
  g_byte_array_append (buf, tmp, n);
  return TRUE;
}

/* the request's body, skipped: Content-Length bytes, or chunked up to its
 * terminating chunk (a simple scan: the test's clients send no trailers) */
static gboolean
scripted_skip_body (GSocket * sock, GByteArray * buf,
    SoupMessageHeaders * headers)
{
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CHUNKED) {
    for (;;) {
      guint8 *end = buf->len ? memmem (buf->data, buf->len, "0\r\n\r\n",
          5) : NULL;

      /* a chunk ending in '0' then CRLF CRLF: "...\r\n0\r\n\r\n" */
      while (end && end > buf->data && end[-1] != '\n')
        end = memmem (end + 1, buf->len - (end + 1 - buf->data), "0\r\n\r\n",
            5);
      if (end) {
        g_byte_array_remove_range (buf, 0, (end + 5) - buf->data);
        return TRUE;
      }
      if (!scripted_read (sock, buf))
        return FALSE;
    }
  } else {
    goffset len = soup_message_headers_get_content_length (headers);

    while ((goffset) buf->len < len)
      if (!scripted_read (sock, buf))
        return FALSE;
    g_byte_array_remove_range (buf, 0, len);
    return TRUE;
  }
}

static gpointer
scripted_conn_thread (gpointer data)
{
  ScriptedConn *sc = data;
  TrickleTestScripted *s = sc->s;
  GByteArray *buf = g_byte_array_new ();

  for (;;) {
    guint8 *end = NULL;
    SoupMessageHeaders *headers;
    gchar *method = NULL, *path = NULL, *key, *answer;
    guint i, n = 0;

    while (!(end = buf->len ? memmem (buf->data, buf->len, "\r\n\r\n",
                4) : NULL))
      if (!scripted_read (sc->sock, buf))
        goto done;
    headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
    if (soup_headers_parse_request ((const gchar *) buf->data,
            (end + 4) - buf->data, headers, &method, &path, NULL)
        != SOUP_STATUS_OK) {
      soup_message_headers_unref (headers);
      goto done;
    }
    g_byte_array_remove_range (buf, 0, (end + 4) - buf->data);
    if (!scripted_skip_body (sc->sock, buf, headers)) {
      soup_message_headers_unref (headers);
      g_free (method);
      g_free (path);
      goto done;
    }
    key = g_strdup_printf ("%s %s", method, path);
    g_mutex_lock (&s->lock);
    for (i = 0; i < s->seen->len; i++)
      n += g_str_equal (g_ptr_array_index (s->seen, i), key);
    g_ptr_array_add (s->seen, key);
    g_mutex_unlock (&s->lock);
    answer = s->func (method, path, headers, n, s->user_data);
    soup_message_headers_unref (headers);
    g_free (method);
    g_free (path);
    if (!answer) {
      /* never answered: held until the server goes */
      guint8 tmp[4096];
      while (g_socket_receive (sc->sock, (gchar *) tmp, sizeof (tmp), NULL,
              NULL) > 0);
      goto done;
    }
    g_socket_send (sc->sock, answer, strlen (answer), NULL, NULL);
    g_free (answer);
    break;                      /* one answer per connection */
  }
done:
  g_socket_shutdown (sc->sock, FALSE, TRUE, NULL);
  g_byte_array_unref (buf);
  g_free (sc);
  return NULL;
}

static gpointer
scripted_accept_thread (gpointer data)
{
  TrickleTestScripted *s = data;

  for (;;) {
    GSocket *sock = g_socket_accept (s->listener, NULL, NULL);
    ScriptedConn *sc;

    if (!sock)
      return NULL;
    g_mutex_lock (&s->lock);
    if (s->stopping) {
      g_mutex_unlock (&s->lock);
      g_object_unref (sock);
      return NULL;
    }
    sc = g_new0 (ScriptedConn, 1);
    sc->s = s;
    sc->sock = sock;
    g_ptr_array_add (s->conns, sock);
    g_ptr_array_add (s->threads, g_thread_new ("scripted-conn",
            scripted_conn_thread, sc));
    g_mutex_unlock (&s->lock);
  }
}

TrickleTestScripted *
trickle_test_scripted_new (TrickleTestScriptFunc func, gpointer user_data)
{
  TrickleTestScripted *s = g_new0 (TrickleTestScripted, 1);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);

  s->func = func;
  s->user_data = user_data;
  g_mutex_init (&s->lock);
  s->conns = g_ptr_array_new_with_free_func (g_object_unref);
  s->threads = g_ptr_array_new ();
  s->seen = g_ptr_array_new_with_free_func (g_free);
  s->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  fail_unless (s->listener != NULL);
  fail_unless (g_socket_bind (s->listener, addr, TRUE, NULL));
  fail_unless (g_socket_listen (s->listener, NULL));
  g_object_unref (addr);
  g_object_unref (lo);
  s->accept_thread = g_thread_new ("scripted-accept", scripted_accept_thread,
      s);
  return s;
}

guint
trickle_test_scripted_get_port (TrickleTestScripted * s)
{
  GSocketAddress *addr = g_socket_get_local_address (s->listener, NULL);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));

  g_object_unref (addr);
  return port;
}

guint
trickle_test_scripted_count (TrickleTestScripted * s, const gchar * prefix)
{
  guint i, n = 0;

  g_mutex_lock (&s->lock);
  for (i = 0; i < s->seen->len; i++)
    n += !prefix || g_str_has_prefix (g_ptr_array_index (s->seen, i), prefix);
  g_mutex_unlock (&s->lock);
  return n;
}

void
trickle_test_scripted_free (TrickleTestScripted * s)
{
  guint i;

  g_mutex_lock (&s->lock);
  s->stopping = TRUE;
  for (i = 0; i < s->conns->len; i++)
    g_socket_shutdown (g_ptr_array_index (s->conns, i), TRUE, TRUE, NULL);
  g_mutex_unlock (&s->lock);
  /* wakes the accept */
  g_socket_shutdown (s->listener, TRUE, TRUE, NULL);
  g_thread_join (s->accept_thread);
  for (i = 0; i < s->threads->len; i++)
    g_thread_join (g_ptr_array_index (s->threads, i));
  g_socket_close (s->listener, NULL);
  g_object_unref (s->listener);
  g_ptr_array_unref (s->conns);
  g_ptr_array_unref (s->threads);
  g_ptr_array_unref (s->seen);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* a port nobody listens on now (the kernel's pick for port 0) */
guint
trickle_test_free_port (void)
{
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  guint port;

  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (sock);
  return port;
}
