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
 * HTTP/1.1 framing of the server, over byte buffers (no socket, no server
 * state; see tricklehttpframing-private.h):
 *
 * - request heads: found in what was read so far (empty lines before a
 *   request skipped, RFC 9112 2.2; bounded by max-header-size; the first
 *   empty line ends the head, LF or CRLF alike), checked where RFC 9112
 *   says reject and libsoup is lenient (whitespace before a field's colon,
 *   line folding, bare CR, control characters), parsed by libsoup
 *   (soup_headers_parse_request()), then framed strictly: Transfer-Encoding
 *   ending with chunked and never with Content-Length, one Content-Length
 *   of digits below 2^63, anything else a 400 that closes the connection;
 * - request bodies: Content-Length or chunked, decoded here byte by byte
 *   where needed so that a piece may end anywhere (in a size line, in an
 *   extension, between CR and LF); chunk extensions and trailers are
 *   skipped, within bounds. Decoding it here rather than in libsoup keeps a
 *   publisher that disconnects before the terminating chunk detectable
 *   (libsoup 3.2.3's server takes a disconnect between chunks for a clean
 *   end of body);
 * - responses: whole responses, the head of a streamed (chunked) segment,
 *   chunk heads.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <string.h>

#include "tricklehttpframing-private.h"

/* ------------------------------------------------------------------------ */
/* request heads */

/* Looks for a request head at the start of @data. The empty lines before
 * it are skipped (*skip: their bytes, to be consumed whatever the result).
 * COMPLETE: the head is the *head_len bytes after them, its blank line
 * included. INCOMPLETE: more bytes are needed. TOO_LARGE: the head is (or
 * will be) longer than @max_size. */
TrickleHttpHeadResult
_gst_trickle_http_head_find (const guint8 * data, gsize len, gsize max_size,
    gsize * skip, gsize * head_len)
{
  const guint8 *start, *end, *p;
  gsize s = 0, avail;

  while (s < len && (data[s] == '\r' || data[s] == '\n'))
    s++;
  *skip = s;
  *head_len = 0;
  avail = len - s;
  start = data + s;
  end = start + avail;
  /* one rule for every line: a line ends at LF (its CR before it, if any,
   * belongs to it), and the head at the first empty line, "\n\n" or
   * "\n\r\n", whichever comes first: a later CRLF CRLF must not make what
   * follows an LF LF part of this head */
  for (p = start; p < end && (p = memchr (p, '\n', end - p)); p++) {
    if (p + 1 < end && p[1] == '\n') {
      avail = (p + 2) - start;
      goto found;
    }
    if (p + 2 < end && p[1] == '\r' && p[2] == '\n') {
      avail = (p + 3) - start;
      goto found;
    }
  }
  return avail >= max_size ? TRICKLE_HTTP_HEAD_TOO_LARGE :
      TRICKLE_HTTP_HEAD_INCOMPLETE;
found:
  if (avail > max_size)
    return TRICKLE_HTTP_HEAD_TOO_LARGE;
  *head_len = avail;
  return TRICKLE_HTTP_HEAD_COMPLETE;
}

/* tchar, RFC 9110 5.6.2 */
static gboolean
is_tchar (guint8 c)
{
  return g_ascii_isalnum (c) || (c != 0 && strchr ("!#$%&'*+-.^_`|~", c));
}

/* What RFC 9112 rejects and libsoup lets through (it drops a field whose
 * name is followed by whitespace, folds continuation lines, keeps control
 * characters): every line ends with LF or CRLF (no bare CR), no control
 * character but HTAB, and every field line is a token immediately followed
 * by a colon, not a continuation. Returns NULL or what is wrong. */
static const gchar *
check_head (const guint8 * head, gsize len)
{
  gsize i, line = 0;
  gboolean first = TRUE;

  for (i = 0; i < len; i++) {
    guint8 c = head[i];

    if (c == '\r') {
      if (i + 1 >= len || head[i + 1] != '\n')
        return "Bare CR in the request head";
    } else if (c == '\n') {
      gsize end = i > line && head[i - 1] == '\r' ? i - 1 : i, k;

      if (!first && end > line) {
        if (head[line] == ' ' || head[line] == '\t')
          return "Obsolete line folding in the request head";
        for (k = line; k < end && is_tchar (head[k]); k++);
        if (k == line || k == end || head[k] != ':')
          return "Invalid header field name";
      }
      first = FALSE;
      line = i + 1;
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return "Control character in the request head";
    }
  }
  return NULL;
}

/* the elements of a comma-separated list (RFC 9110 5.6.1: empty ones
 * ignored), each stripped of whitespace */
static gchar **
split_list (const gchar * value)
{
  gchar **all = g_strsplit (value, ",", -1);
  GPtrArray *out = g_ptr_array_new ();
  guint i;

  for (i = 0; all[i]; i++) {
    g_strstrip (all[i]);
    if (all[i][0])
      g_ptr_array_add (out, g_strdup (all[i]));
  }
  g_strfreev (all);
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

/* The body's framing, RFC 9112 6: Transfer-Encoding (ending with chunked,
 * chunked once, HTTP/1.1 only, never with Content-Length) or one
 * Content-Length (a list only of equal values, digits only, below 2^63).
 * Returns SOUP_STATUS_OK or the status to answer, with *@error. */
static guint
parse_framing (TrickleHttpRequest * req, SoupHTTPVersion version,
    const gchar ** error)
{
  const gchar *te = soup_message_headers_get_list (req->headers,
      "Transfer-Encoding");
  const gchar *cl = soup_message_headers_get_list (req->headers,
      "Content-Length");
  guint status = SOUP_STATUS_OK;
  gchar **list;
  guint i, n;

  if (te) {
    if (version == SOUP_HTTP_1_0) {
      *error = "Transfer-Encoding in an HTTP/1.0 request";
      return SOUP_STATUS_BAD_REQUEST;
    }
    if (cl) {
      *error = "Both Transfer-Encoding and Content-Length";
      return SOUP_STATUS_BAD_REQUEST;
    }
    list = split_list (te);
    n = g_strv_length (list);
    if (n == 0 || g_ascii_strcasecmp (list[n - 1], "chunked") != 0) {
      *error = "Transfer-Encoding does not end with chunked";
      status = SOUP_STATUS_BAD_REQUEST;
    }
    for (i = 0; i + 1 < n && status == SOUP_STATUS_OK; i++) {
      if (g_ascii_strncasecmp (list[i], "chunked", 7) == 0) {
        *error = "Chunked more than once";
        status = SOUP_STATUS_BAD_REQUEST;
      } else {
        *error = "Transfer coding not implemented";
        status = SOUP_STATUS_NOT_IMPLEMENTED;
      }
    }
    g_strfreev (list);
    req->body_mode = TRICKLE_HTTP_BODY_CHUNKED;
    return status;
  }
  if (cl) {
    guint64 v = 0, first = 0;

    list = split_list (cl);
    n = g_strv_length (list);
    if (n == 0)
      status = SOUP_STATUS_BAD_REQUEST;
    for (i = 0; i < n && status == SOUP_STATUS_OK; i++) {
      const gchar *d;

      for (d = list[i]; g_ascii_isdigit (*d); d++);
      if (*d || d - list[i] > 19 || !g_ascii_string_to_unsigned (list[i], 10,
              0, G_MAXINT64, &v, NULL) || (i > 0 && v != first))
        status = SOUP_STATUS_BAD_REQUEST;
      if (i == 0)
        first = v;
    }
    g_strfreev (list);
    if (status != SOUP_STATUS_OK) {
      *error = "Invalid Content-Length";
      return status;
    }
    req->content_length = first;
    req->body_mode = first ? TRICKLE_HTTP_BODY_LENGTH : TRICKLE_HTTP_BODY_NONE;
    return SOUP_STATUS_OK;
  }
  req->body_mode = TRICKLE_HTTP_BODY_NONE;
  return SOUP_STATUS_OK;
}

/* Parses a head found by _gst_trickle_http_head_find() into @req (cleared
 * with _gst_trickle_http_request_clear() whatever the result). Returns
 * SOUP_STATUS_OK, or the error status to answer, with *@error the message,
 * after which the connection closes (@req->keep_alive is then FALSE). */
guint
_gst_trickle_http_request_parse (TrickleHttpRequest * req,
    const guint8 * head, gsize len, const gchar ** error)
{
  SoupHTTPVersion version;
  const gchar *connection;
  guint status;

  memset (req, 0, sizeof (*req));
  req->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  if ((*error = check_head (head, len)))
    return SOUP_STATUS_BAD_REQUEST;
  status = soup_headers_parse_request ((const gchar *) head, len,
      req->headers, &req->method, &req->target, &version);
  if (status != SOUP_STATUS_OK) {
    *error = soup_status_get_phrase (status);
    return status;
  }

  connection = soup_message_headers_get_list (req->headers, "Connection");
  req->http10 = version == SOUP_HTTP_1_0;
  if (version == SOUP_HTTP_1_0)
    req->keep_alive = connection
        && soup_header_contains (connection, "keep-alive");
  else
    req->keep_alive = !(connection && soup_header_contains (connection,
            "close"));

  status = parse_framing (req, version, error);
  if (status != SOUP_STATUS_OK)
    req->keep_alive = FALSE;
  return status;
}

void
_gst_trickle_http_request_clear (TrickleHttpRequest * req)
{
  g_clear_pointer (&req->headers, soup_message_headers_unref);
  g_clear_pointer (&req->method, g_free);
  g_clear_pointer (&req->target, g_free);
}

/* ------------------------------------------------------------------------ */
/* request bodies */

/* @max_trailer_bytes: the most bytes of trailer fields accepted */
void
_gst_trickle_http_body_decoder_init (TrickleHttpBodyDecoder * dec,
    TrickleHttpBodyMode mode, guint64 content_length, gsize max_trailer_bytes)
{
  memset (dec, 0, sizeof (*dec));
  dec->mode = mode;
  dec->remaining = mode == TRICKLE_HTTP_BODY_LENGTH ? content_length : 0;
  dec->state = TRICKLE_HTTP_CK_SIZE;
  dec->max_trailer_bytes = max_trailer_bytes;
}

/* the body ended (at once for a request without one) */
gboolean
_gst_trickle_http_body_decoder_is_done (TrickleHttpBodyDecoder * dec)
{
  switch (dec->mode) {
    case TRICKLE_HTTP_BODY_NONE:
      return TRUE;
    case TRICKLE_HTTP_BODY_LENGTH:
      return dec->remaining == 0;
    default:
      return dec->state == TRICKLE_HTTP_CK_DONE;
  }
}

/* Decodes body bytes from @data (@len bytes) into @payload, stopping at the
 * end of the body: *@consumed bytes were used (what follows belongs to the
 * next request). Returns FALSE on a framing error. Chunk extensions and
 * trailers are skipped (bounded), a size line is parsed digit by digit so
 * it may be split across reads. */
gboolean
_gst_trickle_http_body_decode (TrickleHttpBodyDecoder * dec,
    const guint8 * data, gsize len, gsize * consumed, GByteArray * payload)
{
  gsize pos = 0;

  *consumed = 0;
  while (pos < len && !_gst_trickle_http_body_decoder_is_done (dec)) {
    const guint8 *p = data + pos;
    gsize avail = len - pos, take;
    guint8 c = *p;

    if (dec->mode == TRICKLE_HTTP_BODY_LENGTH) {
      take = MIN (avail, dec->remaining);
      g_byte_array_append (payload, p, take);
      pos += take;
      dec->remaining -= take;
      continue;
    }
    switch (dec->state) {
      case TRICKLE_HTTP_CK_SIZE:
        pos++;
        if (g_ascii_isxdigit (c)) {
          if (dec->ck_digits == 15)
            return FALSE;       /* over 2^60: nobody sends such a chunk */
          dec->ck_remaining = dec->ck_remaining * 16 + g_ascii_xdigit_value (c);
          dec->ck_digits++;
        } else if (dec->ck_digits == 0) {
          return FALSE;
        } else if (c == '\n') {
          dec->state = dec->ck_remaining ? TRICKLE_HTTP_CK_DATA :
              TRICKLE_HTTP_CK_TRAILER_START;
        } else if (c == ';' || c == ' ' || c == '\t' || c == '\r') {
          dec->state = TRICKLE_HTTP_CK_EXT;
          dec->ck_line_bytes = dec->ck_digits + 1;
        } else {
          return FALSE;
        }
        break;
      case TRICKLE_HTTP_CK_EXT:{
        const guint8 *nl = memchr (p, '\n', avail);
        take = nl ? (gsize) (nl - p) + 1 : avail;
        pos += take;
        dec->ck_line_bytes += take;
        if (dec->ck_line_bytes > TRICKLE_HTTP_MAX_CHUNK_LINE)
          return FALSE;
        if (nl)
          dec->state = dec->ck_remaining ? TRICKLE_HTTP_CK_DATA :
              TRICKLE_HTTP_CK_TRAILER_START;
        break;
      }
      case TRICKLE_HTTP_CK_DATA:
        take = MIN (avail, dec->ck_remaining);
        g_byte_array_append (payload, p, take);
        pos += take;
        dec->ck_remaining -= take;
        if (dec->ck_remaining == 0)
          dec->state = TRICKLE_HTTP_CK_DATA_END;
        break;
      case TRICKLE_HTTP_CK_DATA_END:
        /* CRLF (or a bare LF) after the chunk data */
        pos++;
        if (c == '\n') {
          dec->state = TRICKLE_HTTP_CK_SIZE;
          dec->ck_digits = 0;
          dec->ck_remaining = 0;
        } else if (c != '\r') {
          return FALSE;
        }
        break;
      case TRICKLE_HTTP_CK_TRAILER_START:
        pos++;
        dec->trailer_bytes++;
        if (c == '\n')
          dec->state = TRICKLE_HTTP_CK_DONE;
        else if (c != '\r')
          dec->state = TRICKLE_HTTP_CK_TRAILER_LINE;
        break;
      case TRICKLE_HTTP_CK_TRAILER_LINE:{
        const guint8 *nl = memchr (p, '\n', avail);
        take = nl ? (gsize) (nl - p) + 1 : avail;
        pos += take;
        dec->trailer_bytes += take;
        if (dec->trailer_bytes > dec->max_trailer_bytes)
          return FALSE;
        if (nl)
          dec->state = TRICKLE_HTTP_CK_TRAILER_START;
        break;
      }
      case TRICKLE_HTTP_CK_DONE:
        break;
    }
  }
  *consumed = pos;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* responses */

static const gchar *
reason_phrase (guint status)
{
  switch (status) {
    case 470:
      return "status code 470";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return soup_status_get_phrase (status);
  }
}

/* A whole response. @extra: more header lines ("Name: value\r\n"), or
 * NULL; @date: the Date header's value; @head_only: the answer to a HEAD
 * request (Content-Length says @body_len, no body follows). */
GBytes *
_gst_trickle_http_response_new (guint status, gboolean close,
    const gchar * extra, const gchar * content_type, const gchar * date,
    const gchar * body, gsize body_len, gboolean head_only)
{
  GString *s = g_string_sized_new (256 + body_len);

  g_string_append_printf (s, "HTTP/1.1 %u %s\r\n", status,
      reason_phrase (status));
  if (close)
    g_string_append (s, "Connection: close\r\n");
  if (extra)
    g_string_append (s, extra);
  if (content_type)
    g_string_append_printf (s, "Content-Type: %s\r\n", content_type);
  g_string_append_printf (s, "Date: %s\r\nContent-Length: %" G_GSIZE_FORMAT
      "\r\n\r\n", date, body_len);
  if (body_len && !head_only)
    g_string_append_len (s, body, body_len);
  return g_string_free_to_bytes (s);
}

/* The head of a 200 whose body is streamed: chunked (HTTP/1.1) or up to
 * the end of the connection (@chunked FALSE: HTTP/1.0, with @close).
 * @content_type: none when NULL or empty. */
GBytes *
_gst_trickle_http_stream_head_new (gboolean close,
    const gchar * content_type, const gchar * extra, const gchar * date,
    gboolean chunked)
{
  GString *s = g_string_new ("HTTP/1.1 200 OK\r\n");

  if (close)
    g_string_append (s, "Connection: close\r\n");
  if (content_type && *content_type)
    g_string_append_printf (s, "Content-Type: %s\r\n", content_type);
  if (extra)
    g_string_append (s, extra);
  g_string_append_printf (s, "Date: %s\r\n%s\r\n", date,
      chunked ? "Transfer-Encoding: chunked\r\n" : "");
  return g_string_free_to_bytes (s);
}

/* Writes the head of a chunk of @size bytes into @buf; returns its length */
gsize
_gst_trickle_http_chunk_head (gchar buf[TRICKLE_HTTP_CHUNK_HEAD_SIZE],
    gsize size)
{
  return g_snprintf (buf, TRICKLE_HTTP_CHUNK_HEAD_SIZE,
      "%" G_GSIZE_MODIFIER "x\r\n", size);
}

/* appends the header line "@name: @value" */
void
_gst_trickle_http_header_int (GString * s, const gchar * name, gint64 value)
{
  g_string_append_printf (s, "%s: %" G_GINT64_FORMAT "\r\n", name, value);
}
