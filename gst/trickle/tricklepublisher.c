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
 * SECTION:tricklepublisher
 * @title: GstTricklePublisher
 * @short_description: publishes segments into a trickle channel over HTTP
 *
 * The client side of publishing, without GStreamer elements: each segment
 * is the body of one chunked HTTP POST to `<channel url>/<seq>`, streamed
 * while it is written; when a segment begins, the POST of the next one is
 * opened at once (its headers go out, its body waits: the preconnect), so
 * a segment boundary costs no connection set-up.
 *
 * Threads: the #SoupSession lives in a thread of its own with its own
 * #GMainContext; every libsoup call happens there. The caller's thread
 * (a GStreamer streaming thread) only writes into a pipe that is the
 * POST's body (a socketpair): it gives natural back-pressure (a write blocks while
 * the network is slower), and gst_trickle_publisher_unlock() interrupts
 * it. Answers come back asynchronously; an error (404, `Lp-Trickle-Closed`,
 * a failed connection) is reported by the next call.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <gio/gunixinputstream.h>
#include <libsoup/soup.h>
#include <gst/gst.h>

#include "trickle-private.h"
#include "tricklepublisher.h"

#define ANSWER_WAIT_US (5 * G_USEC_PER_SEC)

enum
{
  PROP_0,
  PROP_URL,
  PROP_MIME_TYPE,
  PROP_CREATE_CHANNEL,
  PROP_RESET,
  PROP_SSL_STRICT,
  PROP_TLS_DATABASE,
  PROP_TLS_INTERACTION,
  PROP_EXTRA_HEADERS,
  PROP_RETRIES,
  PROP_SSL_CA_FILE,
  PROP_USER_AGENT,
  PROP_TIMEOUT,
  PROP_RETRY_DELAY,
  PROP_PROXY,
  PROP_PROXY_ID,
  PROP_PROXY_PW,
  PROP_USER_ID,
  PROP_USER_PW,
  PROP_UNANSWERED_TIME,
};

typedef struct
{
  gint refcount;
  GstTricklePublisher *pub;
  gint64 seq;
  SoupMessage *msg;
  GMainContext *context;        /* the session thread's, for the release */
  GCancellable *cancellable;
  int wfd;                      /* body socket, writer side; -1 once ended */
  gboolean reset;               /* sent with Lp-Trickle-Reset */
  gboolean headers_sent;        /* under pub->lock: the server may have it */
  GByteArray *unsent;           /* written before the headers went out: a
                                 * retry on the same seq replays it */
  /* the answer, under pub->lock */
  gboolean done;
  guint status;
  gboolean closed;
  GError *error;
  /* direct (see "Direct POSTs"): our own HTTP/1.1 on the socket */
  gboolean direct;
  GSocketConnection *conn;      /* closed when the POST is freed */
  int fd;                       /* its socket, written by the caller once
                                 * headers_sent */
  guint answer_status;          /* the status line's, 0 before one */
  gboolean wrote_body;          /* caller: a chunk went out */
  gboolean body_ended;          /* under pub->lock: the last chunk went */
  gboolean cut;                 /* under pub->lock: end it when connected */
  gboolean reused;              /* on a kept-alive connection */
  GByteArray *in;               /* session thread: the answer so far */
  GSource *in_source;
} Post;

struct _GstTricklePublisher
{
  GObject parent;

  gchar *url;                   /* channel URL, no trailing slash */
  gchar *mime_type;
  gboolean create_channel;
  gboolean reset;
  gboolean ssl_strict;
  GTlsDatabase *tls_database;   /* property */
  GTlsInteraction *tls_interaction;
  GstStructure *extra_headers;

  GMutex lock;
  GCond cond;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupSession *session;
  GCancellable *unlock;         /* interrupts blocking writes */
  GCancellable *abort;          /* ... even a chunk begun (a flush, a stop) */
  gint64 sent_at;               /* under lock: the control request waited on
                                 * was sent whole then (monotonic us; 0) */

  gint64 seq;                   /* the next segment's seq */
  gboolean first;
  Post *current;
  Post *next;                   /* preconnected */
  GList *pending;               /* ended, answer not seen yet */
  GError *error;                /* sticky: reported by every call */
  guint inflight;               /* session thread: sends not yet answered */
  GList *sending;               /* session thread: their cancellables */
  GMutex run_lock;
  gboolean running;             /* under run_lock: the session thread
                                 * still takes releases */
  gint retries;                 /* property: -1 forever */
  gdouble retry_delay;          /* property, s */
  guint throttled_ms;           /* the last control answer's Retry-After */
  guint unavailable;            /* under lock: an ended POST was answered
                                 * 502-504 (that status), not yet handled */
  gint64 unavailable_seq;
  guint timeout;                /* property, s: 0 none */
  gchar *user_agent;            /* property */
  gchar *proxy;                 /* property */
  TrickleClientCreds creds;     /* properties */
  GProxyResolver *resolver;     /* from proxy, at start */
  gchar *ssl_ca_file;           /* property */
  GTlsDatabase *db;             /* the session's, from the properties */
  gboolean direct;              /* POSTs written on the socket (at start) */
  GSocketClient *client;        /* session thread, direct POSTs */
  GQueue idle;                  /* session thread: kept-alive connections */
  guint failures;               /* in a row */
  guint strikes;                /* broken POSTs of an unknown channel */
  /* statistics, under lock */
  guint64 st_segments, st_bytes, st_retries, st_lost;
};

G_DEFINE_TYPE (GstTricklePublisher, gst_trickle_publisher, G_TYPE_OBJECT);
/* *INDENT-OFF* */
G_DEFINE_QUARK (gst-trickle-publisher-error-quark, gst_trickle_publisher_error);
/* *INDENT-ON* */

static Post *
post_ref (Post * p)
{
  g_atomic_int_inc (&p->refcount);
  return p;
}

static void post_free (Post * p);

static gboolean
post_free_in_thread (gpointer data)
{
  post_free (data);
  return G_SOURCE_REMOVE;
}

/* The last reference may go in the caller's thread; the message is
 * libsoup's, which is not thread safe: while the session thread runs, the
 * message is released there. */
static void
post_unref (Post * p)
{
  GstTricklePublisher *pub = p->pub;

  if (!g_atomic_int_dec_and_test (&p->refcount))
    return;
  g_mutex_lock (&pub->run_lock);
  if (pub->running && !g_main_context_is_owner (pub->context)) {
    if (p->wfd >= 0) {
      close (p->wfd);           /* ends the body now, as the caller meant */
      p->wfd = -1;
    }
    g_main_context_invoke (pub->context, post_free_in_thread, p);
    g_mutex_unlock (&pub->run_lock);
    return;
  }
  g_mutex_unlock (&pub->run_lock);
  post_free (p);
}

static gboolean
release_message (gpointer data)
{
  return G_SOURCE_REMOVE;       /* the source's destroy notify releases it */
}

/* A POST's message is released late, by a timeout on the session thread's
 * context: when it fires, or when the context is finalized if the session
 * ended first. GLib aborts in invalid_closure_notify() (GNOME bug 730296)
 * when an object is disposed in one thread while an object it watches a
 * handler on is disposed in another: libsoup 3.2.3 connects the request
 * body's output stream to the message with g_signal_connect_object(), and
 * closes that stream with g_output_stream_close_async(), which runs in
 * GIO's thread pool; the pool's task can hold the stream's last reference
 * a moment after libsoup has finished with it, so releasing the message at
 * once (when stop() frees the POSTs) aborted the process about once in 50
 * stops. The task holds the context until after it has dropped the stream
 * (g_task_finalize), so a release at the context's finalization always
 * comes after the stream is gone; while the session runs, the timeout's
 * delay leaves the pool's task far behind. */
#define MESSAGE_RELEASE_DELAY_S 1

static void
post_release_message (Post * p)
{
  GSource *s;

  if (!p->msg)
    return;
  s = g_timeout_source_new_seconds (MESSAGE_RELEASE_DELAY_S);
  g_source_set_callback (s, release_message, p->msg, g_object_unref);
  p->msg = NULL;
  g_source_attach (s, p->context);
  g_source_unref (s);
}

static void
post_free (Post * p)
{
  if (p->wfd >= 0)
    close (p->wfd);
  if (p->in_source) {
    g_source_destroy (p->in_source);
    g_source_unref (p->in_source);
  }
  if (p->conn) {
    g_io_stream_close (G_IO_STREAM (p->conn), NULL, NULL);
    g_object_unref (p->conn);
  }
  if (p->in)
    g_byte_array_unref (p->in);
  post_release_message (p);
  g_main_context_unref (p->context);
  g_clear_object (&p->cancellable);
  g_clear_error (&p->error);
  if (p->unsent)
    g_byte_array_unref (p->unsent);
  g_free (p);
}

/* ------------------------------------------------------------------------ */
/* the session thread */

static gboolean
accept_certificate (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  GstTricklePublisher *pub = user_data;

  return !pub->ssl_strict;
}

static SoupMessage *
new_message (GstTricklePublisher * pub, const gchar * method, const gchar * url)
{
  SoupMessage *msg = _gst_trickle_client_new_message (method, url,
      pub->extra_headers, &pub->creds);

  if (msg) {
    g_signal_connect (msg, "accept-certificate",
        G_CALLBACK (accept_certificate), pub);
    /* its /next too: a seq from another origin would number segments
     * sent to this one */
    soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  }
  return msg;
}

static void
post_answered (GObject * source, GAsyncResult * res, gpointer data)
{
  Post *p = data;
  GstTricklePublisher *pub = p->pub;
  GError *err = NULL;
  GInputStream *in;

  in = soup_session_send_finish (SOUP_SESSION (source), res, &err);
  if (in) {
    g_input_stream_close (in, NULL, NULL);
    g_object_unref (in);
  }
  g_mutex_lock (&pub->lock);
  p->done = TRUE;
  if (err) {
    p->error = err;
  } else {
    p->status = soup_message_get_status (p->msg);
    p->closed = soup_message_headers_get_one (soup_message_get_response_headers
        (p->msg), "Lp-Trickle-Closed") != NULL;
  }
  g_cond_broadcast (&pub->cond);
  g_mutex_unlock (&pub->lock);
  pub->inflight--;
  pub->sending = g_list_remove (pub->sending, p->cancellable);
  g_object_unref (p->cancellable);      /* the list's */
  post_unref (p);
}

static void
post_wrote_headers (SoupMessage * msg, gpointer data)
{
  Post *p = data;

  g_mutex_lock (&p->pub->lock);
  p->headers_sent = TRUE;
  g_mutex_unlock (&p->pub->lock);
}

static gboolean
post_send_in_thread (gpointer data)
{
  Post *p = data;

  p->pub->inflight++;
  p->pub->sending = g_list_prepend (p->pub->sending,
      g_object_ref (p->cancellable));
  soup_session_send_async (p->pub->session, p->msg, G_PRIORITY_DEFAULT,
      p->cancellable, post_answered, post_ref (p));
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* Direct POSTs (plain http://, no proxy, no server credentials): the POST
 * is written on the connection's socket by the caller itself, with
 * sendmsg(): a chunk header, the caller's bytes where they are, the
 * chunk's end, in one call. Through libsoup, each 8 KiB of the body is a
 * read from the body socket, three writes on the connection and two
 * GTask dispatches (GIO's splice): 1.4 MB raw frames cost ~1400 system
 * calls each. The session thread still connects (GSocketClient), writes
 * the request head, reads the answer and keeps connections alive for the
 * next POSTs; TLS, proxies and authentication stay with libsoup. */

#define DIRECT_IDLE_MAX 4
/* the most bytes of an answer buffered (its head and body) */
#define DIRECT_MAX_ANSWER (64 * 1024)

/* a kept-alive connection that is still usable (no data, no hang-up
 * waiting on it), or NULL */
static GSocketConnection *
direct_take_idle (GstTricklePublisher * pub)
{
  GSocketConnection *conn;

  while ((conn = g_queue_pop_head (&pub->idle))) {
    GSocket *sock = g_socket_connection_get_socket (conn);
    if (g_socket_condition_check (sock, G_IO_IN | G_IO_HUP | G_IO_ERR) == 0)
      return conn;
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    g_object_unref (conn);
  }
  return NULL;
}

static void
direct_clear_idle (GstTricklePublisher * pub)
{
  GSocketConnection *conn;

  while ((conn = g_queue_pop_head (&pub->idle))) {
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    g_object_unref (conn);
  }
}

/* session thread: @p has its answer (or failed: @err, taken) */
static void
direct_finish (Post * p, GError * err, gboolean keep_alive)
{
  GstTricklePublisher *pub = p->pub;
  gboolean ended;

  if (p->in_source) {
    g_source_destroy (p->in_source);
    g_clear_pointer (&p->in_source, g_source_unref);
  }
  if (err && p->conn)
    /* a writer waiting on the socket wakes up (EPIPE) */
    g_socket_shutdown (g_socket_connection_get_socket (p->conn), TRUE, TRUE,
        NULL);
  g_mutex_lock (&pub->lock);
  ended = p->body_ended;
  p->done = TRUE;
  p->error = err;
  if (!err)
    p->status = p->answer_status;
  g_cond_broadcast (&pub->cond);
  g_mutex_unlock (&pub->lock);
  /* reused only when the caller is done with it */
  if (keep_alive && ended && !err && p->conn
      && g_queue_get_length (&pub->idle) < DIRECT_IDLE_MAX) {
    g_queue_push_tail (&pub->idle, p->conn);
    p->conn = NULL;
  }
  pub->inflight--;
  pub->sending = g_list_remove (pub->sending, p->cancellable);
  g_object_unref (p->cancellable);      /* the list's */
  post_unref (p);
}

/* the answer's head parsed (_gst_trickle_client_parse_answer_head());
 * FALSE while incomplete. *consumed: its length */
static gboolean
direct_parse_head (Post * p, const gchar * d, gsize len, gsize * consumed,
    gint64 * content_length, gboolean * chunked, gboolean * keep_alive)
{
  guint status;
  gboolean closed;

  if (!_gst_trickle_client_parse_answer_head (d, len, consumed, &status,
          content_length, chunked, keep_alive, &closed))
    return FALSE;
  g_mutex_lock (&p->pub->lock);
  p->answer_status = status;
  p->closed = closed;
  g_mutex_unlock (&p->pub->lock);
  return TRUE;
}

/* session thread: the answer comes in */
static gboolean
direct_readable (GSocket * sock, GIOCondition cond, gpointer data)
{
  Post *p = data;
  guint8 buf[4096];
  GError *err = NULL;
  gssize n;
  gsize head_len = 0;
  gint64 clen = -1;
  gboolean chunked = FALSE, keep_alive = FALSE, eof = FALSE;

  if (g_cancellable_is_cancelled (p->cancellable)) {
    g_set_error (&err, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
    direct_finish (p, err, FALSE);
    return G_SOURCE_REMOVE;
  }
  n = g_socket_receive_with_blocking (sock, (gchar *) buf, sizeof (buf),
      FALSE, NULL, &err);
  if (n < 0) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free (err);
      return G_SOURCE_CONTINUE;
    }
    eof = TRUE;
  } else if (n == 0) {
    eof = TRUE;
  } else {
    g_byte_array_append (p->in, buf, n);
  }
  /* 1xx answers come before the answer */
  while (direct_parse_head (p, (const gchar *) p->in->data, p->in->len,
          &head_len, &clen, &chunked, &keep_alive)
      && p->answer_status >= 100 && p->answer_status < 200) {
    g_byte_array_remove_range (p->in, 0, head_len);
    g_mutex_lock (&p->pub->lock);
    p->answer_status = 0;
    g_mutex_unlock (&p->pub->lock);
  }
  if (p->answer_status != 0) {
    const gchar *body = (const gchar *) p->in->data + head_len;
    gsize blen = p->in->len - head_len;
    gboolean complete = p->answer_status == 204 || p->answer_status == 304
        || (chunked && _gst_trickle_client_chunked_complete (body, blen))
        || (!chunked && clen >= 0 && blen >= (guint64) clen);

    if (complete || (eof && !chunked && clen < 0)) {
      g_clear_error (&err);
      direct_finish (p, NULL, keep_alive && complete && !eof);
      return G_SOURCE_REMOVE;
    }
  }
  if (!eof && p->in->len > DIRECT_MAX_ANSWER) {
    /* an answer is a few hundred bytes: a server sending more is not
     * buffered without bound. With the status known that is the answer
     * (the rest is not read: the connection is dropped) */
    if (p->answer_status < 200)
      g_set_error (&err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "An answer head over %u bytes", DIRECT_MAX_ANSWER);
    direct_finish (p, err, FALSE);
    return G_SOURCE_REMOVE;
  }
  if (eof) {
    if (!err)
      g_set_error (&err, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
          "Connection closed before the answer ended");
    g_mutex_lock (&p->pub->lock);
    if (p->reused && p->in->len == 0 && !p->wrote_body && !p->body_ended)
      /* a kept-alive connection the server had closed: nothing of this
       * POST counted there, it is sent again (as libsoup does) */
      p->headers_sent = FALSE;
    g_mutex_unlock (&p->pub->lock);
    direct_finish (p, err, FALSE);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

/* the request head, as libsoup would write it */
static gchar *
direct_head (GstTricklePublisher * pub, Post * p, GUri * uri)
{
  SoupMessageHeaders *h = soup_message_get_request_headers (p->msg);
  SoupMessageHeadersIter iter;
  const gchar *name, *value;
  GString *head = g_string_new (NULL);
  const gchar *query = g_uri_get_query (uri);
  const gchar *host = g_uri_get_host (uri);
  gint port = g_uri_get_port (uri);
  gboolean v6 = strchr (host, ':') != NULL;     /* an IPv6 literal */

  g_string_append_printf (head, "POST %s%s%s HTTP/1.1\r\nHost: %s%s%s",
      *g_uri_get_path (uri) ? g_uri_get_path (uri) : "/", query ? "?" : "",
      query ? query : "", v6 ? "[" : "", host, v6 ? "]" : "");
  if (port > 0 && port != 80)
    g_string_append_printf (head, ":%d", port);
  g_string_append (head, "\r\n");
  if (pub->user_agent && *pub->user_agent)
    g_string_append_printf (head, "User-Agent: %s\r\n", pub->user_agent);
  g_string_append (head, "Transfer-Encoding: chunked\r\n");
  if (pub->mime_type)
    g_string_append_printf (head, "Content-Type: %s\r\n", pub->mime_type);
  soup_message_headers_iter_init (&iter, h);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    g_string_append_printf (head, "%s: %s\r\n", name, value);
  g_string_append (head, "\r\n");
  return g_string_free (head, FALSE);
}

/* session thread: blocking writes on the socket (small ones: a head, an
 * end) */
static gboolean
direct_write_small (Post * p, const gchar * data, gsize len, GError ** err)
{
  return g_output_stream_write_all (g_io_stream_get_output_stream
      (G_IO_STREAM (p->conn)), data, len, NULL, p->cancellable, err);
}

/* session thread: connected, the head goes out */
static void
direct_connected (Post * p, GSocketConnection * conn)
{
  GstTricklePublisher *pub = p->pub;
  GSocket *sock = g_socket_connection_get_socket (conn);
  GError *err = NULL;
  gchar *head;
  gboolean cut;

  p->conn = conn;
  g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  /* the client's timeout bounded the connection; the answer comes when
   * the body ends, whenever that is (a preconnect waits a whole segment),
   * and GLib would time the socket's watch out */
  g_socket_set_timeout (sock, 0);
  head = direct_head (pub, p, soup_message_get_uri (p->msg));
  if (!direct_write_small (p, head, strlen (head), &err)) {
    g_free (head);
    direct_finish (p, err, FALSE);
    return;
  }
  g_free (head);
  g_mutex_lock (&pub->lock);
  p->fd = g_socket_get_fd (sock);
  p->headers_sent = TRUE;
  cut = p->cut;
  g_cond_broadcast (&pub->cond);
  g_mutex_unlock (&pub->lock);
  if (cut && direct_write_small (p, "0\r\n\r\n", 5, NULL)) {
    g_mutex_lock (&pub->lock);
    p->body_ended = TRUE;
    g_mutex_unlock (&pub->lock);
  }
  p->in = g_byte_array_new ();
  p->in_source = g_socket_create_source (sock, G_IO_IN | G_IO_HUP |
      G_IO_ERR, p->cancellable);
  g_source_set_callback (p->in_source, (GSourceFunc) direct_readable, p, NULL);
  g_source_attach (p->in_source, pub->context);
}

static void
direct_connect_done (GObject * source, GAsyncResult * res, gpointer data)
{
  Post *p = data;
  GError *err = NULL;
  GSocketConnection *conn =
      g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), res,
      &err);

  if (conn)
    direct_connected (p, conn);
  else
    direct_finish (p, err, FALSE);
}

static gboolean
direct_open_in_thread (gpointer data)
{
  Post *p = data;
  GstTricklePublisher *pub = p->pub;
  GSocketConnection *conn;

  pub->inflight++;
  pub->sending = g_list_prepend (pub->sending, g_object_ref (p->cancellable));
  post_ref (p);                 /* until direct_finish() */
  conn = direct_take_idle (pub);
  if (conn) {
    p->reused = TRUE;
    direct_connected (p, conn);
  } else {
    gchar *url = g_uri_to_string (soup_message_get_uri (p->msg));
    g_socket_client_connect_to_uri_async (pub->client, url, 80,
        p->cancellable, direct_connect_done, p);
    g_free (url);
  }
  return G_SOURCE_REMOVE;
}

/* session thread: a POST whose body will never come (stop) ends it empty,
 * as libsoup does; one cut in the middle is dropped */
static gboolean
direct_cut_in_thread (gpointer data)
{
  Post *p = data;
  GstTricklePublisher *pub = p->pub;
  gboolean end = FALSE;

  g_mutex_lock (&pub->lock);
  if (p->headers_sent && !p->body_ended && !p->done && p->conn) {
    if (p->wrote_body)
      g_socket_shutdown (g_socket_connection_get_socket (p->conn), FALSE,
          TRUE, NULL);
    else
      end = TRUE;
  }
  g_mutex_unlock (&pub->lock);
  if (end && direct_write_small (p, "0\r\n\r\n", 5, NULL)) {
    g_mutex_lock (&pub->lock);
    p->body_ended = TRUE;
    g_mutex_unlock (&pub->lock);
  }
  post_unref (p);
  return G_SOURCE_REMOVE;
}

/* a write begun that an unlock() (a pause) came during goes on while the
 * socket sends something at least this often; then it is given up */
#define UNLOCKED_STALL_MS 1000

/* bytes queued in @fd's send buffer, not yet sent (-1: unknown) */
static gint
queued_bytes (gint fd)
{
  gint q;

  return ioctl (fd, SIOCOUTQ, &q) == 0 ? q : -1;
}

/* caller: waits until @fd takes more of a write. Before the write's first
 * byte (!@started) an unlock() interrupts the wait; after it, an abort()
 * does, or an unlock() once the socket sent nothing of its queue for
 * UNLOCKED_STALL_MS. Returns 0 (writable), ECANCELED, or ETIMEDOUT
 * (nothing taken for `timeout`). */
static gint
wait_writable (GstTricklePublisher * pub, gint fd, gboolean started)
{
  GPollFD fds[3];
  gboolean unlocked = g_cancellable_is_cancelled (pub->unlock);
  gint timeout = pub->timeout ? (gint) pub->timeout * 1000 : -1;
  gboolean with_unlock = !started || !unlocked;
  gint queued = started && unlocked ? queued_bytes (fd) : -1;
  guint n = 1;
  gint r;

  fds[0].fd = fd;
  fds[0].events = G_IO_OUT;
  fds[0].revents = 0;
  /* (a cancelled unlock's fd stays readable: not polled once seen) */
  if (with_unlock)
    g_cancellable_make_pollfd (pub->unlock, &fds[n++]);
  if (started)
    g_cancellable_make_pollfd (pub->abort, &fds[n++]);
  if (started && unlocked && (timeout < 0 || timeout > UNLOCKED_STALL_MS))
    timeout = UNLOCKED_STALL_MS;
  r = g_poll (fds, n, timeout);
  if (with_unlock)
    g_cancellable_release_fd (pub->unlock);
  if (started)
    g_cancellable_release_fd (pub->abort);
  if (started ? g_cancellable_is_cancelled (pub->abort) :
      g_cancellable_is_cancelled (pub->unlock))
    return ECANCELED;
  if (r == 0 && started && unlocked) {
    gint now = queued_bytes (fd);

    /* still sending (a slow reader, a full buffer not yet a third free):
     * asked again */
    return queued >= 0 && now >= 0 && now < queued ? 0 : ECANCELED;
  }
  if (r == 0)
    return ETIMEDOUT;
  return 0;
}

/* caller: writes @iov completely on the socket; FALSE with errno set.
 * gst_trickle_publisher_unlock() interrupts it (ECANCELED) before its
 * first byte, when @interruptible; a chunk begun is finished, or the
 * chunked body would be broken for the rest of the POST, unless the
 * socket stalls (see wait_writable()) or gst_trickle_publisher_abort()
 * comes: the socket is then shut down (the segment is lost). A socket
 * that takes nothing for `timeout` seconds is given up (ETIMEDOUT) and
 * shut down, so its answer reader sees the end too. */
static gboolean
direct_sendmsg (GstTricklePublisher * pub, Post * p, struct iovec *iov,
    guint n, gboolean interruptible)
{
  gboolean started = !interruptible;

  while (n > 0) {
    struct msghdr m = { 0 };
    ssize_t w;

    m.msg_iov = iov;
    m.msg_iovlen = n;
    w = sendmsg (p->fd, &m, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno == EAGAIN) {
      gint e = wait_writable (pub, p->fd, started);

      if (e) {
        if (started || e == ETIMEDOUT)
          shutdown (p->fd, SHUT_RDWR);
        errno = e;
        return FALSE;
      }
      continue;
    }
    if (w < 0)
      return FALSE;
    started = TRUE;
    while (n > 0 && (gsize) w >= iov->iov_len) {
      w -= iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (guint8 *) iov->iov_base + w;
      iov->iov_len -= w;
    }
  }
  return TRUE;
}

/* caller: waits until @p's head went out or it failed; FALSE if
 * unlocked */
static gboolean
direct_wait_head (GstTricklePublisher * pub, Post * p)
{
  gboolean ok;

  g_mutex_lock (&pub->lock);
  while (!p->headers_sent && !p->done
      && !g_cancellable_is_cancelled (pub->unlock))
    g_cond_wait_until (&pub->cond, &pub->lock, g_get_monotonic_time () +
        20 * G_TIME_SPAN_MILLISECOND);
  ok = !g_cancellable_is_cancelled (pub->unlock);
  g_mutex_unlock (&pub->lock);
  return ok;
}

/* caller: the body's last chunk; a POST whose head is not out yet is
 * ended by the session thread once it is (never waited for here) */
static void
direct_end (GstTricklePublisher * pub, Post * p)
{
  struct iovec iov = { (gpointer) "0\r\n\r\n", 5 };
  gboolean sent;

  g_mutex_lock (&pub->lock);
  sent = p->headers_sent && !p->done;
  if (!p->headers_sent)
    p->cut = TRUE;
  g_mutex_unlock (&pub->lock);
  /* (a terminator is never interrupted: the server would hold the seq) */
  if (sent && direct_sendmsg (pub, p, &iov, 1, FALSE)) {
    g_mutex_lock (&pub->lock);
    p->body_ended = TRUE;
    g_mutex_unlock (&pub->lock);
  }
}

/* opens POST <url>/<seq>: its headers go out now, its body is a socket */
static Post *
post_open (GstTricklePublisher * pub, gint64 seq, gboolean reset,
    GError ** error)
{
  Post *p;
  gchar *url;
  int fds[2];
  GInputStream *body;

  /* a socketpair rather than a pipe: send() with MSG_NOSIGNAL never raises
   * SIGPIPE in the application when libsoup stopped reading (a direct
   * POST's body goes on its connection instead) */
  if (!pub->direct && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
          SOCK_NONBLOCK, 0, fds) < 0) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_IO, "socketpair: %s", g_strerror (errno));
    return NULL;
  }
  p = g_new0 (Post, 1);
  p->refcount = 1;
  p->pub = pub;
  p->seq = seq;
  p->wfd = p->fd = -1;
  p->direct = pub->direct;
  p->reset = reset;
  p->context = g_main_context_ref (pub->context);
  p->cancellable = g_cancellable_new ();
  url = g_strdup_printf ("%s/%" G_GINT64_FORMAT, pub->url, seq);
  /* (a direct POST's message only holds its headers, the extra ones
   * as libsoup has them) */
  p->msg = new_message (pub, "POST", url);
  g_free (url);
  if (reset)
    soup_message_headers_replace (soup_message_get_request_headers (p->msg),
        "Lp-Trickle-Reset", "1");
  if (p->direct) {
    g_main_context_invoke (pub->context, direct_open_in_thread, p);
    return p;
  }
  shutdown (fds[0], SHUT_WR);
  shutdown (fds[1], SHUT_RD);
  p->wfd = fds[1];
  g_signal_connect (p->msg, "wrote-headers", G_CALLBACK (post_wrote_headers),
      p);
  body = g_unix_input_stream_new (fds[0], TRUE);
  soup_message_set_request_body (p->msg, pub->mime_type, body, -1);
  g_object_unref (body);
  g_main_context_invoke (pub->context, post_send_in_thread, p);
  return p;
}

static gboolean
drain_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* runs the session thread's context until the sends returned, at most
 * @ms */
static void
drain_sends (GstTricklePublisher * pub, guint ms)
{
  gboolean late = FALSE;
  GSource *t = g_timeout_source_new (ms);

  g_source_set_callback (t, drain_timeout, &late, NULL);
  g_source_attach (t, pub->context);
  while (pub->inflight > 0 && !late)
    g_main_context_iteration (pub->context, TRUE);
  g_source_destroy (t);
  g_source_unref (t);
}


static gpointer
thread_func (gpointer data)
{
  GstTricklePublisher *pub = data;

  g_main_context_push_thread_default (pub->context);
  /* two connections at once: the current POST and the preconnected one
   * (libsoup's default is 2 per host; leave room for control requests) */
  pub->session = soup_session_new_with_options ("max-conns-per-host", 8,
      "max-conns", 16, "timeout", pub->timeout, "user-agent",
      pub->user_agent, NULL);
  if (pub->db)
    soup_session_set_tls_database (pub->session, pub->db);
  if (pub->tls_interaction)
    soup_session_set_tls_interaction (pub->session, pub->tls_interaction);
  if (pub->resolver)
    soup_session_set_proxy_resolver (pub->session, pub->resolver);
  pub->client = g_socket_client_new ();
  g_socket_client_set_timeout (pub->client, pub->timeout);
  g_queue_init (&pub->idle);
  g_mutex_lock (&pub->run_lock);
  pub->running = TRUE;
  g_mutex_unlock (&pub->run_lock);
  g_mutex_lock (&pub->lock);
  g_cond_broadcast (&pub->cond);
  g_mutex_unlock (&pub->lock);
  g_main_loop_run (pub->loop);
  /* Every send returns before the session and the context go, so what
   * they hold (sockets, the POSTs) is freed: first the answers to the
   * bodies stop() ended (a moment), then the rest cancelled, and only then
   * soup_session_abort() closes the connections. Cancelling or aborting
   * messages in flight at once is avoided: libsoup 3.2.3 can then tear a
   * message's I/O down under a response stream it closes later (a crash
   * seen under ASan). Bounded: stop never waits long for a server. */
  while (g_main_context_iteration (pub->context, FALSE));       /* queued sends */
  drain_sends (pub, 200);
  if (pub->inflight > 0) {
    g_list_foreach (pub->sending, (GFunc) g_cancellable_cancel, NULL);
    drain_sends (pub, 200);
  }
  /* no message in flight any more (or late ones): the connections go */
  soup_session_abort (pub->session);
  direct_clear_idle (pub);
  drain_sends (pub, 200);
  /* releases queued before this are run by the iterations below, later
   * ones happen in the releasing thread */
  g_mutex_lock (&pub->run_lock);
  pub->running = FALSE;
  g_mutex_unlock (&pub->run_lock);
  while (g_main_context_iteration (pub->context, FALSE));
  g_clear_object (&pub->session);
  direct_clear_idle (pub);
  g_clear_object (&pub->client);
  while (g_main_context_iteration (pub->context, FALSE));
  g_main_context_pop_thread_default (pub->context);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* synchronous control requests (in the session thread) */

/* A control request is never cancelled while in flight (libsoup 3.2.3 can
 * crash when a send is cancelled as its answer arrives): a caller that is
 * unlocked, or waited `timeout` seconds, stops waiting and leaves it; the
 * session thread frees it when it returns (stop() cancels what is left
 * only at the end, see thread_func()). */
typedef struct
{
  GstTricklePublisher *pub;
  gchar *method;
  gchar *url;
  gchar *expect_content;
  SoupMessage *msg;
  GCancellable *cancellable;
  guint status;
  gchar *latest;
  guint throttled_ms;           /* 429/503 with Retry-After: its wait */
  GError *error;
  gboolean sent;                /* the whole request went out */
  gboolean done;                /* under pub->lock */
  gboolean abandoned;           /* under pub->lock: the caller left */
} Control;

static void
control_free (Control * c)
{
  g_clear_object (&c->msg);
  g_clear_object (&c->cancellable);
  g_clear_error (&c->error);
  g_free (c->method);
  g_free (c->url);
  g_free (c->expect_content);
  g_free (c->latest);
  g_free (c);
}

/* the session thread is done with @c */
static void
control_finish (Control * c)
{
  GstTricklePublisher *pub = c->pub;
  gboolean abandoned;

  g_mutex_lock (&pub->lock);
  c->done = TRUE;
  abandoned = c->abandoned;
  g_cond_broadcast (&pub->cond);
  g_mutex_unlock (&pub->lock);
  if (abandoned)
    control_free (c);
}

static void
control_done (GObject * source, GAsyncResult * res, gpointer data)
{
  Control *c = data;
  GstTricklePublisher *pub = c->pub;
  GInputStream *in;

  /* status and headers are the answer (GET /next also says its seq in
   * Lp-Trickle-Latest): the small body is not needed. The stream is
   * closed here, before the message goes (soup_session_send_and_read
   * would keep reading it in tasks that can outlive the message) */
  in = soup_session_send_finish (SOUP_SESSION (source), res, &c->error);
  if (in) {
    c->status = soup_message_get_status (c->msg);
    c->latest = g_strdup (soup_message_headers_get_one
        (soup_message_get_response_headers (c->msg), "Lp-Trickle-Latest"));
    c->throttled_ms = _gst_trickle_client_throttled_ms (c->status,
        soup_message_get_response_headers (c->msg));
    g_input_stream_close (in, NULL, NULL);
    g_object_unref (in);
  }
  g_clear_object (&c->msg);
  pub->inflight--;
  pub->sending = g_list_remove (pub->sending, c->cancellable);
  g_object_unref (c->cancellable);      /* the list's */
  control_finish (c);
}

static void
control_sent (Control * c)
{
  c->sent = TRUE;
  g_mutex_lock (&c->pub->lock);
  if (!c->abandoned)
    c->pub->sent_at = g_get_monotonic_time ();
  g_mutex_unlock (&c->pub->lock);
}

/* sent again (an authentication, a re-queue): not sent whole yet */
static void
control_restarted (Control * c)
{
  c->sent = FALSE;
  g_mutex_lock (&c->pub->lock);
  if (!c->abandoned)
    c->pub->sent_at = 0;
  g_mutex_unlock (&c->pub->lock);
}

/* starts the request in the session thread; never blocks that thread (a
 * synchronous request there would wait for a connection that only the
 * blocked thread could free) */
static gboolean
control_in_thread (gpointer data)
{
  Control *c = data;
  GstTricklePublisher *pub = c->pub;

  c->msg = new_message (pub, c->method, c->url);
  if (!c->msg) {
    g_set_error (&c->error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_IO, "Invalid URL %s", c->url);
    control_finish (c);
    return G_SOURCE_REMOVE;
  }
  if (c->expect_content)
    soup_message_headers_replace (soup_message_get_request_headers (c->msg),
        "Expect-Content", c->expect_content);
  g_signal_connect_swapped (c->msg, "wrote-body", G_CALLBACK (control_sent), c);
  g_signal_connect_swapped (c->msg, "restarted",
      G_CALLBACK (control_restarted), c);
  pub->inflight++;
  pub->sending = g_list_prepend (pub->sending, g_object_ref (c->cancellable));
  soup_session_send_async (pub->session, c->msg, G_PRIORITY_DEFAULT,
      c->cancellable, control_done, c);
  return G_SOURCE_REMOVE;
}

/* `timeout` bounds every network wait of a request in libsoup (the
 * session's timeout: connection set-up, each read and write, the wait for
 * the answer), failing it with G_IO_ERROR_TIMED_OUT, which is retried like
 * a connection that failed. The caller's own bound is twice that: a
 * backstop for an answer trickling in byte by byte. */
static gint64
backstop_us (GstTricklePublisher * pub)
{
  return 2 * (gint64) pub->timeout * G_USEC_PER_SEC;
}

/* @unreached (optional): set when the request failed without an answer
 * in a way that may pass (no connection yet, connection reset), as
 * opposed to a refused certificate, an interruption or a server that
 * took the request and never answered */
static gboolean
control_full (GstTricklePublisher * pub, const gchar * method,
    const gchar * url, const gchar * expect_content, guint * status,
    gint64 * latest, gboolean * unreached, GError ** error)
{
  Control *c = g_new0 (Control, 1);
  gint64 deadline = pub->timeout ? g_get_monotonic_time () +
      backstop_us (pub) : G_MAXINT64;
  gboolean ok;

  c->pub = pub;
  c->method = g_strdup (method);
  c->url = g_strdup (url);
  c->expect_content = g_strdup (expect_content);
  c->cancellable = g_cancellable_new ();
  g_main_context_invoke (pub->context, control_in_thread, c);

  /* bounded, and interrupted by gst_trickle_publisher_unlock() */
  g_mutex_lock (&pub->lock);
  while (!c->done && !g_cancellable_is_cancelled (pub->unlock))
    if (deadline == G_MAXINT64)
      g_cond_wait (&pub->cond, &pub->lock);
    else if (!g_cond_wait_until (&pub->cond, &pub->lock, deadline))
      break;
  pub->sent_at = 0;
  if (!c->done) {
    gboolean unlocked = g_cancellable_is_cancelled (pub->unlock);
    c->abandoned = TRUE;
    g_mutex_unlock (&pub->lock);
    if (unlocked)
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CANCELLED, "Interrupted");
    else
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_IO, "%s %s: no answer in %u s", method,
          url, 2 * pub->timeout);
    return FALSE;
  }
  g_mutex_unlock (&pub->lock);

  ok = c->error == NULL;
  if (!ok) {
    /* a request that went out whole and timed out: a server that took
     * it and does not answer, not one that could not be reached */
    if (unreached)
      *unreached = c->error->domain != G_TLS_ERROR &&
          !g_error_matches (c->error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !(c->sent && g_error_matches (c->error, G_IO_ERROR,
              G_IO_ERROR_TIMED_OUT));
    if (c->sent && g_error_matches (c->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_IO, "%s %s: no answer in %u s (the "
          "server took the request)", method, url, pub->timeout);
    else
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_IO, "%s %s: %s", method, url,
          c->error->message);
  } else {
    *status = c->status;
    pub->throttled_ms = c->throttled_ms;
    if (latest) {
      *latest = -1;
      if (c->latest && !_gst_trickle_client_parse_seq (c->latest, latest)) {
        gchar *v = g_strescape (c->latest, NULL);

        g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_HTTP, "%s %s: invalid "
            "Lp-Trickle-Latest \"%.40s\" (not a sequence number)", method,
            url, v);
        g_free (v);
        *latest = -1;
        ok = FALSE;
      }
    }
  }
  control_free (c);
  return ok;
}

static gboolean
control (GstTricklePublisher * pub, const gchar * method, const gchar * url,
    const gchar * expect_content, guint * status, gint64 * latest,
    GError ** error)
{
  return control_full (pub, method, url, expect_content, status, latest,
      NULL, error);
}

/* ------------------------------------------------------------------------ */
/* answers */

/* the HTTP status the server answered, 0 before (or without) one */
static guint
answered_status (Post * p)
{
  return p->direct ? p->answer_status : soup_message_get_status (p->msg);
}

/* turns a finished POST's answer into an error (or none) */
static gboolean
post_check (GstTricklePublisher * pub, Post * p, GError ** error)
{
  if (p->error && answered_status (p) != 0) {
    /* answered, then the connection broke (an early 404 with
     * Connection: close while the body was being sent): the answer counts */
    p->status = answered_status (p);
    g_clear_error (&p->error);
  }
  if (p->error) {
    if (g_error_matches (p->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return TRUE;
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_IO, "POST %s/%" G_GINT64_FORMAT ": %s",
        pub->url, p->seq, p->error->message);
    return FALSE;
  }
  if (_gst_trickle_client_status_unauthorized (p->status)) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_NOT_AUTHORIZED, "POST %s/%"
        G_GINT64_FORMAT ": HTTP %u", pub->url, p->seq, p->status);
    return FALSE;
  }
  if (p->status == 404) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND, "Channel %s not found",
        pub->url);
    return FALSE;
  }
  if (p->closed) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_CLOSED, "Channel %s was closed", pub->url);
    return FALSE;
  }
  if (p->status >= 300 && p->status < 400) {
    /* nothing was published: a redirect of a segment is not followed */
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_HTTP, "POST %s/%" G_GINT64_FORMAT
        ": HTTP %u (a redirect: the segment was not published; set the "
        "URL it names)", pub->url, p->seq, p->status);
    return FALSE;
  }
  if (p->status >= 400 || p->status < 200) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_HTTP, "POST %s/%" G_GINT64_FORMAT
        ": HTTP %u", pub->url, p->seq, p->status);
    return FALSE;
  }
  return TRUE;
}

/* 502, 503, 504: what a proxy answers when the server behind it is down
 * (or a server asking to come back later): the server is not there */
static gboolean
unavailable_status (guint status)
{
  return status >= 502 && status <= 504;
}

/* no HTTP answer (the connection failed, or was refused), or an answer
 * that says the server could not be reached */
static gboolean
transport_failed (Post * p)
{
  return p->done && ((p->error && answered_status (p) == 0 &&
          !g_error_matches (p->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      || unavailable_status (answered_status (p)));
}

/* A POST broke without an answer. A server refusing it (unknown channel)
 * answers 404 and drops the connection while the body is still being
 * sent, and libsoup may report only the broken pipe: ask the channel.
 * (A 404 may also be a restarted server that creates the channel with the
 * next POST: the caller decides.) */
static gboolean
probe_not_found (GstTricklePublisher * pub)
{
  gchar *next_url = g_strdup_printf ("%s/next", pub->url);
  guint status = 0;
  gboolean gone;

  gone = control (pub, "GET", next_url, NULL, &status, NULL, NULL) &&
      status == 404;
  g_free (next_url);
  return gone;
}

/* @n POSTs broke after the server had their headers: a refusal (404 and
 * a dropped connection) or a server gone. Two refusals in a row with the
 * channel unknown: it does not exist (a single one may be a restarted
 * server whose channel the next POST creates). Sets the sticky error. */
static void
note_refused (GstTricklePublisher * pub, guint n)
{
  if (!probe_not_found (pub)) {
    pub->strikes = 0;
    return;
  }
  pub->strikes += n;
  if (pub->strikes < 2)
    return;
  g_mutex_lock (&pub->lock);
  g_clear_error (&pub->error);
  g_set_error (&pub->error, GST_TRICKLE_PUBLISHER_ERROR,
      GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND, "Channel %s not found", pub->url);
  g_mutex_unlock (&pub->lock);
}

/* collects the answers that came in; the first error sticks. Connection
 * failures are not errors here: an ended segment that got no answer is
 * counted lost, a preconnect that failed is opened again when needed, the
 * current POST is recovered by the writer (recover_current()). */
static gboolean
reap (GstTricklePublisher * pub, GError ** error)
{
  GList *l, *next;
  guint refused = 0;

  g_mutex_lock (&pub->lock);
  for (l = pub->pending; l; l = next) {
    Post *p = l->data;
    next = l->next;
    if (!p->done)
      continue;
    if (transport_failed (p)) {
      pub->st_lost++;
      if (unavailable_status (answered_status (p))) {
        pub->unavailable = answered_status (p);
        pub->unavailable_seq = p->seq;
      } else {
        refused += p->headers_sent;
      }
    } else if (!pub->error && post_check (pub, p, &pub->error)) {
      pub->st_segments++;
      pub->failures = 0;
      pub->strikes = 0;
    }
    pub->pending = g_list_delete_link (pub->pending, l);
    post_unref (p);
  }
  if (pub->next && pub->next->done) {
    if (transport_failed (pub->next)) {
      refused += pub->next->headers_sent;
      g_clear_pointer (&pub->next, post_unref);
    } else if (!pub->error)
      post_check (pub, pub->next, &pub->error);
  }
  /* an answer to a POST still being written (an early 404) */
  if (!pub->error && pub->current && pub->current->done
      && !transport_failed (pub->current))
    post_check (pub, pub->current, &pub->error);
  g_mutex_unlock (&pub->lock);

  if (refused > 0 && !pub->error)
    note_refused (pub, refused);
  g_mutex_lock (&pub->lock);
  if (pub->error) {
    g_propagate_error (error, g_error_copy (pub->error));
    g_mutex_unlock (&pub->lock);
    return FALSE;
  }
  g_mutex_unlock (&pub->lock);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* flow: at most the previous segment (ending), the current one and the
 * preconnected next one are in flight. The next POST is opened only once
 * the previous one was answered: a publisher faster than the network
 * (a file, a non-live source) is held back instead of opening POSTs
 * without bound, and the server sees every POST's headers in seq order
 * (one connection each: on separate connections a later POST could
 * overtake an earlier one and take its place in the window). A live
 * stream does not wait: its answers are in long before the next
 * segment. */

static gboolean
all_answered (GstTricklePublisher * pub)
{
  GList *l;

  for (l = pub->pending; l; l = l->next)
    if (!((Post *) l->data)->done)
      return FALSE;
  return TRUE;
}

/* waits (boundedly, interrupted by unlock) until every ended POST was
 * answered */
static gboolean
wait_answers (GstTricklePublisher * pub, GError ** error)
{
  gint64 deadline = pub->timeout ? g_get_monotonic_time () +
      backstop_us (pub) : G_MAXINT64;
  gboolean ok = TRUE;

  g_mutex_lock (&pub->lock);
  while (!all_answered (pub)) {
    if (g_cancellable_is_cancelled (pub->unlock)) {
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CANCELLED, "Interrupted");
      ok = FALSE;
      break;
    }
    if (deadline == G_MAXINT64) {
      g_cond_wait (&pub->cond, &pub->lock);
    } else if (!g_cond_wait_until (&pub->cond, &pub->lock, deadline)) {
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_IO, "POST %s: no answer in %u s",
          pub->url, 2 * pub->timeout);
      ok = FALSE;
      break;
    }
  }
  g_mutex_unlock (&pub->lock);
  return ok && reap (pub, error);
}

/* opens the preconnect when the earlier POSTs were answered */
static gboolean
open_next_if_answered (GstTricklePublisher * pub, GError ** error)
{
  gboolean answered;

  if (pub->next)
    return TRUE;
  g_mutex_lock (&pub->lock);
  answered = all_answered (pub);
  g_mutex_unlock (&pub->lock);
  if (!answered)
    return TRUE;
  pub->next = post_open (pub, pub->seq, FALSE, error);
  return pub->next != NULL;
}

/* sleeps @ms unless gst_trickle_publisher_unlock() */
static gboolean
backoff (GstTricklePublisher * pub, guint ms, GError ** error)
{
  GPollFD fd;

  if (g_cancellable_make_pollfd (pub->unlock, &fd)) {
    g_poll (&fd, 1, ms);
    g_cancellable_release_fd (pub->unlock);
  }
  if (g_cancellable_is_cancelled (pub->unlock)) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_CANCELLED, "Interrupted");
    return FALSE;
  }
  return TRUE;
}

/* A control request of the start. A publisher is often started with (or
 * before) its server, or while a proxy in front of it has no upstream yet
 * (a 5xx answer): as a POST that could not reach the server, the request
 * is sent again `retries` times, `retry-delay` doubling apart, and
 * gst_trickle_publisher_unlock() interrupts the wait. */
static gboolean
control_at_start (GstTricklePublisher * pub, const gchar * method,
    const gchar * url, const gchar * expect_content, guint * status,
    gint64 * latest, GError ** error)
{
  guint attempt;

  for (attempt = 0;; attempt++) {
    GError *err = NULL;
    gboolean unreached = FALSE;

    pub->throttled_ms = 0;
    if (control_full (pub, method, url, expect_content, status, latest,
            &unreached, &err)) {
      if ((*status < 500 || *status > 504 || *status == 501)
          && *status != 429)
        return TRUE;
      if (!_gst_trickle_client_may_retry (pub->retries, attempt))
        return TRUE;
    } else if (!unreached
        || !_gst_trickle_client_may_retry (pub->retries, attempt)) {
      if (attempt > 0)
        g_prefix_error (&err, "after %u retries: ", attempt);
      g_propagate_error (error, err);
      return FALSE;
    }
    g_clear_error (&err);
    g_mutex_lock (&pub->lock);
    pub->st_retries++;
    g_mutex_unlock (&pub->lock);
    /* a 429 or 503 with Retry-After: at least the wait it asks for */
    if (!backoff (pub, MAX (pub->throttled_ms,
                _gst_trickle_client_retry_delay_ms (pub->retry_delay,
                    attempt)), error))
      return FALSE;
  }
}

/* ------------------------------------------------------------------------ */
/* public API */

/* the URL and the CA file, as errors of ours */
static gboolean
check_settings (GstTricklePublisher * pub, GError ** error)
{
  gchar *why = NULL;

  g_clear_object (&pub->db);
  g_clear_object (&pub->resolver);
  if (_gst_trickle_client_check_url (pub->url, &why)
      && _gst_trickle_client_proxy_resolver (pub->proxy, &pub->resolver, &why)
      && _gst_trickle_client_check_extra_headers (pub->extra_headers, &why)
      && _gst_trickle_client_get_database (pub->ssl_ca_file,
          pub->tls_database, &pub->db, &why))
    return TRUE;
  g_set_error_literal (error, GST_TRICKLE_PUBLISHER_ERROR,
      GST_TRICKLE_PUBLISHER_ERROR_SETTINGS, why);
  g_free (why);
  return FALSE;
}

/* POSTs are written directly (see "Direct POSTs") on plain http://
 * reached without a proxy or server credentials */
static gboolean
direct_possible (GstTricklePublisher * pub)
{
  gchar **proxies;
  gboolean direct;

  if (!g_str_has_prefix (pub->url, "http://") || pub->resolver
      || pub->creds.user_id || g_getenv ("GST_TRICKLE_PUBLISHER_LIBSOUP"))
    return FALSE;
  proxies = g_proxy_resolver_lookup (g_proxy_resolver_get_default (),
      pub->url, NULL, NULL);
  direct = proxies && proxies[0] && g_str_equal (proxies[0], "direct://")
      && !proxies[1];
  g_strfreev (proxies);
  return direct;
}

/**
 * gst_trickle_publisher_new:
 * @url: the channel URL, `http(s)://host:port/[base/]channel`
 * @mime_type: (nullable): Content-Type of the segments
 *
 * Returns: (transfer full): a new publisher
 */
GstTricklePublisher *
gst_trickle_publisher_new (const gchar * url, const gchar * mime_type)
{
  return g_object_new (GST_TRICKLE_TYPE_PUBLISHER, "url", url, "mime-type",
      mime_type, NULL);
}

/**
 * gst_trickle_publisher_start:
 *
 * Starts the session thread, creates the channel when `create-channel` is
 * set, learns the channel's next seq and preconnects its POST. A server
 * that cannot be reached (not up yet) is asked again `retries` times,
 * `retry-delay` doubling apart; gst_trickle_publisher_unlock() interrupts that,
 * and after an unlock not yet followed by
 * gst_trickle_publisher_unlock_stop() it fails at once
 * (%GST_TRICKLE_PUBLISHER_ERROR_CANCELLED).
 *
 * Returns: %FALSE with @error on failure
 * (%GST_TRICKLE_PUBLISHER_ERROR_SETTINGS: a URL without a channel name, a
 * CA file that cannot be read)
 */
gboolean
gst_trickle_publisher_start (GstTricklePublisher * pub, GError ** error)
{
  guint status = 0;
  gint64 latest = -1;
  gchar *next_url;

  g_return_val_if_fail (pub->thread == NULL, FALSE);

  if (!check_settings (pub, error))
    return FALSE;

  g_clear_error (&pub->error);
  pub->direct = direct_possible (pub);
  pub->context = g_main_context_new ();
  pub->loop = g_main_loop_new (pub->context, FALSE);
  g_mutex_lock (&pub->lock);
  pub->thread = g_thread_new ("trickle-publisher", thread_func, pub);
  while (!pub->session)
    g_cond_wait (&pub->cond, &pub->lock);
  g_mutex_unlock (&pub->lock);
  /* not reset here: an unlock that came since the caller made us (a state
   * change during the start) must interrupt the start; only
   * gst_trickle_publisher_unlock_stop() resets it */

  if (pub->create_channel) {
    if (!control_at_start (pub, "POST", pub->url, pub->mime_type, &status,
            NULL, error))
      goto fail;
    if (_gst_trickle_client_status_unauthorized (status)) {
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_NOT_AUTHORIZED, "POST %s: HTTP %u",
          pub->url, status);
      goto fail;
    }
    if (status == 404) {
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND,
          "Channel %s could not be created (404)", pub->url);
      goto fail;
    }
    if (status >= 300 && status < 400) {
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_HTTP, "POST %s: HTTP %u (a redirect: "
          "set the URL it names)", pub->url, status);
      goto fail;
    }
  }
  next_url = g_strdup_printf ("%s/next", pub->url);
  if (!control_at_start (pub, "GET", next_url, NULL, &status, &latest, error)) {
    g_free (next_url);
    goto fail;
  }
  if (_gst_trickle_client_status_unauthorized (status)) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_NOT_AUTHORIZED, "GET %s: HTTP %u",
        next_url, status);
    g_free (next_url);
    goto fail;
  }
  if (status >= 300 && status < 400) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_HTTP, "GET %s: HTTP %u (a redirect: "
        "set the URL it names)", next_url, status);
    g_free (next_url);
    goto fail;
  }
  if (status >= 500) {
    /* still failing after the retries (a proxy without its server) */
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_HTTP, "GET %s: HTTP %u", next_url, status);
    g_free (next_url);
    goto fail;
  }
  g_free (next_url);
  /* an unknown channel may still be auto-created by the first POST */
  pub->seq = status == 200 && latest >= 0 ? latest : 0;
  pub->first = TRUE;
  pub->next = post_open (pub, pub->seq, pub->reset, error);
  if (!pub->next)
    goto fail;
  return TRUE;

fail:
  gst_trickle_publisher_stop (pub, FALSE, NULL);
  return FALSE;
}

/**
 * gst_trickle_publisher_begin_segment:
 *
 * Starts the next segment on its preconnected POST and preconnects the
 * one after it.
 *
 * Returns: the segment's seq, or -1 with @error (an earlier segment's
 * answer may be the error: 404, closed channel)
 */
static gboolean unavailable_check (GstTricklePublisher * pub, GError ** error);

gint64
gst_trickle_publisher_begin_segment (GstTricklePublisher * pub, GError ** error)
{
  if (!reap (pub, error) || !unavailable_check (pub, error))
    return -1;
  if (pub->current && !gst_trickle_publisher_end_segment (pub, error))
    return -1;
  if (!pub->next) {
    /* the preconnect was held back: the earlier answers come first */
    if (!wait_answers (pub, error))
      return -1;
    pub->next = post_open (pub, pub->seq, pub->reset && pub->first, error);
    if (!pub->next)
      return -1;
  }
  pub->current = pub->next;
  pub->next = NULL;
  pub->first = FALSE;
  pub->seq = pub->current->seq + 1;
  if (!open_next_if_answered (pub, error))
    return -1;
  return pub->current->seq;
}

static gboolean write_all (GstTricklePublisher * pub, const guint8 * p,
    gsize size, GError ** error);

/* the doubling delay before a retry (interrupted by unlock: FALSE), which
 * counts as one more failure in a row */
static gboolean
wait_to_retry (GstTricklePublisher * pub, GError ** error)
{
  if (!backoff (pub, _gst_trickle_client_retry_delay_ms (pub->retry_delay,
              pub->failures), error))
    return FALSE;
  pub->failures++;
  g_mutex_lock (&pub->lock);
  pub->st_retries++;
  g_mutex_unlock (&pub->lock);
  return TRUE;
}

/* A POST of @seq was answered @status (502-504): a proxy whose server is
 * down, or a server asking to come back later. The segment is lost; the
 * next one is tried after a doubling delay, `retries` times in a row at
 * most: FALSE (@error set) when they are spent or the wait interrupted */
static gboolean
unavailable_retry (GstTricklePublisher * pub, gint64 seq, guint status,
    GError ** error)
{
  if (!_gst_trickle_client_may_retry (pub->retries, pub->failures)) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_HTTP, "POST %s/%" G_GINT64_FORMAT
        ": HTTP %u (after %u retries)", pub->url, seq, status, pub->failures);
    return FALSE;
  }
  GST_INFO ("POST %s/%" G_GINT64_FORMAT ": HTTP %u, the server is "
      "unavailable: segment lost, the next one in a while", pub->url, seq,
      status);
  return wait_to_retry (pub, error);
}

/* an ended POST answered 502-504 since the last call: waited for as
 * unavailable_retry() says */
static gboolean
unavailable_check (GstTricklePublisher * pub, GError ** error)
{
  guint status;
  gint64 seq;

  g_mutex_lock (&pub->lock);
  status = pub->unavailable;
  seq = pub->unavailable_seq;
  pub->unavailable = 0;
  g_mutex_unlock (&pub->lock);
  return status == 0 || unavailable_retry (pub, seq, status, error);
}

/* The current POST failed without an answer. If its headers never went
 * out, nothing reached the server: it is sent again on the same seq after
 * a doubling delay, with the bytes written so far. Otherwise the segment
 * broke in the middle: it is closed politely (DELETE <channel>/<seq>) and
 * reported as GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST; the next segment
 * goes on. */
static gboolean
recover_current (GstTricklePublisher * pub, GError ** error)
{
  Post *p = pub->current, *np;
  gboolean headers_sent;
  gchar *url;
  guint status, answered;

  g_mutex_lock (&pub->lock);
  headers_sent = p->headers_sent;
  g_mutex_unlock (&pub->lock);

  if (!headers_sent) {
    if (!_gst_trickle_client_may_retry (pub->retries, pub->failures)) {
      g_mutex_lock (&pub->lock);
      if (!pub->error)
        g_set_error (&pub->error, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_IO, "POST %s/%" G_GINT64_FORMAT
            ": %s (after %u retries)", pub->url, p->seq, p->error->message,
            pub->failures);
      g_propagate_error (error, g_error_copy (pub->error));
      g_mutex_unlock (&pub->lock);
      return FALSE;
    }
    if (!wait_to_retry (pub, error))
      return FALSE;
    np = post_open (pub, p->seq, p->reset, error);
    if (!np)
      return FALSE;
    pub->current = np;
    if (p->unsent && p->unsent->len > 0 &&
        !write_all (pub, p->unsent->data, p->unsent->len, error)) {
      post_unref (p);
      return FALSE;
    }
    post_unref (p);
    return TRUE;
  }

  /* the server had the headers: a refusal (404 and a dropped connection)
   * or a server gone in the middle. Two refusals in a row: the channel
   * does not exist (one may be a restarted server whose channel the next
   * POST creates) */
  answered = answered_status (p);
  if (unavailable_status (answered)) {
    if (unavailable_retry (pub, p->seq, answered, error)) {
      g_mutex_lock (&pub->lock);
      pub->st_lost++;
      g_mutex_unlock (&pub->lock);
      g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST, "POST %s/%"
          G_GINT64_FORMAT ": HTTP %u (the server is unavailable): segment "
          "dropped", pub->url, p->seq, answered);
    }
    pub->current = NULL;
    post_unref (p);
    return FALSE;
  }
  note_refused (pub, 1);
  g_mutex_lock (&pub->lock);
  if (pub->error) {
    g_propagate_error (error, g_error_copy (pub->error));
    g_mutex_unlock (&pub->lock);
    return FALSE;
  }
  g_mutex_unlock (&pub->lock);
  url = g_strdup_printf ("%s/%" G_GINT64_FORMAT, pub->url, p->seq);
  control (pub, "DELETE", url, NULL, &status, NULL, NULL);
  g_free (url);
  g_mutex_lock (&pub->lock);
  pub->st_lost++;
  g_mutex_unlock (&pub->lock);
  g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
      GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST, "POST %s/%" G_GINT64_FORMAT
      " broke in the middle of the segment (%s): segment dropped",
      pub->url, p->seq, p->error->message);
  pub->current = NULL;
  post_unref (p);
  return FALSE;
}

/* sends into the current POST's body, recovering a failed POST */
static gboolean
write_all (GstTricklePublisher * pub, const guint8 * p, gsize size,
    GError ** error)
{
  /* bytes of this write went out: it is not interrupted any more (the
   * caller, told "interrupted", writes it again whole) */
  gboolean started = FALSE;

  while (size > 0) {
    Post *cur = pub->current;
    gboolean failed, headers_sent;
    gssize n;

    g_mutex_lock (&pub->lock);
    failed = transport_failed (cur);
    headers_sent = cur->headers_sent;
    g_mutex_unlock (&pub->lock);
    if (failed) {
      if (!recover_current (pub, error))
        return FALSE;
      continue;
    }
    if (cur->direct) {
      gchar hdr[20];
      struct iovec iov[3];

      if (!headers_sent) {
        if (!direct_wait_head (pub, cur)) {
          g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
              GST_TRICKLE_PUBLISHER_ERROR_CANCELLED, "Interrupted");
          return FALSE;
        }
        continue;               /* sent, or failed: seen above */
      }
      /* one chunk: its size line, the bytes where they are, its end */
      iov[0].iov_base = hdr;
      iov[0].iov_len = g_snprintf (hdr, sizeof (hdr), "%" G_GSIZE_MODIFIER
          "x\r\n", size);
      iov[1].iov_base = (gpointer) p;
      iov[1].iov_len = size;
      iov[2].iov_base = (gpointer) "\r\n";
      iov[2].iov_len = 2;
      cur->wrote_body = TRUE;
      if (direct_sendmsg (pub, cur, iov, 3, TRUE)) {
        g_mutex_lock (&pub->lock);
        pub->st_bytes += size;
        g_mutex_unlock (&pub->lock);
        return TRUE;
      }
      if (errno == ECANCELED) {
        g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_CANCELLED, "Interrupted");
        return FALSE;
      }
      n = -1;                   /* the connection broke: as EPIPE below */
      errno = EPIPE;
    } else {
      n = send (cur->wfd, p, size, MSG_NOSIGNAL);
    }
    if (n > 0) {
      if (!headers_sent) {
        /* kept until the headers are out, for a retry */
        if (!cur->unsent)
          cur->unsent = g_byte_array_new ();
        g_byte_array_append (cur->unsent, p, n);
      } else if (cur->unsent) {
        g_clear_pointer (&cur->unsent, g_byte_array_unref);
      }
      g_mutex_lock (&pub->lock);
      pub->st_bytes += n;
      g_mutex_unlock (&pub->lock);
      p += n;
      size -= n;
      started = TRUE;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      gint e = wait_writable (pub, cur->wfd, started);

      if (e == ECANCELED) {
        /* (a begun body given up: the request is cancelled, so that the
         * server never takes what was written for a whole segment) */
        if (started)
          g_cancellable_cancel (cur->cancellable);
        g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_CANCELLED, "Interrupted");
        return FALSE;
      }
      if (e == ETIMEDOUT) {
        g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_IO, "POST %s/%" G_GINT64_FORMAT
            ": nothing could be written for %u s", pub->url, cur->seq,
            pub->timeout);
        return FALSE;
      }
      continue;
    }
    /* EPIPE: libsoup stopped reading the body: the answer says why */
    g_mutex_lock (&pub->lock);
    while (!cur->done)
      g_cond_wait (&pub->cond, &pub->lock);
    failed = transport_failed (cur);
    g_mutex_unlock (&pub->lock);
    if (failed)
      continue;                 /* recovered above */
    if (!reap (pub, error))
      return FALSE;
    /* answered before the body ended (the seq was written already) */
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST, "POST %s/%" G_GINT64_FORMAT
        " was answered before its end: rest of the segment dropped",
        pub->url, cur->seq);
    pub->current = NULL;
    post_unref (cur);
    return FALSE;
  }
  return TRUE;
}

/**
 * gst_trickle_publisher_write:
 * @pub: the publisher
 * @data: (array length=size) (element-type guint8): bytes of the segment
 * @size: their number
 * @error: where a failure is told
 *
 * Streams @data into the current segment's POST body. Blocks while the
 * network does not keep up; gst_trickle_publisher_unlock() interrupts it.
 *
 * Returns: %FALSE with @error on failure. With
 * %GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST the current segment was
 * dropped but publishing can go on with the next
 * gst_trickle_publisher_begin_segment().
 */
gboolean
gst_trickle_publisher_write (GstTricklePublisher * pub, gconstpointer data,
    gsize size, GError ** error)
{
  if (!pub->current) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST, "No segment begun");
    return FALSE;
  }
  if (!reap (pub, error) || !open_next_if_answered (pub, error))
    return FALSE;
  return write_all (pub, data, size, error);
}

/**
 * gst_trickle_publisher_end_segment:
 *
 * Ends the current segment's body. Does not wait for the answer: errors
 * are reported by the next call.
 */
gboolean
gst_trickle_publisher_end_segment (GstTricklePublisher * pub, GError ** error)
{
  Post *p = pub->current;

  if (!p)
    return TRUE;
  pub->current = NULL;
  if (p->direct) {
    direct_end (pub, p);
  } else {
    /* end of body: libsoup sends the terminating chunk */
    close (p->wfd);
    p->wfd = -1;
  }
  g_mutex_lock (&pub->lock);
  pub->pending = g_list_append (pub->pending, p);
  g_mutex_unlock (&pub->lock);
  return reap (pub, error);
}

/**
 * gst_trickle_publisher_unlock:
 *
 * Makes a blocked gst_trickle_publisher_write() return (from any thread).
 */
void
gst_trickle_publisher_unlock (GstTricklePublisher * pub)
{
  g_cancellable_cancel (pub->unlock);
  g_mutex_lock (&pub->lock);
  g_cond_broadcast (&pub->cond);
  g_mutex_unlock (&pub->lock);
}

void
gst_trickle_publisher_unlock_stop (GstTricklePublisher * pub)
{
  g_cancellable_reset (pub->abort);
  g_cancellable_reset (pub->unlock);
}

/**
 * gst_trickle_publisher_abort:
 *
 * As gst_trickle_publisher_unlock(), and a chunk whose writing has begun
 * is given up too (its POST is cut: that segment is lost), so nothing
 * waits for a server that stopped reading. For a flush or a stop (a pause
 * calls gst_trickle_publisher_unlock(): what it interrupts can go on).
 * gst_trickle_publisher_unlock_stop() ends it.
 */
void
gst_trickle_publisher_abort (GstTricklePublisher * pub)
{
  g_cancellable_cancel (pub->abort);
  gst_trickle_publisher_unlock (pub);
}

/**
 * gst_trickle_publisher_stop:
 * @delete_channel: send `DELETE <channel>` (as reference publishers do)
 *
 * Ends the current segment, waits (boundedly) for the answers, drops the
 * preconnected POST (its segment stays unwritten), optionally deletes the
 * channel and stops the session thread.
 *
 * Returns: %FALSE with @error if an answer reported an error
 */
static void
post_cut (Post * p)
{
  if (p->direct) {
    p->cut = TRUE;              /* (under pub->lock: the callers hold it) */
    g_main_context_invoke (p->context, direct_cut_in_thread, post_ref (p));
    return;
  }
  if (p->wfd >= 0) {
    close (p->wfd);
    p->wfd = -1;
  }
}

/* in the session thread: a quit sent from another thread can come before
 * the thread even runs its loop (a stop right after a start), and
 * g_main_loop_run() forgets a quit made before it started; a source is
 * only dispatched by the running loop */
static gboolean
quit_in_thread (gpointer data)
{
  GstTricklePublisher *pub = data;

  g_main_loop_quit (pub->loop);
  return G_SOURCE_REMOVE;
}

/* DELETEs the channel. A kept-alive connection the server (or a proxy)
 * closed in the meantime fails the first attempt without the request
 * reaching anyone: that one is made once more on a new connection. A
 * DELETE that went out whole and was not answered is not repeated. */
static gboolean
delete_channel_now (GstTricklePublisher * pub, GError ** error)
{
  guint status = 0;
  gint attempt;

  for (attempt = 0; attempt < 2; attempt++) {
    GError *err = NULL;
    gboolean unreached = FALSE;

    if (control_full (pub, "DELETE", pub->url, NULL, &status, NULL,
            &unreached, &err)) {
      /* 404: gone already (an idle sweep, or another client's DELETE) */
      if ((status >= 200 && status < 300) || status == 404)
        return TRUE;
      if (_gst_trickle_client_status_unauthorized (status))
        g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_NOT_AUTHORIZED,
            "DELETE %s: HTTP %u", pub->url, status);
      else
        g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_HTTP, "DELETE %s: HTTP %u", pub->url,
            status);
      return FALSE;
    }
    GST_DEBUG ("DELETE %s, attempt %d: %s", pub->url, attempt + 1,
        err->message);
    if (!unreached || attempt == 1 || g_cancellable_is_cancelled (pub->unlock)) {
      g_propagate_error (error, err);
      return FALSE;
    }
    g_clear_error (&err);
  }
  return FALSE;
}

static gboolean
publisher_stop (GstTricklePublisher * pub, gboolean delete_channel,
    gint64 wait_us, GError ** error)
{
  gboolean ok = TRUE;
  gint64 deadline = g_get_monotonic_time () + wait_us;
  GList *l;

  if (!pub->thread)
    return TRUE;
  if (pub->current)
    gst_trickle_publisher_end_segment (pub, NULL);
  g_mutex_lock (&pub->lock);
  for (;;) {
    gboolean all = TRUE;
    for (l = pub->pending; l; l = l->next)
      all &= ((Post *) l->data)->done;
    if (all || !g_cond_wait_until (&pub->cond, &pub->lock, deadline))
      break;
  }
  g_mutex_unlock (&pub->lock);
  ok = reap (pub, error);
  /* the last segments met a server that was not there */
  g_mutex_lock (&pub->lock);
  if (ok && pub->unavailable) {
    g_set_error (error, GST_TRICKLE_PUBLISHER_ERROR,
        GST_TRICKLE_PUBLISHER_ERROR_HTTP, "POST %s/%" G_GINT64_FORMAT
        ": HTTP %u (the server is unavailable): the last segment was not "
        "published", pub->url, pub->unavailable_seq, pub->unavailable);
    ok = FALSE;
  }
  pub->unavailable = 0;
  g_mutex_unlock (&pub->lock);
  if (delete_channel && !delete_channel_now (pub, ok ? error : NULL))
    ok = FALSE;

  /* The preconnected POST goes with the session. libsoup ends a chunked
   * body it tears down with a terminating chunk, so the server records
   * that seq as an empty segment (as it would for a publisher that
   * DELETEs it): subscribers get an empty answer and move on, and the
   * channel's next seq moves past it. */
  /* what is still open ends its body (libsoup's pending read of it
   * returns); the session thread then waits a little for the answers */
  g_mutex_lock (&pub->lock);
  if (pub->next)
    post_cut (pub->next);
  for (l = pub->pending; l; l = l->next)
    post_cut (l->data);
  g_mutex_unlock (&pub->lock);
  g_main_context_invoke (pub->context, quit_in_thread, pub);
  g_thread_join (pub->thread);
  pub->thread = NULL;
  g_clear_pointer (&pub->next, post_unref);
  g_list_free_full (pub->pending, (GDestroyNotify) post_unref);
  pub->pending = NULL;
  g_clear_pointer (&pub->loop, g_main_loop_unref);
  g_clear_pointer (&pub->context, g_main_context_unref);
  return ok;
}

gboolean
gst_trickle_publisher_stop (GstTricklePublisher * pub,
    gboolean delete_channel, GError ** error)
{
  return publisher_stop (pub, delete_channel, ANSWER_WAIT_US, error);
}

/**
 * gst_trickle_publisher_close:
 *
 * Stops at once: the segment being written is cut (the server aborts it),
 * no answer is waited for, the channel is not deleted. For state changes
 * that must not block.
 */
void
gst_trickle_publisher_close (GstTricklePublisher * pub)
{
  if (pub->current) {
    /* not ended: dropping the connection tells the server it is incomplete */
    g_mutex_lock (&pub->lock);
    pub->pending = g_list_append (pub->pending, pub->current);
    g_mutex_unlock (&pub->lock);
    pub->current = NULL;
  }
  publisher_stop (pub, FALSE, 0, NULL);
}

/**
 * gst_trickle_publisher_get_stats:
 *
 * Returns: (transfer full): `segments` (answered 200), `bytes` (written),
 * `retries` (requests sent again), `lost` (segments dropped: broken in the
 * middle or never answered) as guint64, `seq` (the next segment's) as
 * gint64
 */
GstStructure *
gst_trickle_publisher_get_stats (GstTricklePublisher * pub)
{
  GstStructure *s;

  g_mutex_lock (&pub->lock);
  s = gst_structure_new ("trickle-publisher-stats",
      "segments", G_TYPE_UINT64, pub->st_segments,
      "bytes", G_TYPE_UINT64, pub->st_bytes,
      "retries", G_TYPE_UINT64, pub->st_retries,
      "lost", G_TYPE_UINT64, pub->st_lost, "seq", G_TYPE_INT64, pub->seq, NULL);
  g_mutex_unlock (&pub->lock);
  return s;
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_trickle_publisher_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTricklePublisher *pub = GST_TRICKLE_PUBLISHER (object);

  /* the session thread reads the settings while it runs (credentials,
   * headers, TLS): they are set before start() */
  if (pub->thread && prop_id != PROP_MIME_TYPE) {
    g_warning ("%s: \"%s\" can only be set before start()",
        G_OBJECT_TYPE_NAME (object), pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_URL:{
      gchar *url = g_value_dup_string (value);
      g_free (pub->url);
      if (url && g_str_has_suffix (url, "/"))
        url[strlen (url) - 1] = '\0';
      pub->url = url;
      break;
    }
    case PROP_MIME_TYPE:
      g_free (pub->mime_type);
      pub->mime_type = g_value_dup_string (value);
      break;
    case PROP_CREATE_CHANNEL:
      pub->create_channel = g_value_get_boolean (value);
      break;
    case PROP_RESET:
      pub->reset = g_value_get_boolean (value);
      break;
    case PROP_SSL_STRICT:
      pub->ssl_strict = g_value_get_boolean (value);
      break;
    case PROP_TLS_DATABASE:
      g_clear_object (&pub->tls_database);
      pub->tls_database = g_value_dup_object (value);
      break;
    case PROP_TLS_INTERACTION:
      g_clear_object (&pub->tls_interaction);
      pub->tls_interaction = g_value_dup_object (value);
      break;
    case PROP_EXTRA_HEADERS:
      if (pub->extra_headers)
        gst_structure_free (pub->extra_headers);
      pub->extra_headers = g_value_dup_boxed (value);
      break;
    case PROP_RETRIES:
      pub->retries = g_value_get_int (value);
      break;
    case PROP_RETRY_DELAY:
      pub->retry_delay = g_value_get_double (value);
      break;
    case PROP_TIMEOUT:
      pub->timeout = g_value_get_uint (value);
      break;
    case PROP_USER_AGENT:
      g_free (pub->user_agent);
      pub->user_agent = g_value_dup_string (value);
      break;
    case PROP_PROXY:
      g_free (pub->proxy);
      pub->proxy = g_value_dup_string (value);
      break;
    case PROP_PROXY_ID:
      g_free (pub->creds.proxy_id);
      pub->creds.proxy_id = g_value_dup_string (value);
      break;
    case PROP_PROXY_PW:
      g_free (pub->creds.proxy_pw);
      pub->creds.proxy_pw = g_value_dup_string (value);
      break;
    case PROP_USER_ID:
      g_free (pub->creds.user_id);
      pub->creds.user_id = g_value_dup_string (value);
      break;
    case PROP_USER_PW:
      g_free (pub->creds.user_pw);
      pub->creds.user_pw = g_value_dup_string (value);
      break;
    case PROP_SSL_CA_FILE:
      g_free (pub->ssl_ca_file);
      pub->ssl_ca_file = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_publisher_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTricklePublisher *pub = GST_TRICKLE_PUBLISHER (object);

  switch (prop_id) {
    case PROP_URL:
      g_value_set_string (value, pub->url);
      break;
    case PROP_MIME_TYPE:
      g_value_set_string (value, pub->mime_type);
      break;
    case PROP_CREATE_CHANNEL:
      g_value_set_boolean (value, pub->create_channel);
      break;
    case PROP_RESET:
      g_value_set_boolean (value, pub->reset);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, pub->ssl_strict);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, pub->tls_database);
      break;
    case PROP_TLS_INTERACTION:
      g_value_set_object (value, pub->tls_interaction);
      break;
    case PROP_EXTRA_HEADERS:
      g_value_set_boxed (value, pub->extra_headers);
      break;
    case PROP_RETRIES:
      g_value_set_int (value, pub->retries);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_double (value, pub->retry_delay);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, pub->timeout);
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, pub->user_agent);
      break;
    case PROP_PROXY:
      g_value_set_string (value, pub->proxy);
      break;
    case PROP_PROXY_ID:
      g_value_set_string (value, pub->creds.proxy_id);
      break;
    case PROP_PROXY_PW:
      g_value_set_string (value, pub->creds.proxy_pw);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, pub->creds.user_id);
      break;
    case PROP_USER_PW:
      g_value_set_string (value, pub->creds.user_pw);
      break;
    case PROP_SSL_CA_FILE:
      g_value_set_string (value, pub->ssl_ca_file);
      break;
    case PROP_UNANSWERED_TIME:
      g_mutex_lock (&pub->lock);
      g_value_set_uint64 (value, pub->sent_at ? (guint64)
          (g_get_monotonic_time () - pub->sent_at) * GST_USECOND : 0);
      g_mutex_unlock (&pub->lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_publisher_finalize (GObject * object)
{
  GstTricklePublisher *pub = GST_TRICKLE_PUBLISHER (object);

  gst_trickle_publisher_stop (pub, FALSE, NULL);
  g_clear_error (&pub->error);
  g_clear_object (&pub->unlock);
  g_clear_object (&pub->abort);
  g_free (pub->url);
  g_free (pub->ssl_ca_file);
  g_clear_object (&pub->db);
  g_clear_object (&pub->tls_database);
  g_clear_object (&pub->tls_interaction);
  g_free (pub->mime_type);
  g_free (pub->user_agent);
  g_free (pub->proxy);
  _gst_trickle_client_creds_clear (&pub->creds);
  g_clear_object (&pub->resolver);
  if (pub->extra_headers)
    gst_structure_free (pub->extra_headers);
  g_mutex_clear (&pub->lock);
  g_mutex_clear (&pub->run_lock);
  g_cond_clear (&pub->cond);
  G_OBJECT_CLASS (gst_trickle_publisher_parent_class)->finalize (object);
}

static void
gst_trickle_publisher_class_init (GstTricklePublisherClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_trickle_publisher_set_property;
  gobject_class->get_property = gst_trickle_publisher_get_property;
  gobject_class->finalize = gst_trickle_publisher_finalize;

  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
          "Channel URL: http(s)://host:port/[base/]channel", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_MIME_TYPE,
      g_param_spec_string ("mime-type", "MIME type",
          "Content-Type of the segments", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_CREATE_CHANNEL,
      g_param_spec_boolean ("create-channel", "Create channel",
          "POST the channel (with Expect-Content) before publishing", FALSE,
          flags));
  g_object_class_install_property (gobject_class, PROP_RESET,
      g_param_spec_boolean ("reset", "Reset",
          "Send Lp-Trickle-Reset with the first segment (releases "
          "subscribers waiting on a previous run)", TRUE, flags));
  g_object_class_install_property (gobject_class, PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict",
          "Refuse a TLS certificate that cannot be verified (FALSE: accept "
          "any, for test servers only)", TRUE, flags));
  g_object_class_install_property (gobject_class, PROP_TLS_DATABASE,
      g_param_spec_object ("tls-database", "TLS database",
          "The TLS database to verify certificates with (NULL: the "
          "system's; ssl-ca-file, when set, takes precedence)",
          G_TYPE_TLS_DATABASE, flags));
  g_object_class_install_property (gobject_class, PROP_TLS_INTERACTION,
      g_param_spec_object ("tls-interaction", "TLS interaction",
          "A GTlsInteraction to answer the server's requests (a client "
          "certificate, its password)", G_TYPE_TLS_INTERACTION, flags));
  g_object_class_install_property (gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed ("extra-headers", "Extra headers",
          "Headers added to every request, as souphttpsrc's: each field a "
          "header (name = value; a value that is not a string is turned "
          "into one; an array or a list repeats the header)",
          GST_TYPE_STRUCTURE, flags));
  g_object_class_install_property (gobject_class, PROP_RETRIES,
      g_param_spec_int ("retries", "Retries",
          "A POST that failed before its headers reached the server is sent "
          "again on the same seq this many times in a row (retry-delay "
          "apart); so is a request of the start that found no server "
          "(-1: forever)", -1, G_MAXINT, TRICKLE_CLIENT_DEFAULT_RETRIES,
          flags));
  g_object_class_install_property (gobject_class, PROP_RETRY_DELAY,
      g_param_spec_double ("retry-delay", "Retry delay",
          "Seconds before the first retry; the delay doubles with each "
          "failure in a row, up to 16 times this", 0, 3600,
          TRICKLE_CLIENT_DEFAULT_RETRY_DELAY, flags));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Seconds a connection's set-up (TCP, TLS handshake), the answer "
          "to a request (a control request, a segment's POST once its "
          "body ended) and any blocked network read or write may take "
          "before the request fails (0: no limit)", 0, 3600,
          TRICKLE_CLIENT_DEFAULT_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_PROXY,
      g_param_spec_string ("proxy", "Proxy",
          "HTTP proxy server URI (http://host:port; NULL: the system's, "
          "e.g. the http_proxy environment variable)", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_PROXY_ID,
      g_param_spec_string ("proxy-id", "Proxy user id",
          "User name for proxy authentication", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_PROXY_PW,
      g_param_spec_string ("proxy-pw", "Proxy password",
          "Password for proxy authentication", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_USER_ID,
      g_param_spec_string ("user-id", "User id",
          "User name for the server's authentication (HTTP Basic or "
          "Digest)", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_USER_PW,
      g_param_spec_string ("user-pw", "User password",
          "Password for the server's authentication", NULL, flags));
  /**
   * GstTricklePublisher:unanswered-time:
   *
   * How long the request the publisher waits on (at its start: the
   * channel's creation, `/next`) has waited for its answer since it went
   * out whole, in nanoseconds; 0 when it waits on none. A server that
   * takes requests and never answers shows here, apart from a slow
   * connection or TLS handshake (tricklesink gives up a start that
   * waited 3 s this way when a live stream ends).
   */
  g_object_class_install_property (gobject_class, PROP_UNANSWERED_TIME,
      g_param_spec_uint64 ("unanswered-time", "Unanswered time",
          "How long the request waited on has waited for its answer since "
          "it was sent whole (ns; 0: none)", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_USER_AGENT,
      g_param_spec_string ("user-agent", "User-Agent",
          "User-Agent header of every request (a trailing space appends "
          "libsoup's own)", TRICKLE_CLIENT_DEFAULT_USER_AGENT, flags));
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of the certificate authorities to trust (instead of the "
          "system's); a relative path is taken from the working directory",
          NULL, flags));
}

static void
gst_trickle_publisher_init (GstTricklePublisher * pub)
{
  g_mutex_init (&pub->lock);
  g_mutex_init (&pub->run_lock);
  g_cond_init (&pub->cond);
  pub->unlock = g_cancellable_new ();
  pub->abort = g_cancellable_new ();
  pub->reset = TRUE;
  pub->ssl_strict = TRUE;
  pub->retries = TRICKLE_CLIENT_DEFAULT_RETRIES;
  pub->retry_delay = TRICKLE_CLIENT_DEFAULT_RETRY_DELAY;
  pub->timeout = TRICKLE_CLIENT_DEFAULT_TIMEOUT;
  pub->user_agent = g_strdup (TRICKLE_CLIENT_DEFAULT_USER_AGENT);
}
