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
 * Test helpers for the trickle HTTP server:
 *
 * - #TrickleTestServer: an in-process #GstTrickleHttpServer on 127.0.0.1,
 *   port 0, with its #GstTrickleChannelStore.
 * - #TrickleTestConn: a small BLOCKING raw-socket HTTP/1.1 client with exact
 *   control of the bytes on the wire. Every receive has a timeout (10 s by
 *   default) so a test never hangs. The server runs its own threads, so a
 *   test may block on a connection freely.
 *
 * Nothing here asserts on the server's answers; the helpers only fail a test
 * (fail_unless) on local errors such as a failed connect.
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <gst/gst.h>
#include <gst/trickle/trickle.h>

G_BEGIN_DECLS

/* default receive / send timeout of a TrickleTestConn, in seconds */
#define TRICKLE_TEST_IO_TIMEOUT 10

/* ------------------------------------------------------------------------ */
/* In-process server */

typedef struct
{
  GstTrickleChannelStore *store;
  GstTrickleHttpServer *server;
  guint port;
} TrickleTestServer;

/* Creates the store only: set its properties with g_object_set (ts->store,
 * ...), then call trickle_test_server_start(). */
TrickleTestServer *trickle_test_server_new (void);

/* Creates the server on ts->store with "address" 127.0.0.1, "port" 0 and the
 * given NULL-terminated list of extra server properties, starts it and
 * fills ts->port. Fails the test if it does not start. */
void trickle_test_server_start (TrickleTestServer * ts,
    const gchar * first_property_name, ...);

/* trickle_test_server_new() + trickle_test_server_start() with defaults */
TrickleTestServer *trickle_test_server_new_started (void);

/* "http://127.0.0.1:PORT" + path (or "https://" when @https) */
gchar *trickle_test_server_url (TrickleTestServer * ts, gboolean https,
    const gchar * path);

/* Stops the server (if started) and unrefs server and store. */
void trickle_test_server_free (TrickleTestServer * ts);

/* ------------------------------------------------------------------------ */
/* Raw HTTP/1.1 client */

typedef enum
{
  TRICKLE_TEST_BODY_DATA,       /* some body bytes were returned */
  TRICKLE_TEST_BODY_END,        /* clean end: 0-chunk, Content-Length reached,
                                 * or EOF of a close-delimited body */
  TRICKLE_TEST_BODY_CLOSED,     /* the peer closed (FIN or RST) before the
                                 * body ended: a truncated body */
  TRICKLE_TEST_BODY_TIMEOUT,    /* nothing arrived within the timeout */
  TRICKLE_TEST_BODY_ERROR,      /* malformed framing or no response head */
} TrickleTestBodyResult;

typedef enum
{
  TRICKLE_TEST_FRAMING_NONE,    /* no body (HEAD, 1xx, 204, 304) */
  TRICKLE_TEST_FRAMING_LENGTH,  /* Content-Length */
  TRICKLE_TEST_FRAMING_CHUNKED, /* Transfer-Encoding: chunked */
  TRICKLE_TEST_FRAMING_EOF,     /* until the connection closes */
} TrickleTestFraming;

typedef struct
{
  guint port;
  GSocket *socket;
  gboolean closed_locally;

  /* received but not yet consumed bytes */
  GByteArray *rbuf;
  gboolean eof;                 /* the peer closed (recv 0 or reset) */
  gboolean reset;               /* ... with an error (RST) */

  gchar *last_method;           /* method of the last request sent */

  /* the last response head read */
  guint status;                 /* 0 = none / failure */
  gchar *reason;
  SoupMessageHeaders *headers;
  guint n_interim;              /* 1xx heads seen before the final head */
  gboolean head_timed_out;      /* the last head read failed by timeout */

  /* body of the last response */
  TrickleTestFraming framing;
  gboolean have_head;           /* a final or interim head was parsed */
  guint64 remaining;            /* LENGTH: left to read; CHUNKED: size of
                                 * the current chunk */
  gboolean in_chunk;            /* CHUNKED: size line read, data not yet */
  gboolean in_trailer;          /* CHUNKED: 0-chunk read, trailer not yet */
  gboolean body_done;
  GByteArray *body;             /* filled by the read_body* helpers */
  TrickleTestBodyResult body_result;    /* of the last read_body* */
} TrickleTestConn;

/* Connects to 127.0.0.1:port (fails the test on error). */
TrickleTestConn *trickle_test_conn_new (guint port);
/* Like trickle_test_conn_new() but with a small fixed SO_RCVBUF (disables
 * autotuning) so a subscriber that does not read stalls the server soon. */
TrickleTestConn *trickle_test_conn_new_small_rcvbuf (guint port,
    gint rcvbuf);
void trickle_test_conn_set_timeout (TrickleTestConn * c, guint seconds);
/* Orderly close (FIN). The struct stays valid until _free(). */
void trickle_test_conn_close (TrickleTestConn * c);
/* Abortive close (SO_LINGER 0: RST), like a crashed peer. */
void trickle_test_conn_abort (TrickleTestConn * c);
void trickle_test_conn_free (TrickleTestConn * c);

/* Sending. All return FALSE if the bytes could not all be sent (peer closed
 * or reset, timeout). */
gboolean trickle_test_conn_send (TrickleTestConn * c, gconstpointer data,
    gssize len);
/* "METHOD path HTTP/1.1", "Host: 127.0.0.1:port", then name/value header
 * pairs (NULL-terminated), then the blank line. No body. */
gboolean trickle_test_conn_send_request (TrickleTestConn * c,
    const gchar * method, const gchar * path, const gchar * first_header,
    ...);
/* A request with a Content-Length body (len -1 = strlen), sent in one go. */
gboolean trickle_test_conn_send_request_with_body (TrickleTestConn * c,
    const gchar * method, const gchar * path, gconstpointer body,
    gssize len, const gchar * first_header, ...);
/* POST head with Transfer-Encoding: chunked (the publisher's preconnect) */
gboolean trickle_test_conn_start_post (TrickleTestConn * c,
    const gchar * path, const gchar * first_header,
    ...);
/* one chunk (len > 0, -1 = strlen) */
gboolean trickle_test_conn_send_chunk (TrickleTestConn * c,
    gconstpointer data, gssize len);
/* the terminating 0-chunk and blank line */
gboolean trickle_test_conn_send_last_chunk (TrickleTestConn * c);

/* Receiving */
/* Reads the next response head, 1xx included. Returns its status (also in
 * c->status) or 0 on EOF / timeout / garbage. */
guint trickle_test_conn_read_one_head (TrickleTestConn * c);
/* Reads the final response head, counting interim 1xx heads in
 * c->n_interim (not reset between calls of read_one_head and this). */
guint trickle_test_conn_read_head (TrickleTestConn * c);
const gchar *trickle_test_conn_get_header (TrickleTestConn * c,
    const gchar * name);

/* Reads one piece of body: for chunked bodies exactly one chunk, for
 * Content-Length / EOF bodies what is available. @data (optional) gets the
 * bytes for TRICKLE_TEST_BODY_DATA. Does not touch c->body. */
TrickleTestBodyResult trickle_test_conn_read_chunk (TrickleTestConn * c,
    GBytes ** data);
/* Appends body pieces to c->body until the body ends; returns (and stores
 * in c->body_result) END, CLOSED, TIMEOUT or ERROR. */
TrickleTestBodyResult trickle_test_conn_read_body (TrickleTestConn * c);
/* Appends body pieces to c->body until c->body->len >= n; returns DATA when
 * reached, else END (ended short), CLOSED, TIMEOUT or ERROR. */
TrickleTestBodyResult trickle_test_conn_read_body_at_least (TrickleTestConn *
    c, gsize n);
/* c->body as a NUL-terminated string (owned by c, valid until the next
 * body read) */
const gchar *trickle_test_conn_body_str (TrickleTestConn * c);

/* TRUE if anything (data or EOF) is readable within timeout_ms (0 = poll) */
gboolean trickle_test_conn_has_data (TrickleTestConn * c, guint timeout_ms);
/* TRUE if the peer closes the connection within timeout_ms (0 = poll) and
 * nothing else arrives first. Unexpected data is kept in the buffer and
 * makes it return FALSE. */
gboolean trickle_test_conn_wait_closed (TrickleTestConn * c,
    guint timeout_ms);
/* Reads and discards everything until the peer closes: TRUE if that
 * happens within timeout_ms. */
gboolean trickle_test_conn_drain_until_closed (TrickleTestConn * c,
    guint timeout_ms);

/* One-shot: new connection, request (Content-Length body when @body is not
 * NULL, len -1 = strlen), final head and whole body read (c->body,
 * c->body_result). The caller frees the returned connection. */
TrickleTestConn *trickle_test_request (guint port, const gchar * method,
    const gchar * path, gconstpointer body, gssize len,
    const gchar * first_header, ...);

/* ------------------------------------------------------------------------ */
/* Misc */

/* Waits until channel @name of @ts exists and its statistic @field
 * (gst_trickle_channel_get_stats(): "segments" completed, "subscribers"
 * = HTTP GETs open on it, waiting ones included...) is at least @min: the
 * event a test needs before its next step (publishing what a subscriber
 * must be waiting for, starting a subscriber once a channel is live).
 * FALSE if that did not happen within @timeout_s (a bound on a hang, not a
 * measure). */
gboolean trickle_test_wait_channel_stat (TrickleTestServer * ts,
    const gchar * name, const gchar * field, guint64 min, guint timeout_s);

/* Makes a self-signed certificate for CN=localhost with openssl in a new
 * temporary directory. Returns NULL (and a message) when openssl is missing
 * or fails. *tmpdir receives the directory to pass to
 * trickle_test_remove_tmpdir(). */
GTlsCertificate *trickle_test_make_certificate (gchar ** tmpdir);
void trickle_test_remove_tmpdir (const gchar * tmpdir);

/* number of open file descriptors of this process (-1 if unknown) */
gint trickle_test_count_fds (void);
/* fails unless back to at most @fds descriptors within a second */
void trickle_test_assert_fds_at_most (gint fds);

/* deterministic pseudo-random bytes */
GBytes *trickle_test_make_data (gsize size, guint32 seed);

/* ------------------------------------------------------------------------ */
/* Pipelines */

/* Runs a gst-launch description to EOS or error (30 s at most, else the
 * test fails) and back to NULL; returns the error message, or NULL at EOS */
GstMessage *trickle_test_run_pipeline (const gchar * desc);
/* TRUE if the element factory exists */
gboolean trickle_test_have (const gchar * factory);
/* gst_parse_launch() and PLAYING; to NULL and unref; an element by name */
GstElement *trickle_test_start_pipeline (const gchar * desc);
void trickle_test_stop_pipeline (GstElement * p);
GstElement *trickle_test_get (GstElement * p, const gchar * name);

/* Every segment of MPEG-TS channel @ch on the server at @port (GET
 * /<ch>/<seq> from 0 to /<ch>/next) as GBytes, each checked to be
 * video/MP2T, whole packets, beginning with a PAT; only the last may be
 * empty (a publisher's abandoned preconnect) and is left out */
GPtrArray *trickle_test_get_ts_segments (guint port, const gchar * ch);

/* ------------------------------------------------------------------------ */
/* A recording server */

/* A SoupServer on 127.0.0.1, port 0 (HTTPS with @cert), in a thread of its
 * own, that answers every request with @status as soon as its head is
 * parsed and records the head: what a client really sent. */
typedef struct _TrickleTestRecorder TrickleTestRecorder;
typedef struct
{
  gchar *method;
  gchar *path;
  SoupMessageHeaders *headers;
  gint64 time;                  /* monotonic, when its head was parsed */
} TrickleTestRequest;

TrickleTestRecorder *trickle_test_recorder_new (guint status,
    GTlsCertificate * cert);
/* the same, requiring a client certificate that @client_ca verifies */
TrickleTestRecorder *trickle_test_recorder_new_full (guint status,
    GTlsCertificate * cert, GTlsDatabase * client_ca);
guint trickle_test_recorder_get_port (TrickleTestRecorder * rec);
/* the next request received, in order; NULL if none came within
 * @timeout_s (a bound on a hang) */
TrickleTestRequest *trickle_test_recorder_pop (TrickleTestRecorder * rec,
    guint timeout_s);
void trickle_test_request_free (TrickleTestRequest * r);
void trickle_test_recorder_free (TrickleTestRecorder * rec);

/* ------------------------------------------------------------------------ */
/* A scripted (hostile) server */

/* Called (in a connection's thread) for every request once its head and
 * body are read; returns the whole raw response to send (then the
 * connection is closed), or NULL to never answer (the connection is held
 * until the server is freed). @headers: the request's. @n: how many
 * requests with this method and path came before this one. */
typedef gchar *(*TrickleTestScriptFunc) (const gchar * method,
    const gchar * path, SoupMessageHeaders * headers, guint n,
    gpointer user_data);

typedef struct _TrickleTestScripted TrickleTestScripted;

/* A raw-socket HTTP/1.1 server on 127.0.0.1, port 0, a thread per
 * connection: what a broken or hostile trickle server sends, byte for
 * byte. */
TrickleTestScripted *trickle_test_scripted_new (TrickleTestScriptFunc func,
    gpointer user_data);
guint trickle_test_scripted_get_port (TrickleTestScripted * s);
/* requests received so far whose "METHOD path" starts with @prefix (NULL:
 * all) */
guint trickle_test_scripted_count (TrickleTestScripted * s,
    const gchar * prefix);
/* closes every connection and waits for the threads */
void trickle_test_scripted_free (TrickleTestScripted * s);

/* a port nobody listens on now (the kernel's pick for port 0) */
guint trickle_test_free_port (void);

G_END_DECLS
