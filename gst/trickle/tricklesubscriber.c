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
 * SECTION:tricklesubscriber
 * @title: GstTrickleSubscriber
 * @short_description: follows a trickle channel over HTTP
 *
 * The client side of subscribing, without GStreamer elements. It GETs
 * `<channel url>/<start-seq>`, then follows `Lp-Trickle-Seq + 1`: as soon
 * as a segment's headers arrive, the GET of the next segment is sent (the
 * preconnect: the server holds it until that segment starts), so a segment
 * boundary costs no round trip. A preconnect that waits longer than
 * `preconnect-timeout` is cancelled and sent again (proxies drop idle
 * requests), as the reference clients do.
 *
 * Answers: 470 (the segment left the server's window) jumps to
 * `Lp-Trickle-Latest`; 404 before the first segment (or after the server
 * could not be reached: a restarted server) waits for the channel up to
 * `wait-timeout` (a channel that appears is read from its first segment),
 * then fails; a 404 while following the channel (it was deleted) and
 * `Lp-Trickle-Closed` are the end of the stream; a failed connection or a
 * 5xx is retried `retries` times with a doubling delay (`retry-delay`),
 * the count restarting after every good answer.
 *
 * Threads: the #SoupSession lives in a thread of its own with its own
 * #GMainContext, where every libsoup call happens. Bodies are read there
 * in pieces as they arrive and handed to the caller as a queue of events
 * (gst_trickle_subscriber_next_event()): the bytes libsoup read are passed
 * on as they are (one #GBytes per read, no further copy). The queue is
 * bounded by `max-queued-bytes`: beyond it reading pauses, TCP pushes back
 * on the server, and a subscriber too slow for the stream eventually gets
 * a 470 and jumps to the live edge instead of growing without bound.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <libsoup/soup.h>

#include "trickle-private.h"
#include "tricklesubscriber.h"

#define READ_SIZE (64 * 1024)
#define NOT_FOUND_POLL_MS 100
/* segments that keep failing (470 after 470, bodies that always break):
 * after CHURN_FREE in a row, each next GET waits, from CHURN_BASE_MS
 * doubling up to CHURN_MAX_MS, until a segment ends complete */
#define CHURN_FREE 3
#define CHURN_BASE_MS 100
#define CHURN_MAX_MS 5000

enum
{
  PROP_0,
  PROP_URL,
  PROP_START_SEQ,
  PROP_WAIT_TIMEOUT,
  PROP_PRECONNECT_TIMEOUT,
  PROP_RETRIES,
  PROP_MAX_QUEUED_BYTES,
  PROP_SSL_STRICT,
  PROP_TLS_DATABASE,
  PROP_TLS_INTERACTION,
  PROP_SSL_CA_FILE,
  PROP_EXTRA_HEADERS,
  PROP_USER_AGENT,
  PROP_TIMEOUT,
  PROP_RETRY_DELAY,
  PROP_PROXY,
  PROP_PROXY_ID,
  PROP_PROXY_PW,
  PROP_USER_ID,
  PROP_USER_PW,
};

typedef struct _Get Get;

struct _GstTrickleSubscriber
{
  GObject parent;

  /* properties: set before start */
  gchar *url;                   /* channel URL, no trailing slash */
  gint64 start_seq;
  gint wait_timeout_ms;         /* 404: -1 forever */
  guint preconnect_timeout_ms;
  gint retries;                 /* -1 forever */
  gdouble retry_delay;          /* s */
  guint timeout;                /* s: connection set-up, 0 none */
  gchar *user_agent;
  gchar *proxy;
  TrickleClientCreds creds;
  GProxyResolver *resolver;     /* from proxy, at start */
  guint64 max_queued;
  gboolean ssl_strict;
  GTlsDatabase *tls_database;   /* property */
  GTlsInteraction *tls_interaction;
  gchar *ssl_ca_file;
  GstStructure *extra_headers;

  GThread *thread;
  GTlsDatabase *db;             /* the session's, from the properties */
  GMainContext *context;
  GMainLoop *loop;

  /* session thread only */
  SoupSession *session;
  Get *current;                 /* the segment being read */
  Get *next;                    /* preconnected */
  GSource *preconnect;          /* the preconnect, about to be sent */
  gint64 preconnect_seq;
  guint failures;               /* in a row */
  guint churn;                  /* segments lost in a row (470, broken) */
  gint64 not_found_since;
  gint64 last_seq;              /* last segment started, -1 none */
  gboolean jumped;
  gboolean reading;             /* a read is pending */
  gboolean finished;            /* EOS or an error queued */
  GSource *retry;
  guint live_gets;

  /* shared, under lock */
  GMutex lock;
  GCond cond;
  GQueue events;                /* GstTrickleSubscriberEvent */
  guint64 queued;
  gboolean paused;              /* reading waits for the queue to drain */
  gboolean resume_scheduled;
  gboolean flushing;
  GError *error;                /* after the queue: the final error */
  guint64 st_segments, st_bytes, st_retries, st_jumps, st_hits, st_incomplete;
  gint64 st_seq;
};

struct _Get
{
  GstTrickleSubscriber *sub;
  gint64 seq;                   /* as requested */
  gboolean preconnect;
  SoupMessage *msg;
  GCancellable *cancellable;
  GInputStream *stream;
  GSource *timer;
  GSource *connect_timer;       /* set-up of a new connection */
  gboolean connect_timed_out;
  gboolean answered;
  gboolean reissue;             /* cancelled by the preconnect timer */
  gboolean dropped;             /* no longer current/next: free on return */
  gboolean busy;                /* an async call holds it */
  gboolean eof;                 /* body read to its end */
  GError *error;
  gint64 start_time;
  guint64 bytes;
};

G_DEFINE_TYPE (GstTrickleSubscriber, gst_trickle_subscriber, G_TYPE_OBJECT);
/* *INDENT-OFF* */
G_DEFINE_QUARK (gst-trickle-subscriber-error-quark,
    gst_trickle_subscriber_error);
/* *INDENT-ON* */

static void get_send (GstTrickleSubscriber * sub, Get * g);
static void current_answered (GstTrickleSubscriber * sub);
static gboolean preconnect_now (gpointer data);

/**
 * gst_trickle_subscriber_event_clear:
 *
 * Frees what @event holds.
 */
void
gst_trickle_subscriber_event_clear (GstTrickleSubscriberEvent * event)
{
  g_clear_pointer (&event->content_type, g_free);
  g_clear_pointer (&event->message, g_free);
  g_clear_pointer (&event->data, g_bytes_unref);
}

static void
event_free (GstTrickleSubscriberEvent * ev)
{
  gst_trickle_subscriber_event_clear (ev);
  g_free (ev);
}

/* ------------------------------------------------------------------------ */
/* the queue (session thread → caller) */

static GstTrickleSubscriberEvent *
event_new (GstTrickleSubscriberEventType type, gint64 seq)
{
  GstTrickleSubscriberEvent *ev = g_new0 (GstTrickleSubscriberEvent, 1);

  ev->type = type;
  ev->seq = seq;
  ev->latest = -1;
  return ev;
}

static void
push_event (GstTrickleSubscriber * sub, GstTrickleSubscriberEvent * ev)
{
  g_mutex_lock (&sub->lock);
  g_queue_push_tail (&sub->events, ev);
  if (ev->data)
    sub->queued += g_bytes_get_size (ev->data);
  g_cond_broadcast (&sub->cond);
  g_mutex_unlock (&sub->lock);
}

/* the end: nothing more is requested; @error (taken) after the queue */
static void
finish (GstTrickleSubscriber * sub, GError * error)
{
  if (sub->finished) {
    g_clear_error (&error);
    return;
  }
  sub->finished = TRUE;
  g_mutex_lock (&sub->lock);
  if (error)
    sub->error = error;
  else
    g_queue_push_tail (&sub->events,
        event_new (GST_TRICKLE_SUBSCRIBER_EOS, sub->last_seq));
  g_cond_broadcast (&sub->cond);
  g_mutex_unlock (&sub->lock);
}

/* the end of the stream, saying why (@why taken) */
static void
end_of_stream (GstTrickleSubscriber * sub, gchar * why)
{
  GstTrickleSubscriberEvent *ev;

  if (sub->finished) {
    g_free (why);
    return;
  }
  sub->finished = TRUE;
  ev = event_new (GST_TRICKLE_SUBSCRIBER_EOS, sub->last_seq);
  ev->message = why;
  push_event (sub, ev);
}

/* ------------------------------------------------------------------------ */
/* requests (session thread) */

static gboolean
accept_certificate (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  GstTrickleSubscriber *sub = user_data;

  return !sub->ssl_strict;
}

static void
stop_connect_timer (Get * g)
{
  if (g->connect_timer) {
    g_source_destroy (g->connect_timer);
    g_clear_pointer (&g->connect_timer, g_source_unref);
  }
}

/* libsoup may keep the message a moment longer (a connection it goes on
 * setting up): its network events must no longer reach @g */
static void
release_message (Get * g)
{
  if (!g->msg)
    return;
  g_signal_handlers_disconnect_by_data (g->msg, g);
  g_clear_object (&g->msg);
}

static void
get_free (Get * g)
{
  if (g->timer) {
    g_source_destroy (g->timer);
    g_source_unref (g->timer);
  }
  stop_connect_timer (g);
  if (g->stream) {
    /* a body not read to its end: closing with a cancelled cancellable
     * makes libsoup drop the connection instead of reading the rest */
    if (!g->eof)
      g_cancellable_cancel (g->cancellable);
    g_input_stream_close (g->stream, g->cancellable, NULL);
    g_object_unref (g->stream);
  }
  release_message (g);
  g_clear_object (&g->cancellable);
  g_clear_error (&g->error);
  g->sub->live_gets--;
  g_free (g);
}

/* forgets @g: freed now, or when its pending call returns */
static void
get_drop (Get * g)
{
  if (!g)
    return;
  g->dropped = TRUE;
  if (g->busy)
    g_cancellable_cancel (g->cancellable);
  else
    get_free (g);
}

static Get *
get_new (GstTrickleSubscriber * sub, gint64 seq, gboolean preconnect)
{
  Get *g = g_new0 (Get, 1);

  g->sub = sub;
  g->seq = seq;
  g->preconnect = preconnect;
  sub->live_gets++;
  get_send (sub, g);
  return g;
}

static gboolean
preconnect_timeout (gpointer data)
{
  Get *g = data;

  /* waited too long for its segment: ask again (an intermediary may have
   * dropped the idle request) */
  g_source_unref (g->timer);
  g->timer = NULL;
  g->reissue = TRUE;
  g_cancellable_cancel (g->cancellable);
  return G_SOURCE_REMOVE;
}

static void
got_headers (GObject * source, GAsyncResult * res, gpointer data)
{
  Get *g = data;
  GstTrickleSubscriber *sub = g->sub;
  GInputStream *stream;
  GError *err = NULL;

  g->busy = FALSE;
  stream = soup_session_send_finish (SOUP_SESSION (source), res, &err);
  if (g->dropped) {
    if (stream)
      g_object_unref (stream);
    g_clear_error (&err);
    get_free (g);
    return;
  }
  if (g->timer) {
    g_source_destroy (g->timer);
    g_clear_pointer (&g->timer, g_source_unref);
  }
  stop_connect_timer (g);
  if (g->connect_timed_out) {
    /* cancelled by the connect timer: a failure that may pass */
    if (stream)
      g_object_unref (stream);
    g_clear_error (&err);
    g_set_error (&err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "no connection set up in %u s", sub->timeout);
    stream = NULL;
    g->connect_timed_out = FALSE;
    g->reissue = FALSE;
  }
  if (g->reissue) {
    if (stream)
      g_object_unref (stream);
    g_clear_error (&err);
    g->reissue = FALSE;
    release_message (g);
    g_clear_object (&g->cancellable);
    get_send (sub, g);
    return;
  }
  g->stream = stream;
  g->error = err;
  g->answered = TRUE;
  if (g == sub->current)
    current_answered (sub);
}

static gboolean
connect_timeout (gpointer data)
{
  Get *g = data;

  g_clear_pointer (&g->connect_timer, g_source_unref);
  g->connect_timed_out = TRUE;
  g_cancellable_cancel (g->cancellable);
  return G_SOURCE_REMOVE;
}

/* `timeout` bounds the set-up of a new connection (name resolution, TCP,
 * TLS handshake): from the first event of a connection being made to its
 * completion. A request on a kept-alive connection has none. */
static void
get_network_event (SoupMessage * msg, GSocketClientEvent event,
    GIOStream * connection, gpointer data)
{
  Get *g = data;
  GstTrickleSubscriber *sub = g->sub;

  if (event == G_SOCKET_CLIENT_RESOLVING && sub->timeout > 0
      && !g->connect_timer) {
    g->connect_timer = g_timeout_source_new_seconds (sub->timeout);
    g_source_set_callback (g->connect_timer, connect_timeout, g, NULL);
    g_source_attach (g->connect_timer, sub->context);
  } else if (event == G_SOCKET_CLIENT_COMPLETE) {
    stop_connect_timer (g);
  }
}

static void
get_send (GstTrickleSubscriber * sub, Get * g)
{
  gchar *url = g_strdup_printf ("%s/%" G_GINT64_FORMAT, sub->url, g->seq);

  /* the URL was checked at start */
  g->msg = _gst_trickle_client_new_message ("GET", url, sub->extra_headers,
      &sub->creds);
  g_free (url);
  g->cancellable = g_cancellable_new ();
  g->start_time = g_get_monotonic_time ();
  g_signal_connect (g->msg, "accept-certificate",
      G_CALLBACK (accept_certificate), sub);
  g_signal_connect (g->msg, "network-event", G_CALLBACK (get_network_event), g);
  if (sub->preconnect_timeout_ms > 0) {
    g->timer = g_timeout_source_new (sub->preconnect_timeout_ms);
    g_source_set_callback (g->timer, preconnect_timeout, g, NULL);
    g_source_attach (g->timer, sub->context);
  }
  g->busy = TRUE;
  soup_session_send_async (sub->session, g->msg, G_PRIORITY_DEFAULT,
      g->cancellable, got_headers, g);
}

static gboolean
retry_now (gpointer data)
{
  GstTrickleSubscriber *sub = data;
  gint64 seq = sub->current->seq;

  g_clear_pointer (&sub->retry, g_source_unref);
  get_drop (sub->current);
  sub->current = get_new (sub, seq, FALSE);
  return G_SOURCE_REMOVE;
}

static void
retry_later (GstTrickleSubscriber * sub, guint delay_ms)
{
  sub->retry = g_timeout_source_new (delay_ms);
  g_source_set_callback (sub->retry, retry_now, sub, NULL);
  g_source_attach (sub->retry, sub->context);
}

/* The GET of the next segment: at once, or after a growing delay when
 * segments keep failing, so that a server answering 470 in a loop (or
 * breaking every body) is not asked hundreds of times a second */
static Get *
get_paced (GstTrickleSubscriber * sub, gint64 seq)
{
  Get *g;
  guint shift;

  if (sub->churn <= CHURN_FREE || sub->retry)
    return get_new (sub, seq, FALSE);
  shift = MIN (sub->churn - CHURN_FREE - 1, 10);
  /* sent by retry_now() */
  g = g_new0 (Get, 1);
  g->sub = sub;
  g->seq = seq;
  sub->live_gets++;
  retry_later (sub, MIN (CHURN_BASE_MS << shift, CHURN_MAX_MS));
  return g;
}

/* a failure that may pass (no connection, 5xx): retried with backoff.
 * @throttled_ms: a 429 or 503 with Retry-After, the wait it asked for: it
 * does not count against `retries` (unless that is 0), the server said
 * when to come back */
static void
transient_failure_full (GstTrickleSubscriber * sub, gchar * message,
    guint throttled_ms)
{
  GstTrickleSubscriberEvent *ev;
  guint delay;

  if (throttled_ms && sub->retries != 0) {
    delay = throttled_ms;
  } else if (!_gst_trickle_client_may_retry (sub->retries, sub->failures)) {
    finish (sub, g_error_new (GST_TRICKLE_SUBSCRIBER_ERROR,
            GST_TRICKLE_SUBSCRIBER_ERROR_IO, "%s (after %u retries)", message,
            sub->failures));
    g_free (message);
    return;
  } else {
    delay = _gst_trickle_client_retry_delay_ms (sub->retry_delay,
        sub->failures);
    sub->failures++;
  }
  g_mutex_lock (&sub->lock);
  sub->st_retries++;
  g_mutex_unlock (&sub->lock);
  ev = event_new (GST_TRICKLE_SUBSCRIBER_RETRY, sub->current->seq);
  ev->message = message;
  push_event (sub, ev);
  retry_later (sub, delay);
}

static void
transient_failure (GstTrickleSubscriber * sub, gchar * message)
{
  transient_failure_full (sub, message, 0);
}

static void read_more (GstTrickleSubscriber * sub);

/* the current GET's headers are in */
static void
current_answered (GstTrickleSubscriber * sub)
{
  Get *g = sub->current;
  SoupMessageHeaders *h;
  const gchar *v;
  guint status;
  GstTrickleSubscriberEvent *ev;
  gint64 seq;

  if (sub->finished)
    return;
  if (g->error) {
    gchar *msg = g_strdup_printf ("GET %s/%" G_GINT64_FORMAT ": %s",
        sub->url, g->seq, g->error->message);
    transient_failure (sub, msg);
    return;
  }
  status = soup_message_get_status (g->msg);
  h = soup_message_get_response_headers (g->msg);
  if (_gst_trickle_client_status_unauthorized (status)) {
    finish (sub, g_error_new (GST_TRICKLE_SUBSCRIBER_ERROR,
            GST_TRICKLE_SUBSCRIBER_ERROR_NOT_AUTHORIZED, "GET %s/%"
            G_GINT64_FORMAT ": HTTP %u %s", sub->url, g->seq, status,
            GST_STR_NULL (soup_message_get_reason_phrase (g->msg))));
    return;
  }
  if (status == 404) {
    gint64 now = g_get_monotonic_time ();

    if (sub->last_seq >= 0 && sub->failures == 0) {
      /* the channel we were following is gone (deleted while we were
       * behind, so our next GET came after it): the end of the stream, as
       * for the reference subscribers (Go's ends with StreamNotFoundErr,
       * PyTrickle's stops on a 404). Not after a lost connection: a
       * restarted server knows the channel again once its publisher is
       * back, that is waited for below. */
      end_of_stream (sub, g_strdup_printf ("GET %s/%" G_GINT64_FORMAT
              ": 404, the channel is gone", sub->url, g->seq));
      return;
    }
    if (sub->not_found_since == 0)
      sub->not_found_since = now;
    if (sub->wait_timeout_ms < 0 || now - sub->not_found_since <
        (gint64) sub->wait_timeout_ms * 1000) {
      /* subscribers often start before their publisher. A channel that
       * appears before we read anything is new to us: read it from its
       * first segment (however many were published between two polls;
       * a 470 jumps to its live edge if that one is gone), unless a seq
       * was asked for. One that comes back (a restarted server) is read
       * from the segment being written then (-2: from its first byte). */
      if (sub->last_seq >= 0)
        g->seq = -2;
      else
        g->seq = sub->start_seq >= 0 ? sub->start_seq : 0;
      retry_later (sub, NOT_FOUND_POLL_MS);
      return;
    }
    finish (sub, g_error_new (GST_TRICKLE_SUBSCRIBER_ERROR,
            GST_TRICKLE_SUBSCRIBER_ERROR_NOT_FOUND, "Channel %s not found",
            sub->url));
    return;
  }
  sub->not_found_since = 0;
  if (soup_message_headers_get_one (h, "Lp-Trickle-Closed")) {
    finish (sub, NULL);
    return;
  }
  if (status == 470) {
    gint64 latest = -1;

    v = soup_message_headers_get_one (h, "Lp-Trickle-Latest");
    if (!v || !_gst_trickle_client_parse_seq (v, &latest))
      latest = -1;
    if (latest < 0 || latest == g->seq)
      latest = -1;              /* the live edge, whatever it is */
    sub->failures = 0;
    sub->jumped = TRUE;
    sub->churn++;
    g_mutex_lock (&sub->lock);
    sub->st_jumps++;
    g_mutex_unlock (&sub->lock);
    ev = event_new (GST_TRICKLE_SUBSCRIBER_JUMP, g->seq);
    ev->latest = latest;
    push_event (sub, ev);
    get_drop (g);
    sub->current = get_paced (sub, latest);
    return;
  }
  if (status >= 500 || status < 100 || status == 429) {
    guint throttled = _gst_trickle_client_throttled_ms (status, h);

    transient_failure_full (sub, g_strdup_printf ("GET %s/%" G_GINT64_FORMAT
            ": HTTP %u%s", sub->url, g->seq, status, throttled ?
            " (the server asked to wait)" : ""), throttled);
    return;
  }
  if (status != 200) {
    finish (sub, g_error_new (GST_TRICKLE_SUBSCRIBER_ERROR,
            GST_TRICKLE_SUBSCRIBER_ERROR_HTTP, "GET %s/%" G_GINT64_FORMAT
            ": HTTP %u %s", sub->url, g->seq, status,
            GST_STR_NULL (soup_message_get_reason_phrase (g->msg))));
    return;
  }

  /* without the header (a plain HTTP server), the seq asked for */
  v = soup_message_headers_get_one (h, "Lp-Trickle-Seq");
  seq = g->seq >= 0 ? g->seq : sub->last_seq + 1;
  if (v && !_gst_trickle_client_parse_seq (v, &seq)) {
    gchar *e = g_strescape (v, NULL);

    finish (sub, g_error_new (GST_TRICKLE_SUBSCRIBER_ERROR,
            GST_TRICKLE_SUBSCRIBER_ERROR_HTTP, "GET %s/%" G_GINT64_FORMAT
            ": invalid Lp-Trickle-Seq \"%.40s\" (not a sequence number)",
            sub->url, g->seq, e));
    g_free (e);
    return;
  }
  sub->failures = 0;
  ev = event_new (GST_TRICKLE_SUBSCRIBER_SEGMENT_START, seq);
  ev->discont = sub->jumped || (sub->last_seq >= 0 && seq != sub->last_seq + 1);
  ev->content_type = g_strdup (soup_message_headers_get_one (h,
          "Content-Type"));
  sub->jumped = FALSE;
  sub->last_seq = seq;
  g->seq = seq;
  g_mutex_lock (&sub->lock);
  sub->st_seq = seq;
  if (g->preconnect)
    sub->st_hits++;
  g_mutex_unlock (&sub->lock);
  push_event (sub, ev);
  /* the preconnect: the next segment's GET waits on the server. Sent
   * once what is ready now has been read: the body's first bytes are
   * already here, and sending a request first made the rest of a small
   * segment (its end included) wait ~1 ms behind it */
  read_more (sub);
  if (!sub->preconnect && sub->churn <= CHURN_FREE) {
    sub->preconnect_seq = seq + 1;
    sub->preconnect = g_idle_source_new ();
    g_source_set_priority (sub->preconnect, G_PRIORITY_DEFAULT + 10);
    g_source_set_callback (sub->preconnect, preconnect_now, sub, NULL);
    g_source_attach (sub->preconnect, sub->context);
  }
}

static gboolean
preconnect_now (gpointer data)
{
  GstTrickleSubscriber *sub = data;

  g_clear_pointer (&sub->preconnect, g_source_unref);
  if (!sub->finished && !sub->next && sub->current)
    sub->next = get_new (sub, sub->preconnect_seq, TRUE);
  return G_SOURCE_REMOVE;
}

static void
cancel_preconnect (GstTrickleSubscriber * sub)
{
  if (sub->preconnect) {
    g_source_destroy (sub->preconnect);
    g_clear_pointer (&sub->preconnect, g_source_unref);
  }
}

/* the current segment is done: the preconnected GET takes over. @why
 * (taken): what cut an incomplete segment off */
static void
advance (GstTrickleSubscriber * sub, gchar * why)
{
  Get *g = sub->current;
  GstTrickleSubscriberEvent *ev;

  ev = event_new (GST_TRICKLE_SUBSCRIBER_SEGMENT_END, g->seq);
  ev->complete = why == NULL;
  ev->message = why;
  ev->size = g->bytes;
  ev->duration_us = g_get_monotonic_time () - g->start_time;
  g_mutex_lock (&sub->lock);
  sub->st_segments++;
  if (why)
    sub->st_incomplete++;
  g_mutex_unlock (&sub->lock);
  push_event (sub, ev);
  get_drop (g);
  /* (a preconnect not sent yet is sent now, as the current GET) */
  cancel_preconnect (sub);
  if (why) {
    sub->churn++;
  } else {
    sub->churn = 0;
  }
  if (sub->churn > CHURN_FREE)
    g_clear_pointer (&sub->next, get_drop);     /* paced instead */
  sub->current = sub->next;
  sub->next = NULL;
  if (!sub->current)
    sub->current = get_paced (sub, sub->last_seq + 1);
  else if (sub->current->answered)
    current_answered (sub);
}

/* libsoup 3.2.3 reads a chunked body whose connection closes between two
 * chunks as a clean end (fixed only in 3.6.5): a publisher that died, or
 * our server ending a segment its publisher abandoned, would look like a
 * complete segment. The real end (the last chunk) leaves the connection
 * open and idle, nothing to read on it; the cut-off one leaves it at end
 * of file, which reads at once. So: right after the body "ended", is the
 * connection itself (the stream under libsoup's framing streams) readable?
 * Not asked of an answer that said it closes the connection (it may close
 * right after the last chunk) nor of one not chunked (its end is its
 * length, or the close itself). Nor through a proxy (the `proxy`
 * property): the connection is then the proxy's, and a proxy may close it
 * after every answer without saying so (tinyproxy does). */
static gboolean
body_cut_short (Get * g)
{
  SoupMessageHeaders *h = soup_message_get_response_headers (g->msg);
  GInputStream *in = g->stream;

  if (g->sub->resolver)
    return FALSE;
  if (soup_message_headers_get_encoding (h) != SOUP_ENCODING_CHUNKED ||
      soup_message_headers_header_contains (h, "Connection", "close"))
    return FALSE;
  while (G_IS_FILTER_INPUT_STREAM (in))
    in = g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (in));
  return G_IS_POLLABLE_INPUT_STREAM (in) &&
      g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in)) &&
      g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (in));
}

static void
got_bytes (GObject * source, GAsyncResult * res, gpointer data)
{
  Get *g = data;
  GstTrickleSubscriber *sub = g->sub;
  GError *err = NULL;
  GBytes *bytes;

  g->busy = FALSE;
  sub->reading = FALSE;
  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), res, &err);
  if (g->dropped) {
    g_clear_pointer (&bytes, g_bytes_unref);
    g_clear_error (&err);
    get_free (g);
    return;
  }
  if (!bytes) {
    /* broke inside the segment (inside a chunk: libsoup sees it) */
    gchar *why = g_strdup_printf ("GET %s/%" G_GINT64_FORMAT
        " broke after %" G_GUINT64_FORMAT " bytes: %s", sub->url, g->seq,
        g->bytes, err->message);

    g_clear_error (&err);
    advance (sub, why);
    return;
  }
  if (g_bytes_get_size (bytes) == 0) {
    g_bytes_unref (bytes);
    g->eof = TRUE;
    if (body_cut_short (g)) {
      /* not read to its end: this connection must not be reused */
      g->eof = FALSE;
      advance (sub, g_strdup_printf ("GET %s/%" G_GINT64_FORMAT ": the "
              "server closed the connection after %" G_GUINT64_FORMAT
              " bytes, without the end of the body (its publisher died?)",
              sub->url, g->seq, g->bytes));
    } else {
      advance (sub, NULL);
    }
    return;
  }
  g->bytes += g_bytes_get_size (bytes);
  g_mutex_lock (&sub->lock);
  sub->st_bytes += g_bytes_get_size (bytes);
  g_mutex_unlock (&sub->lock);
  {
    GstTrickleSubscriberEvent *ev =
        event_new (GST_TRICKLE_SUBSCRIBER_DATA, g->seq);
    ev->data = bytes;
    push_event (sub, ev);
  }
  read_more (sub);
}

static void
read_more (GstTrickleSubscriber * sub)
{
  Get *g = sub->current;
  gboolean full;

  if (sub->reading || sub->finished || !g || !g->stream)
    return;
  g_mutex_lock (&sub->lock);
  full = sub->queued >= sub->max_queued;
  sub->paused = full;
  g_mutex_unlock (&sub->lock);
  if (full)
    return;                     /* next_event() resumes us */
  sub->reading = TRUE;
  g->busy = TRUE;
  g_input_stream_read_bytes_async (g->stream, READ_SIZE, G_PRIORITY_DEFAULT,
      g->cancellable, got_bytes, g);
}

static gboolean
resume_in_thread (gpointer data)
{
  GstTrickleSubscriber *sub = data;

  g_mutex_lock (&sub->lock);
  sub->resume_scheduled = FALSE;
  g_mutex_unlock (&sub->lock);
  read_more (sub);
  return G_SOURCE_REMOVE;
}

static gboolean
start_in_thread (gpointer data)
{
  GstTrickleSubscriber *sub = data;

  sub->current = get_new (sub, sub->start_seq, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
stop_in_thread (gpointer data)
{
  GstTrickleSubscriber *sub = data;

  sub->finished = TRUE;
  if (sub->retry) {
    g_source_destroy (sub->retry);
    g_clear_pointer (&sub->retry, g_source_unref);
  }
  cancel_preconnect (sub);
  get_drop (sub->current);
  get_drop (sub->next);
  sub->current = sub->next = NULL;
  g_main_loop_quit (sub->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
drain_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gpointer
thread_func (gpointer data)
{
  GstTrickleSubscriber *sub = data;

  g_main_context_push_thread_default (sub->context);
  /* current + preconnected GET need two connections at once (libsoup's
   * default per host is 2; reissued preconnects may briefly need more);
   * no session timeout: a preconnect waits as long as its segment does */
  sub->session = soup_session_new_with_options ("max-conns-per-host", 8,
      "max-conns", 16, "timeout", 0, "idle-timeout", 0, "user-agent",
      sub->user_agent, NULL);
  if (sub->db)
    soup_session_set_tls_database (sub->session, sub->db);
  if (sub->tls_interaction)
    soup_session_set_tls_interaction (sub->session, sub->tls_interaction);
  if (sub->resolver)
    soup_session_set_proxy_resolver (sub->session, sub->resolver);
  g_main_loop_run (sub->loop);
  {
    /* dropped (cancelled) requests return before the session goes,
     * boundedly. No soup_session_abort() first: with 3.2.3 it can tear a
     * message's I/O down under a response stream closed later. */
    gboolean late = FALSE;
    GSource *t = g_timeout_source_new (2000);

    g_source_set_callback (t, drain_timeout, &late, NULL);
    g_source_attach (t, sub->context);
    while (sub->live_gets > 0 && !late)
      g_main_context_iteration (sub->context, TRUE);
    g_source_destroy (t);
    g_source_unref (t);
    if (late)
      soup_session_abort (sub->session);
  }
  g_clear_object (&sub->session);
  while (g_main_context_iteration (sub->context, FALSE));
  g_main_context_pop_thread_default (sub->context);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* public API */

/**
 * gst_trickle_subscriber_new:
 * @url: the channel URL, `http(s)://host:port/[base/]channel`
 *
 * Returns: (transfer full): a new subscriber
 */
GstTrickleSubscriber *
gst_trickle_subscriber_new (const gchar * url)
{
  return g_object_new (GST_TRICKLE_TYPE_SUBSCRIBER, "url", url, NULL);
}

/**
 * gst_trickle_subscriber_start:
 *
 * Starts the session thread and the first GET. Does not wait for any
 * answer: gst_trickle_subscriber_next_event() reports what comes.
 *
 * Returns: %FALSE with @error (%GST_TRICKLE_SUBSCRIBER_ERROR_SETTINGS) for
 * an invalid URL, one without a channel name, or a CA file that cannot be
 * read
 */
gboolean
gst_trickle_subscriber_start (GstTrickleSubscriber * sub, GError ** error)
{
  GTlsDatabase *db = NULL;
  GProxyResolver *resolver = NULL;
  gchar *why = NULL;

  g_return_val_if_fail (sub->thread == NULL, FALSE);

  if (!_gst_trickle_client_check_url (sub->url, &why)
      || !_gst_trickle_client_check_extra_headers (sub->extra_headers, &why)
      || !_gst_trickle_client_proxy_resolver (sub->proxy, &resolver, &why)
      || !_gst_trickle_client_get_database (sub->ssl_ca_file,
          sub->tls_database, &db, &why)) {
    g_set_error_literal (error, GST_TRICKLE_SUBSCRIBER_ERROR,
        GST_TRICKLE_SUBSCRIBER_ERROR_SETTINGS, why);
    g_free (why);
    g_clear_object (&resolver);
    return FALSE;
  }

  g_queue_clear_full (&sub->events, (GDestroyNotify) event_free);
  g_clear_error (&sub->error);
  sub->queued = 0;
  sub->paused = sub->resume_scheduled = FALSE;
  sub->flushing = FALSE;
  sub->finished = FALSE;
  sub->reading = FALSE;
  sub->failures = 0;
  sub->not_found_since = 0;
  sub->last_seq = -1;
  sub->jumped = FALSE;
  sub->st_segments = sub->st_bytes = sub->st_retries = sub->st_jumps =
      sub->st_hits = sub->st_incomplete = 0;
  sub->st_seq = -1;

  sub->context = g_main_context_new ();
  sub->loop = g_main_loop_new (sub->context, FALSE);
  g_clear_object (&sub->db);
  sub->db = db;
  g_clear_object (&sub->resolver);
  sub->resolver = resolver;
  sub->thread = g_thread_new ("trickle-subscriber", thread_func, sub);
  g_main_context_invoke (sub->context, start_in_thread, sub);
  return TRUE;
}

/**
 * gst_trickle_subscriber_next_event:
 * @event: (out caller-allocates): filled in; clear it with
 *   gst_trickle_subscriber_event_clear()
 *
 * Waits for what comes next from the channel. After
 * %GST_TRICKLE_SUBSCRIBER_EOS, or an error, nothing more comes.
 *
 * Returns: %FALSE with @error (%GST_TRICKLE_SUBSCRIBER_ERROR_CANCELLED
 * after gst_trickle_subscriber_unlock())
 */
gboolean
gst_trickle_subscriber_next_event (GstTrickleSubscriber * sub,
    GstTrickleSubscriberEvent * event, GError ** error)
{
  GstTrickleSubscriberEvent *ev;
  gboolean resume = FALSE;

  memset (event, 0, sizeof (*event));
  g_mutex_lock (&sub->lock);
  while (!sub->flushing && g_queue_is_empty (&sub->events) && !sub->error
      && sub->thread)
    g_cond_wait (&sub->cond, &sub->lock);
  if (sub->flushing) {
    g_mutex_unlock (&sub->lock);
    g_set_error (error, GST_TRICKLE_SUBSCRIBER_ERROR,
        GST_TRICKLE_SUBSCRIBER_ERROR_CANCELLED, "Interrupted");
    return FALSE;
  }
  ev = g_queue_pop_head (&sub->events);
  if (!ev) {
    if (sub->error)
      g_propagate_error (error, g_error_copy (sub->error));
    else
      g_set_error (error, GST_TRICKLE_SUBSCRIBER_ERROR,
          GST_TRICKLE_SUBSCRIBER_ERROR_CANCELLED, "Not started");
    g_mutex_unlock (&sub->lock);
    return FALSE;
  }
  if (ev->data) {
    sub->queued -= g_bytes_get_size (ev->data);
    if (sub->paused && !sub->resume_scheduled
        && sub->queued <= sub->max_queued / 2) {
      sub->paused = FALSE;
      sub->resume_scheduled = TRUE;
      resume = TRUE;
    }
  }
  g_mutex_unlock (&sub->lock);
  if (resume)
    g_main_context_invoke (sub->context, resume_in_thread, sub);
  *event = *ev;
  g_free (ev);
  return TRUE;
}

/**
 * gst_trickle_subscriber_unlock:
 *
 * Makes gst_trickle_subscriber_next_event() return at once (from any
 * thread) until gst_trickle_subscriber_unlock_stop().
 */
void
gst_trickle_subscriber_unlock (GstTrickleSubscriber * sub)
{
  g_mutex_lock (&sub->lock);
  sub->flushing = TRUE;
  g_cond_broadcast (&sub->cond);
  g_mutex_unlock (&sub->lock);
}

void
gst_trickle_subscriber_unlock_stop (GstTrickleSubscriber * sub)
{
  g_mutex_lock (&sub->lock);
  sub->flushing = FALSE;
  g_mutex_unlock (&sub->lock);
}

/**
 * gst_trickle_subscriber_stop:
 *
 * Drops every request at once (no answer is waited for) and stops the
 * session thread.
 */
void
gst_trickle_subscriber_stop (GstTrickleSubscriber * sub)
{
  if (!sub->thread)
    return;
  g_main_context_invoke (sub->context, stop_in_thread, sub);
  g_thread_join (sub->thread);
  g_mutex_lock (&sub->lock);
  sub->thread = NULL;
  g_cond_broadcast (&sub->cond);
  g_mutex_unlock (&sub->lock);
  g_clear_pointer (&sub->loop, g_main_loop_unref);
  g_clear_pointer (&sub->context, g_main_context_unref);
}

/**
 * gst_trickle_subscriber_get_stats:
 *
 * Returns: (transfer full): `segments`, `bytes`, `retries`, `jumps` (470s),
 * `preconnect-hits` (segments whose GET was sent before they started),
 * `incomplete` (segments cut off: their publisher or the connection died)
 * as guint64 and `seq` (the last segment started, -1 none) as gint64
 */
GstStructure *
gst_trickle_subscriber_get_stats (GstTrickleSubscriber * sub)
{
  GstStructure *s;

  g_mutex_lock (&sub->lock);
  s = gst_structure_new ("trickle-subscriber-stats",
      "segments", G_TYPE_UINT64, sub->st_segments,
      "bytes", G_TYPE_UINT64, sub->st_bytes,
      "retries", G_TYPE_UINT64, sub->st_retries,
      "jumps", G_TYPE_UINT64, sub->st_jumps,
      "preconnect-hits", G_TYPE_UINT64, sub->st_hits,
      "incomplete", G_TYPE_UINT64, sub->st_incomplete,
      "seq", G_TYPE_INT64, sub->st_seq, NULL);
  g_mutex_unlock (&sub->lock);
  return s;
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_trickle_subscriber_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleSubscriber *sub = GST_TRICKLE_SUBSCRIBER (object);

  /* the session thread reads the settings while it runs (credentials,
   * headers, TLS): they are set before start() */
  if (sub->thread) {
    g_warning ("%s: \"%s\" can only be set before start()",
        G_OBJECT_TYPE_NAME (object), pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_URL:{
      gchar *url = g_value_dup_string (value);
      g_free (sub->url);
      if (url && g_str_has_suffix (url, "/"))
        url[strlen (url) - 1] = '\0';
      sub->url = url;
      break;
    }
    case PROP_START_SEQ:
      sub->start_seq = g_value_get_int64 (value);
      break;
    case PROP_WAIT_TIMEOUT:
      sub->wait_timeout_ms = g_value_get_double (value) < 0 ? -1 :
          (gint) (g_value_get_double (value) * 1000);
      break;
    case PROP_PRECONNECT_TIMEOUT:
      sub->preconnect_timeout_ms = (guint) (g_value_get_double (value) * 1000);
      break;
    case PROP_RETRIES:
      sub->retries = g_value_get_int (value);
      break;
    case PROP_RETRY_DELAY:
      sub->retry_delay = g_value_get_double (value);
      break;
    case PROP_TIMEOUT:
      sub->timeout = g_value_get_uint (value);
      break;
    case PROP_USER_AGENT:
      g_free (sub->user_agent);
      sub->user_agent = g_value_dup_string (value);
      break;
    case PROP_PROXY:
      g_free (sub->proxy);
      sub->proxy = g_value_dup_string (value);
      break;
    case PROP_PROXY_ID:
      g_free (sub->creds.proxy_id);
      sub->creds.proxy_id = g_value_dup_string (value);
      break;
    case PROP_PROXY_PW:
      g_free (sub->creds.proxy_pw);
      sub->creds.proxy_pw = g_value_dup_string (value);
      break;
    case PROP_USER_ID:
      g_free (sub->creds.user_id);
      sub->creds.user_id = g_value_dup_string (value);
      break;
    case PROP_USER_PW:
      g_free (sub->creds.user_pw);
      sub->creds.user_pw = g_value_dup_string (value);
      break;
    case PROP_MAX_QUEUED_BYTES:
      sub->max_queued = g_value_get_uint64 (value);
      break;
    case PROP_SSL_STRICT:
      sub->ssl_strict = g_value_get_boolean (value);
      break;
    case PROP_TLS_DATABASE:
      g_clear_object (&sub->tls_database);
      sub->tls_database = g_value_dup_object (value);
      break;
    case PROP_TLS_INTERACTION:
      g_clear_object (&sub->tls_interaction);
      sub->tls_interaction = g_value_dup_object (value);
      break;
    case PROP_SSL_CA_FILE:
      g_free (sub->ssl_ca_file);
      sub->ssl_ca_file = g_value_dup_string (value);
      break;
    case PROP_EXTRA_HEADERS:
      if (sub->extra_headers)
        gst_structure_free (sub->extra_headers);
      sub->extra_headers = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_subscriber_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTrickleSubscriber *sub = GST_TRICKLE_SUBSCRIBER (object);

  switch (prop_id) {
    case PROP_URL:
      g_value_set_string (value, sub->url);
      break;
    case PROP_START_SEQ:
      g_value_set_int64 (value, sub->start_seq);
      break;
    case PROP_WAIT_TIMEOUT:
      g_value_set_double (value, sub->wait_timeout_ms < 0 ? -1 :
          sub->wait_timeout_ms / 1000.0);
      break;
    case PROP_PRECONNECT_TIMEOUT:
      g_value_set_double (value, sub->preconnect_timeout_ms / 1000.0);
      break;
    case PROP_RETRIES:
      g_value_set_int (value, sub->retries);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_double (value, sub->retry_delay);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, sub->timeout);
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, sub->user_agent);
      break;
    case PROP_PROXY:
      g_value_set_string (value, sub->proxy);
      break;
    case PROP_PROXY_ID:
      g_value_set_string (value, sub->creds.proxy_id);
      break;
    case PROP_PROXY_PW:
      g_value_set_string (value, sub->creds.proxy_pw);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, sub->creds.user_id);
      break;
    case PROP_USER_PW:
      g_value_set_string (value, sub->creds.user_pw);
      break;
    case PROP_MAX_QUEUED_BYTES:
      g_value_set_uint64 (value, sub->max_queued);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, sub->ssl_strict);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, sub->tls_database);
      break;
    case PROP_TLS_INTERACTION:
      g_value_set_object (value, sub->tls_interaction);
      break;
    case PROP_SSL_CA_FILE:
      g_value_set_string (value, sub->ssl_ca_file);
      break;
    case PROP_EXTRA_HEADERS:
      g_value_set_boxed (value, sub->extra_headers);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_subscriber_finalize (GObject * object)
{
  GstTrickleSubscriber *sub = GST_TRICKLE_SUBSCRIBER (object);

  gst_trickle_subscriber_stop (sub);
  g_queue_clear_full (&sub->events, (GDestroyNotify) event_free);
  g_clear_error (&sub->error);
  g_clear_object (&sub->db);
  g_clear_object (&sub->tls_database);
  g_clear_object (&sub->tls_interaction);
  g_free (sub->url);
  g_free (sub->user_agent);
  g_free (sub->proxy);
  _gst_trickle_client_creds_clear (&sub->creds);
  g_clear_object (&sub->resolver);
  g_free (sub->ssl_ca_file);
  if (sub->extra_headers)
    gst_structure_free (sub->extra_headers);
  g_mutex_clear (&sub->lock);
  g_cond_clear (&sub->cond);
  G_OBJECT_CLASS (gst_trickle_subscriber_parent_class)->finalize (object);
}

static void
gst_trickle_subscriber_class_init (GstTrickleSubscriberClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_trickle_subscriber_set_property;
  gobject_class->get_property = gst_trickle_subscriber_get_property;
  gobject_class->finalize = gst_trickle_subscriber_finalize;

  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
          "Channel URL: http(s)://host:port/[base/]channel", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_START_SEQ,
      g_param_spec_int64 ("start-seq", "Start seq",
          "First segment: -1 the next one (live edge), -2 the one being "
          "written, or a seq", -2, G_MAXINT64, -1, flags));
  g_object_class_install_property (gobject_class, PROP_WAIT_TIMEOUT,
      g_param_spec_double ("wait-timeout", "Wait timeout",
          "Seconds an unknown channel (404) is waited for before failing "
          "(-1: forever)", -1, G_MAXINT / 1000, 0, flags));
  g_object_class_install_property (gobject_class, PROP_PRECONNECT_TIMEOUT,
      g_param_spec_double ("preconnect-timeout", "Preconnect timeout",
          "Seconds a GET may wait for its segment before it is sent again "
          "(0: never)", 0, G_MAXUINT / 1000, 20, flags));
  g_object_class_install_property (gobject_class, PROP_RETRIES,
      g_param_spec_int ("retries", "Retries",
          "Failed requests (no connection, 5xx) retried in a row before "
          "giving up, retry-delay apart (-1: forever)", -1, G_MAXINT,
          TRICKLE_CLIENT_DEFAULT_RETRIES, flags));
  g_object_class_install_property (gobject_class, PROP_RETRY_DELAY,
      g_param_spec_double ("retry-delay", "Retry delay",
          "Seconds before the first retry; the delay doubles with each "
          "failure in a row, up to 16 times this", 0, 3600,
          TRICKLE_CLIENT_DEFAULT_RETRY_DELAY, flags));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Seconds the set-up of a connection (TCP, TLS handshake) may take "
          "before its request fails and is retried (0: no limit); a GET "
          "waiting for its segment is bounded by preconnect-timeout", 0,
          3600, TRICKLE_CLIENT_DEFAULT_TIMEOUT, flags));
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
  g_object_class_install_property (gobject_class, PROP_USER_AGENT,
      g_param_spec_string ("user-agent", "User-Agent",
          "User-Agent header of every request (a trailing space appends "
          "libsoup's own)", TRICKLE_CLIENT_DEFAULT_USER_AGENT, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUED_BYTES,
      g_param_spec_uint64 ("max-queued-bytes", "Max queued bytes",
          "Bytes read ahead of the caller before reading pauses", 1,
          G_MAXUINT64, 4 * 1024 * 1024, flags));
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
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of the certificate authorities to trust (instead of the "
          "system's); a relative path is taken from the working directory",
          NULL, flags));
  g_object_class_install_property (gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed ("extra-headers", "Extra headers",
          "Headers added to every request, as souphttpsrc's: each field a "
          "header (name = value; a value that is not a string is turned "
          "into one; an array or a list repeats the header)",
          GST_TYPE_STRUCTURE, flags));
}

static void
gst_trickle_subscriber_init (GstTrickleSubscriber * sub)
{
  g_mutex_init (&sub->lock);
  g_cond_init (&sub->cond);
  g_queue_init (&sub->events);
  sub->start_seq = -1;
  sub->ssl_strict = TRUE;
  sub->preconnect_timeout_ms = 20000;
  sub->retries = TRICKLE_CLIENT_DEFAULT_RETRIES;
  sub->retry_delay = TRICKLE_CLIENT_DEFAULT_RETRY_DELAY;
  sub->timeout = TRICKLE_CLIENT_DEFAULT_TIMEOUT;
  sub->user_agent = g_strdup (TRICKLE_CLIENT_DEFAULT_USER_AGENT);
  sub->max_queued = 4 * 1024 * 1024;
  sub->last_seq = -1;
  sub->st_seq = -1;
}
