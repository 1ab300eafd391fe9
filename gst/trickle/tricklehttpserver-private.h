/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the gsttrickle library: not installed.
 *
 * The HTTP server's parts and what they share:
 * - tricklehttpserver.c: the GstTrickleHttpServer object, listening,
 *   accepting, the worker threads and their epoll loops;
 * - tricklehttpconnection.c: a connection (its buffered I/O, output queue,
 *   timers and state machine) and the TLS set-up before it;
 * - tricklehttpendpoints.c: the trickle protocol's requests;
 * - tricklehttpframing.c: HTTP/1.1 framing over byte buffers.
 */
#pragma once

#include "trickle-private.h"
#include "tricklehttpframing-private.h"

G_BEGIN_DECLS

/* longest channel name (after percent-decoding) */
#define TRICKLE_HTTP_MAX_NAME_LENGTH 256

typedef struct _TrickleHttpWorker TrickleHttpWorker;
typedef struct _TrickleHttpConn TrickleHttpConn;

/* A worker thread: an epoll loop serving its connections. */
struct _TrickleHttpWorker
{
  GstTrickleHttpServer *server;
  guint index;
  GThread *thread;
  int epfd;                     /* the worker's event loop */
  int evfd;                     /* eventfd: wakes the loop from other threads */
  gint quit;
  GQueue conns;                 /* owned by the worker thread */
  gint64 next_tick;

  GQueue to_move;               /* connections leaving for their channel's
                                 * worker at the end of this iteration */

  GMutex lock;                  /* protects what other threads hand over: */
  GQueue woken;                 /* connections whose segment changed */
  GQueue incoming;              /* new connections (TrickleHttpIncoming) */
  GQueue moved;                 /* connections moved here (TrickleHttpConn) */

  gint64 date_second;
  gchar date[64];
};

/* an accepted connection on its way to a worker */
typedef struct
{
  GSocket *socket;
  GIOStream *stream;            /* the TLS connection, NULL for plain TCP */
  GstTrickleHttpServer *server;
  gchar *client;                /* counted in max-connections-per-client */
  gboolean refused;             /* over that limit: answered 429 */
} TrickleHttpIncoming;

struct _GstTrickleHttpServer
{
  GObject parent;

  GstTrickleChannelStore *store;

  /* settings */
  gchar *address;
  guint port;
  gchar *base_path;             /* always starts and ends with '/' */
  GTlsCertificate *tls_certificate;
  guint threads;
  guint max_header_size;
  guint header_timeout;
  guint io_timeout;
  guint keepalive_interval;

  /* who may do what: changeable while running, under auth_lock */
  GMutex auth_lock;
  gchar *publish_token;
  gchar *subscribe_token;

  /* limits: changeable while running, under limits_lock */
  GMutex limits_lock;
  guint max_conns_per_client;
  guint max_channel_rate;
  GHashTable *clients;          /* address -> connections (GUINT_TO_POINTER) */
  GHashTable *rates;            /* channel name -> TrickleHttpRate */
  gint64 rates_pruned;

  /* running state, changed only by start/stop */
  GMutex lock;
  GSocket *listener;
  guint bound_port;
  TrickleHttpWorker *workers;
  guint n_workers;
  guint next_worker;
  gint64 next_sweep;
  gint64 accept_paused_until;   /* worker 0 only */
  gint stopping;
  GThread *tls_thread;          /* TLS handshakes, async, with timeouts */
  GMainContext *tls_context;
  GQueue tls_handshakes;        /* in flight; tls thread only */
};

/* the server's signals */
enum
{
  TRICKLE_HTTP_SIGNAL_PUBLISHER_CONNECTED,
  TRICKLE_HTTP_SIGNAL_PUBLISHER_DISCONNECTED,
  TRICKLE_HTTP_SIGNAL_SUBSCRIBER_CONNECTED,
  TRICKLE_HTTP_SIGNAL_SUBSCRIBER_DISCONNECTED,
  TRICKLE_HTTP_SIGNAL_AUTHORIZE,
  TRICKLE_HTTP_N_SIGNALS
};

/* what a request does, for the tokens and the authorize signal */
typedef enum
{
  TRICKLE_HTTP_ACTION_SUBSCRIBE,        /* GET, HEAD */
  TRICKLE_HTTP_ACTION_PUBLISH,          /* POST /ch/seq, DELETE /ch/seq */
  TRICKLE_HTTP_ACTION_CREATE,           /* POST /ch */
  TRICKLE_HTTP_ACTION_DELETE,           /* DELETE /ch */
} TrickleHttpAction;

/* 0 when the request may go on, else the status to answer (401, 403, or
 * what an authorize handler said); @next: a GET of /next, which a
 * publisher needs */
G_GNUC_INTERNAL
guint _gst_trickle_http_server_authorize (GstTrickleHttpServer * server,
    const gchar * method, TrickleHttpAction action, gboolean next,
    const gchar * channel, const gchar * channel_token,
    SoupMessageHeaders * headers, GSocket * socket);

/* tricklehttpserver.c */

/* a connection from @client (from the server's max-connections-per-client
 * count) is gone */
G_GNUC_INTERNAL
void _gst_trickle_http_server_client_release (GstTrickleHttpServer * server,
    gchar * client);

/* 0 when a request on @channel may go on now, else the seconds to wait
 * (max-channel-request-rate) */
G_GNUC_INTERNAL
guint _gst_trickle_http_server_channel_rate (GstTrickleHttpServer * server,
    const gchar * channel);

/* the worker running on this thread, if any */
G_GNUC_INTERNAL
extern __thread TrickleHttpWorker *_gst_trickle_http_current_worker;

G_GNUC_INTERNAL
void _gst_trickle_http_worker_signal (TrickleHttpWorker * w);
G_GNUC_INTERNAL
const gchar *_gst_trickle_http_worker_date (TrickleHttpWorker * w);
G_GNUC_INTERNAL
void _gst_trickle_http_worker_hand_over (TrickleHttpWorker * w,
    TrickleHttpIncoming * in);
G_GNUC_INTERNAL
TrickleHttpWorker *_gst_trickle_http_server_next_worker (GstTrickleHttpServer
    * server);
G_GNUC_INTERNAL
TrickleHttpWorker *_gst_trickle_http_server_home_worker (GstTrickleHttpServer
    * server, TrickleHttpWorker * from, const guint8 * head, gsize len);
G_GNUC_INTERNAL
void _gst_trickle_http_server_emit (GstTrickleHttpServer * server,
    guint signal, GstTrickleChannel * channel, gint64 seq, gboolean complete);

G_END_DECLS
