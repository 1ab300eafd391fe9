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
 * SECTION:tricklegateway
 * @title: GstTrickleGateway
 * @short_description: WebRTC (WHIP/WHEP) in and out of trickle channels
 *
 * #GstTrickleGateway bridges WebRTC publishers and viewers to trickle
 * channels under #GstTrickleGateway:trickle-url (a trickleserver's, or an
 * orchestrator's `/ai/trickle/` URL). It serves, over HTTP (libsoup):
 *
 * | request | what happens |
 * |---|---|
 * | `POST /whip/<stream>` (an SDP offer) | WHIP ingest (RFC 9725): 201 with the answer and a `Location`; H.264 is passed through (no re-encoding) and Opus too, muxed into MPEG-TS and published to channel `<stream>`, segments cut on keyframes once #GstTrickleGateway:min-segment-duration has passed, a keyframe asked for (RTCP PLI) every #GstTrickleGateway:keyframe-interval |
 * | `POST /whep/<stream>` (an SDP offer) | WHEP egress: a viewer receives channel `<stream>` as H.264 + Opus (other codecs in the channel are transcoded), from the next segment on (the live edge) |
 * | `PATCH <Location>` (`application/trickle-ice-sdpfrag`) | the client's ICE candidates (trickle ICE); the gateway's own are all in its answer (it answers once its gathering is complete) |
 * | `DELETE <Location>` | ends the session; a WHIP session's channel ends for its subscribers (tricklesink deletes it) |
 * | `GET /sessions` | the sessions, as JSON |
 *
 * A publisher or viewer that sends nothing (no media, no RTCP, no ICE
 * check) for #GstTrickleGateway:media-timeout seconds, or whose ICE
 * connection fails, is gone: its session ends. Past
 * #GstTrickleGateway:max-sessions sessions a POST is answered 503 (with
 * Retry-After), past #GstTrickleGateway:max-viewers viewers of one stream
 * 429; with #GstTrickleGateway:auth-token set every WHIP/WHEP request needs
 * `Authorization: Bearer <token>` (401 otherwise).
 *
 * Browsers are answered with CORS headers (#GstTrickleGateway:allow-origin).
 * See docs/gateway.md for recipes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <gst/sdp/sdp.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <gst/video/video.h>
#include "trickle-api-server-private.h"
#include "trickle-private.h"
#include "tricklegateway.h"

GST_DEBUG_CATEGORY_STATIC (gateway_debug);
#define GST_CAT_DEFAULT gateway_debug

#define DEFAULT_HOST NULL
#define DEFAULT_PORT 8088
#define DEFAULT_TRICKLE_URL "http://127.0.0.1:2939/"
#define DEFAULT_MAX_SESSIONS 32
#define DEFAULT_MAX_VIEWERS 16
#define DEFAULT_MIN_SEGMENT_DURATION 1.0
#define DEFAULT_KEYFRAME_INTERVAL 2.0
#define DEFAULT_MEDIA_TIMEOUT 15.0
#define DEFAULT_GATHER_TIMEOUT 5.0
#define DEFAULT_LATENCY 200
#define DEFAULT_ALLOW_ORIGIN "*"
/* stop() waits this long for the sessions' teardowns: above what a
 * healthy one takes at worst (END_EOS_WAIT_US, then a DELETE of up to 5 s
 * per I/O) */
#define DEFAULT_STOP_TIMEOUT 20.0
/* how long an ending WHIP session waits for its end to reach the channel
 * (tricklesink's last segment and DELETE) before it is torn down anyway */
#define END_EOS_WAIT_US (5 * G_USEC_PER_SEC)

enum
{
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_TRICKLE_URL,
  PROP_AUTH_TOKEN,
  PROP_MAX_SESSIONS,
  PROP_MAX_VIEWERS,
  PROP_MIN_SEGMENT_DURATION,
  PROP_KEYFRAME_INTERVAL,
  PROP_MEDIA_TIMEOUT,
  PROP_STUN_SERVER,
  PROP_LATENCY,
  PROP_ALLOW_ORIGIN,
  PROP_STOP_TIMEOUT,
};

enum
{
  SIGNAL_SESSION_STARTED,
  SIGNAL_SESSION_ENDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef enum
{
  KIND_WHIP,                    /* WebRTC publisher -> channel */
  KIND_WHEP,                    /* channel -> WebRTC viewer */
  KIND_RTMP,                    /* RTMP stream (pulled) -> channel */
  KIND_RTMP_OUT,                /* channel -> RTMP server */
  KIND_HLS,                     /* channel -> HLS files, served here */
} SessionKind;

/* also the first part of each kind's paths */
static const gchar *const kind_names[] = { "whip", "whep", "rtmp",
  "rtmp-out", "hls"
};

typedef struct _Session Session;

struct _GstTrickleGateway
{
  GObject parent;

  GMutex lock;                  /* the settings */
  gchar *host;
  guint port;
  gchar *trickle_url;
  gchar *auth_token;
  guint max_sessions;
  guint max_viewers;
  gdouble min_segment_duration;
  gdouble keyframe_interval;
  gdouble media_timeout;
  gchar *stun_server;
  guint latency;
  gchar *allow_origin;
  gdouble stop_timeout;

  /* running: sessions are created, changed and ended in the API's thread */
  GstTrickleApiServer *api;
  GMainContext *context;
  GThreadPool *teardowns;
  GHashTable *sessions;         /* id -> Session (a reference) */
  GSource *tick;
  gboolean shutting_down;
  GMutex stop_lock;
  GCond stop_cond;
  gboolean stopped;
  guint abandoned;              /* sessions the last stop() gave up on
                                 * (G_MAXUINT: not counted yet); under
                                 * stop_lock */
  gint n_sessions;              /* atomic: for get_session_count() */
};

G_DEFINE_TYPE (GstTrickleGateway, gst_trickle_gateway, G_TYPE_OBJECT);

typedef enum
{
  SESSION_NEGOTIATING,          /* the POST waits for the answer */
  SESSION_RUNNING,
  SESSION_ENDING,
} SessionState;

/* A session's lifetime. Its references: gw->sessions' (until
 * session_finished), the teardown's (teardown_func to session_finished),
 * and one for each GSource, promise, probe or step that outlives the call
 * that made it (session_ref with session_unref as its GDestroyNotify).
 *
 * The GStreamer callbacks given a bare Session pointer (webrtcbin's
 * deep-element-added, notify::ice-connection-state and
 * notify::ice-gathering-state, pad-added, no-more-pads, the probes without
 * a destroy notify) run in the session pipeline's threads only: its
 * streaming threads and webrtcbin's own thread. The teardown holds a
 * reference until gst_element_set_state (pipeline, NULL) has returned,
 * which stops them all (webrtcbin's thread ends at READY -> NULL; a
 * webrtcbin that never left NULL never started it), so they cannot
 * outlive the session. What they hand to the gateway's thread takes a
 * reference of its own, through session_invoke: never through s->gw,
 * which a stop() that did not wait for this session (stop-timeout) may
 * have freed. */
struct _Session
{
  gint ref;
  GstTrickleGateway *gw;        /* not a reference: used in the gateway's
                                 * thread only (see session_invoke) */
  /* the gateway's thread, where session_invoke sends work; NULL once a
   * stop() gave up waiting for this session (it then finishes in its
   * teardown thread) */
  GMutex invoke_lock;
  GMainContext *context;
  gboolean abandoned;           /* the gateway's thread: stop() gave up */
  SessionKind kind;
  gchar *id;
  gchar *stream;
  gchar *channel_url;
  SessionState state;
  gchar *end_reason;
  gint64 started;               /* monotonic us */

  GstElement *pipeline;
  GstElement *webrtc;
  GSource *bus_source;
  GstSDPMessage *offer;         /* until answered */
  SoupServerMessage *pending;   /* the POST, paused until answered */
  GSource *gather_timeout;
  GSource *pli_timer;
  GSource *hold_timer;
  gint flowing;                 /* atomic: WHEP: media has gone out */
  gint published;               /* atomic: ingest: tricklesink got data */
  guint refuse_status;          /* the answer to a POST ended while negotiating */
  gboolean from_hook;           /* RTMP: started by nginx-rtmp's on_publish */
  GstClockTime last_video_ts;   /* WHIP: streaming thread */
  gint last_packet;             /* atomic: monotonic s of the peer's last */

  /* per m-line of the offer: the payload type chosen (-1: none) */
  gint video_mline, audio_mline;
  gint video_pt, audio_pt;
  GstCaps *video_caps, *audio_caps;

  /* WHIP: the mux's inputs (ended at DELETE); WHEP: the payloaders */
  GstElement *video_in, *audio_in;
  GstElement *mux, *sink;
  gboolean video_linked, audio_linked;  /* under the object lock of pipeline */

  /* RTMP: the server's URL */
  gchar *url;
  /* HLS: the files' folder, the playlist requests waiting for it */
  gchar *hls_dir;
  GList *hls_waiting;
  GSource *hls_poll;
  guint hls_polls;
  /* RTMP out: flvmux; HLS: hlssink2 */
  GstElement *out;
  /* RTMP in: the branches held until the demuxer has all its streams */
  GList *held;
  gboolean holds_released;

  GMutex eos_lock;
  GCond eos_cond;
  gboolean eos;
};

typedef struct
{
  GstPad *pad;
  gulong id;
} Hold;

static Hold *
hold_new (GstPad * pad, gulong id)
{
  Hold *h = g_new (Hold, 1);

  h->pad = gst_object_ref (pad);
  h->id = id;
  return h;
}

static void
hold_free (gpointer data)
{
  Hold *h = data;

  gst_object_unref (h->pad);
  g_free (h);
}

/* ------------------------------------------------------------------------ */
/* sessions */

static Session *
session_ref (Session * s)
{
  g_atomic_int_inc (&s->ref);
  return s;
}

static void
session_unref (Session * s)
{
  if (!g_atomic_int_dec_and_test (&s->ref))
    return;
  g_assert (s->pipeline == NULL);
  g_assert (s->pending == NULL);
  g_free (s->id);
  g_free (s->stream);
  g_free (s->channel_url);
  g_free (s->end_reason);
  g_free (s->url);
  g_free (s->hls_dir);
  g_list_free_full (s->held, hold_free);
  if (s->offer)
    gst_sdp_message_free (s->offer);
  gst_clear_caps (&s->video_caps);
  gst_clear_caps (&s->audio_caps);
  g_mutex_clear (&s->eos_lock);
  g_cond_clear (&s->eos_cond);
  g_mutex_clear (&s->invoke_lock);
  g_free (s);
}

/* @func (@data) in the gateway's thread, from any thread (always later,
 * from an idle source: never in the caller's stack). FALSE, and nothing
 * attached (@notify not called), if the gateway no longer runs this
 * session's work (a stop() gave up waiting for it). The caller holds a
 * reference to @s of its own: @func may have run, and @notify dropped
 * the one in @data, before this returns. */
static gboolean
session_try_invoke (Session * s, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  gboolean ok;

  g_mutex_lock (&s->invoke_lock);
  ok = s->context != NULL;
  if (ok) {
    GSource *source = g_idle_source_new ();
    /* as g_main_context_invoke_full's: not after every request */
    g_source_set_priority (source, G_PRIORITY_DEFAULT);
    g_source_set_callback (source, func, data, notify);
    g_source_attach (source, s->context);
    g_source_unref (source);
  }
  g_mutex_unlock (&s->invoke_lock);
  return ok;
}

/* the same, @data dropped (@notify) if it cannot be done */
static void
session_invoke (Session * s, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  if (!session_try_invoke (s, func, data, notify) && notify)
    notify (data);
}

static gint
mono_s (void)
{
  return (gint) (g_get_monotonic_time () / G_USEC_PER_SEC);
}

static gchar *
random_id (void)
{
  return g_strdup_printf ("%08x%08x%08x%08x", g_random_int (), g_random_int (),
      g_random_int (), g_random_int ());
}

static Session *
session_new (GstTrickleGateway * gw, SessionKind kind, const gchar * stream)
{
  Session *s = g_new0 (Session, 1);
  const gchar *base;

  s->ref = 1;
  s->gw = gw;
  g_mutex_init (&s->invoke_lock);
  s->context = gw->context;
  s->kind = kind;
  s->id = random_id ();
  s->stream = g_strdup (stream);
  g_mutex_lock (&gw->lock);
  base = gw->trickle_url;
  s->channel_url = g_strconcat (base, g_str_has_suffix (base, "/") ? "" : "/",
      stream, NULL);
  g_mutex_unlock (&gw->lock);
  s->state = SESSION_NEGOTIATING;
  s->started = g_get_monotonic_time ();
  s->last_packet = mono_s ();
  s->video_mline = s->audio_mline = -1;
  s->video_pt = s->audio_pt = -1;
  s->last_video_ts = GST_CLOCK_TIME_NONE;
  g_mutex_init (&s->eos_lock);
  g_cond_init (&s->eos_cond);
  return s;
}

static void answer_text (SoupServerMessage * msg, guint status,
    const gchar * text);
static void hls_answer_waiting (Session * s);
static void session_end (Session * s, const gchar * reason);

/* once torn down: the pipeline goes */
static void
session_release (Session * s)
{
  if (s->bus_source) {
    g_source_destroy (s->bus_source);
    g_clear_pointer (&s->bus_source, g_source_unref);
  }
  gst_clear_object (&s->pipeline);
  s->webrtc = NULL;
  s->video_in = s->audio_in = s->mux = s->sink = s->out = NULL;
  GST_INFO ("%s session %s (stream %s) ended: %s", kind_names[s->kind],
      s->id, s->stream, s->end_reason);
}

/* in the API's thread, once torn down */
static gboolean
session_finished (gpointer data)
{
  Session *s = data;
  GstTrickleGateway *gw = s->gw;

  session_release (s);
  if (s->abandoned)
    return G_SOURCE_REMOVE;     /* no longer the gateway's (see stop()) */
  g_signal_emit (gw, signals[SIGNAL_SESSION_ENDED], 0, kind_names[s->kind],
      s->stream, s->id, s->end_reason);
  g_hash_table_remove (gw->sessions, s->id);
  g_atomic_int_add (&gw->n_sessions, -1);
  if (gw->shutting_down && g_hash_table_size (gw->sessions) == 0) {
    g_mutex_lock (&gw->stop_lock);
    gw->stopped = TRUE;
    g_cond_signal (&gw->stop_cond);
    g_mutex_unlock (&gw->stop_lock);
  }
  return G_SOURCE_REMOVE;
}

/* an HLS session's files, then its folder */
static void
remove_dir (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    gchar *file = g_build_filename (path, name, NULL);
    g_unlink (file);
    g_free (file);
  }
  if (dir)
    g_dir_close (dir);
  g_rmdir (path);
}

/* the EOS into each of the mux's inputs (@data: the pads), in a thread
 * of GStreamer's (gst_element_call_async): a pad's EOS waits for its
 * stream lock, which a streaming thread held up downstream keeps (a
 * tricklesink waiting up to 30 s for a server that does not answer) */
static void
send_eos_async (GstElement * mux, gpointer data)
{
  GList *l;

  for (l = data; l; l = l->next) {
    gboolean sent = gst_pad_send_event (l->data, gst_event_new_eos ());
    GST_DEBUG_OBJECT (l->data, "EOS sent: %d", sent);
  }
}

static void
free_pads (gpointer data)
{
  g_list_free_full (data, gst_object_unref);
}

/* a thread of the pool: the end reaches the channel, then the pipeline
 * goes (webrtcbin's and the clients' state changes can block a while) */
static void
teardown_func (gpointer data, gpointer user_data)
{
  Session *s = data;

  if (s->pipeline && s->mux && s->sink) {
    gint64 until = g_get_monotonic_time () + END_EOS_WAIT_US;
    gboolean any, eos;
    GList *pads;

    /* the mux's inputs end, not the sources (webrtcbin's, rtmp2src):
     * the mux finishes its last segment and tricklesink deletes the
     * channel. Not from here: the wait for that end is bounded
     * (END_EOS_WAIT_US), the EOS's way in is not (send_eos_async); the
     * pipeline's stop below unblocks it */
    GST_OBJECT_LOCK (s->mux);
    pads = g_list_copy_deep (GST_ELEMENT (s->mux)->sinkpads,
        (GCopyFunc) gst_object_ref, NULL);
    GST_OBJECT_UNLOCK (s->mux);
    any = pads != NULL;         /* an input already ended: its end is coming */
    if (any)
      gst_element_call_async (s->mux, send_eos_async, pads, free_pads);
    if (any) {
      g_mutex_lock (&s->eos_lock);
      while (!s->eos && g_cond_wait_until (&s->eos_cond, &s->eos_lock, until));
      g_mutex_unlock (&s->eos_lock);
    }
    g_mutex_lock (&s->eos_lock);
    eos = s->eos;
    g_mutex_unlock (&s->eos_lock);
    if (!eos && g_atomic_int_get (&s->published)) {
      /* the end did not get through: the channel ends anyway, or its
       * subscribers would wait for it for ever (only a channel this
       * session wrote: a refused or never-started one is somebody
       * else's, or nobody's) */
      GST_WARNING ("session %s: the end did not reach the channel in time: "
          "deleting it", s->id);
      _gst_trickle_client_delete_channel (s->channel_url);
    }
  }
  if (s->pipeline)
    gst_element_set_state (s->pipeline, GST_STATE_NULL);
  if (s->hls_dir)
    remove_dir (s->hls_dir);
  /* the gateway's thread finishes the session; if a stop() gave up
   * waiting for it (the gateway may be gone), this thread does. The
   * reference handed over may go before session_try_invoke returns: one
   * more across the call */
  session_ref (s);
  if (!session_try_invoke (s, session_finished, s,
          (GDestroyNotify) session_unref)) {
    session_release (s);
    session_unref (s);
  }
  session_unref (s);
}

/* ends a session (once), in the API's thread */
static void
session_end (Session * s, const gchar * reason)
{
  if (s->state == SESSION_ENDING)
    return;
  GST_INFO ("ending %s session %s: %s", kind_names[s->kind], s->id, reason);
  s->state = SESSION_ENDING;
  s->end_reason = g_strdup (reason);
  if (s->gather_timeout) {
    g_source_destroy (s->gather_timeout);
    g_clear_pointer (&s->gather_timeout, g_source_unref);
  }
  if (s->pli_timer) {
    g_source_destroy (s->pli_timer);
    g_clear_pointer (&s->pli_timer, g_source_unref);
  }
  if (s->hold_timer) {
    g_source_destroy (s->hold_timer);
    g_clear_pointer (&s->hold_timer, g_source_unref);
  }
  if (s->pending) {
    /* the offer's fault (400), or ours (503) */
    answer_text (s->pending, s->refuse_status ? s->refuse_status :
        SOUP_STATUS_SERVICE_UNAVAILABLE, reason);
    soup_server_message_unpause (s->pending);
    g_clear_object (&s->pending);
  }
  hls_answer_waiting (s);
  g_thread_pool_push (s->gw->teardowns, session_ref (s), NULL);
}

typedef struct
{
  Session *s;
  gchar *reason;
} EndCall;

static gboolean
end_call_dispatch (gpointer data)
{
  EndCall *c = data;

  session_end (c->s, c->reason);
  return G_SOURCE_REMOVE;
}

static void
end_call_free (gpointer data)
{
  EndCall *c = data;

  session_unref (c->s);
  g_free (c->reason);
  g_free (c);
}

/* from any thread */
static void
session_end_async (Session * s, const gchar * reason)
{
  EndCall *c = g_new0 (EndCall, 1);

  c->s = session_ref (s);
  c->reason = g_strdup (reason);
  session_invoke (s, end_call_dispatch, c, end_call_free);
}

/* ------------------------------------------------------------------------ */
/* HTTP answers */

static void
answer_text (SoupServerMessage * msg, guint status, const gchar * text)
{
  gchar *body = g_strconcat (text, "\n", NULL);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_TAKE, body,
      strlen (body));
}

static void
add_cors (GstTrickleGateway * gw, SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  g_mutex_lock (&gw->lock);
  if (gw->allow_origin && *gw->allow_origin) {
    soup_message_headers_replace (h, "Access-Control-Allow-Origin",
        gw->allow_origin);
    soup_message_headers_replace (h, "Access-Control-Expose-Headers",
        "Location, ETag, Link, Retry-After");
  }
  g_mutex_unlock (&gw->lock);
}

static void
add_ice_servers (GstTrickleGateway * gw, SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  g_mutex_lock (&gw->lock);
  if (gw->stun_server && *gw->stun_server) {
    const gchar *uri = gw->stun_server;
    gchar *link;
    /* webrtcbin's stun://host:port is stun:host:port in a Link */
    if (g_str_has_prefix (uri, "stun://"))
      uri += strlen ("stun://");
    else if (g_str_has_prefix (uri, "stun:"))
      uri += strlen ("stun:");
    link = g_strdup_printf ("<stun:%s>; rel=\"ice-server\"", uri);
    soup_message_headers_append (h, "Link", link);
    g_free (link);
  }
  g_mutex_unlock (&gw->lock);
}

/* a comparison whose time does not tell where the strings differ */
static gboolean
token_equal (const gchar * given, const gchar * token)
{
  gsize n = strlen (token), m = strlen (given), i;
  guint diff = n != m;

  for (i = 0; i < m; i++)
    diff |= (guint) (guchar) given[i] ^ (guint) (guchar) token[i % MAX (n, 1)];
  return diff == 0;
}

/* the bearer token, or (@query_token: players cannot send headers) a
 * ?token= of an HLS URL */
static gboolean
authorized (GstTrickleGateway * gw, SoupServerMessage * msg,
    const gchar * query_token)
{
  const gchar *auth = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Authorization");
  gboolean ok;

  g_mutex_lock (&gw->lock);
  ok = !gw->auth_token || !*gw->auth_token || (auth
      && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0
      && token_equal (auth + 7, gw->auth_token))
      || (query_token && token_equal (query_token, gw->auth_token));
  g_mutex_unlock (&gw->lock);
  if (!ok) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "WWW-Authenticate", "Bearer");
    answer_text (msg, SOUP_STATUS_UNAUTHORIZED,
        auth ? "wrong bearer token" : "a bearer token is needed");
  }
  return ok;
}

/* ------------------------------------------------------------------------ */
/* SDP */

/* the payload type of @encoding in @media, preferring H.264's
 * packetization-mode 1 with constrained baseline (what every browser
 * decodes); -1 if none */
static gint
choose_payload (const GstSDPMedia * media, const gchar * encoding,
    GstCaps ** caps_out)
{
  guint i;
  gint best = -1, best_score = -1;
  GstCaps *best_caps = NULL;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++) {
    gint pt = atoi (gst_sdp_media_get_format (media, i));
    GstCaps *caps = gst_sdp_media_get_caps_from_media (media, pt);
    GstStructure *st;
    const gchar *name;
    gint score = 0;

    if (!caps)
      continue;
    st = gst_caps_get_structure (caps, 0);
    name = gst_structure_get_string (st, "encoding-name");
    if (!name || g_ascii_strcasecmp (name, encoding) != 0) {
      gst_caps_unref (caps);
      continue;
    }
    if (g_str_equal (encoding, "H264")) {
      const gchar *mode = gst_structure_get_string (st, "packetization-mode");
      const gchar *profile = gst_structure_get_string (st, "profile-level-id");
      if (!mode || !g_str_equal (mode, "1")) {
        gst_caps_unref (caps);
        continue;
      }
      if (profile && g_ascii_strncasecmp (profile, "42e0", 4) == 0)
        score = 2;
      else if (profile && g_ascii_strncasecmp (profile, "4200", 4) == 0)
        score = 1;
    }
    if (score > best_score) {
      best = pt;
      best_score = score;
      gst_clear_caps (&best_caps);
      best_caps = caps;
    } else {
      gst_caps_unref (caps);
    }
  }
  if (best_caps) {
    GstStructure *st;
    best_caps = gst_caps_make_writable (best_caps);
    st = gst_caps_get_structure (best_caps, 0);
    gst_structure_set_name (st, "application/x-rtp");
    gst_structure_set (st, "media", G_TYPE_STRING,
        gst_sdp_media_get_media (media), NULL);
  }
  *caps_out = best_caps;
  return best;
}

/* which m-lines carry H.264 video and Opus audio: FALSE (with @why) if
 * neither does */
static gboolean
session_read_offer (Session * s, gchar ** why)
{
  guint i;

  for (i = 0; i < gst_sdp_message_medias_len (s->offer); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (s->offer, i);
    const gchar *media = gst_sdp_media_get_media (m);
    GstCaps *caps = NULL;
    gint pt;

    /* port 0 is a refused m-line, unless it is bundle-only (RFC 8843:
     * it rides on the first one's transport) */
    if (gst_sdp_media_get_port (m) == 0
        && !gst_sdp_media_get_attribute_val (m, "bundle-only"))
      continue;
    if (g_str_equal (media, "video") && s->video_mline < 0) {
      pt = choose_payload (m, "H264", &caps);
      if (pt >= 0) {
        s->video_mline = i;
        s->video_pt = pt;
        s->video_caps = caps;
      }
    } else if (g_str_equal (media, "audio") && s->audio_mline < 0) {
      pt = choose_payload (m, "OPUS", &caps);
      if (pt >= 0) {
        s->audio_mline = i;
        s->audio_pt = pt;
        s->audio_caps = caps;
      }
    }
  }
  if (s->video_mline < 0 && s->audio_mline < 0) {
    *why = g_strdup ("the offer has neither H.264 (packetization-mode 1) "
        "video nor Opus audio");
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* the media */

static GstElement *
make (const gchar * factory, const gchar * name)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e)
    GST_ERROR ("no %s element: is its plugin installed?", factory);
  return e;
}

static GstPadProbeReturn
packet_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Session *s = data;

  g_atomic_int_set (&s->last_packet, mono_s ());
  return GST_PAD_PROBE_OK;
}

/* every packet the peer sends (media, RTCP, ICE checks) comes out of a
 * nicesrc inside webrtcbin: that is how we know the peer is there */
static void
on_deep_element_added (GstBin * bin, GstBin * sub, GstElement * e, Session * s)
{
  GstElementFactory *f = gst_element_get_factory (e);

  if (f && s->kind == KIND_WHEP && g_str_equal (GST_OBJECT_NAME (f),
          "clocksync")) {
    /* webrtcbin paces what it sends by the clock: a viewer would keep
     * the lateness of its first frame for ever (the channel is live:
     * frames come in time) */
    g_object_set (e, "sync", FALSE, NULL);
  }
  if (f && g_str_equal (GST_OBJECT_NAME (f), "nicesrc")) {
    GstPad *pad = gst_element_get_static_pad (e, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, packet_probe, s, NULL);
    gst_object_unref (pad);
  }
}

static void
on_ice_connection_state (GstElement * webrtc, GParamSpec * pspec, Session * s)
{
  GstWebRTCICEConnectionState state;

  g_object_get (webrtc, "ice-connection-state", &state, NULL);
  GST_DEBUG ("session %s: ICE connection state %d", s->id, state);
  if (state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED)
    session_end_async (s, "ICE failed");
}

static gboolean bus_message (GstBus * bus, GstMessage * msg, gpointer data);
static void on_gathering_state (GstElement * webrtc, GParamSpec * pspec,
    Session * s);

/* libnice looks for a UPnP router for every session (SSDP multicast on the
 * server's networks, seconds of searching, and libgssdp leaks what it
 * finds): a gateway has its addresses (stun-server for a NAT) */
static void
disable_upnp (GstElement * webrtc)
{
  GObject *ice = NULL, *agent = NULL;

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice && g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent && g_object_class_find_property (G_OBJECT_GET_CLASS (agent),
          "upnp"))
    g_object_set (agent, "upnp", FALSE, NULL);
  g_clear_object (&agent);
  g_clear_object (&ice);
}

/* the session's pipeline, its messages handled in the API's thread; it
 * forwards its children's (tricklesink's EOS: see bus_message) */
static void
session_new_pipeline (Session * s)
{
  GstBus *bus;

  s->pipeline = gst_pipeline_new (NULL);
  g_object_set (s->pipeline, "message-forward", TRUE, NULL);
  bus = gst_element_get_bus (s->pipeline);
  s->bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (s->bus_source, (GSourceFunc) bus_message,
      session_ref (s), (GDestroyNotify) session_unref);
  g_source_attach (s->bus_source, s->gw->context);
  gst_object_unref (bus);
}

static gboolean
session_build_common (Session * s)
{
  GstTrickleGateway *gw = s->gw;
  gchar *stun;
  guint latency;

  session_new_pipeline (s);
  s->webrtc = make ("webrtcbin", "webrtc");
  if (!s->webrtc)
    return FALSE;
  g_mutex_lock (&gw->lock);
  stun = g_strdup (gw->stun_server);
  latency = gw->latency;
  g_mutex_unlock (&gw->lock);
  g_object_set (s->webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE,
      "latency", latency, NULL);
  if (stun && *stun) {
    gchar *uri = g_str_has_prefix (stun, "stun://") ? g_strdup (stun) :
        g_strconcat ("stun://", g_str_has_prefix (stun, "stun:") ?
        stun + 5 : stun, NULL);
    g_object_set (s->webrtc, "stun-server", uri, NULL);
    g_free (uri);
  }
  g_free (stun);
  disable_upnp (s->webrtc);
  gst_bin_add (GST_BIN (s->pipeline), s->webrtc);
  g_signal_connect (s->webrtc, "deep-element-added",
      G_CALLBACK (on_deep_element_added), s);
  g_signal_connect (s->webrtc, "notify::ice-connection-state",
      G_CALLBACK (on_ice_connection_state), s);
  g_signal_connect (s->webrtc, "notify::ice-gathering-state",
      G_CALLBACK (on_gathering_state), s);
  return TRUE;
}

/* WHIP: webrtcbin's pads (one per received stream, made when its first
 * packet comes) go to the depayloaders; anything else to a fakesink */
static void
whip_pad_added (GstElement * webrtc, GstPad * pad, Session * s)
{
  GstCaps *caps;
  const gchar *media = NULL, *enc = NULL;
  GstElement *target = NULL;
  GstPad *sink;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps && gst_caps_get_size (caps) > 0) {
    GstStructure *st = gst_caps_get_structure (caps, 0);
    media = gst_structure_get_string (st, "media");
    enc = gst_structure_get_string (st, "encoding-name");
  }
  GST_OBJECT_LOCK (s->pipeline);
  if (g_strcmp0 (media, "video") == 0 && g_strcmp0 (enc, "H264") == 0
      && s->video_in && !s->video_linked) {
    target = s->video_in;
    s->video_linked = TRUE;
  } else if (g_strcmp0 (media, "audio") == 0 && enc
      && g_ascii_strcasecmp (enc, "OPUS") == 0 && s->audio_in
      && !s->audio_linked) {
    target = s->audio_in;
    s->audio_linked = TRUE;
  }
  GST_OBJECT_UNLOCK (s->pipeline);
  GST_INFO ("session %s: %s stream %" GST_PTR_FORMAT, s->id,
      target ? "received" : "ignoring", caps);
  gst_clear_caps (&caps);
  if (!target) {
    GstElement *fake = gst_element_factory_make ("fakesink", NULL);
    g_object_set (fake, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add (GST_BIN (s->pipeline), fake);
    gst_element_sync_state_with_parent (fake);
    target = fake;
  }
  sink = gst_element_get_static_pad (target, "sink");
  if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    GST_WARNING ("session %s: cannot link %s:%s", s->id,
        GST_DEBUG_PAD_NAME (pad));
  gst_object_unref (sink);
}

/* Timestamps mpegtsmux can interleave by. WebRTC video has no frame
 * reordering (no B-frames), so a frame is decoded when it is shown: the
 * depayloader gives no DTS. A frame it could not time (seen right after
 * the first keyframe) takes its predecessor's time: mpegtsmux holds an
 * untimed buffer for ever, and the other streams with it. */
static GstPadProbeReturn
timestamp_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Session *s = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (GST_BUFFER_DTS_IS_VALID (buf)) {
    s->last_video_ts = GST_BUFFER_DTS (buf);
    return GST_PAD_PROBE_OK;
  }
  buf = gst_buffer_make_writable (buf);
  if (!GST_BUFFER_PTS_IS_VALID (buf)) {
    if (!GST_CLOCK_TIME_IS_VALID (s->last_video_ts))
      return GST_PAD_PROBE_DROP;        /* nothing came before: no picture */
    GST_BUFFER_PTS (buf) = s->last_video_ts;
  }
  GST_BUFFER_DTS (buf) = GST_BUFFER_PTS (buf);
  s->last_video_ts = GST_BUFFER_PTS (buf);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

static GstElement *
whip_chain (Session * s, const gchar * depay, const gchar * parse)
{
  GstElement *d = make (depay, NULL), *p = make (parse, NULL);
  GstCaps *au = NULL;
  gboolean ok;

  if (!d || !p) {
    gst_clear_object (&d);
    gst_clear_object (&p);
    return NULL;
  }
  if (g_str_equal (parse, "h264parse")) {
    /* SPS/PPS before every keyframe: every segment can be decoded alone */
    g_object_set (p, "config-interval", -1, NULL);
    g_object_set (d, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, NULL);
    /* whole access units from the depayloader (it knows where one ends,
     * by the marker bit): NAL units would leave h264parse waiting for the
     * next frame to end this one (a frame interval more, measured by
     * tests/bench/gateway-bench.sh), and untimed pieces for the mux.
     * Like H.264 itself (7.4.1.2.3), the depayloader takes an SPS or PPS
     * as the start of a new access unit: a publisher must not repeat them
     * between the slices of a frame (rtph264pay config-interval=-1 over a
     * sliced x264 does; browsers do not) */
    au = gst_caps_from_string ("video/x-h264,stream-format=byte-stream,"
        "alignment=au");
  }
  gst_bin_add_many (GST_BIN (s->pipeline), d, p, NULL);
  ok = au ? gst_element_link_filtered (d, p, au) : gst_element_link (d, p);
  if (au) {
    GstPad *src = gst_element_get_static_pad (p, "src");
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, timestamp_probe, s,
        NULL);
    gst_object_unref (src);
  }
  ok = ok && gst_element_link (p, s->mux);
  gst_clear_caps (&au);
  if (!ok)
    return NULL;
  return d;
}

/* every keyframe-interval: an upstream force-key-unit from the
 * depayloader, which webrtcbin's RTP session sends to the publisher as an
 * RTCP PLI (as go-livepeer's gateway, whatever the publisher's GOP) */
static gboolean
pli_tick (gpointer data)
{
  Session *s = data;
  GstPad *pad;

  if (s->state != SESSION_RUNNING || !s->video_in)
    return G_SOURCE_CONTINUE;
  pad = gst_element_get_static_pad (s->video_in, "sink");
  GST_LOG ("session %s: asking the publisher for a keyframe", s->id);
  gst_pad_push_event (pad, gst_video_event_new_upstream_force_key_unit
      (GST_CLOCK_TIME_NONE, FALSE, 0));
  gst_object_unref (pad);
  return G_SOURCE_CONTINUE;
}

/* mpegtsmux ! tricklesink into the session's channel: what every ingest
 * ends with */
static GstPadProbeReturn
published_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Session *s = data;

  g_atomic_int_set (&s->published, 1);
  return GST_PAD_PROBE_REMOVE;
}

static gboolean
build_publisher (Session * s)
{
  GstTrickleGateway *gw = s->gw;
  GstPad *pad;
  gdouble min_dur;

  s->mux = make ("mpegtsmux", NULL);
  s->sink = make ("tricklesink", NULL);
  if (!s->mux || !s->sink) {
    gst_clear_object (&s->mux);
    gst_clear_object (&s->sink);
    return FALSE;
  }
  g_mutex_lock (&gw->lock);
  min_dur = gw->min_segment_duration;
  g_mutex_unlock (&gw->lock);
  /* keyframes are asked for by the session's own timer (pli_tick):
   * mpegtsmux's output has no timestamps tricklesink could time them by */
  g_object_set (s->sink, "location", s->channel_url, "sync", FALSE,
      "delete-on-eos", TRUE, "min-duration",
      (guint64) (min_dur * GST_SECOND), "keyframe-interval", (guint64) 0, NULL);
  gst_bin_add_many (GST_BIN (s->pipeline), s->mux, s->sink, NULL);
  pad = gst_element_get_static_pad (s->sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, published_probe, s, NULL);
  gst_object_unref (pad);
  return gst_element_link (s->mux, s->sink);
}

static gboolean
whip_build (Session * s, gchar ** why)
{
  GstTrickleGateway *gw = s->gw;
  gdouble kf;

  if (!session_build_common (s) || !build_publisher (s))
    goto missing;
  if (s->video_mline >= 0 && !(s->video_in = whip_chain (s, "rtph264depay",
              "h264parse")))
    goto missing;
  if (s->audio_mline >= 0 && !(s->audio_in = whip_chain (s, "rtpopusdepay",
              "opusparse")))
    goto missing;
  g_signal_connect (s->webrtc, "pad-added", G_CALLBACK (whip_pad_added), s);
  g_mutex_lock (&gw->lock);
  kf = gw->keyframe_interval;
  g_mutex_unlock (&gw->lock);
  if (kf > 0 && s->video_in) {
    s->pli_timer = g_timeout_source_new ((guint) (kf * 1000));
    g_source_set_callback (s->pli_timer, pli_tick, session_ref (s),
        (GDestroyNotify) session_unref);
    g_source_attach (s->pli_timer, gw->context);
  }
  return TRUE;

missing:
  *why = g_strdup ("the gateway lacks a GStreamer element (see its log)");
  return FALSE;
}

/* a demuxed stream through @desc (a gst-launch bin) to @target (its
 * @target_pad, NULL: a compatible one, requested if need be); without
 * @desc or @target, or when they do not link, to a fakesink. From a
 * demuxer's streaming thread. Returns the element linked to @pad. */
static GstElement *
link_branch (Session * s, GstPad * pad, const gchar * desc,
    GstElement * target, const gchar * target_pad)
{
  GstElement *entry = NULL;
  GstPad *sink;

  if (desc && target) {
    GError *err = NULL;
    /* a queue first: a demuxer feeds every branch from one thread, and a
     * muxer whose other input is empty would hold it for ever */
    gchar *full = g_strconcat ("queue max-size-buffers=0 max-size-bytes=0 "
        "max-size-time=3000000000 ! ", desc, NULL);
    entry = gst_parse_bin_from_description (full, TRUE, &err);
    g_free (full);
    if (!entry) {
      GST_ERROR ("session %s: %s: %s", s->id, desc, err->message);
      g_clear_error (&err);
    } else {
      gst_bin_add (GST_BIN (s->pipeline), entry);
      if (!gst_element_link_pads (entry, NULL, target, target_pad)) {
        GST_WARNING ("session %s: cannot link %s to %s: dropped", s->id, desc,
            GST_OBJECT_NAME (target));
        gst_bin_remove (GST_BIN (s->pipeline), entry);
        entry = NULL;
      }
    }
  }
  if (!entry) {
    entry = gst_element_factory_make ("fakesink", NULL);
    g_object_set (entry, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add (GST_BIN (s->pipeline), entry);
  }
  gst_element_sync_state_with_parent (entry);
  sink = gst_element_get_static_pad (entry, "sink");
  if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    GST_WARNING ("session %s: cannot link %s:%s", s->id,
        GST_DEBUG_PAD_NAME (pad));
  gst_object_unref (sink);
  return entry;
}

/* "@decode ! audioconvert ! audioresample ! @encode", interned: a
 * handful of combinations for the process' life */
static const gchar *
intern_audio_branch (const gchar * decode, const gchar * encode)
{
  gchar *desc = g_strdup_printf ("%s ! audioconvert ! audioresample ! %s",
      decode, encode);
  const gchar *interned = g_intern_string (desc);

  g_free (desc);
  return interned;
}

#define H264_FOR_BROWSERS "x264enc tune=zerolatency speed-preset=ultrafast " \
  "bframes=0 key-int-max=60 ! video/x-h264,profile=constrained-baseline ! " \
  "h264parse config-interval=-1"

/* a branch decoding a channel's audio (Opus, AAC, MP3: what MPEG-TS
 * carries for us) and encoding it with @encode; by name: decodebin cannot
 * be linked before it knows its input. The string is static. */
static const gchar *
audio_to_raw (GstCaps * caps, const gchar * encode)
{
  GstStructure *st = gst_caps_get_structure (caps, 0);
  gint version = 0;
  const gchar *decode;

  if (gst_structure_has_name (st, "audio/x-opus"))
    decode = "opusparse ! opusdec";
  else if (gst_structure_has_name (st, "audio/mpeg")
      && gst_structure_get_int (st, "mpegversion", &version) && version != 1)
    decode = "aacparse ! avdec_aac";
  else
    decode = "mpegaudioparse ! avdec_mp3";
  return intern_audio_branch (decode, encode);
}

/* WHEP: a demuxed stream of the channel goes to its payloader, through a
 * transcoder unless it already is H.264 or Opus */
static void
whep_demux_pad_added (GstElement * demux, GstPad * pad, Session * s)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *name;
  GstElement *target = NULL;
  const gchar *desc = NULL;
  gboolean video;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  video = g_str_has_prefix (name, "video/");
  GST_OBJECT_LOCK (s->pipeline);
  if (video && s->video_in && !s->video_linked) {
    target = s->video_in;
    s->video_linked = TRUE;
  } else if (!video && g_str_has_prefix (name, "audio/") && s->audio_in
      && !s->audio_linked) {
    target = s->audio_in;
    s->audio_linked = TRUE;
  }
  GST_OBJECT_UNLOCK (s->pipeline);

  /* decoders by name: decodebin cannot be linked before it knows its
   * input */
  if (target && g_str_equal (name, "video/x-h264"))
    desc = "h264parse config-interval=-1";
  else if (target && g_str_equal (name, "video/x-h265"))
    desc = "h265parse ! avdec_h265 ! videoconvert ! " H264_FOR_BROWSERS;
  else if (target && g_str_equal (name, "video/mpeg"))
    desc = "mpegvideoparse ! avdec_mpeg2video ! videoconvert ! "
        H264_FOR_BROWSERS;
  else if (target && g_str_equal (name, "audio/x-opus"))
    desc = "opusparse";
  else if (target && !video)
    desc = audio_to_raw (caps, "opusenc");
  GST_INFO ("session %s: channel stream %" GST_PTR_FORMAT " %s", s->id, caps,
      desc ? desc : "ignored");
  gst_caps_unref (caps);
  /* each frame on as it comes, not when the next one begins */
  _gst_trickle_parse_whole_frames (link_branch (s, pad, desc, target, NULL));
}

/* a viewer starts with a keyframe: whatever comes before is dropped */
static GstPadProbeReturn
until_keyframe_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn
channel_end_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Session *s = data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    session_end_async (s, "the channel ended");
  return GST_PAD_PROBE_OK;
}

/* a viewer is watched once media goes to it: before, a webrtcbin viewer
 * has nothing to report on (no RTCP) while it waits for the publisher */
static GstPadProbeReturn
flowing_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Session *s = data;

  g_atomic_int_set (&s->last_packet, mono_s ());
  g_atomic_int_set (&s->flowing, 1);
  return GST_PAD_PROBE_REMOVE;
}

static gboolean
whep_build (Session * s, gchar ** why)
{
  GstElement *src, *demux;
  GstPad *pad;

  if (!session_build_common (s))
    goto missing;
  src = make ("tricklesrc", NULL);
  demux = make ("tsdemux", NULL);
  if (!src || !demux) {
    gst_clear_object (&src);
    gst_clear_object (&demux);
    goto missing;
  }
  /* the live edge; a viewer may come before the publisher */
  g_object_set (src, "location", s->channel_url, "start-seq",
      (gint64) - 1, "wait-timeout", -1, NULL);
  gst_bin_add_many (GST_BIN (s->pipeline), src, demux, NULL);
  if (!gst_element_link (src, demux))
    goto missing;
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      channel_end_probe, session_ref (s), (GDestroyNotify) session_unref);
  gst_object_unref (pad);
  g_signal_connect (demux, "pad-added", G_CALLBACK (whep_demux_pad_added), s);

  if (s->video_mline >= 0) {
    s->video_in = make ("rtph264pay", NULL);
    if (!s->video_in)
      goto missing;
    g_object_set (s->video_in, "pt", s->video_pt, "config-interval", -1,
        "aggregate-mode", 1 /* zero-latency */ , NULL);
    gst_bin_add (GST_BIN (s->pipeline), s->video_in);
    pad = gst_element_get_static_pad (s->video_in, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, until_keyframe_probe,
        NULL, NULL);
    gst_object_unref (pad);
  }
  if (s->audio_mline >= 0) {
    s->audio_in = make ("rtpopuspay", NULL);
    if (!s->audio_in)
      goto missing;
    g_object_set (s->audio_in, "pt", s->audio_pt, NULL);
    gst_bin_add (GST_BIN (s->pipeline), s->audio_in);
  }
  return TRUE;

missing:
  *why = g_strdup ("the gateway lacks a GStreamer element (see its log)");
  return FALSE;
}

/* WHEP, once the offer is set: each chosen m-line's transceiver sends
 * what its payloader makes */
static gboolean
whep_link_payloaders (Session * s)
{
  GstElement *pay[2] = { s->video_in, s->audio_in };
  gint mline[2] = { s->video_mline, s->audio_mline };
  gint i;

  for (i = 0; i < 2; i++) {
    gchar *name;
    GstPad *sink, *src;
    gboolean ok;

    if (!pay[i])
      continue;
    src = gst_element_get_static_pad (pay[i], "src");
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, flowing_probe, s, NULL);
    gst_object_unref (src);
    name = g_strdup_printf ("sink_%d", mline[i]);
    sink = gst_element_request_pad_simple (s->webrtc, name);
    g_free (name);
    if (!sink)
      return FALSE;
    ok = gst_element_link_pads (pay[i], "src", s->webrtc, GST_PAD_NAME (sink));
    gst_object_unref (sink);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* negotiation: each step in the API's thread */

typedef struct
{
  Session *s;
  GstPromise *promise;
} Step;

static void
step_free (gpointer data)
{
  Step *st = data;

  session_unref (st->s);
  if (st->promise)
    gst_promise_unref (st->promise);
  g_free (st);
}

/* a promise's reply, handed to the API's thread */
static void
promise_to_thread (GstPromise * promise, gpointer data, GSourceFunc func)
{
  Session *s = data;
  Step *st = g_new0 (Step, 1);

  st->s = session_ref (s);
  st->promise = gst_promise_ref (promise);
  session_invoke (s, func, st, step_free);
}

/* why the operation failed (to free), NULL if it did not */
static gchar *
promise_error (GstPromise * promise)
{
  const GstStructure *reply;
  GError *err = NULL;
  gchar *why;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return g_strdup ("webrtcbin did not answer");
  reply = gst_promise_get_reply (promise);
  if (!reply || !gst_structure_has_field (reply, "error"))
    return NULL;
  gst_structure_get (reply, "error", G_TYPE_ERROR, &err, NULL);
  why = g_strdup (err ? err->message : "webrtcbin failed");
  g_clear_error (&err);
  return why;
}

static void
answer_ready (Session * s)
{
  GstWebRTCSessionDescription *local = NULL;
  gchar *sdp, *location, *etag;
  SoupMessageHeaders *h;

  if (!s->pending || s->state != SESSION_NEGOTIATING)
    return;
  if (s->gather_timeout) {
    g_source_destroy (s->gather_timeout);
    g_clear_pointer (&s->gather_timeout, g_source_unref);
  }
  g_object_get (s->webrtc, "local-description", &local, NULL);
  if (!local) {
    session_end (s, "no answer was made");
    return;
  }
  sdp = gst_sdp_message_as_text (local->sdp);
  gst_webrtc_session_description_free (local);
  location = g_strdup_printf ("/%s/%s/%s", kind_names[s->kind], s->stream,
      s->id);
  etag = g_strdup_printf ("\"%s\"", s->id);
  h = soup_server_message_get_response_headers (s->pending);
  soup_message_headers_replace (h, "Location", location);
  soup_message_headers_replace (h, "ETag", etag);
  add_ice_servers (s->gw, s->pending);
  soup_server_message_set_status (s->pending, SOUP_STATUS_CREATED, NULL);
  soup_server_message_set_response (s->pending, "application/sdp",
      SOUP_MEMORY_TAKE, sdp, strlen (sdp));
  soup_server_message_unpause (s->pending);
  g_clear_object (&s->pending);
  g_free (location);
  g_free (etag);
  s->state = SESSION_RUNNING;
  g_atomic_int_set (&s->last_packet, mono_s ());
  GST_INFO ("%s session %s for stream %s started", kind_names[s->kind],
      s->id, s->stream);
  g_signal_emit (s->gw, signals[SIGNAL_SESSION_STARTED], 0,
      kind_names[s->kind], s->stream, s->id);
}

static gboolean
gathering_done (gpointer data)
{
  Step *st = data;

  answer_ready (st->s);
  return G_SOURCE_REMOVE;
}

static void
on_gathering_state (GstElement * webrtc, GParamSpec * pspec, Session * s)
{
  GstWebRTCICEGatheringState state;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) {
    Step *st = g_new0 (Step, 1);
    st->s = session_ref (s);
    session_invoke (s, gathering_done, st, step_free);
  }
}

static gboolean
gather_timed_out (gpointer data)
{
  Session *s = data;

  GST_INFO ("session %s: ICE gathering not complete, answering with the "
      "candidates found so far", s->id);
  g_clear_pointer (&s->gather_timeout, g_source_unref);
  answer_ready (s);
  return G_SOURCE_REMOVE;
}

static gboolean
answer_created (gpointer data)
{
  Step *st = data;
  Session *s = st->s;
  gchar *err;
  GstWebRTCSessionDescription *answer = NULL;
  gdouble timeout;

  if (s->state != SESSION_NEGOTIATING)
    return G_SOURCE_REMOVE;
  err = promise_error (st->promise);
  if (!err) {
    gst_structure_get (gst_promise_get_reply (st->promise), "answer",
        GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
    if (!answer)
      err = g_strdup ("webrtcbin made no answer");
  }
  if (err) {
    gchar *why = g_strdup_printf ("cannot answer the offer: %s", err);
    s->refuse_status = SOUP_STATUS_BAD_REQUEST;
    session_end (s, why);
    g_free (why);
    g_free (err);
    return G_SOURCE_REMOVE;
  }
  g_signal_emit_by_name (s->webrtc, "set-local-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  /* the answer holds every candidate (no trickle ICE from our side),
   * unless gathering takes too long */
  timeout = DEFAULT_GATHER_TIMEOUT;
  s->gather_timeout = g_timeout_source_new ((guint) (timeout * 1000));
  g_source_set_callback (s->gather_timeout, gather_timed_out, s, NULL);
  g_source_attach (s->gather_timeout, s->gw->context);
  return G_SOURCE_REMOVE;
}

static void
on_answer_created (GstPromise * promise, gpointer data)
{
  promise_to_thread (promise, data, answer_created);
}

static gboolean
configure_transceiver (Session * s, gint mline, GstCaps * caps,
    GstWebRTCRTPTransceiverDirection direction)
{
  GstWebRTCRTPTransceiver *t = NULL;

  g_signal_emit_by_name (s->webrtc, "get-transceiver", mline, &t);
  if (!t)
    return FALSE;
  g_object_set (t, "direction", direction, "codec-preferences", caps, NULL);
  gst_object_unref (t);
  return TRUE;
}

static gboolean
offer_set (gpointer data)
{
  Step *st = data;
  Session *s = st->s;
  gchar *err;
  GstWebRTCRTPTransceiverDirection dir = s->kind == KIND_WHIP ?
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY :
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
  GstPromise *promise;
  guint i;

  if (s->state != SESSION_NEGOTIATING)
    return G_SOURCE_REMOVE;
  err = promise_error (st->promise);
  if (err) {
    gchar *why = g_strdup_printf ("the offer was refused: %s", err);
    s->refuse_status = SOUP_STATUS_BAD_REQUEST;
    session_end (s, why);
    g_free (why);
    g_free (err);
    return G_SOURCE_REMOVE;
  }
  /* each m-line we use answers its one codec; the others are refused */
  for (i = 0; i < gst_sdp_message_medias_len (s->offer); i++) {
    GstWebRTCRTPTransceiver *t = NULL;
    if ((gint) i == s->video_mline)
      configure_transceiver (s, i, s->video_caps, dir);
    else if ((gint) i == s->audio_mline)
      configure_transceiver (s, i, s->audio_caps, dir);
    else {
      g_signal_emit_by_name (s->webrtc, "get-transceiver", i, &t);
      if (t) {
        g_object_set (t, "direction",
            GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE, NULL);
        gst_object_unref (t);
      }
    }
  }
  if (s->kind == KIND_WHEP && !whep_link_payloaders (s)) {
    session_end (s, "cannot link the payloaders to webrtcbin");
    return G_SOURCE_REMOVE;
  }
  if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    session_end (s, "the session's pipeline cannot start");
    return G_SOURCE_REMOVE;
  }
  promise = gst_promise_new_with_change_func (on_answer_created,
      session_ref (s), (GDestroyNotify) session_unref);
  g_signal_emit_by_name (s->webrtc, "create-answer", NULL, promise);
  gst_promise_unref (promise);
  return G_SOURCE_REMOVE;
}

static void
on_offer_set (GstPromise * promise, gpointer data)
{
  promise_to_thread (promise, data, offer_set);
}

static gboolean
bus_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  Session *s = data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL, *why;
      gst_message_parse_error (msg, &err, &dbg);
      GST_WARNING ("session %s: error from %s: %s (%s)", s->id,
          GST_MESSAGE_SRC_NAME (msg), err->message, dbg ? dbg : "");
      why = g_strdup_printf ("%s: %s", GST_MESSAGE_SRC_NAME (msg),
          err->message);
      session_end (s, why);
      g_free (why);
      g_clear_error (&err);
      g_free (dbg);
      break;
    }
    case GST_MESSAGE_EOS:
      /* RTMP out and HLS: the channel ended and the output has all */
      session_end (s, "the channel ended");
      break;
    case GST_MESSAGE_ELEMENT:{
      /* the pipeline forwards its children's messages: tricklesink's EOS
       * (its channel is ended) is all a WHIP session's end waits for; the
       * pipeline's own EOS never comes (webrtcbin's sinks never end) */
      const GstStructure *st = gst_message_get_structure (msg);
      GstMessage *inner = NULL;
      if (gst_structure_has_name (st, "GstBinForwarded"))
        gst_structure_get (st, "message", GST_TYPE_MESSAGE, &inner, NULL);
      if (inner && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_EOS
          && GST_MESSAGE_SRC (inner) == GST_OBJECT_CAST (s->sink)) {
        g_mutex_lock (&s->eos_lock);
        s->eos = TRUE;
        g_cond_signal (&s->eos_cond);
        g_mutex_unlock (&s->eos_lock);
      }
      if (inner)
        gst_message_unref (inner);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* RTMP and HLS */

/* RTMP in: FLV's H.264 and AAC (or MP3) go into MPEG-TS as they are */
static void
rtmp_demux_pad_added (GstElement * demux, GstPad * pad, Session * s)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const GstStructure *st;
  const gchar *name, *desc = NULL;
  gint version = 0;
  GstElement *entry;
  gboolean released;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  st = gst_caps_get_structure (caps, 0);
  name = gst_structure_get_name (st);
  if (g_str_equal (name, "video/x-h264"))
    desc = "h264parse config-interval=-1";
  else if (g_str_equal (name, "audio/mpeg")
      && gst_structure_get_int (st, "mpegversion", &version))
    desc = version == 1 ? "mpegaudioparse" : "aacparse";
  GST_INFO ("session %s: RTMP stream %" GST_PTR_FORMAT " %s", s->id, caps,
      desc ? desc : "ignored (not H.264, AAC or MP3)");
  gst_caps_unref (caps);
  entry = link_branch (s, pad, desc, s->mux, "sink_%d");
  GST_OBJECT_LOCK (s->pipeline);
  released = s->holds_released;
  GST_OBJECT_UNLOCK (s->pipeline);
  if (desc && GST_IS_BIN (entry) && !released) {
    /* held until every stream has its mux input: the first PMT names
     * them all (a later stream would change the program mid-channel) */
    GstPad *src = gst_element_get_static_pad (entry, "src");
    gulong id = gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
        NULL, NULL, NULL);
    GST_OBJECT_LOCK (s->pipeline);
    s->held = g_list_prepend (s->held, hold_new (src, id));
    GST_OBJECT_UNLOCK (s->pipeline);
    gst_object_unref (src);
  }
}

/* from no-more-pads, or HOLD_MS after the start: flvdemux says
 * no-more-pads only once it has audio and video, or after 6 s of stream
 * (a video-only stream would fill the branches' queues first) */
static void
rtmp_no_more_pads (GstElement * demux, Session * s)
{
  GList *held, *l;

  GST_OBJECT_LOCK (s->pipeline);
  held = s->held;
  s->held = NULL;
  s->holds_released = TRUE;
  GST_OBJECT_UNLOCK (s->pipeline);
  for (l = held; l; l = l->next) {
    Hold *h = l->data;
    gst_pad_remove_probe (h->pad, h->id);
  }
  g_list_free_full (held, hold_free);
}

#define HOLD_MS 2000

static gboolean
hold_timed_out (gpointer data)
{
  Session *s = data;

  GST_DEBUG ("session %s: the streams found so far go", s->id);
  rtmp_no_more_pads (NULL, s);
  g_clear_pointer (&s->hold_timer, g_source_unref);
  return G_SOURCE_REMOVE;
}

static gboolean
rtmp_build (Session * s, gchar ** why)
{
  GstElement *src, *demux;
  GstPad *pad;

  session_new_pipeline (s);
  src = make ("rtmp2src", NULL);
  demux = make ("flvdemux", NULL);
  if (!src || !demux) {
    gst_clear_object (&src);
    gst_clear_object (&demux);
    goto missing;
  }
  g_object_set (src, "location", s->url, NULL);
  gst_bin_add_many (GST_BIN (s->pipeline), src, demux, NULL);
  if (!gst_element_link (src, demux) || !build_publisher (s))
    goto missing;
  g_signal_connect (demux, "pad-added", G_CALLBACK (rtmp_demux_pad_added), s);
  g_signal_connect (demux, "no-more-pads", G_CALLBACK (rtmp_no_more_pads), s);
  s->hold_timer = g_timeout_source_new (HOLD_MS);
  g_source_set_callback (s->hold_timer, hold_timed_out, session_ref (s),
      (GDestroyNotify) session_unref);
  g_source_attach (s->hold_timer, s->gw->context);
  /* the source's data is the peer's sign of life (media-timeout) */
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, packet_probe, s, NULL);
  gst_object_unref (pad);
  return TRUE;

missing:
  *why = g_strdup ("the gateway lacks a GStreamer element (see its log)");
  return FALSE;
}

/* a branch making AAC of a channel's audio (for RTMP and HLS) */
static const gchar *
audio_to_aac (GstCaps * caps)
{
  GstStructure *st = gst_caps_get_structure (caps, 0);
  gint version = 0;

  if (gst_structure_has_name (st, "audio/mpeg")
      && gst_structure_get_int (st, "mpegversion", &version) && version != 1)
    return "aacparse";
  return audio_to_raw (caps, "audio/x-raw,rate=48000 ! avenc_aac ! aacparse");
}

/* RTMP out: H.264 as it is, audio as AAC (RTMP has no Opus) */
static void
rtmp_out_pad_added (GstElement * demux, GstPad * pad, Session * s)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *name, *desc = NULL;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_equal (name, "video/x-h264"))
    desc = "h264parse";
  else if (g_str_has_prefix (name, "audio/"))
    desc = audio_to_aac (caps);
  GST_INFO ("session %s: channel stream %" GST_PTR_FORMAT " %s", s->id, caps,
      desc ? desc : "ignored");
  gst_caps_unref (caps);
  _gst_trickle_parse_whole_frames (link_branch (s, pad, desc, s->out, NULL));
}

/* HLS: H.264 as it is, audio as AAC (what players take in MPEG-TS) */
static void
hls_pad_added (GstElement * demux, GstPad * pad, Session * s)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *name, *desc = NULL, *target_pad = NULL;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  GST_OBJECT_LOCK (s->pipeline);
  if (g_str_equal (name, "video/x-h264") && !s->video_linked) {
    desc = "h264parse";
    target_pad = "video";
    s->video_linked = TRUE;
  } else if (g_str_has_prefix (name, "audio/") && !s->audio_linked) {
    desc = audio_to_aac (caps);
    target_pad = "audio";
    s->audio_linked = TRUE;
  }
  GST_OBJECT_UNLOCK (s->pipeline);
  GST_INFO ("session %s: channel stream %" GST_PTR_FORMAT " %s", s->id, caps,
      desc ? desc : "ignored");
  gst_caps_unref (caps);
  _gst_trickle_parse_whole_frames (link_branch (s, pad, desc, s->out,
          target_pad));
}

/* an output of the channel (RTMP out, HLS): tricklesrc ! tsdemux, the
 * demuxed streams to @out through @pad_added */
static gboolean
output_build (Session * s, GstElement * out, GstElement * sink,
    GCallback pad_added)
{
  GstElement *src = make ("tricklesrc", NULL), *demux = make ("tsdemux", NULL);

  if (!src || !demux || !out) {
    gst_clear_object (&src);
    gst_clear_object (&demux);
    gst_clear_object (&out);
    gst_clear_object (&sink);
    return FALSE;
  }
  /* the live edge; the output may come before the publisher */
  g_object_set (src, "location", s->channel_url, "start-seq", (gint64) - 1,
      "wait-timeout", -1, NULL);
  s->out = out;
  gst_bin_add_many (GST_BIN (s->pipeline), src, demux, out, sink, NULL);
  if (!gst_element_link (src, demux) || (sink && !gst_element_link (out, sink)))
    return FALSE;
  g_signal_connect (demux, "pad-added", pad_added, s);
  return TRUE;
}

static gboolean
rtmp_out_build (Session * s, gchar ** why)
{
  GstElement *mux = make ("flvmux", NULL), *sink = make ("rtmp2sink", NULL);

  session_new_pipeline (s);
  if (mux)
    g_object_set (mux, "streamable", TRUE, NULL);
  if (sink)
    g_object_set (sink, "location", s->url, NULL);
  else
    gst_clear_object (&mux);
  if (!sink || !output_build (s, mux, sink, G_CALLBACK (rtmp_out_pad_added))) {
    *why = g_strdup ("the gateway lacks a GStreamer element (see its log)");
    return FALSE;
  }
  return TRUE;
}

static gboolean
hls_build (Session * s, gchar ** why)
{
  GError *err = NULL;
  GstElement *sink;
  gchar *segments, *playlist;

  s->hls_dir = g_dir_make_tmp ("gst-trickle-hls-XXXXXX", &err);
  if (!s->hls_dir) {
    *why = g_strdup_printf ("no folder for the HLS files: %s", err->message);
    g_clear_error (&err);
    return FALSE;
  }
  session_new_pipeline (s);
  sink = make ("hlssink2", NULL);
  if (sink) {
    segments = g_build_filename (s->hls_dir, "segment%05d.ts", NULL);
    playlist = g_build_filename (s->hls_dir, "index.m3u8", NULL);
    /* a segment per keyframe interval of the channel (WHIP's are 1-2 s
     * apart); the playlist keeps the last six */
    g_object_set (sink, "location", segments, "playlist-location", playlist,
        "target-duration", 1, "playlist-length", 6, "max-files", 12,
        "send-keyframe-requests", FALSE, NULL);
    g_free (segments);
    g_free (playlist);
  }
  if (!output_build (s, sink, NULL, G_CALLBACK (hls_pad_added))) {
    *why = g_strdup ("the gateway lacks a GStreamer element (see its log)");
    return FALSE;
  }
  return TRUE;
}

/* the playlist requests that waited for the first playlist */
static void
hls_answer_waiting (Session * s)
{
  gchar *path = s->hls_dir ? g_build_filename (s->hls_dir, "index.m3u8",
      NULL) : NULL;
  gchar *data = NULL;
  gsize len = 0;
  GList *l;

  if (s->hls_poll) {
    g_source_destroy (s->hls_poll);
    g_clear_pointer (&s->hls_poll, g_source_unref);
  }
  if (path && s->state != SESSION_ENDING)
    g_file_get_contents (path, &data, &len, NULL);
  for (l = s->hls_waiting; l; l = l->next) {
    SoupServerMessage *msg = l->data;
    if (data) {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/vnd.apple.mpegurl",
          SOUP_MEMORY_COPY, data, len);
    } else {
      answer_text (msg, SOUP_STATUS_NOT_FOUND, "the channel has no media "
          "(yet)");
    }
    soup_server_message_unpause (msg);
    g_object_unref (msg);
  }
  g_list_free (s->hls_waiting);
  s->hls_waiting = NULL;
  g_free (data);
  g_free (path);
}

#define NEGOTIATION_TIMEOUT 30  /* s from the offer to the answer */
#define HLS_POLL_MS 100
#define HLS_WAIT_POLLS 300      /* 30 s for the first playlist */
#define HLS_IDLE_TIMEOUT 30     /* s without a request: nobody watches */

static gboolean
hls_poll (gpointer data)
{
  Session *s = data;
  gchar *path = g_build_filename (s->hls_dir, "index.m3u8", NULL);
  gboolean ready = g_file_test (path, G_FILE_TEST_EXISTS);

  g_free (path);
  if (ready || ++s->hls_polls >= HLS_WAIT_POLLS) {
    hls_answer_waiting (s);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

/* not empty, letters, digits and @extra only: nothing a path or a URL
 * would read otherwise */
static gboolean
name_chars_ok (const gchar * name, const gchar * extra)
{
  const gchar *p;

  if (!*name)
    return FALSE;
  for (p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr (extra, *p))
      return FALSE;
  return TRUE;
}

static gboolean
hls_file_name_ok (const gchar * name)
{
  return name[0] != '.' && name_chars_ok (name, "-._");
}

/* ------------------------------------------------------------------------ */
/* requests */

static gboolean
stream_name_ok (const gchar * name)
{
  return strlen (name) <= 128 && !g_str_equal (name, ".")
      && !g_str_equal (name, "..") && name_chars_ok (name, "-._~");
}

static guint
count_sessions (GstTrickleGateway * gw, SessionKind kind, const gchar * stream)
{
  GHashTableIter it;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&it, gw->sessions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Session *s = value;
    if (s->kind == kind && s->state != SESSION_ENDING
        && g_str_equal (s->stream, stream))
      n++;
  }
  return n;
}

/* one ingest (WHIP or RTMP) per stream */
static gboolean
has_ingest (GstTrickleGateway * gw, const gchar * stream)
{
  GHashTableIter it;
  gpointer value;

  /* an ending one too if it published: its tricklesink still writes (and
   * then deletes) the channel */
  g_hash_table_iter_init (&it, gw->sessions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Session *s = value;
    if ((s->kind == KIND_WHIP || s->kind == KIND_RTMP)
        && g_str_equal (s->stream, stream)
        && (s->state != SESSION_ENDING || g_atomic_int_get (&s->published)))
      return TRUE;
  }
  return FALSE;
}

/* 409, with Retry-After when the publisher is only ending */
static void
answer_has_publisher (SoupServerMessage * msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Retry-After", "5");
  answer_text (msg, SOUP_STATUS_CONFLICT,
      "the stream already has a publisher (or its previous one is ending)");
}

static Session *
find_session (GstTrickleGateway * gw, SessionKind kind, const gchar * stream)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, gw->sessions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Session *s = value;
    if (s->kind == kind && s->state != SESSION_ENDING
        && g_str_equal (s->stream, stream))
      return s;
  }
  return NULL;
}

/* FALSE (answered 503) when no session can start now */
static gboolean
has_room (GstTrickleGateway * gw, SoupServerMessage * msg)
{
  GHashTableIter it;
  gpointer value;
  guint max_sessions, active = 0;

  g_mutex_lock (&gw->lock);
  max_sessions = gw->max_sessions;
  g_mutex_unlock (&gw->lock);
  g_hash_table_iter_init (&it, gw->sessions);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Session *) value)->state != SESSION_ENDING)
      active++;
  /* ending sessions do not count: they are gone in a few seconds at most */
  if (!gw->shutting_down && active < max_sessions)
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Retry-After", "5");
  answer_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
      gw->shutting_down ? "the gateway is stopping" :
      "the gateway has as many sessions as it takes (max-sessions)");
  return FALSE;
}

static void
handle_post (GstTrickleGateway * gw, SoupServerMessage * msg, SessionKind kind,
    const gchar * stream, const gchar * body, gsize len)
{
  const gchar *ctype = soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);
  GstSDPMessage *offer = NULL;
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;
  Session *s;
  gchar *why = NULL, *text;
  guint max_viewers;
  gboolean ok;

  if (!ctype || g_ascii_strcasecmp (ctype, "application/sdp") != 0) {
    answer_text (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "the offer must be application/sdp");
    return;
  }
  g_mutex_lock (&gw->lock);
  max_viewers = gw->max_viewers;
  g_mutex_unlock (&gw->lock);
  if (!has_room (gw, msg))
    return;
  if (kind == KIND_WHIP && has_ingest (gw, stream)) {
    answer_has_publisher (msg);
    return;
  }
  if (kind == KIND_WHEP && count_sessions (gw, KIND_WHEP, stream)
      >= max_viewers) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Retry-After", "5");
    answer_text (msg, 429,
        "the stream has as many viewers as it takes (max-viewers)");
    return;
  }
  text = g_strndup (body, len);
  ok = len > 0 && gst_sdp_message_new_from_text (text, &offer) == GST_SDP_OK
      && gst_sdp_message_medias_len (offer) > 0;
  g_free (text);
  if (!ok) {
    if (offer)
      gst_sdp_message_free (offer);
    answer_text (msg, SOUP_STATUS_BAD_REQUEST, "the offer is not SDP with "
        "media");
    return;
  }

  s = session_new (gw, kind, stream);
  s->offer = offer;
  if (!session_read_offer (s, &why)
      || !(kind == KIND_WHIP ? whip_build (s, &why) : whep_build (s, &why))) {
    answer_text (msg, SOUP_STATUS_BAD_REQUEST, why);
    g_free (why);
    if (s->bus_source) {
      g_source_destroy (s->bus_source);
      g_clear_pointer (&s->bus_source, g_source_unref);
    }
    gst_clear_object (&s->pipeline);
    session_unref (s);
    return;
  }
  g_hash_table_insert (gw->sessions, s->id, s);
  g_atomic_int_inc (&gw->n_sessions);
  s->pending = g_object_ref (msg);
  soup_server_message_pause (msg);
  GST_INFO ("%s offer for stream %s: session %s", kind_names[kind], stream,
      s->id);

  /* webrtcbin runs its operations in order in a thread of its own; each
   * result comes back here */
  gst_element_set_state (s->pipeline, GST_STATE_READY);
  gst_sdp_message_copy (offer, &offer);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, offer);
  promise = gst_promise_new_with_change_func (on_offer_set, session_ref (s),
      (GDestroyNotify) session_unref);
  g_signal_emit_by_name (s->webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}

/* a trickle-ice-sdpfrag: its candidates, each for the m-line of the mid
 * before it (or the first) */
static void
handle_patch (GstTrickleGateway * gw, SoupServerMessage * msg, Session * s,
    const gchar * body, gsize len)
{
  const gchar *ctype = soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);
  gchar *text, **lines, **l;
  guint mline = 0, added = 0;

  if (!ctype
      || g_ascii_strcasecmp (ctype, "application/trickle-ice-sdpfrag") != 0) {
    answer_text (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "a PATCH must be application/trickle-ice-sdpfrag");
    return;
  }
  text = g_strndup (body, len);
  lines = g_strsplit_set (text, "\r\n", -1);
  for (l = lines; *l; l++) {
    if (g_str_has_prefix (*l, "a=mid:") && s->offer) {
      guint i;
      for (i = 0; i < gst_sdp_message_medias_len (s->offer); i++) {
        const gchar *mid = gst_sdp_media_get_attribute_val
            (gst_sdp_message_get_media (s->offer, i), "mid");
        if (mid && g_str_equal (mid, *l + 6))
          mline = i;
      }
    } else if (g_str_has_prefix (*l, "a=ice-ufrag:") && s->offer) {
      const gchar *ufrag = gst_sdp_media_get_attribute_val
          (gst_sdp_message_get_media (s->offer, mline), "ice-ufrag");
      if (!ufrag)
        ufrag = gst_sdp_message_get_attribute_val (s->offer, "ice-ufrag");
      if (ufrag && !g_str_equal (ufrag, *l + 12)) {
        answer_text (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
            "ICE restarts are not supported: start a new session");
        goto done;
      }
    } else if (g_str_has_prefix (*l, "a=candidate:")) {
      g_signal_emit_by_name (s->webrtc, "add-ice-candidate", mline, *l + 2);
      added++;
    } else if (g_str_equal (*l, "a=end-of-candidates")) {
      g_signal_emit_by_name (s->webrtc, "add-ice-candidate", mline, "");
    }
  }
  GST_DEBUG ("session %s: %u candidates from the client", s->id, added);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
done:
  g_strfreev (lines);
  g_free (text);
}

static void
handle_list (GstTrickleGateway * gw, SoupServerMessage * msg)
{
  GString *out = g_string_new ("[");
  GHashTableIter it;
  gpointer value;
  gboolean first = TRUE;
  static const gchar *states[] = { "negotiating", "running", "ending" };

  g_hash_table_iter_init (&it, gw->sessions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Session *s = value;
    /* ids and stream names are checked: nothing to escape */
    g_string_append_printf (out, "%s{\"id\":\"%s\",\"kind\":\"%s\","
        "\"stream\":\"%s\",\"state\":\"%s\",\"seconds\":%.1f}",
        first ? "" : ",", s->id, kind_names[s->kind], s->stream,
        states[s->state],
        (g_get_monotonic_time () - s->started) / (gdouble) G_USEC_PER_SEC);
    first = FALSE;
  }
  g_string_append (out, "]");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
      out->str, out->len);
  g_string_free (out, FALSE);
}

/* a session without negotiation (RTMP in and out, HLS): running at once;
 * NULL (answered 400) if it cannot be built */
static Session *
start_session (GstTrickleGateway * gw, SoupServerMessage * msg,
    SessionKind kind, const gchar * stream, const gchar * url)
{
  Session *s = session_new (gw, kind, stream);
  gchar *why = NULL;
  gboolean ok;

  s->url = g_strdup (url);
  ok = kind == KIND_RTMP ? rtmp_build (s, &why) : kind == KIND_RTMP_OUT ?
      rtmp_out_build (s, &why) : hls_build (s, &why);
  if (ok && gst_element_set_state (s->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    ok = FALSE;
    why = g_strdup ("the session's pipeline cannot start");
  }
  if (!ok) {
    answer_text (msg, SOUP_STATUS_BAD_REQUEST, why);
    g_free (why);
    if (s->pipeline)
      gst_element_set_state (s->pipeline, GST_STATE_NULL);
    if (s->bus_source) {
      g_source_destroy (s->bus_source);
      g_clear_pointer (&s->bus_source, g_source_unref);
    }
    gst_clear_object (&s->pipeline);
    if (s->hls_dir)
      remove_dir (s->hls_dir);
    session_unref (s);
    return NULL;
  }
  g_hash_table_insert (gw->sessions, s->id, s);
  g_atomic_int_inc (&gw->n_sessions);
  s->state = SESSION_RUNNING;
  g_atomic_int_set (&s->last_packet, mono_s ());
  GST_INFO ("%s session %s for stream %s started (%s)", kind_names[kind],
      s->id, stream, url ? url : s->channel_url);
  g_signal_emit (gw, signals[SIGNAL_SESSION_STARTED], 0, kind_names[kind],
      stream, s->id);
  return s;
}

static void
answer_session_created (SoupServerMessage * msg, Session * s)
{
  gchar *location = g_strdup_printf ("/%s/%s/%s", kind_names[s->kind],
      s->stream, s->id);
  gchar *json = g_strdup_printf ("{\"id\":\"%s\",\"stream\":\"%s\","
      "\"location\":\"%s\"}", s->id, s->stream, location);

  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Location", location);
  soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, json, strlen (json));
  g_free (location);
}

static gboolean
rtmp_url_ok (const gchar * url)
{
  return url && (g_str_has_prefix (url, "rtmp://")
      || g_str_has_prefix (url, "rtmps://")) && !strpbrk (url, " \r\n");
}

/* POST /rtmp/S and /rtmp-out/S: {"url": "rtmp://host/app/key"} */
static void
handle_rtmp_post (GstTrickleGateway * gw, SoupServerMessage * msg,
    SessionKind kind, const gchar * stream, const gchar * body, gsize len)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *root;
  const gchar *url = NULL;
  Session *s;

  if (json_parser_load_from_data (parser, body, len, NULL)
      && (root = json_parser_get_root (parser))
      && JSON_NODE_HOLDS_OBJECT (root)) {
    JsonNode *node = json_object_get_member (json_node_get_object (root),
        "url");
    if (node && JSON_NODE_HOLDS_VALUE (node)
        && json_node_get_value_type (node) == G_TYPE_STRING)
      url = json_node_get_string (node);
  }
  if (!rtmp_url_ok (url)) {
    answer_text (msg, SOUP_STATUS_BAD_REQUEST, "the body must be "
        "{\"url\": \"rtmp://host/app/key\"}");
  } else if (kind == KIND_RTMP && has_ingest (gw, stream)) {
    answer_has_publisher (msg);
  } else if (has_room (gw, msg)
      && (s = start_session (gw, msg, kind, stream, url))) {
    answer_session_created (msg, s);
  }
  g_object_unref (parser);
}

/* nginx-rtmp's on_publish / on_publish_done notifications (a form with
 * app, name, tcurl...): a publish starts a pull of that stream into the
 * channel of its name; any answer but 2xx makes nginx refuse it */
static void
handle_rtmp_hook (GstTrickleGateway * gw, SoupServerMessage * msg,
    const gchar * which, const gchar * body, gsize len)
{
  gchar *text = g_strndup (body, len);
  GHashTable *form = soup_form_decode (text);
  const gchar *name = g_hash_table_lookup (form, "name");
  const gchar *tcurl = g_hash_table_lookup (form, "tcurl");
  const gchar *token = g_hash_table_lookup (form, "token");
  gboolean token_ok;
  Session *s;

  g_mutex_lock (&gw->lock);
  token_ok = !gw->auth_token || !*gw->auth_token
      || (token && token_equal (token, gw->auth_token));
  g_mutex_unlock (&gw->lock);
  if (!name || !stream_name_ok (name)) {
    answer_text (msg, SOUP_STATUS_BAD_REQUEST, "no valid stream name");
  } else if (!token_ok) {
    answer_text (msg, SOUP_STATUS_FORBIDDEN, "wrong or missing token "
        "(publish to rtmp://.../APP/STREAM?token=...)");
  } else if (g_str_equal (which, "publish-done")) {
    /* the pull its publish started, not one started by POST /rtmp/ */
    if ((s = find_session (gw, KIND_RTMP, name)) && s->from_hook)
      session_end (s, "the RTMP publisher left");
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  } else if (!g_str_equal (which, "publish")) {
    answer_text (msg, SOUP_STATUS_NOT_FOUND, "no such hook");
  } else if (!tcurl || !rtmp_url_ok (tcurl)) {
    answer_text (msg, SOUP_STATUS_BAD_REQUEST, "no tcurl");
  } else if (has_ingest (gw, name)) {
    answer_has_publisher (msg);
  } else if (has_room (gw, msg)) {
    gchar *url = g_strdup_printf ("%s%s%s", tcurl,
        g_str_has_suffix (tcurl, "/") ? "" : "/", name);
    /* nginx-rtmp keeps a player of a stream not yet published waiting
     * (idle_streams), so the pull can start before the publish does */
    if ((s = start_session (gw, msg, KIND_RTMP, name, url))) {
      s->from_hook = TRUE;
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    }
    g_free (url);
  }
  g_hash_table_unref (form);
  g_free (text);
}

/* GET /hls/S/FILE: the first playlist request starts the HLS session */
static void
handle_hls_get (GstTrickleGateway * gw, SoupServerMessage * msg,
    const gchar * stream, const gchar * file)
{
  Session *s = find_session (gw, KIND_HLS, stream);
  gboolean playlist = g_str_equal (file, "index.m3u8");
  gchar *path, *data = NULL;
  gsize len = 0;

  if (!hls_file_name_ok (file)) {
    answer_text (msg, SOUP_STATUS_NOT_FOUND, "no such file");
    return;
  }
  if (!s && (!playlist || !has_room (gw, msg)
          || !(s = start_session (gw, msg, KIND_HLS, stream, NULL)))) {
    if (!playlist)
      answer_text (msg, SOUP_STATUS_NOT_FOUND, "no such file");
    return;
  }
  g_atomic_int_set (&s->last_packet, mono_s ());
  path = g_build_filename (s->hls_dir, file, NULL);
  if (g_file_get_contents (path, &data, &len, NULL)) {
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    if (playlist)
      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "Cache-Control", "no-cache");
    soup_server_message_set_response (msg, playlist ?
        "application/vnd.apple.mpegurl" : "video/mp2t", SOUP_MEMORY_TAKE,
        data, len);
  } else if (playlist) {
    /* no segment yet: the request waits for the first playlist */
    soup_server_message_pause (msg);
    s->hls_waiting = g_list_append (s->hls_waiting, g_object_ref (msg));
    if (!s->hls_poll) {
      s->hls_polls = 0;
      s->hls_poll = g_timeout_source_new (HLS_POLL_MS);
      g_source_set_callback (s->hls_poll, hls_poll, s, NULL);
      g_source_attach (s->hls_poll, gw->context);
    }
  } else {
    answer_text (msg, SOUP_STATUS_NOT_FOUND, "no such file");
  }
  g_free (path);
}

static void
server_callback (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer data)
{
  GstTrickleGateway *gw = data;
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *rh = soup_server_message_get_response_headers (msg);
  GBytes *body = soup_message_body_flatten
      (soup_server_message_get_request_body (msg));
  gsize len = 0;
  const gchar *text = g_bytes_get_data (body, &len);
  gchar **parts = g_strsplit (path + 1, "/", 4);
  guint n = g_strv_length (parts);
  gint kind = -1, i;
  gboolean post = g_str_equal (method, "POST");

  GST_DEBUG ("%s %s", method, path);
  /* one request per connection: libsoup 3.2's server leaves a kept-alive
   * client that closes in CLOSE-WAIT */
  soup_message_headers_replace (rh, "Connection", "close");
  add_cors (gw, msg);
  for (i = 0; i < (gint) G_N_ELEMENTS (kind_names); i++)
    if (n >= 2 && g_str_equal (parts[0], kind_names[i]))
      kind = i;

  if (g_str_equal (method, "OPTIONS")) {
    soup_message_headers_replace (rh, "Access-Control-Allow-Methods",
        "OPTIONS, POST, PATCH, DELETE, GET");
    soup_message_headers_replace (rh, "Access-Control-Allow-Headers",
        "Authorization, Content-Type, If-Match");
    if ((kind == KIND_WHIP || kind == KIND_WHEP) && n == 2)
      soup_message_headers_replace (rh, "Accept-Post", "application/sdp");
    add_ice_servers (gw, msg);
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  } else if (n == 1 && g_str_equal (parts[0], "sessions")
      && g_str_equal (method, "GET")) {
    if (authorized (gw, msg, NULL))
      handle_list (gw, msg);
  } else if (n == 1 && g_str_equal (parts[0], "health")
      && g_str_equal (method, "GET")) {
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "application/json",
        SOUP_MEMORY_STATIC, "{\"status\":\"OK\"}", 15);
  } else if (n == 2 && g_str_equal (parts[0], "rtmp-hook") && post) {
    handle_rtmp_hook (gw, msg, parts[1], text, len);
  } else if (kind < 0 || n > 3) {
    answer_text (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
  } else if (!stream_name_ok (parts[1])) {
    answer_text (msg, SOUP_STATUS_BAD_REQUEST, "a stream name is 1 to 128 of "
        "A-Z a-z 0-9 - . _ ~");
  } else if (kind == KIND_HLS) {
    if (n != 3 || !g_str_equal (method, "GET"))
      answer_text (msg, SOUP_STATUS_NOT_FOUND, "GET /hls/STREAM/index.m3u8");
    else if (authorized (gw, msg, query ? g_hash_table_lookup (query,
                "token") : NULL))
      handle_hls_get (gw, msg, parts[1], parts[2]);
  } else if (n == 2) {
    if (!post) {
      soup_message_headers_replace (rh, "Allow", "POST, OPTIONS");
      answer_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, kind <= KIND_WHEP ?
          "POST an SDP offer here" : "POST {\"url\": \"rtmp://...\"} here");
    } else if (!authorized (gw, msg, NULL)) {
    } else if (kind <= KIND_WHEP) {
      handle_post (gw, msg, kind, parts[1], text, len);
    } else {
      handle_rtmp_post (gw, msg, kind, parts[1], text, len);
    }
  } else {
    Session *s = g_hash_table_lookup (gw->sessions, parts[2]);
    if (!s || (gint) s->kind != kind || !g_str_equal (s->stream, parts[1])
        || s->state == SESSION_ENDING) {
      answer_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
    } else if (!authorized (gw, msg, NULL)) {
    } else if (g_str_equal (method, "DELETE")) {
      session_end (s, "DELETE from the client");
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    } else if (g_str_equal (method, "PATCH") && kind <= KIND_WHEP) {
      handle_patch (gw, msg, s, text, len);
    } else {
      soup_message_headers_replace (rh, "Allow", kind <= KIND_WHEP ?
          "PATCH, DELETE, OPTIONS" : "DELETE, OPTIONS");
      answer_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, kind <= KIND_WHEP ?
          "PATCH (trickle ICE) or DELETE a session" : "DELETE a session");
    }
  }
  g_strfreev (parts);
  g_bytes_unref (body);
}

/* every second: a peer that sent nothing for media-timeout is gone */
static gboolean
tick (gpointer data)
{
  GstTrickleGateway *gw = data;
  GHashTableIter it;
  gpointer value;
  GList *gone = NULL, *negotiating = NULL, *l;
  gint now = mono_s (), timeout;

  g_mutex_lock (&gw->lock);
  timeout = (gint) (gw->media_timeout + 0.5);
  g_mutex_unlock (&gw->lock);
  g_hash_table_iter_init (&it, gw->sessions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Session *s = value;
    gint idle = now - g_atomic_int_get (&s->last_packet);
    gint limit = timeout;
    if (s->state == SESSION_NEGOTIATING
        && g_get_monotonic_time () - s->started >
        NEGOTIATION_TIMEOUT * G_USEC_PER_SEC) {
      negotiating = g_list_prepend (negotiating, s);
      continue;
    }
    if (s->state != SESSION_RUNNING)
      continue;
    /* a viewer waiting for media only sends ICE keep-alives (libnice's
     * every 25 s) */
    if (s->kind == KIND_WHEP && !g_atomic_int_get (&s->flowing))
      limit = MAX (2 * timeout, 60);
    if (s->kind == KIND_HLS ? idle >= HLS_IDLE_TIMEOUT :
        s->kind == KIND_RTMP_OUT ? FALSE : timeout > 0 && idle >= limit)
      gone = g_list_prepend (gone, s);
  }
  for (l = gone; l; l = l->next)
    session_end (l->data, ((Session *) l->data)->kind == KIND_HLS ?
        "no HLS request for a while" :
        "the peer sent nothing for media-timeout");
  for (l = negotiating; l; l = l->next)
    session_end (l->data, "the negotiation did not end in time");
  g_list_free (gone);
  g_list_free (negotiating);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_trickle_gateway_init (GstTrickleGateway * gw)
{
  g_mutex_init (&gw->lock);
  g_mutex_init (&gw->stop_lock);
  g_cond_init (&gw->stop_cond);
  gw->host = g_strdup (DEFAULT_HOST);
  gw->port = DEFAULT_PORT;
  gw->trickle_url = g_strdup (DEFAULT_TRICKLE_URL);
  gw->max_sessions = DEFAULT_MAX_SESSIONS;
  gw->max_viewers = DEFAULT_MAX_VIEWERS;
  gw->min_segment_duration = DEFAULT_MIN_SEGMENT_DURATION;
  gw->keyframe_interval = DEFAULT_KEYFRAME_INTERVAL;
  gw->media_timeout = DEFAULT_MEDIA_TIMEOUT;
  gw->latency = DEFAULT_LATENCY;
  gw->allow_origin = g_strdup (DEFAULT_ALLOW_ORIGIN);
  gw->stop_timeout = DEFAULT_STOP_TIMEOUT;
  gw->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) session_unref);
}

static void
gst_trickle_gateway_finalize (GObject * object)
{
  GstTrickleGateway *gw = GST_TRICKLE_GATEWAY (object);

  if (gw->context && g_main_context_is_owner (gw->context))
    g_error ("the last reference to a running GstTrickleGateway was dropped "
        "in its own thread (a signal handler): it cannot stop there");
  gst_trickle_gateway_stop (gw);
  g_hash_table_unref (gw->sessions);
  g_free (gw->host);
  g_free (gw->trickle_url);
  g_free (gw->auth_token);
  g_free (gw->stun_server);
  g_free (gw->allow_origin);
  g_mutex_clear (&gw->lock);
  g_mutex_clear (&gw->stop_lock);
  g_cond_clear (&gw->stop_cond);
  G_OBJECT_CLASS (gst_trickle_gateway_parent_class)->finalize (object);
}

static void
gst_trickle_gateway_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleGateway *gw = GST_TRICKLE_GATEWAY (object);

  if (gw->api && (prop_id == PROP_HOST || prop_id == PROP_PORT)) {
    g_warning ("GstTrickleGateway: %s cannot change while serving",
        pspec->name);
    return;
  }
  g_mutex_lock (&gw->lock);
  switch (prop_id) {
    case PROP_HOST:
      g_free (gw->host);
      gw->host = g_value_dup_string (value);
      break;
    case PROP_PORT:
      gw->port = g_value_get_uint (value);
      break;
    case PROP_TRICKLE_URL:
      g_free (gw->trickle_url);
      gw->trickle_url = g_value_dup_string (value);
      if (!gw->trickle_url)
        gw->trickle_url = g_strdup (DEFAULT_TRICKLE_URL);
      break;
    case PROP_AUTH_TOKEN:
      g_free (gw->auth_token);
      gw->auth_token = g_value_dup_string (value);
      break;
    case PROP_MAX_SESSIONS:
      gw->max_sessions = g_value_get_uint (value);
      break;
    case PROP_MAX_VIEWERS:
      gw->max_viewers = g_value_get_uint (value);
      break;
    case PROP_MIN_SEGMENT_DURATION:
      gw->min_segment_duration = g_value_get_double (value);
      break;
    case PROP_KEYFRAME_INTERVAL:
      gw->keyframe_interval = g_value_get_double (value);
      break;
    case PROP_MEDIA_TIMEOUT:
      gw->media_timeout = g_value_get_double (value);
      break;
    case PROP_STUN_SERVER:
      g_free (gw->stun_server);
      gw->stun_server = g_value_dup_string (value);
      break;
    case PROP_LATENCY:
      gw->latency = g_value_get_uint (value);
      break;
    case PROP_ALLOW_ORIGIN:
      g_free (gw->allow_origin);
      gw->allow_origin = g_value_dup_string (value);
      break;
    case PROP_STOP_TIMEOUT:
      gw->stop_timeout = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&gw->lock);
}

static void
gst_trickle_gateway_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTrickleGateway *gw = GST_TRICKLE_GATEWAY (object);

  g_mutex_lock (&gw->lock);
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string (value, gw->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, gw->port);
      break;
    case PROP_CURRENT_PORT:
      g_value_set_int (value, gw->api ?
          (gint) gst_trickle_api_server_get_port (gw->api) : -1);
      break;
    case PROP_TRICKLE_URL:
      g_value_set_string (value, gw->trickle_url);
      break;
    case PROP_AUTH_TOKEN:
      g_value_set_string (value, gw->auth_token);
      break;
    case PROP_MAX_SESSIONS:
      g_value_set_uint (value, gw->max_sessions);
      break;
    case PROP_MAX_VIEWERS:
      g_value_set_uint (value, gw->max_viewers);
      break;
    case PROP_MIN_SEGMENT_DURATION:
      g_value_set_double (value, gw->min_segment_duration);
      break;
    case PROP_KEYFRAME_INTERVAL:
      g_value_set_double (value, gw->keyframe_interval);
      break;
    case PROP_MEDIA_TIMEOUT:
      g_value_set_double (value, gw->media_timeout);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, gw->stun_server);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, gw->latency);
      break;
    case PROP_ALLOW_ORIGIN:
      g_value_set_string (value, gw->allow_origin);
      break;
    case PROP_STOP_TIMEOUT:
      g_value_set_double (value, gw->stop_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&gw->lock);
}

static void
gst_trickle_gateway_class_init (GstTrickleGatewayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_trickle_gateway_set_property;
  gobject_class->get_property = gst_trickle_gateway_get_property;
  gobject_class->finalize = gst_trickle_gateway_finalize;

  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "Address to listen on (NULL: every interface)", DEFAULT_HOST, rw));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port",
          "TCP port of the HTTP side (0: any free port, see current-port)",
          0, 65535, DEFAULT_PORT, rw));
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      g_param_spec_int ("current-port", "Current port",
          "The port listened on (-1: not serving)", -1, 65535, -1,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TRICKLE_URL,
      g_param_spec_string ("trickle-url", "Trickle URL",
          "Base URL of the channels: stream S is channel <trickle-url>/S "
          "(a trickleserver's, or an orchestrator's .../ai/trickle/)",
          DEFAULT_TRICKLE_URL, rw));
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Auth token",
          "Bearer token every WHIP/WHEP request must carry "
          "(NULL: none needed)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_SESSIONS,
      g_param_spec_uint ("max-sessions", "Max sessions",
          "Sessions (publishers and viewers) at once; beyond, 503",
          1, G_MAXINT, DEFAULT_MAX_SESSIONS, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_VIEWERS,
      g_param_spec_uint ("max-viewers", "Max viewers",
          "WHEP viewers of one stream at once; beyond, 429",
          1, G_MAXINT, DEFAULT_MAX_VIEWERS, rw));
  g_object_class_install_property (gobject_class, PROP_MIN_SEGMENT_DURATION,
      g_param_spec_double ("min-segment-duration", "Min segment duration",
          "WHIP: seconds a segment lasts at least before a keyframe starts "
          "the next one", 0, 3600, DEFAULT_MIN_SEGMENT_DURATION, rw));
  g_object_class_install_property (gobject_class, PROP_KEYFRAME_INTERVAL,
      g_param_spec_double ("keyframe-interval", "Keyframe interval",
          "WHIP: seconds between keyframe requests (RTCP PLI) to the "
          "publisher (0: none)", 0, 3600, DEFAULT_KEYFRAME_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_MEDIA_TIMEOUT,
      g_param_spec_double ("media-timeout", "Media timeout",
          "Seconds without a packet from a publisher or viewer (media, "
          "RTCP, ICE) before its session ends (0: never)", 0, 3600,
          DEFAULT_MEDIA_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
          "STUN server (stun://host:port) for the gateway's candidates, "
          "also announced to clients in Link headers (NULL: host "
          "candidates only)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Jitterbuffer of received RTP, in ms (webrtcbin's latency)",
          0, 10000, DEFAULT_LATENCY, rw));
  g_object_class_install_property (gobject_class, PROP_ALLOW_ORIGIN,
      g_param_spec_string ("allow-origin", "Allow origin",
          "Access-Control-Allow-Origin for browsers' pages from other "
          "origins (NULL or empty: no CORS headers)", DEFAULT_ALLOW_ORIGIN,
          rw));
  g_object_class_install_property (gobject_class, PROP_STOP_TIMEOUT,
      g_param_spec_double ("stop-timeout", "Stop timeout",
          "Seconds gst_trickle_gateway_stop() waits for the sessions' "
          "teardowns; those still going on are then left to end on their "
          "own", 0, 3600, DEFAULT_STOP_TIMEOUT, rw));

  /**
   * GstTrickleGateway::session-started:
   * @gateway: the gateway
   * @kind: "whip" or "whep"
   * @stream: the stream (channel) name
   * @id: the session's id (the last part of its Location)
   *
   * A session was answered. Emitted in the gateway's thread.
   */
  signals[SIGNAL_SESSION_STARTED] = g_signal_new ("session-started",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstTrickleGateway::session-ended:
   * @gateway: the gateway
   * @kind: "whip" or "whep"
   * @stream: the stream (channel) name
   * @id: the session's id
   * @reason: why it ended
   *
   * A session is gone (its pipeline stopped; a WHIP session's channel
   * ended first). Emitted in the gateway's thread; not for a session
   * gst_trickle_gateway_stop() gave up waiting for (stop-timeout).
   */
  signals[SIGNAL_SESSION_ENDED] = g_signal_new ("session-ended",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
      G_TYPE_STRING);

  GST_DEBUG_CATEGORY_INIT (gateway_debug, "tricklegateway", 0,
      "trickle WHIP/WHEP gateway");
}

/**
 * gst_trickle_gateway_new:
 *
 * Returns: (transfer full): a gateway, not serving yet
 */
GstTrickleGateway *
gst_trickle_gateway_new (void)
{
  return g_object_new (GST_TRICKLE_TYPE_GATEWAY, NULL);
}

/**
 * gst_trickle_gateway_start:
 * @gateway: the gateway
 * @error: (optional): why it cannot start
 *
 * Serves the HTTP side, in a thread of the gateway's own.
 *
 * Returns: %TRUE if serving
 */
gboolean
gst_trickle_gateway_start (GstTrickleGateway * gateway, GError ** error)
{
  GstTrickleGateway *gw = gateway;
  static const gchar *needed[] = { "webrtcbin", "nicesrc", "tricklesink",
    "tricklesrc", "mpegtsmux", "tsdemux", "rtph264depay", "rtph264pay",
    "rtpopusdepay", "rtpopuspay", "h264parse", "opusparse", NULL
  };
  const gchar **f;
  gchar *host;

  g_return_val_if_fail (GST_TRICKLE_IS_GATEWAY (gw), FALSE);
  if (gw->api)
    return TRUE;
  for (f = needed; *f; f++) {
    GstElementFactory *factory = gst_element_factory_find (*f);
    if (!factory) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "the gateway needs the %s element (%s)", *f,
          g_str_has_prefix (*f, "nice") ? "gstreamer1.0-nice" :
          g_str_has_prefix (*f, "trickle") ? "gst-trickle's plugin" :
          "gstreamer1.0-plugins-good/bad");
      return FALSE;
    }
    gst_object_unref (factory);
  }
  g_mutex_lock (&gw->lock);
  host = g_strdup (gw->host);
  g_mutex_unlock (&gw->lock);
  gw->api = gst_trickle_api_server_new (host, gw->port,
      "gst-trickle-gateway/" PACKAGE_VERSION " ", "trickle-gateway",
      server_callback, gw, error);
  g_free (host);
  if (!gw->api)
    return FALSE;
  gw->context = gst_trickle_api_server_get_context (gw->api);
  gw->teardowns = g_thread_pool_new (teardown_func, gw, -1, FALSE, NULL);
  gw->tick = g_timeout_source_new_seconds (1);
  g_source_set_callback (gw->tick, tick, gw, NULL);
  g_source_attach (gw->tick, gw->context);
  gw->shutting_down = FALSE;
  gw->stopped = FALSE;
  gst_trickle_api_server_run (gw->api);
  g_object_notify (G_OBJECT (gw), "current-port");
  GST_INFO ("serving on port %u", gst_trickle_api_server_get_port (gw->api));
  return TRUE;
}

/**
 * gst_trickle_gateway_get_bound_port:
 *
 * Returns: the port the HTTP side listens on (0 when not serving)
 */
guint
gst_trickle_gateway_get_bound_port (GstTrickleGateway * gateway)
{
  guint port;

  g_return_val_if_fail (GST_TRICKLE_IS_GATEWAY (gateway), 0);
  /* as current-port: a stop() in another thread frees the server under
   * gateway->lock */
  g_mutex_lock (&gateway->lock);
  port = gateway->api ? gst_trickle_api_server_get_port (gateway->api) : 0;
  g_mutex_unlock (&gateway->lock);
  return port;
}

/**
 * gst_trickle_gateway_get_session_count:
 *
 * Returns: the sessions now (negotiating, running or ending)
 */
guint
gst_trickle_gateway_get_session_count (GstTrickleGateway * gateway)
{
  g_return_val_if_fail (GST_TRICKLE_IS_GATEWAY (gateway), 0);
  return g_atomic_int_get (&gateway->n_sessions);
}

static gboolean
stop_in_thread (gpointer data)
{
  GstTrickleGateway *gw = data;
  GList *all, *l;

  gw->shutting_down = TRUE;
  gst_trickle_api_server_stop_accepting (gw->api);
  if (g_hash_table_size (gw->sessions) == 0) {
    g_mutex_lock (&gw->stop_lock);
    gw->stopped = TRUE;
    g_cond_signal (&gw->stop_cond);
    g_mutex_unlock (&gw->stop_lock);
    return G_SOURCE_REMOVE;
  }
  all = g_hash_table_get_values (gw->sessions);
  for (l = all; l; l = l->next)
    session_end (l->data, "the gateway stopped");
  g_list_free (all);
  return G_SOURCE_REMOVE;
}

/* stop() gave up waiting: the sessions still tearing down are no longer
 * the gateway's. Each goes on (its teardown thread holds a reference) and
 * ends in that thread, touching nothing of the gateway's: its work for
 * the gateway's thread is dropped from now on (session_invoke), its bus
 * watch goes (the gateway's thread is about to end) */
static gboolean
abandon_in_thread (gpointer data)
{
  GstTrickleGateway *gw = data;
  GString *names = g_string_new (NULL);
  GHashTableIter it;
  gpointer value;
  guint n = g_hash_table_size (gw->sessions);

  g_hash_table_iter_init (&it, gw->sessions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Session *s = value;
    g_mutex_lock (&s->invoke_lock);
    s->context = NULL;
    g_mutex_unlock (&s->invoke_lock);
    s->abandoned = TRUE;
    if (s->bus_source) {
      g_source_destroy (s->bus_source);
      g_clear_pointer (&s->bus_source, g_source_unref);
    }
    g_string_append_printf (names, "%s%s session %s (stream %s)",
        names->len ? ", " : "", kind_names[s->kind], s->id, s->stream);
  }
  if (n > 0) {
    g_warning ("GstTrickleGateway: stopped without waiting any longer for "
        "%u session%s still tearing down (they end on their own): %s", n,
        n > 1 ? "s" : "", names->str);
    g_hash_table_remove_all (gw->sessions);
    g_atomic_int_add (&gw->n_sessions, -(gint) n);
  }
  g_string_free (names, TRUE);
  g_mutex_lock (&gw->stop_lock);
  gw->abandoned = n;
  g_cond_signal (&gw->stop_cond);
  g_mutex_unlock (&gw->stop_lock);
  return G_SOURCE_REMOVE;
}

/**
 * gst_trickle_gateway_stop:
 * @gateway: the gateway
 *
 * Ends every session (publishers' channels end for their subscribers),
 * then stops serving. Not from a signal handler.
 *
 * Waits at most #GstTrickleGateway:stop-timeout seconds (20 by default)
 * for the sessions' teardowns: a WHIP or RTMP session's end reaching its
 * channel (up to 5 s, then a DELETE of the channel by the gateway itself,
 * up to 5 s per I/O), then its pipeline stopping: about 10 s at most,
 * unless an element's state change hangs. The sessions still
 * tearing down then are named in a warning and left to end on their own,
 * in threads of theirs that use nothing of the gateway's (the gateway can
 * be started again, or freed); they no longer count as sessions, and no
 * #GstTrickleGateway::session-ended comes for them. A process exiting
 * then cuts them short: a publisher's channel may then not end for its
 * subscribers (they see it go silent).
 *
 * The wait is bounded as long as the gateway's thread itself is not held
 * up (an element's state change in a request's handler).
 *
 * Returns: %TRUE if every session was torn down (or the gateway was not
 *   serving), %FALSE if some were left tearing down
 */
gboolean
gst_trickle_gateway_stop (GstTrickleGateway * gateway)
{
  GstTrickleGateway *gw = gateway;
  GstTrickleApiServer *api;
  gint64 deadline;
  gboolean all;

  g_return_val_if_fail (GST_TRICKLE_IS_GATEWAY (gw), FALSE);
  if (!gw->api)
    return TRUE;
  if (g_main_context_is_owner (gw->context)) {
    g_critical ("gst_trickle_gateway_stop() called from the gateway's own "
        "thread (a signal handler): it would never return");
    return FALSE;
  }
  g_mutex_lock (&gw->lock);
  deadline = g_get_monotonic_time () +
      (gint64) (gw->stop_timeout * G_USEC_PER_SEC);
  g_mutex_unlock (&gw->lock);
  g_main_context_invoke (gw->context, stop_in_thread, gw);
  g_mutex_lock (&gw->stop_lock);
  while (!gw->stopped
      && g_cond_wait_until (&gw->stop_cond, &gw->stop_lock, deadline));
  all = gw->stopped;
  g_mutex_unlock (&gw->stop_lock);
  if (!all) {
    /* in the gateway's thread, as the sessions' ends are: a last
     * session_finished may still come first */
    g_mutex_lock (&gw->stop_lock);
    gw->abandoned = G_MAXUINT;
    g_mutex_unlock (&gw->stop_lock);
    g_main_context_invoke (gw->context, abandon_in_thread, gw);
    g_mutex_lock (&gw->stop_lock);
    while (gw->abandoned == G_MAXUINT)
      g_cond_wait (&gw->stop_cond, &gw->stop_lock);
    all = gw->abandoned == 0;
    g_mutex_unlock (&gw->stop_lock);
  }
  g_source_destroy (gw->tick);
  g_clear_pointer (&gw->tick, g_source_unref);
  /* the teardown threads first: one may still be leaving its invoke;
   * those of sessions left to end on their own are not waited for (the
   * pool goes once they are done) */
  g_thread_pool_free (gw->teardowns, FALSE, all);
  gw->teardowns = NULL;
  g_mutex_lock (&gw->lock);
  api = gw->api;
  gw->api = NULL;
  g_mutex_unlock (&gw->lock);
  gst_trickle_api_server_free (api);
  gw->context = NULL;
  g_object_notify (G_OBJECT (gw), "current-port");
  return all;
}
