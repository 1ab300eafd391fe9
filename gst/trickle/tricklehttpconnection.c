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
 * A connection of the HTTP server: its buffered input (recv() on plain
 * TCP, the GTlsConnection's pollable streams with TLS), its output queue
 * (vectored writes of shared pages), its epoll interest, its timers, and
 * its state machine (request head, then a body or a stream, then the
 * answer); the endpoints (tricklehttpendpoints.c) answer the requests.
 * Also the TLS set-up before a connection reaches a worker.
 *
 * A connection belongs to one worker at a time and only that thread
 * touches it; writers on other threads reach it through
 * _gst_trickle_http_conn_wake() (see tricklehttpserver.c for the threads).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/epoll.h>

#include "tricklehttpconnection-private.h"

/* an idle keep-alive connection is closed after this long */
#define IDLE_CONNECTION_TIMEOUT (120 * G_USEC_PER_SEC)

/* ------------------------------------------------------------------------ */
/* connection plumbing */

/* the @i-th queued output entry (a ring of TRICKLE_HTTP_MAX_OUT) */
static inline TrickleHttpOutEntry *
out_entry (TrickleHttpConn * conn, guint i)
{
  return &conn->out[(conn->out_head + i) % TRICKLE_HTTP_MAX_OUT];
}

TrickleHttpConn *
_gst_trickle_http_conn_ref (TrickleHttpConn * conn)
{
  conn->refcount++;
  return conn;
}

void
_gst_trickle_http_conn_unref (TrickleHttpConn * conn)
{
  guint i;

  if (--conn->refcount > 0)
    return;
  for (i = 0; i < conn->out_n; i++)
    g_clear_pointer (&out_entry (conn, i)->owner, g_bytes_unref);
  g_free (conn->out);
  g_free (conn->rbuf);
  g_clear_object (&conn->stream);
  g_clear_object (&conn->socket);
  if (conn->client)
    _gst_trickle_http_server_client_release (conn->worker->server,
        conn->client);
  g_free (conn);
}

/* Input is watched while want_in is set (reading a request, or watching a
 * waiting connection for a peer that goes away); output while a write
 * would block. The epoll registration follows at the end of each step. */
void
_gst_trickle_http_conn_want_input (TrickleHttpConn * conn, gboolean want)
{
  conn->want_in = want;
}

static void
want_output (TrickleHttpConn * conn)
{
  conn->want_out = TRUE;
}

static void
conn_apply_events (TrickleHttpConn * conn)
{
  struct epoll_event ev = { 0, };

  if (conn->state == CONN_CLOSED)
    return;
  ev.events = (conn->want_in ? EPOLLIN : 0) | (conn->want_out ? EPOLLOUT : 0);
  if (ev.events == conn->events)
    return;
  ev.data.ptr = conn;
  epoll_ctl (conn->worker->epfd, EPOLL_CTL_MOD, conn->fd, &ev);
  conn->events = ev.events;
}

/* called by writers on any thread, with the segment lock held: queue the
 * connection for its worker and wake the worker if it may be sleeping */
void
_gst_trickle_http_conn_wake (gpointer user_data)
{
  TrickleHttpConn *conn = user_data;
  TrickleHttpWorker *w = conn->worker;
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
  if (signal && w != _gst_trickle_http_current_worker)
    _gst_trickle_http_worker_signal (w);
}

/* connection events for applications (from a worker thread) */
void
_gst_trickle_http_conn_emit (TrickleHttpConn * conn, guint signal, gint64 seq,
    gboolean complete)
{
  _gst_trickle_http_server_emit (conn->worker->server, signal, conn->channel,
      seq, complete);
}

/* the request is done with its segment and channel (publishing or
 * subscribing): the waiter is removed, the application told */
void
_gst_trickle_http_conn_release_segment (TrickleHttpConn * conn)
{
  GstTrickleSegment *seg = conn->segment;

  if (conn->waiting) {
    gst_trickle_segment_remove_waiter (seg, &conn->waiter);
    conn->waiting = FALSE;
  }
  if (conn->publishing) {
    conn->publishing = FALSE;
    _gst_trickle_http_conn_emit (conn,
        TRICKLE_HTTP_SIGNAL_PUBLISHER_DISCONNECTED,
        seg ? gst_trickle_segment_get_seq (seg) : -1, seg &&
        gst_trickle_segment_get_state (seg) == GST_TRICKLE_SEGMENT_COMPLETE);
  }
  if (conn->subscribed)
    _gst_trickle_http_conn_emit (conn,
        TRICKLE_HTTP_SIGNAL_SUBSCRIBER_DISCONNECTED,
        seg ? gst_trickle_segment_get_seq (seg) : -1, FALSE);
  g_clear_pointer (&conn->segment, gst_trickle_segment_unref);
  if (conn->subscribed) {
    _gst_trickle_channel_add_subscriber (conn->channel, -1);
    conn->subscribed = FALSE;
  }
  g_clear_pointer (&conn->channel, gst_trickle_channel_unref);
}

void
_gst_trickle_http_conn_close (TrickleHttpConn * conn)
{
  TrickleHttpWorker *w = conn->worker;

  if (conn->state == CONN_CLOSED)
    return;
  if (conn->segment && conn->writer &&
      _gst_trickle_segment_writer_is_current (conn->segment, conn->writer)) {
    /* the publisher went away mid-segment: readers must see an error */
    if (conn->got_body_byte)
      _gst_trickle_segment_end (conn->segment, GST_TRICKLE_SEGMENT_ABORTED);
  }
  /* after this no writer can queue the connection any more */
  _gst_trickle_http_conn_release_segment (conn);
  conn->state = CONN_CLOSED;
  g_mutex_lock (&w->lock);
  if (conn->queued) {
    g_queue_unlink (&w->woken, &conn->wake_link);
    conn->queued = FALSE;
  }
  g_mutex_unlock (&w->lock);
  epoll_ctl (w->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
  g_socket_close (conn->socket, NULL);
  g_queue_unlink (&w->conns, &conn->link);
  _gst_trickle_http_conn_unref (conn);
}

/* a connection in no worker's lists or epoll set (moved to a worker that
 * had stopped): closed and freed */
void
_gst_trickle_http_conn_discard (TrickleHttpConn * conn)
{
  conn->state = CONN_CLOSED;
  g_socket_close (conn->socket, NULL);
  _gst_trickle_http_conn_unref (conn);
}

/* ------------------------------------------------------------------------ */
/* output */

void
_gst_trickle_http_conn_push (TrickleHttpConn * conn, GBytes * owner,
    const guint8 * data, gsize len)
{
  TrickleHttpOutEntry *e;

  g_assert (conn->out_n < TRICKLE_HTTP_MAX_OUT);
  if (!conn->out) {
    conn->out = g_new (TrickleHttpOutEntry, TRICKLE_HTTP_MAX_OUT);
    conn->out_head = 0;
  }
  e = out_entry (conn, conn->out_n);
  e->owner = owner;
  e->data = data;
  e->len = len;
  conn->out_n++;
}

void
_gst_trickle_http_conn_push_bytes (TrickleHttpConn * conn, GBytes * bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  _gst_trickle_http_conn_push (conn, bytes, data, len);
}

/* Writes what is queued. Returns TRUE when everything was written, FALSE
 * when the socket is full (an output source is armed) or the connection
 * failed (and was closed). */
gboolean
_gst_trickle_http_conn_flush (TrickleHttpConn * conn)
{
  GOutputVector vec[TRICKLE_HTTP_MAX_OUT];
  gsize written;
  GPollableReturn ret;
  GError *err = NULL;
  guint i;

  while (conn->out_n > 0) {
    for (i = 0; i < conn->out_n; i++) {
      TrickleHttpOutEntry *e = out_entry (conn, i);
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
      _gst_trickle_http_conn_close (conn);
      return FALSE;
    }
    conn->write_blocked_since = 0;
    conn->want_out = FALSE;
    while (written > 0 && conn->out_n > 0) {
      TrickleHttpOutEntry *e = &conn->out[conn->out_head];
      if (written >= e->len) {
        written -= e->len;
        g_clear_pointer (&e->owner, g_bytes_unref);
        conn->out_head = (conn->out_head + 1) % TRICKLE_HTTP_MAX_OUT;
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

/* Queues a whole response. @extra: more header lines ("Name: value\r\n"). */
void
_gst_trickle_http_conn_respond (TrickleHttpConn * conn, guint status,
    const gchar * extra, const gchar * content_type, const gchar * body,
    gsize body_len)
{
  if (!conn->keep_alive)
    conn->close_after = TRUE;
  _gst_trickle_http_conn_push_bytes (conn,
      _gst_trickle_http_response_new (status, conn->close_after, extra,
          content_type, _gst_trickle_http_worker_date (conn->worker), body,
          body_len, conn->is_head));
  conn->state = CONN_RESPOND;
}

/* An error the way the reference's http.Error() writes it. */
void
_gst_trickle_http_conn_respond_error (TrickleHttpConn * conn, guint status,
    const gchar * message)
{
  gchar *body = g_strdup_printf ("%s\n", message);

  _gst_trickle_http_conn_respond (conn, status,
      "X-Content-Type-Options: nosniff\r\n", "text/plain; charset=utf-8", body,
      strlen (body));
  g_free (body);
}

/* An error after which the rest of the request is not read. */
void
_gst_trickle_http_conn_respond_error_close (TrickleHttpConn * conn,
    guint status, const gchar * message)
{
  conn->close_after = TRUE;
  _gst_trickle_http_conn_respond_error (conn, status, message);
}

/* ------------------------------------------------------------------------ */
/* input */

/* Reads more bytes into rbuf. Returns >0 bytes read, 0 on EOF, -1 would
 * block (input source armed), -2 error or no room. */
gssize
_gst_trickle_http_conn_read (TrickleHttpConn * conn, gsize want)
{
  GError *err = NULL;
  gssize n;
  gsize room;

  /* epoll is level-triggered: after an EAGAIN, wait for it to report the
   * socket readable instead of trying again (a wasted syscall) */
  if (!conn->readable) {
    _gst_trickle_http_conn_want_input (conn, TRUE);
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
        _gst_trickle_http_conn_want_input (conn, TRUE);
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
        _gst_trickle_http_conn_want_input (conn, TRUE);
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
conn_trim (TrickleHttpConn * conn)
{
  if (conn->rpos == conn->rlen) {
    g_clear_pointer (&conn->rbuf, g_free);
    conn->rpos = conn->rlen = conn->rcap = 0;
  }
}

/* ------------------------------------------------------------------------ */
/* state machine */

static void
request_done (TrickleHttpConn * conn)
{
  _gst_trickle_http_conn_release_segment (conn);
  if (conn->out_n == 0)
    g_clear_pointer (&conn->out, g_free);
  conn->writer = 0;
  conn->is_head = FALSE;
  _gst_trickle_http_body_decoder_init (&conn->body, TRICKLE_HTTP_BODY_NONE, 0,
      0);
  conn->requests++;
  conn->idle_deadline = g_get_monotonic_time () + IDLE_CONNECTION_TIMEOUT;
  conn->head_deadline = 0;
  conn->state = CONN_HEAD;
}

/* In the connection's (old) worker, once nothing of this iteration holds
 * it any more: it leaves this worker's epoll set and lists and joins the
 * queue of its new worker, which takes it from there. */
void
_gst_trickle_http_conn_hand_over (TrickleHttpConn * conn)
{
  TrickleHttpWorker *from = conn->worker, *to = conn->move_to;

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
  _gst_trickle_http_worker_signal (to);
}

/* In the new worker: the connection joins its epoll set and lists and
 * reads the head it came with. */
void
_gst_trickle_http_conn_arrive (TrickleHttpWorker * w, TrickleHttpConn * conn)
{
  struct epoll_event ev = { 0, };

  conn->move_to = NULL;
  g_queue_push_tail_link (&w->conns, &conn->link);
  conn->want_in = TRUE;
  conn->readable = TRUE;
  conn->events = EPOLLIN;
  ev.events = EPOLLIN;
  ev.data.ptr = conn;
  _gst_trickle_http_conn_ref (conn);
  if (epoll_ctl (w->epfd, EPOLL_CTL_ADD, conn->fd, &ev) < 0) {
    conn->events = 0;
    _gst_trickle_http_conn_close (conn);
  } else {
    _gst_trickle_http_conn_step (conn);
  }
  _gst_trickle_http_conn_unref (conn);
}

/* reads a request head, parses it and hands the request to its endpoint */
static void
head_step (TrickleHttpConn * conn)
{
  GstTrickleHttpServer *server = conn->worker->server;
  TrickleHttpHeadResult found;
  TrickleHttpRequest req;
  const gchar *error;
  const guint8 *start;
  gsize skip, head_len, avail;
  guint status;
  gssize n;

  if (conn->move_to)
    return;                     /* on its way to another worker */
  for (;;) {
    found = _gst_trickle_http_head_find (conn->rbuf ? conn->rbuf + conn->rpos :
        NULL, conn->rlen - conn->rpos, server->max_header_size, &skip,
        &head_len);
    conn->rpos += skip;
    if (found == TRICKLE_HTTP_HEAD_COMPLETE)
      break;
    if (found == TRICKLE_HTTP_HEAD_TOO_LARGE) {
      _gst_trickle_http_conn_respond_error_close (conn, 431,
          "Request header fields too large");
      return;
    }
    avail = conn->rlen - conn->rpos;
    if (avail > 0 && conn->head_deadline == 0)
      conn->head_deadline = g_get_monotonic_time () +
          (gint64) server->header_timeout * G_USEC_PER_SEC;
    if (avail == 0)
      conn_trim (conn);
    n = _gst_trickle_http_conn_read (conn, MAX (4096,
            server->max_header_size + 4 - avail));
    if (n == -1)
      return;
    if (n <= 0) {
      _gst_trickle_http_conn_close (conn);
      return;
    }
  }
  start = conn->rbuf + conn->rpos;
  /* a segment request for a channel that lives on another worker: the
   * connection moves there, with this head still unread */
  if (!conn->tls && (conn->move_to =
          _gst_trickle_http_server_home_worker (server, conn->worker, start,
              head_len))) {
    g_queue_push_tail (&conn->worker->to_move,
        _gst_trickle_http_conn_ref (conn));
    _gst_trickle_http_conn_want_input (conn, FALSE);
    return;
  }

  status = _gst_trickle_http_request_parse (&req, start, head_len, &error);
  conn->rpos += head_len;
  conn->head_deadline = 0;
  conn->idle_deadline = 0;
  conn->keep_alive = req.keep_alive;
  if (status != SOUP_STATUS_OK) {
    _gst_trickle_http_conn_respond_error_close (conn, status, error);
    goto done;
  }
  conn->http10 = req.http10;
  _gst_trickle_http_body_decoder_init (&conn->body, req.body_mode,
      req.content_length, server->max_header_size);
  /* a request body that is not a segment is not read: the connection is
   * closed after the answer (a segment POST clears this once it reads) */
  conn->close_after = req.body_mode != TRICKLE_HTTP_BODY_NONE;
  _gst_trickle_http_route (conn, &req);
done:
  _gst_trickle_http_request_clear (&req);
}

void
_gst_trickle_http_conn_step (TrickleHttpConn * conn)
{
  gssize n;

  while (conn->state != CONN_CLOSED) {
    TrickleHttpConnState before = conn->state;

    switch (conn->state) {
      case CONN_HANDSHAKE:
      case CONN_CLOSED:
        return;
      case CONN_HEAD:
        head_step (conn);
        break;
      case CONN_BODY:
        if (conn->out_n > 0 && !_gst_trickle_http_conn_flush (conn)) {
          /* a publisher that does not read its interim responses: wait
           * for the socket to drain rather than spin on its input */
          _gst_trickle_http_conn_want_input (conn, FALSE);
          break;
        }
        _gst_trickle_http_endpoint_post_body (conn);
        break;
      case CONN_STREAM:
        _gst_trickle_http_endpoint_get_stream (conn);
        break;
      case CONN_RESPOND:
        if (conn->respond_later && conn->queued)
          break;
        conn->respond_later = FALSE;
        if (!_gst_trickle_http_conn_flush (conn))
          break;
        if (conn->close_after) {
          _gst_trickle_http_conn_close (conn);
          return;
        }
        request_done (conn);
        break;
    }
    if (conn->state == before)
      break;
  }
  if (conn->state == CONN_CLOSED)
    return;

  /* Waiting in CONN_STREAM (or in CONN_RESPOND on a full socket): watch the
   * input anyway, to notice a subscriber that goes away and to keep the
   * bytes of a pipelined request. */
  if (conn->state == CONN_STREAM || conn->state == CONN_RESPOND) {
    while (conn->rlen - conn->rpos < 65536 && !conn->peer_closed) {
      n = _gst_trickle_http_conn_read (conn, 4096);
      if (n == -1)
        break;
      if (n <= 0) {
        _gst_trickle_http_conn_close (conn);
        return;
      }
    }
    if (conn->rlen - conn->rpos >= 65536)
      _gst_trickle_http_conn_want_input (conn, FALSE);
    conn_trim (conn);
  }
  conn_apply_events (conn);
}

/* what epoll reported for the connection */
void
_gst_trickle_http_conn_handle_events (TrickleHttpConn * conn, guint32 events)
{
  _gst_trickle_http_conn_ref (conn);
  if (events & EPOLLOUT)
    conn->want_out = FALSE;
  if (events & EPOLLIN)
    conn->readable = TRUE;
  if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
    _gst_trickle_http_conn_close (conn);        /* the peer is gone */
  else
    _gst_trickle_http_conn_step (conn);
  _gst_trickle_http_conn_unref (conn);
}

/* runs on every tick of the worker for every connection */
void
_gst_trickle_http_conn_check_timers (TrickleHttpConn * conn, gint64 now)
{
  GstTrickleHttpServer *server = conn->worker->server;
  gint64 io = (gint64) server->io_timeout * G_USEC_PER_SEC;

  if ((conn->head_deadline && now >= conn->head_deadline) ||
      (conn->state == CONN_HEAD && conn->idle_deadline
          && now >= conn->idle_deadline) ||
      (conn->state == CONN_BODY && conn->got_body_byte
          && now >= conn->last_rx + io) ||
      (conn->out_n > 0 && conn->write_blocked_since
          && now >= conn->write_blocked_since + io)) {
    _gst_trickle_http_conn_close (conn);
  } else if (conn->state == CONN_BODY && !conn->got_body_byte
      && !conn->http10 && now >= conn->next_keepalive) {
    /* a preconnected POST: an interim response keeps proxies and the
     * client's timers from giving up, and finds dead peers */
    conn->next_keepalive = now + (gint64) server->keepalive_interval * 1000;
    if (conn->out_n < TRICKLE_HTTP_MAX_OUT)
      _gst_trickle_http_conn_push (conn, NULL,
          (const guint8 *) TRICKLE_HTTP_CONTINUE_100,
          sizeof (TRICKLE_HTTP_CONTINUE_100) - 1);
    _gst_trickle_http_conn_step (conn);
  }
}

/* runs in the connection's worker: the connection joins its event loop */
void
_gst_trickle_http_conn_new (TrickleHttpWorker * w, TrickleHttpIncoming * in)
{
  struct epoll_event ev = { 0, };
  TrickleHttpConn *conn;

  conn = g_new0 (TrickleHttpConn, 1);
  conn->refcount = 1;
  conn->worker = w;
  conn->socket = in->socket;
  conn->fd = g_socket_get_fd (in->socket);
  conn->client = in->client;
  in->client = NULL;
  conn->refused = in->refused;
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
  conn->state = CONN_HEAD;
  conn->want_in = TRUE;
  conn->readable = TRUE;
  conn->events = EPOLLIN;
  ev.events = EPOLLIN;
  ev.data.ptr = conn;
  if (epoll_ctl (w->epfd, EPOLL_CTL_ADD, conn->fd, &ev) < 0) {
    conn->events = 0;
    _gst_trickle_http_conn_close (conn);
    return;
  }
  _gst_trickle_http_conn_ref (conn);
  _gst_trickle_http_conn_step (conn);
  _gst_trickle_http_conn_unref (conn);
}

void
_gst_trickle_http_incoming_free (TrickleHttpIncoming * in)
{
  if (in->stream)
    g_object_unref (in->stream);
  if (in->socket) {
    g_socket_close (in->socket, NULL);
    g_object_unref (in->socket);
  }
  if (in->client)
    _gst_trickle_http_server_client_release (in->server, in->client);
  g_free (in);
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
  TrickleHttpIncoming *in;
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
    _gst_trickle_http_worker_hand_over (_gst_trickle_http_server_next_worker
        (server), hs->in);
  else
    _gst_trickle_http_incoming_free (hs->in);
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
  TrickleHttpIncoming *in;
  gint64 accepted;              /* monotonic time of the accept */
} HandshakeStart;

static void
handshake_start_free (gpointer data)
{
  HandshakeStart *st = data;

  if (st->in)
    _gst_trickle_http_incoming_free (st->in);
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


/* at start: the thread of the TLS handshakes */
void
_gst_trickle_http_tls_start (GstTrickleHttpServer * server)
{
  server->tls_context = g_main_context_new ();
  g_queue_init (&server->tls_handshakes);
  server->tls_thread = g_thread_new ("trickle-tls", tls_thread_func, server);
}

/* an accepted TLS connection: its handshake, then a worker */
void
_gst_trickle_http_tls_accept (GstTrickleHttpServer * server,
    TrickleHttpIncoming * in)
{
  HandshakeStart *st = g_new0 (HandshakeStart, 1);

  st->server = server;
  st->in = in;
  st->accepted = g_get_monotonic_time ();
  g_main_context_invoke_full (server->tls_context, G_PRIORITY_DEFAULT,
      handshake_start, st, handshake_start_free);
}

/* at stop, once nothing is accepted any more: handshakes in flight are
 * cancelled and the thread joined */
void
_gst_trickle_http_tls_stop (GstTrickleHttpServer * server)
{
  if (!server->tls_thread)
    return;
  g_main_context_invoke (server->tls_context, handshake_cancel_all, server);
  g_thread_join (server->tls_thread);
  server->tls_thread = NULL;
  g_clear_pointer (&server->tls_context, g_main_context_unref);
}
