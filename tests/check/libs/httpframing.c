/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP server's framing (gst/trickle/tricklehttpframing.c) driven
 * directly with byte strings, without sockets: request heads split across
 * reads, oversize heads, chunked bodies split at every byte, chunk
 * extensions and trailers, bad framing, and the bytes of the responses.
 * The server's behaviour over real sockets is tested in httpserver.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "tricklehttpframing-private.h"

#define S(str) ((const guint8 *) (str)), (sizeof (str) - 1)

/* ------------------------------------------------------------------------ */
/* request heads */

static const gchar HEAD[] = "POST /cam/3 HTTP/1.1\r\nHost: a\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

GST_START_TEST (test_head_split_across_reads)
{
  gsize len = strlen (HEAD), k, skip, head_len;
  GString *buf = g_string_new (HEAD);

  /* every prefix is incomplete, the whole head is complete */
  for (k = 0; k < len; k++) {
    fail_unless_equals_int (_gst_trickle_http_head_find ((const guint8 *)
            HEAD, k, 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_INCOMPLETE);
    fail_unless_equals_int (skip, 0);
  }
  fail_unless_equals_int (_gst_trickle_http_head_find ((const guint8 *) HEAD,
          len, 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_COMPLETE);
  fail_unless_equals_int (skip, 0);
  fail_unless_equals_int (head_len, len);

  /* what follows the head (a body, a pipelined request) is not part of it */
  g_string_append (buf, "5\r\nhello\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_COMPLETE);
  fail_unless_equals_int (head_len, len);

  /* empty lines before a request are skipped (RFC 9112 2.2), complete or
   * not */
  g_string_assign (buf, "\r\n\n\r\n");
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_INCOMPLETE);
  fail_unless_equals_int (skip, 5);
  g_string_append (buf, "GET /cam/0 HTTP/1.1\r\n");
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_INCOMPLETE);
  fail_unless_equals_int (skip, 5);
  g_string_append (buf, "\r\n");
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_COMPLETE);
  fail_unless_equals_int (skip, 5);
  fail_unless_equals_int (head_len, buf->len - 5);

  /* nothing at all */
  fail_unless_equals_int (_gst_trickle_http_head_find (NULL, 0, 16384, &skip,
          &head_len), TRICKLE_HTTP_HEAD_INCOMPLETE);
  fail_unless_equals_int (skip, 0);
  g_string_free (buf, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_head_bare_lf)
{
  const gchar *head = "GET /cam/0 HTTP/1.1\nHost: a\n\nrest";
  gsize skip, head_len;

  fail_unless_equals_int (_gst_trickle_http_head_find ((const guint8 *) head,
          strlen (head), 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_COMPLETE);
  fail_unless_equals_int (head_len, strlen (head) - 4);

  /* the first empty line ends the head, whatever ends the lines after it */
  head = "GET /a/0 HTTP/1.1\nHost: a\n\nGET /b/0 HTTP/1.1\r\nHost: b\r\n\r\n";
  fail_unless_equals_int (_gst_trickle_http_head_find ((const guint8 *) head,
          strlen (head), 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_COMPLETE);
  fail_unless_equals_int (head_len, strlen ("GET /a/0 HTTP/1.1\nHost: a\n\n"));
  head = "GET /a/0 HTTP/1.1\r\nHost: a\n\r\nX: y\r\n\r\n";
  fail_unless_equals_int (_gst_trickle_http_head_find ((const guint8 *) head,
          strlen (head), 16384, &skip, &head_len), TRICKLE_HTTP_HEAD_COMPLETE);
  fail_unless_equals_int (head_len,
      strlen ("GET /a/0 HTTP/1.1\r\nHost: a\n\r\n"));
  /* an LF then a CR at the end of what was read: not complete yet */
  head = "GET /a/0 HTTP/1.1\r\nHost: a\r\n\r";
  fail_unless_equals_int (_gst_trickle_http_head_find ((const guint8 *) head,
          strlen (head), 16384, &skip, &head_len),
      TRICKLE_HTTP_HEAD_INCOMPLETE);
}

GST_END_TEST;

GST_START_TEST (test_head_oversize)
{
  GString *buf = g_string_new ("GET /cam/0 HTTP/1.1\r\n");
  gsize skip, head_len, max;

  while (buf->len < 100)
    g_string_append (buf, "X-Pad: 0123456789\r\n");
  /* no end yet: incomplete below the bound, too large at it */
  max = buf->len + 1;
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, max, &skip, &head_len), TRICKLE_HTTP_HEAD_INCOMPLETE);
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, buf->len, &skip, &head_len), TRICKLE_HTTP_HEAD_TOO_LARGE);
  /* complete: the bound holds the head and its blank line */
  g_string_append (buf, "\r\n");
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, buf->len, &skip, &head_len), TRICKLE_HTTP_HEAD_COMPLETE);
  fail_unless_equals_int (head_len, buf->len);
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, buf->len - 1, &skip, &head_len),
      TRICKLE_HTTP_HEAD_TOO_LARGE);
  /* the skipped empty lines do not count */
  g_string_prepend (buf, "\r\n\r\n");
  fail_unless_equals_int (_gst_trickle_http_head_find ((guint8 *) buf->str,
          buf->len, buf->len - 4, &skip, &head_len),
      TRICKLE_HTTP_HEAD_COMPLETE);
  fail_unless_equals_int (skip, 4);
  g_string_free (buf, TRUE);
}

GST_END_TEST;

static guint
parse (const gchar * head, TrickleHttpRequest * req, const gchar ** error)
{
  *error = NULL;
  return _gst_trickle_http_request_parse (req, (const guint8 *) head,
      strlen (head), error);
}

GST_START_TEST (test_request_parse)
{
  TrickleHttpRequest req;
  const gchar *error;

  fail_unless_equals_int (parse (HEAD, &req, &error), SOUP_STATUS_OK);
  fail_unless_equals_string (req.method, "POST");
  fail_unless_equals_string (req.target, "/cam/3");
  fail_unless (!req.http10);
  fail_unless (req.keep_alive);
  fail_unless_equals_int (req.body_mode, TRICKLE_HTTP_BODY_CHUNKED);
  fail_unless_equals_string (soup_message_headers_get_one (req.headers,
          "Host"), "a");
  _gst_trickle_http_request_clear (&req);
  _gst_trickle_http_request_clear (&req);       /* twice is harmless */

  fail_unless_equals_int (parse ("POST /cam/0 HTTP/1.1\r\nContent-Length: 5"
          "\r\nConnection: close\r\n\r\n", &req, &error), SOUP_STATUS_OK);
  fail_unless_equals_int (req.body_mode, TRICKLE_HTTP_BODY_LENGTH);
  fail_unless_equals_int (req.content_length, 5);
  fail_unless (!req.keep_alive);
  _gst_trickle_http_request_clear (&req);

  /* an empty body is no body */
  fail_unless_equals_int (parse ("POST /cam HTTP/1.1\r\nContent-Length: 0"
          "\r\n\r\n", &req, &error), SOUP_STATUS_OK);
  fail_unless_equals_int (req.body_mode, TRICKLE_HTTP_BODY_NONE);
  _gst_trickle_http_request_clear (&req);

  fail_unless_equals_int (parse ("GET /cam/0 HTTP/1.1\r\n\r\n", &req, &error),
      SOUP_STATUS_OK);
  fail_unless_equals_int (req.body_mode, TRICKLE_HTTP_BODY_NONE);
  fail_unless (req.keep_alive);
  _gst_trickle_http_request_clear (&req);

  /* HTTP/1.0: keep-alive only when asked for */
  fail_unless_equals_int (parse ("GET /cam/0 HTTP/1.0\r\n\r\n", &req, &error),
      SOUP_STATUS_OK);
  fail_unless (req.http10);
  fail_unless (!req.keep_alive);
  _gst_trickle_http_request_clear (&req);
  fail_unless_equals_int (parse ("GET /cam/0 HTTP/1.0\r\nConnection: "
          "Keep-Alive\r\n\r\n", &req, &error), SOUP_STATUS_OK);
  fail_unless (req.http10);
  fail_unless (req.keep_alive);
  _gst_trickle_http_request_clear (&req);
}

GST_END_TEST;

GST_START_TEST (test_request_bad)
{
  TrickleHttpRequest req;
  const gchar *error;

  /* not a request line */
  fail_unless_equals_int (parse ("hello\r\n\r\n", &req, &error),
      SOUP_STATUS_BAD_REQUEST);
  fail_unless (error != NULL);
  fail_unless (!req.keep_alive);
  _gst_trickle_http_request_clear (&req);

  /* a body framing the server does not decode */
  fail_unless_equals_int (parse ("POST /cam/0 HTTP/1.1\r\nTransfer-Encoding: "
          "gzip\r\n\r\n", &req, &error), SOUP_STATUS_BAD_REQUEST);
  fail_unless_equals_string (error,
      "Transfer-Encoding does not end with chunked");
  fail_unless (!req.keep_alive);
  _gst_trickle_http_request_clear (&req);
  fail_unless_equals_int (parse ("POST /cam/0 HTTP/1.1\r\nTransfer-Encoding: "
          "gzip, chunked\r\n\r\n", &req, &error), SOUP_STATUS_NOT_IMPLEMENTED);
  fail_unless (!req.keep_alive);
  _gst_trickle_http_request_clear (&req);

  /* what libsoup alone would let through (the server-level cases, with a
   * hidden request after each, are in httpserver.c) */
  fail_unless_equals_int (parse ("POST /cam/0 HTTP/1.1\r\nTransfer-Encoding "
          ": chunked\r\n\r\n", &req, &error), SOUP_STATUS_BAD_REQUEST);
  fail_unless_equals_string (error, "Invalid header field name");
  _gst_trickle_http_request_clear (&req);
  fail_unless_equals_int (parse ("GET /cam/0 HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
          &req, &error), SOUP_STATUS_BAD_REQUEST);
  fail_unless_equals_string (error,
      "Obsolete line folding in the request head");
  _gst_trickle_http_request_clear (&req);
  fail_unless_equals_int (parse ("GET /cam/0 HTTP/1.1\r\nA: b\rc\r\n\r\n",
          &req, &error), SOUP_STATUS_BAD_REQUEST);
  fail_unless_equals_string (error, "Bare CR in the request head");
  _gst_trickle_http_request_clear (&req);
  fail_unless_equals_int (parse ("GET /cam/0 HTTP/1.1\r\nA: b\x01\r\n\r\n",
          &req, &error), SOUP_STATUS_BAD_REQUEST);
  fail_unless_equals_string (error, "Control character in the request head");
  _gst_trickle_http_request_clear (&req);
  fail_unless_equals_int (parse ("POST /cam/0 HTTP/1.1\r\nContent-Length: 1"
          "\r\nContent-Length: 2\r\n\r\n", &req, &error),
      SOUP_STATUS_BAD_REQUEST);
  fail_unless_equals_string (error, "Invalid Content-Length");
  _gst_trickle_http_request_clear (&req);
  fail_unless_equals_int (parse ("POST /cam/0 HTTP/1.1\r\nContent-Length: 1"
          "\r\nTransfer-Encoding: chunked\r\n\r\n", &req, &error),
      SOUP_STATUS_BAD_REQUEST);
  fail_unless_equals_string (error,
      "Both Transfer-Encoding and Content-Length");
  _gst_trickle_http_request_clear (&req);

  /* HTAB and obs-text in a value are fine */
  fail_unless_equals_int (parse ("GET /cam/0 HTTP/1.1\r\nA: b\tc\xc3\xa9\r\n"
          "\r\n", &req, &error), SOUP_STATUS_OK);
  _gst_trickle_http_request_clear (&req);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* request bodies */

/* Feeds @body to a decoder in the pieces that @cuts (ascending offsets)
 * make, as a connection does: the bytes a piece left unconsumed are fed
 * again with the next one. Returns FALSE on a framing error; the payload in
 * *@payload, and how many bytes of @body the body took in *@used. */
static gboolean
feed (TrickleHttpBodyMode mode, guint64 length, gsize max_trailers,
    const gchar * body, gsize len, const gsize * cuts, guint n_cuts,
    gchar ** payload, gsize * used)
{
  TrickleHttpBodyDecoder dec;
  GByteArray *out = g_byte_array_new ();
  gsize pos = 0, end, consumed;
  guint i;
  gboolean ok = TRUE;

  _gst_trickle_http_body_decoder_init (&dec, mode, length, max_trailers);
  for (i = 0; i <= n_cuts && ok; i++) {
    end = i < n_cuts ? cuts[i] : len;
    if (_gst_trickle_http_body_decoder_is_done (&dec))
      break;
    ok = _gst_trickle_http_body_decode (&dec, (const guint8 *) body + pos,
        end - pos, &consumed, out);
    fail_unless (consumed <= end - pos);
    pos += consumed;
  }
  if (ok)
    fail_unless (_gst_trickle_http_body_decoder_is_done (&dec),
        "body not done after %" G_GSIZE_FORMAT " bytes", pos);
  g_byte_array_append (out, (const guint8 *) "", 1);
  *payload = (gchar *) g_byte_array_free (out, FALSE);
  *used = pos;
  return ok;
}

/* decodes @body whole, cut in two at every byte, and byte by byte: the
 * same payload each time, and the same end of body */
static void
check_chunked (const gchar * body, const gchar * want, const gchar * after)
{
  gsize len = strlen (body), body_len = len - strlen (after), i, used;
  gsize *bytes = g_new (gsize, len);
  gchar *payload;

  fail_unless (g_str_has_suffix (body, after));
  fail_unless (feed (TRICKLE_HTTP_BODY_CHUNKED, 0, 16384, body, len, NULL, 0,
          &payload, &used));
  fail_unless_equals_string (payload, want);
  fail_unless_equals_int (used, body_len);
  g_free (payload);

  for (i = 0; i <= len; i++) {
    fail_unless (feed (TRICKLE_HTTP_BODY_CHUNKED, 0, 16384, body, len, &i, 1,
            &payload, &used), "cut at %" G_GSIZE_FORMAT, i);
    fail_unless_equals_string (payload, want);
    fail_unless_equals_int (used, body_len);
    g_free (payload);
  }

  for (i = 0; i < len; i++)
    bytes[i] = i + 1;
  fail_unless (feed (TRICKLE_HTTP_BODY_CHUNKED, 0, 16384, body, len, bytes,
          len, &payload, &used));
  fail_unless_equals_string (payload, want);
  fail_unless_equals_int (used, body_len);
  g_free (payload);
  g_free (bytes);
}

GST_START_TEST (test_chunked_split_everywhere)
{
  check_chunked ("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", "");
  /* what follows the last chunk belongs to the next request */
  check_chunked ("5\r\nhello\r\n0\r\n\r\nGET /cam/0 HTTP/1.1\r\n\r\n",
      "hello", "GET /cam/0 HTTP/1.1\r\n\r\n");
  /* hex sizes of several digits, either case */
  check_chunked ("a\r\n0123456789\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
      "0\r\n\r\n", "0123456789abcdefghijklmnopqrstuvwxyz", "");
  /* bare LF line ends */
  check_chunked ("5\nhello\n0\n\n", "hello", "");
  /* an empty body */
  check_chunked ("0\r\n\r\n", "", "");
}

GST_END_TEST;

GST_START_TEST (test_chunk_extensions_and_trailers)
{
  /* extensions: skipped, with or without values, quoted, after spaces */
  check_chunked ("5;name=value\r\nhello\r\n6 ; a=\"x;y\" ; b\r\n world\r\n"
      "0;last\r\n\r\n", "hello world", "");
  check_chunked ("5\t;x\r\nhello\r\n0\r\n\r\n", "hello", "");
  /* trailers: skipped */
  check_chunked ("5\r\nhello\r\n0\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\n"
      "NEXT", "hello", "NEXT");
}

GST_END_TEST;

static gboolean
chunked_ok (const gchar * body, gsize max_trailers)
{
  gchar *payload;
  gsize used, len = strlen (body), i;
  gboolean whole, ok;

  whole = feed (TRICKLE_HTTP_BODY_CHUNKED, 0, max_trailers, body, len, NULL,
      0, &payload, &used);
  g_free (payload);
  /* split anywhere, the answer is the same */
  for (i = 0; i <= len; i++) {
    ok = feed (TRICKLE_HTTP_BODY_CHUNKED, 0, max_trailers, body, len, &i, 1,
        &payload, &used);
    g_free (payload);
    fail_unless_equals_int (ok, whole);
  }
  return whole;
}

GST_START_TEST (test_chunked_bad_framing)
{
  GString *s;

  fail_if (chunked_ok ("x\r\nhello\r\n0\r\n\r\n", 16384));      /* not hex */
  fail_if (chunked_ok ("\r\nhello\r\n0\r\n\r\n", 16384));       /* no size */
  fail_if (chunked_ok (";ext\r\nhello\r\n0\r\n\r\n", 16384));
  fail_if (chunked_ok ("-5\r\nhello\r\n0\r\n\r\n", 16384));
  fail_if (chunked_ok ("5x\r\nhello\r\n0\r\n\r\n", 16384));
  /* data longer than its size */
  fail_if (chunked_ok ("5\r\nhello!\r\n0\r\n\r\n", 16384));
  /* sizes over 2^60 */
  fail_if (chunked_ok ("1000000000000000\r\n", 16384));
  fail_unless (chunked_ok ("000000000000005\r\nhello\r\n0\r\n\r\n", 16384));

  /* a size line at most 4096 bytes long, extension included */
  s = g_string_new ("5;");
  while (s->len < TRICKLE_HTTP_MAX_CHUNK_LINE - 2)
    g_string_append_c (s, 'x');
  g_string_append (s, "\r\nhello\r\n0\r\n\r\n");
  fail_unless (chunked_ok (s->str, 16384));
  g_string_insert_c (s, 2, 'x');
  fail_if (chunked_ok (s->str, 16384));
  g_string_free (s, TRUE);

  /* trailers bounded (max-header-size) */
  fail_unless (chunked_ok ("0\r\nA: 12345\r\n\r\n", 16));
  fail_if (chunked_ok ("0\r\nA: 1234567890123456\r\n\r\n", 16));
}

GST_END_TEST;

GST_START_TEST (test_length_body)
{
  const gchar *body = "helloGET /cam/0 HTTP/1.1\r\n\r\n";
  gsize len = strlen (body), i, used;
  TrickleHttpBodyDecoder dec;
  GByteArray *out = g_byte_array_new ();
  gchar *payload;

  for (i = 0; i <= len; i++) {
    fail_unless (feed (TRICKLE_HTTP_BODY_LENGTH, 5, 16384, body, len, &i, 1,
            &payload, &used));
    fail_unless_equals_string (payload, "hello");
    fail_unless_equals_int (used, 5);
    g_free (payload);
  }

  /* no body: done at once, nothing consumed */
  _gst_trickle_http_body_decoder_init (&dec, TRICKLE_HTTP_BODY_NONE, 0, 16);
  fail_unless (_gst_trickle_http_body_decoder_is_done (&dec));
  fail_unless (_gst_trickle_http_body_decode (&dec, S ("abc"), &used, out));
  fail_unless_equals_int (used, 0);
  fail_unless_equals_int (out->len, 0);
  g_byte_array_unref (out);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* responses */

static void
assert_bytes (GBytes * bytes, const gchar * want)
{
  gsize len;
  const gchar *data = g_bytes_get_data (bytes, &len);
  gchar *got = g_strndup (data, len);

  fail_unless_equals_string (got, want);
  g_free (got);
  g_bytes_unref (bytes);
}

#define DATE "Tue, 01 Dec 2026 20:00:00 GMT"

GST_START_TEST (test_responses)
{
  gchar head[TRICKLE_HTTP_CHUNK_HEAD_SIZE];
  GString *extra = g_string_new (NULL);

  assert_bytes (_gst_trickle_http_response_new (200, FALSE, NULL, NULL, DATE,
          NULL, 0, FALSE),
      "HTTP/1.1 200 OK\r\nDate: " DATE "\r\nContent-Length: 0\r\n\r\n");
  _gst_trickle_http_header_int (extra, "Lp-Trickle-Latest", 7);
  _gst_trickle_http_header_int (extra, "Lp-Trickle-Seq", -1);
  fail_unless_equals_string (extra->str,
      "Lp-Trickle-Latest: 7\r\nLp-Trickle-Seq: -1\r\n");
  assert_bytes (_gst_trickle_http_response_new (470, TRUE, extra->str,
          "text/plain; charset=utf-8", DATE, "Entry not found", 15, FALSE),
      "HTTP/1.1 470 status code 470\r\nConnection: close\r\n"
      "Lp-Trickle-Latest: 7\r\nLp-Trickle-Seq: -1\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nDate: " DATE "\r\n"
      "Content-Length: 15\r\n\r\nEntry not found");
  /* the answer to a HEAD: the length, not the body */
  assert_bytes (_gst_trickle_http_response_new (404, FALSE, NULL, "text/plain",
          DATE, "gone\n", 5, TRUE),
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nDate: " DATE
      "\r\nContent-Length: 5\r\n\r\n");
  assert_bytes (_gst_trickle_http_response_new (431, TRUE, NULL, NULL, DATE,
          NULL, 0, FALSE),
      "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
      "Date: " DATE "\r\nContent-Length: 0\r\n\r\n");

  /* a streamed segment: chunked, or to the end of the connection */
  assert_bytes (_gst_trickle_http_stream_head_new (FALSE, "video/MP2T",
          extra->str, DATE, TRUE),
      "HTTP/1.1 200 OK\r\nContent-Type: video/MP2T\r\n"
      "Lp-Trickle-Latest: 7\r\nLp-Trickle-Seq: -1\r\nDate: " DATE "\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  assert_bytes (_gst_trickle_http_stream_head_new (TRUE, "", NULL, DATE,
          FALSE),
      "HTTP/1.1 200 OK\r\nConnection: close\r\nDate: " DATE "\r\n\r\n");

  fail_unless_equals_int (_gst_trickle_http_chunk_head (head, 31), 4);
  fail_unless_equals_string (head, "1f\r\n");
  fail_unless_equals_int (_gst_trickle_http_chunk_head (head, 0x2000000), 9);
  fail_unless_equals_string (head, "2000000\r\n");
  g_string_free (extra, TRUE);
}

GST_END_TEST;

static Suite *
httpframing_suite (void)
{
  Suite *s = suite_create ("httpframing");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_head_split_across_reads);
  tcase_add_test (tc, test_head_bare_lf);
  tcase_add_test (tc, test_head_oversize);
  tcase_add_test (tc, test_request_parse);
  tcase_add_test (tc, test_request_bad);
  tcase_add_test (tc, test_chunked_split_everywhere);
  tcase_add_test (tc, test_chunk_extensions_and_trailers);
  tcase_add_test (tc, test_chunked_bad_framing);
  tcase_add_test (tc, test_length_body);
  tcase_add_test (tc, test_responses);
  return s;
}

GST_CHECK_MAIN (httpframing);
