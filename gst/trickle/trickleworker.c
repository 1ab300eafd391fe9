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
 * SECTION:trickleworker
 * @title: GstTrickleWorker
 * @short_description: a GStreamer filter as a Livepeer real-time AI
 *   worker (ai-runner's and PyTrickle's HTTP API)
 *
 * A Livepeer orchestrator starts real-time work by POSTing trickle URLs to
 * a worker's HTTP API. #GstTrickleWorker serves that API (libsoup) and, for
 * each stream, runs
 *
 *     tricklesrc (subscribe_url) ! decodebin ! [video-filter] ! video-encoder
 *       ! mpegtsmux ! tricklesink (publish_url)
 *     decodebin. ! [audio-filter] ! audio-encoder ! mpegtsmux.
 *
 * plus the control channel (params updates), the events channel (status,
 * heartbeats, traces) and the data channel (JSON lines from the filter's
 * `trickle-data` element messages). One stream at a time, as the peers.
 *
 * | request | answer |
 * |---|---|
 * | `POST /live-video-to-video` | ai-runner's: 200 `{"subscribe_url":...}`, errors `{"detail":{"msg":...}}` |
 * | `POST /stream/start`, `/api/stream/start` | PyTrickle's: 200 `{"status":"success",...}`, errors `{"status":"error","message":...}` |
 * | `POST /stream/params`, `/stream/stop`, `GET /stream/status` | PyTrickle's (and under `/api/`) |
 * | `GET /health` | `{"status":"LOADING"|"IDLE"|"OK"|"ERROR"}` |
 * | `GET /version`, `/hardware/info`, `/hardware/stats` | ai-runner's shapes |
 *
 * Starting while a stream runs is 503; a body that is not a JSON object,
 * lacks `subscribe_url`, or has `params` that are neither an object nor a
 * string holding one is 400 with the reason. With #GstTrickleWorker:auth-token
 * set, the stream requests need `Authorization: Bearer <token>` (401
 * otherwise; /health and /version stay open, as ai-runner's).
 *
 * See docs/livepeer.md for the requests, events and the params mapping.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <libsoup/soup.h>
#include <gst/trickle/trickle-json-private.h>
#include "trickle-api-server-private.h"
#include "trickle-private.h"
#include "trickleworker.h"
#include "tricklejson.h"
#include "tricklepublisher.h"
#include "tricklesubscriber.h"

GST_DEBUG_CATEGORY_STATIC (worker_debug);
#define GST_CAT_DEFAULT worker_debug

#define DEFAULT_HOST NULL
#define DEFAULT_PORT 8000
#define DEFAULT_FILTER "identity"
#define DEFAULT_AUDIO_FILTER NULL
#define DEFAULT_VIDEO_ENCODER \
  "x264enc tune=zerolatency speed-preset=superfast bframes=0"
#define DEFAULT_AUDIO_ENCODER "opusenc"
#define DEFAULT_KEYFRAME_INTERVAL 2.0
#define DEFAULT_INPUT_TIMEOUT 60.0
#define DEFAULT_STATUS_INTERVAL 10.0
#define DEFAULT_DATA_INTERVAL 0.333
#define DEFAULT_MODEL_ID NULL
#define DEFAULT_PIPELINE_NAME "live-video-to-video"
/* PyTrickle sends an empty batch after this long without data */
#define DATA_KEEPALIVE_US (25 * G_USEC_PER_SEC)
/* how long a stop waits for the EOS to reach the output */
#define STOP_EOS_WAIT_US (5 * G_USEC_PER_SEC)

enum
{
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_FILTER,
  PROP_AUDIO_FILTER,
  PROP_VIDEO_ENCODER,
  PROP_AUDIO_ENCODER,
  PROP_KEYFRAME_INTERVAL,
  PROP_INPUT_TIMEOUT,
  PROP_STATUS_INTERVAL,
  PROP_DATA_INTERVAL,
  PROP_AUTH_TOKEN,
  PROP_MODEL_ID,
  PROP_HEALTH,
};

enum
{
  SIGNAL_CREATE_FILTER,
  SIGNAL_STREAM_STARTED,
  SIGNAL_STREAM_STOPPED,
  SIGNAL_PARAMS_UPDATED,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

/* ------------------------------------------------------------------------ */
/* an outgoing JSON channel (events, data): documents queued by anyone,
 * published one segment each by the channel's own thread */

typedef struct
{
  gchar *url;
  gchar *mime_type;
  GAsyncQueue *queue;           /* GBytes; an empty one ends the thread */
  GThread *thread;
  GstTricklePublisher *pub;
  GMutex lock;
  GCond cond;
  gboolean stopping;
  gboolean done;                /* the thread is over */
} JsonOut;

/* documents waiting beyond this are dropped (a stalled server) */
#define JSON_OUT_MAX_QUEUED 256
/* a stop publishes what is queued for at most this long */
#define JSON_OUT_DRAIN_US (5 * G_USEC_PER_SEC)

static gpointer
json_out_thread (gpointer data)
{
  JsonOut *o = data;
  GError *err = NULL;
  gboolean ok;

  ok = gst_trickle_publisher_start (o->pub, &err);
  if (!ok) {
    GST_WARNING ("%s: %s", o->url, err->message);
    g_clear_error (&err);
  }
  for (;;) {
    GBytes *doc = g_async_queue_pop (o->queue);
    gsize size = g_bytes_get_size (doc);

    if (size == 0) {
      g_bytes_unref (doc);
      break;
    }
    if (ok && (gst_trickle_publisher_begin_segment (o->pub, &err) < 0
            || !gst_trickle_publisher_write (o->pub,
                g_bytes_get_data (doc, NULL), size, &err)
            || !gst_trickle_publisher_end_segment (o->pub, &err))) {
      GST_WARNING ("%s: %s", o->url, err->message);
      g_clear_error (&err);
    }
    g_bytes_unref (doc);
  }
  if (ok)
    gst_trickle_publisher_stop (o->pub, FALSE, NULL);
  g_mutex_lock (&o->lock);
  o->done = TRUE;
  g_cond_broadcast (&o->cond);
  g_mutex_unlock (&o->lock);
  return NULL;
}

static JsonOut *
json_out_new (const gchar * url, const gchar * mime_type)
{
  JsonOut *o;

  if (!url || !*url)
    return NULL;
  o = g_new0 (JsonOut, 1);
  o->url = g_strdup (url);
  o->queue = g_async_queue_new_full ((GDestroyNotify) g_bytes_unref);
  o->pub = gst_trickle_publisher_new (url, mime_type);
  g_object_set (o->pub, "retries", 3, NULL);
  g_mutex_init (&o->lock);
  g_cond_init (&o->cond);
  o->thread = g_thread_new ("trickle-worker-out", json_out_thread, o);
  return o;
}

/* takes @text */
static void
json_out_push (JsonOut * o, gchar * text)
{
  if (!o) {
    g_free (text);
    return;
  }
  g_mutex_lock (&o->lock);
  if (!o->stopping && *text
      && g_async_queue_length (o->queue) < JSON_OUT_MAX_QUEUED)
    g_async_queue_push (o->queue, g_bytes_new_take (text, strlen (text)));
  else {
    if (!o->stopping && *text)
      GST_WARNING ("%s: %d documents waiting, one dropped", o->url,
          JSON_OUT_MAX_QUEUED);
    g_free (text);
  }
  g_mutex_unlock (&o->lock);
}

/* publishes what was queued (for JSON_OUT_DRAIN_US at most, nothing
 * unless @drain), then stops */
static void
json_out_free_full (JsonOut * o, gboolean drain)
{
  if (!o)
    return;
  gint64 until = g_get_monotonic_time () + (drain ? JSON_OUT_DRAIN_US : 0);

  if (!o)
    return;
  g_mutex_lock (&o->lock);
  o->stopping = TRUE;
  g_async_queue_push (o->queue, g_bytes_new (NULL, 0));
  while (!o->done && g_cond_wait_until (&o->cond, &o->lock, until));
  g_mutex_unlock (&o->lock);
  /* a server that does not take them: what is left is dropped */
  if (!o->done)
    gst_trickle_publisher_unlock (o->pub);
  g_thread_join (o->thread);
  g_object_unref (o->pub);
  g_async_queue_unref (o->queue);
  g_mutex_clear (&o->lock);
  g_cond_clear (&o->cond);
  g_free (o->url);
  g_free (o);
}

static void
json_out_free (JsonOut * o)
{
  json_out_free_full (o, TRUE);
}

/* ------------------------------------------------------------------------ */

typedef struct _Stream Stream;

struct _GstTrickleWorker
{
  GObject parent;

  GMutex lock;
  /* settings */
  gchar *host;
  gint port;
  gchar *filter;
  gchar *audio_filter;
  gchar *video_encoder;
  gchar *audio_encoder;
  gdouble keyframe_interval;
  gdouble input_timeout;
  gdouble status_interval;
  gdouble data_interval;
  gchar *auth_token;
  gchar *model_id;
  GHashTable *params_map;       /* params key -> "element.property" */

  /* running: the HTTP server and every stream change happen in the
   * worker's thread, on its main context */
  GstTrickleApiServer *api;
  GMainContext *context;        /* the api's, while it runs */
  GstTrickleWorkerHealth health;        /* under lock */
  Stream *stream;               /* the one stream, or NULL */
  gboolean shutting_down;       /* worker thread: stop() began */
  guint restart_count;
  gchar *last_error;
  gint64 last_error_time;       /* ms since the epoch, 0: none */
};

G_DEFINE_TYPE (GstTrickleWorker, gst_trickle_worker, G_TYPE_OBJECT);

struct _Stream
{
  GstTrickleWorker *worker;     /* not a reference: it owns us */
  gchar *subscribe_url, *publish_url, *control_url, *events_url, *data_url;
  gchar *request_id, *manifest_id, *stream_id;
  JsonNode *params;             /* the params of the start, then updated */
  GstStructure *start_params;   /* the start's, as gst_trickle_json_parse()
                                 * reads them (an empty structure without) */

  GstElement *pipeline;
  GstElement *mux;
  GstElement *filters[2];       /* video, audio (owned by the pipeline) */
  GstElement *encoders[2];
  GSource *bus_source;
  GSource *timer;
  gint64 start_time;            /* ms since the epoch */
  gint64 start_mono;            /* monotonic µs */

  /* counted by pad probes (streaming threads) */
  /* monotonic µs, 0 until the first buffer (__atomic: written by the
   * streaming threads, read by the worker thread) */
  gint64 last_input_mono;
  gint64 last_output_mono;
  /* the worker's settings when the stream started */
  gdouble input_timeout, status_interval, data_interval, keyframe_interval;
  gchar *pipeline_name;
  gint frames_in, frames_out, audio_in, audio_out;      /* atomic */
  gint first_in_sent, first_out_sent;   /* atomic flags */
  gint branches;                /* atomic: decodebin's pads linked */
  /* fps: counts at the last report (worker thread) */
  gint fps_frames_in, fps_frames_out, fps_audio_in, fps_audio_out;
  gint64 fps_mono;
  gdouble in_fps, out_fps, audio_in_fps, audio_out_fps;

  gint64 last_status_timestamp;
  gint64 last_params_update_time;
  gboolean params_fresh;        /* last_params not yet reported */
  gint64 next_status_mono;

  JsonOut *events;
  JsonOut *data;
  GMutex data_lock;
  JsonArray *data_batch;        /* under data_lock */
  gint64 data_last_sent;        /* monotonic */
  GThread *data_thread;
  GThread *control_thread;
  GstTrickleSubscriber *control;
  GMutex stop_lock;
  GCond stop_cond;
  gboolean stopping_threads;    /* under stop_lock */
  gboolean eos;                 /* under stop_lock */

  /* teardown */
  gboolean stopping;
  gboolean failed;
  gchar *stop_reason;
  GList *waiting;               /* paused SoupServerMessages (stop requests) */
  GThread *teardown;
};

/* ------------------------------------------------------------------------ */
/* helpers */

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* the monotonic time of a stamp (0: none) */
static gint64
stamp_mono (gint64 * stamp)
{
  return __atomic_load_n (stamp, __ATOMIC_RELAXED);
}

static void
stamp_now (gint64 * stamp)
{
  __atomic_store_n (stamp, g_get_monotonic_time (), __ATOMIC_RELAXED);
}

static void
set_health (GstTrickleWorker * w, GstTrickleWorkerHealth health)
{
  g_mutex_lock (&w->lock);
  w->health = health;
  g_mutex_unlock (&w->lock);
  g_object_notify (G_OBJECT (w), "health");
}

static const gchar *
health_name (GstTrickleWorkerHealth h)
{
  switch (h) {
    case GST_TRICKLE_WORKER_LOADING:
      return "LOADING";
    case GST_TRICKLE_WORKER_IDLE:
      return "IDLE";
    case GST_TRICKLE_WORKER_OK:
      return "OK";
    default:
      return "ERROR";
  }
}

/* a builder's root as text; frees the builder */
static gchar *
builder_to_string (JsonBuilder * b)
{
  JsonNode *node = json_builder_get_root (b);
  gchar *text = gst_trickle_json_node_to_string (node);

  json_node_unref (node);
  g_object_unref (b);
  return text;
}

static void
add_string_or_null (JsonBuilder * b, const gchar * name, const gchar * value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_time_or_null (JsonBuilder * b, const gchar * name, gint64 ms)
{
  json_builder_set_member_name (b, name);
  if (ms > 0)
    json_builder_add_int_value (b, ms);
  else
    json_builder_add_null_value (b);
}

/* Python's repr() of a float: the shortest digits that read back the same,
 * positional between 1e-4 and 1e16 (with ".0" when whole), else
 * d.ddde+XX */
static void
python_float (gdouble d, GString * out)
{
  gchar buf[64], digits[32];
  gint prec, exp10, ndig, i;
  const gchar *e;

  if (d != d) {
    g_string_append (out, "NaN");
    return;
  }
  if (d == 1.0 / 0.0 || d == -1.0 / 0.0) {
    g_string_append (out, d > 0 ? "Infinity" : "-Infinity");
    return;
  }
  for (prec = 0; prec < 17; prec++) {
    gchar fmt[8];
    /* g_ascii_formatd: a '.' whatever the locale */
    g_snprintf (fmt, sizeof (fmt), "%%.%de", prec);
    g_ascii_formatd (buf, sizeof (buf), fmt, d);
    if (g_ascii_strtod (buf, NULL) == d)
      break;
  }
  /* buf: [-]d[.ddd]e[+-]XX */
  e = strchr (buf, 'e');
  exp10 = atoi (e + 1);
  ndig = 0;
  for (i = 0; buf + i < e; i++)
    if (g_ascii_isdigit (buf[i]))
      digits[ndig++] = buf[i];
  digits[ndig] = '\0';
  if (buf[0] == '-')
    g_string_append_c (out, '-');
  if (exp10 >= 16 || exp10 < -4) {
    g_string_append_c (out, digits[0]);
    if (ndig > 1)
      g_string_append_printf (out, ".%s", digits + 1);
    g_string_append_printf (out, "e%c%02d", exp10 < 0 ? '-' : '+', ABS (exp10));
  } else if (exp10 < 0) {
    g_string_append (out, "0.");
    for (i = 0; i < -exp10 - 1; i++)
      g_string_append_c (out, '0');
    g_string_append (out, digits);
  } else {
    for (i = 0; i <= exp10; i++)
      g_string_append_c (out, i < ndig ? digits[i] : '0');
    g_string_append_c (out, '.');
    if (ndig > exp10 + 1)
      g_string_append (out, digits + exp10 + 1);
    else
      g_string_append_c (out, '0');
  }
}

/* Python's json.dumps(sort_keys=True) of a node (separators ", " and
 * ": ", non-ASCII escaped): the text ai-runner hashes for
 * last_params_hash */
static void
python_dumps (JsonNode * node, GString * out)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:{
      JsonObject *obj = json_node_get_object (node);
      GList *members = g_list_sort (json_object_get_members (obj),
          (GCompareFunc) g_strcmp0), *l;

      g_string_append_c (out, '{');
      for (l = members; l; l = l->next) {
        JsonNode *key = json_node_init_string (json_node_alloc (), l->data);
        if (l != members)
          g_string_append (out, ", ");
        python_dumps (key, out);
        json_node_unref (key);
        g_string_append (out, ": ");
        python_dumps (json_object_get_member (obj, l->data), out);
      }
      g_string_append_c (out, '}');
      g_list_free (members);
      break;
    }
    case JSON_NODE_ARRAY:{
      JsonArray *arr = json_node_get_array (node);
      guint i, n = json_array_get_length (arr);

      g_string_append_c (out, '[');
      for (i = 0; i < n; i++) {
        if (i)
          g_string_append (out, ", ");
        python_dumps (json_array_get_element (arr, i), out);
      }
      g_string_append_c (out, ']');
      break;
    }
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;
    default:
      if (json_node_get_value_type (node) == G_TYPE_STRING) {
        const gchar *p = json_node_get_string (node);
        g_string_append_c (out, '"');
        for (; *p; p = g_utf8_next_char (p)) {
          gunichar c = g_utf8_get_char (p);
          if (c == '"' || c == '\\')
            g_string_append_printf (out, "\\%c", (gchar) c);
          else if (c == '\n')
            g_string_append (out, "\\n");
          else if (c == '\r')
            g_string_append (out, "\\r");
          else if (c == '\t')
            g_string_append (out, "\\t");
          else if (c == '\b')
            g_string_append (out, "\\b");
          else if (c == '\f')
            g_string_append (out, "\\f");
          else if (c < 0x20 || c > 0x7e) {
            if (c > 0xffff) {
              c -= 0x10000;
              g_string_append_printf (out, "\\u%04x\\u%04x",
                  0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
            } else
              g_string_append_printf (out, "\\u%04x", c);
          } else
            g_string_append_c (out, (gchar) c);
        }
        g_string_append_c (out, '"');
      } else if (json_node_get_value_type (node) == G_TYPE_BOOLEAN) {
        g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      } else if (json_node_get_value_type (node) == G_TYPE_INT64) {
        g_string_append_printf (out, "%" G_GINT64_FORMAT,
            json_node_get_int (node));
      } else {
        python_float (json_node_get_double (node), out);
      }
      break;
  }
}

/* ------------------------------------------------------------------------ */
/* events: {"event": {...,"type": T, "timestamp": ms}, "queue_event_type": Q}
 * as ai-runner and PyTrickle publish them; @b holds the event's members
 * (an open object) */

static JsonBuilder *
event_begin (const gchar * type)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  return b;
}

static void
event_publish (Stream * s, JsonBuilder * b, const gchar * queue_type)
{
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_int_value (b, now_ms ());
  json_builder_end_object (b);
  json_builder_set_member_name (b, "queue_event_type");
  json_builder_add_string_value (b, queue_type);
  json_builder_end_object (b);
  json_out_push (s->events, builder_to_string (b));
}

static void
send_simple_event (Stream * s, const gchar * type, const gchar * queue_type)
{
  event_publish (s, event_begin (type), queue_type);
}

static const gchar *
stream_state (Stream * s)
{
  gint64 now = g_get_monotonic_time ();
  gint64 in = g_atomic_int_get (&s->frames_in) ?
      stamp_mono (&s->last_input_mono) : 0;
  gint64 out = stamp_mono (&s->last_output_mono);

  if (s->failed)
    return "ERROR";
  if (s->stopping)
    return "OFFLINE";
  if (!s->pipeline || now - s->start_mono < 2 * G_USEC_PER_SEC)
    return "ONLINE";
  if (!in || now - in > 2 * G_USEC_PER_SEC)
    return "DEGRADED_INPUT";
  if (!out || now - out > 2 * G_USEC_PER_SEC)
    return "DEGRADED_INFERENCE";
  return "ONLINE";
}

static gint64
mono_to_ms (gint64 mono)
{
  if (!mono)
    return 0;
  return now_ms () - (g_get_monotonic_time () - mono) / 1000;
}

static void
update_fps (Stream * s)
{
  gint64 now = g_get_monotonic_time ();
  gdouble secs = (now - s->fps_mono) / (gdouble) G_USEC_PER_SEC;
  gint fi = g_atomic_int_get (&s->frames_in);
  gint fo = g_atomic_int_get (&s->frames_out);
  gint ai = g_atomic_int_get (&s->audio_in);
  gint ao = g_atomic_int_get (&s->audio_out);

  if (secs <= 0)
    return;
  s->in_fps = (fi - s->fps_frames_in) / secs;
  s->out_fps = (fo - s->fps_frames_out) / secs;
  s->audio_in_fps = (ai - s->fps_audio_in) / secs;
  s->audio_out_fps = (ao - s->fps_audio_out) / secs;
  s->fps_frames_in = fi;
  s->fps_frames_out = fo;
  s->fps_audio_in = ai;
  s->fps_audio_out = ao;
  s->fps_mono = now;
}

static void
add_fps_object (Stream * s, JsonBuilder * b)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ingress_video_fps");
  json_builder_add_double_value (b, s->in_fps);
  json_builder_set_member_name (b, "ingress_audio_fps");
  json_builder_add_double_value (b, s->audio_in_fps);
  json_builder_set_member_name (b, "egress_video_fps");
  json_builder_add_double_value (b, s->out_fps);
  json_builder_set_member_name (b, "egress_audio_fps");
  json_builder_add_double_value (b, s->audio_out_fps);
  json_builder_end_object (b);
}

/* ai-runner's status event (queue "ai_stream_events") */
static void
send_status (Stream * s)
{
  GstTrickleWorker *w = s->worker;
  JsonBuilder *b = event_begin ("status");
  gint64 now = now_ms ();

  json_builder_set_member_name (b, "pipeline");
  json_builder_add_string_value (b, s->pipeline_name);
  json_builder_set_member_name (b, "start_time");
  json_builder_add_int_value (b, s->start_time);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, stream_state (s));
  json_builder_set_member_name (b, "last_state_update_time");
  json_builder_add_int_value (b, now);

  json_builder_set_member_name (b, "input_status");
  json_builder_begin_object (b);
  add_time_or_null (b, "last_input_time",
      mono_to_ms (g_atomic_int_get (&s->frames_in) ?
          stamp_mono (&s->last_input_mono) : 0));
  json_builder_set_member_name (b, "fps");
  json_builder_add_double_value (b, s->in_fps);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "inference_status");
  json_builder_begin_object (b);
  add_time_or_null (b, "last_output_time",
      mono_to_ms (stamp_mono (&s->last_output_mono)));
  json_builder_set_member_name (b, "fps");
  json_builder_add_double_value (b, s->out_fps);
  add_time_or_null (b, "last_params_update_time", s->last_params_update_time);
  json_builder_set_member_name (b, "last_params");
  if (s->params_fresh && s->params)
    json_builder_add_value (b, json_node_copy (s->params));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "last_params_hash");
  if (s->params) {
    GString *text = g_string_new (NULL);
    gchar *md5;
    python_dumps (s->params, text);
    md5 = g_compute_checksum_for_string (G_CHECKSUM_MD5, text->str, -1);
    json_builder_add_string_value (b, md5);
    g_free (md5);
    g_string_free (text, TRUE);
  } else {
    json_builder_add_null_value (b);
  }
  g_mutex_lock (&w->lock);
  add_time_or_null (b, "last_error_time", w->last_error_time);
  add_string_or_null (b, "last_error", w->last_error);
  g_mutex_unlock (&w->lock);
  add_time_or_null (b, "last_restart_time", 0);
  add_string_or_null (b, "last_restart_logs", NULL);
  json_builder_set_member_name (b, "restart_count");
  json_builder_add_int_value (b, w->restart_count);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "last_status_timestamp");
  json_builder_add_int_value (b, s->last_status_timestamp ?
      s->last_status_timestamp : s->start_time);
  s->last_status_timestamp = now;
  s->params_fresh = FALSE;
  event_publish (s, b, "ai_stream_events");
}

/* PyTrickle's heartbeat (queue "stream_heartbeat") */
static void
send_heartbeat (Stream * s)
{
  JsonBuilder *b = event_begin ("heartbeat");
  GstPad *pad = NULL;
  gint width = 0, height = 0;

  json_builder_set_member_name (b, "urls");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "subscribe");
  json_builder_add_string_value (b, s->subscribe_url ? s->subscribe_url : "");
  json_builder_set_member_name (b, "publish");
  json_builder_add_string_value (b, s->publish_url ? s->publish_url : "");
  json_builder_set_member_name (b, "control");
  json_builder_add_string_value (b, s->control_url ? s->control_url : "");
  json_builder_set_member_name (b, "events");
  json_builder_add_string_value (b, s->events_url ? s->events_url : "");
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, s->data_url ? s->data_url : "");
  json_builder_end_object (b);

  if (s->pipeline) {
    GstElement *enc = gst_bin_get_by_name (GST_BIN (s->pipeline),
        "video-encoder");
    if (enc) {
      pad = gst_element_get_static_pad (enc, "sink");
      gst_object_unref (enc);
    }
  }
  if (pad) {
    GstCaps *caps = gst_pad_get_current_caps (pad);
    if (caps) {
      GstStructure *st = gst_caps_get_structure (caps, 0);
      gst_structure_get_int (st, "width", &width);
      gst_structure_get_int (st, "height", &height);
      gst_caps_unref (caps);
    }
    gst_object_unref (pad);
  }
  json_builder_set_member_name (b, "dimensions");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, height);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "fps");
  add_fps_object (s, b);
  event_publish (s, b, "stream_heartbeat");
}

static void
send_error_event (Stream * s, const gchar * message)
{
  JsonBuilder *b = event_begin ("error");

  json_builder_set_member_name (b, "pipeline");
  json_builder_add_string_value (b, s->pipeline_name);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "time");
  json_builder_add_double_value (b, g_get_real_time () /
      (gdouble) G_USEC_PER_SEC);
  event_publish (s, b, "ai_stream_events");
}

/* ------------------------------------------------------------------------ */
/* params */

static void stream_stop (Stream * s, const gchar * reason, gboolean failed,
    SoupServerMessage * msg);

/* the strict parser first (RFC 8259, no silent overflow), then the tree */
static JsonNode *
parse_json (const gchar * text, gsize len, GValue * value, gchar ** why)
{
  GValue v = G_VALUE_INIT;
  GError *err = NULL;
  JsonParser *parser;
  JsonNode *root = NULL;

  if (!gst_trickle_json_parse (text, len, &v, &err)) {
    *why = g_strdup_printf ("invalid JSON: %s", err->message);
    g_clear_error (&err);
    return NULL;
  }
  parser = json_parser_new ();
  if (json_parser_load_from_data (parser, text, len, &err))
    root = json_node_copy (json_parser_get_root (parser));
  else {
    *why = g_strdup_printf ("invalid JSON: %s", err->message);
    g_clear_error (&err);
  }
  g_object_unref (parser);
  if (root && value)
    *value = v;
  else
    g_value_unset (&v);
  return root;
}

/* the settings @params asks for through the params map (and its "set"
 * member): NULL with @why when one is malformed */
/* an element named @name inside one of the stream's filters, and the one
 * the pipeline-wide lookup of the settings finds by that name */
static gboolean
in_filters (Stream * s, const gchar * name)
{
  GstElement *e, *found = NULL;
  guint i;
  gboolean ok = FALSE;

  if (!s->pipeline)
    return FALSE;
  e = gst_bin_get_by_name (GST_BIN (s->pipeline), name);
  if (!e)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (s->filters) && !ok; i++) {
    if (!s->filters[i])
      continue;
    if (s->filters[i] == e)
      ok = TRUE;
    else if (GST_IS_BIN (s->filters[i])
        && (found = gst_bin_get_by_name (GST_BIN (s->filters[i]), name))) {
      ok = found == e;
      gst_object_unref (found);
    }
  }
  gst_object_unref (e);
  return ok;
}

/* The settings @params asks for: the mapped keys (any element, the
 * operator chose them) and the "set" member, which reaches the filters'
 * elements only (params come from the gateway's users: they must not
 * redirect the input or output, or retune the encoder). NULL with @why
 * when one is malformed. */
static GstStructure *
params_settings (Stream * s, const GstStructure * params, gchar ** why)
{
  GstTrickleWorker *w = s->worker;
  GstStructure *set = gst_structure_new_empty ("set");
  guint i, n = gst_structure_n_fields (params);

  for (i = 0; i < n; i++) {
    const gchar *key = gst_structure_nth_field_name (params, i);
    const GValue *v = gst_structure_get_value (params, key);
    const gchar *target;

    if (g_str_equal (key, "set")) {
      const GstStructure *inner;
      guint j, m;
      if (G_VALUE_TYPE (v) != GST_TYPE_STRUCTURE) {
        *why = g_strdup ("\"set\" is not an object");
        gst_structure_free (set);
        return NULL;
      }
      inner = gst_value_get_structure (v);
      m = gst_structure_n_fields (inner);
      for (j = 0; j < m; j++) {
        const gchar *k = gst_structure_nth_field_name (inner, j);
        const gchar *dot = strrchr (k, '.');
        gchar *name = dot ? g_strndup (k, dot - k) : NULL;
        gboolean allowed = name && in_filters (s, name);
        g_free (name);
        if (!allowed) {
          *why = g_strdup_printf ("set: \"%s\" is not a property of an "
              "element of the filter", k);
          gst_structure_free (set);
          return NULL;
        }
        gst_structure_set_value (set, k, gst_structure_get_value (inner, k));
      }
      continue;
    }
    g_mutex_lock (&w->lock);
    target = g_hash_table_lookup (w->params_map, key);
    if (target)
      gst_structure_set_value (set, target, v);
    g_mutex_unlock (&w->lock);
  }
  return set;
}

/* applies a params document to the running stream: the mapped properties
 * (all or none), then the application is told. FALSE (and @why) when it
 * was refused: nothing changed. */
static gboolean
stream_update_params (Stream * s, const gchar * text, gsize len, gchar ** why)
{
  GstTrickleWorker *w = s->worker;
  GValue v = G_VALUE_INIT;
  JsonNode *node = parse_json (text, len, &v, why);
  GstStructure *set;
  const GstStructure *params;
  GError *err = NULL;
  gboolean ok = TRUE;

  if (!node)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (node)
      || G_VALUE_TYPE (&v) != GST_TYPE_STRUCTURE) {
    *why = g_strdup ("params are not a JSON object");
    ok = FALSE;
    goto done;
  }
  params = gst_value_get_structure (&v);
  set = params_settings (s, params, why);
  if (!set) {
    ok = FALSE;
    goto done;
  }
  if (gst_structure_n_fields (set) > 0 && !s->pipeline) {
    *why = g_strdup ("no media (no subscribe_url): nothing to set");
    ok = FALSE;
  } else if (gst_structure_n_fields (set) > 0 &&
      !gst_trickle_json_apply_settings (s->pipeline, set, &err)) {
    *why = g_strdup (err->message);
    g_clear_error (&err);
    ok = FALSE;
  }
  gst_structure_free (set);
  if (!ok)
    goto done;

  if (s->params)
    json_node_unref (s->params);
  s->params = json_node_copy (node);
  s->params_fresh = TRUE;
  s->last_params_update_time = now_ms ();
  {
    gchar *json = g_strndup (text, len);
    JsonBuilder *b;

    /* elements of the filter see it as an out-of-band event */
    if (s->pipeline)
      gst_element_send_event (s->pipeline,
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_OOB,
              gst_structure_new ("trickle-params", "params", GST_TYPE_STRUCTURE,
                  params, "json", G_TYPE_STRING, json, NULL)));
    g_signal_emit (w, signals[SIGNAL_PARAMS_UPDATED], 0, params, json);
    g_free (json);
    b = event_begin ("params_updated");
    json_builder_set_member_name (b, "params");
    json_builder_add_value (b, json_node_copy (node));
    event_publish (s, b, "ai_stream_events");
  }
done:
  json_node_unref (node);
  g_value_unset (&v);
  return ok;
}

typedef struct
{
  Stream *stream;
  gchar *text;
  gsize len;
  gint64 seq;
} ControlDoc;

static gboolean
control_doc_dispatch (gpointer data)
{
  ControlDoc *d = data;
  Stream *s = d->stream;
  gchar *why = NULL;

  /* the worker thread joins the control thread before it frees the
   * stream, and this runs in the worker thread: the stream is alive */
  if (!s->stopping && !stream_update_params (s, d->text, d->len, &why)) {
    GST_WARNING ("control segment %" G_GINT64_FORMAT ": %s", d->seq, why);
    send_error_event (s, why);
    g_free (why);
  }
  return G_SOURCE_REMOVE;
}

static void
control_doc_free (gpointer data)
{
  ControlDoc *d = data;

  g_free (d->text);
  g_free (d);
}

/* {"keep":"alive"}, whatever its spacing */
static gboolean
is_keepalive (const gchar * text, gsize len)
{
  GValue v = G_VALUE_INIT;
  gboolean keep = FALSE;

  if (gst_trickle_json_parse (text, len, &v, NULL)) {
    if (G_VALUE_TYPE (&v) == GST_TYPE_STRUCTURE) {
      const GstStructure *st = gst_value_get_structure (&v);
      keep = gst_structure_n_fields (st) == 1
          && g_strcmp0 (gst_structure_get_string (st, "keep"), "alive") == 0;
    }
    g_value_unset (&v);
  }
  return keep;
}

static gpointer
control_thread (gpointer data)
{
  Stream *s = data;
  GByteArray *doc = g_byte_array_new ();
  GError *err = NULL;

  if (!gst_trickle_subscriber_start (s->control, &err)) {
    GST_WARNING ("control channel %s: %s", s->control_url, err->message);
    g_clear_error (&err);
    g_byte_array_unref (doc);
    return NULL;
  }
  for (;;) {
    GstTrickleSubscriberEvent ev = { 0, };

    if (!gst_trickle_subscriber_next_event (s->control, &ev, &err)) {
      if (err)
        GST_INFO ("control channel: %s", err->message);
      g_clear_error (&err);
      break;
    }
    if (ev.type == GST_TRICKLE_SUBSCRIBER_SEGMENT_START)
      g_byte_array_set_size (doc, 0);
    else if (ev.type == GST_TRICKLE_SUBSCRIBER_DATA)
      g_byte_array_append (doc, g_bytes_get_data (ev.data, NULL),
          g_bytes_get_size (ev.data));
    else if (ev.type == GST_TRICKLE_SUBSCRIBER_SEGMENT_END) {
      if (ev.complete && doc->len > 0
          && !is_keepalive ((const gchar *) doc->data, doc->len)) {
        ControlDoc *d = g_new0 (ControlDoc, 1);
        d->stream = s;
        d->text = g_strndup ((const gchar *) doc->data, doc->len);
        d->len = doc->len;
        d->seq = ev.seq;
        g_main_context_invoke_full (s->worker->context, G_PRIORITY_DEFAULT,
            control_doc_dispatch, d, control_doc_free);
      }
      g_byte_array_set_size (doc, 0);
    } else if (ev.type == GST_TRICKLE_SUBSCRIBER_EOS) {
      gst_trickle_subscriber_event_clear (&ev);
      break;
    }
    gst_trickle_subscriber_event_clear (&ev);
  }
  g_byte_array_unref (doc);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* data: `trickle-data` element messages, batched as PyTrickle does (one
 * JSON array per line, one line per segment, every data-interval; an
 * empty array after DATA_KEEPALIVE_US without data) */

static void
data_flush (Stream * s, gboolean keepalive)
{
  JsonArray *batch;
  JsonNode *node;
  gchar *text;

  g_mutex_lock (&s->data_lock);
  if (json_array_get_length (s->data_batch) == 0 && !keepalive) {
    g_mutex_unlock (&s->data_lock);
    return;
  }
  batch = s->data_batch;
  s->data_batch = json_array_new ();
  g_mutex_unlock (&s->data_lock);
  node = json_node_init_array (json_node_alloc (), batch);
  json_array_unref (batch);
  text = gst_trickle_json_node_to_string (node);
  json_node_unref (node);
  json_out_push (s->data, g_strconcat (text, "\n", NULL));
  g_free (text);
  s->data_last_sent = g_get_monotonic_time ();
}

static gpointer
data_thread (gpointer data)
{
  Stream *s = data;
  gint64 interval = s->data_interval * G_USEC_PER_SEC;

  g_mutex_lock (&s->stop_lock);
  while (!s->stopping_threads) {
    gint64 until = g_get_monotonic_time () + MAX (interval, 1000);
    while (!s->stopping_threads
        && g_cond_wait_until (&s->stop_cond, &s->stop_lock, until));
    g_mutex_unlock (&s->stop_lock);
    data_flush (s, g_get_monotonic_time () - s->data_last_sent >=
        DATA_KEEPALIVE_US);
    g_mutex_lock (&s->stop_lock);
  }
  g_mutex_unlock (&s->stop_lock);
  data_flush (s, FALSE);
  return NULL;
}

/* a `trickle-data` element message: a "json" string field is sent as the
 * JSON it holds, a "text" string field as a JSON string, anything else as
 * an object of the structure's fields */
static void
data_message (Stream * s, const GstStructure * st)
{
  const gchar *json = gst_structure_get_string (st, "json");
  const gchar *text = gst_structure_get_string (st, "text");
  JsonNode *node = NULL;

  if (!s->data)
    return;
  if (json) {
    gchar *why = NULL;
    node = parse_json (json, strlen (json), NULL, &why);
    if (!node) {
      GST_WARNING ("trickle-data message: %s", why);
      g_free (why);
      return;
    }
  } else if (text) {
    node = json_node_init_string (json_node_alloc (), text);
  } else {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_set_boxed (&v, st);
    node = gst_trickle_json_value_to_node (&v);
    g_value_unset (&v);
  }
  g_mutex_lock (&s->data_lock);
  json_array_add_element (s->data_batch, node);
  g_mutex_unlock (&s->data_lock);
}

/* ------------------------------------------------------------------------ */
/* the media pipeline */

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Stream *s = g_object_get_data (G_OBJECT (pad), "trickle-worker-stream");
  gint *counter = data;

  if (!s)
    return GST_PAD_PROBE_OK;
  if (counter == &s->frames_in || counter == &s->audio_in) {
    g_atomic_int_inc (counter);
    stamp_now (&s->last_input_mono);
  } else {
    g_atomic_int_inc (counter);
    if (counter == &s->frames_out)
      stamp_now (&s->last_output_mono);
  }
  return GST_PAD_PROBE_OK;
}

static void
add_count_probe (Stream * s, GstElement * e, const gchar * pad_name,
    gint * counter)
{
  GstPad *pad = gst_element_get_static_pad (e, pad_name);

  g_object_set_data (G_OBJECT (pad), "trickle-worker-stream", s);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, counter,
      NULL);
  gst_object_unref (pad);
}

static GstPadProbeReturn
segment_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Stream *s = g_object_get_data (G_OBJECT (pad), "trickle-worker-stream");
  gboolean input = GPOINTER_TO_INT (data);
  gint *flag = input ? &s->first_in_sent : &s->first_out_sent;

  if (g_atomic_int_compare_and_exchange (flag, 0, 1))
    send_simple_event (s, input ? "runner_receive_first_ingest_segment" :
        "runner_send_first_processed_segment", "stream_trace");
  stamp_now (input ? &s->last_input_mono : &s->last_output_mono);
  return GST_PAD_PROBE_OK;
}

static GstElement *
make_filter (GstTrickleWorker * w, Stream * s, const gchar * media,
    GError ** error)
{
  GstElement *filter = NULL;

  g_signal_emit (w, signals[SIGNAL_CREATE_FILTER], 0, media, s->start_params,
      &filter);
  if (filter) {
    /* (transfer full): a floating reference, or a plain one */
    if (g_object_is_floating (filter))
      gst_object_ref_sink (filter);
    return filter;
  }
  /* the default handler parses the launch lines */
  g_mutex_lock (&w->lock);
  {
    const gchar *desc = g_str_equal (media, "video") ? w->filter :
        w->audio_filter;
    if (desc && *desc)
      filter = gst_parse_bin_from_description (desc, TRUE, error);
    else
      filter = gst_element_factory_make ("identity", NULL);
  }
  g_mutex_unlock (&w->lock);
  if (filter)
    gst_object_ref_sink (filter);
  return filter;
}

/* adds the elements not in @pipeline yet, then links them in turn */
static GstElement *
link_chain (GstElement * pipeline, GError ** error, ...)
{
  va_list args;
  GPtrArray *chain = g_ptr_array_new ();
  GstElement *e, *first;
  guint i;

  va_start (args, error);
  while ((e = va_arg (args, GstElement *))) {
    if (!GST_OBJECT_PARENT (e))
      gst_bin_add (GST_BIN (pipeline), e);
    g_ptr_array_add (chain, e);
  }
  va_end (args);
  first = chain->len ? g_ptr_array_index (chain, 0) : NULL;
  for (i = 1; i < chain->len && first; i++) {
    GstElement *prev = g_ptr_array_index (chain, i - 1);
    e = g_ptr_array_index (chain, i);
    if (!gst_element_link (prev, e)) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "cannot link %s to %s", GST_ELEMENT_NAME (prev),
          GST_ELEMENT_NAME (e));
      first = NULL;
    }
  }
  g_ptr_array_unref (chain);
  return first;
}

static GstElement *
element (const gchar * factory, const gchar * name)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e)
    GST_ERROR ("no element %s", factory);
  return e;
}

static GstElement *
parse_element (const gchar * desc, const gchar * name, GError ** error)
{
  GstElement *e = gst_parse_bin_from_description_full (desc, TRUE, NULL,
      GST_PARSE_FLAG_NO_SINGLE_ELEMENT_BINS, error);

  if (e && name)
    gst_object_set_name (GST_OBJECT (e), name);
  return e;
}

/* The output's keyframes: tricklesink asks upstream for one every
 * keyframe-interval of running time (a force-key-unit event, which
 * mpegtsmux passes to the encoder), whatever the frame rate; the
 * encoder's own GOP (key-int-max, only settable before it starts) is the
 * interval at 60 frames/s, so that it never adds keyframes of its own at
 * the usual rates. */
static void
set_gop (Stream * s, GstElement * enc)
{
  GstElement *target = NULL;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (enc), "key-int-max"))
    target = gst_object_ref (enc);
  else if (GST_IS_BIN (enc)) {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (enc));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
      GstElement *e = g_value_get_object (&item);
      if (!target && g_object_class_find_property (G_OBJECT_GET_CLASS (e),
              "key-int-max"))
        target = gst_object_ref (e);
      g_value_reset (&item);
    }
    g_value_unset (&item);
    gst_iterator_free (it);
  }
  if (target) {
    GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS
        (target), "key-int-max");
    GValue v = G_VALUE_INIT, gop = G_VALUE_INIT;
    g_value_init (&gop, G_TYPE_INT);
    g_value_set_int (&gop, MAX (1, (gint) (s->keyframe_interval * 60 + 0.5)));
    g_value_init (&v, pspec->value_type);
    if (g_value_transform (&gop, &v)) {
      g_param_value_validate (pspec, &v);
      g_object_set_property (G_OBJECT (target), "key-int-max", &v);
    }
    g_value_unset (&v);
    g_value_unset (&gop);
    gst_object_unref (target);
  }
}

/* The input's keyframes come down as force-key-unit events (the parser
 * emits one per IDR): they would make the output's keyframes follow the
 * input's. The output keeps its own cadence (keyframe-interval). */
static GstPadProbeReturn
drop_key_requests (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM
      && gst_event_has_name (event, "GstForceKeyUnit"))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

/* decodebin exposed a raw stream: its branch to the muxer */
static void
on_pad_added (GstElement * decodebin, GstPad * pad, Stream * s)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *name;
  gboolean video;
  GstElement *queue, *conv1, *filter, *conv2, *enc, *head, *last;
  GstElement *extra = NULL, *capsf = NULL, *resample1 = NULL, *resample2 = NULL;
  GError *err = NULL;
  GstPad *sinkpad, *srcpad, *muxpad;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  video = g_str_has_prefix (name, "video/");
  if (!video && !g_str_has_prefix (name, "audio/")) {
    gst_caps_unref (caps);
    return;
  }
  if (g_object_get_data (G_OBJECT (decodebin), video ? "has-video" :
          "has-audio")) {
    /* one of each: a second video or audio stream is not used */
    gst_caps_unref (caps);
    return;
  }
  g_object_set_data (G_OBJECT (decodebin), video ? "has-video" : "has-audio",
      GINT_TO_POINTER (1));

  filter = s->filters[video ? 0 : 1];
  enc = s->encoders[video ? 0 : 1];
  if (video) {
    extra = element ("h264parse", NULL);
    g_object_set (extra, "config-interval", -1, NULL);
  } else {
    GstCaps *c = gst_caps_from_string ("audio/x-raw, rate=(int)48000");
    capsf = element ("capsfilter", NULL);
    g_object_set (capsf, "caps", c, NULL);
    gst_caps_unref (c);
    resample1 = element ("audioresample", NULL);
    resample2 = element ("audioresample", NULL);
  }
  gst_caps_unref (caps);

  queue = element ("queue", NULL);
  g_object_set (queue, "max-size-time", (guint64) 2 * GST_SECOND,
      "max-size-bytes", 0, "max-size-buffers", 0, NULL);
  conv1 = element (video ? "videoconvert" : "audioconvert", NULL);
  conv2 = element (video ? "videoconvert" : "audioconvert", NULL);

  if (video)
    head = link_chain (s->pipeline, &err, queue, conv1, filter, conv2, enc,
        extra, NULL);
  else
    head = link_chain (s->pipeline, &err, queue, conv1, resample1, filter,
        conv2, resample2, capsf, enc, NULL);
  last = video ? extra : enc;
  if (!head) {
    GST_ELEMENT_ERROR (decodebin, CORE, NEGOTIATION,
        ("Cannot link the %s branch", video ? "video" : "audio"),
        ("%s", err->message));
    g_clear_error (&err);
    return;
  }
  srcpad = gst_element_get_static_pad (last, "src");
  muxpad = gst_element_request_pad_simple (s->mux, "sink_%d");
  if (!muxpad || gst_pad_link (srcpad, muxpad) != GST_PAD_LINK_OK) {
    GST_ELEMENT_ERROR (decodebin, CORE, NEGOTIATION,
        ("Cannot link the %s branch to the muxer", video ? "video" : "audio"),
        (NULL));
  }
  if (muxpad)
    gst_object_unref (muxpad);
  gst_object_unref (srcpad);
  g_atomic_int_inc (&s->branches);

  add_count_probe (s, queue, "sink", video ? &s->frames_in : &s->audio_in);
  add_count_probe (s, last, "src", video ? &s->frames_out : &s->audio_out);

  sinkpad = gst_element_get_static_pad (queue, "sink");
  if (video)
    gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        drop_key_requests, NULL, NULL);
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    GST_ELEMENT_ERROR (decodebin, CORE, NEGOTIATION,
        ("Cannot link the decoder's %s", video ? "video" : "audio"), (NULL));
  gst_object_unref (sinkpad);

  /* downstream first */
  {
    GstElement *chain[] = { last, video ? enc : capsf, video ? conv2 :
          resample2, video ? filter : conv2, video ? conv1 : filter,
      video ? queue : resample1, video ? NULL : conv1, video ? NULL : queue
    };
    guint i;
    for (i = 0; i < G_N_ELEMENTS (chain); i++)
      if (chain[i])
        gst_element_sync_state_with_parent (chain[i]);
  }
}

/* parsers and decoders set for latency: a frame out as soon as it is in
 * (the parsers after tsdemux told that each buffer is a whole frame) */
static void
on_deep_element_added (GstBin * bin, GstBin * sub, GstElement * e,
    gpointer data)
{
  GstElementFactory *f = gst_element_get_factory (e);

  _gst_trickle_parse_whole_frames (e);
  if (f && g_str_has_prefix (GST_OBJECT_NAME (f), "avdec_h26")
      && g_object_class_find_property (G_OBJECT_GET_CLASS (e), "thread-type"))
    gst_util_set_object_arg (G_OBJECT (e), "thread-type", "slice");
}

static gboolean bus_message (GstBus * bus, GstMessage * msg, gpointer data);

/* the bus watch is destroyed in the worker thread, before the pipeline */
static void
stream_release_pipeline (Stream * s)
{
  if (s->bus_source) {
    g_source_destroy (s->bus_source);
    g_source_unref (s->bus_source);
    s->bus_source = NULL;
  }
  gst_clear_object (&s->pipeline);
}

static GstElement *
build_pipeline (Stream * s, GError ** error)
{
  GstTrickleWorker *w = s->worker;
  GstElement *pipeline, *src, *decode, *sink;
  GstPad *pad;

  pipeline = gst_pipeline_new ("trickle-worker");
  s->pipeline = pipeline;
  src = element ("tricklesrc", "input");
  decode = element ("decodebin", "decode");
  s->mux = element ("mpegtsmux", "mux");
  if (s->publish_url && *s->publish_url) {
    sink = element ("tricklesink", "output");
    if (sink)
      g_object_set (sink, "location", s->publish_url, "sync", FALSE,
          "async", FALSE, "keyframe-interval", (guint64)
          (s->keyframe_interval * GST_SECOND), NULL);
  } else {
    sink = element ("fakesink", "output");
    if (sink)
      g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  }
  if (!src || !decode || !s->mux || !sink) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "missing elements (tricklesrc, decodebin, mpegtsmux, tricklesink)");
    gst_clear_object (&src);
    gst_clear_object (&decode);
    gst_clear_object (&s->mux);
    gst_clear_object (&sink);
    return NULL;
  }
  /* a channel not made yet is waited for as long as input may be missing */
  g_object_set (src, "location", s->subscribe_url, "start-seq", (gint64) - 1,
      "wait-timeout", s->input_timeout > 0 ?
      (gint) MIN (s->input_timeout + 0.999, G_MAXINT / 1000) : -1, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, decode, s->mux, sink, NULL);
  if (!gst_element_link (src, decode) || !gst_element_link (s->mux, sink)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link the input or the output");
    return NULL;
  }
  /* the filters and encoders now, so that the start's params can set
   * them; decodebin's pads link them */
  {
    guint i;
    for (i = 0; i < 2; i++) {
      const gchar *media = i == 0 ? "video" : "audio";
      gchar *name = g_strdup_printf ("%s-encoder", media);
      s->filters[i] = make_filter (w, s, media, error);
      if (!s->filters[i]) {
        g_free (name);
        return NULL;
      }
      gst_object_set_name (GST_OBJECT (s->filters[i]), i == 0 ?
          "video-filter" : "audio-filter");
      gst_bin_add (GST_BIN (pipeline), s->filters[i]);
      gst_object_unref (s->filters[i]);
      g_mutex_lock (&w->lock);
      s->encoders[i] = parse_element (i == 0 ? w->video_encoder :
          w->audio_encoder, name, error);
      g_mutex_unlock (&w->lock);
      g_free (name);
      if (!s->encoders[i])
        return NULL;
      if (i == 0)
        set_gop (s, s->encoders[i]);
      gst_bin_add (GST_BIN (pipeline), s->encoders[i]);
    }
  }
  g_signal_connect (decode, "pad-added", G_CALLBACK (on_pad_added), s);
  g_signal_connect (pipeline, "deep-element-added",
      G_CALLBACK (on_deep_element_added), NULL);

  pad = gst_element_get_static_pad (src, "src");
  g_object_set_data (G_OBJECT (pad), "trickle-worker-stream", s);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, segment_probe,
      GINT_TO_POINTER (TRUE), NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (sink, "sink");
  g_object_set_data (G_OBJECT (pad), "trickle-worker-stream", s);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, segment_probe, GINT_TO_POINTER (FALSE),
      NULL);
  gst_object_unref (pad);

  {
    GstBus *bus = gst_element_get_bus (pipeline);
    s->bus_source = gst_bus_create_watch (bus);
    g_source_set_callback (s->bus_source, (GSourceFunc) bus_message, s, NULL);
    g_source_attach (s->bus_source, w->context);
    gst_object_unref (bus);
  }
  return pipeline;
}

static gboolean
bus_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  Stream *s = data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL, *text;
      gst_message_parse_error (msg, &err, &dbg);
      text = g_strdup_printf ("%s: %s", GST_OBJECT_NAME (msg->src),
          err->message);
      if (s->stopping || (g_error_matches (err, GST_RESOURCE_ERROR,
                  GST_RESOURCE_ERROR_NOT_FOUND)
              && (g_str_equal (GST_OBJECT_NAME (msg->src), "output")
                  || g_str_equal (GST_OBJECT_NAME (msg->src), "input")))) {
        /* the orchestrator ends a stream by closing its channels: the end,
         * not a failure; and an error in the wake of a stop is part of the
         * end */
        GST_INFO ("channel closed: %s", text);
        stream_stop (s, "channel closed", FALSE, NULL);
        g_free (text);
        g_free (dbg);
        g_clear_error (&err);
        break;
      }
      GST_WARNING ("stream error: %s (%s)", text, GST_STR_NULL (dbg));
      g_mutex_lock (&s->worker->lock);
      g_free (s->worker->last_error);
      s->worker->last_error = g_strdup (text);
      s->worker->last_error_time = now_ms ();
      g_mutex_unlock (&s->worker->lock);
      if (!s->stopping)
        send_error_event (s, text);
      stream_stop (s, text, TRUE, NULL);
      g_free (text);
      g_free (dbg);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_EOS:
      g_mutex_lock (&s->stop_lock);
      s->eos = TRUE;
      g_cond_broadcast (&s->stop_cond);
      g_mutex_unlock (&s->stop_lock);
      /* the input ended (its channel was closed) */
      stream_stop (s, "end of input", FALSE, NULL);
      break;
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *st = gst_message_get_structure (msg);
      if (st && gst_structure_has_name (st, "trickle-data"))
        data_message (s, st);
      break;
    }
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      GST_INFO ("stream warning from %s: %s", GST_OBJECT_NAME (msg->src),
          err->message);
      g_clear_error (&err);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* every second: the input timeout, status and heartbeat events */
static gboolean
stream_tick (gpointer data)
{
  Stream *s = data;
  gint64 now = g_get_monotonic_time ();
  gint64 last = stamp_mono (&s->last_input_mono);

  if (s->stopping)
    return G_SOURCE_CONTINUE;
  if (!last)
    last = s->start_mono;
  /* (no input expected without a subscribe_url) */
  if (s->pipeline && s->input_timeout > 0
      && now - last > (gint64) (s->input_timeout * G_USEC_PER_SEC)) {
    GST_INFO ("no input for %.1f s: stopping", s->input_timeout);
    stream_stop (s, "input timeout", FALSE, NULL);
    return G_SOURCE_CONTINUE;
  }
  if (now >= s->next_status_mono) {
    update_fps (s);
    send_status (s);
    send_heartbeat (s);
    s->next_status_mono = now + (gint64) (s->status_interval * G_USEC_PER_SEC);
  }
  return G_SOURCE_CONTINUE;
}

static void
stream_free (Stream * s)
{
  g_free (s->subscribe_url);
  g_free (s->publish_url);
  g_free (s->control_url);
  g_free (s->events_url);
  g_free (s->data_url);
  g_free (s->request_id);
  g_free (s->manifest_id);
  g_free (s->stream_id);
  g_free (s->stop_reason);
  g_free (s->pipeline_name);
  if (s->start_params)
    gst_structure_free (s->start_params);
  if (s->params)
    json_node_unref (s->params);
  if (s->data_batch)
    json_array_unref (s->data_batch);
  g_mutex_clear (&s->data_lock);
  g_mutex_clear (&s->stop_lock);
  g_cond_clear (&s->stop_cond);
  g_free (s);
}

static void
answer_json (SoupServerMessage * msg, guint status, gchar * json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, json, strlen (json));
}

static gchar *
pytrickle_answer (const gchar * status, const gchar * message)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, status);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  return builder_to_string (b);
}

/* back in the worker thread once the teardown thread is done */
static gboolean
stream_finish (gpointer data)
{
  Stream *s = data;
  GstTrickleWorker *w = s->worker;
  GList *l;

  g_thread_join (s->teardown);
  s->teardown = NULL;
  stream_release_pipeline (s);
  if (w->stream == s)
    w->stream = NULL;
  set_health (w, s->failed ? GST_TRICKLE_WORKER_ERROR :
      GST_TRICKLE_WORKER_IDLE);
  for (l = s->waiting; l; l = l->next) {
    answer_json (l->data, SOUP_STATUS_OK,
        pytrickle_answer ("success", "Stream stopped successfully"));
    soup_server_message_unpause (l->data);
    g_object_unref (l->data);
  }
  g_list_free (s->waiting);
  g_signal_emit (w, signals[SIGNAL_STREAM_STOPPED], 0, s->stop_reason);
  GST_INFO ("stream stopped: %s", s->stop_reason);
  stream_free (s);
  return G_SOURCE_REMOVE;
}

static gpointer
teardown_thread (gpointer data)
{
  Stream *s = data;
  gboolean eos = TRUE;

  /* the end of the input flows to the output (tricklesink ends its
   * channel), unless the stream failed or no media was linked yet */
  if (s->pipeline && !s->failed && g_atomic_int_get (&s->branches) > 0) {
    gint64 until = g_get_monotonic_time () + STOP_EOS_WAIT_US;
    gst_element_send_event (s->pipeline, gst_event_new_eos ());
    g_mutex_lock (&s->stop_lock);
    while (!s->eos && g_cond_wait_until (&s->stop_cond, &s->stop_lock, until));
    eos = s->eos;
    g_mutex_unlock (&s->stop_lock);
  }
  if (s->pipeline)
    gst_element_set_state (s->pipeline, GST_STATE_NULL);
  /* the end did not reach the output in time (a loaded machine, a slow
   * server): the channel ends anyway, or its subscribers would wait for
   * it for ever */
  if (!eos && !s->failed && g_atomic_int_get (&s->branches) > 0
      && s->publish_url && *s->publish_url) {
    GST_WARNING ("the end did not reach %s in time: deleting it",
        s->publish_url);
    _gst_trickle_client_delete_channel (s->publish_url);
  }

  g_mutex_lock (&s->stop_lock);
  s->stopping_threads = TRUE;
  g_cond_broadcast (&s->stop_cond);
  g_mutex_unlock (&s->stop_lock);
  if (s->control) {
    gst_trickle_subscriber_unlock (s->control);
    g_thread_join (s->control_thread);
    gst_trickle_subscriber_stop (s->control);
    g_clear_object (&s->control);
  }
  if (s->data_thread)
    g_thread_join (s->data_thread);
  json_out_free (s->data);
  s->data = NULL;
  json_out_free (s->events);
  s->events = NULL;

  g_main_context_invoke (s->worker->context, stream_finish, s);
  return NULL;
}

/* ends the stream (once): @msg, when given, is answered when it is gone */
static void
stream_stop (Stream * s, const gchar * reason, gboolean failed,
    SoupServerMessage * msg)
{
  if (msg) {
    soup_server_message_pause (msg);
    s->waiting = g_list_append (s->waiting, g_object_ref (msg));
  }
  if (s->stopping)
    return;
  s->failed = failed;
  s->stopping = TRUE;
  s->stop_reason = g_strdup (reason);
  GST_INFO ("stopping the stream: %s", reason);
  if (s->timer) {
    g_source_destroy (s->timer);
    g_source_unref (s->timer);
    s->timer = NULL;
  }
  /* the last status says why, then the stop (PyTrickle's event) */
  update_fps (s);
  send_status (s);
  send_simple_event (s, "stream_stopped", "ai_stream_events");
  s->teardown = g_thread_new ("trickle-worker-stop", teardown_thread, s);
}

/* ------------------------------------------------------------------------ */
/* the start request */

typedef struct
{
  gchar *subscribe_url, *publish_url, *control_url, *events_url, *data_url;
  gchar *request_id, *manifest_id, *stream_id, *model_id;
  JsonNode *params;
} StartRequest;

static void
start_request_clear (StartRequest * r)
{
  g_free (r->subscribe_url);
  g_free (r->publish_url);
  g_free (r->control_url);
  g_free (r->events_url);
  g_free (r->data_url);
  g_free (r->request_id);
  g_free (r->manifest_id);
  g_free (r->stream_id);
  g_free (r->model_id);
  if (r->params)
    json_node_unref (r->params);
}

static gboolean
get_string_member (JsonObject * obj, const gchar * name, gchar ** out,
    gchar ** why)
{
  JsonNode *n = json_object_get_member (obj, name);

  if (!n || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING) {
    *why = g_strdup_printf ("%s is not a string", name);
    return FALSE;
  }
  *out = g_strdup (json_node_get_string (n));
  return TRUE;
}

static gboolean
url_ok (const gchar * url)
{
  return !url || !*url || g_str_has_prefix (url, "http://")
      || g_str_has_prefix (url, "https://");
}

static gboolean
parse_start (const gchar * body, gsize len, StartRequest * r, gchar ** why)
{
  JsonNode *root = parse_json (body, len, NULL, why);
  JsonObject *obj;
  JsonNode *params;
  static const gchar *names[] = { "subscribe_url", "publish_url",
    "control_url", "events_url", "data_url", "gateway_request_id",
    "manifest_id", "stream_id", "model_id"
  };
  gchar **fields[] = { &r->subscribe_url, &r->publish_url, &r->control_url,
    &r->events_url, &r->data_url, &r->request_id, &r->manifest_id,
    &r->stream_id, &r->model_id
  };
  guint i;
  gboolean ok = FALSE;

  if (!root)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    *why = g_strdup ("the body is not a JSON object");
    goto done;
  }
  obj = json_node_get_object (root);
  for (i = 0; i < G_N_ELEMENTS (names); i++)
    if (!get_string_member (obj, names[i], fields[i], why))
      goto done;
  for (i = 0; i < 5; i++)
    if (!url_ok (*fields[i])) {
      *why = g_strdup_printf ("%s is not an http(s) URL", names[i]);
      goto done;
    }
  params = json_object_get_member (obj, "params");
  if (params && JSON_NODE_HOLDS_VALUE (params)
      && json_node_get_value_type (params) == G_TYPE_STRING) {
    /* the BYOC user API's form: the params object as a JSON string */
    const gchar *text = json_node_get_string (params);
    gchar *reason = NULL;
    r->params = *text ? parse_json (text, strlen (text), NULL, &reason) : NULL;
    if (*text && !r->params) {
      *why = g_strdup_printf ("params: %s", reason);
      g_free (reason);
      goto done;
    }
  } else if (params && !JSON_NODE_HOLDS_NULL (params)) {
    r->params = json_node_copy (params);
  }
  if (r->params && !JSON_NODE_HOLDS_OBJECT (r->params)) {
    *why = g_strdup ("params is not a JSON object");
    goto done;
  }
  ok = TRUE;
done:
  json_node_unref (root);
  return ok;
}

static gboolean
stream_start (GstTrickleWorker * w, StartRequest * r, gchar ** why)
{
  Stream *s = g_new0 (Stream, 1);
  GError *err = NULL;

  s->worker = w;
  s->subscribe_url = g_steal_pointer (&r->subscribe_url);
  s->publish_url = g_steal_pointer (&r->publish_url);
  s->control_url = g_steal_pointer (&r->control_url);
  s->events_url = g_steal_pointer (&r->events_url);
  s->data_url = g_steal_pointer (&r->data_url);
  s->request_id = g_steal_pointer (&r->request_id);
  s->manifest_id = g_steal_pointer (&r->manifest_id);
  s->stream_id = g_steal_pointer (&r->stream_id);
  s->params = r->params;
  r->params = NULL;
  g_mutex_lock (&w->lock);
  s->input_timeout = w->input_timeout;
  s->status_interval = w->status_interval;
  s->data_interval = w->data_interval;
  s->keyframe_interval = w->keyframe_interval;
  s->pipeline_name = g_strdup (w->model_id ? w->model_id :
      DEFAULT_PIPELINE_NAME);
  g_mutex_unlock (&w->lock);
  s->start_time = now_ms ();
  s->start_mono = s->fps_mono = g_get_monotonic_time ();
  s->next_status_mono = s->start_mono + (gint64) (s->status_interval *
      G_USEC_PER_SEC);
  s->params_fresh = s->params != NULL;
  if (s->params)
    s->last_params_update_time = s->start_time;
  g_mutex_init (&s->data_lock);
  g_mutex_init (&s->stop_lock);
  g_cond_init (&s->stop_cond);
  s->data_batch = json_array_new ();
  s->data_last_sent = g_get_monotonic_time ();

  /* the params as a structure, once, for create-filter and the map */
  if (s->params) {
    gchar *text = gst_trickle_json_node_to_string (s->params);
    GValue v = G_VALUE_INIT;
    if (gst_trickle_json_parse (text, -1, &v, NULL)) {
      s->start_params = gst_structure_copy (gst_value_get_structure (&v));
      g_value_unset (&v);
    }
    g_free (text);
  }
  if (!s->start_params)
    s->start_params = gst_structure_new_empty ("params");
  s->events = json_out_new (s->events_url, "application/json");

  /* without a subscribe_url (BYOC without video ingress) there is no media:
   * the stream is its control, events and data channels */
  if (s->subscribe_url && *s->subscribe_url && !build_pipeline (s, &err))
    goto failed;

  /* the start's params through the map, before any data flows: all or
   * nothing, a bad one refuses the start */
  if (s->params && s->pipeline) {
    GstStructure *set = params_settings (s, s->start_params, why);

    if (set && gst_structure_n_fields (set) > 0
        && !gst_trickle_json_apply_settings (s->pipeline, set, &err)) {
      *why = g_strdup_printf ("params: %s", err->message);
      g_clear_error (&err);
    }
    if (set)
      gst_structure_free (set);
    if (*why) {
      stream_release_pipeline (s);
      json_out_free_full (s->events, FALSE);
      stream_free (s);
      return FALSE;
    }
  }

  send_simple_event (s, "runner_receive_stream_request", "stream_trace");
  if (s->control_url && *s->control_url) {
    s->control = gst_trickle_subscriber_new (s->control_url);
    g_object_set (s->control, "start-seq", (gint64) - 2, "retries", 5, NULL);
    s->control_thread = g_thread_new ("trickle-worker-control",
        control_thread, s);
  }
  if (s->data_url && *s->data_url) {
    s->data = json_out_new (s->data_url, "application/jsonl");
    s->data_thread = g_thread_new ("trickle-worker-data", data_thread, s);
  }

  w->stream = s;
  set_health (w, GST_TRICKLE_WORKER_OK);
  g_mutex_lock (&w->lock);
  g_clear_pointer (&w->last_error, g_free);
  w->last_error_time = 0;
  g_mutex_unlock (&w->lock);
  if (s->pipeline && gst_element_set_state (s->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error message on the bus says why, and stops the stream */
    GST_WARNING ("the stream's pipeline failed to start");
  }
  s->timer = g_timeout_source_new (250);
  g_source_set_callback (s->timer, stream_tick, s, NULL);
  g_source_attach (s->timer, w->context);
  send_heartbeat (s);
  if (s->pipeline)
    g_signal_emit (w, signals[SIGNAL_STREAM_STARTED], 0, s->pipeline);
  GST_INFO ("stream started: %s -> %s", GST_STR_NULL (s->subscribe_url),
      GST_STR_NULL (s->publish_url));
  return TRUE;

failed:
  *why = g_strdup (err->message);
  g_clear_error (&err);
  stream_release_pipeline (s);
  json_out_free_full (s->events, FALSE);
  stream_free (s);
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* the HTTP API */

typedef enum
{
  API_AI_RUNNER,                /* /live-video-to-video: ai-runner's answers */
  API_PYTRICKLE,                /* /stream/...: PyTrickle's */
} ApiStyle;

/* an error in the style of the path's peer */
static void
answer_error (SoupServerMessage * msg, ApiStyle style, guint status,
    const gchar * message)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  if (style == API_AI_RUNNER) {
    json_builder_set_member_name (b, "detail");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "msg");
    json_builder_add_string_value (b, message);
    json_builder_end_object (b);
  } else {
    json_builder_set_member_name (b, "status");
    json_builder_add_string_value (b, "error");
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, message);
  }
  json_builder_end_object (b);
  answer_json (msg, status, builder_to_string (b));
}

static void
add_current_state (GstTrickleWorker * w, JsonBuilder * b)
{
  GstTrickleWorkerHealth h = gst_trickle_worker_get_health (w);

  json_builder_set_member_name (b, "current_state");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, health_name (h));
  json_builder_set_member_name (b, "pipeline_ready");
  json_builder_add_boolean_value (b, h != GST_TRICKLE_WORKER_LOADING);
  json_builder_set_member_name (b, "active_streams");
  json_builder_add_int_value (b, w->stream ? 1 : 0);
  g_mutex_lock (&w->lock);
  add_string_or_null (b, "error_message", w->last_error);
  g_mutex_unlock (&w->lock);
  json_builder_end_object (b);
}

static gboolean
authorized (GstTrickleWorker * w, SoupServerMessage * msg, ApiStyle style)
{
  const gchar *auth;
  gboolean ok;

  g_mutex_lock (&w->lock);
  if (!w->auth_token || !*w->auth_token) {
    g_mutex_unlock (&w->lock);
    return TRUE;
  }
  auth = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");
  ok = auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0
      && g_str_equal (auth + 7, w->auth_token);
  g_mutex_unlock (&w->lock);
  if (!ok) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "WWW-Authenticate", "Bearer");
    answer_error (msg, style, SOUP_STATUS_UNAUTHORIZED,
        "Invalid bearer token.");
  }
  return ok;
}

static void
handle_start (GstTrickleWorker * w, SoupServerMessage * msg, ApiStyle style,
    const gchar * body, gsize len)
{
  StartRequest r = { 0, };
  gchar *why = NULL, *mismatch;
  GstTrickleWorkerHealth h = gst_trickle_worker_get_health (w);

  if (h == GST_TRICKLE_WORKER_LOADING || w->shutting_down) {
    answer_error (msg, style, SOUP_STATUS_SERVICE_UNAVAILABLE,
        w->shutting_down ? "The worker is stopping" :
        "Pipeline is still initializing. Please wait for IDLE status.");
    return;
  }
  if (w->stream) {
    answer_error (msg, style, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "Pipeline is still in use");
    return;
  }
  if (!parse_start (body, len, &r, &why)) {
    gchar *m = g_strdup_printf ("Error starting stream: %s", why);
    answer_error (msg, style, SOUP_STATUS_BAD_REQUEST, m);
    g_free (m);
    g_free (why);
    start_request_clear (&r);
    return;
  }
  g_mutex_lock (&w->lock);
  mismatch = w->model_id && r.model_id && *r.model_id
      && !g_str_equal (w->model_id, r.model_id) ?
      g_strdup_printf ("pipeline configured with %s but called with %s.",
      w->model_id, r.model_id) : NULL;
  g_mutex_unlock (&w->lock);
  if (mismatch) {
    gchar *m = mismatch;
    answer_error (msg, style, SOUP_STATUS_BAD_REQUEST, m);
    g_free (m);
    start_request_clear (&r);
    return;
  }
  {
    /* what the answer repeats, before the stream takes the strings */
    gchar *request_id = g_strdup (r.request_id ? r.request_id : "");
    gchar *manifest_id = g_strdup (r.manifest_id ? r.manifest_id : "");
    gchar *urls[4] = { g_strdup (r.subscribe_url), g_strdup (r.publish_url),
      g_strdup (r.control_url), g_strdup (r.events_url)
    };
    static const gchar *url_names[4] = { "subscribe_url", "publish_url",
      "control_url", "events_url"
    };
    guint i;

    if (!stream_start (w, &r, &why)) {
      gchar *m = g_strdup_printf ("Error starting stream: %s", why);
      answer_error (msg, style, SOUP_STATUS_BAD_REQUEST, m);
      g_free (m);
      g_free (why);
    } else {
      JsonBuilder *b = json_builder_new ();
      json_builder_begin_object (b);
      if (style == API_AI_RUNNER) {
        for (i = 0; i < 4; i++) {
          json_builder_set_member_name (b, url_names[i]);
          json_builder_add_string_value (b, urls[i] ? urls[i] : "");
        }
        json_builder_set_member_name (b, "request_id");
        json_builder_add_string_value (b, request_id);
        json_builder_set_member_name (b, "manifest_id");
        json_builder_add_string_value (b, manifest_id);
      } else {
        json_builder_set_member_name (b, "status");
        json_builder_add_string_value (b, "success");
        json_builder_set_member_name (b, "message");
        json_builder_add_string_value (b, "Stream started successfully");
        json_builder_set_member_name (b, "request_id");
        json_builder_add_string_value (b, request_id);
        add_current_state (w, b);
      }
      json_builder_end_object (b);
      answer_json (msg, SOUP_STATUS_OK, builder_to_string (b));
    }
    for (i = 0; i < 4; i++)
      g_free (urls[i]);
    g_free (request_id);
    g_free (manifest_id);
  }
  start_request_clear (&r);
}

static void
handle_status (GstTrickleWorker * w, SoupServerMessage * msg)
{
  JsonBuilder *b = json_builder_new ();
  GstTrickleWorkerHealth h = gst_trickle_worker_get_health (w);
  Stream *s = w->stream;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, health_name (h));
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, health_name (h));
  g_mutex_lock (&w->lock);
  add_string_or_null (b, "error_message", w->last_error);
  g_mutex_unlock (&w->lock);
  json_builder_set_member_name (b, "pipeline_ready");
  json_builder_add_boolean_value (b, h != GST_TRICKLE_WORKER_LOADING);
  json_builder_set_member_name (b, "active_streams");
  json_builder_add_int_value (b, s ? 1 : 0);
  json_builder_set_member_name (b, "startup_complete");
  json_builder_add_boolean_value (b, h != GST_TRICKLE_WORKER_LOADING);
  json_builder_set_member_name (b, "pipeline_state");
  json_builder_add_string_value (b, s ? stream_state (s) : "OFFLINE");
  json_builder_set_member_name (b, "client_active");
  json_builder_add_boolean_value (b, s != NULL);
  if (s) {
    json_builder_set_member_name (b, "client_running");
    json_builder_add_boolean_value (b, !s->stopping);
    json_builder_set_member_name (b, "fps");
    add_fps_object (s, b);
    json_builder_set_member_name (b, "current_params");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "subscribe_url");
    json_builder_add_string_value (b, s->subscribe_url ? s->subscribe_url : "");
    json_builder_set_member_name (b, "publish_url");
    json_builder_add_string_value (b, s->publish_url ? s->publish_url : "");
    json_builder_set_member_name (b, "gateway_request_id");
    json_builder_add_string_value (b, s->request_id ? s->request_id : "");
    json_builder_set_member_name (b, "params");
    if (s->params)
      json_builder_add_value (b, json_node_copy (s->params));
    else
      json_builder_add_null_value (b);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  answer_json (msg, SOUP_STATUS_OK, builder_to_string (b));
}

static void
handle_version (GstTrickleWorker * w, SoupServerMessage * msg,
    const gchar * what)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "pipeline");
  json_builder_add_string_value (b, DEFAULT_PIPELINE_NAME);
  json_builder_set_member_name (b, "model_id");
  g_mutex_lock (&w->lock);
  json_builder_add_string_value (b, w->model_id ? w->model_id :
      "gst-trickle-worker");
  g_mutex_unlock (&w->lock);
  if (!what) {
    json_builder_set_member_name (b, "version");
    json_builder_add_string_value (b, PACKAGE_VERSION);
  } else {
    /* no GPU is known to the worker: an empty map */
    json_builder_set_member_name (b, what);
    json_builder_begin_object (b);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  answer_json (msg, SOUP_STATUS_OK, builder_to_string (b));
}

static void
server_callback (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer data)
{
  GstTrickleWorker *w = data;
  const gchar *method = soup_server_message_get_method (msg);
  gboolean post = g_str_equal (method, "POST");
  gboolean get = g_str_equal (method, "GET");
  SoupMessageBody *req = soup_server_message_get_request_body (msg);
  GBytes *body = soup_message_body_flatten (req);
  gsize len = 0;
  const gchar *text = g_bytes_get_data (body, &len);
  gchar *p = g_strdup (path);
  gsize plen = strlen (p);

  /* "/x/" is "/x"; "/api/stream/..." is "/stream/..." */
  if (plen > 1 && p[plen - 1] == '/')
    p[plen - 1] = '\0';
  if (g_str_has_prefix (p, "/api/stream/"))
    memmove (p, p + 4, strlen (p + 4) + 1);

  GST_DEBUG ("%s %s", method, path);
  /* one request per connection: libsoup 3.2's server does not notice a
   * kept-alive client that closes (its socket would stay in CLOSE-WAIT);
   * the API is called a few times a minute */
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  if (g_str_equal (p, "/health") && get) {
    gchar *json = g_strdup_printf ("{\"status\":\"%s\"}",
        health_name (gst_trickle_worker_get_health (w)));
    answer_json (msg, SOUP_STATUS_OK, json);
  } else if (g_str_equal (p, "/version") && get) {
    handle_version (w, msg, NULL);
  } else if (g_str_equal (p, "/hardware/info") && get) {
    handle_version (w, msg, "gpu_info");
  } else if (g_str_equal (p, "/hardware/stats") && get) {
    handle_version (w, msg, "gpu_stats");
  } else if (g_str_equal (p, "/live-video-to-video") && post) {
    if (authorized (w, msg, API_AI_RUNNER))
      handle_start (w, msg, API_AI_RUNNER, text, len);
  } else if (g_str_equal (p, "/stream/start") && post) {
    if (authorized (w, msg, API_PYTRICKLE))
      handle_start (w, msg, API_PYTRICKLE, text, len);
  } else if (g_str_equal (p, "/stream/params") && post) {
    if (authorized (w, msg, API_PYTRICKLE)) {
      gchar *why = NULL;
      if (!w->stream || w->stream->stopping)
        answer_error (msg, API_PYTRICKLE, SOUP_STATUS_BAD_REQUEST,
            "No active stream to update");
      else if (!stream_update_params (w->stream, text, len, &why)) {
        gchar *m = g_strdup_printf ("Parameter update failed: %s", why);
        send_error_event (w->stream, m);
        answer_error (msg, API_PYTRICKLE, SOUP_STATUS_BAD_REQUEST, m);
        g_free (m);
        g_free (why);
      } else
        answer_json (msg, SOUP_STATUS_OK, pytrickle_answer ("success",
                "Parameters updated successfully"));
    }
  } else if (g_str_equal (p, "/stream/stop") && post) {
    /* any body (BYOC forwards the user's, a reason as text, or none) */
    if (authorized (w, msg, API_PYTRICKLE)) {
      if (!w->stream)
        answer_error (msg, API_PYTRICKLE, SOUP_STATUS_BAD_REQUEST,
            "No active stream to stop");
      else
        stream_stop (w->stream, "stop requested", FALSE, msg);
    }
  } else if (g_str_equal (p, "/stream/status") && get) {
    if (authorized (w, msg, API_PYTRICKLE))
      handle_status (w, msg);
  } else if (g_str_equal (p, "/health") || g_str_equal (p, "/version")
      || g_str_has_prefix (p, "/stream/")
      || g_str_equal (p, "/live-video-to-video")
      || g_str_has_prefix (p, "/hardware/")) {
    gboolean get_path = g_str_equal (p, "/health")
        || g_str_equal (p, "/version") || g_str_has_prefix (p, "/hardware/")
        || g_str_equal (p, "/stream/status");
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", get_path ? "GET" : "POST");
    answer_error (msg, API_PYTRICKLE, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method not allowed");
  } else {
    answer_error (msg, API_PYTRICKLE, SOUP_STATUS_NOT_FOUND, "Not found");
  }
  g_free (p);
  g_bytes_unref (body);
}

/* ------------------------------------------------------------------------ */
/* the object */

static gboolean
create_filter_accumulator (GSignalInvocationHint * ihint,
    GValue * return_accu, const GValue * handler_return, gpointer data)
{
  GObject *o = g_value_get_object (handler_return);

  g_value_set_object (return_accu, o);
  return o == NULL;
}

static void
gst_trickle_worker_init (GstTrickleWorker * w)
{
  g_mutex_init (&w->lock);
  w->host = g_strdup (DEFAULT_HOST);
  w->port = DEFAULT_PORT;
  w->filter = g_strdup (DEFAULT_FILTER);
  w->audio_filter = g_strdup (DEFAULT_AUDIO_FILTER);
  w->video_encoder = g_strdup (DEFAULT_VIDEO_ENCODER);
  w->audio_encoder = g_strdup (DEFAULT_AUDIO_ENCODER);
  w->keyframe_interval = DEFAULT_KEYFRAME_INTERVAL;
  w->input_timeout = DEFAULT_INPUT_TIMEOUT;
  w->status_interval = DEFAULT_STATUS_INTERVAL;
  w->data_interval = DEFAULT_DATA_INTERVAL;
  w->model_id = g_strdup (DEFAULT_MODEL_ID);
  w->params_map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  w->health = GST_TRICKLE_WORKER_LOADING;
}

static void
gst_trickle_worker_finalize (GObject * object)
{
  GstTrickleWorker *w = GST_TRICKLE_WORKER (object);

  if (w->context && g_main_context_is_owner (w->context))
    g_error ("the last reference to a running GstTrickleWorker was dropped "
        "in its own thread (a signal handler): it cannot stop there");
  gst_trickle_worker_stop (w);
  g_free (w->host);
  g_free (w->filter);
  g_free (w->audio_filter);
  g_free (w->video_encoder);
  g_free (w->audio_encoder);
  g_free (w->auth_token);
  g_free (w->model_id);
  g_free (w->last_error);
  g_hash_table_unref (w->params_map);
  g_mutex_clear (&w->lock);
  G_OBJECT_CLASS (gst_trickle_worker_parent_class)->finalize (object);
}

static void
set_string (GstTrickleWorker * w, gchar ** field, const GValue * value)
{
  g_mutex_lock (&w->lock);
  g_free (*field);
  *field = g_value_dup_string (value);
  g_mutex_unlock (&w->lock);
}

static void
gst_trickle_worker_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleWorker *w = GST_TRICKLE_WORKER (object);

  if (w->api && (prop_id == PROP_HOST || prop_id == PROP_PORT)) {
    g_warning ("GstTrickleWorker: %s cannot change while serving", pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_HOST:
      set_string (w, &w->host, value);
      break;
    case PROP_PORT:
      w->port = g_value_get_int (value);
      break;
    case PROP_FILTER:
      set_string (w, &w->filter, value);
      break;
    case PROP_AUDIO_FILTER:
      set_string (w, &w->audio_filter, value);
      break;
    case PROP_VIDEO_ENCODER:
      set_string (w, &w->video_encoder, value);
      break;
    case PROP_AUDIO_ENCODER:
      set_string (w, &w->audio_encoder, value);
      break;
    case PROP_KEYFRAME_INTERVAL:
      g_mutex_lock (&w->lock);
      w->keyframe_interval = g_value_get_double (value);
      g_mutex_unlock (&w->lock);
      break;
    case PROP_INPUT_TIMEOUT:
      g_mutex_lock (&w->lock);
      w->input_timeout = g_value_get_double (value);
      g_mutex_unlock (&w->lock);
      break;
    case PROP_STATUS_INTERVAL:
      g_mutex_lock (&w->lock);
      w->status_interval = g_value_get_double (value);
      g_mutex_unlock (&w->lock);
      break;
    case PROP_DATA_INTERVAL:
      g_mutex_lock (&w->lock);
      w->data_interval = g_value_get_double (value);
      g_mutex_unlock (&w->lock);
      break;
    case PROP_AUTH_TOKEN:
      set_string (w, &w->auth_token, value);
      break;
    case PROP_MODEL_ID:
      set_string (w, &w->model_id, value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_worker_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTrickleWorker *w = GST_TRICKLE_WORKER (object);

  g_mutex_lock (&w->lock);
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string (value, w->host);
      break;
    case PROP_PORT:
      g_value_set_int (value, w->port);
      break;
    case PROP_CURRENT_PORT:
      g_value_set_int (value, w->api ?
          (gint) gst_trickle_api_server_get_port (w->api) : -1);
      break;
    case PROP_FILTER:
      g_value_set_string (value, w->filter);
      break;
    case PROP_AUDIO_FILTER:
      g_value_set_string (value, w->audio_filter);
      break;
    case PROP_VIDEO_ENCODER:
      g_value_set_string (value, w->video_encoder);
      break;
    case PROP_AUDIO_ENCODER:
      g_value_set_string (value, w->audio_encoder);
      break;
    case PROP_KEYFRAME_INTERVAL:
      g_value_set_double (value, w->keyframe_interval);
      break;
    case PROP_INPUT_TIMEOUT:
      g_value_set_double (value, w->input_timeout);
      break;
    case PROP_STATUS_INTERVAL:
      g_value_set_double (value, w->status_interval);
      break;
    case PROP_DATA_INTERVAL:
      g_value_set_double (value, w->data_interval);
      break;
    case PROP_AUTH_TOKEN:
      g_value_set_string (value, w->auth_token);
      break;
    case PROP_MODEL_ID:
      g_value_set_string (value, w->model_id);
      break;
    case PROP_HEALTH:
      g_value_set_enum (value, w->health);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&w->lock);
}

static void
gst_trickle_worker_class_init (GstTrickleWorkerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->finalize = gst_trickle_worker_finalize;
  gobject_class->set_property = gst_trickle_worker_set_property;
  gobject_class->get_property = gst_trickle_worker_get_property;

  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "Address the HTTP API listens on (NULL: every interface)",
          DEFAULT_HOST, flags));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "TCP port of the HTTP API (0: any free port, see current-port; "
          "8000 as ai-runner)", 0, 65535, DEFAULT_PORT, flags));
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      g_param_spec_int ("current-port", "Current port",
          "The port the HTTP API listens on (-1 when not serving)", -1, 65535,
          -1, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_FILTER,
      g_param_spec_string ("filter", "Filter",
          "Video filter of every stream, a gst-launch fragment (raw video in, "
          "raw video out); elements named in it can be set by params",
          DEFAULT_FILTER, flags));
  g_object_class_install_property (gobject_class, PROP_AUDIO_FILTER,
      g_param_spec_string ("audio-filter", "Audio filter",
          "Audio filter of every stream, a gst-launch fragment (raw audio in "
          "and out; NULL: the audio is only re-encoded)",
          DEFAULT_AUDIO_FILTER, flags));
  g_object_class_install_property (gobject_class, PROP_VIDEO_ENCODER,
      g_param_spec_string ("video-encoder", "Video encoder",
          "H.264 encoder, a gst-launch fragment (its key-int-max is set from "
          "keyframe-interval and the frame rate)", DEFAULT_VIDEO_ENCODER,
          flags));
  g_object_class_install_property (gobject_class, PROP_AUDIO_ENCODER,
      g_param_spec_string ("audio-encoder", "Audio encoder",
          "Audio encoder, a gst-launch fragment (fed 48 kHz)",
          DEFAULT_AUDIO_ENCODER, flags));
  g_object_class_install_property (gobject_class, PROP_KEYFRAME_INTERVAL,
      g_param_spec_double ("keyframe-interval", "Keyframe interval",
          "Seconds between the output's keyframes (each starts a segment)",
          0.01, 3600, DEFAULT_KEYFRAME_INTERVAL, flags));
  g_object_class_install_property (gobject_class, PROP_INPUT_TIMEOUT,
      g_param_spec_double ("input-timeout", "Input timeout",
          "Seconds without input after which a stream ends and the worker is "
          "IDLE again (0: never)", 0, G_MAXDOUBLE, DEFAULT_INPUT_TIMEOUT,
          flags));
  g_object_class_install_property (gobject_class, PROP_STATUS_INTERVAL,
      g_param_spec_double ("status-interval", "Status interval",
          "Seconds between the status and heartbeat events (the gateway "
          "stops a stream without events for 30 s)", 0.1, 29,
          DEFAULT_STATUS_INTERVAL, flags));
  g_object_class_install_property (gobject_class, PROP_DATA_INTERVAL,
      g_param_spec_double ("data-interval", "Data interval",
          "Seconds between the data channel's batches (PyTrickle's 0.333)",
          0.01, 60, DEFAULT_DATA_INTERVAL, flags));
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Auth token",
          "Bearer token the stream requests must carry (Authorization: Bearer "
          "TOKEN; NULL: none), as ai-runner's AUTH_TOKEN", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_MODEL_ID,
      g_param_spec_string ("model-id", "Model ID",
          "The model_id answered by /version and expected in start requests "
          "(NULL: any is accepted)", DEFAULT_MODEL_ID, flags));
  g_object_class_install_property (gobject_class, PROP_HEALTH,
      g_param_spec_enum ("health", "Health", "What /health answers",
          GST_TRICKLE_TYPE_WORKER_HEALTH, GST_TRICKLE_WORKER_LOADING,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstTrickleWorker::create-filter:
   * @worker: the worker
   * @media: "video" or "audio"
   * @params: the start request's params (an empty structure without)
   *
   * Emitted (in the worker's thread) for each stream, to make its filter:
   * an element with one sink and one src pad taking and giving raw video
   * (or audio). Return %NULL to use the #GstTrickleWorker:filter (or
   * #GstTrickleWorker:audio-filter) launch line.
   *
   * Returns: (transfer full) (nullable): the filter
   */
  signals[SIGNAL_CREATE_FILTER] = g_signal_new ("create-filter",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      create_filter_accumulator, NULL, NULL, GST_TYPE_ELEMENT, 2,
      G_TYPE_STRING, GST_TYPE_STRUCTURE);
  /**
   * GstTrickleWorker::stream-started:
   * @worker: the worker
   * @pipeline: the stream's pipeline (going to PLAYING); not emitted for
   *   a stream without media (no subscribe_url)
   */
  signals[SIGNAL_STREAM_STARTED] = g_signal_new ("stream-started",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, GST_TYPE_ELEMENT);
  /**
   * GstTrickleWorker::stream-stopped:
   * @worker: the worker
   * @reason: why ("stop requested", "end of input", "input timeout", or
   *   the error)
   */
  signals[SIGNAL_STREAM_STOPPED] = g_signal_new ("stream-stopped",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * GstTrickleWorker::params-updated:
   * @worker: the worker
   * @params: the update (the control channel's document or the body of
   *   /stream/params), after the mapped properties were set
   * @json: the same as JSON text
   */
  signals[SIGNAL_PARAMS_UPDATED] = g_signal_new ("params-updated",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, GST_TYPE_STRUCTURE, G_TYPE_STRING);

  GST_DEBUG_CATEGORY_INIT (worker_debug, "trickleworker", 0,
      "Livepeer real-time worker");
}

GType
gst_trickle_worker_health_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_TRICKLE_WORKER_LOADING, "Not serving yet", "loading"},
    {GST_TRICKLE_WORKER_IDLE, "Ready for a stream", "idle"},
    {GST_TRICKLE_WORKER_OK, "A stream runs", "ok"},
    {GST_TRICKLE_WORKER_ERROR, "The last stream failed", "error"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstTrickleWorkerHealth", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/**
 * gst_trickle_worker_new:
 *
 * Returns: (transfer full): a worker; set its properties, then
 * gst_trickle_worker_start()
 */
GstTrickleWorker *
gst_trickle_worker_new (void)
{
  return g_object_new (GST_TRICKLE_TYPE_WORKER, NULL);
}

/**
 * gst_trickle_worker_add_param:
 * @worker: the worker
 * @key: a params key (e.g. "prompt")
 * @target: the property it sets, "<element>.<property>" (e.g. "f.text"),
 *   an element of the stream's pipeline (the filters' elements keep their
 *   names)
 * @error: (optional): where a malformed @target is reported
 *
 * Maps a params key to a property: every start and update that carries
 * @key sets the property, converted as gst_trickle_json_apply_settings()
 * does.
 *
 * Returns: %TRUE if @target is "<element>.<property>"
 */
gboolean
gst_trickle_worker_add_param (GstTrickleWorker * worker, const gchar * key,
    const gchar * target, GError ** error)
{
  const gchar *dot;

  g_return_val_if_fail (GST_TRICKLE_IS_WORKER (worker), FALSE);
  g_return_val_if_fail (key && target, FALSE);
  dot = strrchr (target, '.');
  if (!*key || !dot || dot == target || !dot[1]) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "\"%s\" is not <element>.<property>", target);
    return FALSE;
  }
  g_mutex_lock (&worker->lock);
  g_hash_table_replace (worker->params_map, g_strdup (key), g_strdup (target));
  g_mutex_unlock (&worker->lock);
  return TRUE;
}

static gboolean
check_launch (const gchar * what, const gchar * desc, GError ** error)
{
  GError *err = NULL;
  GstElement *e;

  if (!desc || !*desc)
    return TRUE;
  e = gst_parse_bin_from_description (desc, TRUE, &err);
  if (!e) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        "%s \"%s\": %s", what, desc, err ? err->message : "cannot parse");
    g_clear_error (&err);
    return FALSE;
  }
  g_clear_error (&err);
  gst_object_unref (gst_object_ref_sink (e));
  return TRUE;
}

/**
 * gst_trickle_worker_start:
 * @worker: the worker
 * @error: (optional): why it cannot start
 *
 * Checks the launch lines, then serves the HTTP API (in a thread of the
 * worker's own). The worker is IDLE once this returns %TRUE.
 *
 * Returns: %TRUE if the API is served
 */
gboolean
gst_trickle_worker_start (GstTrickleWorker * worker, GError ** error)
{
  GstTrickleWorker *w = worker;

  g_return_val_if_fail (GST_TRICKLE_IS_WORKER (w), FALSE);
  if (w->api)
    return TRUE;
  if (!check_launch ("filter", w->filter, error)
      || !check_launch ("audio-filter", w->audio_filter, error)
      || !check_launch ("video-encoder", w->video_encoder, error)
      || !check_launch ("audio-encoder", w->audio_encoder, error))
    return FALSE;

  w->api = gst_trickle_api_server_new (w->host, w->port,
      "gst-trickle-worker/" PACKAGE_VERSION " ", "trickle-worker",
      server_callback, w, error);
  if (!w->api)
    return FALSE;
  w->context = gst_trickle_api_server_get_context (w->api);
  set_health (w, GST_TRICKLE_WORKER_IDLE);
  gst_trickle_api_server_run (w->api);
  g_object_notify (G_OBJECT (w), "current-port");
  GST_INFO ("serving on port %u", gst_trickle_api_server_get_port (w->api));
  return TRUE;
}

/**
 * gst_trickle_worker_get_bound_port:
 *
 * Returns: the port the API listens on (0 when not serving)
 */
guint
gst_trickle_worker_get_bound_port (GstTrickleWorker * worker)
{
  g_return_val_if_fail (GST_TRICKLE_IS_WORKER (worker), 0);
  return worker->api ? gst_trickle_api_server_get_port (worker->api) : 0;
}

/**
 * gst_trickle_worker_get_health:
 *
 * Returns: what /health answers now
 */
GstTrickleWorkerHealth
gst_trickle_worker_get_health (GstTrickleWorker * worker)
{
  GstTrickleWorkerHealth h;

  g_return_val_if_fail (GST_TRICKLE_IS_WORKER (worker),
      GST_TRICKLE_WORKER_ERROR);
  g_mutex_lock (&worker->lock);
  h = worker->health;
  g_mutex_unlock (&worker->lock);
  return h;
}

typedef struct
{
  GstTrickleWorker *w;
  GMutex lock;
  GCond cond;
  gboolean done;
} StopWait;

static void
stop_wait_done (StopWait * sw)
{
  g_mutex_lock (&sw->lock);
  sw->done = TRUE;
  g_cond_signal (&sw->cond);
  g_mutex_unlock (&sw->lock);
}

static void
stopped_cb (GstTrickleWorker * w, const gchar * reason, StopWait * sw)
{
  stop_wait_done (sw);
}

static gboolean
stop_in_thread (gpointer data)
{
  StopWait *sw = data;
  GstTrickleWorker *w = sw->w;

  /* no new connection, no new stream; the stream first: a /stream/stop
   * waiting for it is still answered */
  w->shutting_down = TRUE;
  gst_trickle_api_server_stop_accepting (w->api);
  if (w->stream)
    stream_stop (w->stream, "worker stopped", FALSE, NULL);
  else
    stop_wait_done (sw);
  return G_SOURCE_REMOVE;
}

/**
 * gst_trickle_worker_stop:
 * @worker: the worker
 *
 * Stops serving: a running stream ends (its output gets its end), then the
 * HTTP API closes. Blocks until that is done. Not from a signal handler.
 */
void
gst_trickle_worker_stop (GstTrickleWorker * worker)
{
  GstTrickleWorker *w = worker;
  StopWait sw = { w, };
  gulong id;

  g_return_if_fail (GST_TRICKLE_IS_WORKER (w));
  if (!w->api)
    return;
  if (g_main_context_is_owner (w->context)) {
    g_critical ("gst_trickle_worker_stop() called from the worker's own "
        "thread (a signal handler): it would never return");
    return;
  }
  g_mutex_init (&sw.lock);
  g_cond_init (&sw.cond);
  id = g_signal_connect (w, "stream-stopped", G_CALLBACK (stopped_cb), &sw);
  g_main_context_invoke (w->context, stop_in_thread, &sw);
  g_mutex_lock (&sw.lock);
  while (!sw.done)
    g_cond_wait (&sw.cond, &sw.lock);
  g_mutex_unlock (&sw.lock);
  g_signal_handler_disconnect (w, id);
  g_clear_pointer (&w->api, gst_trickle_api_server_free);
  w->context = NULL;
  g_mutex_clear (&sw.lock);
  g_cond_clear (&sw.cond);
  w->shutting_down = FALSE;
  set_health (w, GST_TRICKLE_WORKER_LOADING);
}
