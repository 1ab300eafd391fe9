/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GstTrickleWorker and gst-trickle-worker, driven as go-livepeer's
 * orchestrator drives ai-runner and PyTrickle workers: a trickle server
 * hosting the stream's channels under /ai/trickle/ (made in advance with
 * the orchestrator's types, no auto-creation), a real H.264 + Opus MPEG-TS
 * publisher into the input, the HTTP API, and the output decoded frame by
 * frame.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <gst/check/gstcheck.h>
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <gst/trickle/trickle.h>
#include "trickletestutil.h"

/* deadlines: generous, for a loaded 2-core machine; they only bound a
 * failure, the assertions are on order and content */
#define WAIT_S 60

/* ------------------------------------------------------------------------ */
/* the orchestrator's side: server, channels, HTTP calls */

static TrickleTestServer *
orch_new (void)
{
  TrickleTestServer *ts = trickle_test_server_new ();

  g_object_set (ts->store, "auto-create", FALSE, NULL);
  trickle_test_server_start (ts, "base-path", "/ai/trickle/", NULL);
  return ts;
}

/* as go-livepeer's StartLiveVideoToVideo: <mid>, -out, -control, -events
 * (and BYOC's -data) */
static void
orch_create_channels (TrickleTestServer * ts, const gchar * mid)
{
  static const gchar *suffix[] = { "", "-out", "-control", "-events", "-data" };
  static const gchar *mime[] = { "video/MP2T", "video/MP2T",
    "application/json", "application/json", "application/jsonl"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (suffix); i++) {
    gchar *name = g_strconcat (mid, suffix[i], NULL);
    GstTrickleChannel *ch = gst_trickle_channel_store_create (ts->store, name,
        mime[i], NULL);
    fail_unless (ch != NULL, "cannot create %s", name);
    gst_trickle_channel_unref (ch);
    g_free (name);
  }
}

static gchar *
orch_url (TrickleTestServer * ts, const gchar * mid, const gchar * suffix)
{
  gchar *path = g_strdup_printf ("/ai/trickle/%s%s", mid, suffix);
  gchar *url = trickle_test_server_url (ts, FALSE, path);

  g_free (path);
  return url;
}

/* an HTTP request to the worker: the status, and the body in @answer */
static guint
api (guint port, const gchar * method, const gchar * path, const gchar * body,
    const gchar * token, gchar ** answer)
{
  SoupSession *session = soup_session_new ();
  gchar *uri = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  SoupMessage *msg = soup_message_new (method, uri);
  GError *err = NULL;
  GBytes *bytes;
  guint status;

  if (body) {
    GBytes *b = g_bytes_new (body, strlen (body));
    soup_message_set_request_body_from_bytes (msg, "application/json", b);
    g_bytes_unref (b);
  }
  if (token) {
    gchar *auth = g_strdup_printf ("Bearer %s", token);
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", auth);
    g_free (auth);
  }
  bytes = soup_session_send_and_read (session, msg, NULL, &err);
  fail_unless (bytes != NULL, "%s %s: %s", method, path,
      err ? err->message : "");
  status = soup_message_get_status (msg);
  if (status != 204 && status >= 200)
    fail_unless (g_str_has_prefix (soup_message_headers_get_content_type
            (soup_message_get_response_headers (msg), NULL) ?
            soup_message_headers_get_content_type
            (soup_message_get_response_headers (msg), NULL) : "",
            "application/json"), "%s %s: not JSON", method, path);
  if (answer)
    *answer = g_strndup (g_bytes_get_data (bytes, NULL),
        g_bytes_get_size (bytes));
  g_bytes_unref (bytes);
  g_object_unref (msg);
  g_free (uri);
  g_object_unref (session);
  return status;
}

static JsonObject *
parse_object (const gchar * text)
{
  JsonParser *p = json_parser_new ();
  JsonObject *obj = NULL;

  if (json_parser_load_from_data (p, text, -1, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    obj = json_object_ref (json_node_get_object (json_parser_get_root (p)));
  g_object_unref (p);
  fail_unless (obj != NULL, "not a JSON object: %s", text);
  return obj;
}

static gchar *
health (guint port)
{
  gchar *answer;
  JsonObject *obj;
  gchar *status;

  fail_unless_equals_int (api (port, "GET", "/health", NULL, NULL, &answer),
      200);
  obj = parse_object (answer);
  status = g_strdup (json_object_get_string_member (obj, "status"));
  json_object_unref (obj);
  g_free (answer);
  return status;
}

static gboolean
wait_health (guint port, const gchar * want)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  for (;;) {
    gchar *h = health (port);
    gboolean ok = g_str_equal (h, want);
    g_free (h);
    if (ok)
      return TRUE;
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (50 * 1000);
  }
}

/* ------------------------------------------------------------------------ */
/* the input: H.264 + Opus in MPEG-TS, a white frame every second (frames
 * 0, 30, 60...) and an audio tick at every second: the marks of A/V sync */

static GstPadProbeReturn
flash_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  guint64 n = gst_util_uint64_scale_round (GST_BUFFER_PTS (buf), 30,
      GST_SECOND);

  if (n % 30 == 0) {
    GstMapInfo map;
    buf = gst_buffer_make_writable (buf);
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    /* I420 320x240: luma white, chroma neutral */
    memset (map.data, 235, 320 * 240);
    memset (map.data + 320 * 240, 128, map.size - 320 * 240);
    gst_buffer_unmap (buf, &map);
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  }
  return GST_PAD_PROBE_OK;
}

/* @audio: NULL (video only), "opus" or "aac" (RTMP ingest's audio) */
static GstElement *
input_start_full (TrickleTestServer * ts, const gchar * mid,
    const gchar * audio, gboolean flash)
{
  gchar *url = orch_url (ts, mid, "");
  gchar *desc = g_strdup_printf ("videotestsrc name=v is-live=true "
      "pattern=smpte ! video/x-raw,format=I420,width=320,height=240,"
      "framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast "
      "key-int-max=30 ! h264parse ! mpegtsmux name=mux ! tricklesink "
      "location=%s %s%s", url, audio ? "audiotestsrc is-live=true wave=ticks "
      "volume=0.8 samplesperbuffer=480 ! audio/x-raw,rate=48000,channels=1 ! "
      : "", !audio ? "" : g_str_equal (audio, "aac") ?
      "avenc_aac ! aacparse ! mux." : "opusenc ! mux.");
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *v = gst_bin_get_by_name (GST_BIN (p), "v");
  GstPad *pad = gst_element_get_static_pad (v, "src");

  if (flash)
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, flash_probe, NULL, NULL);
  gst_object_unref (pad);
  gst_object_unref (v);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  g_free (desc);
  g_free (url);
  return p;
}

static GstElement *
input_start (TrickleTestServer * ts, const gchar * mid, gboolean audio)
{
  return input_start_full (ts, mid, audio ? "opus" : NULL, TRUE);
}

/* ------------------------------------------------------------------------ */
/* the output, decoded */

typedef enum
{
  FRAME_FLASH,
  FRAME_NORMAL,                 /* smpte: white-ish bar on the left */
  FRAME_FLIPPED,                /* mirrored: the blue bar on the left */
  FRAME_OTHER,
} FrameKind;

typedef struct
{
  GMutex lock;
  GArray *kinds;                /* FrameKind */
  GArray *video_pts;            /* GstClockTime */
  GArray *flash_pts;
  GArray *tick_pts;             /* audio onsets */
  GArray *key_pts;              /* the output's keyframes */
  guint64 audio_samples;
  guint64 silent_run;
  gboolean eos;
  GstElement *pipeline;
} Output;

static FrameKind
classify (const guint8 * rgb, gint stride)
{
  const guint8 *left = rgb + 4 * stride + 4 * 3;
  const guint8 *center = rgb + 120 * stride + 160 * 3;

  if (center[0] > 200 && center[1] > 200 && center[2] > 200)
    return FRAME_FLASH;
  if (left[0] > 140 && left[1] > 140 && left[2] > 140)
    return FRAME_NORMAL;
  if (left[2] > 120 && left[0] < 80 && left[1] < 80)
    return FRAME_FLIPPED;
  return FRAME_OTHER;
}

static GstFlowReturn
on_video (GstAppSink * sink, gpointer data)
{
  Output *o = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstVideoInfo info;
  GstMapInfo map;
  FrameKind kind;
  GstClockTime pts = GST_BUFFER_PTS (buf);

  gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
  gst_buffer_map (buf, &map, GST_MAP_READ);
  kind = classify (map.data, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
  gst_buffer_unmap (buf, &map);
  g_mutex_lock (&o->lock);
  g_array_append_val (o->kinds, kind);
  g_array_append_val (o->video_pts, pts);
  if (kind == FRAME_FLASH)
    g_array_append_val (o->flash_pts, pts);
  g_mutex_unlock (&o->lock);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static GstFlowReturn
on_audio (GstAppSink * sink, gpointer data)
{
  Output *o = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_mutex_lock (&o->lock);
  for (i = 0; i < map.size / 2; i++) {
    gint16 v = ((gint16 *) map.data)[i];
    if (ABS (v) > 3000) {
      /* a tick begins after 100 ms of silence */
      if (o->silent_run > 4800 && GST_BUFFER_PTS_IS_VALID (buf)) {
        GstClockTime t = GST_BUFFER_PTS (buf) +
            gst_util_uint64_scale (i, GST_SECOND, 48000);
        g_array_append_val (o->tick_pts, t);
      }
      o->silent_run = 0;
    } else {
      o->silent_run++;
    }
  }
  o->audio_samples += map.size / 2;
  g_mutex_unlock (&o->lock);
  gst_buffer_unmap (buf, &map);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static GstPadProbeReturn
key_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Output *o = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
    GstClockTime pts = GST_BUFFER_PTS (buf);
    g_mutex_lock (&o->lock);
    g_array_append_val (o->key_pts, pts);
    g_mutex_unlock (&o->lock);
  }
  return GST_PAD_PROBE_OK;
}

static Output *
output_start (TrickleTestServer * ts, const gchar * mid)
{
  Output *o = g_new0 (Output, 1);
  gchar *url = orch_url (ts, mid, "-out");
  gchar *desc = g_strdup_printf ("tricklesrc location=%s ! tsdemux name=d "
      "d. ! h264parse name=vp ! queue ! avdec_h264 ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=v sync=false "
      "d. ! opusdec ! queue ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,channels=1,rate=48000 ! appsink name=a "
      "sync=false", url);
  GstAppSinkCallbacks vcb = { NULL, NULL, on_video };
  GstAppSinkCallbacks acb = { NULL, NULL, on_audio };
  GstElement *v, *a;

  g_mutex_init (&o->lock);
  o->kinds = g_array_new (FALSE, FALSE, sizeof (FrameKind));
  o->video_pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  o->flash_pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  o->tick_pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  o->key_pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  o->pipeline = gst_parse_launch (desc, NULL);
  fail_unless (o->pipeline != NULL);
  v = gst_bin_get_by_name (GST_BIN (o->pipeline), "v");
  a = gst_bin_get_by_name (GST_BIN (o->pipeline), "a");
  gst_app_sink_set_callbacks (GST_APP_SINK (v), &vcb, o, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (a), &acb, o, NULL);
  gst_object_unref (v);
  gst_object_unref (a);
  v = gst_bin_get_by_name (GST_BIN (o->pipeline), "vp");
  {
    GstPad *pad = gst_element_get_static_pad (v, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, key_probe, o, NULL);
    gst_object_unref (pad);
  }
  gst_object_unref (v);
  fail_if (gst_element_set_state (o->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  g_free (desc);
  g_free (url);
  return o;
}

static guint
output_frames (Output * o)
{
  guint n;

  g_mutex_lock (&o->lock);
  n = o->kinds->len;
  g_mutex_unlock (&o->lock);
  return n;
}

static FrameKind
output_kind (Output * o, guint i)
{
  FrameKind k;

  g_mutex_lock (&o->lock);
  k = g_array_index (o->kinds, FrameKind, i);
  g_mutex_unlock (&o->lock);
  return k;
}

/* waits for frame @from and later to include one of @kind: its index */
static guint
output_wait_kind (Output * o, guint from, FrameKind kind)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  guint i = from;

  for (;;) {
    while (i < output_frames (o)) {
      if (output_kind (o, i) == kind)
        return i;
      i++;
    }
    fail_unless (g_get_monotonic_time () < deadline,
        "no frame of kind %d after frame %u (%u frames)", kind, from, i);
    g_usleep (20 * 1000);
  }
}

static void
output_wait_frames (Output * o, guint n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (output_frames (o) < n) {
    fail_unless (g_get_monotonic_time () < deadline, "%u frames of %u",
        output_frames (o), n);
    g_usleep (20 * 1000);
  }
}

/* frames [from, to) are all @kind or flashes */
static void
output_check_kind (Output * o, guint from, guint to, FrameKind kind)
{
  guint i;

  for (i = from; i < to; i++) {
    FrameKind k = output_kind (o, i);
    fail_unless (k == kind || k == FRAME_FLASH,
        "frame %u is of kind %d, not %d", i, k, kind);
  }
}

/* the end of the output reached the subscriber */
static gboolean
output_wait_eos (Output * o)
{
  GstBus *bus = gst_element_get_bus (o->pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, WAIT_S * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gboolean eos = m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS;

  if (m)
    gst_message_unref (m);
  gst_object_unref (bus);
  return eos;
}

static void
output_free (Output * o)
{
  gst_element_set_state (o->pipeline, GST_STATE_NULL);
  gst_object_unref (o->pipeline);
  g_array_unref (o->kinds);
  g_array_unref (o->video_pts);
  g_array_unref (o->flash_pts);
  g_array_unref (o->tick_pts);
  g_array_unref (o->key_pts);
  g_mutex_clear (&o->lock);
  g_free (o);
}

/* the output has a keyframe every keyframe-interval (2 s) of stream time:
 * tricklesink asks at that cadence of its input's running time, and the
 * encoder answers at the frame it encodes next, some frames ahead (the
 * pipeline's depth, which varies by the moment in the sanitized build: one
 * keyframe answered 0.6 s late makes a 2.6 s gap and then a 1.4 s one, both
 * seen in CI); so a single gap is only bounded above (3 s), and without
 * x264's scene cuts (the test's white frames, @exact) the mean gap is the
 * cadence (between 1.6 and 2.5 s), never the input's (1 s) */
static void
output_check_keyframes (Output * o, gboolean exact)
{
  guint i;
  GstClockTime first, last;

  g_mutex_lock (&o->lock);
  fail_unless (o->key_pts->len >= 4, "%u keyframes", o->key_pts->len);
  for (i = 0; i < o->key_pts->len; i++)
    GST_INFO ("keyframe %" GST_TIME_FORMAT, GST_TIME_ARGS (g_array_index
            (o->key_pts, GstClockTime, i)));
  /* (from the second: the encoder's first frame is one, and tricklesink's
   * first request, frames later, another) */
  for (i = 2; i < o->key_pts->len; i++) {
    GstClockTime d = g_array_index (o->key_pts, GstClockTime, i) -
        g_array_index (o->key_pts, GstClockTime, i - 1);
    fail_unless (d <= 3 * GST_SECOND, "keyframes %" GST_TIME_FORMAT
        " apart", GST_TIME_ARGS (d));
  }
  first = g_array_index (o->key_pts, GstClockTime, 1);
  last = g_array_index (o->key_pts, GstClockTime, o->key_pts->len - 1);
  if (exact) {
    GstClockTime mean = (last - first) / (o->key_pts->len - 2);
    fail_unless (mean >= 1600 * GST_MSECOND && mean <= 2500 * GST_MSECOND,
        "keyframes %" GST_TIME_FORMAT " apart on average",
        GST_TIME_ARGS (mean));
  }
  g_mutex_unlock (&o->lock);
}

/* every white frame has its audio tick within one frame (33 ms), give or
 * take an Opus frame */
static void
output_check_sync (Output * o)
{
  guint i, j, checked = 0;

  g_mutex_lock (&o->lock);
  for (i = 0; i < o->flash_pts->len; i++)
    GST_INFO ("flash %" GST_TIME_FORMAT, GST_TIME_ARGS (g_array_index
            (o->flash_pts, GstClockTime, i)));
  for (i = 0; i < o->tick_pts->len; i++)
    GST_INFO ("tick %" GST_TIME_FORMAT, GST_TIME_ARGS (g_array_index
            (o->tick_pts, GstClockTime, i)));
  fail_unless (o->audio_samples > 48000, "%" G_GUINT64_FORMAT
      " audio samples", o->audio_samples);
  for (i = 0; i < o->flash_pts->len; i++) {
    GstClockTime f = g_array_index (o->flash_pts, GstClockTime, i);
    GstClockTimeDiff best = G_MAXINT64;
    for (j = 0; j < o->tick_pts->len; j++) {
      GstClockTimeDiff d = GST_CLOCK_DIFF (f,
          g_array_index (o->tick_pts, GstClockTime, j));
      if (ABS (d) < ABS (best))
        best = d;
    }
    /* no tick near: the flash came before the audio did */
    if (best == G_MAXINT64 || ABS (best) > GST_SECOND / 2)
      continue;
    GST_INFO ("flash at %" GST_TIME_FORMAT ": tick %+" G_GINT64_FORMAT
        " us", GST_TIME_ARGS (f), best / 1000);
    /* one video frame, plus one Opus frame (20 ms) of onset detection:
     * measured 15 ms, once 34 ms in a sanitized build under stress-ng */
    fail_unless (ABS (best) <= GST_SECOND / 30 + 20 * GST_MSECOND,
        "video and audio %" G_GINT64_FORMAT " ms apart", best / GST_MSECOND);
    checked++;
  }
  g_mutex_unlock (&o->lock);
  fail_unless (checked >= 2 && checked + 1 >= o->flash_pts->len,
      "%u marks of %u checked", checked, o->flash_pts->len);
}

/* ------------------------------------------------------------------------ */
/* a JSON channel read from its start: every segment's text */

typedef struct
{
  GstTrickleSubscriber *sub;
  GThread *thread;
  GMutex lock;
  GPtrArray *docs;
} Reader;

static gpointer
reader_thread (gpointer data)
{
  Reader *r = data;
  GString *doc = g_string_new (NULL);

  if (!gst_trickle_subscriber_start (r->sub, NULL))
    return NULL;
  for (;;) {
    GstTrickleSubscriberEvent ev = { 0, };
    if (!gst_trickle_subscriber_next_event (r->sub, &ev, NULL))
      break;
    if (ev.type == GST_TRICKLE_SUBSCRIBER_SEGMENT_START)
      g_string_truncate (doc, 0);
    else if (ev.type == GST_TRICKLE_SUBSCRIBER_DATA)
      g_string_append_len (doc, g_bytes_get_data (ev.data, NULL),
          g_bytes_get_size (ev.data));
    else if (ev.type == GST_TRICKLE_SUBSCRIBER_SEGMENT_END && ev.complete
        && doc->len > 0) {
      /* (a publisher's preconnected POST cut at its stop is no document) */
      g_mutex_lock (&r->lock);
      g_ptr_array_add (r->docs, g_strdup (doc->str));
      g_mutex_unlock (&r->lock);
    } else if (ev.type == GST_TRICKLE_SUBSCRIBER_EOS) {
      gst_trickle_subscriber_event_clear (&ev);
      break;
    }
    gst_trickle_subscriber_event_clear (&ev);
  }
  g_string_free (doc, TRUE);
  return NULL;
}

static Reader *
reader_new (TrickleTestServer * ts, const gchar * mid, const gchar * suffix)
{
  Reader *r = g_new0 (Reader, 1);
  gchar *url = orch_url (ts, mid, suffix);

  r->sub = gst_trickle_subscriber_new (url);
  g_object_set (r->sub, "start-seq", (gint64) 0, NULL);
  g_mutex_init (&r->lock);
  r->docs = g_ptr_array_new_with_free_func (g_free);
  r->thread = g_thread_new ("reader", reader_thread, r);
  g_free (url);
  return r;
}

static void
reader_free (Reader * r)
{
  gst_trickle_subscriber_unlock (r->sub);
  g_thread_join (r->thread);
  gst_trickle_subscriber_stop (r->sub);
  g_object_unref (r->sub);
  g_ptr_array_unref (r->docs);
  g_mutex_clear (&r->lock);
  g_free (r);
}

/* the events read so far of type @type (in the gateway's envelope) */
static guint
count_events (Reader * r, const gchar * type)
{
  guint i, n = 0;

  g_mutex_lock (&r->lock);
  for (i = 0; i < r->docs->len; i++) {
    JsonObject *doc = parse_object (g_ptr_array_index (r->docs, i));
    JsonObject *ev = json_object_get_object_member (doc, "event");
    fail_unless (ev != NULL, "no event in %s",
        (gchar *) g_ptr_array_index (r->docs, i));
    fail_unless (json_object_has_member (doc, "queue_event_type"));
    if (g_str_equal (json_object_get_string_member (ev, "type"), type))
      n++;
    json_object_unref (doc);
  }
  g_mutex_unlock (&r->lock);
  return n;
}

static void
wait_events (Reader * r, const gchar * type, guint n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (count_events (r, type) < n) {
    fail_unless (g_get_monotonic_time () < deadline, "%u %s events of %u",
        count_events (r, type), type, n);
    g_usleep (50 * 1000);
  }
}

/* the last status event has ai-runner's fields */
static void
check_status_event (Reader * r)
{
  gint i;
  gboolean found = FALSE;

  g_mutex_lock (&r->lock);
  for (i = r->docs->len - 1; i >= 0 && !found; i--) {
    JsonObject *doc = parse_object (g_ptr_array_index (r->docs, i));
    JsonObject *ev = json_object_get_object_member (doc, "event");
    if (g_str_equal (json_object_get_string_member (ev, "type"), "status")) {
      JsonObject *in = json_object_get_object_member (ev, "input_status");
      JsonObject *inf = json_object_get_object_member (ev,
          "inference_status");
      static const gchar *inf_fields[] = { "last_output_time", "fps",
        "last_params_update_time", "last_params", "last_params_hash",
        "last_error_time", "last_error", "last_restart_time",
        "last_restart_logs", "restart_count"
      };
      guint j;
      fail_unless_equals_string (json_object_get_string_member (doc,
              "queue_event_type"), "ai_stream_events");
      fail_unless (json_object_has_member (ev, "state"));
      fail_unless (json_object_has_member (ev, "start_time"));
      fail_unless (json_object_has_member (ev, "last_status_timestamp"));
      fail_unless (in && json_object_has_member (in, "last_input_time")
          && json_object_get_double_member (in, "fps") > 0);
      for (j = 0; j < G_N_ELEMENTS (inf_fields); j++)
        fail_unless (inf && json_object_has_member (inf, inf_fields[j]),
            "no inference_status.%s", inf_fields[j]);
      found = TRUE;
    }
    json_object_unref (doc);
  }
  g_mutex_unlock (&r->lock);
  fail_unless (found);
}

/* consecutive events' timestamps are never 10 s apart (the gateway stops a
 * stream after 30 s without one) */
static void
check_event_gaps (Reader * r)
{
  guint i;
  gint64 last = 0;

  g_mutex_lock (&r->lock);
  for (i = 0; i < r->docs->len; i++) {
    JsonObject *doc = parse_object (g_ptr_array_index (r->docs, i));
    gint64 t = json_object_get_int_member (json_object_get_object_member (doc,
            "event"), "timestamp");
    if (last)
      fail_unless (t - last <= 10000, "events %" G_GINT64_FORMAT " ms apart",
          t - last);
    last = t;
    json_object_unref (doc);
  }
  g_mutex_unlock (&r->lock);
}

/* one document into a JSON channel, as the gateway's publisher does */
static void
publish_doc (TrickleTestServer * ts, const gchar * mid, const gchar * suffix,
    GstTricklePublisher ** pub, const gchar * doc)
{
  GError *err = NULL;

  if (!*pub) {
    gchar *url = orch_url (ts, mid, suffix);
    *pub = gst_trickle_publisher_new (url, "application/json");
    fail_unless (gst_trickle_publisher_start (*pub, &err), "%s",
        err ? err->message : "");
    g_free (url);
  }
  fail_unless (gst_trickle_publisher_begin_segment (*pub, &err) >= 0);
  fail_unless (gst_trickle_publisher_write (*pub, doc, strlen (doc), &err));
  fail_unless (gst_trickle_publisher_end_segment (*pub, &err));
}

/* ------------------------------------------------------------------------ */
/* the worker */

static void
on_handoff (GstElement * identity, GstBuffer * buf, gpointer data)
{
  static gint count;
  gint n = g_atomic_int_add (&count, 1);

  if (n % 10 == 0)
    gst_element_post_message (identity,
        gst_message_new_element (GST_OBJECT (identity),
            gst_structure_new ("trickle-data", "frame", G_TYPE_INT, n,
                "label", G_TYPE_STRING, "tap", NULL)));
}

/* the application's filter: the mirror, and a tap posting data messages;
 * params {"fail": true} gives one that cannot negotiate */
static GstElement *
create_filter (GstTrickleWorker * w, const gchar * media, GstStructure * params,
    gpointer data)
{
  gboolean fail = FALSE;
  GstElement *bin, *tap;

  if (!g_str_equal (media, "video"))
    return NULL;
  gst_structure_get_boolean (params, "fail", &fail);
  bin = gst_parse_bin_from_description (fail ?
      "videoconvert ! capsfilter caps=video/x-bayer,format=bggr" :
      "videoconvert ! videoflip name=f video-direction=horiz ! "
      "identity name=tap signal-handoffs=true", TRUE, NULL);
  fail_unless (bin != NULL);
  tap = gst_bin_get_by_name (GST_BIN (bin), "tap");
  if (tap) {
    g_signal_connect (tap, "handoff", G_CALLBACK (on_handoff), NULL);
    gst_object_unref (tap);
  }
  /* (transfer full) need not be floating: bindings return plain refs */
  return fail ? bin : gst_object_ref_sink (bin);
}

static GstTrickleWorker *
worker_new (void)
{
  GstTrickleWorker *w = gst_trickle_worker_new ();
  GError *err = NULL;

  g_object_set (w, "host", "127.0.0.1", "port", 0, "status-interval", 2.0,
      NULL);
  fail_unless (gst_trickle_worker_add_param (w, "flip", "f.video-direction",
          NULL));
  g_signal_connect (w, "create-filter", G_CALLBACK (create_filter), NULL);
  fail_unless (gst_trickle_worker_start (w, &err), "%s",
      err ? err->message : "");
  return w;
}

/* BYOC's /stream/start body (byoc/stream_orchestrator.go) */
static gchar *
byoc_body (TrickleTestServer * ts, const gchar * mid, const gchar * params)
{
  gchar *in = orch_url (ts, mid, ""), *out = orch_url (ts, mid, "-out");
  gchar *control = orch_url (ts, mid, "-control");
  gchar *events = orch_url (ts, mid, "-events");
  gchar *data = orch_url (ts, mid, "-data");
  gchar *body = g_strdup_printf ("{\"gateway_request_id\":\"%s\","
      "\"control_url\":\"%s\",\"events_url\":\"%s\",\"subscribe_url\":\"%s\","
      "\"publish_url\":\"%s\",\"data_url\":\"%s\",\"params\":%s}", mid,
      control, events, in, out, data, params);

  g_free (in);
  g_free (out);
  g_free (control);
  g_free (events);
  g_free (data);
  return body;
}

/* what go-livepeer's orchestrator POSTs to /live-video-to-video
 * (server/ai_http.go) */
static gchar *
lv2v_body (TrickleTestServer * ts, const gchar * mid, const gchar * params)
{
  gchar *in = orch_url (ts, mid, ""), *out = orch_url (ts, mid, "-out");
  gchar *control = orch_url (ts, mid, "-control");
  gchar *events = orch_url (ts, mid, "-events");
  gchar *body = g_strdup_printf ("{\"model_id\":\"noop\","
      "\"subscribe_url\":\"%s\",\"publish_url\":\"%s\",\"control_url\":\"%s\","
      "\"events_url\":\"%s\",\"params\":%s,\"gateway_request_id\":\"gw-%s\","
      "\"manifest_id\":\"%s\",\"stream_id\":\"stream-%s\"}", in, out, control,
      events, params, mid, mid, mid);

  g_free (in);
  g_free (out);
  g_free (control);
  g_free (events);
  return body;
}

/* ------------------------------------------------------------------------ */

GST_START_TEST (test_stream)
{
  TrickleTestServer *ts = orch_new ();
  GstTrickleWorker *w = worker_new ();
  guint port = gst_trickle_worker_get_bound_port (w);
  GstElement *input;
  Output *out;
  Reader *events, *data;
  GstTricklePublisher *control = NULL;
  gchar *body, *answer, *h;
  JsonObject *obj;
  guint i, n, at;

  orch_create_channels (ts, "s1");
  events = reader_new (ts, "s1", "-events");
  data = reader_new (ts, "s1", "-data");
  input = input_start (ts, "s1", TRUE);

  h = health (port);
  fail_unless_equals_string (h, "IDLE");
  g_free (h);

  /* BYOC start, the mirror on from the start's params */
  body = byoc_body (ts, "s1", "{\"flip\":\"horiz\"}");
  fail_unless_equals_int (api (port, "POST", "/stream/start", body, NULL,
          &answer), 200);
  obj = parse_object (answer);
  fail_unless_equals_string (json_object_get_string_member (obj, "status"),
      "success");
  fail_unless_equals_string (json_object_get_string_member (obj,
          "request_id"), "s1");
  json_object_unref (obj);
  g_free (answer);
  h = health (port);
  fail_unless_equals_string (h, "OK");
  g_free (h);

  /* one stream at a time */
  fail_unless_equals_int (api (port, "POST", "/stream/start", body, NULL,
          &answer), 503);
  obj = parse_object (answer);
  fail_unless_equals_string (json_object_get_string_member (obj, "status"),
      "error");
  json_object_unref (obj);
  g_free (answer);
  g_free (body);

  out = output_start (ts, "s1");
  output_wait_frames (out, 90);
  n = output_frames (out);
  /* decodable from the first frame, mirrored throughout */
  output_check_kind (out, 0, n, FRAME_FLIPPED);

  /* the control channel: a keep-alive (ignored), then an update */
  publish_doc (ts, "s1", "-control", &control, "{\"keep\":\"alive\"}");
  publish_doc (ts, "s1", "-control", &control, "{\"flip\":\"identity\"}");
  at = output_wait_kind (out, n, FRAME_NORMAL);
  output_wait_frames (out, at + 30);
  output_check_kind (out, at, at + 30, FRAME_NORMAL);
  wait_events (events, "params_updated", 1);

  /* /stream/params, as BYOC sends updates */
  fail_unless_equals_int (api (port, "POST", "/stream/params",
          "{\"flip\":\"horiz\"}", NULL, &answer), 200);
  g_free (answer);
  at = output_wait_kind (out, at + 30, FRAME_FLIPPED);
  output_wait_frames (out, at + 30);
  output_check_kind (out, at, at + 30, FRAME_FLIPPED);

  /* a bad update: 400, reported, nothing changes */
  fail_unless_equals_int (api (port, "POST", "/stream/params",
          "{\"flip\":\"sideways\"}", NULL, &answer), 400);
  fail_unless (strstr (answer, "sideways") != NULL, "%s", answer);
  g_free (answer);
  publish_doc (ts, "s1", "-control", &control, "{\"flip\":[1,2]}");
  wait_events (events, "error", 2);
  /* "set" reaches the filter's elements only: not the output's location */
  fail_unless_equals_int (api (port, "POST", "/stream/params",
          "{\"set\":{\"output.location\":\"http://127.0.0.1:1/x\"}}", NULL,
          &answer), 400);
  g_free (answer);
  fail_unless_equals_int (api (port, "POST", "/stream/params",
          "{\"set\":{\"f.video-direction\":\"horiz\"}}", NULL, &answer), 200);
  g_free (answer);
  n = output_frames (out);
  output_wait_frames (out, n + 30);
  output_check_kind (out, at, n + 30, FRAME_FLIPPED);

  /* status, heartbeats, traces: in the envelope, never far apart */
  wait_events (events, "status", 2);
  wait_events (events, "heartbeat", 2);
  check_status_event (events);
  fail_unless_equals_int (count_events (events,
          "runner_receive_stream_request"), 1);
  fail_unless_equals_int (count_events (events,
          "runner_receive_first_ingest_segment"), 1);
  wait_events (events, "runner_send_first_processed_segment", 1);
  fail_unless_equals_int (count_events (events, "params_updated"), 3);

  /* the data channel: JSON lines, each a batch (array) of the tap's
   * messages */
  {
    gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
    gboolean found = FALSE;
    while (!found) {
      g_mutex_lock (&data->lock);
      for (i = 0; i < data->docs->len && !found; i++) {
        const gchar *line = g_ptr_array_index (data->docs, i);
        JsonParser *p = json_parser_new ();
        JsonArray *arr;
        fail_unless (g_str_has_suffix (line, "\n"), "%s", line);
        fail_unless (strchr (line, '\n') == line + strlen (line) - 1);
        fail_unless (json_parser_load_from_data (p, line, -1, NULL));
        fail_unless (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (p)));
        arr = json_node_get_array (json_parser_get_root (p));
        if (json_array_get_length (arr) > 0) {
          JsonObject *item = json_array_get_object_element (arr, 0);
          fail_unless_equals_string (json_object_get_string_member (item,
                  "label"), "tap");
          fail_unless (json_object_has_member (item, "frame"));
          found = TRUE;
        }
        g_object_unref (p);
      }
      g_mutex_unlock (&data->lock);
      fail_unless (found || g_get_monotonic_time () < deadline);
      if (!found)
        g_usleep (50 * 1000);
    }
  }

  /* stop: answered once the stream is gone; the output ends */
  fail_unless_equals_int (api (port, "POST", "/stream/stop", "", NULL,
          &answer), 200);
  g_free (answer);
  h = health (port);
  fail_unless_equals_string (h, "IDLE");
  g_free (h);
  fail_unless (output_wait_eos (out));
  output_check_sync (out);
  output_check_keyframes (out, FALSE);
  wait_events (events, "stream_stopped", 1);
  check_event_gaps (events);
  fail_unless_equals_int (api (port, "POST", "/stream/stop", "", NULL,
          &answer), 400);
  g_free (answer);
  output_free (out);
  reader_free (events);
  reader_free (data);
  g_object_unref (control);
  control = NULL;

  /* a second stream on the same worker, started as go-livepeer's
   * orchestrator starts ai-runner, params as a JSON string (BYOC's user
   * API form); it ends when the orchestrator closes the channels */
  orch_create_channels (ts, "s2");
  gst_element_set_state (input, GST_STATE_NULL);
  gst_object_unref (input);
  input = input_start (ts, "s2", TRUE);
  body = lv2v_body (ts, "s2", "\"{\\\"flip\\\":\\\"horiz\\\"}\"");
  fail_unless_equals_int (api (port, "POST", "/live-video-to-video", body,
          NULL, &answer), 200);
  obj = parse_object (answer);
  fail_unless (json_object_has_member (obj, "publish_url"));
  json_object_unref (obj);
  g_free (answer);
  g_free (body);
  out = output_start (ts, "s2");
  output_wait_frames (out, 30);
  output_check_kind (out, 0, 30, FRAME_FLIPPED);
  /* closeSession(): the channels go while the gateway still publishes */
  for (i = 0; i < 5; i++) {
    const gchar *suffix[] = { "", "-out", "-control", "-events", "-data" };
    gchar *name = g_strconcat ("s2", suffix[i], NULL);
    gst_trickle_channel_store_remove (ts->store, name);
    g_free (name);
  }
  fail_unless (wait_health (port, "IDLE"));
  gst_element_set_state (input, GST_STATE_NULL);
  gst_object_unref (input);
  output_free (out);

  g_object_unref (w);
  trickle_test_server_free (ts);
}

GST_END_TEST;

GST_START_TEST (test_bad_requests)
{
  TrickleTestServer *ts = orch_new ();
  GstTrickleWorker *w = worker_new ();
  guint port = gst_trickle_worker_get_bound_port (w);
  static const gchar *bad[] = {
    "", "not json", "[1,2]", "{\"subscribe_url\":1}",
    "{\"subscribe_url\":\"\",\"publish_url\":7}",
    "{\"subscribe_url\":\"file:///etc/passwd\"}",
    "{\"subscribe_url\":\"http://127.0.0.1:1/x\",\"params\":3}",
    "{\"subscribe_url\":\"http://127.0.0.1:1/x\",\"params\":\"{bad\"}",
    "{\"subscribe_url\":\"http://127.0.0.1:1/x\",\"params\":\"[1]\"}",
    /* a mapped param that cannot set its property */
    "{\"subscribe_url\":\"http://127.0.0.1:1/x\","
        "\"params\":{\"flip\":\"sideways\"}}",
    "{\"a\":1} {\"b\":2}",
  };
  gchar *answer, *h;
  JsonObject *obj;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    fail_unless_equals_int (api (port, "POST", "/stream/start", bad[i], NULL,
            &answer), 400);
    obj = parse_object (answer);
    fail_unless_equals_string (json_object_get_string_member (obj, "status"),
        "error");
    fail_unless (strlen (json_object_get_string_member (obj, "message")) > 20);
    json_object_unref (obj);
    g_free (answer);
    /* ai-runner's path, ai-runner's error shape */
    fail_unless_equals_int (api (port, "POST", "/live-video-to-video", bad[i],
            NULL, &answer), 400);
    obj = parse_object (answer);
    fail_unless (json_object_get_object_member (obj, "detail") != NULL);
    json_object_unref (obj);
    g_free (answer);
  }
  /* a refused start is not an error of the worker */
  h = health (port);
  fail_unless_equals_string (h, "IDLE");
  g_free (h);

  fail_unless_equals_int (api (port, "POST", "/stream/params", "{}", NULL,
          &answer), 400);
  g_free (answer);
  fail_unless_equals_int (api (port, "GET", "/stream/start", NULL, NULL,
          &answer), 405);
  g_free (answer);
  fail_unless_equals_int (api (port, "GET", "/nothing", NULL, NULL,
          &answer), 404);
  g_free (answer);
  fail_unless_equals_int (api (port, "GET", "/api/stream/status", NULL, NULL,
          &answer), 200);
  obj = parse_object (answer);
  fail_unless_equals_int (json_object_get_int_member (obj, "active_streams"),
      0);
  json_object_unref (obj);
  g_free (answer);
  fail_unless_equals_int (api (port, "GET", "/version", NULL, NULL,
          &answer), 200);
  obj = parse_object (answer);
  fail_unless_equals_string (json_object_get_string_member (obj, "version"),
      PACKAGE_VERSION);
  fail_unless (json_object_has_member (obj, "pipeline"));
  json_object_unref (obj);
  g_free (answer);

  /* BYOC without video ingress: no subscribe_url, the stream is its
   * channels (events flow, params reach the application) */
  {
    Reader *events;
    gchar *control = orch_url (ts, "nb", "-control");
    gchar *ev = orch_url (ts, "nb", "-events");
    gchar *body = g_strdup_printf ("{\"gateway_request_id\":\"nb\","
        "\"control_url\":\"%s\",\"events_url\":\"%s\",\"params\":null}",
        control, ev);
    orch_create_channels (ts, "nb");
    events = reader_new (ts, "nb", "-events");
    fail_unless_equals_int (api (port, "POST", "/stream/start", body, NULL,
            &answer), 200);
    g_free (answer);
    h = health (port);
    fail_unless_equals_string (h, "OK");
    g_free (h);
    wait_events (events, "heartbeat", 1);
    fail_unless_equals_int (api (port, "POST", "/stream/params",
            "{\"prompt\":\"a cat\"}", NULL, &answer), 200);
    g_free (answer);
    fail_unless_equals_int (api (port, "POST", "/stream/params",
            "{\"flip\":\"vert\"}", NULL, &answer), 400);
    g_free (answer);
    wait_events (events, "params_updated", 1);
    fail_unless_equals_int (api (port, "POST", "/stream/stop", "reason",
            NULL, &answer), 200);
    g_free (answer);
    wait_events (events, "stream_stopped", 1);
    reader_free (events);
    g_free (body);
    g_free (control);
    g_free (ev);
  }

  /* a token: 401 without it or with another, as ai-runner's AUTH_TOKEN;
   * the health check stays open */
  g_object_set (w, "auth-token", "s3cret", NULL);
  fail_unless_equals_int (api (port, "POST", "/live-video-to-video", "{}",
          NULL, &answer), 401);
  obj = parse_object (answer);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (obj, "detail"), "msg"),
      "Invalid bearer token.");
  json_object_unref (obj);
  g_free (answer);
  fail_unless_equals_int (api (port, "POST", "/stream/start", "{}", "wrong",
          &answer), 401);
  g_free (answer);
  /* the right token: past the check (a bad body, 400) */
  fail_unless_equals_int (api (port, "POST", "/stream/start", "[]", "s3cret",
          &answer), 400);
  g_free (answer);
  h = health (port);
  fail_unless_equals_string (h, "IDLE");
  g_free (h);

  g_object_unref (w);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* the input stops: the stream ends after input-timeout, the worker is IDLE
 * again; a filter that fails makes it ERROR until the next start */
static void
on_stopped (GstTrickleWorker * w, const gchar * reason, GPtrArray * reasons)
{
  g_ptr_array_add (reasons, g_strdup (reason));
}

GST_START_TEST (test_timeout_and_failure)
{
  GPtrArray *reasons = g_ptr_array_new_with_free_func (g_free);
  TrickleTestServer *ts = orch_new ();
  GstTrickleWorker *w = worker_new ();
  guint port = gst_trickle_worker_get_bound_port (w);
  GstElement *input;
  Reader *events;
  Output *out;
  gchar *body, *answer;

  g_signal_connect (w, "stream-stopped", G_CALLBACK (on_stopped), reasons);
  /* (the timeout counts from the start until the first input: the input
   * flows before the start, so that a loaded machine does not end the
   * stream before its first segment) */
  g_object_set (w, "input-timeout", 4.0, NULL);
  orch_create_channels (ts, "t1");
  events = reader_new (ts, "t1", "-events");
  input = input_start (ts, "t1", FALSE);
  fail_unless (trickle_test_wait_channel_stat (ts, "t1", "segments", 1,
          WAIT_S));
  body = byoc_body (ts, "t1", "{}");
  fail_unless_equals_int (api (port, "POST", "/stream/start", body, NULL,
          &answer), 200);
  g_free (answer);
  g_free (body);
  wait_events (events, "runner_receive_first_ingest_segment", 1);
  /* the publisher goes away without closing the channel */
  gst_element_set_state (input, GST_STATE_NULL);
  fail_unless (wait_health (port, "IDLE"));
  wait_events (events, "stream_stopped", 1);
  reader_free (events);
  fail_unless_equals_int (reasons->len, 1);
  fail_unless_equals_string (g_ptr_array_index (reasons, 0), "input timeout");

  /* a filter that fails (the default input timeout again: a loaded
   * machine may take seconds to start the next streams) */
  g_object_set (w, "input-timeout", 60.0, NULL);
  orch_create_channels (ts, "t2");
  gst_element_set_state (input, GST_STATE_NULL);
  gst_object_unref (input);
  input = input_start (ts, "t2", TRUE);
  events = reader_new (ts, "t2", "-events");
  body = byoc_body (ts, "t2", "{\"fail\":true}");
  fail_unless_equals_int (api (port, "POST", "/stream/start", body, NULL,
          &answer), 200);
  g_free (answer);
  g_free (body);
  fail_unless (wait_health (port, "ERROR"));
  wait_events (events, "error", 1);
  fail_unless_equals_int (reasons->len, 2);
  fail_unless (strstr (g_ptr_array_index (reasons, 1), "video") != NULL,
      "%s", (gchar *) g_ptr_array_index (reasons, 1));
  reader_free (events);
  fail_unless_equals_int (api (port, "GET", "/stream/status", NULL, NULL,
          &answer), 200);
  fail_unless (strstr (answer, "\"error_message\":\"") != NULL, "%s", answer);
  g_free (answer);

  /* the next start recovers */
  orch_create_channels (ts, "t3");
  gst_element_set_state (input, GST_STATE_NULL);
  gst_object_unref (input);
  input = input_start (ts, "t3", TRUE);
  body = byoc_body (ts, "t3", "{}");
  fail_unless_equals_int (api (port, "POST", "/stream/start", body, NULL,
          &answer), 200);
  g_free (answer);
  g_free (body);
  fail_unless (wait_health (port, "OK"));
  out = output_start (ts, "t3");
  output_wait_frames (out, 30);
  output_check_kind (out, 0, 30, FRAME_FLIPPED);
  fail_unless_equals_int (api (port, "POST", "/stream/stop", NULL, NULL,
          &answer), 200);
  g_free (answer);
  output_free (out);
  gst_element_set_state (input, GST_STATE_NULL);
  gst_object_unref (input);

  g_object_unref (w);
  fail_unless_equals_int (reasons->len, 3);
  fail_unless_equals_string (g_ptr_array_index (reasons, 2), "stop requested");
  g_ptr_array_unref (reasons);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* 20 streams in a row on one worker: nothing left behind */
GST_START_TEST (test_cycles)
{
  TrickleTestServer *ts = orch_new ();
  GstTrickleWorker *w = worker_new ();
  guint port = gst_trickle_worker_get_bound_port (w);
  GstElement *input;
  gint fds = -1;
  guint i;

  orch_create_channels (ts, "cyc");
  input = input_start (ts, "cyc", TRUE);
  for (i = 0; i < 20; i++) {
    gchar *mid = g_strdup_printf ("c%u", i);
    gchar *in = orch_url (ts, "cyc", ""), *outu = orch_url (ts, mid, "-out");
    gchar *ctl = orch_url (ts, mid, "-control");
    gchar *ev = orch_url (ts, mid, "-events");
    gchar *body = g_strdup_printf ("{\"subscribe_url\":\"%s\","
        "\"publish_url\":\"%s\",\"control_url\":\"%s\",\"events_url\":\"%s\","
        "\"gateway_request_id\":\"%s\",\"params\":{}}", in, outu, ctl, ev,
        mid);
    gchar *answer, *name;

    orch_create_channels (ts, mid);
    fail_unless_equals_int (api (port, "POST", i % 2 ? "/stream/start" :
            "/live-video-to-video", body, NULL, &answer), 200);
    g_free (answer);
    name = g_strconcat (mid, "-out", NULL);
    fail_unless (trickle_test_wait_channel_stat (ts, name, "bytes", 1, WAIT_S));
    g_free (name);
    fail_unless_equals_int (api (port, "POST", "/stream/stop", NULL, NULL,
            &answer), 200);
    g_free (answer);
    /* from the second cycle on (the first made the one-time threads and
     * caches), the descriptors do not grow */
    GST_INFO ("cycle %u: %d fds", i, trickle_test_count_fds ());
    if (i == 1)
      fds = trickle_test_count_fds ();
    else if (i > 1 && fds >= 0)
      trickle_test_assert_fds_at_most (fds + 2);
    g_free (body);
    g_free (in);
    g_free (outu);
    g_free (ctl);
    g_free (ev);
    g_free (mid);
  }
  gst_element_set_state (input, GST_STATE_NULL);
  gst_object_unref (input);
  g_object_unref (w);
  trickle_test_server_free (ts);
}

GST_END_TEST;

/* the program, started with one filter, serving the exact request of
 * go-livepeer's orchestrator; the output read by ffprobe */
GST_START_TEST (test_program)
{
  const gchar *program = g_getenv ("TRICKLE_WORKER_PROGRAM");
  TrickleTestServer *ts;
  GstElement *input;
  gchar *argv[] = { (gchar *) program, (gchar *) "--host",
    (gchar *) "127.0.0.1", (gchar *) "--port", (gchar *) "0",
    (gchar *) "--filter",
    (gchar *) "videoconvert ! videoflip name=f video-direction=horiz",
    (gchar *) "--param", (gchar *) "flip=f.video-direction", NULL
  };
  GPid pid;
  gint out_fd, status;
  GIOChannel *ch;
  gchar *line = NULL, *body, *answer;
  guint port = 0;
  Output *out;
  GError *err = NULL;
  gchar *ffprobe;

  if (!program) {
    GST_WARNING ("TRICKLE_WORKER_PROGRAM not set: skipped");
    return;
  }
  ts = orch_new ();
  fail_unless (g_spawn_async_with_pipes (NULL, argv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL, &out_fd, NULL,
          &err), "%s", err ? err->message : "");
  ch = g_io_channel_unix_new (out_fd);
  fail_unless (g_io_channel_read_line (ch, &line, NULL, NULL, NULL) ==
      G_IO_STATUS_NORMAL);
  fail_unless (sscanf (line, "gst-trickle-worker: listening on port %u",
          &port) == 1, "%s", line);
  g_free (line);

  /* AAC in (ffmpeg's copy of an RTMP ingest), Opus out */
  orch_create_channels (ts, "p1");
  input = input_start_full (ts, "p1", "aac", FALSE);
  body = lv2v_body (ts, "p1", "{}");
  fail_unless_equals_int (api (port, "POST", "/live-video-to-video", body,
          NULL, &answer), 200);
  g_free (answer);
  g_free (body);
  out = output_start (ts, "p1");
  /* 7 s: a keyframe every 2 s exactly (no scene cuts in this input) */
  output_wait_frames (out, 210);
  output_check_kind (out, 0, 210, FRAME_FLIPPED);
  gst_element_set_state (out->pipeline, GST_STATE_NULL);
  fail_unless (out->audio_samples > 0, "no audio out");
  output_check_keyframes (out, TRUE);
  output_free (out);

  /* ffprobe reads a segment of the output: H.264 and Opus */
  ffprobe = g_find_program_in_path ("ffprobe");
  if (ffprobe) {
    /* the last complete segment (no wait for one being written) */
    GstTrickleChannel *och = gst_trickle_channel_store_lookup (ts->store,
        "p1-out");
    GstStructure *st = gst_trickle_channel_get_stats (och);
    guint64 n = 0;
    gchar *seq, *url;

    gst_structure_get_uint64 (st, "segments", &n);
    fail_unless (n >= 2, "%" G_GUINT64_FORMAT " output segments", n);
    seq = g_strdup_printf ("-out/%" G_GUINT64_FORMAT, n - 1);
    url = orch_url (ts, "p1", seq);
    g_free (seq);
    gst_structure_free (st);
    gst_trickle_channel_unref (och);
    gchar *cmd = g_strdup_printf ("ffprobe -v error -show_entries "
        "stream=codec_name -of csv=p=0 %s", url);
    gchar *probe = NULL;
    gint code = -1;
    gchar *errors = NULL;
    fail_unless (g_spawn_command_line_sync (cmd, &probe, &errors, &code, NULL));
    fail_unless (code == 0 && strstr (probe, "h264")
        && strstr (probe, "opus"), "ffprobe: %s (%s)", probe, errors);
    g_free (probe);
    g_free (errors);
    g_free (cmd);
    g_free (url);
  }
  g_free (ffprobe);

  /* SIGTERM: the stream ends, the program exits cleanly */
  kill (pid, SIGTERM);
  fail_unless (waitpid (pid, &status, 0) == pid);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_spawn_close_pid (pid);
  g_io_channel_unref (ch);
  close (out_fd);
  gst_element_set_state (input, GST_STATE_NULL);
  gst_object_unref (input);
  trickle_test_server_free (ts);
}

GST_END_TEST;

static Suite *
worker_suite (void)
{
  Suite *s = suite_create ("worker");
  TCase *tc = tcase_create ("general");

  /* real encoders and decoders on a loaded 2-core machine */
  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_bad_requests);
  tcase_add_test (tc, test_stream);
  tcase_add_test (tc, test_timeout_and_failure);
  tcase_add_test (tc, test_cycles);
  tcase_add_test (tc, test_program);
  return s;
}

GST_CHECK_MAIN (worker);
