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
 *   channel's name, before the head is parsed (see conn_home_worker()),
 *   so that a channel's publisher and first subscriber share a thread and
 *   channels spread over the workers. The channel store is thread safe;
 *   a writer on any thread wakes a reader by queueing its connection on
 *   the reader's worker and signalling that worker's eventfd
 *   (#GstTrickleWaiter). Timeouts are checked on a 10-100 ms tick. TLS
 *   handshakes run off the workers (one thread drives them, GTask's pool
 *   runs them), each begun only once the client's first bytes arrive, so
 *   they never stall a worker and an idle TLS connection costs neither a
 *   TLS set-up nor a thread.
 * - Parsing: libsoup parses request heads (soup_headers_parse_request());
 *   the body framing (Content-Length or chunked) is decoded here, so a
 *   publisher that disconnects before the terminating chunk is always
 *   detected, over TCP and TLS alike (libsoup 3.2.3's server takes a
 *   disconnect between chunks for a clean end of body).
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
#include <unistd.h>
#include <libsoup/soup.h>

#include "trickle-private.h"

#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_PORT 0
#define DEFAULT_BASE_PATH "/"
#define DEFAULT_THREADS 0
#define DEFAULT_MAX_HEADER_SIZE 16384
#define DEFAULT_HEADER_TIMEOUT 30
#define DEFAULT_IO_TIMEOUT 60
#define DEFAULT_KEEPALIVE_INTERVAL 10000
#define IDLE_CONNECTION_TIMEOUT (120 * G_USEC_PER_SEC)
#define MAX_NAME_LENGTH 256
#define BODY_READ_SIZE 65536
#define BODY_STEP_BUDGET (4 * BODY_READ_SIZE)
#define MAX_PAGES_PER_WRITE 64
#define MAX_OUT (MAX_PAGES_PER_WRITE + 4)
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
};

enum
{
  SIGNAL_PUBLISHER_CONNECTED,
  SIGNAL_PUBLISHER_DISCONNECTED,
  SIGNAL_SUBSCRIBER_CONNECTED,
  SIGNAL_SUBSCRIBER_DISCONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct _Worker Worker;
typedef struct _Conn Conn;

struct _Worker
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
  GQueue incoming;              /* new connections (Incoming) */
  GQueue moved;                 /* connections moved here (Conn) */

  gint64 date_second;
  gchar date[64];
};

typedef struct
{
  GSocket *socket;
  GIOStream *stream;            /* the TLS connection, NULL for plain TCP */
} Incoming;

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

  /* running state, changed only by start/stop */
  GMutex lock;
  GSocket *listener;
  guint bound_port;
  Worker *workers;
  guint n_workers;
  guint next_worker;
  gint64 next_sweep;
  gint64 accept_paused_until;   /* worker 0 only */
  gint stopping;
  GThread *tls_thread;          /* TLS handshakes, async, with timeouts */
  GMainContext *tls_context;
  GQueue tls_handshakes;        /* in flight; tls thread only */
};

G_DEFINE_TYPE (GstTrickleHttpServer, gst_trickle_http_server, G_TYPE_OBJECT);

typedef enum
{
  ST_HANDSHAKE,
  ST_HEAD,                      /* reading a request head */
  ST_BODY,                      /* reading a segment POST body */
  ST_STREAM,                    /* sending a segment GET response */
  ST_RESPOND,                   /* sending a prepared response */
  ST_CLOSED,
} ConnState;

typedef enum
{
  BODY_NONE,
  BODY_LENGTH,
  BODY_CHUNKED,
} BodyMode;

typedef enum
{
  CK_SIZE,                      /* hex digits of a chunk size */
  CK_EXT,                       /* chunk extension: skipped up to LF */
  CK_DATA,
  CK_DATA_END,                  /* CRLF after the data */
  CK_TRAILER_START,             /* start of a trailer line (or the end) */
  CK_TRAILER_LINE,              /* a trailer field: skipped up to LF */
  CK_DONE,
} ChunkState;

typedef struct
{
  GBytes *owner;                /* NULL for static or connection-owned data */
  const guint8 *data;
  gsize len;
} OutEntry;

struct _Conn
{
  gint refcount;
  Worker *worker;
  ConnState state;
  GList link;

  GSocket *socket;
  GIOStream *stream;            /* TLS only (NULL for plain TCP) */
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
  Worker *move_to;              /* leaving for this worker (in to_move) */

  /* input: unconsumed bytes are rbuf[rpos, rlen) */
  guint8 *rbuf;
  gsize rpos, rlen, rcap;
  gboolean peer_closed;

  /* the current request */
  guint requests;
  gboolean keep_alive;
  gboolean http10;              /* no chunked encoding, no interim responses */
  gboolean close_after;
  BodyMode body_mode;
  guint64 body_remaining;
  ChunkState ck_state;
  guint64 ck_remaining;
  guint ck_digits;
  gsize ck_line_bytes;          /* bytes of the current size/trailer line */
  gsize ck_trailer_bytes;

  /* output */
  OutEntry *out;                /* MAX_OUT entries, only while responding:
                                 * a waiting connection has none */
  guint out_head, out_n;
  gchar chunk_head[24];
  gint64 write_blocked_since;

  /* publishing (ST_BODY) or subscribing (ST_STREAM) */
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
  guint next_page;
  gboolean got_body_byte;
  gint64 last_rx;
  gint64 next_keepalive;

  gint64 head_deadline;
  gint64 idle_deadline;
};

static const guint8 CRLF[] = "\r\n";
static const guint8 LAST_CHUNK[] = "0\r\n\r\n";
static const guint8 ABORT_CHUNK[] = "1\r\n";
static const guint8 CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void conn_step (Conn * conn);
static void conn_close (Conn * conn);
static void post_respond (Conn * conn, gboolean early);

/* ------------------------------------------------------------------------ */
/* connection plumbing */

static Conn *
conn_ref (Conn * conn)
{
  conn->refcount++;
  return conn;
}

static void
conn_unref (Conn * conn)
{
  guint i;

  if (--conn->refcount > 0)
    return;
  for (i = 0; i < conn->out_n; i++)
    g_clear_pointer (&conn->out[(conn->out_head + i) % MAX_OUT].owner,
        g_bytes_unref);
  g_free (conn->out);
  g_free (conn->rbuf);
  g_clear_object (&conn->stream);
  g_clear_object (&conn->socket);
  g_free (conn);
}

/* Input is watched while want_in is set (reading a request, or watching a
 * waiting connection for a peer that goes away); output while a write
 * would block. The epoll registration follows at the end of each step. */
static void
want_input (Conn * conn, gboolean want)
{
  conn->want_in = want;
}

static void
want_output (Conn * conn)
{
  conn->want_out = TRUE;
}

static void
conn_apply_events (Conn * conn)
{
  struct epoll_event ev = { 0, };

  if (conn->state == ST_CLOSED)
    return;
  ev.events = (conn->want_in ? EPOLLIN : 0) | (conn->want_out ? EPOLLOUT : 0);
  if (ev.events == conn->events)
    return;
  ev.data.ptr = conn;
  epoll_ctl (conn->worker->epfd, EPOLL_CTL_MOD, conn->fd, &ev);
  conn->events = ev.events;
}

/* the worker running on this thread, if any */
static __thread Worker *current_worker;

static void
worker_signal (Worker * w)
{
  guint64 one = 1;

  if (write (w->evfd, &one, sizeof (one)) < 0) {
    /* the counter is saturated: the worker is awake anyway */
  }
}

/* called by writers on any thread, with the segment lock held: queue the
 * connection for its worker and wake the worker if it may be sleeping */
static void
conn_wake (gpointer user_data)
{
  Conn *conn = user_data;
  Worker *w = conn->worker;
  gboolean signal;

  g_mutex_lock (&w->lock);
  signal = w->woken.length == 0;
  if (!conn->queued) {
    conn->queued = TRUE;
    conn->wake_link.data = conn;
    g_queue_push_tail_link (&w->woken, &conn->wake_link);
  } else {
    signal = FALSE;
  }
  g_mutex_unlock (&w->lock);
  /* a worker drains its queue before it sleeps: no need to wake itself */
  if (signal && w != current_worker)
    worker_signal (w);
}

/* connection events for applications (from a worker thread; cheap when
 * nobody listens) */
static void
emit_conn (Conn * conn, guint signal, gint64 seq, gboolean complete)
{
  GstTrickleHttpServer *server = conn->worker->server;

  if (!g_signal_has_handler_pending (server, signals[signal], 0, FALSE))
    return;
  if (signal == SIGNAL_PUBLISHER_DISCONNECTED)
    g_signal_emit (server, signals[signal], 0,
        gst_trickle_channel_get_name (conn->channel), seq, complete);
  else
    g_signal_emit (server, signals[signal], 0,
        gst_trickle_channel_get_name (conn->channel), seq);
}

static void
release_segment (Conn * conn)
{
  if (conn->waiting) {
    gst_trickle_segment_remove_waiter (conn->segment, &conn->waiter);
    conn->waiting = FALSE;
  }
  if (conn->publishing) {
    conn->publishing = FALSE;
    emit_conn (conn, SIGNAL_PUBLISHER_DISCONNECTED, conn->segment ?
        gst_trickle_segment_get_seq (conn->segment) : -1, conn->segment &&
        gst_trickle_segment_get_state (conn->segment) ==
        GST_TRICKLE_SEGMENT_COMPLETE);
  }
  if (conn->subscribed)
    emit_conn (conn, SIGNAL_SUBSCRIBER_DISCONNECTED, conn->segment ?
        gst_trickle_segment_get_seq (conn->segment) : -1, FALSE);
  g_clear_pointer (&conn->segment, gst_trickle_segment_unref);
  if (conn->subscribed) {
    _gst_trickle_channel_add_subscriber (conn->channel, -1);
    conn->subscribed = FALSE;
  }
  g_clear_pointer (&conn->channel, gst_trickle_channel_unref);
}

static void
conn_close (Conn * conn)
{
  Worker *w = conn->worker;

  if (conn->state == ST_CLOSED)
    return;
  if (conn->segment && conn->writer &&
      _gst_trickle_segment_writer_is_current (conn->segment, conn->writer)) {
    /* the publisher went away mid-segment: readers must see an error */
    if (conn->got_body_byte)
      _gst_trickle_segment_end (conn->segment, GST_TRICKLE_SEGMENT_ABORTED);
  }
  /* after this no writer can queue the connection any more */
  release_segment (conn);
  conn->state = ST_CLOSED;
  g_mutex_lock (&w->lock);
  if (conn->queued) {
    g_queue_unlink (&w->woken, &conn->wake_link);
    conn->queued = FALSE;
  }
  g_mutex_unlock (&w->lock);
  epoll_ctl (w->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
  g_socket_close (conn->socket, NULL);
  g_queue_unlink (&w->conns, &conn->link);
  conn_unref (conn);
}

/* ------------------------------------------------------------------------ */
/* output */

static void
out_push (Conn * conn, GBytes * owner, const guint8 * data, gsize len)
{
  OutEntry *e;

  g_assert (conn->out_n < MAX_OUT);
  if (!conn->out) {
    conn->out = g_new (OutEntry, MAX_OUT);
    conn->out_head = 0;
  }
  e = &conn->out[(conn->out_head + conn->out_n) % MAX_OUT];
  e->owner = owner;
  e->data = data;
  e->len = len;
  conn->out_n++;
}

static void
out_push_bytes (Conn * conn, GBytes * bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  out_push (conn, bytes, data, len);
}

/* Writes what is queued. Returns TRUE when everything was written, FALSE
 * when the socket is full (an output source is armed) or the connection
 * failed (and was closed). */
static gboolean
out_flush (Conn * conn)
{
  GOutputVector vec[MAX_OUT];
  gsize written;
  GPollableReturn ret;
  GError *err = NULL;
  guint i;

  while (conn->out_n > 0) {
    for (i = 0; i < conn->out_n; i++) {
      OutEntry *e = &conn->out[(conn->out_head + i) % MAX_OUT];
      vec[i].buffer = e->data;
      vec[i].size = e->len;
    }
    if (!conn->tls) {
      /* plain TCP: sendmsg() itself (GOutputVector is laid out as struct
       * iovec), no stream objects per connection, no GError per EAGAIN */
      struct msghdr msg = { 0, };
      gssize n;

      G_STATIC_ASSERT (sizeof (GOutputVector) == sizeof (struct iovec));
      msg.msg_iov = (struct iovec *) vec;
      msg.msg_iovlen = conn->out_n;
      do {
        n = sendmsg (conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      } while (n < 0 && errno == EINTR);
      if (n >= 0) {
        written = n;
        ret = G_POLLABLE_RETURN_OK;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        ret = G_POLLABLE_RETURN_WOULD_BLOCK;
      } else {
        ret = G_POLLABLE_RETURN_FAILED;
      }
    } else {
      ret = g_pollable_output_stream_writev_nonblocking (conn->ostream, vec,
          conn->out_n, &written, NULL, &err);
      g_clear_error (&err);
    }
    if (ret == G_POLLABLE_RETURN_WOULD_BLOCK) {
      if (!conn->write_blocked_since)
        conn->write_blocked_since = g_get_monotonic_time ();
      want_output (conn);
      return FALSE;
    }
    if (ret == G_POLLABLE_RETURN_FAILED) {
      conn_close (conn);
      return FALSE;
    }
    conn->write_blocked_since = 0;
    conn->want_out = FALSE;
    while (written > 0 && conn->out_n > 0) {
      OutEntry *e = &conn->out[conn->out_head];
      if (written >= e->len) {
        written -= e->len;
        g_clear_pointer (&e->owner, g_bytes_unref);
        conn->out_head = (conn->out_head + 1) % MAX_OUT;
        conn->out_n--;
      } else {
        e->data += written;
        e->len -= written;
        written = 0;
      }
    }
  }
  return TRUE;
}

static const gchar *
worker_date (Worker * w)
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

/* Queues a whole response. @extra: more header lines ("Name: value\r\n"). */
static void
queue_response (Conn * conn, guint status, const gchar * extra,
    const gchar * content_type, const gchar * body, gsize body_len)
{
  GString *s = g_string_sized_new (256 + body_len);

  if (!conn->keep_alive)
    conn->close_after = TRUE;
  g_string_append_printf (s, "HTTP/1.1 %u %s\r\n", status,
      reason_phrase (status));
  if (conn->close_after)
    g_string_append (s, "Connection: close\r\n");
  if (extra)
    g_string_append (s, extra);
  if (content_type)
    g_string_append_printf (s, "Content-Type: %s\r\n", content_type);
  g_string_append_printf (s, "Date: %s\r\nContent-Length: %" G_GSIZE_FORMAT
      "\r\n\r\n", worker_date (conn->worker), body_len);
  if (body_len && !conn->is_head)
    g_string_append_len (s, body, body_len);
  out_push_bytes (conn, g_string_free_to_bytes (s));
  conn->state = ST_RESPOND;
}

/* An error the way the reference's http.Error() writes it. */
static void
queue_error (Conn * conn, guint status, const gchar * message)
{
  gchar *body = g_strdup_printf ("%s\n", message);

  queue_response (conn, status, "X-Content-Type-Options: nosniff\r\n",
      "text/plain; charset=utf-8", body, strlen (body));
  g_free (body);
}

/* An error after which the rest of the request is not read. */
static void
queue_error_close (Conn * conn, guint status, const gchar * message)
{
  conn->close_after = TRUE;
  queue_error (conn, status, message);
}

/* ------------------------------------------------------------------------ */
/* input */

/* Reads more bytes into rbuf. Returns >0 bytes read, 0 on EOF, -1 would
 * block (input source armed), -2 error or no room. */
static gssize
conn_read (Conn * conn, gsize want)
{
  GError *err = NULL;
  gssize n;
  gsize room;

  /* epoll is level-triggered: after an EAGAIN, wait for it to report the
   * socket readable instead of trying again (a wasted syscall) */
  if (!conn->readable) {
    want_input (conn, TRUE);
    return -1;
  }
  if (conn->rpos == conn->rlen)
    conn->rpos = conn->rlen = 0;
  if (conn->rcap - conn->rlen < want && conn->rpos > 0) {
    memmove (conn->rbuf, conn->rbuf + conn->rpos, conn->rlen - conn->rpos);
    conn->rlen -= conn->rpos;
    conn->rpos = 0;
  }
  if (conn->rcap < conn->rlen + want) {
    conn->rcap = conn->rlen + want;
    conn->rbuf = g_realloc (conn->rbuf, conn->rcap);
  }
  room = conn->rcap - conn->rlen;
  if (!conn->tls) {
    /* plain TCP: recv() itself, no GError built for every EAGAIN */
    do {
      n = recv (conn->fd, conn->rbuf + conn->rlen, room, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        conn->readable = FALSE;
        want_input (conn, TRUE);
        return -1;
      }
      return -2;
    }
    /* A short read drained the socket: let epoll (level-triggered) say
     * when there is more instead of a recv() that would say EAGAIN. Not
     * for TLS, where decrypted bytes can wait inside the TLS layer. */
    if ((gsize) n < room)
      conn->readable = FALSE;
  } else {
    n = g_pollable_input_stream_read_nonblocking (conn->istream,
        conn->rbuf + conn->rlen, room, NULL, &err);
    if (n < 0) {
      gboolean block =
          g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_clear_error (&err);
      if (block) {
        conn->readable = FALSE;
        want_input (conn, TRUE);
        return -1;
      }
      return -2;
    }
  }
  if (n == 0)
    conn->peer_closed = TRUE;
  conn->rlen += n;
  return n;
}

/* frees the read buffer while a connection waits with nothing buffered */
static void
conn_trim (Conn * conn)
{
  if (conn->rpos == conn->rlen) {
    g_clear_pointer (&conn->rbuf, g_free);
    conn->rpos = conn->rlen = conn->rcap = 0;
  }
}

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
      if (i + 2 >= len + 1 || !g_ascii_isxdigit (s[i + 1])
          || !g_ascii_isxdigit (s[i + 2]))
        return FALSE;
      g_string_append_c (out, (gchar) (g_ascii_xdigit_value (s[i + 1]) * 16 +
              g_ascii_xdigit_value (s[i + 2])));
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

static void
header_printf (GString * s, const gchar * name, gint64 v)
{
  g_string_append_printf (s, "%s: %" G_GINT64_FORMAT "\r\n", name, v);
}

static void
handle_create (Conn * conn, const gchar * name, SoupMessageHeaders * headers)
{
  GstTrickleHttpServer *server = conn->worker->server;
  GstTrickleChannel *ch;
  GError *err = NULL;

  ch = gst_trickle_channel_store_lookup (server->store, name);
  if (!ch) {
    if (!_gst_trickle_channel_store_get_auto_create (server->store)) {
      queue_error (conn, SOUP_STATUS_NOT_FOUND, "Stream not found");
      return;
    }
    ch = gst_trickle_channel_store_create (server->store, name,
        soup_message_headers_get_one (headers, "Expect-Content"), &err);
    if (!ch) {
      queue_error (conn, SOUP_STATUS_SERVICE_UNAVAILABLE, err->message);
      g_clear_error (&err);
      return;
    }
  }
  gst_trickle_channel_unref (ch);
  queue_response (conn, SOUP_STATUS_OK, NULL, NULL, NULL, 0);
}

static void
handle_delete (Conn * conn, const gchar * name)
{
  if (gst_trickle_channel_store_remove (conn->worker->server->store, name))
    queue_response (conn, SOUP_STATUS_OK, NULL, NULL, NULL, 0);
  else
    queue_error (conn, SOUP_STATUS_BAD_REQUEST, "Invalid stream");
}

static void
handle_next (Conn * conn, GstTrickleChannel * ch)
{
  gint64 next = gst_trickle_channel_get_next_seq (ch);
  GString *extra = g_string_new (NULL);
  gchar body[32];

  header_printf (extra, "Lp-Trickle-Latest", next);
  if (gst_trickle_channel_is_closed (ch))
    g_string_append (extra, "Lp-Trickle-Closed: terminated\r\n");
  g_snprintf (body, sizeof (body), "%" G_GINT64_FORMAT, next);
  queue_response (conn, SOUP_STATUS_OK, extra->str,
      "text/plain; charset=utf-8", body, strlen (body));
  g_string_free (extra, TRUE);
}

static void
handle_delete_seq (Conn * conn, GstTrickleChannel * ch, gint64 seq)
{
  if (gst_trickle_channel_close_segment (ch, seq))
    queue_response (conn, SOUP_STATUS_OK, NULL, NULL, NULL, 0);
  else
    queue_error (conn, SOUP_STATUS_BAD_REQUEST, "Nonexistent segment");
}

static void
queue_gone (Conn * conn, gint64 seq, gint64 latest)
{
  GString *extra = g_string_new (NULL);

  header_printf (extra, "Lp-Trickle-Latest", latest);
  header_printf (extra, "Lp-Trickle-Seq", seq);
  queue_response (conn, 470, extra->str, "text/plain; charset=utf-8",
      "Entry not found", 15);
  g_string_free (extra, TRUE);
}

static void
handle_get_seq (Conn * conn, GstTrickleChannel * ch, gint64 seq)
{
  GstTrickleReadResult result;
  GstTrickleSegment *seg;
  gint64 latest;

  seg = gst_trickle_channel_open_read (ch, seq, &result, &latest);
  if (result == GST_TRICKLE_READ_GONE) {
    queue_gone (conn, seq, latest);
    return;
  }
  if (result == GST_TRICKLE_READ_CLOSED) {
    GString *extra = g_string_new ("Lp-Trickle-Closed: terminated\r\n");
    header_printf (extra, "Lp-Trickle-Latest", latest);
    header_printf (extra, "Lp-Trickle-Seq", seq);
    queue_response (conn, SOUP_STATUS_OK, extra->str, NULL, NULL, 0);
    g_string_free (extra, TRUE);
    return;
  }

  conn->channel = gst_trickle_channel_ref (ch);
  conn->subscribed = TRUE;
  _gst_trickle_channel_add_subscriber (ch, 1);
  conn->segment = seg;
  emit_conn (conn, SIGNAL_SUBSCRIBER_CONNECTED,
      gst_trickle_segment_get_seq (seg), FALSE);
  conn->latest = latest;
  conn->headers_sent = FALSE;
  conn->next_page = 0;
  conn->waiter.func = conn_wake;
  conn->waiter.user_data = conn;
  gst_trickle_segment_add_waiter (seg, &conn->waiter);
  conn->waiting = TRUE;
  conn->state = ST_STREAM;
}

static void
handle_post_seq (Conn * conn, const gchar * name, gint64 seq,
    SoupMessageHeaders * headers)
{
  GstTrickleHttpServer *server = conn->worker->server;
  GstTrickleChannel *ch;
  GError *err = NULL;
  const gchar *expect;

  if (seq == GST_TRICKLE_SEQ_CURRENT) {
    queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Invalid idx");
    return;
  }
  ch = gst_trickle_channel_store_lookup (server->store, name);
  if (!ch && _gst_trickle_channel_store_get_auto_create (server->store)) {
    ch = gst_trickle_channel_store_create (server->store, name,
        soup_message_headers_get_content_type (headers, NULL) ?
        soup_message_headers_get_one (headers, "Content-Type") : NULL, &err);
    if (!ch) {
      queue_error_close (conn, SOUP_STATUS_SERVICE_UNAVAILABLE, err->message);
      g_clear_error (&err);
      return;
    }
  }
  if (!ch) {
    queue_error_close (conn, SOUP_STATUS_NOT_FOUND, "Stream not found");
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
    header_printf (extra, "Lp-Trickle-Seq", seq);
    conn->close_after = TRUE;
    queue_response (conn, SOUP_STATUS_OK, extra->str, NULL, NULL, 0);
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
  conn->waiter.func = conn_wake;
  conn->waiter.user_data = conn;
  gst_trickle_segment_add_waiter (conn->segment, &conn->waiter);
  conn->waiting = TRUE;
  conn->got_body_byte = FALSE;
  conn->state = ST_BODY;
  conn->publishing = TRUE;
  emit_conn (conn, SIGNAL_PUBLISHER_CONNECTED,
      gst_trickle_segment_get_seq (conn->segment), FALSE);
  conn->ck_state = CK_SIZE;
  conn->ck_remaining = 0;
  conn->ck_digits = 0;
  conn->ck_line_bytes = 0;
  conn->ck_trailer_bytes = 0;
  conn->next_keepalive = g_get_monotonic_time () +
      (gint64) server->keepalive_interval * 1000;

  expect = soup_message_headers_get_one (headers, "Expect");
  if (expect && g_ascii_strcasecmp (expect, "100-continue") == 0 &&
      !conn->http10)
    out_push (conn, NULL, CONTINUE_100, sizeof (CONTINUE_100) - 1);
}

static void
handle_request (Conn * conn, const gchar * method, const gchar * target,
    SoupMessageHeaders * headers)
{
  GstTrickleHttpServer *server = conn->worker->server;
  const gchar *path = target, *q;
  gchar **parts = NULL;
  GString *name = NULL, *idx = NULL;
  GstTrickleChannel *ch = NULL;
  gsize base_len = strlen (server->base_path);
  guint n, i;
  gint64 seq;
  gchar *path_only;

  conn->is_head = g_str_equal (method, "HEAD");

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
    queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Bad request");
    goto out;
  }

  /* `.` and `..` anywhere, raw or escaped: refused, never redirected */
  parts = g_strsplit (path_only, "/", -1);
  name = g_string_new (NULL);
  idx = g_string_new (NULL);
  for (i = 0; parts[i]; i++) {
    if (!decode_component (parts[i], strlen (parts[i]), name)) {
      queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Invalid escape");
      goto out;
    }
    if (g_str_equal (name->str, ".") || g_str_equal (name->str, "..")) {
      queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Invalid path");
      goto out;
    }
  }
  g_strfreev (parts);
  parts = NULL;

  if (strncmp (path_only, server->base_path, base_len) != 0) {
    queue_error_close (conn, SOUP_STATUS_NOT_FOUND, "404 page not found");
    goto out;
  }
  parts = g_strsplit (path_only + base_len, "/", -1);
  n = g_strv_length (parts);
  for (i = 0; i < n; i++) {
    if (parts[i][0] == '\0')
      break;
  }
  if (n == 0 || n > 2 || i < n) {
    queue_error_close (conn, SOUP_STATUS_NOT_FOUND, "404 page not found");
    goto out;
  }
  decode_component (parts[0], strlen (parts[0]), name);
  if (name->len > MAX_NAME_LENGTH || strlen (name->str) != name->len) {
    queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Invalid channel name");
    goto out;
  }
  for (i = 0; i < name->len; i++) {
    if (!is_safe_name_char (name->str[i])) {
      queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Invalid channel name");
      goto out;
    }
  }

  if (n == 1) {
    if (g_str_equal (method, "POST"))
      handle_create (conn, name->str, headers);
    else if (g_str_equal (method, "DELETE"))
      handle_delete (conn, name->str);
    else
      goto not_allowed_channel;
    goto out;
  }

  decode_component (parts[1], strlen (parts[1]), idx);
  if (g_str_equal (method, "POST")) {
    if (!parse_seq (idx->str, TRUE, &seq)) {
      queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Invalid idx");
      goto out;
    }
    handle_post_seq (conn, name->str, seq, headers);
    goto out;
  }
  if (!g_str_equal (method, "GET") && !conn->is_head
      && !g_str_equal (method, "DELETE"))
    goto not_allowed_segment;

  ch = gst_trickle_channel_store_lookup (server->store, name->str);
  if (!ch) {
    queue_error (conn, SOUP_STATUS_NOT_FOUND, "Stream not found");
    goto out;
  }
  if (!g_str_equal (method, "DELETE") && g_str_equal (idx->str, "next")) {
    handle_next (conn, ch);
    goto out;
  }
  if (!parse_seq (idx->str, FALSE, &seq)) {
    queue_error (conn, SOUP_STATUS_BAD_REQUEST, "Invalid idx");
    goto out;
  }
  if (g_str_equal (method, "DELETE"))
    handle_delete_seq (conn, ch, seq);
  else
    handle_get_seq (conn, ch, seq);
  goto out;

not_allowed_channel:
  queue_response (conn, SOUP_STATUS_METHOD_NOT_ALLOWED,
      "Allow: DELETE, POST\r\nX-Content-Type-Options: nosniff\r\n",
      "text/plain; charset=utf-8", "Method Not Allowed\n", 19);
  goto out;
not_allowed_segment:
  queue_response (conn, SOUP_STATUS_METHOD_NOT_ALLOWED,
      "Allow: DELETE, GET, HEAD, POST\r\nX-Content-Type-Options: nosniff\r\n",
      "text/plain; charset=utf-8", "Method Not Allowed\n", 19);
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
/* state machine */

static void
request_done (Conn * conn)
{
  release_segment (conn);
  if (conn->out_n == 0)
    g_clear_pointer (&conn->out, g_free);
  conn->writer = 0;
  conn->is_head = FALSE;
  conn->body_mode = BODY_NONE;
  conn->requests++;
  conn->idle_deadline = g_get_monotonic_time () + IDLE_CONNECTION_TIMEOUT;
  conn->head_deadline = 0;
  conn->state = ST_HEAD;
}

/* Channel affinity. A channel's connections gather on one worker, chosen
 * by its name: its publisher's pages then reach its subscribers without
 * crossing threads (no eventfd wake-up per page or segment), and a
 * subscriber is sent the end of a segment before the publisher is
 * answered. Channels spread over the workers by name; a large fan-out
 * still spreads its subscribers (AFFINITY_MAX_SUBSCRIBERS). Only plain TCP
 * segment requests (POST or GET /<channel>/<seq>) move, before their head
 * is parsed. Returns the worker to move to, or NULL to stay. */
static Worker *
conn_home_worker (Conn * conn, const guint8 * head, gsize len)
{
  GstTrickleHttpServer *server = conn->worker->server;
  const gchar *p = (const gchar *) head, *end = p + len, *name, *stop;
  gsize base_len = strlen (server->base_path);
  gchar name_buf[MAX_NAME_LENGTH + 1];
  gboolean is_get;
  Worker *home;

  if (server->n_workers < 2 || conn->tls)
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
      || stop - name > MAX_NAME_LENGTH)
    return NULL;
  memcpy (name_buf, name, stop - name);
  name_buf[stop - name] = '\0';
  home = &server->workers[g_str_hash (name_buf) % server->n_workers];
  if (home == conn->worker)
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

/* In the connection's (old) worker, once nothing of this iteration holds
 * it any more: it leaves this worker's epoll set and lists and joins the
 * queue of its new worker, which takes it from there. */
static void
conn_hand_over (Conn * conn)
{
  Worker *from = conn->worker, *to = conn->move_to;

  epoll_ctl (from->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
  conn->events = 0;
  g_mutex_lock (&from->lock);
  if (conn->queued) {
    g_queue_unlink (&from->woken, &conn->wake_link);
    conn->queued = FALSE;
  }
  g_mutex_unlock (&from->lock);
  /* the conns list's reference travels with the connection */
  g_queue_unlink (&from->conns, &conn->link);
  g_mutex_lock (&to->lock);
  conn->worker = to;
  g_queue_push_tail (&to->moved, conn);
  g_mutex_unlock (&to->lock);
  worker_signal (to);
}

/* In the new worker: the connection joins its epoll set and lists and
 * reads the head it came with. */
static void
conn_arrive (Worker * w, Conn * conn)
{
  struct epoll_event ev = { 0, };

  conn->move_to = NULL;
  g_queue_push_tail_link (&w->conns, &conn->link);
  conn->want_in = TRUE;
  conn->readable = TRUE;
  conn->events = EPOLLIN;
  ev.events = EPOLLIN;
  ev.data.ptr = conn;
  conn_ref (conn);
  if (epoll_ctl (w->epfd, EPOLL_CTL_ADD, conn->fd, &ev) < 0) {
    conn->events = 0;
    conn_close (conn);
  } else {
    conn_step (conn);
  }
  conn_unref (conn);
}

static void
head_step (Conn * conn)
{
  GstTrickleHttpServer *server = conn->worker->server;
  const guint8 *start, *end;
  SoupMessageHeaders *headers;
  gchar *method = NULL, *target = NULL;
  SoupHTTPVersion version;
  const gchar *connection;
  guint status;
  gsize avail;
  gssize n;

  if (conn->move_to)
    return;                     /* on its way to another worker */
  for (;;) {
    /* skip empty lines before a request (RFC 9112 2.2) */
    while (conn->rpos < conn->rlen && (conn->rbuf[conn->rpos] == '\r'
            || conn->rbuf[conn->rpos] == '\n'))
      conn->rpos++;
    avail = conn->rlen - conn->rpos;
    start = conn->rbuf ? conn->rbuf + conn->rpos : NULL;
    end = avail ? memmem (start, avail, "\r\n\r\n", 4) : NULL;
    if (!end && avail)
      end = memmem (start, avail, "\n\n", 2);
    if (end)
      break;
    if (avail >= server->max_header_size) {
      queue_error_close (conn, 431, "Request header fields too large");
      return;
    }
    if (avail > 0 && conn->head_deadline == 0)
      conn->head_deadline = g_get_monotonic_time () +
          (gint64) server->header_timeout * G_USEC_PER_SEC;
    if (avail == 0)
      conn_trim (conn);
    n = conn_read (conn, MAX (4096, server->max_header_size + 4 - avail));
    if (n == -1)
      return;
    if (n <= 0) {
      conn_close (conn);
      return;
    }
  }
  avail = (end - start) + (*end == '\r' ? 4 : 2);
  if (avail > server->max_header_size) {
    queue_error_close (conn, 431, "Request header fields too large");
    return;
  }
  /* a segment request for a channel that lives on another worker: the
   * connection moves there, with this head still unread */
  if ((conn->move_to = conn_home_worker (conn, start, avail))) {
    g_queue_push_tail (&conn->worker->to_move, conn_ref (conn));
    want_input (conn, FALSE);
    return;
  }

  headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  status = soup_headers_parse_request ((const gchar *) start, avail, headers,
      &method, &target, &version);
  conn->rpos += avail;
  conn->head_deadline = 0;
  conn->idle_deadline = 0;
  if (status != SOUP_STATUS_OK) {
    conn->keep_alive = FALSE;
    queue_error_close (conn, status, soup_status_get_phrase (status));
    goto done;
  }

  connection = soup_message_headers_get_list (headers, "Connection");
  conn->http10 = version == SOUP_HTTP_1_0;
  if (version == SOUP_HTTP_1_0)
    conn->keep_alive = connection
        && soup_header_contains (connection, "keep-alive");
  else
    conn->keep_alive = !(connection && soup_header_contains (connection,
            "close"));
  conn->close_after = FALSE;

  switch (soup_message_headers_get_encoding (headers)) {
    case SOUP_ENCODING_CHUNKED:
      conn->body_mode = BODY_CHUNKED;
      break;
    case SOUP_ENCODING_CONTENT_LENGTH:
      conn->body_remaining = soup_message_headers_get_content_length (headers);
      conn->body_mode = conn->body_remaining ? BODY_LENGTH : BODY_NONE;
      break;
    case SOUP_ENCODING_NONE:
      conn->body_mode = BODY_NONE;
      break;
    default:
      conn->keep_alive = FALSE;
      queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Bad request");
      goto done;
  }

  /* a request body that is not a segment is not read: the connection is
   * closed after the answer (a segment POST clears this once it reads) */
  conn->close_after = conn->body_mode != BODY_NONE;
  handle_request (conn, method, target, headers);
done:
  soup_message_headers_unref (headers);
  g_free (method);
  g_free (target);
}

/* the publisher is done with its segment one way or another: answer it */
static void
post_respond (Conn * conn, gboolean early)
{
  GString *extra = g_string_new (NULL);
  gint64 seq = gst_trickle_segment_get_seq (conn->segment);
  gboolean closed = gst_trickle_channel_is_closed (conn->channel);

  if (early)
    conn->close_after = TRUE;
  if (closed)
    g_string_append (extra, "Lp-Trickle-Closed: terminated\r\n");
  header_printf (extra, "Lp-Trickle-Seq", seq);
  queue_response (conn, SOUP_STATUS_OK, extra->str, NULL, NULL, 0);
  g_string_free (extra, TRUE);
  release_segment (conn);
  /* Subscribers first: finishing the segment queued this worker's readers
   * of it; the publisher's answer goes out after their last chunk, so a
   * subscriber learns a segment ended no later than its publisher does. */
  if (!early) {
    conn->respond_later = TRUE;
    conn_wake (conn);
  }
}

#define MAX_CHUNK_LINE 4096

/* Decodes body bytes in rbuf[rpos, rlen) into @page. Returns FALSE on a
 * framing error. Chunk extensions and trailers are skipped (bounded), a
 * size line is parsed digit by digit so it may be split across reads. */
static gboolean
decode_body (Conn * conn, GByteArray * page, gboolean * done)
{
  guint max_trailers = conn->worker->server->max_header_size;

  while (conn->rpos < conn->rlen && !*done) {
    const guint8 *p = conn->rbuf + conn->rpos;
    gsize avail = conn->rlen - conn->rpos, take;
    guint8 c = *p;

    if (conn->body_mode == BODY_LENGTH) {
      take = MIN (avail, conn->body_remaining);
      g_byte_array_append (page, p, take);
      conn->rpos += take;
      conn->body_remaining -= take;
      *done = conn->body_remaining == 0;
      continue;
    }
    switch (conn->ck_state) {
      case CK_SIZE:
        conn->rpos++;
        if (g_ascii_isxdigit (c)) {
          if (conn->ck_digits == 15)
            return FALSE;       /* over 2^60: nobody sends such a chunk */
          conn->ck_remaining = conn->ck_remaining * 16 +
              g_ascii_xdigit_value (c);
          conn->ck_digits++;
        } else if (conn->ck_digits == 0) {
          return FALSE;
        } else if (c == '\n') {
          conn->ck_state = conn->ck_remaining ? CK_DATA : CK_TRAILER_START;
        } else if (c == ';' || c == ' ' || c == '\t' || c == '\r') {
          conn->ck_state = CK_EXT;
          conn->ck_line_bytes = conn->ck_digits + 1;
        } else {
          return FALSE;
        }
        break;
      case CK_EXT:{
        const guint8 *nl = memchr (p, '\n', avail);
        take = nl ? (gsize) (nl - p) + 1 : avail;
        conn->rpos += take;
        conn->ck_line_bytes += take;
        if (conn->ck_line_bytes > MAX_CHUNK_LINE)
          return FALSE;
        if (nl)
          conn->ck_state = conn->ck_remaining ? CK_DATA : CK_TRAILER_START;
        break;
      }
      case CK_DATA:
        take = MIN (avail, conn->ck_remaining);
        g_byte_array_append (page, p, take);
        conn->rpos += take;
        conn->ck_remaining -= take;
        if (conn->ck_remaining == 0)
          conn->ck_state = CK_DATA_END;
        break;
      case CK_DATA_END:
        /* CRLF (or a bare LF) after the chunk data */
        conn->rpos++;
        if (c == '\n') {
          conn->ck_state = CK_SIZE;
          conn->ck_digits = 0;
          conn->ck_remaining = 0;
        } else if (c != '\r') {
          return FALSE;
        }
        break;
      case CK_TRAILER_START:
        conn->rpos++;
        conn->ck_trailer_bytes++;
        if (c == '\n')
          *done = TRUE;
        else if (c != '\r')
          conn->ck_state = CK_TRAILER_LINE;
        break;
      case CK_TRAILER_LINE:{
        const guint8 *nl = memchr (p, '\n', avail);
        take = nl ? (gsize) (nl - p) + 1 : avail;
        conn->rpos += take;
        conn->ck_trailer_bytes += take;
        if (conn->ck_trailer_bytes > max_trailers)
          return FALSE;
        if (nl)
          conn->ck_state = CK_TRAILER_START;
        break;
      }
      case CK_DONE:
        *done = TRUE;
        break;
    }
  }
  return TRUE;
}

static void
body_step (Conn * conn)
{
  gboolean done = conn->body_mode == BODY_NONE;
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
      gsize start = conn->rpos;
      GByteArray *page = g_byte_array_sized_new (conn->rlen - conn->rpos);
      GBytes *bytes;
      TrickleAppendResult res;

      if (!decode_body (conn, page, &done)) {
        g_byte_array_unref (page);
        _gst_trickle_segment_end (conn->segment, GST_TRICKLE_SEGMENT_ABORTED);
        release_segment (conn);
        queue_error_close (conn, SOUP_STATUS_BAD_REQUEST, "Bad chunk");
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
        release_segment (conn);
        queue_error_close (conn, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
            "Segment too large");
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
      want_input (conn, TRUE);
      break;
    }
    n = conn_read (conn, BODY_READ_SIZE);
    if (n == -1)
      break;
    if (n <= 0) {
      /* disconnected mid-body: conn_close() aborts the segment */
      conn_close (conn);
      return;
    }
    got += n;
  }
}

static void
stream_step (Conn * conn)
{
  GBytes *pages[MAX_PAGES_PER_WRITE];
  GstTrickleSegmentState state;
  gsize total = 0;
  guint n, i;

  for (;;) {
    if (conn->out_n > 0 && !out_flush (conn))
      return;
    if (conn->is_head) {
      GString *extra = g_string_new (NULL);
      gchar *mime = gst_trickle_channel_dup_mime_type (conn->channel);
      gint64 seq = gst_trickle_segment_get_seq (conn->segment);
      if (seq != conn->latest)
        header_printf (extra, "Lp-Trickle-Latest", conn->latest);
      header_printf (extra, "Lp-Trickle-Seq", seq);
      queue_response (conn, SOUP_STATUS_OK, extra->str, mime, NULL, 0);
      g_string_free (extra, TRUE);
      g_free (mime);
      release_segment (conn);
      return;
    }

    n = gst_trickle_segment_peek_pages (conn->segment, conn->next_page, pages,
        MAX_PAGES_PER_WRITE, &state);
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
        /* ended without data (dropped, reset, channel closed) */
        if (gst_trickle_channel_is_closed (conn->channel))
          g_string_append (s, "Lp-Trickle-Closed: terminated\r\n");
        header_printf (s, "Lp-Trickle-Latest",
            gst_trickle_channel_get_next_seq (conn->channel));
        header_printf (s, "Lp-Trickle-Seq", seq);
        queue_response (conn, SOUP_STATUS_OK, s->str, NULL, NULL, 0);
        g_string_free (s, TRUE);
        release_segment (conn);
        return;
      } else {
        gchar *mime = gst_trickle_channel_dup_mime_type (conn->channel);
        g_string_append (s, "HTTP/1.1 200 OK\r\n");
        if (conn->http10)
          conn->keep_alive = FALSE;     /* the body ends with the connection */
        if (!conn->keep_alive)
          g_string_append (s, "Connection: close\r\n");
        if (mime && *mime)      /* none if the publisher named none */
          g_string_append_printf (s, "Content-Type: %s\r\n", mime);
        if (seq != conn->latest)
          header_printf (s, "Lp-Trickle-Latest", conn->latest);
        header_printf (s, "Lp-Trickle-Seq", seq);
        g_string_append_printf (s, "Date: %s\r\n%s\r\n",
            worker_date (conn->worker),
            conn->http10 ? "" : "Transfer-Encoding: chunked\r\n");
        out_push_bytes (conn, g_string_free_to_bytes (s));
        g_free (mime);
        conn->headers_sent = TRUE;
      }
    }
    if (n > 0) {
      for (i = 0; i < n; i++)
        total += g_bytes_get_size (pages[i]);
      g_snprintf (conn->chunk_head, sizeof (conn->chunk_head),
          "%" G_GSIZE_MODIFIER "x\r\n", total);
      if (!conn->http10)
        out_push (conn, NULL, (const guint8 *) conn->chunk_head,
            strlen (conn->chunk_head));
      for (i = 0; i < n; i++)
        out_push_bytes (conn, pages[i]);
      if (!conn->http10)
        out_push (conn, NULL, CRLF, 2);
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
      release_segment (conn);
      if (!conn->http10)
        out_push (conn, NULL, ABORT_CHUNK, 3);
      conn->close_after = TRUE;
      conn->state = ST_RESPOND;
      return;
    }
    if (!conn->http10)
      out_push (conn, NULL, LAST_CHUNK, 5);
    release_segment (conn);
    if (!conn->keep_alive)
      conn->close_after = TRUE;
    conn->state = ST_RESPOND;
    return;
  }
}

static void
conn_step (Conn * conn)
{
  gssize n;

  while (conn->state != ST_CLOSED) {
    ConnState before = conn->state;

    switch (conn->state) {
      case ST_HANDSHAKE:
      case ST_CLOSED:
        return;
      case ST_HEAD:
        head_step (conn);
        break;
      case ST_BODY:
        if (conn->out_n > 0 && !out_flush (conn)) {
          /* a publisher that does not read its interim responses: wait
           * for the socket to drain rather than spin on its input */
          want_input (conn, FALSE);
          break;
        }
        body_step (conn);
        break;
      case ST_STREAM:
        stream_step (conn);
        break;
      case ST_RESPOND:
        if (conn->respond_later && conn->queued)
          break;
        conn->respond_later = FALSE;
        if (!out_flush (conn))
          break;
        if (conn->close_after) {
          conn_close (conn);
          return;
        }
        request_done (conn);
        break;
    }
    if (conn->state == before)
      break;
  }
  if (conn->state == ST_CLOSED)
    return;

  /* Waiting in ST_STREAM (or in ST_RESPOND on a full socket): watch the
   * input anyway, to notice a subscriber that goes away and to keep the
   * bytes of a pipelined request. */
  if (conn->state == ST_STREAM || conn->state == ST_RESPOND) {
    while (conn->rlen - conn->rpos < 65536 && !conn->peer_closed) {
      n = conn_read (conn, 4096);
      if (n == -1)
        break;
      if (n <= 0) {
        conn_close (conn);
        return;
      }
    }
    if (conn->rlen - conn->rpos >= 65536)
      want_input (conn, FALSE);
    conn_trim (conn);
  }
  conn_apply_events (conn);
}

/* runs on every tick of the worker for every connection */
static void
conn_check_timers (Conn * conn, gint64 now)
{
  GstTrickleHttpServer *server = conn->worker->server;
  gint64 io = (gint64) server->io_timeout * G_USEC_PER_SEC;

  if ((conn->head_deadline && now >= conn->head_deadline) ||
      (conn->state == ST_HEAD && conn->idle_deadline
          && now >= conn->idle_deadline) ||
      (conn->state == ST_BODY && conn->got_body_byte
          && now >= conn->last_rx + io) ||
      (conn->out_n > 0 && conn->write_blocked_since
          && now >= conn->write_blocked_since + io)) {
    conn_close (conn);
  } else if (conn->state == ST_BODY && !conn->got_body_byte
      && !conn->http10 && now >= conn->next_keepalive) {
    /* a preconnected POST: an interim response keeps proxies and the
     * client's timers from giving up, and finds dead peers */
    conn->next_keepalive = now + (gint64) server->keepalive_interval * 1000;
    if (conn->out_n < MAX_OUT)
      out_push (conn, NULL, CONTINUE_100, sizeof (CONTINUE_100) - 1);
    conn_step (conn);
  }
}

/* runs in the connection's worker: the connection joins its event loop */
static void
conn_new (Worker * w, Incoming * in)
{
  struct epoll_event ev = { 0, };
  Conn *conn;

  conn = g_new0 (Conn, 1);
  conn->refcount = 1;
  conn->worker = w;
  conn->socket = in->socket;
  conn->fd = g_socket_get_fd (in->socket);
  /* plain TCP is read and written with recv()/sendmsg() on the socket
   * itself; only TLS goes through stream objects */
  conn->tls = in->stream != NULL;
  if (in->stream) {
    conn->stream = in->stream;
    conn->istream = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream
        (conn->stream));
    conn->ostream = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream
        (conn->stream));
  }
  conn->link.data = conn;
  g_queue_push_tail_link (&w->conns, &conn->link);
  conn->head_deadline = g_get_monotonic_time () +
      (gint64) w->server->header_timeout * G_USEC_PER_SEC;
  conn->state = ST_HEAD;
  conn->want_in = TRUE;
  conn->readable = TRUE;
  conn->events = EPOLLIN;
  ev.events = EPOLLIN;
  ev.data.ptr = conn;
  if (epoll_ctl (w->epfd, EPOLL_CTL_ADD, conn->fd, &ev) < 0) {
    conn->events = 0;
    conn_close (conn);
    return;
  }
  conn_ref (conn);
  conn_step (conn);
  conn_unref (conn);
}

static void
incoming_free (Incoming * in)
{
  if (in->stream)
    g_object_unref (in->stream);
  if (in->socket) {
    g_socket_close (in->socket, NULL);
    g_object_unref (in->socket);
  }
  g_free (in);
}

static void
worker_hand_over (Worker * w, Incoming * in)
{
  gboolean signal;

  g_mutex_lock (&w->lock);
  signal = w->incoming.length == 0 && w->woken.length == 0;
  g_queue_push_tail (&w->incoming, in);
  g_mutex_unlock (&w->lock);
  if (signal)
    worker_signal (w);
}

static Worker *
next_worker (GstTrickleHttpServer * server)
{
  guint i = g_atomic_int_add (&server->next_worker, 1);

  return &server->workers[i % server->n_workers];
}

/* TLS handshakes run asynchronously on one thread of their own, each
 * bounded by header-timeout (counted from the accept), so slow or idle TLS
 * clients never hold a worker (nor each other). A connection's TLS state
 * is only set up once its first bytes (the ClientHello) arrive: setting it
 * up costs real CPU (milliseconds, far more in sanitized builds) and
 * glib-networking runs each handshake as a blocking call on a thread of
 * GTask's pool (10 threads; while all are busy it adds one every 100 ms,
 * then slower: about 100 after a minute), so connections that send
 * nothing must take neither, or a client arriving after many of them
 * waits behind them. */
typedef struct
{
  GstTrickleHttpServer *server;
  Incoming *in;
  GSource *readable;            /* waiting for the ClientHello; else NULL */
  GCancellable *cancellable;    /* the handshake (once started) */
  GSource *timeout;
  GList link;
} Handshake;

/* the handshake's end, or the connection's before it started: hands the
 * connection to a worker or closes it */
static void
handshake_finish (Handshake * hs, gboolean ok)
{
  GstTrickleHttpServer *server = hs->server;

  if (hs->readable) {
    g_source_destroy (hs->readable);
    g_source_unref (hs->readable);
  }
  g_source_destroy (hs->timeout);
  g_source_unref (hs->timeout);
  g_queue_unlink (&server->tls_handshakes, &hs->link);
  if (ok && !g_atomic_int_get (&server->stopping))
    worker_hand_over (next_worker (server), hs->in);
  else
    incoming_free (hs->in);
  g_clear_object (&hs->cancellable);
  g_free (hs);
}

static gboolean
handshake_timeout (gpointer data)
{
  Handshake *hs = data;

  if (hs->readable)
    handshake_finish (hs, FALSE);       /* not a byte came */
  else
    g_cancellable_cancel (hs->cancellable);     /* handshake_done follows */
  return G_SOURCE_REMOVE;
}

static void
handshake_done (GObject * source, GAsyncResult * res, gpointer data)
{
  Handshake *hs = data;
  gboolean ok;

  ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), res, NULL);
  handshake_finish (hs, ok);
}

/* the first bytes arrived: now the TLS state is worth setting up. A peer
 * that left without a byte is closed without it (a client that gives up
 * on many idle connections at once must not cost a setup each). */
static gboolean
handshake_begin (GSocket * socket, GIOCondition cond, gpointer data)
{
  Handshake *hs = data;
  GstTrickleHttpServer *server = hs->server;
  GSocketConnection *base;
  GIOStream *tls;
  gchar byte;
  gssize n;

  n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0) {
    handshake_finish (hs, FALSE);
    return G_SOURCE_REMOVE;
  }
  g_source_destroy (hs->readable);
  g_clear_pointer (&hs->readable, g_source_unref);
  base = g_socket_connection_factory_create_connection (hs->in->socket);
  tls = g_tls_server_connection_new (G_IO_STREAM (base),
      server->tls_certificate, NULL);
  g_object_unref (base);
  if (!tls) {
    handshake_finish (hs, FALSE);
    return G_SOURCE_REMOVE;
  }
  hs->in->stream = tls;
  hs->cancellable = g_cancellable_new ();
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls),
      G_PRIORITY_DEFAULT, hs->cancellable, handshake_done, hs);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  GstTrickleHttpServer *server;
  Incoming *in;
  gint64 accepted;              /* monotonic time of the accept */
} HandshakeStart;

static void
handshake_start_free (gpointer data)
{
  HandshakeStart *st = data;

  if (st->in)
    incoming_free (st->in);
  g_free (st);
}

static gboolean
handshake_start (gpointer data)
{
  HandshakeStart *st = data;
  GstTrickleHttpServer *server = st->server;
  Handshake *hs;
  gint64 left_ms;

  /* stopping: handshake_cancel_all may have run already */
  if (g_atomic_int_get (&server->stopping))
    return G_SOURCE_REMOVE;     /* st->in freed with st */
  hs = g_new0 (Handshake, 1);
  hs->server = server;
  hs->in = g_steal_pointer (&st->in);
  left_ms = ((gint64) server->header_timeout * G_USEC_PER_SEC -
      (g_get_monotonic_time () - st->accepted)) / 1000;
  hs->timeout = g_timeout_source_new (MAX (left_ms, 0));
  g_source_set_callback (hs->timeout, handshake_timeout, hs, NULL);
  g_source_attach (hs->timeout, server->tls_context);
  hs->readable = g_socket_create_source (hs->in->socket,
      G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (hs->readable, G_SOURCE_FUNC (handshake_begin), hs,
      NULL);
  g_source_attach (hs->readable, server->tls_context);
  hs->link.data = hs;
  g_queue_push_tail_link (&server->tls_handshakes, &hs->link);
  return G_SOURCE_REMOVE;
}

static gboolean
handshake_cancel_all (gpointer data)
{
  GstTrickleHttpServer *server = data;
  GList *l, *next;

  for (l = server->tls_handshakes.head; l; l = next) {
    Handshake *hs = l->data;

    next = l->next;
    if (hs->readable)
      handshake_finish (hs, FALSE);
    else
      g_cancellable_cancel (hs->cancellable);
  }
  return G_SOURCE_REMOVE;
}

static gpointer
tls_thread_func (gpointer data)
{
  GstTrickleHttpServer *server = data;

  g_main_context_push_thread_default (server->tls_context);
  while (!g_atomic_int_get (&server->stopping)
      || server->tls_handshakes.length > 0)
    g_main_context_iteration (server->tls_context, TRUE);
  g_main_context_pop_thread_default (server->tls_context);
  return NULL;
}

static void
accept_all (GstTrickleHttpServer * server)
{
  GSocket *sock;
  Incoming *in;

  GError *err = NULL;

  while ((sock = g_socket_accept (server->listener, NULL, &err))) {
    g_socket_set_blocking (sock, FALSE);
    g_socket_set_keepalive (sock, TRUE);
    g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    in = g_new0 (Incoming, 1);
    in->socket = sock;
    if (server->tls_certificate) {
      HandshakeStart *st = g_new0 (HandshakeStart, 1);
      st->server = server;
      st->in = in;
      st->accepted = g_get_monotonic_time ();
      g_main_context_invoke_full (server->tls_context, G_PRIORITY_DEFAULT,
          handshake_start, st, handshake_start_free);
    } else
      worker_hand_over (next_worker (server), in);
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
worker_run (Worker * w)
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
        Conn *conn = conn_ref (tag);
        if (events[i].events & EPOLLOUT)
          conn->want_out = FALSE;
        if (events[i].events & EPOLLIN)
          conn->readable = TRUE;
        if ((events[i].events & (EPOLLERR | EPOLLHUP)) &&
            !(events[i].events & EPOLLIN))
          conn_close (conn);    /* the peer is gone */
        else
          conn_step (conn);
        conn_unref (conn);
      }
    }

    /* timeouts, keep-alives, the idle-channel sweep */
    now = g_get_monotonic_time ();
    if (now >= w->next_tick) {
      GList *l, *next;

      w->next_tick = now + tick;
      for (l = w->conns.head; l; l = next) {
        Conn *conn = conn_ref (l->data);
        conn_check_timers (conn, now);
        /* the list changes when a connection closes: start over (the
         * checks are idempotent) */
        next = conn->state == ST_CLOSED ? w->conns.head : l->next;
        conn_unref (conn);
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
      Incoming *in;
      Conn *conn = NULL, *arrived = NULL;

      g_mutex_lock (&w->lock);
      in = g_queue_pop_head (&w->incoming);
      if (!in)
        arrived = g_queue_pop_head (&w->moved);
      if (!in && !arrived) {
        GList *l = g_queue_pop_head_link (&w->woken);
        if (l) {
          conn = conn_ref (l->data);
          conn->queued = FALSE;
        }
      }
      g_mutex_unlock (&w->lock);
      if (in) {
        conn_new (w, in);
        g_free (in);
      } else if (arrived) {
        conn_arrive (w, arrived);
      } else if (conn) {
        conn_step (conn);
        conn_unref (conn);
      } else {
        break;
      }
    }

    /* connections leaving for their channel's worker: nothing on this
     * thread holds them any more */
    for (;;) {
      Conn *conn = g_queue_pop_head (&w->to_move);

      if (!conn)
        break;
      if (conn->state == ST_CLOSED || !conn->move_to) {
        conn_unref (conn);
        continue;
      }
      conn_unref (conn);        /* to_move's; the conns list's one travels */
      conn_hand_over (conn);
    }
  }
}

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  Incoming *in;
  Conn *conn;

  current_worker = w;
  worker_run (w);
  /* shutting down: close every connection in the thread that owns it */
  while (w->conns.head)
    conn_close (w->conns.head->data);
  while ((conn = g_queue_pop_head (&w->to_move)))
    conn_unref (conn);
  g_mutex_lock (&w->lock);
  while ((in = g_queue_pop_head (&w->incoming)))
    incoming_free (in);
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
  g_mutex_clear (&server->lock);
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
  signals[SIGNAL_PUBLISHER_CONNECTED] = g_signal_new ("publisher-connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT64);
  /**
   * GstTrickleHttpServer::publisher-disconnected:
   * @server: the server
   * @channel: the channel's name
   * @seq: the segment the POST wrote
   * @complete: the segment ended normally (%FALSE: the publisher broke off)
   *
   * A POST of a segment ended. Emitted from a worker thread.
   */
  signals[SIGNAL_PUBLISHER_DISCONNECTED] =
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
  signals[SIGNAL_SUBSCRIBER_CONNECTED] = g_signal_new ("subscriber-connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT64);
  /**
   * GstTrickleHttpServer::subscriber-disconnected:
   * @server: the server
   * @channel: the channel's name
   * @seq: the segment the GET read
   *
   * A GET of a segment ended (answered in full, or the subscriber left).
   * Emitted from a worker thread.
   */
  signals[SIGNAL_SUBSCRIBER_DISCONNECTED] =
      g_signal_new ("subscriber-disconnected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_INT64);

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
          "Worker threads (0 = one per CPU)", 0, 64, DEFAULT_THREADS, flags));
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
}

static void
gst_trickle_http_server_init (GstTrickleHttpServer * server)
{
  g_mutex_init (&server->lock);
  server->address = g_strdup (DEFAULT_ADDRESS);
  server->port = DEFAULT_PORT;
  server->base_path = g_strdup (DEFAULT_BASE_PATH);
  server->threads = DEFAULT_THREADS;
  server->max_header_size = DEFAULT_MAX_HEADER_SIZE;
  server->header_timeout = DEFAULT_HEADER_TIMEOUT;
  server->io_timeout = DEFAULT_IO_TIMEOUT;
  server->keepalive_interval = DEFAULT_KEEPALIVE_INTERVAL;
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
  server->workers = g_new0 (Worker, server->n_workers);
  server->stopping = 0;
  server->accept_paused_until = 0;
  if (server->tls_certificate) {
    server->tls_context = g_main_context_new ();
    g_queue_init (&server->tls_handshakes);
    server->tls_thread = g_thread_new ("trickle-tls", tls_thread_func, server);
  }
  interval = _gst_trickle_channel_store_get_idle_timeout (server->store) / 5;
  server->next_sweep = g_get_monotonic_time () +
      (gint64) CLAMP (interval, 1, 60) * G_USEC_PER_SEC;
  for (i = 0; i < server->n_workers; i++) {
    Worker *w = &server->workers[i];
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
    worker_signal (&server->workers[i]);
  }
  for (i = 0; i < server->n_workers; i++)
    g_thread_join (server->workers[i].thread);
  if (server->tls_thread) {
    g_main_context_invoke (server->tls_context, handshake_cancel_all, server);
    g_thread_join (server->tls_thread);
    server->tls_thread = NULL;
    g_clear_pointer (&server->tls_context, g_main_context_unref);
  }
  for (i = 0; i < server->n_workers; i++) {
    Worker *w = &server->workers[i];
    Incoming *in;
    Conn *conn;

    g_mutex_lock (&w->lock);
    while ((in = g_queue_pop_head (&w->incoming)))
      incoming_free (in);
    /* moved here after this worker had stopped: in no list or epoll set */
    while ((conn = g_queue_pop_head (&w->moved))) {
      conn->state = ST_CLOSED;
      g_socket_close (conn->socket, NULL);
      conn_unref (conn);
    }
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
