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
/**
 * SECTION:tricklehttpserver
 * @title: GstTrickleHttpServer
 * @short_description: the HTTP/1.1 front of a trickle channel store
 *
 * Serves the trickle protocol (see docs/protocol.md) for a
 * #GstTrickleChannelStore.
 *
 * ## Design: who does what, what is copied, what is shared
 *
 * - Threads: `threads` worker threads (default: one per CPU), each running
 *   its own epoll loop (a GMainContext polls every source on every
 *   iteration, which at thousands of connections costs more than the
 *   requests themselves). Worker 0 also accepts connections and runs the
 *   idle-channel sweep. A connection belongs to one worker at a time;
 *   only that thread touches it. New connections are dealt to the workers
 *   in turn; a plain TCP segment request (POST or GET /<channel>/<seq>)
 *   then moves its connection to its channel's worker, chosen by the
 *   channel's name, before the head is parsed (see
 *   _gst_trickle_http_server_home_worker()), so that a channel's
 *   publisher and first subscriber share a thread and channels spread
 *   over the workers. The channel store is thread safe;
 *   a writer on any thread wakes a reader by queueing its connection on
 *   the reader's worker and signalling that worker's eventfd
 *   (#GstTrickleWaiter). Timeouts are checked on a 10-100 ms tick. TLS
 *   handshakes run off the workers (one thread drives them, GTask's pool
 *   runs them), each begun only once the client's first bytes arrive, so
 *   they never stall a worker and an idle TLS connection costs neither a
 *   TLS set-up nor a thread.
 * - Parsing: libsoup parses request heads (soup_headers_parse_request());
 *   the body framing (Content-Length or chunked) is decoded by the server
 *   itself (tricklehttpframing.c), so a publisher that disconnects before
 *   the terminating chunk is always detected, over TCP and TLS alike
 *   (libsoup 3.2.3's server takes a disconnect between chunks for a clean
 *   end of body).
 * - Files: this one holds the object, listening, accepting and the
 *   workers; tricklehttpconnection.c a connection (I/O, output queue,
 *   timers, state machine) and the TLS set-up; tricklehttpendpoints.c the
 *   protocol's requests; tricklehttpframing.c the HTTP/1.1 framing over
 *   byte buffers (heads, chunked bodies, responses), which
 *   tests/check/libs/httpframing.c drives without sockets.
 * - Copies: each byte a publisher sends is copied once, from the read
 *   buffer into an immutable page (#GBytes) of the segment. Subscribers
 *   never copy: each one writes the shared pages with vectored writes
 *   (chunk framing + up to 64 pages per writev), holding references.
 * - Reads: plain TCP sockets are read with recv() itself; a read shorter
 *   than the room offered drained the socket, so the next read waits for
 *   epoll (level-triggered) rather than paying for a recv() that says
 *   EAGAIN. TLS goes through the GTlsConnection (bytes can wait inside it).
 * - Order at a segment's end: the subscribers this worker serves are sent
 *   the end of the segment before the publisher's POST is answered (the
 *   answer waits behind them in the worker's queue): a subscriber never
 *   learns of the end later than the publisher.
 * - Flow control: the publisher is never slowed by subscribers. A channel
 *   holds at most `window` segments of at most `max-segment-size` bytes. A
 *   subscriber holds references to the one segment it is sending; a
 *   subscriber slower than the publisher falls behind, its segment leaves
 *   the window, and its next GET answers 470 so it rejoins at the live edge.
 *   A subscriber that accepts no bytes for `io-timeout` seconds is
 *   disconnected.
 * - Idle limits libsoup lacks: a request head must arrive within
 *   `header-timeout`; an idle keep-alive connection is closed after 120 s;
 *   a started POST body with no bytes for `io-timeout` is aborted; peers
 *   that disconnect while waiting (preconnected GETs and POSTs) are noticed
 *   at once because every waiting connection is polled for input; TCP
 *   keep-alive is enabled for peers that vanish silently.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <libsoup/soup.h>

#include "tricklehttpconnection-private.h"

#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_PORT 0
#define DEFAULT_BASE_PATH "/"
#define DEFAULT_THREADS 0
#define DEFAULT_MAX_HEADER_SIZE 16384
#define DEFAULT_HEADER_TIMEOUT 30
#define DEFAULT_IO_TIMEOUT 60
#define DEFAULT_KEEPALIVE_INTERVAL 10000
#define DEFAULT_MAX_CONNS_PER_CLIENT 0
#define DEFAULT_MAX_CHANNEL_RATE 0
/* past this many channels with a rate, the full ones are forgotten (at
 * most once a second) */
#define RATES_PRUNE_SIZE 1024
/* a channel's first subscriber joins its publisher's worker; beyond this
 * many open GETs (a subscriber has two: its segment and its preconnect)
 * subscribers stay where they were accepted, spreading a fan-out */
#define AFFINITY_MAX_SUBSCRIBERS 2

enum
{
  PROP_0,
  PROP_STORE,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_BOUND_PORT,
  PROP_BASE_PATH,
  PROP_TLS_CERTIFICATE,
  PROP_THREADS,
  PROP_MAX_HEADER_SIZE,
  PROP_HEADER_TIMEOUT,
  PROP_IO_TIMEOUT,
  PROP_KEEPALIVE_INTERVAL,
  PROP_PUBLISH_TOKEN,
  PROP_SUBSCRIBE_TOKEN,
  PROP_MAX_CONNS_PER_CLIENT,
  PROP_MAX_CHANNEL_RATE,
};

static guint signals[TRICKLE_HTTP_N_SIGNALS];

G_DEFINE_TYPE (GstTrickleHttpServer, gst_trickle_http_server, G_TYPE_OBJECT);

/* ------------------------------------------------------------------------ */
/* workers */

__thread TrickleHttpWorker *_gst_trickle_http_current_worker;

/* wakes the worker's loop up (from any thread) */
void
_gst_trickle_http_worker_signal (TrickleHttpWorker * w)
{
  guint64 one = 1;

  if (write (w->evfd, &one, sizeof (one)) < 0) {
    /* the counter is saturated: the worker is awake anyway */
  }
}

/* the Date header's value, made once a second per worker */
const gchar *
_gst_trickle_http_worker_date (TrickleHttpWorker * w)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (now != w->date_second) {
    GDateTime *dt = g_date_time_new_from_unix_utc (now);
    gchar *s = soup_date_time_to_string (dt, SOUP_DATE_HTTP);
    g_strlcpy (w->date, s, sizeof (w->date));
    g_free (s);
    g_date_time_unref (dt);
    w->date_second = now;
  }
  return w->date;
}

/* Channel affinity. A channel's connections gather on one worker, chosen
 * by its name: its publisher's pages then reach its subscribers without
 * crossing threads (no eventfd wake-up per page or segment), and a
 * subscriber is sent the end of a segment before the publisher is
 * answered. Channels spread over the workers by name; a large fan-out
 * still spreads its subscribers (AFFINITY_MAX_SUBSCRIBERS). Only plain TCP
 * segment requests (POST or GET /<channel>/<seq>) move, before their head
 * is parsed (the connection asks with the @head it read, on worker
 * @from). Returns the worker to move to, or NULL to stay. */
TrickleHttpWorker *
_gst_trickle_http_server_home_worker (GstTrickleHttpServer * server,
    TrickleHttpWorker * from, const guint8 * head, gsize len)
{
  const gchar *p = (const gchar *) head, *end = p + len, *name, *stop;
  gsize base_len = strlen (server->base_path);
  gchar name_buf[TRICKLE_HTTP_MAX_NAME_LENGTH + 1];
  gboolean is_get;
  TrickleHttpWorker *home;

  if (server->n_workers < 2)
    return NULL;
  if (len > 4 && memcmp (p, "GET ", 4) == 0) {
    is_get = TRUE;
    p += 4;
  } else if (len > 5 && memcmp (p, "POST ", 5) == 0) {
    is_get = FALSE;
    p += 5;
  } else {
    return NULL;
  }
  if ((gsize) (end - p) <= base_len || memcmp (p, server->base_path,
          base_len) != 0)
    return NULL;
  name = p + base_len;
  for (stop = name; stop < end && *stop != '/' && *stop != ' '
      && *stop != '?' && *stop != '\r' && *stop != '\n'; stop++);
  if (stop == name || stop >= end || *stop != '/'
      || stop - name > TRICKLE_HTTP_MAX_NAME_LENGTH)
    return NULL;
  memcpy (name_buf, name, stop - name);
  name_buf[stop - name] = '\0';
  home = &server->workers[g_str_hash (name_buf) % server->n_workers];
  if (home == from)
    return NULL;
  if (is_get) {
    GstTrickleChannel *ch =
        gst_trickle_channel_store_lookup (server->store, name_buf);
    gint open = 0;

    if (ch) {
      open = _gst_trickle_channel_get_n_subscribers (ch);
      gst_trickle_channel_unref (ch);
    }
    if (open >= AFFINITY_MAX_SUBSCRIBERS)
      return NULL;
  }
  return home;
}

/* a new connection for the worker (from the accepting or the TLS thread) */
void
_gst_trickle_http_worker_hand_over (TrickleHttpWorker * w,
    TrickleHttpIncoming * in)
{
  gboolean signal;

  g_mutex_lock (&w->lock);
  signal = w->incoming.length == 0 && w->woken.length == 0;
  g_queue_push_tail (&w->incoming, in);
  g_mutex_unlock (&w->lock);
  if (signal)
    _gst_trickle_http_worker_signal (w);
}

/* new connections are dealt to the workers in turn */
TrickleHttpWorker *
_gst_trickle_http_server_next_worker (GstTrickleHttpServer * server)
{
  guint i = g_atomic_int_add (&server->next_worker, 1);

  return &server->workers[i % server->n_workers];
}

static gboolean client_admit (GstTrickleHttpServer * server,
    TrickleHttpIncoming * in);

static void
accept_all (GstTrickleHttpServer * server)
{
  GSocket *sock;
  TrickleHttpIncoming *in;

  GError *err = NULL;

  while ((sock = g_socket_accept (server->listener, NULL, &err))) {
    g_socket_set_blocking (sock, FALSE);
    g_socket_set_keepalive (sock, TRUE);
    g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    in = g_new0 (TrickleHttpIncoming, 1);
    in->socket = sock;
    in->server = server;
    if (!client_admit (server, in)) {
      _gst_trickle_http_incoming_free (in);
      continue;
    }
    if (server->tls_certificate)
      _gst_trickle_http_tls_accept (server, in);
    else
      _gst_trickle_http_worker_hand_over (_gst_trickle_http_server_next_worker
          (server), in);
  }
  if (err && !g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
    /* out of file descriptors (or similar): the listener stays readable,
     * so stop watching it for a while instead of spinning */
    epoll_ctl (server->workers[0].epfd, EPOLL_CTL_DEL,
        g_socket_get_fd (server->listener), NULL);
    server->accept_paused_until = g_get_monotonic_time () + 200000;
  }
  g_clear_error (&err);
}

static void
accept_resume (GstTrickleHttpServer * server, gint64 now)
{
  struct epoll_event ev = { 0, };

  if (server->accept_paused_until && now >= server->accept_paused_until) {
    server->accept_paused_until = 0;
    ev.events = EPOLLIN;
    ev.data.ptr = server;
    epoll_ctl (server->workers[0].epfd, EPOLL_CTL_ADD,
        g_socket_get_fd (server->listener), &ev);
  }
}

static gint64
worker_tick_us (GstTrickleHttpServer * server)
{
  /* timers are checked on a tick; finer when keep-alives are frequent */
  return CLAMP ((gint64) server->keepalive_interval * 1000 / 4, 10000, 100000);
}

static void
worker_run (TrickleHttpWorker * w)
{
  GstTrickleHttpServer *server = w->server;
  struct epoll_event events[128];
  gint64 now, tick = worker_tick_us (server);
  int i, n, timeout;

  w->next_tick = g_get_monotonic_time () + tick;
  while (!g_atomic_int_get (&w->quit)) {
    gboolean pending;

    g_mutex_lock (&w->lock);
    pending = w->woken.length > 0 || w->incoming.length > 0
        || w->moved.length > 0;
    g_mutex_unlock (&w->lock);
    now = g_get_monotonic_time ();
    timeout = pending || now >= w->next_tick ? 0 :
        (int) ((w->next_tick - now + 999) / 1000);
    n = epoll_wait (w->epfd, events, G_N_ELEMENTS (events), timeout);

    for (i = 0; i < n; i++) {
      gpointer tag = events[i].data.ptr;

      if (tag == w) {
        guint64 count;
        if (read (w->evfd, &count, sizeof (count)) < 0) {
          /* nothing to read: another wake-up raced this one */
        }
      } else if (tag == server) {
        accept_all (server);
      } else {
        _gst_trickle_http_conn_handle_events (tag, events[i].events);
      }
    }

    /* timeouts, keep-alives, the idle-channel sweep */
    now = g_get_monotonic_time ();
    if (now >= w->next_tick) {
      GList *l, *next;

      w->next_tick = now + tick;
      for (l = w->conns.head; l; l = next) {
        TrickleHttpConn *conn = _gst_trickle_http_conn_ref (l->data);
        _gst_trickle_http_conn_check_timers (conn, now);
        /* the list changes when a connection closes: start over (the
         * checks are idempotent) */
        next = conn->state == CONN_CLOSED ? w->conns.head : l->next;
        _gst_trickle_http_conn_unref (conn);
      }
      if (w->index == 0) {
        accept_resume (server, now);
        if (now >= server->next_sweep) {
          guint interval =
              _gst_trickle_channel_store_get_idle_timeout (server->store) / 5;
          server->next_sweep = now +
              (gint64) CLAMP (interval, 1, 60) * G_USEC_PER_SEC;
          gst_trickle_channel_store_sweep (server->store, now);
        }
      }
    }

    /* connections handed over, and connections whose segment changed
     * (also by the steps above): all done before sleeping again */
    for (;;) {
      TrickleHttpIncoming *in;
      TrickleHttpConn *conn = NULL, *arrived = NULL;

      g_mutex_lock (&w->lock);
      in = g_queue_pop_head (&w->incoming);
      if (!in)
        arrived = g_queue_pop_head (&w->moved);
      if (!in && !arrived) {
        GList *l = g_queue_pop_head_link (&w->woken);
        if (l) {
          conn = _gst_trickle_http_conn_ref (l->data);
          conn->queued = FALSE;
        }
      }
      g_mutex_unlock (&w->lock);
      if (in) {
        _gst_trickle_http_conn_new (w, in);
        g_free (in);
      } else if (arrived) {
        _gst_trickle_http_conn_arrive (w, arrived);
      } else if (conn) {
        _gst_trickle_http_conn_step (conn);
        _gst_trickle_http_conn_unref (conn);
      } else {
        break;
      }
    }

    /* connections leaving for their channel's worker: nothing on this
     * thread holds them any more */
    for (;;) {
      TrickleHttpConn *conn = g_queue_pop_head (&w->to_move);

      if (!conn)
        break;
      if (conn->state == CONN_CLOSED || !conn->move_to) {
        _gst_trickle_http_conn_unref (conn);
        continue;
      }
      _gst_trickle_http_conn_unref (conn);      /* to_move's; the conns list's one travels */
      _gst_trickle_http_conn_hand_over (conn);
    }
  }
}

static gpointer
worker_thread (gpointer data)
{
  TrickleHttpWorker *w = data;
  TrickleHttpIncoming *in;
  TrickleHttpConn *conn;

  _gst_trickle_http_current_worker = w;
  worker_run (w);
  /* shutting down: close every connection in the thread that owns it */
  while (w->conns.head)
    _gst_trickle_http_conn_close (w->conns.head->data);
  while ((conn = g_queue_pop_head (&w->to_move)))
    _gst_trickle_http_conn_unref (conn);
  g_mutex_lock (&w->lock);
  while ((in = g_queue_pop_head (&w->incoming)))
    _gst_trickle_http_incoming_free (in);
  g_mutex_unlock (&w->lock);
  return NULL;
}

static gchar *
normalize_base_path (const gchar * path)
{
  GString *s = g_string_new (path && *path ? path : "/");

  if (s->str[0] != '/')
    g_string_prepend_c (s, '/');
  if (s->str[s->len - 1] != '/')
    g_string_append_c (s, '/');
  return g_string_free (s, FALSE);
}

static gchar *
empty_is_null (gchar * s)
{
  if (s && !*s)
    g_clear_pointer (&s, g_free);
  return s;
}

/* compares in a time that does not depend on where they differ */
static gboolean
same_secret (const gchar * a, const gchar * b)
{
  gsize la = strlen (a), lb = strlen (b), i;
  guint8 diff = la != lb;

  for (i = 0; i < la; i++)
    diff |= (guint8) a[i] ^ (guint8) b[i % MAX (lb, 1)];
  return diff == 0;
}

static const gchar *
action_name (TrickleHttpAction action)
{
  switch (action) {
    case TRICKLE_HTTP_ACTION_SUBSCRIBE:
      return "subscribe";
    case TRICKLE_HTTP_ACTION_PUBLISH:
      return "publish";
    case TRICKLE_HTTP_ACTION_CREATE:
      return "create";
    default:
      return "delete";
  }
}

/* Who may do what. With `publish-token`, writing (a segment's POST or
 * DELETE, creating and deleting channels) needs `Authorization: Bearer`
 * with it; with `subscribe-token`, reading needs that one or the
 * publish token. No token or an unknown one is 401, the other scope's
 * token 403 (/next, which publishers ask, is open while writing is). A
 * channel with a publish token of its own takes that one
 * for writing instead (401 without a token, 403 with another). Then the
 * authorize signal, for any other policy. */
guint
_gst_trickle_http_server_authorize (GstTrickleHttpServer * server,
    const gchar * method, TrickleHttpAction action, gboolean next,
    const gchar * channel, const gchar * channel_token,
    SoupMessageHeaders * headers, GSocket * socket)
{
  const gchar *auth = soup_message_headers_get_one (headers, "Authorization");
  const gchar *given = NULL;
  guint status = 0;

  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0) {
    given = auth + 7;
    while (*given == ' ')
      given++;
  }
  g_mutex_lock (&server->auth_lock);
  if (action == TRICKLE_HTTP_ACTION_SUBSCRIBE) {
    /* /next is what a publisher asks first: open while writing is */
    if (server->subscribe_token && !(next && !server->publish_token)
        && !(given && (same_secret (given, server->subscribe_token)
                || (server->publish_token
                    && same_secret (given, server->publish_token)))))
      status = SOUP_STATUS_UNAUTHORIZED;
  } else if (channel_token) {
    /* a channel with a token of its own (a control channel) */
    if (!given || !same_secret (given, channel_token))
      status = given ? SOUP_STATUS_FORBIDDEN : SOUP_STATUS_UNAUTHORIZED;
  } else if (server->publish_token) {
    if (given && same_secret (given, server->publish_token))
      status = 0;
    else if (given && server->subscribe_token
        && same_secret (given, server->subscribe_token))
      status = SOUP_STATUS_FORBIDDEN;
    else
      status = SOUP_STATUS_UNAUTHORIZED;
  }
  g_mutex_unlock (&server->auth_lock);
  if (status)
    return status;

  if (g_signal_has_handler_pending (server,
          signals[TRICKLE_HTTP_SIGNAL_AUTHORIZE], 0, FALSE)) {
    GSocketAddress *addr = socket ? g_socket_get_remote_address (socket,
        NULL) : NULL;
    gchar *client = NULL;

    if (G_IS_INET_SOCKET_ADDRESS (addr))
      client = g_inet_address_to_string (g_inet_socket_address_get_address
          (G_INET_SOCKET_ADDRESS (addr)));
    g_signal_emit (server, signals[TRICKLE_HTTP_SIGNAL_AUTHORIZE], 0, method,
        action_name (action), channel, headers, client ? client : "", &status);
    g_free (client);
    g_clear_object (&addr);
    if (status == SOUP_STATUS_OK)
      status = 0;
    else if (status != 0 && (status < 400 || status > 599))
      status = SOUP_STATUS_FORBIDDEN;
  }
  return status;
}

/* stops at the first handler that refuses */
static gboolean
authorize_accumulator (GSignalInvocationHint * hint, GValue * acc,
    const GValue * ret, gpointer data)
{
  guint status = g_value_get_uint (ret);

  g_value_set_uint (acc, status);
  return status == 0 || status == SOUP_STATUS_OK;
}

/* connection events for applications (from a worker thread; cheap when
 * nobody listens) */
void
_gst_trickle_http_server_emit (GstTrickleHttpServer * server, guint signal,
    GstTrickleChannel * channel, gint64 seq, gboolean complete)
{
  if (!g_signal_has_handler_pending (server, signals[signal], 0, FALSE))
    return;
  if (signal == TRICKLE_HTTP_SIGNAL_PUBLISHER_DISCONNECTED)
    g_signal_emit (server, signals[signal], 0,
        gst_trickle_channel_get_name (channel), seq, complete);
  else
    g_signal_emit (server, signals[signal], 0,
        gst_trickle_channel_get_name (channel), seq);
}

/* ------------------------------------------------------------------------ */
/* limits */

/* the peer's address, IPv4-mapped IPv6 as IPv4 */
static gboolean
client_address (GSocket * sock, gchar * buf, gsize size)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof (ss);

  if (getpeername (g_socket_get_fd (sock), (struct sockaddr *) &ss, &len) < 0)
    return FALSE;
  if (ss.ss_family == AF_INET)
    return inet_ntop (AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, buf,
        size) != NULL;
  if (ss.ss_family == AF_INET6) {
    struct in6_addr *a = &((struct sockaddr_in6 *) &ss)->sin6_addr;

    if (IN6_IS_ADDR_V4MAPPED (a))
      return inet_ntop (AF_INET, &a->s6_addr[12], buf, size) != NULL;
    return inet_ntop (AF_INET6, a, buf, size) != NULL;
  }
  return FALSE;
}

/* max-connections-per-client, at the accept: FALSE to close the connection
 * at once. A client at its limit has as many more connections answered 429
 * (with Retry-After) once their request head is in; past twice its limit a
 * connection is closed unanswered, so that refusing costs little. */
static gboolean
client_admit (GstTrickleHttpServer * server, TrickleHttpIncoming * in)
{
  gchar addr[INET6_ADDRSTRLEN];
  guint limit, n;
  gboolean admit = TRUE;

  limit = g_atomic_int_get (&server->max_conns_per_client);
  if (limit == 0 || !client_address (in->socket, addr, sizeof (addr)))
    return TRUE;
  g_mutex_lock (&server->limits_lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (server->clients, addr));
  if (n >= 2 * (guint64) limit) {
    admit = FALSE;
  } else {
    in->refused = n >= limit;
    in->client = g_strdup (addr);
    g_hash_table_insert (server->clients, g_strdup (addr),
        GUINT_TO_POINTER (n + 1));
  }
  g_mutex_unlock (&server->limits_lock);
  if (!admit || in->refused)
    g_debug ("trickle server: %s has %u connections (limit %u): %s", addr, n,
        limit, admit ? "answered 429" : "closed");
  return admit;
}

void
_gst_trickle_http_server_client_release (GstTrickleHttpServer * server,
    gchar * client)
{
  guint n;

  g_mutex_lock (&server->limits_lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (server->clients, client));
  if (n > 1)
    g_hash_table_insert (server->clients, g_strdup (client),
        GUINT_TO_POINTER (n - 1));
  else
    g_hash_table_remove (server->clients, client);
  g_mutex_unlock (&server->limits_lock);
  g_free (client);
}

/* a token bucket per channel name: max-channel-request-rate tokens a
 * second, as many at most (a second's burst) */
typedef struct
{
  gdouble tokens;
  gint64 last;
} TrickleHttpRate;

static void
rate_refill (TrickleHttpRate * r, guint rate, gint64 now)
{
  r->tokens = MIN ((gdouble) rate, r->tokens +
      (gdouble) (now - r->last) * rate / G_USEC_PER_SEC);
  r->last = now;
}

static gboolean
rate_is_full (gpointer key, gpointer value, gpointer user_data)
{
  TrickleHttpRate *r = value;
  const gint64 *now = user_data;
  guint rate = (guint) now[1];

  rate_refill (r, rate, now[0]);
  return r->tokens >= rate;
}

guint
_gst_trickle_http_server_channel_rate (GstTrickleHttpServer * server,
    const gchar * channel)
{
  guint rate = g_atomic_int_get (&server->max_channel_rate);
  gint64 now;
  TrickleHttpRate *r;
  guint wait = 0;

  if (rate == 0)
    return 0;
  now = g_get_monotonic_time ();
  g_mutex_lock (&server->limits_lock);
  if (g_hash_table_size (server->rates) >= RATES_PRUNE_SIZE &&
      now - server->rates_pruned >= G_USEC_PER_SEC) {
    gint64 args[2] = { now, rate };

    g_hash_table_foreach_remove (server->rates, rate_is_full, args);
    server->rates_pruned = now;
  }
  r = g_hash_table_lookup (server->rates, channel);
  if (!r) {
    r = g_new (TrickleHttpRate, 1);
    r->tokens = rate;
    r->last = now;
    g_hash_table_insert (server->rates, g_strdup (channel), r);
  }
  rate_refill (r, rate, now);
  if (r->tokens >= 1.0)
    r->tokens -= 1.0;
  else
    wait = MAX (1, (guint) ((1.0 - r->tokens) / rate + 0.999));
  g_mutex_unlock (&server->limits_lock);
  return wait;
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_trickle_http_server_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleHttpServer *server = GST_TRICKLE_HTTP_SERVER (object);
  gboolean running;

  g_mutex_lock (&server->lock);
  running = server->listener != NULL;
  g_mutex_unlock (&server->lock);
  /* the workers read these without a lock: they are fixed while running */
  if (running && (prop_id == PROP_ADDRESS || prop_id == PROP_PORT
          || prop_id == PROP_BASE_PATH || prop_id == PROP_TLS_CERTIFICATE
          || prop_id == PROP_THREADS || prop_id == PROP_MAX_HEADER_SIZE)) {
    g_warning ("GstTrickleHttpServer: \"%s\" cannot change while the server "
        "runs", pspec->name);
    return;
  }

  switch (prop_id) {
    case PROP_STORE:
      server->store = g_value_dup_object (value);
      break;
    case PROP_ADDRESS:
      g_free (server->address);
      server->address = g_value_dup_string (value);
      break;
    case PROP_PORT:
      server->port = g_value_get_uint (value);
      break;
    case PROP_BASE_PATH:
      g_free (server->base_path);
      server->base_path = normalize_base_path (g_value_get_string (value));
      break;
    case PROP_TLS_CERTIFICATE:
      g_clear_object (&server->tls_certificate);
      server->tls_certificate = g_value_dup_object (value);
      break;
    case PROP_THREADS:
      server->threads = g_value_get_uint (value);
      break;
    case PROP_MAX_HEADER_SIZE:
      server->max_header_size = g_value_get_uint (value);
      break;
    case PROP_HEADER_TIMEOUT:
      server->header_timeout = g_value_get_uint (value);
      break;
    case PROP_IO_TIMEOUT:
      server->io_timeout = g_value_get_uint (value);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      server->keepalive_interval = g_value_get_uint (value);
      break;
    case PROP_PUBLISH_TOKEN:
      g_mutex_lock (&server->auth_lock);
      g_free (server->publish_token);
      server->publish_token = empty_is_null (g_value_dup_string (value));
      g_mutex_unlock (&server->auth_lock);
      break;
    case PROP_SUBSCRIBE_TOKEN:
      g_mutex_lock (&server->auth_lock);
      g_free (server->subscribe_token);
      server->subscribe_token = empty_is_null (g_value_dup_string (value));
      g_mutex_unlock (&server->auth_lock);
      break;
    case PROP_MAX_CONNS_PER_CLIENT:
      g_atomic_int_set (&server->max_conns_per_client,
          g_value_get_uint (value));
      break;
    case PROP_MAX_CHANNEL_RATE:
      g_atomic_int_set (&server->max_channel_rate, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_http_server_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTrickleHttpServer *server = GST_TRICKLE_HTTP_SERVER (object);

  switch (prop_id) {
    case PROP_STORE:
      g_value_set_object (value, server->store);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, server->address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, server->port);
      break;
    case PROP_BOUND_PORT:
      g_value_set_uint (value, gst_trickle_http_server_get_bound_port (server));
      break;
    case PROP_BASE_PATH:
      g_value_set_string (value, server->base_path);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, server->tls_certificate);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, server->threads);
      break;
    case PROP_MAX_HEADER_SIZE:
      g_value_set_uint (value, server->max_header_size);
      break;
    case PROP_HEADER_TIMEOUT:
      g_value_set_uint (value, server->header_timeout);
      break;
    case PROP_IO_TIMEOUT:
      g_value_set_uint (value, server->io_timeout);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, server->keepalive_interval);
      break;
    case PROP_MAX_CONNS_PER_CLIENT:
      g_value_set_uint (value,
          g_atomic_int_get (&server->max_conns_per_client));
      break;
    case PROP_MAX_CHANNEL_RATE:
      g_value_set_uint (value, g_atomic_int_get (&server->max_channel_rate));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_http_server_finalize (GObject * object)
{
  GstTrickleHttpServer *server = GST_TRICKLE_HTTP_SERVER (object);

  gst_trickle_http_server_stop (server);
  g_clear_object (&server->store);
  g_clear_object (&server->tls_certificate);
  g_free (server->address);
  g_free (server->base_path);
  g_free (server->publish_token);
  g_free (server->subscribe_token);
  g_mutex_clear (&server->lock);
  g_mutex_clear (&server->auth_lock);
  g_hash_table_unref (server->clients);
  g_hash_table_unref (server->rates);
  g_mutex_clear (&server->limits_lock);
  G_OBJECT_CLASS (gst_trickle_http_server_parent_class)->finalize (object);
}

static void
gst_trickle_http_server_class_init (GstTrickleHttpServerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_trickle_http_server_set_property;
  gobject_class->get_property = gst_trickle_http_server_get_property;
  gobject_class->finalize = gst_trickle_http_server_finalize;

  /**
   * GstTrickleHttpServer::publisher-connected:
   * @server: the server
   * @channel: the channel's name
   * @seq: the segment the POST writes
   *
   * A POST began writing a segment. Emitted from a worker thread.
   */
  signals[TRICKLE_HTTP_SIGNAL_PUBLISHER_CONNECTED] =
      g_signal_new ("publisher-connected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_INT64);
  /**
   * GstTrickleHttpServer::publisher-disconnected:
   * @server: the server
   * @channel: the channel's name
   * @seq: the segment the POST wrote
   * @complete: the segment ended normally (%FALSE: the publisher broke off)
   *
   * A POST of a segment ended. Emitted from a worker thread.
   */
  signals[TRICKLE_HTTP_SIGNAL_PUBLISHER_DISCONNECTED] =
      g_signal_new ("publisher-disconnected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING,
      G_TYPE_INT64, G_TYPE_BOOLEAN);
  /**
   * GstTrickleHttpServer::subscriber-connected:
   * @server: the server
   * @channel: the channel's name
   * @seq: the segment the GET reads
   *
   * A GET of a segment began (preconnects included). Emitted from a worker
   * thread.
   */
  signals[TRICKLE_HTTP_SIGNAL_SUBSCRIBER_CONNECTED] =
      g_signal_new ("subscriber-connected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_INT64);
  /**
   * GstTrickleHttpServer::subscriber-disconnected:
   * @server: the server
   * @channel: the channel's name
   * @seq: the segment the GET read
   *
   * A GET of a segment ended (answered in full, or the subscriber left).
   * Emitted from a worker thread.
   */
  signals[TRICKLE_HTTP_SIGNAL_SUBSCRIBER_DISCONNECTED] =
      g_signal_new ("subscriber-disconnected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_INT64);

  /**
   * GstTrickleHttpServer::authorize:
   * @server: the server
   * @method: the request's method
   * @action: "subscribe" (GET, HEAD), "publish" (a segment's POST or
   *   DELETE), "create" (POST of a channel) or "delete" (DELETE of one)
   * @channel: the channel's name
   * @headers: the request's headers
   * @client: the client's IP address
   *
   * Any policy beyond the tokens (which are checked first): return 0 to let
   * the request go on, or the HTTP status (4xx, 5xx) to answer instead;
   * the first handler that refuses decides. go-livepeer's BeforeCreate and
   * BeforeDelete hooks are the "create" and "delete" actions. Emitted from
   * a worker thread, before the request is served: keep it quick.
   *
   * Returns: 0, or the status to answer
   */
  signals[TRICKLE_HTTP_SIGNAL_AUTHORIZE] =
      g_signal_new ("authorize", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, authorize_accumulator, NULL, NULL, G_TYPE_UINT, 5,
      G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, SOUP_TYPE_MESSAGE_HEADERS,
      G_TYPE_STRING);

  g_object_class_install_property (gobject_class, PROP_STORE,
      g_param_spec_object ("store", "Store", "The channels served",
          GST_TRICKLE_TYPE_CHANNEL_STORE,
          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address", "Address to listen on",
          DEFAULT_ADDRESS, flags));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port", "TCP port (0 = pick a free one)",
          0, 65535, DEFAULT_PORT, flags));
  g_object_class_install_property (gobject_class, PROP_BOUND_PORT,
      g_param_spec_uint ("bound-port", "Bound port",
          "The port listened on (0 when not running)", 0, 65535, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BASE_PATH,
      g_param_spec_string ("base-path", "Base path",
          "URL path the channels live under, e.g. /ai/trickle/",
          DEFAULT_BASE_PATH, flags));
  g_object_class_install_property (gobject_class, PROP_TLS_CERTIFICATE,
      g_param_spec_object ("tls-certificate", "TLS certificate",
          "Serve HTTPS with this certificate (NULL = plain HTTP)",
          G_TYPE_TLS_CERTIFICATE, flags));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "TrickleHttpWorker threads (0 = one per CPU)", 0, 64, DEFAULT_THREADS,
          flags));
  g_object_class_install_property (gobject_class, PROP_MAX_HEADER_SIZE,
      g_param_spec_uint ("max-header-size", "Maximum header size",
          "Largest request head in bytes (larger: 431)", 1024, 1024 * 1024,
          DEFAULT_MAX_HEADER_SIZE, flags));
  g_object_class_install_property (gobject_class, PROP_HEADER_TIMEOUT,
      g_param_spec_uint ("header-timeout", "Header timeout",
          "Seconds for a request head to arrive before the connection is "
          "closed", 1, 3600, DEFAULT_HEADER_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_IO_TIMEOUT,
      g_param_spec_uint ("io-timeout", "I/O timeout",
          "Seconds a started POST body may send nothing, or a subscriber "
          "accept nothing, before it is dropped", 1, 3600, DEFAULT_IO_TIMEOUT,
          flags));
  g_object_class_install_property (gobject_class, PROP_KEEPALIVE_INTERVAL,
      g_param_spec_uint ("keepalive-interval", "Keep-alive interval",
          "Milliseconds between interim 100 Continue responses sent to a "
          "preconnected POST that has no body yet", 10, 3600 * 1000,
          DEFAULT_KEEPALIVE_INTERVAL, flags));
  /**
   * GstTrickleHttpServer:publish-token:
   *
   * When set, writing (a segment's POST or DELETE, creating or deleting a
   * channel) needs `Authorization: Bearer <token>`: 401 without it, 403
   * with the subscribe token. Write-only (never printed); may change while
   * the server runs.
   */
  g_object_class_install_property (gobject_class, PROP_PUBLISH_TOKEN,
      g_param_spec_string ("publish-token", "Publish token",
          "Bearer token that writing needs (empty: anyone may write)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleHttpServer:subscribe-token:
   *
   * When set, reading (GET and HEAD) needs `Authorization: Bearer` with
   * this token or the publish token: 401 without. Write-only; may change
   * while the server runs.
   */
  g_object_class_install_property (gobject_class, PROP_SUBSCRIBE_TOKEN,
      g_param_spec_string ("subscribe-token", "Subscribe token",
          "Bearer token that reading needs (empty: anyone may read)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleHttpServer:max-connections-per-client:
   *
   * Most connections open at once from one client address (IPv4, or a
   * whole IPv6 address). One past it is answered `429 Too Many Requests`
   * with `Retry-After: 1` and closed; past twice the limit a connection
   * is closed unanswered. A subscriber holds two connections (its segment
   * and the next one's preconnect), a publisher two or three. Everything
   * behind a proxy or NAT is one address. Counts connections accepted
   * while the limit is set; may change while the server runs.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CONNS_PER_CLIENT,
      g_param_spec_uint ("max-connections-per-client",
          "Max connections per client",
          "Most connections at once from one client address; beyond, 429 "
          "with Retry-After (0 = unlimited)", 0, G_MAXINT,
          DEFAULT_MAX_CONNS_PER_CLIENT, flags));
  /**
   * GstTrickleHttpServer:max-channel-request-rate:
   *
   * Most requests a second on one channel name, from all clients together
   * (a token bucket holding one second's worth: bursts up to the rate are
   * served at once). Beyond, `503 Service Unavailable` with the seconds
   * to wait in `Retry-After`; tricklesrc waits that long. A channel's
   * steady traffic is about (2 x subscribers + 2) requests per segment.
   * May change while the server runs.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CHANNEL_RATE,
      g_param_spec_uint ("max-channel-request-rate",
          "Max channel request rate",
          "Most requests a second on one channel; beyond, 503 with "
          "Retry-After (0 = unlimited)", 0, G_MAXINT, DEFAULT_MAX_CHANNEL_RATE,
          flags));
}

static void
gst_trickle_http_server_init (GstTrickleHttpServer * server)
{
  g_mutex_init (&server->lock);
  g_mutex_init (&server->auth_lock);
  server->address = g_strdup (DEFAULT_ADDRESS);
  server->port = DEFAULT_PORT;
  server->base_path = g_strdup (DEFAULT_BASE_PATH);
  server->threads = DEFAULT_THREADS;
  server->max_header_size = DEFAULT_MAX_HEADER_SIZE;
  server->header_timeout = DEFAULT_HEADER_TIMEOUT;
  server->io_timeout = DEFAULT_IO_TIMEOUT;
  server->keepalive_interval = DEFAULT_KEEPALIVE_INTERVAL;
  g_mutex_init (&server->limits_lock);
  server->max_conns_per_client = DEFAULT_MAX_CONNS_PER_CLIENT;
  server->max_channel_rate = DEFAULT_MAX_CHANNEL_RATE;
  server->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  server->rates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
}

/**
 * gst_trickle_http_server_new:
 * @store: (nullable): the channels to serve (a new store when %NULL)
 *
 * Returns: (transfer full): a new server, not yet listening
 */
GstTrickleHttpServer *
gst_trickle_http_server_new (GstTrickleChannelStore * store)
{
  GstTrickleHttpServer *server;

  if (store)
    return g_object_new (GST_TRICKLE_TYPE_HTTP_SERVER, "store", store, NULL);
  store = gst_trickle_channel_store_new ();
  server = g_object_new (GST_TRICKLE_TYPE_HTTP_SERVER, "store", store, NULL);
  g_object_unref (store);
  return server;
}

/**
 * gst_trickle_http_server_get_store:
 * Returns: (transfer none): the store served
 */
GstTrickleChannelStore *
gst_trickle_http_server_get_store (GstTrickleHttpServer * server)
{
  return server->store;
}

/**
 * gst_trickle_http_server_start:
 *
 * Binds, listens and starts the worker threads.
 *
 * Returns: %FALSE with @error set when the address cannot be bound
 */
gboolean
gst_trickle_http_server_start (GstTrickleHttpServer * server, GError ** error)
{
  GInetAddress *inet;
  GSocketAddress *addr = NULL, *bound = NULL;
  GSocket *sock = NULL;
  guint i, interval;

  g_return_val_if_fail (GST_TRICKLE_IS_HTTP_SERVER (server), FALSE);

  {
    /* every subscriber and publisher is a file descriptor: use what the
     * hard limit allows, as Go servers do (the soft limit is often 1024) */
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  }

  g_mutex_lock (&server->lock);
  if (server->listener) {
    g_mutex_unlock (&server->lock);
    return TRUE;
  }

  inet = g_inet_address_new_from_string (server->address ? server->address :
      DEFAULT_ADDRESS);
  if (!inet) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Invalid listening address '%s' (expected a numeric IPv4 or IPv6 "
        "address)", server->address);
    goto fail;
  }
  addr = g_inet_socket_address_new (inet, server->port);
  sock = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, error);
  g_object_unref (inet);
  if (!sock)
    goto fail;
  g_socket_set_blocking (sock, FALSE);
  g_socket_set_listen_backlog (sock, 1024);
  if (!g_socket_bind (sock, addr, TRUE, error) || !g_socket_listen (sock,
          error))
    goto fail;
  bound = g_socket_get_local_address (sock, error);
  if (!bound)
    goto fail;
  server->bound_port =
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (addr);
  server->listener = sock;

  /* default: one per CPU. One worker on 2 vCPUs used ~15% less CPU per
   * segment (no cross-thread wake-ups) but doubled the latency of a
   * 40-subscriber fan-out; latency comes first (docs/performance.md) */
  server->n_workers = server->threads ? server->threads :
      MAX (1, g_get_num_processors ());
  server->workers = g_new0 (TrickleHttpWorker, server->n_workers);
  server->stopping = 0;
  server->accept_paused_until = 0;
  if (server->tls_certificate)
    _gst_trickle_http_tls_start (server);
  interval = _gst_trickle_channel_store_get_idle_timeout (server->store) / 5;
  server->next_sweep = g_get_monotonic_time () +
      (gint64) CLAMP (interval, 1, 60) * G_USEC_PER_SEC;
  for (i = 0; i < server->n_workers; i++) {
    TrickleHttpWorker *w = &server->workers[i];
    struct epoll_event ev = { 0, };

    w->server = server;
    w->index = i;
    g_queue_init (&w->conns);
    g_queue_init (&w->woken);
    g_queue_init (&w->incoming);
    g_queue_init (&w->moved);
    g_queue_init (&w->to_move);
    g_mutex_init (&w->lock);
    w->epfd = epoll_create1 (EPOLL_CLOEXEC);
    w->evfd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    ev.events = EPOLLIN;
    ev.data.ptr = w;
    epoll_ctl (w->epfd, EPOLL_CTL_ADD, w->evfd, &ev);
    if (i == 0) {
      ev.data.ptr = server;
      epoll_ctl (w->epfd, EPOLL_CTL_ADD, g_socket_get_fd (sock), &ev);
    }
  }
  for (i = 0; i < server->n_workers; i++) {
    gchar *name = g_strdup_printf ("trickle-http-%u", i);
    server->workers[i].thread = g_thread_new (name, worker_thread,
        &server->workers[i]);
    g_free (name);
  }

  g_mutex_unlock (&server->lock);
  return TRUE;

fail:
  if (error && *error) {
    gchar *msg = g_strdup_printf ("Could not listen on %s:%u: %s",
        server->address, server->port, (*error)->message);
    g_free ((*error)->message);
    (*error)->message = msg;
  }
  g_clear_object (&addr);
  g_clear_object (&sock);
  g_mutex_unlock (&server->lock);
  return FALSE;
}

/**
 * gst_trickle_http_server_get_bound_port:
 * Returns: the port listened on, or 0 when not running
 */
guint
gst_trickle_http_server_get_bound_port (GstTrickleHttpServer * server)
{
  guint port;

  g_mutex_lock (&server->lock);
  port = server->listener ? server->bound_port : 0;
  g_mutex_unlock (&server->lock);
  return port;
}

/**
 * gst_trickle_http_server_stop:
 *
 * Stops listening, closes every connection and joins the worker threads.
 * Channels stay in the store.
 */
void
gst_trickle_http_server_stop (GstTrickleHttpServer * server)
{
  guint i;

  g_mutex_lock (&server->lock);
  if (!server->listener) {
    g_mutex_unlock (&server->lock);
    return;
  }
  /* 1. no new connections; 2. the workers close theirs and exit; 3. TLS
   * handshakes in flight are cancelled; 4. what was handed over to the
   * workers in the meantime is freed */
  g_atomic_int_set (&server->stopping, 1);
  epoll_ctl (server->workers[0].epfd, EPOLL_CTL_DEL,
      g_socket_get_fd (server->listener), NULL);
  for (i = 0; i < server->n_workers; i++) {
    g_atomic_int_set (&server->workers[i].quit, 1);
    _gst_trickle_http_worker_signal (&server->workers[i]);
  }
  for (i = 0; i < server->n_workers; i++)
    g_thread_join (server->workers[i].thread);
  _gst_trickle_http_tls_stop (server);
  for (i = 0; i < server->n_workers; i++) {
    TrickleHttpWorker *w = &server->workers[i];
    TrickleHttpIncoming *in;
    TrickleHttpConn *conn;

    g_mutex_lock (&w->lock);
    while ((in = g_queue_pop_head (&w->incoming)))
      _gst_trickle_http_incoming_free (in);
    /* moved here after this worker had stopped: in no list or epoll set */
    while ((conn = g_queue_pop_head (&w->moved)))
      _gst_trickle_http_conn_discard (conn);
    g_mutex_unlock (&w->lock);
    close (w->epfd);
    close (w->evfd);
    g_mutex_clear (&w->lock);
  }
  g_clear_pointer (&server->workers, g_free);
  server->n_workers = 0;
  g_socket_close (server->listener, NULL);
  g_clear_object (&server->listener);
  server->bound_port = 0;
  g_mutex_unlock (&server->lock);
}
