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

/*
 * Conformance tests of GstTrickleHttpServer against the trickle protocol
 * (shared/protocol.md) and the reference server's wire transcripts
 * (shared/reference-transcripts/NN_*.txt, cited as "ref NN").
 *
 * Every test starts its own in-process server on 127.0.0.1, port 0, and
 * talks to it with the blocking raw-socket client of trickletestutil.h
 * (exact bytes on the wire), or with a libsoup 3 SoupSession.
 *
 * Error bodies are compared without their trailing newline: the reference
 * (Go's http.Error) appends one, which no client looks at.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "trickletestutil.h"

/* Pause that lets the server register a request that sends no answer yet
 * (a preconnected GET) before the test does the next step. Only used where
 * the protocol gives no signal; the server needs well under 1 ms on
 * loopback. */
#define SETTLE_MS 250

/* "no answer yet" checks wait this long */
#define QUIET_MS 300

/* ------------------------------------------------------------------------ */
/* assertion helpers */

#define assert_status(c, expected) G_STMT_START {                          \
  guint _s = (c)->status;                                                 \
  fail_unless (_s == (guint) (expected),                                  \
      "status %u (%s), expected %u%s", _s,                                \
      (c)->reason ? (c)->reason : "-", (guint) (expected),                 \
      (c)->head_timed_out ? " (timed out waiting for the head)" :         \
      (_s == 0 ? " (no head: connection closed or garbage)" : ""));       \
} G_STMT_END

#define assert_header(c, name, expected) G_STMT_START {                    \
  const gchar *_v = trickle_test_conn_get_header ((c), (name));            \
  const gchar *_e = (expected);                                           \
  fail_unless (g_strcmp0 (_v, _e) == 0,                                   \
      "header %s: got '%s', expected '%s' (status %u)", (name),           \
      _v ? _v : "(absent)", _e ? _e : "(absent)", (c)->status);           \
} G_STMT_END

#define assert_no_header(c, name) assert_header (c, name, NULL)

#define assert_header_present(c, name) G_STMT_START {                      \
  fail_unless (trickle_test_conn_get_header ((c), (name)) != NULL,          \
      "header %s missing (status %u)", (name), (c)->status);               \
} G_STMT_END

/* body (without one trailing '\n') equals text */
#define assert_body_text(c, text) G_STMT_START {                           \
  gchar *_b = g_strdup (trickle_test_conn_body_str (c));                  \
  gsize _l = strlen (_b);                                                 \
  if (_l > 0 && _b[_l - 1] == '\n')                                       \
    _b[_l - 1] = '\0';                                                    \
  fail_unless (g_strcmp0 (_b, (text)) == 0,                               \
      "body '%s', expected '%s' (status %u)", _b, (text), (c)->status);    \
  g_free (_b);                                                            \
} G_STMT_END

/* exact body bytes */
#define assert_body_exact(c, text) G_STMT_START {                          \
  fail_unless_equals_string (trickle_test_conn_body_str (c), (text));      \
} G_STMT_END

static const gchar *
body_result_name (TrickleTestBodyResult r)
{
  switch (r) {
    case TRICKLE_TEST_BODY_DATA:
      return "DATA";
    case TRICKLE_TEST_BODY_END:
      return "END (clean end)";
    case TRICKLE_TEST_BODY_CLOSED:
      return "CLOSED (connection closed before the end)";
    case TRICKLE_TEST_BODY_TIMEOUT:
      return "TIMEOUT";
    case TRICKLE_TEST_BODY_ERROR:
      return "ERROR (bad framing / no head)";
  }
  return "?";
}

#define assert_body_result(c, r, expected) G_STMT_START {                  \
  TrickleTestBodyResult _r = (r);                                         \
  fail_unless (_r == (expected), "body read: %s, expected %s "            \
      "(%u body bytes read)", body_result_name (_r),                      \
      body_result_name (expected), (c)->body->len);                       \
} G_STMT_END

/* a whole response: status, and the body text (NULL: not checked) */
#define assert_response(c, st, text) G_STMT_START {                        \
  assert_status (c, st);                                                  \
  assert_body_result (c, (c)->body_result, TRICKLE_TEST_BODY_END);        \
  if ((text) != NULL)                                                     \
    assert_body_text (c, (const gchar *) (text));                         \
} G_STMT_END

static gint64
header_int (TrickleTestConn * c, const gchar * name)
{
  const gchar *v = trickle_test_conn_get_header (c, name);
  gint64 n = 0;

  fail_unless (v != NULL, "header %s missing (status %u)", name, c->status);
  fail_unless (g_ascii_string_to_signed (v, 10, G_MININT64, G_MAXINT64, &n,
          NULL), "header %s not an integer: '%s'", name, v);
  return n;
}

/* ------------------------------------------------------------------------ */
/* protocol helpers */

/* POST /name: create a channel (Expect-Content = mime when not NULL) */
static void
create_channel (TrickleTestServer * ts, const gchar * name, const gchar * mime)
{
  gchar *path = g_strdup_printf ("/%s", name);
  TrickleTestConn *c;

  if (mime)
    c = trickle_test_request (ts->port, "POST", path, NULL, 0,
        "Expect-Content", mime, NULL);
  else
    c = trickle_test_request (ts->port, "POST", path, NULL, 0, NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);
  g_free (path);
}

/* POST path with a Content-Length body; asserts 200 and returns
 * Lp-Trickle-Seq */
static gint64
post_segment (TrickleTestServer * ts, const gchar * path, const gchar * data,
    gssize len)
{
  TrickleTestConn *c = trickle_test_request (ts->port, "POST", path, data,
      len, NULL);
  gint64 seq;

  assert_status (c, 200);
  seq = header_int (c, "Lp-Trickle-Seq");
  trickle_test_conn_free (c);
  return seq;
}

/* GET /name/next: asserts 200, the body and Lp-Trickle-Latest agree */
static gint64
get_next (TrickleTestServer * ts, const gchar * name)
{
  gchar *path = g_strdup_printf ("/%s/next", name);
  TrickleTestConn *c = trickle_test_request (ts->port, "GET", path, NULL, 0,
      NULL);
  gint64 next = -1;

  assert_response (c, 200, NULL);
  fail_unless (g_ascii_string_to_signed (trickle_test_conn_body_str (c), 10,
          0, G_MAXINT64, &next, NULL), "next body not a number: '%s'",
      trickle_test_conn_body_str (c));
  fail_unless_equals_int64 (header_int (c, "Lp-Trickle-Latest"), next);
  trickle_test_conn_free (c);
  g_free (path);
  return next;
}

/* POSTs a few bytes into @path and dies (no terminating chunk); returns
 * once the server aborted the segment, as a subscriber of it tells (not a
 * delay: a loaded machine may take longer) */
static void
post_aborted (TrickleTestServer * ts, const gchar * path)
{
  TrickleTestConn *pub = trickle_test_conn_new (ts->port), *sub;
  TrickleTestBodyResult res;

  fail_unless (trickle_test_conn_start_post (pub, path, NULL));
  sub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send_request (sub, "GET", path, NULL));
  fail_unless (trickle_test_conn_send_chunk (pub, "partial", 7));
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  trickle_test_conn_close (pub);
  trickle_test_conn_free (pub);
  while ((res = trickle_test_conn_read_body (sub)) == TRICKLE_TEST_BODY_DATA);
  fail_if (res == TRICKLE_TEST_BODY_END, "the aborted segment ended clean");
  trickle_test_conn_free (sub);
}

/* a raw GET that the server should hold (no answer yet) */
static TrickleTestConn *
start_get (TrickleTestServer * ts, const gchar * path)
{
  TrickleTestConn *c = trickle_test_conn_new (ts->port);

  fail_unless (trickle_test_conn_send_request (c, "GET", path, NULL));
  return c;
}

#define assert_no_answer_yet(c, what) G_STMT_START {                       \
  fail_if (trickle_test_conn_has_data ((c), QUIET_MS),                     \
      "%s: the server answered (or closed) although it should wait", what); \
} G_STMT_END

static void
settle (void)
{
  g_usleep (SETTLE_MS * 1000);
}

/* the server still answers ordinary requests */
static void
assert_server_alive (TrickleTestServer * ts)
{
  TrickleTestConn *c = trickle_test_request (ts->port, "GET",
      "/alive-check/next", NULL, 0, NULL);

  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);
}

/* ------------------------------------------------------------------------ */
/* subscriber threads: read one segment and compare it to the expected bytes
 * as it arrives (no assertion outside the test thread) */

typedef struct
{
  TrickleTestConn *conn;        /* request already sent */
  const guint8 *expected;
  gsize expected_len;
  GThread *thread;

  /* results */
  guint status;
  gchar *seq;
  gsize received;
  gboolean mismatch;
  gsize mismatch_at;
  TrickleTestBodyResult result;
} Reader;

static gpointer
reader_func (gpointer data)
{
  Reader *r = data;

  r->result = TRICKLE_TEST_BODY_ERROR;
  r->status = trickle_test_conn_read_head (r->conn);
  if (r->status != 200)
    return NULL;
  r->seq = g_strdup (trickle_test_conn_get_header (r->conn, "Lp-Trickle-Seq"));

  for (;;) {
    GBytes *b = NULL;
    TrickleTestBodyResult res = trickle_test_conn_read_chunk (r->conn, &b);
    gconstpointer d;
    gsize len;

    if (res != TRICKLE_TEST_BODY_DATA) {
      r->result = res;
      break;
    }
    d = g_bytes_get_data (b, &len);
    if (!r->mismatch && (r->received + len > r->expected_len ||
            memcmp (r->expected + r->received, d, len) != 0)) {
      r->mismatch = TRUE;
      r->mismatch_at = r->received;
    }
    r->received += len;
    g_bytes_unref (b);
  }
  return NULL;
}

static Reader *
reader_start (TrickleTestConn * conn, GBytes * expected)
{
  Reader *r = g_new0 (Reader, 1);

  r->conn = conn;
  r->expected = g_bytes_get_data (expected, &r->expected_len);
  r->thread = g_thread_new ("reader", reader_func, r);
  return r;
}

static void
reader_join (Reader * r)
{
  if (r->thread)
    g_thread_join (r->thread);
  r->thread = NULL;
}

/* joins and asserts the whole segment arrived intact and ended cleanly */
static void
reader_assert_complete (Reader * r, const gchar * seq, const gchar * what)
{
  reader_join (r);
  fail_unless (r->status == 200, "%s: status %u", what, r->status);
  fail_unless (g_strcmp0 (r->seq, seq) == 0, "%s: Lp-Trickle-Seq '%s', "
      "expected '%s'", what, r->seq ? r->seq : "(absent)", seq);
  fail_if (r->mismatch, "%s: data differs at byte %" G_GSIZE_FORMAT, what,
      r->mismatch_at);
  fail_unless (r->received == r->expected_len, "%s: received %"
      G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT, what, r->received,
      r->expected_len);
  fail_unless (r->result == TRICKLE_TEST_BODY_END, "%s: body ended with %s",
      what, body_result_name (r->result));
}

static void
reader_free (Reader * r)
{
  reader_join (r);
  trickle_test_conn_free (r->conn);
  g_free (r->seq);
  g_free (r);
}

/* publishes @data on an open chunked POST in chunks of @chunk bytes */
static void
send_chunks (TrickleTestConn * pub, GBytes * data, gsize chunk)
{
  gsize len, off;
  const guint8 *d = g_bytes_get_data (data, &len);

  for (off = 0; off < len; off += chunk) {
    fail_unless (trickle_test_conn_send_chunk (pub, d + off,
            MIN (chunk, len - off)), "publisher: sending the chunk at %"
        G_GSIZE_FORMAT " failed", off);
  }
}

/* ======================================================================== */
/* Endpoint table and reference transcripts */

/* ref 01, 02, 34, 42 */
GST_START_TEST (test_unknown_channel)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  c = trickle_test_request (ts->port, "GET", "/nope/0", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/nope/next", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/nope/-1", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "DELETE", "/nope/0", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  /* the reference answers 400 "Invalid stream" here */
  c = trickle_test_request (ts->port, "DELETE", "/nope", NULL, 0, NULL);
  assert_response (c, 400, "Invalid stream");
  trickle_test_conn_free (c);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 03, 04, 16 */
GST_START_TEST (test_create_and_next)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;
  const gchar *ct;

  create_channel (ts, "test", NULL);

  c = trickle_test_request (ts->port, "GET", "/test/next", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "0");
  assert_header (c, "Lp-Trickle-Latest", "0");
  ct = trickle_test_conn_get_header (c, "Content-Type");
  fail_unless (ct && g_str_has_prefix (ct, "text/plain"),
      "next: Content-Type '%s'", ct ? ct : "(absent)");
  trickle_test_conn_free (c);

  /* HEAD: the headers of GET, no body; the connection stays usable */
  c = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send_request (c, "HEAD", "/test/next", NULL));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  assert_header (c, "Lp-Trickle-Latest", "0");
  assert_header (c, "Content-Length", "1");
  fail_unless (trickle_test_conn_send_request (c, "GET", "/test/next", NULL));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  assert_body_result (c, trickle_test_conn_read_body (c),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (c, "0");
  /* keep-alive: a third request on the same connection */
  fail_unless (trickle_test_conn_send_request (c, "GET", "/test/next", NULL));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  assert_body_result (c, trickle_test_conn_read_body (c),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (c, "0");
  trickle_test_conn_free (c);

  /* creating an existing channel is fine and changes nothing */
  create_channel (ts, "test", NULL);
  fail_unless_equals_int64 (get_next (ts, "test"), 0);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 05, 06, 07, 08, 28, 30 and wire.txt */
GST_START_TEST (test_publish_and_replay)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *sub, *c;
  GBytes *big;
  gsize big_len;
  const gchar *big_data;

  create_channel (ts, "test", "video/MP2T");

  /* preconnect: no response head before the first byte is published */
  sub = start_get (ts, "/test/0");
  assert_no_answer_yet (sub, "GET /test/0 before any data");

  c = trickle_test_request (ts->port, "POST", "/test/0", "hello trickle\n",
      -1, "Content-Type", "video/MP2T", NULL);
  assert_response (c, 200, "");
  assert_header (c, "Lp-Trickle-Seq", "0");
  trickle_test_conn_free (c);

  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_header (sub, "Content-Type", "video/MP2T");
  assert_header (sub, "Lp-Trickle-Seq", "0");
  assert_header (sub, "Transfer-Encoding", "chunked");
  assert_no_header (sub, "Content-Length");
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, "hello trickle\n");
  trickle_test_conn_free (sub);

  fail_unless_equals_int64 (get_next (ts, "test"), 1);

  /* replay of a completed segment */
  c = trickle_test_request (ts->port, "GET", "/test/0", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "hello trickle\n");
  assert_header (c, "Content-Type", "video/MP2T");
  assert_header (c, "Lp-Trickle-Seq", "0");
  assert_header (c, "Lp-Trickle-Latest", "1");
  assert_header (c, "Transfer-Encoding", "chunked");
  trickle_test_conn_free (c);

  /* a 5000 byte body with Content-Length */
  big = trickle_test_make_data (5000, 28);
  big_data = g_bytes_get_data (big, &big_len);
  fail_unless_equals_int64 (post_segment (ts, "/test/1", big_data, big_len), 1);
  c = trickle_test_request (ts->port, "GET", "/test/1", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_header (c, "Lp-Trickle-Seq", "1");
  assert_header (c, "Lp-Trickle-Latest", "2");
  fail_unless_equals_int (c->body->len, big_len);
  fail_unless (memcmp (c->body->data, big_data, big_len) == 0);
  trickle_test_conn_free (c);
  g_bytes_unref (big);

  /* both again on one keep-alive connection */
  c = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send_request (c, "GET", "/test/0", NULL));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  assert_body_result (c, trickle_test_conn_read_body (c),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (c, "hello trickle\n");
  fail_unless (trickle_test_conn_send_request (c, "GET", "/test/next", NULL));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  assert_body_result (c, trickle_test_conn_read_body (c),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (c, "2");
  trickle_test_conn_free (c);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 09, 59, 60, 61, 62, 63 */
GST_START_TEST (test_far_future_and_gap)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c, *wait0, *wait1;

  create_channel (ts, "fresh", NULL);

  /* ref 61: seq 2 on a fresh channel is too far ahead */
  c = trickle_test_request (ts->port, "GET", "/fresh/2", NULL, 0, NULL);
  assert_response (c, 470, "Entry not found");
  assert_header (c, "Lp-Trickle-Seq", "2");
  assert_header (c, "Lp-Trickle-Latest", "0");
  trickle_test_conn_free (c);

  /* ref 60: seq 0 (next) and seq 1 (while nothing written) wait */
  wait0 = start_get (ts, "/fresh/0");
  wait1 = start_get (ts, "/fresh/1");
  assert_no_answer_yet (wait0, "GET /fresh/0 on a fresh channel");
  assert_no_answer_yet (wait1, "GET /fresh/1 on a fresh channel");

  /* ref 62, 63: a gap is accepted and moves the write head */
  fail_unless_equals_int64 (post_segment (ts, "/fresh/7", "gap", -1), 7);
  fail_unless_equals_int64 (get_next (ts, "fresh"), 8);

  c = trickle_test_request (ts->port, "GET", "/fresh/7", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "gap");
  assert_header (c, "Lp-Trickle-Seq", "7");
  assert_header (c, "Lp-Trickle-Latest", "8");
  trickle_test_conn_free (c);

  /* ref 09: far ahead of the write head */
  c = trickle_test_request (ts->port, "GET", "/fresh/100", NULL, 0, NULL);
  assert_response (c, 470, "Entry not found");
  assert_header (c, "Lp-Trickle-Seq", "100");
  assert_header (c, "Lp-Trickle-Latest", "8");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/fresh/9223372036854775807",
      NULL, 0, NULL);
  assert_response (c, 470, "Entry not found");
  assert_header (c, "Lp-Trickle-Seq", "9223372036854775807");
  assert_header (c, "Lp-Trickle-Latest", "8");
  trickle_test_conn_free (c);

  trickle_test_conn_free (wait0);
  trickle_test_conn_free (wait1);
  assert_server_alive (ts);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 11, 12, 13: seq -1 and -2 */
GST_START_TEST (test_seq_minus_one_minus_two)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c, *cur0, *next0, *next1, *pre2, *pub;

  create_channel (ts, "m", "text/plain");

  /* fresh channel: -2 is seq 0 and -1 is seq 0, both wait */
  cur0 = start_get (ts, "/m/-2");
  next0 = start_get (ts, "/m/-1");
  assert_no_answer_yet (cur0, "GET /m/-2 on a fresh channel");
  assert_no_answer_yet (next0, "GET /m/-1 on a fresh channel");

  /* ref 13: POST -1 writes the next seq */
  fail_unless_equals_int64 (post_segment (ts, "/m/-1", "first", -1), 0);

  fail_unless_equals_int (trickle_test_conn_read_head (cur0), 200);
  assert_header (cur0, "Lp-Trickle-Seq", "0");
  assert_body_result (cur0, trickle_test_conn_read_body (cur0),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (cur0, "first");
  fail_unless_equals_int (trickle_test_conn_read_head (next0), 200);
  assert_header (next0, "Lp-Trickle-Seq", "0");
  assert_body_result (next0, trickle_test_conn_read_body (next0),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (next0, "first");
  trickle_test_conn_free (cur0);
  trickle_test_conn_free (next0);

  /* ref 11: -2 is the last segment written */
  c = trickle_test_request (ts->port, "GET", "/m/-2", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "first");
  assert_header (c, "Lp-Trickle-Seq", "0");
  assert_header (c, "Lp-Trickle-Latest", "1");
  assert_header (c, "Content-Type", "text/plain");
  trickle_test_conn_free (c);

  /* ref 12: -1 waits for the next segment */
  next1 = start_get (ts, "/m/-1");
  assert_no_answer_yet (next1, "GET /m/-1");
  fail_unless_equals_int64 (post_segment (ts, "/m/-1", "second", -1), 1);
  fail_unless_equals_int (trickle_test_conn_read_head (next1), 200);
  assert_header (next1, "Lp-Trickle-Seq", "1");
  assert_body_result (next1, trickle_test_conn_read_body (next1),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (next1, "second");
  trickle_test_conn_free (next1);

  /* -2 while segment 2 is being written: that segment, partial data first */
  pre2 = start_get (ts, "/m/2");
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/m/2", NULL));
  fail_unless (trickle_test_conn_send_chunk (pub, "part1-", -1));
  /* once the preconnected reader has the bytes, the server has them */
  fail_unless_equals_int (trickle_test_conn_read_head (pre2), 200);
  assert_body_result (pre2, trickle_test_conn_read_body_at_least (pre2, 6),
      TRICKLE_TEST_BODY_DATA);

  c = start_get (ts, "/m/-2");
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  assert_header (c, "Lp-Trickle-Seq", "2");
  assert_body_result (c, trickle_test_conn_read_body_at_least (c, 6),
      TRICKLE_TEST_BODY_DATA);
  fail_unless (memcmp (c->body->data, "part1-", 6) == 0);

  fail_unless (trickle_test_conn_send_chunk (pub, "part2", -1));
  fail_unless (trickle_test_conn_send_last_chunk (pub));
  assert_body_result (c, trickle_test_conn_read_body (c),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (c, "part1-part2");
  assert_body_result (pre2, trickle_test_conn_read_body (pre2),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (pre2, "part1-part2");
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "2");

  trickle_test_conn_free (c);
  trickle_test_conn_free (pre2);
  trickle_test_conn_free (pub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 14, 15 */
GST_START_TEST (test_bad_idx)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  create_channel (ts, "test", NULL);

  c = trickle_test_request (ts->port, "POST", "/test/abc", "hello", -1, NULL);
  assert_response (c, 400, "Invalid idx");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/test/abc", NULL, 0, NULL);
  assert_response (c, 400, "Invalid idx");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "DELETE", "/test/abc", NULL, 0, NULL);
  assert_response (c, 400, "Invalid idx");
  trickle_test_conn_free (c);

  fail_unless_equals_int64 (get_next (ts, "test"), 0);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 17, 18, 19 */
GST_START_TEST (test_method_not_allowed)
{
  const gchar *methods[] = { "PUT", "PATCH", "FOO" };
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;
  guint i;

  create_channel (ts, "test", NULL);

  for (i = 0; i < G_N_ELEMENTS (methods); i++) {
    c = trickle_test_request (ts->port, methods[i], "/test/0", NULL, 0, NULL);
    assert_response (c, 405, "Method Not Allowed");
    assert_header (c, "Allow", "DELETE, GET, HEAD, POST");
    trickle_test_conn_free (c);

    c = trickle_test_request (ts->port, methods[i], "/test", NULL, 0, NULL);
    assert_response (c, 405, "Method Not Allowed");
    assert_header (c, "Allow", "DELETE, POST");
    trickle_test_conn_free (c);
  }

  /* ref 19: GET (and HEAD) of a channel path */
  c = trickle_test_request (ts->port, "GET", "/test", NULL, 0, NULL);
  assert_response (c, 405, "Method Not Allowed");
  assert_header (c, "Allow", "DELETE, POST");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "HEAD", "/test", NULL, 0, NULL);
  assert_status (c, 405);
  assert_header (c, "Allow", "DELETE, POST");
  trickle_test_conn_free (c);

  fail_unless_equals_int64 (get_next (ts, "test"), 0);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 20, 21, 22 */
GST_START_TEST (test_not_found_paths)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  create_channel (ts, "test", NULL);

  c = trickle_test_request (ts->port, "GET", "/test/0/extra", NULL, 0, NULL);
  assert_response (c, 404, "404 page not found");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/test/", NULL, 0, NULL);
  assert_response (c, 404, "404 page not found");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "POST", "/", NULL, 0, NULL);
  assert_response (c, 404, "404 page not found");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/", NULL, 0, NULL);
  assert_response (c, 404, "404 page not found");
  trickle_test_conn_free (c);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 23, 24, 25: a subscriber that falls out of the window */
GST_START_TEST (test_window_eviction)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c, *sub;
  gint64 i;

  g_object_set (ts->store, "window", 5, NULL);
  trickle_test_server_start (ts, NULL);
  create_channel (ts, "w", NULL);

  /* the subscriber waits on segment 0, reads it, then is slow: the
   * publisher writes 8 segments meanwhile */
  sub = start_get (ts, "/w/0");
  for (i = 0; i < 8; i++) {
    gchar *path = g_strdup_printf ("/w/%" G_GINT64_FORMAT, i);
    gchar *data = g_strdup_printf ("seg%" G_GINT64_FORMAT, i);

    fail_unless_equals_int64 (post_segment (ts, path, data, -1), i);
    g_free (path);
    g_free (data);
  }
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, "seg0");
  trickle_test_conn_free (sub);

  /* its next GET is out of the window: 470, jump to Latest */
  c = trickle_test_request (ts->port, "GET", "/w/1", NULL, 0, NULL);
  assert_response (c, 470, "Entry not found");
  assert_header (c, "Lp-Trickle-Seq", "1");
  assert_header (c, "Lp-Trickle-Latest", "8");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/w/2", NULL, 0, NULL);
  assert_response (c, 470, "Entry not found");
  assert_header (c, "Lp-Trickle-Seq", "2");
  assert_header (c, "Lp-Trickle-Latest", "8");
  trickle_test_conn_free (c);

  /* the window holds 3..7 */
  for (i = 3; i < 8; i++) {
    gchar *path = g_strdup_printf ("/w/%" G_GINT64_FORMAT, i);
    gchar *data = g_strdup_printf ("seg%" G_GINT64_FORMAT, i);
    gchar *seq = g_strdup_printf ("%" G_GINT64_FORMAT, i);

    c = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
    assert_response (c, 200, NULL);
    assert_body_exact (c, data);
    assert_header (c, "Lp-Trickle-Seq", seq);
    assert_header (c, "Lp-Trickle-Latest", "8");
    trickle_test_conn_free (c);
    g_free (path);
    g_free (data);
    g_free (seq);
  }
  fail_unless_equals_int64 (get_next (ts, "w"), 8);
  trickle_test_server_free (ts);

  /* the "window" property is honoured: 3 */
  ts = trickle_test_server_new ();
  g_object_set (ts->store, "window", 3, NULL);
  trickle_test_server_start (ts, NULL);
  create_channel (ts, "w3", NULL);
  for (i = 0; i < 5; i++) {
    gchar *path = g_strdup_printf ("/w3/%" G_GINT64_FORMAT, i);

    fail_unless_equals_int64 (post_segment (ts, path, "x", -1), i);
    g_free (path);
  }
  c = trickle_test_request (ts->port, "GET", "/w3/1", NULL, 0, NULL);
  assert_response (c, 470, "Entry not found");
  assert_header (c, "Lp-Trickle-Latest", "5");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/w3/2", NULL, 0, NULL);
  assert_response (c, 200, "x");
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 26, 27: POSTing a completed seq again keeps the original data */
GST_START_TEST (test_repost_completed_seq)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  create_channel (ts, "r", NULL);
  fail_unless_equals_int64 (post_segment (ts, "/r/0", "seg0", -1), 0);
  fail_unless_equals_int64 (post_segment (ts, "/r/1", "seg1", -1), 1);

  c = trickle_test_request (ts->port, "POST", "/r/1", "AGAIN", -1, NULL);
  assert_status (c, 200);
  assert_header (c, "Lp-Trickle-Seq", "1");
  trickle_test_conn_free (c);

  /* ref 27 */
  c = trickle_test_request (ts->port, "GET", "/r/1", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_header (c, "Lp-Trickle-Seq", "1");
  assert_header (c, "Lp-Trickle-Latest", "2");
  fail_unless (g_strcmp0 (trickle_test_conn_body_str (c), "seg1") == 0,
      "GET of a re-POSTed completed seq returned '%s'; the reference "
      "(ref 26/27) keeps the original 'seg1'", trickle_test_conn_body_str (c));
  trickle_test_conn_free (c);

  fail_unless_equals_int64 (get_next (ts, "r"), 2);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 31, 32, 33, and a pending POST closed by DELETE /ch/seq */
GST_START_TEST (test_close_seq)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c, *sub, *pub;

  trickle_test_server_start (ts, "keepalive-interval", 100, NULL);
  create_channel (ts, "cs", NULL);
  fail_unless_equals_int64 (post_segment (ts, "/cs/0", "x", -1), 0);

  /* ref 31/32: a pending GET on the next seq, released by DELETE */
  sub = start_get (ts, "/cs/1");
  assert_no_answer_yet (sub, "GET /cs/1");
  c = trickle_test_request (ts->port, "DELETE", "/cs/1", NULL, 0, NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);

  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, "");
  assert_header (sub, "Content-Length", "0");
  assert_header (sub, "Lp-Trickle-Seq", "1");
  assert_header (sub, "Lp-Trickle-Latest", "1");
  assert_no_header (sub, "Lp-Trickle-Closed");
  trickle_test_conn_free (sub);

  /* ref 33 */
  c = trickle_test_request (ts->port, "DELETE", "/cs/42", NULL, 0, NULL);
  assert_response (c, 400, "Nonexistent segment");
  trickle_test_conn_free (c);

  /* a preconnected POST (headers only) on seq 2 closed by DELETE: 200 with
   * Lp-Trickle-Seq and Connection: close; the write head moves past it */
  create_channel (ts, "cs2", NULL);
  fail_unless_equals_int64 (post_segment (ts, "/cs2/0", "x", -1), 0);
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/cs2/1", NULL));
  /* the keep-alive 100 shows the server holds the POST */
  fail_unless_equals_int (trickle_test_conn_read_one_head (pub), 100);

  c = trickle_test_request (ts->port, "DELETE", "/cs2/1", NULL, 0, NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);

  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "1");
  assert_header (pub, "Connection", "close");
  assert_no_header (pub, "Lp-Trickle-Closed");
  assert_body_result (pub, trickle_test_conn_read_body (pub),
      TRICKLE_TEST_BODY_END);
  fail_unless (trickle_test_conn_wait_closed (pub, 3000),
      "connection not closed after Connection: close");
  trickle_test_conn_free (pub);

  fail_unless_equals_int64 (get_next (ts, "cs2"), 2);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 35, 36: Lp-Trickle-Reset releases waiters on older segments */
GST_START_TEST (test_reset)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c, *sub;
  gint64 latest;

  create_channel (ts, "rs", NULL);
  fail_unless_equals_int64 (post_segment (ts, "/rs/0", "a", -1), 0);

  sub = start_get (ts, "/rs/1");
  assert_no_answer_yet (sub, "GET /rs/1");

  c = trickle_test_request (ts->port, "POST", "/rs/20", "reset", -1,
      "Lp-Trickle-Reset", "1", NULL);
  assert_response (c, 200, "");
  assert_header (c, "Lp-Trickle-Seq", "20");
  trickle_test_conn_free (c);

  /* released with an empty 200 */
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, "");
  assert_header (sub, "Lp-Trickle-Seq", "1");
  latest = header_int (sub, "Lp-Trickle-Latest");
  fail_unless (latest == 1 || latest == 21, "Lp-Trickle-Latest %"
      G_GINT64_FORMAT, latest);
  assert_no_header (sub, "Lp-Trickle-Closed");
  trickle_test_conn_free (sub);

  fail_unless_equals_int64 (get_next (ts, "rs"), 21);
  c = trickle_test_request (ts->port, "GET", "/rs/20", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "reset");
  assert_header (c, "Lp-Trickle-Seq", "20");
  assert_header (c, "Lp-Trickle-Latest", "21");
  trickle_test_conn_free (c);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 37, 38, 39, 40, 41, 42: DELETE /ch releases pending GETs and POSTs */
GST_START_TEST (test_delete_channel)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c, *sub, *pub;

  trickle_test_server_start (ts, "keepalive-interval", 100, NULL);
  create_channel (ts, "d", NULL);
  fail_unless_equals_int64 (post_segment (ts, "/d/0", "x", -1), 0);

  sub = start_get (ts, "/d/1");
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/d/2", NULL));
  fail_unless_equals_int (trickle_test_conn_read_one_head (pub), 100);
  assert_no_answer_yet (sub, "GET /d/1");

  c = trickle_test_request (ts->port, "DELETE", "/d", NULL, 0, NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);

  /* ref 37 */
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, "");
  assert_header (sub, "Lp-Trickle-Closed", "terminated");
  assert_header (sub, "Lp-Trickle-Seq", "1");
  assert_header (sub, "Lp-Trickle-Latest", "1");
  assert_header (sub, "Content-Length", "0");
  trickle_test_conn_free (sub);

  /* ref 38 */
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Closed", "terminated");
  assert_header (pub, "Lp-Trickle-Seq", "2");
  assert_header (pub, "Connection", "close");
  assert_body_result (pub, trickle_test_conn_read_body (pub),
      TRICKLE_TEST_BODY_END);
  fail_unless (trickle_test_conn_wait_closed (pub, 3000),
      "connection not closed after Connection: close");
  trickle_test_conn_free (pub);

  /* ref 40, 41, 42 */
  c = trickle_test_request (ts->port, "GET", "/d/1", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/d/next", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "DELETE", "/d", NULL, 0, NULL);
  assert_response (c, 400, "Invalid stream");
  trickle_test_conn_free (c);
  /* not the reference's: the segment written before the DELETE is still
   * read by a subscriber behind the end (the reference answers 404) */
  c = trickle_test_request (ts->port, "GET", "/d/0", NULL, 0, NULL);
  assert_response (c, 200, "x");
  assert_header (c, "Lp-Trickle-Seq", "0");
  assert_no_header (c, "Lp-Trickle-Closed");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "HEAD", "/d/0", NULL, 0, NULL);
  assert_status (c, 200);
  trickle_test_conn_free (c);
  /* but it is no channel: no DELETE of its segments */
  c = trickle_test_request (ts->port, "DELETE", "/d/0", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  /* the name can be used again, and the old segments are gone with it */
  create_channel (ts, "d", NULL);
  fail_unless_equals_int64 (get_next (ts, "d"), 0);
  fail_unless_equals_int64 (post_segment (ts, "/d/0", "y", -1), 0);
  c = trickle_test_request (ts->port, "GET", "/d/0", NULL, 0, NULL);
  assert_response (c, 200, "y");
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* A deleted channel keeps the segments that had ended (a dropped one is
 * still an empty 200 without Lp-Trickle-Closed, so a subscriber behind
 * goes on to the next); the one the DELETE cut is not kept as if whole */
GST_START_TEST (test_deleted_channel_keeps_ended_segments)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *pub, *sub, *c;

  create_channel (ts, "ab", NULL);
  /* seq 0: its publisher dies in the middle */
  post_aborted (ts, "/ab/0");
  /* seqs 1, 2: whole */
  fail_unless_equals_int64 (post_segment (ts, "/ab/1", "one", -1), 1);
  fail_unless_equals_int64 (post_segment (ts, "/ab/2", "two", -1), 2);
  /* seq 3: being written when the DELETE comes */
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/ab/3", NULL));
  sub = start_get (ts, "/ab/3");
  fail_unless (trickle_test_conn_send_chunk (pub, "first", 5));
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);

  c = trickle_test_request (ts->port, "DELETE", "/ab", NULL, 0, NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Closed", "terminated");
  trickle_test_conn_free (pub);
  trickle_test_conn_free (sub);

  c = trickle_test_request (ts->port, "GET", "/ab/0", NULL, 0, NULL);
  assert_response (c, 200, "");
  assert_header (c, "Lp-Trickle-Seq", "0");
  assert_no_header (c, "Lp-Trickle-Closed");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/ab/1", NULL, 0, NULL);
  assert_response (c, 200, "one");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/ab/2", NULL, 0, NULL);
  assert_response (c, 200, "two");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/ab/3", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);
  /* as for an unknown channel */
  c = trickle_test_request (ts->port, "GET", "/ab/abc", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* @n channels "k0".."k<n-1>", one segment each, made and deleted in that
 * order; then only the last @kept of them still serve their segment */
static void
assert_deleted_kept (TrickleTestServer * ts, guint n, guint kept)
{
  TrickleTestConn *c;
  guint i;

  for (i = 0; i < n; i++) {
    gchar *seg = g_strdup_printf ("/k%u/0", i);
    gchar *ch = g_strdup_printf ("/k%u", i);

    fail_unless_equals_int64 (post_segment (ts, seg, "data", -1), 0);
    c = trickle_test_request (ts->port, "DELETE", ch, NULL, 0, NULL);
    assert_response (c, 200, "");
    trickle_test_conn_free (c);
    g_free (seg);
    g_free (ch);
  }
  for (i = 0; i < n; i++) {
    gchar *seg = g_strdup_printf ("/k%u/0", i);

    c = trickle_test_request (ts->port, "GET", seg, NULL, 0, NULL);
    if (i < n - kept)
      assert_response (c, 404, "Stream not found");
    else
      assert_response (c, 200, "data");
    trickle_test_conn_free (c);
    g_free (seg);
  }
}

/* the server keeps the segments of at most 256 deleted channels at once,
 * the oldest dropped first */
GST_START_TEST (test_deleted_channels_bounded)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();

  assert_deleted_kept (ts, 257, 256);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* and at most max-channels */
GST_START_TEST (test_deleted_channels_within_max_channels)
{
  TrickleTestServer *ts = trickle_test_server_new ();

  g_object_set (ts->store, "max-channels", 2, NULL);
  trickle_test_server_start (ts, NULL);
  assert_deleted_kept (ts, 3, 2);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 43, 44, 45, 46, 47: the channel MIME type */
GST_START_TEST (test_mime_type)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  /* auto-created by the first POST: its Content-Type */
  c = trickle_test_request (ts->port, "POST", "/auto/0", "hello trickle\n",
      -1, "Content-Type", "video/MP2T", NULL);
  assert_response (c, 200, "");
  assert_header (c, "Lp-Trickle-Seq", "0");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/auto/0", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "hello trickle\n");
  assert_header (c, "Content-Type", "video/MP2T");
  assert_header (c, "Lp-Trickle-Seq", "0");
  assert_header (c, "Lp-Trickle-Latest", "1");
  trickle_test_conn_free (c);

  /* Expect-Content on create wins over a segment's Content-Type */
  create_channel (ts, "typed", "text/plain");
  c = trickle_test_request (ts->port, "POST", "/typed/0", "hello trickle\n",
      -1, "Content-Type", "application/octet-stream", NULL);
  assert_response (c, 200, "");
  assert_header (c, "Lp-Trickle-Seq", "0");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/typed/0", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "hello trickle\n");
  assert_header (c, "Content-Type", "text/plain");
  assert_header (c, "Lp-Trickle-Seq", "0");
  assert_header (c, "Lp-Trickle-Latest", "1");
  trickle_test_conn_free (c);

  /* ref 29, 30: created without Expect-Content, the channel has no type;
   * the reference keeps it so (an empty "Content-Type: " on every GET).
   * Issue 10, point 13 (a deliberate difference): the first publisher's
   * Content-Type types it, so subscribers need not guess the media; curl's
   * default for --data (application/x-www-form-urlencoded) is no media
   * type and is not taken; later publishers do not change it */
  create_channel (ts, "plain", NULL);
  c = trickle_test_request (ts->port, "POST", "/plain/0", "hello trickle\n",
      -1, "Content-Type", "application/x-www-form-urlencoded", NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/plain/0", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "hello trickle\n");
  assert_no_header (c, "Content-Type");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "POST", "/plain/1", "hello trickle\n",
      -1, "Content-Type", "video/MP2T", NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "POST", "/plain/2", "x", -1,
      "Content-Type", "text/plain", NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/plain/1", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "hello trickle\n");
  assert_header (c, "Content-Type", "video/MP2T");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/plain/2", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_header (c, "Content-Type", "video/MP2T");
  trickle_test_conn_free (c);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* auto-create off: only existing channels (made by the host) accept data */
GST_START_TEST (test_auto_create_off)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c;
  GstTrickleChannel *ch;
  GError *err = NULL;

  g_object_set (ts->store, "auto-create", FALSE, NULL);
  trickle_test_server_start (ts, NULL);

  c = trickle_test_request (ts->port, "POST", "/nochan", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "POST", "/nochan/0", "data", -1,
      "Content-Type", "video/MP2T", NULL);
  assert_status (c, 404);
  if (c->body_result == TRICKLE_TEST_BODY_END)
    assert_body_text (c, "Stream not found");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/nochan/next", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  /* the host creates one */
  ch = gst_trickle_channel_store_create (ts->store, "api", "video/MP2T", &err);
  fail_unless (ch != NULL, "store create: %s", err ? err->message : "?");
  gst_trickle_channel_unref (ch);

  create_channel (ts, "api", NULL);     /* exists: 200 */
  fail_unless_equals_int64 (post_segment (ts, "/api/0", "data", -1), 0);
  c = trickle_test_request (ts->port, "GET", "/api/0", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "data");
  assert_header (c, "Content-Type", "video/MP2T");
  trickle_test_conn_free (c);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 48, 49, 50: the change feed */
GST_START_TEST (test_changefeed)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *feed;
  gint64 n;
  gchar *path, *seq;

  g_object_set (ts->store, "changefeed", TRUE, NULL);
  trickle_test_server_start (ts, NULL);

  n = get_next (ts, "_changes");

  /* added */
  path = g_strdup_printf ("/_changes/%" G_GINT64_FORMAT, n);
  seq = g_strdup_printf ("%" G_GINT64_FORMAT, n);
  feed = start_get (ts, path);
  create_channel (ts, "cf", NULL);
  fail_unless_equals_int (trickle_test_conn_read_head (feed), 200);
  assert_header (feed, "Content-Type", "application/json");
  assert_header (feed, "Lp-Trickle-Seq", seq);
  assert_body_result (feed, trickle_test_conn_read_body (feed),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (feed, "{\"added\":[\"cf\"]}");
  trickle_test_conn_free (feed);
  g_free (path);
  g_free (seq);
  fail_unless_equals_int64 (get_next (ts, "_changes"), n + 1);

  /* removed */
  path = g_strdup_printf ("/_changes/%" G_GINT64_FORMAT, n + 1);
  seq = g_strdup_printf ("%" G_GINT64_FORMAT, n + 1);
  feed = start_get (ts, path);
  {
    TrickleTestConn *c = trickle_test_request (ts->port, "DELETE", "/cf",
        NULL, 0, NULL);
    assert_response (c, 200, "");
    trickle_test_conn_free (c);
  }
  fail_unless_equals_int (trickle_test_conn_read_head (feed), 200);
  assert_header (feed, "Content-Type", "application/json");
  assert_header (feed, "Lp-Trickle-Seq", seq);
  assert_body_result (feed, trickle_test_conn_read_body (feed),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (feed, "{\"removed\":[\"cf\"]}");
  trickle_test_conn_free (feed);
  g_free (path);
  g_free (seq);

  /* auto-creation is announced too; replay of a past entry */
  fail_unless_equals_int64 (post_segment (ts, "/cf2/0", "x", -1), 0);
  path = g_strdup_printf ("/_changes/%" G_GINT64_FORMAT, n + 2);
  feed = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
  assert_response (feed, 200, NULL);
  assert_header (feed, "Content-Type", "application/json");
  assert_body_exact (feed, "{\"added\":[\"cf2\"]}");
  trickle_test_conn_free (feed);
  g_free (path);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 54, 55, 56: an empty segment */
GST_START_TEST (test_empty_segment)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  create_channel (ts, "e", NULL);
  fail_unless_equals_int64 (post_segment (ts, "/e/0", "a", -1), 0);
  fail_unless_equals_int64 (post_segment (ts, "/e/1", "", 0), 1);

  c = trickle_test_request (ts->port, "GET", "/e/1", NULL, 0, NULL);
  assert_response (c, 200, "");
  assert_body_exact (c, "");
  assert_header (c, "Content-Length", "0");
  assert_header (c, "Lp-Trickle-Seq", "1");
  assert_header (c, "Lp-Trickle-Latest", "2");
  assert_no_header (c, "Lp-Trickle-Closed");
  assert_no_header (c, "Transfer-Encoding");
  trickle_test_conn_free (c);

  fail_unless_equals_int64 (get_next (ts, "e"), 2);

  /* an empty chunked body too */
  {
    TrickleTestConn *pub = trickle_test_conn_new (ts->port);

    fail_unless (trickle_test_conn_start_post (pub, "/e/2", NULL));
    fail_unless (trickle_test_conn_send_last_chunk (pub));
    fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
    assert_header (pub, "Lp-Trickle-Seq", "2");
    trickle_test_conn_free (pub);
  }
  c = trickle_test_request (ts->port, "GET", "/e/2", NULL, 0, NULL);
  assert_response (c, 200, "");
  assert_header (c, "Content-Length", "0");
  assert_header (c, "Lp-Trickle-Seq", "2");
  assert_header (c, "Lp-Trickle-Latest", "3");
  trickle_test_conn_free (c);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ref 57, 58 and wire.txt: 100 Continue keep-alives on a preconnected POST */
GST_START_TEST (test_continue_keepalive)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *pub, *sub;

  trickle_test_server_start (ts, "keepalive-interval", 200, NULL);
  create_channel (ts, "ka", "video/MP2T");

  sub = start_get (ts, "/ka/0");
  pub = trickle_test_conn_new (ts->port);
  /* no Expect: header, like ref 57 */
  fail_unless (trickle_test_conn_start_post (pub, "/ka/0", NULL));
  fail_unless_equals_int (trickle_test_conn_read_one_head (pub), 100);
  fail_unless_equals_int (trickle_test_conn_read_one_head (pub), 100);
  assert_no_answer_yet (sub, "GET /ka/0 before any data");

  fail_unless (trickle_test_conn_send_chunk (pub, "late", -1));
  fail_unless (trickle_test_conn_send_last_chunk (pub));
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "0");
  assert_body_result (pub, trickle_test_conn_read_body (pub),
      TRICKLE_TEST_BODY_END);

  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_header (sub, "Lp-Trickle-Seq", "0");
  assert_header (sub, "Content-Type", "video/MP2T");
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, "late");

  trickle_test_conn_free (pub);
  trickle_test_conn_free (sub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* io-timeout is about a started body: a preconnected POST waits longer */
GST_START_TEST (test_preconnected_post_outlives_io_timeout)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *pub, *c;
  guint i;

  trickle_test_server_start (ts, "keepalive-interval", 200, "io-timeout", 1,
      NULL);
  create_channel (ts, "pre", NULL);

  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/pre/0", NULL));
  /* about 1.6 s without a body byte */
  for (i = 0; i < 8; i++)
    fail_unless_equals_int (trickle_test_conn_read_one_head (pub), 100);

  fail_unless (trickle_test_conn_send_chunk (pub, "ok", -1));
  fail_unless (trickle_test_conn_send_last_chunk (pub));
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "0");
  trickle_test_conn_free (pub);

  c = trickle_test_request (ts->port, "GET", "/pre/0", NULL, 0, NULL);
  assert_response (c, 200, "ok");
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* Expect: 100-continue is answered at once (ref 38 shows the 100) */
GST_START_TEST (test_expect_continue)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *pub, *c;

  create_channel (ts, "ex", NULL);
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send (pub,
          "POST /ex/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", -1));
  fail_unless (trickle_test_conn_has_data (pub, 3000),
      "no 100 Continue for Expect: 100-continue");
  fail_unless_equals_int (trickle_test_conn_read_one_head (pub), 100);
  fail_unless (trickle_test_conn_send (pub, "hello", 5));
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "0");
  trickle_test_conn_free (pub);

  c = trickle_test_request (ts->port, "GET", "/ex/0", NULL, 0, NULL);
  assert_response (c, 200, "hello");
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

GST_START_TEST (test_base_path)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c;

  trickle_test_server_start (ts, "base-path", "/ai/trickle/", NULL);

  c = trickle_test_request (ts->port, "POST", "/ai/trickle/bp-in", NULL, 0,
      "Expect-Content", "video/MP2T", NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);

  fail_unless_equals_int64 (post_segment (ts, "/ai/trickle/bp-in/0", "hi",
          -1), 0);
  c = trickle_test_request (ts->port, "GET", "/ai/trickle/bp-in/0", NULL, 0,
      NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "hi");
  assert_header (c, "Lp-Trickle-Seq", "0");
  assert_header (c, "Content-Type", "video/MP2T");
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/ai/trickle/bp-in/next", NULL,
      0, NULL);
  assert_response (c, 200, NULL);
  assert_body_exact (c, "1");
  trickle_test_conn_free (c);

  /* outside the base path */
  c = trickle_test_request (ts->port, "GET", "/bp-in/0", NULL, 0, NULL);
  assert_status (c, 404);
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "POST", "/bp-in/0", "x", -1, NULL);
  assert_status (c, 404);
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", "/ai/bp-in/0", NULL, 0, NULL);
  assert_status (c, 404);
  trickle_test_conn_free (c);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* idle channels are swept; internal ones (leading '_') and active ones not */
GST_START_TEST (test_idle_sweep)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c, *sub;
  GstTrickleChannel *ch;
  GError *err = NULL;
  gint64 start;
  guint i;

  g_object_set (ts->store, "idle-timeout", 1, NULL);
  trickle_test_server_start (ts, NULL);

  ch = gst_trickle_channel_store_create (ts->store, "_internal", NULL, &err);
  fail_unless (ch != NULL, "store create: %s", err ? err->message : "?");
  gst_trickle_channel_unref (ch);

  start = g_get_monotonic_time ();
  create_channel (ts, "idle", NULL);
  sub = start_get (ts, "/idle/0");

  /* "busy" gets a segment every 250 ms for about 3 s */
  for (i = 0; i < 12; i++) {
    fail_unless_equals_int64 (post_segment (ts, "/busy/-1", "x", -1), i);
    g_usleep (250 * 1000);
  }

  /* the waiting GET was released with Lp-Trickle-Closed */
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_header (sub, "Lp-Trickle-Closed", "terminated");
  assert_header (sub, "Lp-Trickle-Seq", "0");
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, "");
  fail_unless (g_get_monotonic_time () - start < 8 * G_USEC_PER_SEC,
      "idle channel not swept in time");
  trickle_test_conn_free (sub);

  c = trickle_test_request (ts->port, "GET", "/idle/next", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  fail_unless_equals_int64 (get_next (ts, "busy"), 12);
  fail_unless_equals_int64 (get_next (ts, "_internal"), 0);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ======================================================================== */
/* Bad input (deliberate differences from the reference) */

typedef struct
{
  const gchar *method;
  const gchar *path;
  guint status;
  const gchar *body;            /* NULL: not checked */
} BadCase;

static void
run_bad_cases (TrickleTestServer * ts, const BadCase * cases, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    const BadCase *bc = &cases[i];
    gboolean post = g_str_equal (bc->method, "POST");
    TrickleTestConn *c = trickle_test_request (ts->port, bc->method,
        bc->path, post ? "data" : NULL, post ? 4 : 0, NULL);

    fail_unless (c->status == bc->status, "%s %s: status %u (%s), expected "
        "%u", bc->method, bc->path, c->status, c->reason ? c->reason : "-",
        bc->status);
    if (bc->body) {
      const gchar *b = trickle_test_conn_body_str (c);

      fail_unless (g_str_has_prefix (b, bc->body) &&
          (strlen (b) == strlen (bc->body) ||
              (strlen (b) == strlen (bc->body) + 1 &&
                  b[strlen (b) - 1] == '\n')), "%s %s: body '%s', expected "
          "'%s'", bc->method, bc->path, b, bc->body);
    }
    trickle_test_conn_free (c);
  }
  assert_server_alive (ts);
}

GST_START_TEST (test_bad_seq)
{
  static const BadCase cases[] = {
    {"GET", "/ch/-3", 400, "Invalid idx"},
    {"POST", "/ch/-3", 400, "Invalid idx"},
    {"DELETE", "/ch/-3", 400, "Invalid idx"},
    {"GET", "/ch/-100", 400, "Invalid idx"},
    {"POST", "/ch/-100", 400, "Invalid idx"},
    {"DELETE", "/ch/-100", 400, "Invalid idx"},
    {"GET", "/ch/-9223372036854775808", 400, "Invalid idx"},
    {"GET", "/ch/9223372036854775808", 400, NULL},
    {"POST", "/ch/9223372036854775808", 400, NULL},
    {"GET", "/ch/99999999999999999999999", 400, NULL},
    {"POST", "/ch/99999999999999999999999", 400, NULL},
    {"GET", "/ch/-9223372036854775809", 400, NULL},
    {"GET", "/ch/0x10", 400, "Invalid idx"},
    {"GET", "/ch/1.5", 400, "Invalid idx"},
    {"GET", "/ch/1e3", 400, "Invalid idx"},
    {"GET", "/ch/5abc", 400, "Invalid idx"},
    {"POST", "/ch/5abc", 400, "Invalid idx"},
    /* an escaped control character ends nothing: not seq 0, not /next */
    {"GET", "/ch/0%00junk", 400, "Invalid escape"},
    {"POST", "/ch/0%00junk", 400, "Invalid escape"},
    {"DELETE", "/ch/0%00junk", 400, "Invalid escape"},
    {"GET", "/ch/next%00x", 400, "Invalid escape"},
    {"GET", "/ch/0%0a", 400, "Invalid escape"},
    {"GET", "/ch/0%7F", 400, "Invalid escape"},
    {"GET", "/ch%1b/0", 400, "Invalid escape"},
  };
  TrickleTestServer *ts = trickle_test_server_new_started ();

  create_channel (ts, "ch", NULL);
  run_bad_cases (ts, cases, G_N_ELEMENTS (cases));
  fail_unless_equals_int64 (get_next (ts, "ch"), 0);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* RFC 9112's framing, strictly: each head below is a 400 (501 for a
 * transfer coding the server does not know), the connection is closed, and
 * the request hidden in what follows never runs (a front end framing the
 * bytes otherwise would forward it as part of the body): the channel
 * "victim" survives every case */
typedef struct
{
  const gchar *head;
  guint status;
} FramingCase;

#define HIDDEN "DELETE /victim HTTP/1.1\r\nHost: x\r\n\r\n"

GST_START_TEST (test_strict_framing)
{
  static const FramingCase cases[] = {
    /* whitespace between a field name and its colon */
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n"
          "\r\n0\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length\t: 0\r\n\r\n", 400},
    {"GET /ch/next HTTP/1.1\r\nHost: x\r\nX Y: z\r\n\r\n", 400},
    {"GET /ch/next HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n", 400},
    /* obsolete line folding, a bare CR, control characters */
    {"GET /ch/next HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tTransfer-Encoding: "
          "chunked\r\n\r\n", 400},
    {"GET /ch/next HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n", 400},
    {"POST /ch HTTP/1.1\r\nHost: x\r\nExpect-Content: video/mp2t\x1b[31m"
          "\r\n\r\n", 400},
    {"POST /ch HTTP/1.1\r\nHost: x\r\nExpect-Content: a\x7f\r\n\r\n", 400},
    /* Content-Length with Transfer-Encoding, in either order */
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
          "Content-Length: 50\r\n\r\n0\r\n\r\n", 400},
    /* two different lengths, on two lines or in one list */
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
          "Content-Length: 44\r\n\r\ndata", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 44\r\n\r\ndata",
        400},
    /* lengths that are no length */
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\ndata",
        400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 0x4\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 4 4\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: "
          "9223372036854775808\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: "
          "18446744073709551615\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: "
          "000000000000000000000004\r\n\r\ndata", 400},
    /* a last transfer coding other than chunked, however split or ordered */
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
          "identity\r\n\r\n0\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
          "Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
          "0\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
          "chunked\r\n\r\n0\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\n\r\n", 400},
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n"
          "\r\n0\r\n\r\n", 400},
    /* chunked last, after a coding the server does not decode */
    {"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
    /* Transfer-Encoding in HTTP/1.0 */
    {"POST /ch/0 HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
          "\r\n0\r\n\r\n", 400},
  };
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;
  guint i;

  create_channel (ts, "ch", NULL);
  create_channel (ts, "victim", NULL);
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *bytes = g_strconcat (cases[i].head, HIDDEN, NULL);
    GstTrickleChannel *ch;

    c = trickle_test_conn_new (ts->port);
    fail_unless (trickle_test_conn_send (c, bytes, -1));
    fail_unless_equals_int (trickle_test_conn_read_head (c), cases[i].status);
    fail_unless (trickle_test_conn_drain_until_closed (c, 10000),
        "case %u: the connection stays open", i);
    trickle_test_conn_free (c);
    ch = gst_trickle_channel_store_lookup (ts->store, "victim");
    fail_unless (ch != NULL, "case %u ran the hidden DELETE", i);
    gst_trickle_channel_unref (ch);
    g_free (bytes);
  }

  /* what the RFC allows still works: a list of equal lengths, a coding
   * name in any case, bare LF line ends */
  c = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send (c, "POST /ch/0 HTTP/1.1\r\nHost: x\r\n"
          "Content-Length: 4, 4\r\n\r\ndata", -1));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  trickle_test_conn_free (c);
  c = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send (c, "POST /ch/1 HTTP/1.1\nHost: x\n"
          "Transfer-Encoding: Chunked\n\n4\r\ndata\r\n0\r\n\r\n", -1));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  trickle_test_conn_free (c);
  fail_unless_equals_int64 (get_next (ts, "ch"), 2);

  /* one rule for line ends, the first empty line ends the head: an LF LF
   * followed by CRLF CRLF in the same read is two requests, both answered,
   * not one head that swallows the second */
  c = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send (c, "GET /ch/next HTTP/1.1\nHost: x\n\n"
          "GET /victim/next HTTP/1.1\r\nHost: x\r\n\r\n", -1));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  fail_unless_equals_int (trickle_test_conn_read_body (c),
      TRICKLE_TEST_BODY_END);
  fail_unless_equals_string (trickle_test_conn_body_str (c), "2");
  g_byte_array_set_size (c->body, 0);
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  fail_unless_equals_int (trickle_test_conn_read_body (c),
      TRICKLE_TEST_BODY_END);
  fail_unless_equals_string (trickle_test_conn_body_str (c), "0");
  trickle_test_conn_free (c);
  assert_server_alive (ts);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ======================================================================== */
/* Who may do what (issue 15) */

/* one request; its status */
static guint
status_of (TrickleTestServer * ts, const gchar * method, const gchar * path,
    const gchar * token)
{
  gchar *auth = token ? g_strdup_printf ("Bearer %s", token) : NULL;
  gboolean post = g_str_equal (method, "POST") && strchr (path + 1, '/');
  TrickleTestConn *c = auth ?
      trickle_test_request (ts->port, method, path, post ? "data" : NULL,
      post ? 4 : 0, "Authorization", auth, NULL) :
      trickle_test_request (ts->port, method, path, post ? "data" : NULL,
      post ? 4 : 0, NULL);
  guint status = c->status;

  if (status == 401)
    assert_header (c, "WWW-Authenticate", "Bearer realm=\"trickle\"");
  trickle_test_conn_free (c);
  g_free (auth);
  return status;
}

/* publish-token and subscribe-token: 401 without (or with an unknown
 * token), 403 with the other scope's, the publish token good for reading
 * too; tokens may change while the server runs */
GST_START_TEST (test_tokens)
{
  TrickleTestServer *ts = trickle_test_server_new ();

  trickle_test_server_start (ts, "publish-token", "pub-secret-1",
      "subscribe-token", "sub-secret-1", NULL);

  /* writing */
  fail_unless_equals_int (status_of (ts, "POST", "/ch", NULL), 401);
  fail_unless_equals_int (status_of (ts, "POST", "/ch", "sub-secret-1"), 403);
  fail_unless_equals_int (status_of (ts, "POST", "/ch", "pub-secret-1"), 200);
  fail_unless_equals_int (status_of (ts, "POST", "/ch/0", NULL), 401);
  fail_unless_equals_int (status_of (ts, "POST", "/ch/0", "wrong"), 401);
  fail_unless_equals_int (status_of (ts, "POST", "/ch/0", "pub-secret-"), 401);
  fail_unless_equals_int (status_of (ts, "POST", "/ch/0", "sub-secret-1"), 403);
  fail_unless_equals_int (status_of (ts, "POST", "/ch/0", "pub-secret-1"), 200);
  fail_unless_equals_int (status_of (ts, "DELETE", "/ch/0", "sub-secret-1"),
      403);

  /* reading */
  fail_unless_equals_int (status_of (ts, "GET", "/ch/0", NULL), 401);
  fail_unless_equals_int (status_of (ts, "GET", "/ch/next", "nope"), 401);
  fail_unless_equals_int (status_of (ts, "GET", "/ch/0", "sub-secret-1"), 200);
  fail_unless_equals_int (status_of (ts, "HEAD", "/ch/0", "sub-secret-1"), 200);
  fail_unless_equals_int (status_of (ts, "GET", "/ch/next", "pub-secret-1"),
      200);

  /* a new publish token: the old one no longer writes */
  g_object_set (ts->server, "publish-token", "pub-secret-2", NULL);
  fail_unless_equals_int (status_of (ts, "POST", "/ch/1", "pub-secret-1"), 401);
  fail_unless_equals_int (status_of (ts, "POST", "/ch/1", "pub-secret-2"), 200);
  fail_unless_equals_int (status_of (ts, "DELETE", "/ch", "pub-secret-2"), 200);

  fail_unless_equals_int (status_of (ts, "POST", "/ch", "pub-secret-2"), 200);
  /* one Authorization header only; "bearer" in any case */
  {
    TrickleTestConn *c = trickle_test_request (ts->port, "GET", "/ch/next",
        NULL, 0, "Authorization", "Bearer sub-secret-1", "Authorization",
        "Bearer x", NULL);
    assert_status (c, 400);
    trickle_test_conn_free (c);
    c = trickle_test_request (ts->port, "GET", "/ch/next", NULL, 0,
        "Authorization", "bearer sub-secret-1", NULL);
    assert_status (c, 200);
    trickle_test_conn_free (c);
  }

  /* no publish token: /next (what a publisher asks first) is open, the
   * segments are not */
  g_object_set (ts->server, "publish-token", NULL, NULL);
  fail_unless_equals_int (status_of (ts, "GET", "/ch/next", NULL), 200);
  fail_unless_equals_int (status_of (ts, "GET", "/ch/0", NULL), 401);
  g_object_set (ts->server, "publish-token", "pub-secret-2", NULL);

  /* no subscribe token: reading is open, writing still is not */
  g_object_set (ts->server, "subscribe-token", NULL, NULL);
  fail_unless_equals_int (status_of (ts, "POST", "/ch", "pub-secret-2"), 200);
  fail_unless_equals_int (status_of (ts, "GET", "/ch/next", NULL), 200);
  fail_unless_equals_int (status_of (ts, "POST", "/ch/0", NULL), 401);

  trickle_test_server_free (ts);
}

GST_END_TEST;

typedef struct
{
  GMutex lock;
  GString *seen;
} AuthLog;

static guint
authorize_cb (GstTrickleHttpServer * server, const gchar * method,
    const gchar * action, const gchar * channel, SoupMessageHeaders * headers,
    const gchar * client, AuthLog * log)
{
  g_mutex_lock (&log->lock);
  g_string_append_printf (log->seen, "%s %s %s %s|", method, action, channel,
      client);
  g_mutex_unlock (&log->lock);
  if (g_str_equal (action, "delete") && g_str_equal (channel, "keep"))
    return 409;
  if (g_str_equal (action, "create") && g_str_has_prefix (channel, "bad"))
    return 403;
  if (g_str_equal (action, "publish")
      && g_strcmp0 (soup_message_headers_get_one (headers, "X-Key"), "k"))
    return 401;
  return 0;
}

/* the authorize signal: every request, its action and the client; a
 * handler's status is the answer (go-livepeer's BeforeCreate and
 * BeforeDelete are "create" and "delete") */
GST_START_TEST (test_authorize_signal)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  AuthLog log;
  TrickleTestConn *c;

  g_mutex_init (&log.lock);
  log.seen = g_string_new (NULL);
  g_signal_connect (ts->server, "authorize", G_CALLBACK (authorize_cb), &log);
  fail_unless_equals_int (status_of (ts, "POST", "/keep", NULL), 200);
  fail_unless_equals_int (status_of (ts, "DELETE", "/keep", NULL), 409);
  fail_unless_equals_int (status_of (ts, "POST", "/bad1", NULL), 403);
  fail_unless_equals_int (status_of (ts, "POST", "/keep/0", NULL), 401);
  c = trickle_test_request (ts->port, "POST", "/keep/0", "data", 4, "X-Key",
      "k", NULL);
  assert_status (c, 200);
  trickle_test_conn_free (c);
  fail_unless_equals_int (status_of (ts, "GET", "/keep/0", NULL), 200);
  fail_unless_equals_string (log.seen->str,
      "POST create keep 127.0.0.1|DELETE delete keep 127.0.0.1|"
      "POST create bad1 127.0.0.1|POST publish keep 127.0.0.1|"
      "POST publish keep 127.0.0.1|GET subscribe keep 127.0.0.1|");
  fail_unless (gst_trickle_channel_store_lookup (ts->store, "bad1") == NULL);
  trickle_test_server_free (ts);
  g_string_free (log.seen, TRUE);
  g_mutex_clear (&log.lock);
}

GST_END_TEST;

/* channels the server writes are read-only for clients: the change feed,
 * and any the application marks */
/* max-connections-per-client: one client address holds that many
 * connections; the next ones are answered 429 with Retry-After, and past
 * twice the limit closed unanswered. A closed connection frees its place;
 * 0 lifts the limit. */
GST_START_TEST (test_connections_per_client)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *held[2], *refused[2], *dropped, *c;
  guint i, status;

  trickle_test_server_start (ts, "max-connections-per-client", 2, NULL);
  fail_unless_equals_int (status_of (ts, "POST", "/ch", NULL), 200);
  /* accepted in order: each is known to the server once it answered */
  for (i = 0; i < 2; i++) {
    held[i] = trickle_test_conn_new (ts->port);
    fail_unless (trickle_test_conn_send_request (held[i], "GET", "/ch/next",
            NULL));
    fail_unless_equals_int (trickle_test_conn_read_head (held[i]), 200);
    trickle_test_conn_read_body (held[i]);
  }
  for (i = 0; i < 2; i++) {
    refused[i] = trickle_test_conn_new (ts->port);
    fail_unless (trickle_test_conn_send_request (refused[i], "GET",
            "/ch/next", NULL));
    fail_unless_equals_int (trickle_test_conn_read_head (refused[i]), 429);
    fail_unless_equals_string (trickle_test_conn_get_header (refused[i],
            "Retry-After"), "1");
    trickle_test_conn_read_body (refused[i]);
  }
  /* the refused ones are closed by the server, but may still count a
   * moment: a fifth is refused one way or the other */
  dropped = trickle_test_conn_new (ts->port);
  trickle_test_conn_send_request (dropped, "GET", "/ch/next", NULL);
  status = trickle_test_conn_read_head (dropped);
  fail_unless (status == 0 || status == 429, "status %u", status);
  trickle_test_conn_free (dropped);

  /* past twice the limit, nothing is read: the connection is closed */
  for (i = 0; i < 2; i++)
    fail_unless (trickle_test_conn_wait_closed (refused[i], 10000));
  {
    TrickleTestConn *more[2];

    /* two refused ones held open (their heads not sent) */
    for (i = 0; i < 2; i++)
      more[i] = trickle_test_conn_new (ts->port);
    /* (the two accepted before the refusals are already counted, the
     * two held here are counted at their accept, which precedes this
     * one's) */
    do {
      c = trickle_test_conn_new (ts->port);
      trickle_test_conn_send_request (c, "GET", "/ch/next", NULL);
      status = trickle_test_conn_read_head (c);
      trickle_test_conn_free (c);
    } while (status == 429);
    fail_unless_equals_int (status, 0);
    for (i = 0; i < 2; i++)
      trickle_test_conn_free (more[i]);
  }

  /* a held connection closes: its place is free again (the server sees
   * the close asynchronously: until then, refusals) */
  trickle_test_conn_free (held[0]);
  do {
    c = trickle_test_conn_new (ts->port);
    trickle_test_conn_send_request (c, "GET", "/ch/next", NULL);
    status = trickle_test_conn_read_head (c);
    trickle_test_conn_free (c);
    if (status != 200)
      g_usleep (10000);
  } while (status != 200);

  /* no limit */
  g_object_set (ts->server, "max-connections-per-client", 0, NULL);
  {
    TrickleTestConn *many[6];

    for (i = 0; i < G_N_ELEMENTS (many); i++) {
      many[i] = trickle_test_conn_new (ts->port);
      fail_unless (trickle_test_conn_send_request (many[i], "GET",
              "/ch/next", NULL));
    }
    for (i = 0; i < G_N_ELEMENTS (many); i++) {
      fail_unless_equals_int (trickle_test_conn_read_head (many[i]), 200);
      trickle_test_conn_free (many[i]);
    }
  }
  trickle_test_conn_free (held[1]);
  for (i = 0; i < 2; i++)
    trickle_test_conn_free (refused[i]);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* max-channel-request-rate: a channel takes that many requests a second
 * (a second's burst at once); beyond, 503 with Retry-After. Other channels
 * are not touched. Asserted against the time the requests took, so that
 * a slow machine (which refills the bucket) cannot fail it. */
GST_START_TEST (test_channel_request_rate)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c;
  guint i, ok = 0, refused = 0;
  gint64 t0, elapsed;

  trickle_test_server_start (ts, NULL);
  fail_unless_equals_int (status_of (ts, "POST", "/hot", NULL), 200);
  fail_unless_equals_int (status_of (ts, "POST", "/cold", NULL), 200);
  g_object_set (ts->server, "max-channel-request-rate", 2, NULL);

  c = trickle_test_conn_new (ts->port);
  t0 = g_get_monotonic_time ();
  for (i = 0; i < 30; i++) {
    guint status;

    fail_unless (trickle_test_conn_send_request (c, "GET", "/hot/next", NULL));
    status = trickle_test_conn_read_head (c);
    fail_unless_equals_int (trickle_test_conn_read_body (c),
        TRICKLE_TEST_BODY_END);
    if (status == 200) {
      ok++;
    } else {
      const gchar *after = trickle_test_conn_get_header (c, "Retry-After");

      fail_unless_equals_int (status, 503);
      fail_unless (after && atoi (after) >= 1, "Retry-After %s",
          GST_STR_NULL (after));
      refused++;
    }
  }
  elapsed = g_get_monotonic_time () - t0;
  trickle_test_conn_free (c);
  /* 2 at once, then 2 a second */
  fail_unless (ok >= 2, "%u served", ok);
  fail_unless (ok <= 2 + 2 * (elapsed / G_USEC_PER_SEC + 1),
      "%u served in %" G_GINT64_FORMAT " us", ok, elapsed);
  if (elapsed < 10 * G_USEC_PER_SEC)
    fail_unless (refused > 0);
  /* another channel, and the path of a refused POST (its body unread, the
   * connection closed) */
  fail_unless_equals_int (status_of (ts, "GET", "/cold/next", NULL), 200);
  {
    guint status;
    do {
      c = trickle_test_request (ts->port, "POST", "/hot/-1", "x", 1, NULL);
      status = c->status;
      trickle_test_conn_free (c);
    } while (status == 200);
    fail_unless_equals_int (status, 503);
  }
  /* lifted */
  g_object_set (ts->server, "max-channel-request-rate", 0, NULL);
  for (i = 0; i < 10; i++)
    fail_unless_equals_int (status_of (ts, "GET", "/hot/next", NULL), 200);
  trickle_test_server_free (ts);
}

GST_END_TEST;

GST_START_TEST (test_read_only_channels)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  GstTrickleChannel *ch;

  g_object_set (ts->store, "changefeed", TRUE, NULL);
  trickle_test_server_start (ts, NULL);
  create_channel (ts, "out", NULL);
  fail_unless_equals_int (status_of (ts, "POST", "/_changes/5", NULL), 403);
  fail_unless_equals_int (status_of (ts, "DELETE", "/_changes/0", NULL), 403);
  fail_unless_equals_int (status_of (ts, "DELETE", "/_changes", NULL), 403);
  /* still read: the creation of "out" */
  fail_unless_equals_int (status_of (ts, "GET", "/_changes/0", NULL), 200);

  ch = gst_trickle_channel_store_lookup (ts->store, "out");
  fail_unless_equals_int64 (post_segment (ts, "/out/0", "a", -1), 0);
  gst_trickle_channel_set_read_only (ch, TRUE);
  fail_unless_equals_int (status_of (ts, "POST", "/out/1", NULL), 403);
  fail_unless_equals_int (status_of (ts, "DELETE", "/out", NULL), 403);
  fail_unless_equals_int (status_of (ts, "GET", "/out/0", NULL), 200);
  /* a guarded name stays guarded when its channel goes and comes back,
   * or is first made by a client */
  gst_trickle_channel_store_guard (ts->store, "guarded", TRUE, NULL);
  fail_unless_equals_int (status_of (ts, "POST", "/guarded/0", NULL), 403);
  fail_unless (gst_trickle_channel_store_lookup (ts->store, "guarded") == NULL);
  gst_trickle_channel_store_guard (ts->store, "out", TRUE, NULL);
  fail_unless (gst_trickle_channel_store_remove (ts->store, "out"));
  fail_unless_equals_int (status_of (ts, "POST", "/out/0", NULL), 403);
  gst_trickle_channel_unref (ch);
  ch = gst_trickle_channel_store_create (ts->store, "out", NULL, NULL);
  fail_unless (gst_trickle_channel_get_read_only (ch));
  gst_trickle_channel_store_guard (ts->store, "tok", FALSE, "t0k");
  fail_unless_equals_int (status_of (ts, "POST", "/tok/0", NULL), 401);
  fail_unless_equals_int (status_of (ts, "POST", "/tok/0", "other"), 403);
  fail_unless_equals_int (status_of (ts, "POST", "/tok/0", "t0k"), 200);
  /* the application still writes it */
  {
    GBytes *b = g_bytes_new_static ("b", 1);
    fail_unless (gst_trickle_channel_write_segment (ch, b, NULL));
    g_bytes_unref (b);
  }
  fail_unless_equals_int64 (get_next (ts, "out"), 1);
  gst_trickle_channel_unref (ch);
  assert_server_alive (ts);
  trickle_test_server_free (ts);
}

GST_END_TEST;

GST_START_TEST (test_bad_names)
{
  static const BadCase cases[] = {
    /* empty name */
    {"GET", "//0", 404, "404 page not found"},
    {"POST", "//0", 404, "404 page not found"},
    {"DELETE", "//0", 404, "404 page not found"},
    /* dot segments, raw or encoded: 400 and never a redirect */
    {"GET", "/./0", 400, NULL},
    {"GET", "/../0", 400, NULL},
    {"POST", "/../0", 400, NULL},
    {"GET", "/x/../auto/0", 400, NULL},
    {"GET", "/auto/./0", 400, NULL},
    {"GET", "/%2e%2e/0", 400, NULL},
    {"GET", "/%2E%2E/0", 400, NULL},
    {"POST", "/%2e%2e/0", 400, NULL},
    {"GET", "/%2e/0", 400, NULL},
    {"GET", "/x/%2e%2e/auto/0", 400, NULL},
    {"POST", "/..", 400, NULL},
    {"DELETE", "/..", 400, NULL},
    /* outside [A-Za-z0-9-_.~] after decoding */
    {"GET", "/a%2Fb/0", 400, NULL},
    {"POST", "/a%2Fb/0", 400, NULL},
    {"POST", "/a%2fb/0", 400, NULL},
    {"POST", "/a%20b/0", 400, NULL},
    {"POST", "/a%00b/0", 400, NULL},
    {"POST", "/a%0Ab/0", 400, NULL},
    {"POST", "/a%C3%A9/0", 400, NULL},
    {"POST", "/a+b/0", 400, NULL},
    {"POST", "/a:b/0", 400, NULL},
    {"POST", "/a@b/0", 400, NULL},
    {"POST", "/a%2Fb", 400, NULL},
    /* invalid escapes */
    {"GET", "/a%zz/0", 400, NULL},
    {"POST", "/a%zz/0", 400, NULL},
    {"GET", "/a%4/0", 400, NULL},
    {"POST", "/a%4/0", 400, NULL},
    {"POST", "/a%/0", 400, NULL},
  };
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;
  gchar *name, *path;

  create_channel (ts, "auto", NULL);
  run_bad_cases (ts, cases, G_N_ELEMENTS (cases));

  /* names: 256 bytes are fine, 257 are not */
  name = g_strnfill (257, 'n');
  path = g_strdup_printf ("/%s/0", name);
  c = trickle_test_request (ts->port, "POST", path, "x", -1, NULL);
  assert_status (c, 400);
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
  assert_status (c, 400);
  trickle_test_conn_free (c);
  g_free (path);
  path = g_strdup_printf ("/%s", name);
  c = trickle_test_request (ts->port, "POST", path, NULL, 0, NULL);
  assert_status (c, 400);
  trickle_test_conn_free (c);
  g_free (path);
  g_free (name);

  name = g_strnfill (5000, 'n');
  path = g_strdup_printf ("/%s/0", name);
  c = trickle_test_request (ts->port, "POST", path, "x", -1, NULL);
  assert_status (c, 400);
  trickle_test_conn_free (c);
  g_free (path);
  g_free (name);

  name = g_strnfill (256, 'n');
  path = g_strdup_printf ("/%s/0", name);
  fail_unless_equals_int64 (post_segment (ts, path, "ok", -1), 0);
  c = trickle_test_request (ts->port, "GET", path, NULL, 0, NULL);
  assert_response (c, 200, "ok");
  trickle_test_conn_free (c);
  g_free (path);
  g_free (name);

  /* the whole safe set; a percent-encoded safe character is that character */
  fail_unless_equals_int64 (post_segment (ts, "/Az09-_.~x/0", "safe", -1), 0);
  c = trickle_test_request (ts->port, "GET", "/Az09-_.~x/0", NULL, 0, NULL);
  assert_response (c, 200, "safe");
  trickle_test_conn_free (c);

  fail_unless_equals_int64 (post_segment (ts, "/%41bc/0", "enc", -1), 0);
  c = trickle_test_request (ts->port, "GET", "/Abc/0", NULL, 0, NULL);
  assert_response (c, 200, "enc");
  trickle_test_conn_free (c);

  /* nothing was created by the bad requests */
  c = trickle_test_request (ts->port, "GET", "/a/next", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);
  fail_unless_equals_int64 (get_next (ts, "auto"), 0);

  trickle_test_server_free (ts);
}

GST_END_TEST;

GST_START_TEST (test_header_too_large)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;
  gchar *big;

  create_channel (ts, "h", NULL);

  /* default max-header-size: 16384 */
  big = g_strnfill (20000, 'a');
  c = trickle_test_request (ts->port, "GET", "/h/next", NULL, 0, "X-Big",
      big, NULL);
  assert_status (c, 431);
  trickle_test_conn_free (c);
  g_free (big);

  big = g_strnfill (8000, 'a');
  c = trickle_test_request (ts->port, "GET", "/h/next", NULL, 0, "X-Big",
      big, NULL);
  assert_response (c, 200, "0");
  trickle_test_conn_free (c);
  g_free (big);
  trickle_test_server_free (ts);

  /* a small limit: many small headers count too */
  ts = trickle_test_server_new ();
  trickle_test_server_start (ts, "max-header-size", 1024, NULL);
  create_channel (ts, "h", NULL);

  big = g_strnfill (2000, 'a');
  c = trickle_test_request (ts->port, "GET", "/h/next", NULL, 0, "X-Big",
      big, NULL);
  assert_status (c, 431);
  trickle_test_conn_free (c);
  g_free (big);

  c = trickle_test_request (ts->port, "GET", "/h/next", NULL, 0,
      "X-A", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-B", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-C", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-D", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-E", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-F", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-G", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-H", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-I", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-J", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-K", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-L", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-M", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-N", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-O", "0123456789012345678901234567890123456789012345678901234567890123",
      "X-P", "0123456789012345678901234567890123456789012345678901234567890123",
      NULL);
  assert_status (c, 431);
  trickle_test_conn_free (c);

  big = g_strnfill (500, 'a');
  c = trickle_test_request (ts->port, "GET", "/h/next", NULL, 0, "X-Big",
      big, NULL);
  assert_response (c, 200, "0");
  trickle_test_conn_free (c);
  g_free (big);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* over max-segment-size: 413 to the publisher, the segment is aborted for
 * its subscribers (no terminating chunk) */
GST_START_TEST (test_segment_too_large)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *pub, *sub, *c;
  GBytes *data;
  gsize len;
  const guint8 *d;

  g_object_set (ts->store, "max-segment-size", (guint64) 65536, NULL);
  trickle_test_server_start (ts, NULL);
  create_channel (ts, "big", NULL);

  data = trickle_test_make_data (65536, 413);
  d = g_bytes_get_data (data, &len);

  sub = start_get (ts, "/big/0");
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/big/0", NULL));
  send_chunks (pub, data, 32768);
  /* exactly the maximum is still fine and streams through */
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_body_result (sub, trickle_test_conn_read_body_at_least (sub, len),
      TRICKLE_TEST_BODY_DATA);
  fail_unless (memcmp (sub->body->data, d, len) == 0);
  fail_if (trickle_test_conn_has_data (pub, 0),
      "publisher answered before exceeding the limit");

  /* one byte more */
  fail_unless (trickle_test_conn_send_chunk (pub, "X", 1));
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 413);
  trickle_test_conn_free (pub);

  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_CLOSED);
  fail_unless_equals_int (sub->body->len, len);
  trickle_test_conn_free (sub);

  /* the channel goes on; a body of exactly the maximum is accepted */
  fail_unless_equals_int64 (post_segment (ts, "/big/1", (const gchar *) d,
          len), 1);
  c = trickle_test_request (ts->port, "GET", "/big/1", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  fail_unless_equals_int (c->body->len, len);
  fail_unless (memcmp (c->body->data, d, len) == 0);
  trickle_test_conn_free (c);

  g_bytes_unref (data);
  trickle_test_server_free (ts);
}

GST_END_TEST;

GST_START_TEST (test_max_channels)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *c;

  g_object_set (ts->store, "max-channels", 3, NULL);
  trickle_test_server_start (ts, NULL);

  create_channel (ts, "m1", NULL);
  create_channel (ts, "m2", NULL);
  create_channel (ts, "m3", NULL);

  c = trickle_test_request (ts->port, "POST", "/m4", NULL, 0, NULL);
  assert_status (c, 503);
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "POST", "/m4/0", "x", -1, NULL);
  assert_status (c, 503);
  trickle_test_conn_free (c);

  c = trickle_test_request (ts->port, "GET", "/m4/next", NULL, 0, NULL);
  assert_response (c, 404, "Stream not found");
  trickle_test_conn_free (c);

  /* existing channels still work */
  fail_unless_equals_int64 (post_segment (ts, "/m1/0", "x", -1), 0);

  c = trickle_test_request (ts->port, "DELETE", "/m1", NULL, 0, NULL);
  assert_response (c, 200, "");
  trickle_test_conn_free (c);
  create_channel (ts, "m4", NULL);
  fail_unless_equals_int (gst_trickle_channel_store_get_n_channels (ts->store),
      3);

  trickle_test_server_free (ts);
}

GST_END_TEST;

GST_START_TEST (test_malformed_request)
{
  static const gchar *requests[] = {
    "GARBAGE\r\n\r\n",
    "GET\r\n\r\n",
    "GET /ch/next HTTP/1.1 junk\r\nHost: 127.0.0.1\r\n\r\n",
    "GET /ch/next FTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "\x01\x02\x03 \x04 \x05\r\n\r\n",
  };
  TrickleTestServer *ts = trickle_test_server_new_started ();
  guint i;

  create_channel (ts, "ch", NULL);
  for (i = 0; i < G_N_ELEMENTS (requests); i++) {
    TrickleTestConn *c = trickle_test_conn_new (ts->port);

    fail_unless (trickle_test_conn_send (c, requests[i], -1));
    trickle_test_conn_read_head (c);
    fail_unless (c->status == 400, "request %u: status %u, expected 400", i,
        c->status);
    trickle_test_conn_free (c);
  }
  assert_server_alive (ts);
  fail_unless_equals_int64 (get_next (ts, "ch"), 0);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* header-timeout: the whole head must arrive in time (slowloris) */
GST_START_TEST (test_header_timeout)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *partial, *slow, *waiter, *c;
  gint64 start;
  gboolean closed = FALSE;

  trickle_test_server_start (ts, "header-timeout", 1, NULL);
  create_channel (ts, "ht", NULL);

  /* a complete request waiting for data is not subject to it */
  waiter = start_get (ts, "/ht/0");

  partial = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send (partial,
          "GET /ht/next HTTP/1.1\r\nHost: 127.0.0.1\r\n", -1));

  slow = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send (slow,
          "GET /ht/next HTTP/1.1\r\nHost: 127.0.0.1\r\n", -1));
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < 6 * G_USEC_PER_SEC) {
    if (!trickle_test_conn_send (slow, "X-Slow: a\r\n", -1) ||
        trickle_test_conn_drain_until_closed (slow, 250)) {
      closed = TRUE;
      break;
    }
  }
  fail_unless (closed, "a head trickling in for 6 s was not cut off");
  fail_unless (trickle_test_conn_drain_until_closed (partial, 3000),
      "an incomplete head was not cut off");

  /* the waiting GET still gets its data */
  assert_no_answer_yet (waiter, "GET /ht/0");
  fail_unless_equals_int64 (post_segment (ts, "/ht/0", "ok", -1), 0);
  fail_unless_equals_int (trickle_test_conn_read_head (waiter), 200);
  assert_body_result (waiter, trickle_test_conn_read_body (waiter),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (waiter, "ok");

  c = trickle_test_request (ts->port, "GET", "/ht/next", NULL, 0, NULL);
  assert_response (c, 200, "1");
  trickle_test_conn_free (c);

  trickle_test_conn_free (waiter);
  trickle_test_conn_free (partial);
  trickle_test_conn_free (slow);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* io-timeout: a publisher that stalls mid-body is aborted */
GST_START_TEST (test_io_timeout_publisher)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *pub, *sub, *waiter;

  trickle_test_server_start (ts, "io-timeout", 1, NULL);
  create_channel (ts, "io", NULL);

  /* seq 1 of a fresh channel: a preconnect that waits all along */
  waiter = start_get (ts, "/io/1");
  sub = start_get (ts, "/io/0");
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/io/0", NULL));
  fail_unless (trickle_test_conn_send_chunk (pub, "abc", -1));
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_body_result (sub, trickle_test_conn_read_body_at_least (sub, 3),
      TRICKLE_TEST_BODY_DATA);

  /* the publisher stalls: the subscriber sees a truncated segment */
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_CLOSED);
  fail_unless (trickle_test_conn_drain_until_closed (pub, 5000),
      "stalled publisher connection not closed");

  /* the waiter is still there and gets the next segment */
  fail_unless_equals_int64 (post_segment (ts, "/io/1", "next", -1), 1);
  fail_unless_equals_int (trickle_test_conn_read_head (waiter), 200);
  assert_header (waiter, "Lp-Trickle-Seq", "1");
  assert_body_result (waiter, trickle_test_conn_read_body (waiter),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (waiter, "next");

  trickle_test_conn_free (waiter);
  trickle_test_conn_free (sub);
  trickle_test_conn_free (pub);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ======================================================================== */
/* Concurrency and streaming */

#define FANOUT_SUBS 40
#define FANOUT_SIZE (4 * 1024 * 1024)
#define FANOUT_CHUNK (32 * 1024)

GST_START_TEST (test_fanout)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  Reader *readers[FANOUT_SUBS];
  TrickleTestConn *pub;
  GBytes *data;
  gsize len, half;
  const guint8 *d;
  guint i;

  create_channel (ts, "fan", "video/MP2T");
  data = trickle_test_make_data (FANOUT_SIZE, 40);
  d = g_bytes_get_data (data, &len);
  half = len / 2;

  /* half of the subscribers preconnect */
  for (i = 0; i < FANOUT_SUBS / 2; i++)
    readers[i] = reader_start (start_get (ts, "/fan/0"), data);

  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/fan/0", NULL));
  {
    GBytes *first = g_bytes_new_static (d, half);
    send_chunks (pub, first, FANOUT_CHUNK);
    g_bytes_unref (first);
  }

  /* the other half join in the middle of the segment */
  for (i = FANOUT_SUBS / 2; i < FANOUT_SUBS; i++)
    readers[i] = reader_start (start_get (ts, "/fan/0"), data);
  {
    GBytes *second = g_bytes_new_static (d + half, len - half);
    send_chunks (pub, second, FANOUT_CHUNK);
    g_bytes_unref (second);
  }
  fail_unless (trickle_test_conn_send_last_chunk (pub));
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "0");

  for (i = 0; i < FANOUT_SUBS; i++) {
    gchar *what = g_strdup_printf ("subscriber %u", i);
    reader_assert_complete (readers[i], "0", what);
    g_free (what);
    reader_free (readers[i]);
  }

  trickle_test_conn_free (pub);
  g_bytes_unref (data);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a preconnected GET gets each chunk while the publisher is still sending */
GST_START_TEST (test_streaming_order)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *pub, *sub;
  gchar *chunk1 = g_strnfill (1000, '1');
  gchar *chunk2 = g_strnfill (2000, '2');
  gchar *all = g_strconcat (chunk1, chunk2, NULL);

  create_channel (ts, "ord", "video/MP2T");

  sub = start_get (ts, "/ord/0");
  assert_no_answer_yet (sub, "preconnected GET");

  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/ord/0",
          "Content-Type", "video/MP2T", NULL));
  /* POST headers alone are not a first byte */
  assert_no_answer_yet (sub, "GET with a preconnected POST and no data");

  fail_unless (trickle_test_conn_send_chunk (pub, chunk1, -1));
  /* head and chunk 1 before the publisher sends anything else */
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_header (sub, "Lp-Trickle-Seq", "0");
  assert_header (sub, "Content-Type", "video/MP2T");
  assert_header (sub, "Transfer-Encoding", "chunked");
  assert_body_result (sub, trickle_test_conn_read_body_at_least (sub, 1000),
      TRICKLE_TEST_BODY_DATA);
  fail_unless_equals_int (sub->body->len, 1000);
  fail_if (trickle_test_conn_has_data (pub, 0),
      "publisher got an answer before the end of its body");

  fail_unless (trickle_test_conn_send_chunk (pub, chunk2, -1));
  assert_body_result (sub, trickle_test_conn_read_body_at_least (sub, 3000),
      TRICKLE_TEST_BODY_DATA);
  fail_unless_equals_int (sub->body->len, 3000);
  /* the segment is not over before the terminator */
  fail_if (trickle_test_conn_has_data (sub, QUIET_MS),
      "subscriber got more (end?) before the publisher's terminator");

  fail_unless (trickle_test_conn_send_last_chunk (pub));
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, all);

  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "0");

  trickle_test_conn_free (pub);
  trickle_test_conn_free (sub);
  g_free (chunk1);
  g_free (chunk2);
  g_free (all);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* Receives what is queued on @c's socket (waiting up to 5 s for the first
 * byte) and returns when the kernel received it: the socket must have
 * SO_TIMESTAMPNS on. The bytes are appended to @out. */
static gint64
recv_stamped (TrickleTestConn * c, GString * out)
{
  int fd = g_socket_get_fd (c->socket);
  struct pollfd pfd = { fd, POLLIN, 0 };
  gchar data[4096];
  union
  {
    gchar buf[CMSG_SPACE (sizeof (struct timespec))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { data, sizeof (data) };
  struct msghdr msg = { 0, };
  struct cmsghdr *cm;
  gssize n;

  fail_unless (poll (&pfd, 1, 5000) == 1, "nothing to receive");
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof (control.buf);
  n = recvmsg (fd, &msg, MSG_DONTWAIT);
  fail_unless (n > 0);
  g_string_append_len (out, data, n);
  for (cm = CMSG_FIRSTHDR (&msg); cm; cm = CMSG_NXTHDR (&msg, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy (&ts, CMSG_DATA (cm), sizeof (ts));
      return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
  }
  fail ("no receive timestamp");
  return 0;
}

/* Subscribers first: a subscriber on the publisher's worker gets the end
 * of the segment before the publisher gets its answer; the kernel's receive
 * timestamps give the order in which the server sent the two. With one
 * worker every connection shares it; with two, the channel's connections
 * must have gathered on the channel's worker (channel affinity: new
 * connections are dealt to the workers in turn, so the subscriber's and
 * the publisher's start on different ones). Loop: 1 or 2 workers. */
GST_START_TEST (test_subscribers_end_before_publisher_answer)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  guint round;
  int on = 1, keeper = socket (AF_INET, SOCK_STREAM, 0);

  /* the kernel turns receive timestamps on for everyone, a little later,
   * while some socket asks for them: keep one asking */
  fail_unless_equals_int (setsockopt (keeper, SOL_SOCKET, SO_TIMESTAMPNS,
          &on, sizeof (on)), 0);
  g_usleep (100 * 1000);
  trickle_test_server_start (ts, "threads", (guint) __i__ + 1, NULL);
  create_channel (ts, "first", "video/MP2T");
  for (round = 0; round < 20; round++) {
    gchar *path = g_strdup_printf ("/first/%u", round);
    TrickleTestConn *sub, *pub;
    GString *end = g_string_new (NULL), *answer = g_string_new (NULL);
    gint64 end_at, answer_at;

    sub = start_get (ts, path);
    pub = trickle_test_conn_new (ts->port);
    fail_unless (trickle_test_conn_start_post (pub, path,
            "Content-Type", "video/MP2T", NULL));
    fail_unless (trickle_test_conn_send_chunk (pub, "payload", -1));
    fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
    assert_body_result (sub, trickle_test_conn_read_body_at_least (sub, 7),
        TRICKLE_TEST_BODY_DATA);
    fail_unless_equals_int (sub->rbuf->len, 0);
    fail_unless_equals_int (setsockopt (g_socket_get_fd (sub->socket),
            SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof (on)), 0);
    fail_unless_equals_int (setsockopt (g_socket_get_fd (pub->socket),
            SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof (on)), 0);

    fail_unless (trickle_test_conn_send_last_chunk (pub));
    answer_at = recv_stamped (pub, answer);
    end_at = recv_stamped (sub, end);
    fail_unless (g_str_has_prefix (answer->str, "HTTP/1.1 200 "),
        "answer: %s", answer->str);
    fail_unless_equals_string (end->str, "0\r\n\r\n");
    fail_unless (end_at <= answer_at,
        "%d worker(s), round %u: the publisher was answered %" G_GINT64_FORMAT
        " ns before its subscriber saw the end", __i__ + 1, round,
        end_at - answer_at);

    g_string_free (end, TRUE);
    g_string_free (answer, TRUE);
    trickle_test_conn_free (pub);
    trickle_test_conn_free (sub);
    g_free (path);
  }
  trickle_test_server_free (ts);
  close (keeper);
}

GST_END_TEST;

/* Channel affinity moves a connection to its channel's worker with the
 * head it came with: one keep-alive connection publishing to eight
 * channels in turn (so it moves again and again among four workers), two
 * requests at a time (pipelined: the second arrives with the first's
 * bytes), loses nothing; every segment reads back. */
GST_START_TEST (test_connection_follows_channels)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *pub;
  guint i;

  trickle_test_server_start (ts, "threads", 4, NULL);
  pub = trickle_test_conn_new (ts->port);
  for (i = 0; i < 8; i += 2) {
    gchar *a = g_strdup_printf ("/hop%u/0", i);
    gchar *b = g_strdup_printf ("/hop%u/0", i + 1);
    gchar *two = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 5\r\n\r\nbody%u"
        "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nbody%u",
        a, i, b, i + 1);

    fail_unless (trickle_test_conn_send (pub, two, strlen (two)));
    fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
    assert_body_result (pub, trickle_test_conn_read_body (pub),
        TRICKLE_TEST_BODY_END);
    fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
    assert_body_result (pub, trickle_test_conn_read_body (pub),
        TRICKLE_TEST_BODY_END);
    g_free (a);
    g_free (b);
    g_free (two);
  }
  for (i = 0; i < 8; i++) {
    gchar *path = g_strdup_printf ("/hop%u/0", i);
    gchar *want = g_strdup_printf ("body%u", i);
    TrickleTestConn *sub = start_get (ts, path);

    fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
    assert_body_result (sub, trickle_test_conn_read_body (sub),
        TRICKLE_TEST_BODY_END);
    assert_body_exact (sub, want);
    trickle_test_conn_free (sub);
    g_free (path);
    g_free (want);
  }
  trickle_test_conn_free (pub);
  assert_server_alive (ts);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* clients that keep publishing to channels living on other workers (their
 * connections move at every request) while the server stops: the stop
 * neither hangs nor leaks (ASan/LSan), whatever was on its way between
 * workers */
typedef struct
{
  guint port;
  guint index;
  gint *stop;
  guint answered;
} Hopper;

static gpointer
hopper_func (gpointer data)
{
  Hopper *h = data;
  guint k = 0;

  while (!g_atomic_int_get (h->stop)) {
    struct sockaddr_in addr = { 0, };
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    guint r;

    addr.sin_family = AF_INET;
    addr.sin_port = g_htons (h->port);
    addr.sin_addr.s_addr = g_htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0) {
      close (fd);
      break;                    /* the server is gone */
    }
    /* one keep-alive connection, a different channel at every request */
    for (r = 0; r < 20 && !g_atomic_int_get (h->stop); r++, k++) {
      gchar *req = g_strdup_printf ("POST /hop-%u-%u/%u HTTP/1.1\r\n"
          "Host: x\r\nContent-Length: 4\r\n\r\ndata", h->index, k % 13,
          k / 13);
      gchar buf[1024];
      gssize n;

      n = send (fd, req, strlen (req), MSG_NOSIGNAL);
      g_free (req);
      if (n <= 0)
        break;
      n = recv (fd, buf, sizeof (buf), 0);
      if (n <= 0)
        break;
      if (n >= 12 && memcmp (buf, "HTTP/1.1 200", 12) == 0)
        h->answered++;
    }
    close (fd);
  }
  return NULL;
}

GST_START_TEST (test_stop_while_connections_move)
{
  guint cycle;

  for (cycle = 0; cycle < 5; cycle++) {
    TrickleTestServer *ts = trickle_test_server_new ();
    Hopper hoppers[6];
    GThread *threads[6];
    gint stop = 0;
    guint i, answered = 0;

    g_object_set (ts->store, "window", 2, NULL);
    trickle_test_server_start (ts, "threads", 3, NULL);
    for (i = 0; i < G_N_ELEMENTS (hoppers); i++) {
      hoppers[i].port = ts->port;
      hoppers[i].index = i;
      hoppers[i].stop = &stop;
      hoppers[i].answered = 0;
      threads[i] = g_thread_new ("hopper", hopper_func, &hoppers[i]);
    }
    g_usleep (150 * 1000);
    /* stop with requests in flight, then let the clients see it */
    gst_trickle_http_server_stop (ts->server);
    g_atomic_int_set (&stop, 1);
    for (i = 0; i < G_N_ELEMENTS (hoppers); i++) {
      g_thread_join (threads[i]);
      answered += hoppers[i].answered;
    }
    fail_unless (answered > 0, "no request was answered before the stop");
    trickle_test_server_free (ts);
  }
}

GST_END_TEST;

/* a publisher that dies mid-segment: subscribers see a truncated body (no
 * 0-chunk), never a clean end; the channel goes on */
GST_START_TEST (test_publisher_killed)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  guint variant;

  for (variant = 0; variant < 3; variant++) {
    const gchar *how[] = { "closed between chunks", "closed inside a chunk",
      "reset between chunks"
    };
    gchar *name = g_strdup_printf ("kill%u", variant);
    gchar *p0 = g_strdup_printf ("/%s/0", name);
    gchar *p1 = g_strdup_printf ("/%s/1", name);
    TrickleTestConn *pub, *sub, *late, *c;
    gchar *a = g_strnfill (4096, 'a');

    create_channel (ts, name, NULL);
    sub = start_get (ts, p0);
    pub = trickle_test_conn_new (ts->port);
    fail_unless (trickle_test_conn_start_post (pub, p0, NULL));
    fail_unless (trickle_test_conn_send_chunk (pub, a, -1));
    fail_unless (trickle_test_conn_send_chunk (pub, a, -1));
    fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
    assert_body_result (sub, trickle_test_conn_read_body_at_least (sub,
            8192), TRICKLE_TEST_BODY_DATA);

    /* a subscriber joining mid-segment */
    late = start_get (ts, p0);
    fail_unless_equals_int (trickle_test_conn_read_head (late), 200);
    assert_body_result (late, trickle_test_conn_read_body_at_least (late,
            8192), TRICKLE_TEST_BODY_DATA);

    switch (variant) {
      case 0:
        trickle_test_conn_close (pub);
        break;
      case 1:
        fail_unless (trickle_test_conn_send (pub, "1000\r\nabcdef", -1));
        trickle_test_conn_close (pub);
        break;
      case 2:
        trickle_test_conn_abort (pub);
        break;
    }

    fail_unless (trickle_test_conn_read_body (sub) == TRICKLE_TEST_BODY_CLOSED,
        "publisher %s: subscriber body ended with %s, expected a truncated "
        "body", how[variant], body_result_name (sub->body_result));
    fail_unless (trickle_test_conn_read_body (late) ==
        TRICKLE_TEST_BODY_CLOSED, "publisher %s: late subscriber body ended "
        "with %s, expected a truncated body", how[variant],
        body_result_name (late->body_result));

    /* the channel serves the next seq */
    fail_unless_equals_int64 (get_next (ts, name), 1);
    fail_unless_equals_int64 (post_segment (ts, p1, "next", -1), 1);
    c = trickle_test_request (ts->port, "GET", p1, NULL, 0, NULL);
    assert_response (c, 200, NULL);
    assert_body_exact (c, "next");
    trickle_test_conn_free (c);

    trickle_test_conn_free (pub);
    trickle_test_conn_free (sub);
    trickle_test_conn_free (late);
    g_free (a);
    g_free (name);
    g_free (p0);
    g_free (p1);
  }
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a subscriber that dies mid-stream affects nobody else */
GST_START_TEST (test_subscriber_killed)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *pub, *a, *c;
  Reader *b;
  GBytes *data;
  gsize len;
  const guint8 *d;

  create_channel (ts, "sk", NULL);
  data = trickle_test_make_data (2 * 1024 * 1024, 7);
  d = g_bytes_get_data (data, &len);

  a = start_get (ts, "/sk/0");
  b = reader_start (start_get (ts, "/sk/0"), data);

  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/sk/0", NULL));
  fail_unless (trickle_test_conn_send_chunk (pub, d, 32768));
  fail_unless_equals_int (trickle_test_conn_read_head (a), 200);
  assert_body_result (a, trickle_test_conn_read_body_at_least (a, 32768),
      TRICKLE_TEST_BODY_DATA);
  trickle_test_conn_abort (a);

  {
    GBytes *rest = g_bytes_new_static (d + 32768, len - 32768);
    send_chunks (pub, rest, 32768);
    g_bytes_unref (rest);
  }
  fail_unless (trickle_test_conn_send_last_chunk (pub));
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "0");

  reader_assert_complete (b, "0", "surviving subscriber");

  /* the segment is intact for newcomers */
  c = trickle_test_request (ts->port, "GET", "/sk/0", NULL, 0, NULL);
  assert_response (c, 200, NULL);
  fail_unless_equals_int (c->body->len, len);
  fail_unless (memcmp (c->body->data, d, len) == 0);
  trickle_test_conn_free (c);

  reader_free (b);
  trickle_test_conn_free (a);
  trickle_test_conn_free (pub);
  g_bytes_unref (data);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* preconnected GETs whose clients go away are freed */
GST_START_TEST (test_preconnect_disconnect_freed)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c, *sub;
  gint fds_before, fds_after = -1;
  gint64 deadline;
  guint i;

  create_channel (ts, "pc", NULL);
  /* warm up the server's threads */
  for (i = 0; i < 10; i++)
    fail_unless_equals_int64 (get_next (ts, "pc"), 0);
  fds_before = trickle_test_count_fds ();

  for (i = 0; i < 200; i++) {
    const gchar *paths[] = { "/pc/0", "/pc/-1", "/pc/1" };

    c = start_get (ts, paths[i % 3]);
    if (i % 2)
      trickle_test_conn_abort (c);
    trickle_test_conn_free (c);
  }

  /* the server notices and closes its ends */
  if (fds_before >= 0) {
    deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    do {
      g_usleep (50 * 1000);
      fds_after = trickle_test_count_fds ();
    } while (fds_after > fds_before + 8 && g_get_monotonic_time () < deadline);
    fail_unless (fds_after <= fds_before + 8, "%d file descriptors before, "
        "%d 5 s after 200 disconnected preconnects", fds_before, fds_after);
  }

  /* and still serves */
  sub = start_get (ts, "/pc/0");
  fail_unless_equals_int64 (post_segment (ts, "/pc/0", "alive", -1), 0);
  fail_unless_equals_int (trickle_test_conn_read_head (sub), 200);
  assert_body_result (sub, trickle_test_conn_read_body (sub),
      TRICKLE_TEST_BODY_END);
  assert_body_exact (sub, "alive");
  trickle_test_conn_free (sub);
  fail_unless_equals_int64 (get_next (ts, "pc"), 1);

  trickle_test_server_free (ts);
}

GST_END_TEST;

/* io-timeout: a subscriber whose socket makes no progress is dropped and
 * does not hold back the publisher nor the other subscribers */
GST_START_TEST (test_stalled_subscriber_dropped)
{
  TrickleTestServer *ts = trickle_test_server_new ();
  TrickleTestConn *pub, *stalled;
  Reader *b;
  GBytes *data;
  gsize len;

  g_object_set (ts->store, "max-segment-size", (guint64) 64 * 1024 * 1024,
      NULL);
  trickle_test_server_start (ts, "io-timeout", 1, NULL);
  create_channel (ts, "st", NULL);
  data = trickle_test_make_data (16 * 1024 * 1024, 16);
  len = g_bytes_get_size (data);

  stalled = trickle_test_conn_new_small_rcvbuf (ts->port, 16384);
  fail_unless (trickle_test_conn_send_request (stalled, "GET", "/st/0", NULL));
  b = reader_start (start_get (ts, "/st/0"), data);
  settle ();

  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/st/0", NULL));
  send_chunks (pub, data, 65536);
  fail_unless (trickle_test_conn_send_last_chunk (pub));
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  assert_header (pub, "Lp-Trickle-Seq", "0");

  reader_assert_complete (b, "0", "reading subscriber");

  /* the stalled subscriber has had no write progress for 3 x io-timeout:
   * it got some of the segment and then a closed connection */
  g_usleep (3 * G_USEC_PER_SEC);
  fail_unless_equals_int (trickle_test_conn_read_head (stalled), 200);
  assert_body_result (stalled, trickle_test_conn_read_body (stalled),
      TRICKLE_TEST_BODY_CLOSED);
  fail_unless (stalled->body->len < len);

  reader_free (b);
  trickle_test_conn_free (stalled);
  trickle_test_conn_free (pub);
  g_bytes_unref (data);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* ======================================================================== */
/* Real clients: libsoup 3 */

static gboolean
accept_any_certificate (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

static SoupMessage *
soup_request (SoupSession * session, const gchar * method, const gchar * url,
    GInputStream * body, const gchar * content_type, GBytes ** response)
{
  SoupMessage *msg = soup_message_new (method, url);
  GError *err = NULL;

  fail_unless (msg != NULL, "bad URL %s", url);
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (accept_any_certificate), NULL);
  if (body)
    soup_message_set_request_body (msg, content_type, body, -1);
  *response = soup_session_send_and_read (session, msg, NULL, &err);
  fail_unless (*response != NULL, "%s %s: %s", method, url,
      err ? err->message : "?");
  return msg;
}

static void
soup_post_and_get (TrickleTestServer * ts, gboolean https)
{
  SoupSession *session;
  SoupMessage *msg;
  GBytes *data, *resp;
  GInputStream *stream;
  gchar *url;
  gsize len;
  const gchar *d;

  /* generous: only bounds a hang (a TLS set-up alone costs seconds of CPU
   * in the sanitized build) */
  session = soup_session_new_with_options ("timeout", 60, NULL);
  data = trickle_test_make_data (100000, 3);
  d = g_bytes_get_data (data, &len);

  /* a streamed (chunked) POST that auto-creates the channel */
  url = trickle_test_server_url (ts, https, "/soup/0");
  stream = g_memory_input_stream_new_from_bytes (data);
  msg = soup_request (session, "POST", url, stream, "video/MP2T", &resp);
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  fail_unless_equals_string (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Lp-Trickle-Seq"), "0");
  g_object_unref (msg);
  g_object_unref (stream);
  g_bytes_unref (resp);

  msg = soup_request (session, "GET", url, NULL, NULL, &resp);
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  fail_unless_equals_string (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Lp-Trickle-Seq"), "0");
  fail_unless_equals_string (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Lp-Trickle-Latest"), "1");
  fail_unless_equals_string (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Content-Type"), "video/MP2T");
  fail_unless_equals_int (g_bytes_get_size (resp), len);
  fail_unless (memcmp (g_bytes_get_data (resp, NULL), d, len) == 0);
  g_object_unref (msg);
  g_bytes_unref (resp);
  g_free (url);

  /* a 470 reads back with its headers */
  url = trickle_test_server_url (ts, https, "/soup/7");
  msg = soup_request (session, "GET", url, NULL, NULL, &resp);
  fail_unless_equals_int (soup_message_get_status (msg), 470);
  fail_unless_equals_string (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Lp-Trickle-Latest"), "1");
  fail_unless_equals_string (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Lp-Trickle-Seq"), "7");
  g_object_unref (msg);
  g_bytes_unref (resp);
  g_free (url);

  g_bytes_unref (data);
  g_object_unref (session);
}

GST_START_TEST (test_soup_session)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();

  soup_post_and_get (ts, FALSE);
  trickle_test_server_free (ts);
}

GST_END_TEST;

GST_START_TEST (test_soup_session_tls)
{
  TrickleTestServer *ts;
  GTlsCertificate *cert;
  gchar *tmpdir = NULL;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_print ("no TLS backend: skipping the TLS test\n");
    return;
  }
  cert = trickle_test_make_certificate (&tmpdir);
  if (cert == NULL) {
    trickle_test_remove_tmpdir (tmpdir);
    g_free (tmpdir);
    return;
  }

  ts = trickle_test_server_new ();
  trickle_test_server_start (ts, "tls-certificate", cert, NULL);
  soup_post_and_get (ts, TRUE);
  trickle_test_server_free (ts);

  g_object_unref (cert);
  trickle_test_remove_tmpdir (tmpdir);
  g_free (tmpdir);
}

GST_END_TEST;

/* ======================================================================== */
/* Life cycle */

GST_START_TEST (test_start_stop)
{
  TrickleTestServer *ts;
  TrickleTestConn *c, *sub, *pub;
  guint i;

  for (i = 0; i < 5; i++) {
    ts = trickle_test_server_new_started ();
    c = trickle_test_request (ts->port, "GET", "/x/next", NULL, 0, NULL);
    assert_response (c, 404, "Stream not found");
    trickle_test_conn_free (c);
    trickle_test_server_free (ts);
  }

  /* stopping with a waiting GET and a preconnected POST closes them */
  ts = trickle_test_server_new ();
  trickle_test_server_start (ts, "keepalive-interval", 100, NULL);
  create_channel (ts, "ss", NULL);
  sub = start_get (ts, "/ss/0");
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/ss/1", NULL));
  fail_unless_equals_int (trickle_test_conn_read_one_head (pub), 100);

  gst_trickle_http_server_stop (ts->server);
  fail_unless (trickle_test_conn_drain_until_closed (sub, 5000),
      "waiting GET not closed by stop");
  fail_unless (trickle_test_conn_drain_until_closed (pub, 5000),
      "preconnected POST not closed by stop");
  g_object_unref (ts->server);
  ts->server = NULL;
  trickle_test_server_free (ts);

  trickle_test_conn_free (sub);
  trickle_test_conn_free (pub);
}

GST_END_TEST;


/* ------------------------------------------------------------------------ */
/* regressions found in review */

/* a POST at the largest seq must not overflow the write head */
GST_START_TEST (test_seq_overflow)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  create_channel (ts, "ov", NULL);
  c = trickle_test_request (ts->port, "POST", "/ov/9223372036854775807", "x",
      1, NULL);
  assert_response (c, 400, "Invalid idx");
  trickle_test_conn_free (c);
  c = trickle_test_request (ts->port, "POST", "/ov/4611686018427387904", "x",
      1, NULL);
  assert_response (c, 400, "Invalid idx");
  trickle_test_conn_free (c);
  /* the largest writable seq works, and -1 then points past it */
  fail_unless_equals_int64 (post_segment (ts, "/ov/4611686018427387903", "x",
          1), G_GINT64_CONSTANT (4611686018427387903));
  fail_unless_equals_int64 (get_next (ts, "ov"),
      G_GINT64_CONSTANT (4611686018427387904));
  c = trickle_test_request (ts->port, "GET", "/ov/9223372036854775807", NULL,
      0, NULL);
  assert_status (c, 470);
  trickle_test_conn_free (c);
  assert_server_alive (ts);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a reader waiting on a seq whose slot a preconnect takes over is released
 * (after the publisher skipped ahead by a whole window) */
GST_START_TEST (test_preconnect_replaces_waiting_segment)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *waiting, *edge;
  gint i;

  create_channel (ts, "r", NULL);
  for (i = 0; i < 10; i++) {
    gchar *path = g_strdup_printf ("/r/%d", i);
    post_segment (ts, path, "d", 1);
    g_free (path);
  }
  waiting = start_get (ts, "/r/10");
  assert_no_answer_yet (waiting, "GET of the next seq");
  /* the publisher skips to 14: the write head moves to 15 */
  post_segment (ts, "/r/14", "x", 1);
  /* the live edge (15) takes slot 0, where seq 10 waited: that reader is
   * released rather than stranded */
  edge = start_get (ts, "/r/-1");
  fail_unless_equals_int (trickle_test_conn_read_head (waiting), 200);
  fail_unless_equals_int64 (header_int (waiting, "Lp-Trickle-Seq"), 10);
  trickle_test_conn_read_body (waiting);
  fail_unless_equals_int (waiting->body->len, 0);
  trickle_test_conn_free (waiting);
  post_segment (ts, "/r/15", "five", 4);
  fail_unless_equals_int (trickle_test_conn_read_head (edge), 200);
  trickle_test_conn_read_body (edge);
  fail_unless_equals_string (trickle_test_conn_body_str (edge), "five");
  trickle_test_conn_free (edge);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* an answer that leaves a request body unread says Connection: close */
GST_START_TEST (test_unread_body_connection_close)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  c = trickle_test_request (ts->port, "POST", "/withbody", "abc", 3, NULL);
  assert_status (c, 200);
  fail_unless_equals_string (trickle_test_conn_get_header (c, "Connection"),
      "close");
  trickle_test_conn_free (c);
  /* a segment POST reads its body and keeps the connection */
  c = trickle_test_request (ts->port, "POST", "/withbody/0", "abc", 3, NULL);
  assert_status (c, 200);
  fail_unless (trickle_test_conn_get_header (c, "Connection") == NULL);
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* a reader arriving after a segment was aborted gets it as dropped */
GST_START_TEST (test_late_reader_of_aborted_segment)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;

  create_channel (ts, "ab", NULL);
  post_aborted (ts, "/ab/0");
  c = trickle_test_request (ts->port, "GET", "/ab/0", NULL, 0, NULL);
  assert_response (c, 200, "");
  fail_unless_equals_int64 (header_int (c, "Lp-Trickle-Seq"), 0);
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* one async libsoup call at a time, run on the test's own context */
typedef struct
{
  GAsyncResult *res;
} AsyncWait;

static void
async_done (GObject * source, GAsyncResult * res, gpointer data)
{
  ((AsyncWait *) data)->res = g_object_ref (res);
}

static GAsyncResult *
async_wait (AsyncWait * w, GMainContext * ctx)
{
  GAsyncResult *res;

  while (!w->res)
    g_main_context_iteration (ctx, TRUE);
  res = w->res;
  w->res = NULL;
  return res;
}

/* A subscriber of a segment whose publisher died gets an error from a
 * libsoup 3.2 client too (it reads a close between two chunks as a clean
 * end, as if the short segment were whole): the response breaks inside a
 * chunk. */
GST_START_TEST (test_aborted_segment_breaks_inside_a_chunk)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  GMainContext *ctx = g_main_context_new ();
  SoupSession *session;
  TrickleTestConn *pub;
  SoupMessage *msg;
  GInputStream *in;
  GAsyncResult *res;
  AsyncWait w = { NULL };
  GError *err = NULL;
  gchar *url = trickle_test_server_url (ts, FALSE, "/cut/0");
  GBytes *bytes;
  gsize got = 0;

  g_main_context_push_thread_default (ctx);
  session = soup_session_new ();
  create_channel (ts, "cut", NULL);
  pub = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_start_post (pub, "/cut/0", NULL));
  fail_unless (trickle_test_conn_send_chunk (pub, "partial", 7));
  msg = soup_message_new ("GET", url);
  soup_session_send_async (session, msg, G_PRIORITY_DEFAULT, NULL,
      async_done, &w);
  res = async_wait (&w, ctx);
  in = soup_session_send_finish (session, res, &err);
  g_object_unref (res);
  fail_unless (in != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  while (got < 7) {
    g_input_stream_read_bytes_async (in, 64, G_PRIORITY_DEFAULT, NULL,
        async_done, &w);
    res = async_wait (&w, ctx);
    bytes = g_input_stream_read_bytes_finish (in, res, &err);
    g_object_unref (res);
    fail_unless (bytes != NULL && g_bytes_get_size (bytes) > 0);
    got += g_bytes_get_size (bytes);
    g_bytes_unref (bytes);
  }
  fail_unless_equals_int (got, 7);
  trickle_test_conn_abort (pub);        /* dies mid-segment */
  g_input_stream_read_bytes_async (in, 64, G_PRIORITY_DEFAULT, NULL,
      async_done, &w);
  res = async_wait (&w, ctx);
  bytes = g_input_stream_read_bytes_finish (in, res, &err);
  g_object_unref (res);
  fail_unless (bytes == NULL, "the cut segment read as a clean end");
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT),
      "%s", err->message);
  g_clear_error (&err);
  {
    /* closed as GstTrickleSubscriber closes a broken body: cancelled, so
     * libsoup drops the connection (its own close path after a failed read
     * leaks in 3.2.3) */
    GCancellable *c = g_cancellable_new ();
    g_cancellable_cancel (c);
    g_input_stream_close (in, c, NULL);
    g_object_unref (c);
  }
  g_object_unref (in);
  g_object_unref (msg);
  g_object_unref (session);
  while (g_main_context_iteration (ctx, FALSE));
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  trickle_test_conn_free (pub);
  g_free (url);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* chunk extensions and trailers longer than a line buffer, size lines split
 * across reads; a 0x prefix is not hex */
GST_START_TEST (test_chunk_framing)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *pub, *c;
  gchar *ext = g_strnfill (300, 'e');
  gchar *req;

  create_channel (ts, "cf", NULL);
  pub = trickle_test_conn_new (ts->port);
  req = g_strdup_printf ("POST /cf/0 HTTP/1.1\r\nHost: x\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" "5;name=%s\r\nhello\r\n", ext);
  fail_unless (trickle_test_conn_send (pub, req, strlen (req)));
  g_free (req);
  settle ();
  /* a size line in two pieces */
  fail_unless (trickle_test_conn_send (pub, "0", 1));
  settle ();
  fail_unless (trickle_test_conn_send (pub, "6\r\n world\r\n", 11));
  req = g_strdup_printf ("0\r\nX-Digest: %s\r\nX-Other: 1\r\n\r\n", ext);
  fail_unless (trickle_test_conn_send (pub, req, strlen (req)));
  g_free (req);
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 200);
  trickle_test_conn_free (pub);
  c = trickle_test_request (ts->port, "GET", "/cf/0", NULL, 0, NULL);
  assert_response (c, 200, "hello world");
  trickle_test_conn_free (c);

  pub = trickle_test_conn_new (ts->port);
  req = g_strdup ("POST /cf/1 HTTP/1.1\r\nHost: x\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n");
  fail_unless (trickle_test_conn_send (pub, req, strlen (req)));
  g_free (req);
  fail_unless_equals_int (trickle_test_conn_read_head (pub), 400);
  trickle_test_conn_free (pub);
  g_free (ext);
  assert_server_alive (ts);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* HTTP/1.0 subscribers get the body unchunked, ended by the close */
GST_START_TEST (test_http10_subscriber)
{
  TrickleTestServer *ts = trickle_test_server_new_started ();
  TrickleTestConn *c;
  const gchar *req = "GET /old/0 HTTP/1.0\r\n\r\n";

  create_channel (ts, "old", NULL);
  post_segment (ts, "/old/0", "plain body", 10);
  c = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send (c, req, strlen (req)));
  fail_unless_equals_int (trickle_test_conn_read_head (c), 200);
  fail_unless (trickle_test_conn_get_header (c, "Transfer-Encoding") == NULL);
  trickle_test_conn_read_body (c);
  fail_unless_equals_string (trickle_test_conn_body_str (c), "plain body");
  trickle_test_conn_free (c);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* idle TCP connections to an HTTPS server do not hold up handshakes */
/* A GET over TLS made once many TLS connections sit idle (connected, not
 * a byte sent) is answered while they are still waiting: idle connections
 * cost the server nothing until their ClientHello arrives, so neither the
 * setting up of their TLS state nor a handshake thread each (GTask's pool
 * starts at 10 threads and grows by one every 100+ ms) delays the others.
 * Order, not time: every idle connection must still be open when the answer
 * arrives, i.e. the answer came before the first of them reached
 * header-timeout (20 s, the generous deadline: a server that held the
 * request up behind the idle ones answers after they time out). */
#define N_IDLE_TLS 100

GST_START_TEST (test_tls_idle_connections_do_not_block)
{
  TrickleTestServer *ts;
  TrickleTestConn *idle[N_IDLE_TLS];
  GTlsCertificate *cert;
  SoupSession *session;
  SoupMessage *msg;
  GBytes *body;
  gchar *tmpdir = NULL, *url;
  guint i;

  cert = trickle_test_make_certificate (&tmpdir);
  if (!cert) {
    trickle_test_remove_tmpdir (tmpdir);
    g_free (tmpdir);
    return;
  }
  ts = trickle_test_server_new ();
  trickle_test_server_start (ts, "tls-certificate", cert, "header-timeout",
      20, NULL);
  url = trickle_test_server_url (ts, TRUE, "/x/next");

  /* one request first, so that one-time set-up (of the TLS backend, on
   * both sides) is not counted against the idle connections */
  session = soup_session_new ();
  msg = soup_request (session, "GET", url, NULL, NULL, &body);
  fail_unless_equals_int (soup_message_get_status (msg), 404);
  g_bytes_unref (body);
  g_object_unref (msg);
  g_object_unref (session);

  for (i = 0; i < N_IDLE_TLS; i++)
    idle[i] = trickle_test_conn_new (ts->port);

  /* a new session: a new connection, with its own handshake, accepted
   * after the idle ones. No client timeout: the idle connections' state
   * below tells whether the answer came in time. */
  session = soup_session_new_with_options ("timeout", 0, NULL);
  msg = soup_request (session, "GET", url, NULL, NULL, &body);
  fail_unless_equals_int (soup_message_get_status (msg), 404);
  for (i = 0; i < N_IDLE_TLS; i++)
    fail_unless (!trickle_test_conn_has_data (idle[i], 0),
        "idle TLS connection %u was closed before the other client was "
        "answered: the idle connections held it up", i);

  g_bytes_unref (body);
  g_object_unref (msg);
  g_object_unref (session);
  g_free (url);
  for (i = 0; i < N_IDLE_TLS; i++)
    trickle_test_conn_free (idle[i]);
  trickle_test_server_free (ts);
  g_object_unref (cert);
  trickle_test_remove_tmpdir (tmpdir);
  g_free (tmpdir);
}

GST_END_TEST;

/* Nor do idle TLS connections that leave without a byte: a client that
 * gives up on many at once costs the server no TLS set-up per connection,
 * so the next client's handshake is not queued behind theirs. Order: that
 * client is answered, i.e. its handshake began before header-timeout (20 s
 * from its accept, generous) cut it off; behind a set-up per closed
 * connection (tens of milliseconds each, far more in sanitized builds) it
 * would not have. */
#define N_CLOSING_TLS 1000

GST_START_TEST (test_tls_idle_connections_closing)
{
  TrickleTestServer *ts;
  TrickleTestConn **idle;
  GTlsCertificate *cert;
  SoupSession *session;
  SoupMessage *msg;
  GBytes *body;
  gchar *tmpdir = NULL, *url;
  guint i, round;

  cert = trickle_test_make_certificate (&tmpdir);
  if (!cert) {
    trickle_test_remove_tmpdir (tmpdir);
    g_free (tmpdir);
    return;
  }
  ts = trickle_test_server_new ();
  trickle_test_server_start (ts, "tls-certificate", cert, "header-timeout",
      20, NULL);
  url = trickle_test_server_url (ts, TRUE, "/x/next");
  idle = g_new0 (TrickleTestConn *, N_CLOSING_TLS);

  /* round 0 pays the one-time set-up of the TLS backend (both sides); in
   * round 1 the connections all leave first */
  for (round = 0; round < 2; round++) {
    if (round == 1) {
      for (i = 0; i < N_CLOSING_TLS; i++)
        idle[i] = trickle_test_conn_new (ts->port);
      for (i = 0; i < N_CLOSING_TLS; i++)
        trickle_test_conn_free (idle[i]);
    }
    session = soup_session_new_with_options ("timeout", 0, NULL);
    msg = soup_request (session, "GET", url, NULL, NULL, &body);
    fail_unless_equals_int (soup_message_get_status (msg), 404);
    g_bytes_unref (body);
    g_object_unref (msg);
    g_object_unref (session);
  }

  g_free (idle);
  g_free (url);
  trickle_test_server_free (ts);
  g_object_unref (cert);
  trickle_test_remove_tmpdir (tmpdir);
  g_free (tmpdir);
}

GST_END_TEST;

/* header-timeout bounds a TLS connection from its accept, whether it sent
 * nothing (its TLS state was never set up) or stalled in the middle of its
 * handshake; one that left without a byte is simply closed */
GST_START_TEST (test_tls_header_timeout)
{
  TrickleTestServer *ts;
  TrickleTestConn *silent, *stalled, *gone;
  GTlsCertificate *cert;
  gchar *tmpdir = NULL;
  /* the first bytes of a TLS record carrying a ClientHello */
  static const guint8 partial_hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };

  cert = trickle_test_make_certificate (&tmpdir);
  if (!cert) {
    trickle_test_remove_tmpdir (tmpdir);
    g_free (tmpdir);
    return;
  }
  ts = trickle_test_server_new ();
  trickle_test_server_start (ts, "tls-certificate", cert, "header-timeout",
      1, NULL);
  silent = trickle_test_conn_new (ts->port);
  stalled = trickle_test_conn_new (ts->port);
  fail_unless (trickle_test_conn_send (stalled, (const gchar *) partial_hello,
          sizeof (partial_hello)));
  /* leaves without a byte: closed, nothing to answer */
  gone = trickle_test_conn_new (ts->port);
  trickle_test_conn_close (gone);

  /* generous: the server closes them after 1 s; this only bounds a hang */
  trickle_test_conn_set_timeout (silent, 30);
  trickle_test_conn_set_timeout (stalled, 30);
  fail_unless (trickle_test_conn_drain_until_closed (silent, 25000),
      "a TLS connection that sent nothing was not closed");
  fail_unless (trickle_test_conn_drain_until_closed (stalled, 25000),
      "a TLS connection stalled in its handshake was not closed");

  trickle_test_conn_free (silent);
  trickle_test_conn_free (stalled);
  trickle_test_conn_free (gone);
  trickle_test_server_free (ts);
  g_object_unref (cert);
  trickle_test_remove_tmpdir (tmpdir);
  g_free (tmpdir);
}

GST_END_TEST;

static Suite *
httpserver_suite (void)
{
  Suite *s = suite_create ("httpserver");
  TCase *tc_ref = tcase_create ("reference");
  TCase *tc_bad = tcase_create ("badinput");
  TCase *tc_conc = tcase_create ("concurrency");
  TCase *tc_client = tcase_create ("clients");
  TCase *tc_review = tcase_create ("review");

  suite_add_tcase (s, tc_ref);
  tcase_set_timeout (tc_ref, 30);
  tcase_add_test (tc_ref, test_unknown_channel);
  tcase_add_test (tc_ref, test_create_and_next);
  tcase_add_test (tc_ref, test_publish_and_replay);
  tcase_add_test (tc_ref, test_far_future_and_gap);
  tcase_add_test (tc_ref, test_seq_minus_one_minus_two);
  tcase_add_test (tc_ref, test_bad_idx);
  tcase_add_test (tc_ref, test_method_not_allowed);
  tcase_add_test (tc_ref, test_not_found_paths);
  tcase_add_test (tc_ref, test_window_eviction);
  tcase_add_test (tc_ref, test_repost_completed_seq);
  tcase_add_test (tc_ref, test_close_seq);
  tcase_add_test (tc_ref, test_reset);
  tcase_add_test (tc_ref, test_delete_channel);
  tcase_add_test (tc_ref, test_deleted_channels_bounded);
  tcase_add_test (tc_ref, test_deleted_channel_keeps_ended_segments);
  tcase_add_test (tc_ref, test_deleted_channels_within_max_channels);
  tcase_add_test (tc_ref, test_mime_type);
  tcase_add_test (tc_ref, test_auto_create_off);
  tcase_add_test (tc_ref, test_changefeed);
  tcase_add_test (tc_ref, test_empty_segment);
  tcase_add_test (tc_ref, test_continue_keepalive);
  tcase_add_test (tc_ref, test_preconnected_post_outlives_io_timeout);
  tcase_add_test (tc_ref, test_expect_continue);
  tcase_add_test (tc_ref, test_base_path);
  tcase_add_test (tc_ref, test_idle_sweep);

  suite_add_tcase (s, tc_bad);
  tcase_set_timeout (tc_bad, 30);
  tcase_add_test (tc_bad, test_bad_seq);
  tcase_add_test (tc_bad, test_bad_names);
  tcase_add_test (tc_bad, test_strict_framing);
  tcase_add_test (tc_bad, test_tokens);
  tcase_add_test (tc_bad, test_authorize_signal);
  tcase_add_test (tc_bad, test_read_only_channels);
  tcase_add_test (tc_bad, test_connections_per_client);
  tcase_add_test (tc_bad, test_channel_request_rate);
  tcase_add_test (tc_bad, test_header_too_large);
  tcase_add_test (tc_bad, test_segment_too_large);
  tcase_add_test (tc_bad, test_max_channels);
  tcase_add_test (tc_bad, test_malformed_request);
  tcase_add_test (tc_bad, test_header_timeout);
  tcase_add_test (tc_bad, test_io_timeout_publisher);

  suite_add_tcase (s, tc_conc);
  tcase_set_timeout (tc_conc, 60);
  tcase_add_test (tc_conc, test_fanout);
  tcase_add_test (tc_conc, test_streaming_order);
  tcase_add_loop_test (tc_conc,
      test_subscribers_end_before_publisher_answer, 0, 2);
  tcase_add_test (tc_conc, test_connection_follows_channels);
  tcase_add_test (tc_conc, test_stop_while_connections_move);
  tcase_add_test (tc_conc, test_publisher_killed);
  tcase_add_test (tc_conc, test_subscriber_killed);
  tcase_add_test (tc_conc, test_preconnect_disconnect_freed);
  tcase_add_test (tc_conc, test_stalled_subscriber_dropped);

  suite_add_tcase (s, tc_client);
  tcase_set_timeout (tc_client, 30);
  tcase_add_test (tc_client, test_soup_session);
  tcase_add_test (tc_client, test_soup_session_tls);
  tcase_add_test (tc_client, test_start_stop);

  suite_add_tcase (s, tc_review);
  tcase_set_timeout (tc_review, 30);
  tcase_add_test (tc_review, test_seq_overflow);
  tcase_add_test (tc_review, test_preconnect_replaces_waiting_segment);
  tcase_add_test (tc_review, test_unread_body_connection_close);
  tcase_add_test (tc_review, test_late_reader_of_aborted_segment);
  tcase_add_test (tc_review, test_aborted_segment_breaks_inside_a_chunk);
  tcase_add_test (tc_review, test_chunk_framing);
  tcase_add_test (tc_review, test_http10_subscriber);
  tcase_add_test (tc_review, test_tls_idle_connections_do_not_block);
  tcase_add_test (tc_review, test_tls_idle_connections_closing);
  tcase_add_test (tc_review, test_tls_header_timeout);

  return s;
}

GST_CHECK_MAIN (httpserver);
