/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the gsttrickle library: not installed.
 *
 * A connection of the HTTP server (tricklehttpconnection.c) and the
 * trickle endpoints that answer its requests (tricklehttpendpoints.c).
 * A connection belongs to one worker at a time; only that worker's thread
 * touches it, except _gst_trickle_http_conn_wake() (any thread).
 */
#pragma once

#include "tricklehttpserver-private.h"

G_BEGIN_DECLS

#define TRICKLE_HTTP_MAX_PAGES_PER_WRITE 64
/* the output queue: a chunk's pages, its framing and a response head */
#define TRICKLE_HTTP_MAX_OUT (TRICKLE_HTTP_MAX_PAGES_PER_WRITE + 4)

typedef enum
{
  CONN_HANDSHAKE,
  CONN_HEAD,                    /* reading a request head */
  CONN_BODY,                    /* reading a segment POST body */
  CONN_STREAM,                  /* sending a segment GET response */
  CONN_RESPOND,                 /* sending a prepared response */
  CONN_CLOSED,
} TrickleHttpConnState;

typedef struct
{
  GBytes *owner;                /* NULL for static or connection-owned data */
  const guint8 *data;
  gsize len;
} TrickleHttpOutEntry;

struct _TrickleHttpConn
{
  gint refcount;
  TrickleHttpWorker *worker;
  TrickleHttpConnState state;
  GList link;

  GSocket *socket;
  GIOStream *stream;            /* TLS only (NULL for plain TCP) */
  gchar *client;                /* counted per client address, or NULL */
  gboolean refused;             /* over that limit: its request gets 429 */
  GPollableInputStream *istream;
  GPollableOutputStream *ostream;
  int fd;
  guint32 events;               /* what epoll watches now */
  gboolean want_in, want_out;
  gboolean readable;            /* no EAGAIN since epoll last said EPOLLIN */
  gboolean tls;                 /* stream is a GTlsConnection */
  GList wake_link;              /* in worker->woken, under worker->lock */
  gboolean queued;
  gboolean respond_later;       /* a POST's answer waits behind the wakes */
  TrickleHttpWorker *move_to;   /* leaving for this worker (in to_move) */

  /* input: unconsumed bytes are rbuf[rpos, rlen) */
  guint8 *rbuf;
  gsize rpos, rlen, rcap;
  gboolean peer_closed;

  /* the current request */
  guint requests;
  gboolean keep_alive;
  gboolean http10;              /* no chunked encoding, no interim responses */
  gboolean close_after;
  TrickleHttpBodyDecoder body;

  /* output */
  TrickleHttpOutEntry *out;     /* TRICKLE_HTTP_MAX_OUT entries, only while
                                 * responding: a waiting connection has none */
  guint out_head, out_n;
  gchar chunk_head[TRICKLE_HTTP_CHUNK_HEAD_SIZE];
  gint64 write_blocked_since;

  /* publishing (CONN_BODY) or subscribing (CONN_STREAM) */
  GstTrickleChannel *channel;
  GstTrickleSegment *segment;
  GstTrickleWaiter waiter;
  gboolean waiting;
  gboolean subscribed;          /* counted in the channel's subscribers */
  gboolean publishing;          /* a POST writing conn->segment */
  guint writer;
  gint64 latest;
  gboolean headers_sent;
  gboolean is_head;
  gboolean drained_read;        /* a GET of a deleted channel's segment */
  guint next_page;
  gboolean got_body_byte;
  gint64 last_rx;
  gint64 next_keepalive;

  gint64 head_deadline;
  gint64 idle_deadline;
};

/* tricklehttpconnection.c: life and events */
G_GNUC_INTERNAL
void _gst_trickle_http_conn_new (TrickleHttpWorker * w,
    TrickleHttpIncoming * in);
G_GNUC_INTERNAL
TrickleHttpConn *_gst_trickle_http_conn_ref (TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_unref (TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_step (TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_handle_events (TrickleHttpConn * conn,
    guint32 events);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_check_timers (TrickleHttpConn * conn, gint64 now);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_close (TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_discard (TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_wake (gpointer conn);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_hand_over (TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_arrive (TrickleHttpWorker * w,
    TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_incoming_free (TrickleHttpIncoming * in);

/* tricklehttpconnection.c: I/O for the endpoints */
G_GNUC_INTERNAL
gssize _gst_trickle_http_conn_read (TrickleHttpConn * conn, gsize want);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_want_input (TrickleHttpConn * conn,
    gboolean want);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_push (TrickleHttpConn * conn, GBytes * owner,
    const guint8 * data, gsize len);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_push_bytes (TrickleHttpConn * conn,
    GBytes * bytes);
G_GNUC_INTERNAL
gboolean _gst_trickle_http_conn_flush (TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_respond (TrickleHttpConn * conn, guint status,
    const gchar * extra, const gchar * content_type, const gchar * body,
    gsize body_len);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_respond_error (TrickleHttpConn * conn,
    guint status, const gchar * message);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_respond_error_close (TrickleHttpConn * conn,
    guint status, const gchar * message);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_emit (TrickleHttpConn * conn, guint signal,
    gint64 seq, gboolean complete);
G_GNUC_INTERNAL
void _gst_trickle_http_conn_release_segment (TrickleHttpConn * conn);

/* tricklehttpconnection.c: TLS set-up, on a thread of its own */
G_GNUC_INTERNAL
void _gst_trickle_http_tls_start (GstTrickleHttpServer * server);
G_GNUC_INTERNAL
void _gst_trickle_http_tls_accept (GstTrickleHttpServer * server,
    TrickleHttpIncoming * in);
G_GNUC_INTERNAL
void _gst_trickle_http_tls_stop (GstTrickleHttpServer * server);

/* tricklehttpendpoints.c */
G_GNUC_INTERNAL
void _gst_trickle_http_route (TrickleHttpConn * conn,
    TrickleHttpRequest * req);
G_GNUC_INTERNAL
void _gst_trickle_http_endpoint_post_body (TrickleHttpConn * conn);
G_GNUC_INTERNAL
void _gst_trickle_http_endpoint_get_stream (TrickleHttpConn * conn);

G_END_DECLS
