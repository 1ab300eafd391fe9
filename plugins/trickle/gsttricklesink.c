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
 * SECTION:element-tricklesink
 * @title: tricklesink
 *
 * tricklesink publishes its input into a trickle channel: each segment is
 * one HTTP POST to `location/<seq>`, streamed buffer by buffer as the
 * buffers arrive; the POST of the next segment is opened as soon as a
 * segment starts.
 *
 * Segments are cut by caps:
 * - `video/mpegts`: by what the stream carries, not by buffer flags: the
 *   sink follows PAT/PMT and starts a segment at a keyframe (a video PES
 *   with the random access indicator, an H.264 IDR/SPS, H.265 IRAP or
 *   parameter sets, an MPEG-2 sequence or GOP header) once the current one
 *   holds `keyframes-per-segment` keyframes and lasts `min-duration`, on
 *   the TS packet where the keyframe starts, wherever that is in a buffer.
 *   Every segment starts with PAT/PMT (the caps' `streamheader`, or the
 *   last ones seen), so it decodes on its own. Audio-only MPEG-TS is cut
 *   every `min-duration` (1 s when 0); video with no keyframe found in
 *   10 s is cut by duration with a STREAM/FORMAT warning. Sent as
 *   `video/MP2T`. A segment otherwise ends when the next keyframe
 *   arrives; from mpegtsmux (whose buffer lists are one PES each), a
 *   stream whose frames have all been keyframes so far (1-frame
 *   segments: `key-int-max=1`) ends each complete segment right after its
 *   last frame instead, so subscribers need not wait a frame time for its
 *   end.
 * - anything else (raw video or audio, Opus, image/jpeg,
 *   application/json...): `buffers-per-segment` buffers per segment
 *   (default 1), sent with a Content-Type built from the caps
 *   (`video/x-raw;format=I420;width=...`); buffers in the caps (stream
 *   headers, codec_data) begin every segment.
 *
 * A non-live source is paced by the clock (`sync`, as udpsink); a live one
 * is never held. docs/elements.md has the details.
 *
 * The start (the channel's `/next`, its creation) runs beside the stream:
 * what comes meanwhile waits and goes out once the server answers. The
 * EOS of a live stream gives up a start whose request waited 3 s
 * unanswered (a warning says nothing was published); a file's EOS waits
 * for it.
 *
 * At EOS the last segment is finished and, with `delete-on-eos`, the
 * channel is deleted, so subscribers see the end of the stream.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! x264enc tune=zerolatency key-int-max=30 ! mpegtsmux ! tricklesink location=http://127.0.0.1:2939/cam
 * ]| publishes one-second segments of H.264 in MPEG-TS to the channel `cam`.
 * |[
 * gst-launch-1.0 videotestsrc ! video/x-raw,width=320,height=240 ! tricklesink location=http://127.0.0.1:2939/frames
 * ]| publishes one raw frame per segment.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/video/video.h>
#include <gst/base/gsttypefindhelper.h>
#include <gst/trickle/trickle.h>
#include "gsttricklesink.h"
#include "gsttrickledoc.h"
#include "gsttrickleuri.h"
#include "gsttrickleframer.h"
#include "gsttricklepads.h"

GST_DEBUG_CATEGORY_STATIC (gst_trickle_sink_debug);
#define GST_CAT_DEFAULT gst_trickle_sink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_CREATE_CHANNEL FALSE
#define DEFAULT_DELETE_ON_EOS TRUE
#define DEFAULT_KEYFRAMES_PER_SEGMENT 1
#define DEFAULT_BUFFERS_PER_SEGMENT 1
#define DEFAULT_SSL_STRICT TRUE
#define DEFAULT_RETRIES 5
#define DEFAULT_RETRY_DELAY 0.25
#define DEFAULT_TIMEOUT 30
#define DEFAULT_USER_AGENT "gst-trickle/" PACKAGE_VERSION " "

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_CREATE_CHANNEL,
  PROP_DELETE_ON_EOS,
  PROP_KEYFRAMES_PER_SEGMENT,
  PROP_MIN_DURATION,
  PROP_KEYFRAME_INTERVAL,
  PROP_BUFFERS_PER_SEGMENT,
  PROP_SSL_STRICT,
  PROP_TLS_DATABASE,
  PROP_TLS_INTERACTION,
  PROP_EXTRA_HEADERS,
  PROP_SSL_CA_FILE,
  PROP_RETRIES,
  PROP_RETRY_DELAY,
  PROP_TIMEOUT,
  PROP_USER_AGENT,
  PROP_PROXY,
  PROP_PROXY_ID,
  PROP_PROXY_PW,
  PROP_USER_ID,
  PROP_USER_PW,
  PROP_POST_MESSAGES,
  PROP_STATS,
};

struct _GstTrickleSink
{
  GstBaseSink parent;

  /* properties (object lock) */
  gchar *location;
  gboolean create_channel;
  gboolean delete_on_eos;
  guint keyframes_per_segment;
  GstClockTime min_duration;
  GstClockTime keyframe_interval;
  guint buffers_per_segment;
  gboolean ssl_strict;
  GTlsDatabase *tls_database;
  GTlsInteraction *tls_interaction;
  GstStructure *extra_headers;
  gchar *ssl_ca_file;
  gint retries;                 /* -1 forever */
  gdouble retry_delay;          /* s */
  guint timeout;                /* s, 0 none */
  gchar *user_agent;
  gchar *proxy, *proxy_id, *proxy_pw, *user_id, *user_pw;
  gboolean post_messages;

  /* streaming thread */
  GstTricklePublisher *publisher;
  GstTrickleSegmenter *segmenter;
  gchar *content_type;
  gboolean in_segment;
  gboolean sh_pending;          /* the segment's stream header is not out */
  guint sh_written;             /* how much of it is */
  gint64 seg_seq;
  guint64 seg_bytes;
  gint64 seg_start;             /* monotonic, us */
  gint upstream_live;           /* atomic: -1 unknown; see upstream_is_live() */
  GstClockTime pace_base;       /* running time of stream time 0 */

  /* The publisher's start (its /next, a channel's creation) runs in a
   * thread of its own: the streaming thread goes on (what it segments
   * waits in the segmenter), so an EOS is not stuck behind a server that
   * does not answer. A pause does not interrupt the start; a stop does. */
  GThread *start_thread;        /* joined at the next start or stop */
  GMutex start_lock;
  GCond start_cond;
  gboolean starting;            /* under start_lock: the start runs */
  gboolean start_done;          /* under start_lock */
  GError *start_error;          /* under start_lock */
  gboolean unlocked;            /* under start_lock: unlock() came */
  gboolean unlocked_hard;       /* ... for a flush or a stop */
  /* under write_lock: the segmenter and the writing, shared by the
   * streaming thread and the start's thread (which writes what waited
   * as soon as the publisher runs) */
  GMutex write_lock;
  gboolean start_pending;       /* a start whose outcome is not taken yet */
  gboolean start_failed;        /* its failure is posted: not started again */
  guint64 held_bytes;           /* pushed while the start runs */
  /* a piece whose writing unlock() interrupted before its first byte:
   * written first when the sink plays again */
  GstBuffer *held_piece;
  GstTrickleCut held_cut;
  /* the piece after a run of pieces written as one (see take_run()) */
  GstBuffer *next_piece;
  GstTrickleCut next_cut;
};

/* what the segmenter holds before the streaming thread waits for the
 * start (back-pressure: a few seconds of a compressed stream) */
#define HOLD_MAX (8 * 1024 * 1024)
/* how long the end of a live stream (a user stopping a capture, the EOS
 * of `gst-launch-1.0 -e` on Ctrl-C) waits for a start whose request went
 * out whole and is not answered (the publisher's unanswered-time: a slow
 * connection or TLS handshake does not count); then nothing was
 * published. The end of a file waits for the whole start (bounded by
 * `timeout`): its data is not dropped. */
#define EOS_START_GRACE (3 * GST_SECOND)
/* at most this much of the segmenter's pieces is written as one chunk */
#define RUN_MAX (64 * 1024)
/* a piece's data is written (its segment's end may not be): with the
 * GstTrickleCut of an interrupted piece */
#define CUT_WRITTEN (1 << 7)
/* what the writing returns when unlock() interrupted it */
#define FLOW_INTERRUPTED GST_FLOW_CUSTOM_SUCCESS_1


static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_trickle_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTrickleSink, gst_trickle_sink, GST_TYPE_BASE_SINK,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER, gst_trickle_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE (tricklesink, "tricklesink", GST_RANK_MARGINAL,
    GST_TYPE_TRICKLE_SINK);

static void gst_trickle_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_trickle_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_trickle_sink_finalize (GObject * object);
static gboolean gst_trickle_sink_start (GstBaseSink * sink);
static gboolean gst_trickle_sink_stop (GstBaseSink * sink);
static gboolean gst_trickle_sink_set_caps (GstBaseSink * sink, GstCaps * caps);
static GstFlowReturn gst_trickle_sink_render (GstBaseSink * sink,
    GstBuffer * buffer);
static GstFlowReturn gst_trickle_sink_render_list (GstBaseSink * sink,
    GstBufferList * list);
static gboolean gst_trickle_sink_event (GstBaseSink * sink, GstEvent * event);
static gboolean gst_trickle_sink_unlock (GstBaseSink * sink);
static gboolean gst_trickle_sink_unlock_stop (GstBaseSink * sink);
static gboolean start_publisher (GstTrickleSink * self);
static GstTricklePublisher *ref_publisher (GstTrickleSink * self);
static void gst_trickle_sink_get_times (GstBaseSink * sink,
    GstBuffer * buffer, GstClockTime * start, GstClockTime * end);
static gboolean gst_trickle_sink_element_query (GstElement * element,
    GstQuery * query);

static void
gst_trickle_sink_class_init (GstTrickleSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_trickle_sink_set_property;
  gobject_class->get_property = gst_trickle_sink_get_property;
  gobject_class->finalize = gst_trickle_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Channel URL: http(s)://host:port/[base/]channel (trickle:// and "
          "trickles:// are accepted too)", DEFAULT_LOCATION, flags));
  g_object_class_install_property (gobject_class, PROP_CREATE_CHANNEL,
      g_param_spec_boolean ("create-channel", "Create channel",
          "Create the channel (POST with Expect-Content) before publishing",
          DEFAULT_CREATE_CHANNEL, flags));
  g_object_class_install_property (gobject_class, PROP_DELETE_ON_EOS,
      g_param_spec_boolean ("delete-on-eos", "Delete on EOS",
          "Delete the channel at end of stream (subscribers see the end)",
          DEFAULT_DELETE_ON_EOS, flags));
  g_object_class_install_property (gobject_class, PROP_KEYFRAMES_PER_SEGMENT,
      g_param_spec_uint ("keyframes-per-segment", "Keyframes per segment",
          "Byte streams (MPEG-TS): keyframes in one segment", 1, G_MAXUINT,
          DEFAULT_KEYFRAMES_PER_SEGMENT, flags));
  g_object_class_install_property (gobject_class, PROP_MIN_DURATION,
      g_param_spec_uint64 ("min-duration", "Minimum duration",
          "Byte streams (MPEG-TS): a keyframe starts a new segment only once "
          "the current one lasts this long (ns of stream time, as GStreamer's "
          "timestamps; 0: at every "
          "keyframes-per-segment-th keyframe)", 0, G_MAXUINT64, 0, flags));
  g_object_class_install_property (gobject_class, PROP_KEYFRAME_INTERVAL,
      g_param_spec_uint64 ("keyframe-interval", "Keyframe interval",
          "Byte streams (MPEG-TS): ask upstream for a keyframe (an upstream "
          "force-key-unit event, with headers) this often (ns of running "
          "time), which with the keyframe cuts sets the segment length "
          "whatever the encoder's GOP; 0: never ask", 0, G_MAXUINT64, 0,
          flags));
  g_object_class_install_property (gobject_class, PROP_BUFFERS_PER_SEGMENT,
      g_param_spec_uint ("buffers-per-segment", "Buffers per segment",
          "Frame formats (raw, JSON, JPEG...): buffers in one segment", 1,
          G_MAXUINT, DEFAULT_BUFFERS_PER_SEGMENT, flags));
  g_object_class_install_property (gobject_class, PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict",
          "Refuse an https server whose certificate cannot be verified "
          "(FALSE: accept any, for test servers only)", DEFAULT_SSL_STRICT,
          flags));
  g_object_class_install_property (gobject_class, PROP_TLS_DATABASE,
      g_param_spec_object ("tls-database", "TLS database",
          "The TLS database to verify https servers' certificates with "
          "(NULL: the system's; ssl-ca-file, when set, takes precedence)",
          G_TYPE_TLS_DATABASE, flags));
  g_object_class_install_property (gobject_class, PROP_TLS_INTERACTION,
      g_param_spec_object ("tls-interaction", "TLS interaction",
          "A GTlsInteraction to answer an https server's requests (a client "
          "certificate, its password)", G_TYPE_TLS_INTERACTION, flags));
  g_object_class_install_property (gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed ("extra-headers", "Extra headers",
          "HTTP headers added to every request, as souphttpsrc's: each "
          "field a header (headers,Authorization=\"Bearer TOKEN\"); a "
          "value that is not a string is turned into one, an array or a "
          "list repeats the header", GST_TYPE_STRUCTURE, flags));
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of the certificate authorities to trust for https "
          "(instead of the system's); a relative path is taken from the "
          "working directory", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_RETRIES,
      g_param_spec_int ("retries", "Retries",
          "A POST whose connection failed before its headers reached the "
          "server is sent again on the same seq up to this many times in a "
          "row (retry-delay apart), and so is the start's request when no "
          "server answers yet (-1: forever); a segment that breaks in the "
          "middle is dropped with a warning (DELETE of that seq) and "
          "publishing goes on", -1, G_MAXINT, DEFAULT_RETRIES, flags));
  g_object_class_install_property (gobject_class, PROP_RETRY_DELAY,
      g_param_spec_double ("retry-delay", "Retry delay",
          "Seconds before the first retry; the delay doubles with each "
          "failure in a row, up to 16 times this", 0, 3600,
          DEFAULT_RETRY_DELAY, flags));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Seconds a connection's set-up (TCP, TLS handshake), the answer "
          "to a request (a control request, a segment's POST once its body "
          "ended) and any blocked network read or write may take before "
          "the request fails (0: no limit)", 0, 3600, DEFAULT_TIMEOUT, flags));
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
          "libsoup's own, as in souphttpsrc)", DEFAULT_USER_AGENT, flags));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a \"trickle-segment\" element message (seq, bytes, "
          "duration) for every segment published", FALSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "segments (answered), bytes, retries, lost, seq (the next one)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_trickle_set_doc_caps (element_class, "sink");
  gst_element_class_set_static_metadata (element_class, "Trickle sink",
      "Sink/Network", "Publishes a stream into a trickle channel, one "
      "streamed HTTP POST per segment", "gst-trickle developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_trickle_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_trickle_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_trickle_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_trickle_sink_render);
  basesink_class->render_list =
      GST_DEBUG_FUNCPTR (gst_trickle_sink_render_list);
  basesink_class->get_times = GST_DEBUG_FUNCPTR (gst_trickle_sink_get_times);
  element_class->query = GST_DEBUG_FUNCPTR (gst_trickle_sink_element_query);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_trickle_sink_event);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_trickle_sink_unlock);
  basesink_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_trickle_sink_unlock_stop);

  GST_DEBUG_CATEGORY_INIT (gst_trickle_sink_debug, "tricklesink", 0,
      "Trickle publisher");
}

static void
gst_trickle_sink_init (GstTrickleSink * self)
{
  self->create_channel = DEFAULT_CREATE_CHANNEL;
  self->delete_on_eos = DEFAULT_DELETE_ON_EOS;
  self->keyframes_per_segment = DEFAULT_KEYFRAMES_PER_SEGMENT;
  self->buffers_per_segment = DEFAULT_BUFFERS_PER_SEGMENT;
  self->ssl_strict = DEFAULT_SSL_STRICT;
  self->retries = DEFAULT_RETRIES;
  self->retry_delay = DEFAULT_RETRY_DELAY;
  self->timeout = DEFAULT_TIMEOUT;
  self->user_agent = g_strdup (DEFAULT_USER_AGENT);
  self->segmenter = gst_trickle_segmenter_new ();
  g_mutex_init (&self->start_lock);
  g_cond_init (&self->start_cond);
  g_mutex_init (&self->write_lock);
  /* sync (basesink's default) paces sources that are not live; see
   * gst_trickle_sink_get_times() */
}

static void
gst_trickle_sink_finalize (GObject * object)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (object);

  g_free (self->location);
  g_free (self->user_agent);
  g_free (self->proxy);
  g_free (self->proxy_id);
  g_free (self->proxy_pw);
  g_free (self->user_id);
  g_free (self->user_pw);
  if (self->extra_headers)
    gst_structure_free (self->extra_headers);
  g_free (self->ssl_ca_file);
  g_clear_object (&self->tls_database);
  g_clear_object (&self->tls_interaction);
  g_free (self->content_type);
  gst_trickle_segmenter_free (self->segmenter);
  g_clear_object (&self->publisher);
  g_clear_error (&self->start_error);
  g_mutex_clear (&self->start_lock);
  g_cond_clear (&self->start_cond);
  g_mutex_clear (&self->write_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_trickle_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (object);

  if (prop_id == PROP_LOCATION) {
    /* trickle:// and trickles:// are stored as http:// and https:// */
    gst_trickle_uri_set_location (GST_ELEMENT (self), &self->location,
        g_value_get_string (value), NULL);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CREATE_CHANNEL:
      self->create_channel = g_value_get_boolean (value);
      break;
    case PROP_DELETE_ON_EOS:
      self->delete_on_eos = g_value_get_boolean (value);
      break;
    case PROP_KEYFRAMES_PER_SEGMENT:
      self->keyframes_per_segment = g_value_get_uint (value);
      break;
    case PROP_MIN_DURATION:
      self->min_duration = g_value_get_uint64 (value);
      break;
    case PROP_KEYFRAME_INTERVAL:
      self->keyframe_interval = g_value_get_uint64 (value);
      break;
    case PROP_BUFFERS_PER_SEGMENT:
      self->buffers_per_segment = g_value_get_uint (value);
      break;
    case PROP_SSL_STRICT:
      self->ssl_strict = g_value_get_boolean (value);
      break;
    case PROP_TLS_DATABASE:
      g_clear_object (&self->tls_database);
      self->tls_database = g_value_dup_object (value);
      break;
    case PROP_TLS_INTERACTION:
      g_clear_object (&self->tls_interaction);
      self->tls_interaction = g_value_dup_object (value);
      break;
    case PROP_EXTRA_HEADERS:
      if (self->extra_headers)
        gst_structure_free (self->extra_headers);
      self->extra_headers = g_value_dup_boxed (value);
      break;
    case PROP_SSL_CA_FILE:
      g_free (self->ssl_ca_file);
      self->ssl_ca_file = g_value_dup_string (value);
      break;
    case PROP_RETRIES:
      self->retries = g_value_get_int (value);
      break;
    case PROP_RETRY_DELAY:
      self->retry_delay = g_value_get_double (value);
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_uint (value);
      break;
    case PROP_USER_AGENT:
      g_free (self->user_agent);
      self->user_agent = g_value_dup_string (value);
      break;
    case PROP_PROXY:
      g_free (self->proxy);
      self->proxy = g_value_dup_string (value);
      break;
    case PROP_PROXY_ID:
      g_free (self->proxy_id);
      self->proxy_id = g_value_dup_string (value);
      break;
    case PROP_PROXY_PW:
      g_free (self->proxy_pw);
      self->proxy_pw = g_value_dup_string (value);
      break;
    case PROP_USER_ID:
      g_free (self->user_id);
      self->user_id = g_value_dup_string (value);
      break;
    case PROP_USER_PW:
      g_free (self->user_pw);
      self->user_pw = g_value_dup_string (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_trickle_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_CREATE_CHANNEL:
      g_value_set_boolean (value, self->create_channel);
      break;
    case PROP_DELETE_ON_EOS:
      g_value_set_boolean (value, self->delete_on_eos);
      break;
    case PROP_KEYFRAMES_PER_SEGMENT:
      g_value_set_uint (value, self->keyframes_per_segment);
      break;
    case PROP_MIN_DURATION:
      g_value_set_uint64 (value, self->min_duration);
      break;
    case PROP_KEYFRAME_INTERVAL:
      g_value_set_uint64 (value, self->keyframe_interval);
      break;
    case PROP_BUFFERS_PER_SEGMENT:
      g_value_set_uint (value, self->buffers_per_segment);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, self->ssl_strict);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, self->tls_database);
      break;
    case PROP_TLS_INTERACTION:
      g_value_set_object (value, self->tls_interaction);
      break;
    case PROP_EXTRA_HEADERS:
      g_value_set_boxed (value, self->extra_headers);
      break;
    case PROP_SSL_CA_FILE:
      g_value_set_string (value, self->ssl_ca_file);
      break;
    case PROP_RETRIES:
      g_value_set_int (value, self->retries);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_double (value, self->retry_delay);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, self->user_agent);
      break;
    case PROP_PROXY:
      g_value_set_string (value, self->proxy);
      break;
    case PROP_PROXY_ID:
      g_value_set_string (value, self->proxy_id);
      break;
    case PROP_PROXY_PW:
      g_value_set_string (value, self->proxy_pw);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, self->user_id);
      break;
    case PROP_USER_PW:
      g_value_set_string (value, self->user_pw);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_STATS:
      if (self->publisher)
        g_value_take_boxed (value,
            gst_trickle_publisher_get_stats (self->publisher));
      else
        g_value_take_boxed (value,
            gst_structure_new ("trickle-publisher-stats", "segments",
                G_TYPE_UINT64, (guint64) 0, "bytes", G_TYPE_UINT64,
                (guint64) 0, "retries", G_TYPE_UINT64, (guint64) 0, "lost",
                G_TYPE_UINT64, (guint64) 0, "seq", G_TYPE_INT64,
                G_GINT64_CONSTANT (-1), NULL));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* what waits to be written goes (a flush, a lost segment) */
static void
reset_pending (GstTrickleSink * self)
{
  gst_trickle_segmenter_reset (self->segmenter);
  gst_clear_buffer (&self->held_piece);
  gst_clear_buffer (&self->next_piece);
  self->sh_pending = FALSE;
}

/* posts the publisher's error on the bus, as the right GStreamer error;
 * an interruption by unlock() is FLOW_INTERRUPTED */
static GstFlowReturn
report_error (GstTrickleSink * self, GError * err)
{
  GstFlowReturn ret = GST_FLOW_ERROR;

  if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CANCELLED)) {
    ret = FLOW_INTERRUPTED;
  } else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST)) {
    /* the rest of this segment is dropped; the next one starts afresh (at
     * a keyframe for MPEG-TS) */
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("A segment could not be published to \"%s\"", self->location),
        ("%s", err->message));
    self->in_segment = FALSE;
    self->sh_pending = FALSE;
    ret = GST_FLOW_OK;
  } else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CLOSED)) {
    /* the channel was closed by its host: publishing ends cleanly */
    GST_INFO_OBJECT (self, "%s", err->message);
    ret = GST_FLOW_EOS;
  } else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_NOT_AUTHORIZED)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
        ("Not authorized to publish to \"%s\"", self->location),
        ("%s", err->message));
  } else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Trickle channel \"%s\" not found", self->location),
        ("%s", err->message));
  } else {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not publish to \"%s\"", self->location), ("%s", err->message));
  }
  g_error_free (err);
  return ret;
}

static GstFlowReturn write_pieces_resumable (GstTrickleSink * self);
static GstFlowReturn wait_started (GstTrickleSink * self, gint64 deadline,
    gboolean interruptible);
static gboolean upstream_is_live (GstTrickleSink * self);

/* Called in the streaming thread with write_lock: waits for a pending
 * start, as wait_started(). A live stream gives up
 * (GST_FLOW_CUSTOM_SUCCESS) once the start's request has waited
 * EOS_START_GRACE for its answer; a pause prerolls, a flush returns
 * GST_FLOW_FLUSHING with the start still pending. */
static GstFlowReturn
wait_start_unless_silent (GstTrickleSink * self)
{
  gboolean live = upstream_is_live (self);
  GstFlowReturn ret;

  for (;;) {
    GstTricklePublisher *pub;
    guint64 waited = 0;

    ret = wait_started (self, live ? g_get_monotonic_time () +
        100 * G_TIME_SPAN_MILLISECOND : G_MAXINT64, TRUE);
    if (ret == FLOW_INTERRUPTED) {
      ret = gst_base_sink_wait_preroll (GST_BASE_SINK (self));
      if (ret != GST_FLOW_OK)
        return ret;
      continue;
    }
    if (ret != GST_FLOW_CUSTOM_SUCCESS)
      return ret;
    pub = ref_publisher (self);
    if (pub) {
      g_object_get (pub, "unanswered-time", &waited, NULL);
      g_object_unref (pub);
    }
    if (waited >= EOS_START_GRACE)
      return GST_FLOW_CUSTOM_SUCCESS;
  }
}

/* called with write_lock */
static gboolean
apply_caps (GstTrickleSink * self, GstCaps * caps)
{
  if (self->start_pending && self->held_bytes > 0) {
    /* what came under the old caps goes out under them: it waits for the
     * start (the new Content-Type and stream header apply after it), as
     * long as an EOS would (a live stream: see EOS_START_GRACE; then what
     * waited is dropped and the start goes on) */
    GstFlowReturn ret = wait_start_unless_silent (self);

    if (ret == GST_FLOW_OK) {
      write_pieces_resumable (self);
    } else if (ret == GST_FLOW_CUSTOM_SUCCESS) {
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("The start of the stream was not published to \"%s\": the "
              "server did not answer before the caps changed", self->location),
          ("%" G_GUINT64_FORMAT " bytes dropped", self->held_bytes));
      reset_pending (self);
      self->held_bytes = 0;
    }
  } else if (self->held_piece || self->next_piece) {
    /* a write a pause interrupted: out under the old caps first */
    write_pieces_resumable (self);
  }
  gst_trickle_segmenter_set_caps (self->segmenter, caps);
  g_free (self->content_type);
  self->content_type =
      g_strdup (gst_trickle_segmenter_get_content_type (self->segmenter));
  GST_INFO_OBJECT (self, "Content-Type %s, %u streamheader buffers",
      self->content_type,
      gst_trickle_segmenter_get_streamheader (self->segmenter)->len);
  if (self->publisher) {
    /* (during the start: set once it runs, see wait_started()) */
    if (!self->start_pending)
      g_object_set (self->publisher, "mime-type", self->content_type, NULL);
  } else if (self->start_failed || !start_publisher (self)) {
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_trickle_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  gboolean ok;

  g_mutex_lock (&self->write_lock);
  ok = apply_caps (self, caps);
  g_mutex_unlock (&self->write_lock);
  return ok;
}

/* The publisher starts only with the caps: a location that cannot work is
 * reported at start already. One without a channel name
 * (`http://host:port/`) would publish to `/0`, `/1`... of the server's
 * root and end "successfully". */
static gboolean
location_names_channel (const gchar * location)
{
  GUri *uri;
  gchar *path;
  gboolean ok;

  if (!location || !(g_str_has_prefix (location, "http://")
          || g_str_has_prefix (location, "https://")))
    return FALSE;
  uri = g_uri_parse (location, G_URI_FLAGS_ENCODED, NULL);
  if (!uri)
    return FALSE;
  /* one trailing slash is ignored, as the publisher does */
  path = g_strdup (g_uri_get_path (uri));
  if (g_str_has_suffix (path, "/"))
    path[strlen (path) - 1] = '\0';
  ok = g_uri_get_host (uri) && *g_uri_get_host (uri) && *path
      && !g_str_has_suffix (path, "/");
  g_free (path);
  g_uri_unref (uri);
  return ok;
}

static gboolean
gst_trickle_sink_start (GstBaseSink * sink)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  gboolean ok;

  GST_OBJECT_LOCK (self);
  ok = location_names_channel (self->location);
  GST_OBJECT_UNLOCK (self);
  if (!ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No valid location set (an http:// or https:// channel URL: "
            "http(s)://host:port/[base/]channel)"),
        ("location: %s", GST_STR_NULL (self->location)));
    return FALSE;
  }
  self->in_segment = FALSE;
  self->start_failed = FALSE;
  g_atomic_int_set (&self->upstream_live, -1);
  self->pace_base = GST_CLOCK_TIME_NONE;
  GST_OBJECT_LOCK (self);
  gst_trickle_segmenter_configure (self->segmenter,
      self->keyframes_per_segment, self->min_duration,
      self->keyframe_interval, self->buffers_per_segment);
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->start_lock);
  self->unlocked = FALSE;
  g_mutex_unlock (&self->start_lock);
  reset_pending (self);
  return TRUE;
}

/* The publisher starts once the caps are known: its first (preconnected)
 * POST carries the Content-Type, which names an auto-created channel's
 * type, and create-channel sends it as Expect-Content. */
static GstFlowReturn write_pieces (GstTrickleSink * self);

static gpointer
start_thread_func (gpointer data)
{
  GstTrickleSink *self = data;
  GstTricklePublisher *pub;
  GError *err = NULL;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  pub = g_object_ref (self->publisher);
  GST_OBJECT_UNLOCK (self);
  ok = gst_trickle_publisher_start (pub, &err);
  g_mutex_lock (&self->start_lock);
  self->starting = FALSE;
  self->start_done = TRUE;
  self->start_error = err;
  /* an unlock() (a pause) that came during the start interrupts the
   * publisher from now on, until unlock_stop() */
  if (ok && self->unlocked_hard)
    gst_trickle_publisher_abort (pub);
  else if (ok && self->unlocked)
    gst_trickle_publisher_unlock (pub);
  g_cond_broadcast (&self->start_cond);
  g_mutex_unlock (&self->start_lock);
  g_object_unref (pub);
  /* what waited goes out now, not with the next buffer (which, for a
   * 1-frame segment, would be a frame late); what a pause interrupts is
   * written by the streaming thread when it plays again */
  g_mutex_lock (&self->write_lock);
  if (ok)
    write_pieces (self);
  else if (self->start_pending)
    wait_started (self, 0, FALSE);      /* its error, posted now */
  g_mutex_unlock (&self->write_lock);
  return NULL;
}

/* called with write_lock */
static gboolean
start_publisher (GstTrickleSink * self)
{
  GstTricklePublisher *pub;
  gchar *location;

  if (self->start_thread) {
    /* a start that ended (its outcome taken): its thread ends, once it
     * has write_lock (see start_thread_func()) */
    g_mutex_unlock (&self->write_lock);
    g_thread_join (self->start_thread);
    g_mutex_lock (&self->write_lock);
    self->start_thread = NULL;
  }
  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  GST_OBJECT_UNLOCK (self);
  pub = gst_trickle_publisher_new (location, self->content_type);
  g_free (location);
  GST_OBJECT_LOCK (self);
  /* set before it starts: stop() interrupts the start */
  self->publisher = pub;
  g_object_set (self->publisher, "create-channel", self->create_channel,
      "ssl-strict", self->ssl_strict, "tls-database", self->tls_database,
      "tls-interaction", self->tls_interaction,
      "extra-headers", self->extra_headers, "ssl-ca-file", self->ssl_ca_file,
      "retries", self->retries, "retry-delay", self->retry_delay,
      "timeout", self->timeout, "user-agent", self->user_agent,
      "proxy", self->proxy, "proxy-id", self->proxy_id, "proxy-pw",
      self->proxy_pw, "user-id", self->user_id, "user-pw", self->user_pw, NULL);
  GST_OBJECT_UNLOCK (self);
  self->in_segment = FALSE;
  self->held_bytes = 0;
  self->start_pending = TRUE;
  g_mutex_lock (&self->start_lock);
  self->starting = TRUE;
  self->start_done = FALSE;
  g_clear_error (&self->start_error);
  g_mutex_unlock (&self->start_lock);
  self->start_thread = g_thread_new ("trickle-sink-start", start_thread_func,
      self);
  return TRUE;
}

/* Called with write_lock. A start whose outcome is not taken: waits for it
 * until @deadline (monotonic µs; G_MAXINT64: until it ends, which stop()
 * hastens) or, when @interruptible, an unlock(). GST_FLOW_OK once the
 * publisher runs, GST_FLOW_CUSTOM_SUCCESS when the deadline came first,
 * FLOW_INTERRUPTED on an unlock(), else its failure, posted (the
 * publisher is then dropped; a start that stop() or an EOS interrupted is
 * GST_FLOW_FLUSHING, and a new one starts with the next caps or
 * buffer). */
static GstFlowReturn
wait_started (GstTrickleSink * self, gint64 deadline, gboolean interruptible)
{
  GstTricklePublisher *pub;
  GError *err;

  if (!self->start_pending)
    return self->publisher ? GST_FLOW_OK : GST_FLOW_FLUSHING;
  g_mutex_lock (&self->start_lock);
  while (!self->start_done && !(interruptible && self->unlocked))
    if (deadline == G_MAXINT64)
      g_cond_wait (&self->start_cond, &self->start_lock);
    else if (!g_cond_wait_until (&self->start_cond, &self->start_lock,
            deadline))
      break;
  if (!self->start_done) {
    gboolean unlocked = interruptible && self->unlocked;

    g_mutex_unlock (&self->start_lock);
    return unlocked ? FLOW_INTERRUPTED : GST_FLOW_CUSTOM_SUCCESS;
  }
  err = self->start_error;
  self->start_error = NULL;
  g_mutex_unlock (&self->start_lock);
  self->start_pending = FALSE;
  self->held_bytes = 0;
  if (!err) {
    /* caps that came during the start */
    g_object_set (self->publisher, "mime-type", self->content_type, NULL);
    return GST_FLOW_OK;
  }

  if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CANCELLED))
    GST_INFO_OBJECT (self, "start interrupted (flushing)");
  else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND))
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Trickle channel \"%s\" not found", self->location),
        ("%s", err->message));
  else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_NOT_AUTHORIZED))
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
        ("Not authorized to publish to \"%s\"", self->location),
        ("%s", err->message));
  else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_SETTINGS))
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Could not publish to \"%s\"", self->location), ("%s", err->message));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not connect to \"%s\"", self->location), ("%s", err->message));
  GST_OBJECT_LOCK (self);
  pub = self->publisher;
  self->publisher = NULL;
  GST_OBJECT_UNLOCK (self);
  g_clear_object (&pub);
  /* what was segmented for it goes */
  reset_pending (self);
  if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CANCELLED)) {
    g_error_free (err);
    return GST_FLOW_FLUSHING;
  }
  /* a start that failed is not made again at every buffer: its error is
   * posted, the stream ends */
  self->start_failed = TRUE;
  g_error_free (err);
  return GST_FLOW_ERROR;
}

static gboolean
gst_trickle_sink_stop (GstBaseSink * sink)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);

  GstTricklePublisher *pub;

  if (self->start_thread) {
    /* interrupted at once: the state change does not wait for it */
    pub = ref_publisher (self);
    if (pub) {
      gst_trickle_publisher_abort (pub);
      g_object_unref (pub);
    }
    g_thread_join (self->start_thread);
    self->start_thread = NULL;
    g_mutex_lock (&self->write_lock);
    wait_started (self, G_MAXINT64, FALSE);
    g_mutex_unlock (&self->write_lock);
  }
  g_mutex_lock (&self->write_lock);
  reset_pending (self);
  g_mutex_unlock (&self->write_lock);
  GST_OBJECT_LOCK (self);
  pub = self->publisher;
  self->publisher = NULL;
  GST_OBJECT_UNLOCK (self);
  if (pub) {
    /* a state change never waits for the server */
    gst_trickle_publisher_close (pub);
    g_object_unref (pub);
  }
  return TRUE;
}

static GstFlowReturn
write_buffer (GstTrickleSink * self, GstBuffer * buf)
{
  GstMapInfo map;
  GError *err = NULL;
  gboolean ok;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_ERROR;
  ok = gst_trickle_publisher_write (self->publisher, map.data, map.size, &err);
  gst_buffer_unmap (buf, &map);
  if (ok)
    self->seg_bytes += map.size;
  return ok ? GST_FLOW_OK : report_error (self, err);
}

/* the current segment's body ended: the "trickle-segment" message */
static void
segment_done (GstTrickleSink * self)
{
  gboolean post;

  self->in_segment = FALSE;
  GST_OBJECT_LOCK (self);
  post = self->post_messages;
  GST_OBJECT_UNLOCK (self);
  if (post)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("trickle-segment", "seq", G_TYPE_INT64,
                self->seg_seq, "bytes", G_TYPE_UINT64, self->seg_bytes,
                "duration", G_TYPE_UINT64, (guint64) (g_get_monotonic_time ()
                    - self->seg_start) * GST_USECOND, NULL)));
}

static GstFlowReturn
begin_segment (GstTrickleSink * self)
{
  GError *err = NULL;
  gint64 seq;

  if (self->in_segment)
    segment_done (self);        /* ended by begin_segment() below */
  seq = gst_trickle_publisher_begin_segment (self->publisher, &err);
  if (seq < 0)
    return report_error (self, err);
  GST_DEBUG_OBJECT (self, "segment %" G_GINT64_FORMAT, seq);
  self->in_segment = TRUE;
  self->seg_seq = seq;
  self->seg_bytes = 0;
  self->seg_start = g_get_monotonic_time ();
  /* every MPEG-TS segment starts with PAT/PMT so it decodes on its own */
  self->sh_pending = TRUE;
  self->sh_written = 0;
  return GST_FLOW_OK;
}

/* the rest of the segment's stream header (an interrupted one goes on
 * where it stopped) */
static GstFlowReturn
write_stream_header (GstTrickleSink * self)
{
  GPtrArray *sh = gst_trickle_segmenter_get_streamheader (self->segmenter);
  GstFlowReturn ret;

  while (self->sh_pending && self->sh_written < sh->len) {
    ret = write_buffer (self, g_ptr_array_index (sh, self->sh_written));
    if (ret != GST_FLOW_OK || !self->in_segment)
      return ret;
    self->sh_written++;
  }
  self->sh_pending = FALSE;
  return GST_FLOW_OK;
}

/* writes one piece the segmenter cut; what is done of @cut is taken out
 * of it (an interrupted piece is written again from there) */
static GstFlowReturn
write_piece (GstTrickleSink * self, GstBuffer * piece, GstTrickleCut * cut)
{
  GstFlowReturn ret;

  if (*cut & GST_TRICKLE_CUT_NO_KEYFRAME)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("No keyframe found in the MPEG-TS: cut by duration, segments may "
            "not decode on their own"), ("publishing to %s", self->location));
  *cut &= ~GST_TRICKLE_CUT_NO_KEYFRAME;
  if (*cut & GST_TRICKLE_CUT_BEGIN) {
    ret = begin_segment (self);
    if (ret != GST_FLOW_OK)
      return ret;
    *cut &= ~GST_TRICKLE_CUT_BEGIN;
  }
  if (self->sh_pending && self->in_segment) {
    ret = write_stream_header (self);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  if (!self->in_segment)
    return GST_FLOW_OK;         /* this segment was lost: wait for the next */
  if (!(*cut & CUT_WRITTEN)) {
    ret = write_buffer (self, piece);
    if (ret != GST_FLOW_OK || !self->in_segment)
      return ret;
    *cut |= CUT_WRITTEN;
  }
  if (*cut & GST_TRICKLE_CUT_END_AFTER) {
    GError *err = NULL;

    ret = GST_FLOW_OK;
    if (!gst_trickle_publisher_end_segment (self->publisher, &err)) {
      ret = report_error (self, err);
      if (ret == FLOW_INTERRUPTED)
        return ret;
    }
    if (self->in_segment)
      segment_done (self);
    return ret;
  }
  return GST_FLOW_OK;
}

/* the next piece of the segmenter, or of next_piece */
static GstBuffer *
take_piece (GstTrickleSink * self, GstTrickleCut * cut)
{
  GstBuffer *piece = self->next_piece;

  if (!piece)
    return gst_trickle_segmenter_pop (self->segmenter, cut);
  *cut = self->next_cut;
  self->next_piece = NULL;
  return piece;
}

/* The next piece to write, with the pieces after it that go into the
 * same segment joined to it (up to RUN_MAX): one chunk, one system call.
 * An MPEG-TS muxer pushes every 188-byte packet as a buffer of its own;
 * written one by one, each was a chunk and a sendmsg() (4 times the
 * network packets of go-livepeer's publisher). */
static GstBuffer *
take_run (GstTrickleSink * self, GstTrickleCut * cut)
{
  GstBuffer *run = take_piece (self, cut), *piece;
  GstTrickleCut next;
  gsize size;

  if (!run)
    return NULL;
  size = gst_buffer_get_size (run);
  while (!(*cut & GST_TRICKLE_CUT_END_AFTER) && size < RUN_MAX
      && (piece = take_piece (self, &next))) {
    if (next & (GST_TRICKLE_CUT_BEGIN | GST_TRICKLE_CUT_NO_KEYFRAME)) {
      self->next_piece = piece;
      self->next_cut = next;
      break;
    }
    size += gst_buffer_get_size (piece);
    run = gst_buffer_append (run, piece);
    *cut |= next;
  }
  return run;
}

/* writes what the segmenter has ready; after an error the rest goes */
static GstFlowReturn
write_pieces (GstTrickleSink * self)
{
  GstFlowReturn ret = GST_FLOW_OK;
  GstTrickleCut cut;
  GstBuffer *piece;

  if (self->start_pending) {
    /* the pieces wait in the segmenter, up to HOLD_MAX */
    ret = wait_started (self, self->held_bytes > HOLD_MAX ? G_MAXINT64 : 0,
        TRUE);
    if (ret == GST_FLOW_CUSTOM_SUCCESS)
      return GST_FLOW_OK;
    if (ret != GST_FLOW_OK)
      return ret;
  }
  if (!self->publisher)
    return GST_FLOW_OK;

  for (;;) {
    if (self->held_piece) {
      piece = self->held_piece;
      cut = self->held_cut;
      self->held_piece = NULL;
    } else if (!(piece = take_run (self, &cut))) {
      break;
    }
    if (ret == GST_FLOW_OK) {
      ret = write_piece (self, piece, &cut);
      if (ret == FLOW_INTERRUPTED) {
        self->held_piece = piece;
        self->held_cut = cut;
        return ret;
      }
    }
    gst_buffer_unref (piece);
  }
  return ret;
}

/* Called in the streaming thread (render, EOS: the preroll lock is held)
 * with write_lock: writes what is ready. An unlock() interrupts the
 * writing (or the wait for the start): a pause prerolls and, once the
 * sink plays again, the writing goes on where it stopped; a flush or a
 * stop ends it (GST_FLOW_FLUSHING). */
static GstFlowReturn
write_pieces_resumable (GstTrickleSink * self)
{
  GstFlowReturn ret;

  while ((ret = write_pieces (self)) == FLOW_INTERRUPTED) {
    GST_DEBUG_OBJECT (self, "writing interrupted: waiting to play again");
    ret = gst_base_sink_wait_preroll (GST_BASE_SINK (self));
    if (ret != GST_FLOW_OK) {
      reset_pending (self);
      return ret;
    }
  }
  return ret;
}

/* Whether the source is live: from the pipeline's latency query before
 * it plays, or, for a buffer that comes before that query (a live
 * source's first one, while the sink prerolls), asked upstream now. */
static gboolean
upstream_is_live (GstTrickleSink * self)
{
  gint live = g_atomic_int_get (&self->upstream_live);

  if (live < 0) {
    GstQuery *query = gst_query_new_latency ();
    gboolean l = FALSE;

    if (gst_pad_peer_query (GST_BASE_SINK_PAD (self), query))
      gst_query_parse_latency (query, &l, NULL, NULL);
    gst_query_unref (query);
    g_atomic_int_compare_and_exchange (&self->upstream_live, -1, l);
    live = g_atomic_int_get (&self->upstream_live);
  }
  return live > 0;
}

/* MPEG-TS from a source that is not live, with sync on: paced by the
 * stream's own PES timestamps, which basesink cannot see; its buffer
 * timestamps may mean nothing (tsparse stamps every buffer 0, filesrc
 * none). A pause while waiting prerolls on @buffer (the pipeline's PAUSED
 * completes) and waits for PLAYING again, as basesink's own sync does. */
static GstFlowReturn
pace (GstTrickleSink * self, GstBuffer * buffer)
{
  GstBaseSink *sink = GST_BASE_SINK (self);
  GstClockTime t, now;
  GstFlowReturn ret;

  if (!gst_base_sink_get_sync (sink)
      || !gst_trickle_segmenter_is_byte_stream (self->segmenter)
      || upstream_is_live (self))
    return GST_FLOW_OK;
  t = gst_trickle_segmenter_get_stream_time (self->segmenter);
  if (!GST_CLOCK_TIME_IS_VALID (t))
    return GST_FLOW_OK;
  if (!GST_CLOCK_TIME_IS_VALID (self->pace_base)) {
    now = gst_trickle_framer_now (GST_ELEMENT (self));
    if (!GST_CLOCK_TIME_IS_VALID (now))
      return GST_FLOW_OK;       /* no clock: nothing to pace by */
    self->pace_base = now > t ? now - t : 0;
  }
  for (;;) {
    ret = gst_base_sink_do_preroll (sink, GST_MINI_OBJECT_CAST (buffer));
    if (ret != GST_FLOW_OK)
      return ret;
    if (gst_base_sink_wait_clock (sink, self->pace_base + t, NULL) !=
        GST_CLOCK_UNSCHEDULED)
      return GST_FLOW_OK;
    if (sink->flushing)         /* the preroll lock is held in render */
      return GST_FLOW_FLUSHING;
  }
}

/* no caps came (filesrc straight into the sink): the data says what it
 * is, or the user is told to say it */
static gboolean
caps_from_data (GstTrickleSink * self, GstBuffer * buffer)
{
  GstCaps *caps = gst_type_find_helper_for_buffer (GST_OBJECT (self),
      buffer, NULL);
  gboolean ok;

  if (!caps) {
    GST_ELEMENT_ERROR (self, STREAM, TYPE_NOT_FOUND,
        ("The stream has no caps and its type could not be found"),
        ("give the format with a capsfilter or a parser (e.g. "
            "filesrc ! tsparse ! tricklesink)"));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "no caps: the data looks like %" GST_PTR_FORMAT, caps);
  ok = apply_caps (self, caps);
  gst_caps_unref (caps);
  return ok;
}

/* one buffer into the segmenter (@list: it is one of a list, pushed with
 * the list); the pieces are written by the caller */
static GstFlowReturn
render_one (GstTrickleSink * self, GstBuffer * buffer, gboolean in_list)
{
  GstSegment *segment = &GST_BASE_SINK (self)->segment;
  GstFlowReturn ret;

  /* keyframe-interval: ask upstream for a keyframe at that cadence */
  if (GST_BUFFER_PTS_IS_VALID (buffer) && segment->format == GST_FORMAT_TIME
      && gst_trickle_segmenter_wants_keyframe (self->segmenter,
          gst_segment_to_running_time (segment, GST_FORMAT_TIME,
              GST_BUFFER_PTS (buffer)))) {
    GST_DEBUG_OBJECT (self, "asking upstream for a keyframe");
    gst_pad_push_event (GST_BASE_SINK_PAD (self),
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
            TRUE, 0));
  }

  if (self->start_failed)
    return GST_FLOW_ERROR;
  if (!self->publisher && !caps_from_data (self, buffer))
    return GST_FLOW_NOT_NEGOTIATED;
  if (self->start_pending)
    self->held_bytes += gst_buffer_get_size (buffer);
  if (!in_list)
    gst_trickle_segmenter_push (self->segmenter, gst_buffer_ref (buffer));
  ret = pace (self, buffer);
  if (ret != GST_FLOW_OK)
    reset_pending (self);
  return ret;
}

static GstFlowReturn
gst_trickle_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  GstFlowReturn ret;

  g_mutex_lock (&self->write_lock);
  ret = render_one (self, buffer, FALSE);
  if (ret == GST_FLOW_OK)
    ret = write_pieces_resumable (self);
  g_mutex_unlock (&self->write_lock);
  return ret;
}

/* GStreamer's MPEG-TS muxers push each PES as one list: a segment of an
 * all-intra stream can end right after its last frame (see
 * gst_trickle_segmenter_push_list()) */
static GstFlowReturn
gst_trickle_sink_render_list (GstBaseSink * sink, GstBufferList * list)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  GstFlowReturn ret = GST_FLOW_OK;
  guint i, n = gst_buffer_list_length (list);

  g_mutex_lock (&self->write_lock);
  for (i = 0; i < n; i++) {
    ret = render_one (self, gst_buffer_list_get (list, i), TRUE);
    if (ret != GST_FLOW_OK)
      goto out;
  }
  gst_trickle_segmenter_push_list (self->segmenter, gst_buffer_list_ref
      (list), gst_trickle_pad_peer_is_ts_muxer (GST_BASE_SINK_PAD (self)));
  ret = write_pieces_resumable (self);
out:
  g_mutex_unlock (&self->write_lock);
  return ret;
}

/* Network sinks sync to the clock so a source that is not live (a file,
 * num-buffers without is-live) goes out in real time, instead of flooding
 * the channel faster than its subscribers read; a live source is never
 * held back (waiting for running time + latency would add the pipeline's
 * latency to every frame). MPEG-TS is paced in pace() instead. */
static void
gst_trickle_sink_get_times (GstBaseSink * sink, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  GstClockTime ts = GST_BUFFER_DTS_OR_PTS (buffer);

  *start = *end = GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID (ts)
      || gst_trickle_segmenter_is_byte_stream (self->segmenter)
      || upstream_is_live (self))
    return;
  *start = ts;
  if (GST_BUFFER_DURATION_IS_VALID (buffer))
    *end = ts + GST_BUFFER_DURATION (buffer);
}

/* The pipeline asks its sinks for the latency before it plays: that is
 * when we learn whether the source is live (and must not be synced). It
 * is an element query, which basesink answers without its query vfunc. */
static gboolean
gst_trickle_sink_element_query (GstElement * element, GstQuery * query)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (element);
  gboolean res = GST_ELEMENT_CLASS (parent_class)->query (element, query);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean upstream_live = FALSE;

    if (gst_base_sink_query_latency (GST_BASE_SINK (self), NULL,
            &upstream_live, NULL, NULL)) {
      GST_DEBUG_OBJECT (self, "upstream is %slive", upstream_live ? "" :
          "not ");
      g_atomic_int_set (&self->upstream_live, upstream_live);
    }
  }
  return res;
}

static gboolean
gst_trickle_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);

  g_mutex_lock (&self->write_lock);
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    /* what came before the flush is not published after it, nor in one
     * segment with what comes after */
    reset_pending (self);
    if (self->in_segment && !self->start_pending && self->publisher) {
      GError *err = NULL;

      if (!gst_trickle_publisher_end_segment (self->publisher, &err)) {
        GST_DEBUG_OBJECT (self, "segment ended by a flush: %s", err->message);
        g_error_free (err);
      }
      segment_done (self);
    }
  }
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->start_pending) {
    /* what waited for the start goes out first: nothing of a file is
     * dropped (its start is bounded: a request sent whole and not answered
     * within `timeout` fails, and is not retried). A live stream's end
     * gives up a start whose request waited EOS_START_GRACE for its
     * answer: a server that never answers must not hold it. A pause
     * prerolls; a flush drops the EOS. */
    GstFlowReturn ret = wait_start_unless_silent (self);

    if (ret == GST_FLOW_FLUSHING && self->start_pending) {
      g_mutex_unlock (&self->write_lock);
      gst_event_unref (event);
      return FALSE;
    }
    if (ret == GST_FLOW_CUSTOM_SUCCESS) {
      GstTricklePublisher *pub = ref_publisher (self);
      guint64 held = self->held_bytes;

      gst_trickle_publisher_unlock (pub);
      ret = wait_started (self, G_MAXINT64, FALSE);
      if (ret == GST_FLOW_OK) {
        /* it came through all the same: it publishes, uninterrupted */
        g_mutex_lock (&self->start_lock);
        if (!self->unlocked)
          gst_trickle_publisher_unlock_stop (pub);
        g_mutex_unlock (&self->start_lock);
      } else if (ret == GST_FLOW_FLUSHING) {
        GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
            ("Nothing was published to \"%s\": the server did not answer "
                "before the end of the stream", self->location),
            ("%" G_GUINT64_FORMAT " bytes dropped", held));
      }
      g_object_unref (pub);
    }
  }
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->publisher) {
    GError *err = NULL;
    gboolean delete;

    GST_OBJECT_LOCK (self);
    delete = self->delete_on_eos;
    GST_OBJECT_UNLOCK (self);
    /* finish the last segment, wait for the answers, close the channel:
     * errors are reported before EOS completes */
    gst_trickle_segmenter_drain (self->segmenter);
    write_pieces_resumable (self);
    if (self->in_segment)
      segment_done (self);
    if (!gst_trickle_publisher_stop (self->publisher, delete, &err) &&
        !g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_CLOSED)) {
      report_error (self, err);
      err = NULL;
    }
    g_clear_error (&err);
    self->in_segment = FALSE;
  }
  g_mutex_unlock (&self->write_lock);
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

/* the publisher, referenced: unlock() runs in the state-change thread
 * while a failed start may drop the publisher in the streaming thread */
static GstTricklePublisher *
ref_publisher (GstTrickleSink * self)
{
  GstTricklePublisher *pub;

  GST_OBJECT_LOCK (self);
  pub = self->publisher ? g_object_ref (self->publisher) : NULL;
  GST_OBJECT_UNLOCK (self);
  return pub;
}

/* A pause, a flush or a stop: the streaming thread's waits and writes
 * are interrupted (it prerolls, see write_pieces_resumable()). A start
 * that runs is not: a pause must not end it, and stop() interrupts it. */
static gboolean
gst_trickle_sink_unlock (GstBaseSink * sink)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  GstTricklePublisher *pub = ref_publisher (self);
  GstPad *pad = GST_BASE_SINK_PAD (sink);
  gboolean running, hard;

  /* a flush or a stop (the pad flushes first) gives up even a chunk being
   * written; a pause lets it end */
  GST_OBJECT_LOCK (pad);
  hard = GST_PAD_IS_FLUSHING (pad);
  GST_OBJECT_UNLOCK (pad);
  g_mutex_lock (&self->start_lock);
  self->unlocked = TRUE;
  self->unlocked_hard = hard;
  /* (a start that ends now interrupts its publisher itself) */
  running = pub && !self->starting;
  g_cond_broadcast (&self->start_cond);
  g_mutex_unlock (&self->start_lock);
  if (running && hard)
    gst_trickle_publisher_abort (pub);
  else if (running)
    gst_trickle_publisher_unlock (pub);
  g_clear_object (&pub);
  return TRUE;
}

static gboolean
gst_trickle_sink_unlock_stop (GstBaseSink * sink)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  GstTricklePublisher *pub = ref_publisher (self);
  gboolean running;

  g_mutex_lock (&self->start_lock);
  self->unlocked = FALSE;
  self->unlocked_hard = FALSE;
  running = pub && !self->starting;
  g_mutex_unlock (&self->start_lock);
  if (running)
    gst_trickle_publisher_unlock_stop (pub);
  g_clear_object (&pub);
  return TRUE;
}
