/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the gsttrickle library: not installed.
 *
 * HTTP/1.1 framing over byte buffers, with no socket and no server state:
 * finding and parsing a request head, decoding a request body
 * (Content-Length or chunked, fed in pieces of any size), writing response
 * heads and chunk framing. The connection (tricklehttpconnection.c) feeds
 * it what it reads; tests/check/libs/httpframing.c drives it with byte
 * strings. Depends on GLib and libsoup (soup_headers_parse_request())
 * only, so it compiles into a test or a fuzzer on its own.
 */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* framing that goes out as is (static storage: queued without a copy) */
#define TRICKLE_HTTP_CRLF "\r\n"
#define TRICKLE_HTTP_LAST_CHUNK "0\r\n\r\n"
/* a chunk whose data never comes: a subscriber of an aborted segment
 * fails inside a chunk (see the GET endpoint) */
#define TRICKLE_HTTP_ABORT_CHUNK "1\r\n"
#define TRICKLE_HTTP_CONTINUE_100 "HTTP/1.1 100 Continue\r\n\r\n"
/* the most bytes a chunk head (size in hex, CRLF, NUL) takes */
#define TRICKLE_HTTP_CHUNK_HEAD_SIZE 24

/* ------------------------------------------------------------------------ */
/* request heads */

typedef enum
{
  TRICKLE_HTTP_HEAD_INCOMPLETE, /* no end of head yet: read more */
  TRICKLE_HTTP_HEAD_COMPLETE,
  TRICKLE_HTTP_HEAD_TOO_LARGE,  /* longer than the bound: answer 431 */
} TrickleHttpHeadResult;

G_GNUC_INTERNAL
TrickleHttpHeadResult _gst_trickle_http_head_find (const guint8 * data,
    gsize len, gsize max_size, gsize * skip, gsize * head_len);

typedef enum
{
  TRICKLE_HTTP_BODY_NONE,
  TRICKLE_HTTP_BODY_LENGTH,
  TRICKLE_HTTP_BODY_CHUNKED,
} TrickleHttpBodyMode;

typedef struct
{
  gchar *method;
  gchar *target;
  SoupMessageHeaders *headers;
  gboolean http10;              /* no chunked encoding, no interim responses */
  gboolean keep_alive;
  TrickleHttpBodyMode body_mode;
  guint64 content_length;       /* TRICKLE_HTTP_BODY_LENGTH */
} TrickleHttpRequest;

G_GNUC_INTERNAL
guint _gst_trickle_http_request_parse (TrickleHttpRequest * req,
    const guint8 * head, gsize len, const gchar ** error);
G_GNUC_INTERNAL
void _gst_trickle_http_request_clear (TrickleHttpRequest * req);

/* ------------------------------------------------------------------------ */
/* request bodies */

typedef enum
{
  TRICKLE_HTTP_CK_SIZE,         /* hex digits of a chunk size */
  TRICKLE_HTTP_CK_EXT,          /* chunk extension: skipped up to LF */
  TRICKLE_HTTP_CK_DATA,
  TRICKLE_HTTP_CK_DATA_END,     /* CRLF after the data */
  TRICKLE_HTTP_CK_TRAILER_START,        /* start of a trailer line (or the end) */
  TRICKLE_HTTP_CK_TRAILER_LINE, /* a trailer field: skipped up to LF */
  TRICKLE_HTTP_CK_DONE,
} TrickleHttpChunkState;

/* a chunk size line (digits and extension) is at most this long */
#define TRICKLE_HTTP_MAX_CHUNK_LINE 4096

typedef struct
{
  TrickleHttpBodyMode mode;
  guint64 remaining;            /* Content-Length bytes still to come */
  TrickleHttpChunkState state;
  guint64 ck_remaining;
  guint ck_digits;
  gsize ck_line_bytes;          /* bytes of the current size line */
  gsize trailer_bytes;
  gsize max_trailer_bytes;
} TrickleHttpBodyDecoder;

G_GNUC_INTERNAL
void _gst_trickle_http_body_decoder_init (TrickleHttpBodyDecoder * dec,
    TrickleHttpBodyMode mode, guint64 content_length,
    gsize max_trailer_bytes);
G_GNUC_INTERNAL
gboolean _gst_trickle_http_body_decode (TrickleHttpBodyDecoder * dec,
    const guint8 * data, gsize len, gsize * consumed, GByteArray * payload);
G_GNUC_INTERNAL
gboolean _gst_trickle_http_body_decoder_is_done (TrickleHttpBodyDecoder *
    dec);

/* ------------------------------------------------------------------------ */
/* responses */

G_GNUC_INTERNAL
GBytes *_gst_trickle_http_response_new (guint status, gboolean close,
    const gchar * extra, const gchar * content_type, const gchar * date,
    const gchar * body, gsize body_len, gboolean head_only);
G_GNUC_INTERNAL
GBytes *_gst_trickle_http_stream_head_new (gboolean close,
    const gchar * content_type, const gchar * extra, const gchar * date,
    gboolean chunked);
G_GNUC_INTERNAL
gsize _gst_trickle_http_chunk_head (gchar buf[TRICKLE_HTTP_CHUNK_HEAD_SIZE],
    gsize size);
G_GNUC_INTERNAL
void _gst_trickle_http_header_int (GString * s, const gchar * name,
    gint64 value);

G_END_DECLS
