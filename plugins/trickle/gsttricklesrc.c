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
 * SECTION:element-tricklesrc
 * @title: tricklesrc
 *
 * tricklesrc subscribes to a trickle channel: it GETs segment `start-seq`
 * of `location` and then each next one, with the next GET always sent
 * ahead (preconnected) so no segment boundary waits for a round trip.
 *
 * Output, by the channel's Content-Type (see the caps mapping in
 * gst_trickle_content_type_to_caps(); the `caps` property overrides it):
 * - byte streams (`video/MP2T` → `video/mpegts`, untyped bytes): pushed
 *   piece by piece as they arrive, so a demuxer starts on a segment before
 *   it ends. A channel without a Content-Type (e.g. fed by ffmpeg's
 *   segment muxer) gets its caps from typefinding its first bytes; if they
 *   are not recognised, a STREAM/TYPE_NOT_FOUND error (nothing is pushed:
 *   set `caps` to read such a channel). The first buffer of each segment
 *   (PAT/PMT and a keyframe, as publishers cut) has no DELTA_UNIT flag and
 *   the others have it, and an upstream force-key-unit event is answered
 *   with a downstream one before the next segment starting at or after
 *   the time asked, so elements that split on keyframes split on segments.
 *   With `do-timestamp=true` the buffers carry their arrival running time
 *   (what hlssink needs); by default they carry none, and tsdemux maps the
 *   stream's own PCR (arrival times would make it track a bursty arrival
 *   as clock skew);
 * - frame formats (raw video/audio, JSON, JPEG...): one buffer per
 *   segment, timestamped with the running time at which it arrived.
 *
 * Latency: the end of an MPEG-TS segment is followed by one packet per
 * stream whose last PES is still open (`mark-segment-end`), so tsdemux
 * outputs the segment's last frame when the segment ends, not when the
 * next one begins (a video PES from ffmpeg, or over 64 KiB from
 * mpegtsmux, has no length). h264parse after tsdemux holds each frame
 * until the next one begins unless told that tsdemux's buffers are whole
 * frames: `tsdemux ! capssetter caps=video/x-h264,alignment=au !
 * h264parse` (what the MPEG-TS muxers of GStreamer and ffmpeg produce).
 * With both, a frame of a 1-frame segment is decoded as its segment ends
 * (docs/performance.md).
 *
 * A skipped seq (a 470 because the subscriber fell out of the server's
 * window) or a segment cut off (a broken connection, or a publisher that
 * died in the middle of it: the server ends the answer without the end of
 * the body) marks the next buffer DISCONT and posts a warning; a cut-off
 * segment is counted in `stats` (`incomplete`) and its "trickle-segment"
 * message says `complete=false`. A channel that does not exist (404) is
 * waited for `wait-timeout` seconds (subscribers often start before
 * publishers: when it appears it is read from its first segment), then is
 * a RESOURCE/NOT_FOUND error. A closed channel (`Lp-Trickle-Closed`) is
 * EOS, and so is a 404 once the channel was being followed (it was
 * deleted), unless the server could not be reached just before (a
 * restarted server: its channel is waited for). No connection, or a 5xx,
 * is retried `retries` times, `retry-delay` seconds doubling apart.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 tricklesrc location=http://127.0.0.1:2939/cam ! tsdemux ! h264parse ! avdec_h264 ! videoconvert ! autovideosink
 * ]| plays the H.264/MPEG-TS channel `cam`.
 * |[
 * gst-launch-1.0 tricklesrc location=http://127.0.0.1:2939/cam ! tsdemux ! capssetter caps=video/x-h264,alignment=au ! h264parse ! avdec_h264 ! videoconvert ! autovideosink sync=false
 * ]| the same with the least latency: each frame is decoded as it arrives.
 * |[
 * gst-play-1.0 trickle://127.0.0.1:2939/cam
 * ]| the same through playbin (`trickles://` for HTTPS).
 * |[
 * gst-launch-1.0 tricklesrc location=http://127.0.0.1:2939/cam do-timestamp=true mark-segment-end=false ! hlssink target-duration=2
 * ]| HLS from the channel, split at segment starts.
 * |[
 * gst-launch-1.0 tricklesrc location=https://example.com/ai/trickle/cam 'extra-headers="headers,Authorization=\"Bearer TOKEN\""' timeout=10 retries=-1 ! tsdemux ! fakesink
 * ]| with a bearer token on every request (the property quoted whole for
 * the shell), retrying for ever.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/video/video.h>
#include <gst/trickle/trickle.h>
#include "gsttricklesrc.h"
#include "gsttrickledoc.h"
#include "gsttrickleuri.h"
#include "gsttrickleframer.h"

GST_DEBUG_CATEGORY_STATIC (gst_trickle_src_debug);
#define GST_CAT_DEFAULT gst_trickle_src_debug

#define DEFAULT_START_SEQ -1
#define DEFAULT_WAIT_TIMEOUT 10
#define DEFAULT_PRECONNECT_TIMEOUT 20
#define DEFAULT_RETRIES 5
#define DEFAULT_RETRY_DELAY 0.25
#define DEFAULT_TIMEOUT 30
#define DEFAULT_USER_AGENT "gst-trickle/" PACKAGE_VERSION " "
#define DEFAULT_POST_MESSAGES FALSE
#define DEFAULT_MARK_SEGMENT_END TRUE
#define DEFAULT_MAX_SEGMENT_SIZE (32 * 1024 * 1024)
#define DEFAULT_SSL_STRICT TRUE

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_START_SEQ,
  PROP_CAPS,
  PROP_WAIT_TIMEOUT,
  PROP_PRECONNECT_TIMEOUT,
  PROP_RETRIES,
  PROP_RETRY_DELAY,
  PROP_TIMEOUT,
  PROP_USER_AGENT,
  PROP_PROXY,
  PROP_PROXY_ID,
  PROP_PROXY_PW,
  PROP_USER_ID,
  PROP_USER_PW,
  PROP_SSL_STRICT,
  PROP_TLS_DATABASE,
  PROP_TLS_INTERACTION,
  PROP_SSL_CA_FILE,
  PROP_EXTRA_HEADERS,
  PROP_POST_MESSAGES,
  PROP_STATS,
  PROP_MARK_SEGMENT_END,
  PROP_MAX_SEGMENT_SIZE,
};

struct _GstTrickleSrc
{
  GstPushSrc parent;

  /* properties (object lock) */
  gchar *location;
  gint64 start_seq;
  GstCaps *caps;
  gint wait_timeout;
  guint preconnect_timeout;
  gint retries;                 /* -1 forever */
  gdouble retry_delay;          /* s */
  guint timeout;                /* s, 0 none */
  gchar *user_agent;
  gchar *proxy, *proxy_id, *proxy_pw, *user_id, *user_pw;
  gboolean ssl_strict;
  GTlsDatabase *tls_database;
  GTlsInteraction *tls_interaction;
  gchar *ssl_ca_file;
  GstStructure *extra_headers;
  gboolean post_messages;
  gboolean mark_segment_end;
  guint64 max_segment_size;
  /* bus warnings of a kind, at most one a second (a server answering 470
   * in a loop must not flood the bus): when, and how many were not posted */
  gint64 warned_at[2];
  guint unwarned[2];

  GstTrickleSubscriber *subscriber;     /* set in start, cleared in stop */

  /* streaming thread */
  GstTrickleFramer *framer;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_trickle_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTrickleSrc, gst_trickle_src, GST_TYPE_PUSH_SRC,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER, gst_trickle_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE (tricklesrc, "tricklesrc", GST_RANK_SECONDARY,
    GST_TYPE_TRICKLE_SRC);

static void gst_trickle_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_trickle_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_trickle_src_finalize (GObject * object);
static gboolean gst_trickle_src_start (GstBaseSrc * src);
static gboolean gst_trickle_src_stop (GstBaseSrc * src);
static gboolean gst_trickle_src_unlock (GstBaseSrc * src);
static gboolean gst_trickle_src_unlock_stop (GstBaseSrc * src);
static gboolean gst_trickle_src_query (GstBaseSrc * src, GstQuery * query);
static gboolean gst_trickle_src_event (GstBaseSrc * src, GstEvent * event);
static GstCaps *gst_trickle_src_get_caps (GstBaseSrc * src, GstCaps * filter);
static gboolean gst_trickle_src_negotiate (GstBaseSrc * src);
static GstFlowReturn gst_trickle_src_create (GstPushSrc * src,
    GstBuffer ** buf);

static void
gst_trickle_src_class_init (GstTrickleSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_trickle_src_set_property;
  gobject_class->get_property = gst_trickle_src_get_property;
  gobject_class->finalize = gst_trickle_src_finalize;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Channel URL: http(s)://host:port/[base/]channel (or trickle:// "
          "and trickles:// through the URI handler)", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_START_SEQ,
      g_param_spec_int64 ("start-seq", "Start seq",
          "First segment: -1 the next one to be written (live edge), -2 the "
          "one being written now, or a seq", -2, G_MAXINT64,
          DEFAULT_START_SEQ, flags));
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps",
          "Output caps, instead of those from the channel's Content-Type",
          GST_TYPE_CAPS, flags));
  g_object_class_install_property (gobject_class, PROP_WAIT_TIMEOUT,
      g_param_spec_int ("wait-timeout", "Wait timeout",
          "Seconds to wait for a channel that does not exist yet (404) "
          "before failing with RESOURCE/NOT_FOUND; -1 forever, 0 fail at "
          "once", -1, G_MAXINT / 1000, DEFAULT_WAIT_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_PRECONNECT_TIMEOUT,
      g_param_spec_uint ("preconnect-timeout", "Preconnect timeout",
          "Seconds a GET may wait for its segment before it is sent again "
          "(0: never)", 0, G_MAXUINT / 1000, DEFAULT_PRECONNECT_TIMEOUT,
          flags));
  g_object_class_install_property (gobject_class, PROP_RETRIES,
      g_param_spec_int ("retries", "Retries",
          "Failed requests in a row (no connection, 5xx) retried, "
          "retry-delay apart, before an error (-1: forever)", -1, G_MAXINT,
          DEFAULT_RETRIES, flags));
  g_object_class_install_property (gobject_class, PROP_RETRY_DELAY,
      g_param_spec_double ("retry-delay", "Retry delay",
          "Seconds before the first retry; the delay doubles with each "
          "failure in a row, up to 16 times this", 0, 3600,
          DEFAULT_RETRY_DELAY, flags));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Seconds the set-up of a connection (TCP, TLS handshake) may take "
          "before its request fails and is retried (0: no limit); a GET "
          "waiting for its segment is bounded by preconnect-timeout", 0, 3600,
          DEFAULT_TIMEOUT, flags));
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
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of the certificate authorities to trust for https "
          "(instead of the system's); a relative path is taken from the "
          "working directory", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed ("extra-headers", "Extra headers",
          "HTTP headers added to every request, as souphttpsrc's: each "
          "field a header (headers,Authorization=\"Bearer TOKEN\"); a "
          "value that is not a string is turned into one, an array or a "
          "list repeats the header", GST_TYPE_STRUCTURE, flags));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a \"trickle-segment\" element message (seq, bytes, "
          "duration, complete) for every segment received",
          DEFAULT_POST_MESSAGES, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "segments, bytes, retries, jumps (470s), preconnect-hits, "
          "incomplete (segments cut off: their publisher died), seq",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleSrc:mark-segment-end:
   *
   * In an MPEG-TS channel, the end of each segment is followed by one
   * 188-byte packet per elementary stream whose last PES has no length
   * (video from ffmpeg, or frames over 64 KiB): it starts a PES that is
   * none, so tsdemux (or ffmpeg) outputs the segment's last frame as the
   * segment ends instead of when the next segment arrives, and drops the
   * packet. Turn off for a byte-exact copy of the channel.
   */
  g_object_class_install_property (gobject_class, PROP_MARK_SEGMENT_END,
      g_param_spec_boolean ("mark-segment-end", "Mark segment end",
          "MPEG-TS: after each segment, one packet per stream that ends its "
          "last PES, so a demuxer outputs the segment's last frame now "
          "rather than when the next segment begins (off: the channel's "
          "bytes exactly)", DEFAULT_MARK_SEGMENT_END,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleSrc:max-segment-size:
   *
   * A segment of a frame format (one frame, or a few) is gathered whole
   * before it is pushed: a bigger one (a broken or hostile server that
   * never ends it) is dropped with a warning instead of growing without
   * bound. MPEG-TS and other byte streams are pushed as they arrive and
   * need no bound. The same default as trickleserver's.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_SEGMENT_SIZE,
      g_param_spec_uint64 ("max-segment-size", "Maximum segment size",
          "Frame formats: the largest segment gathered, in bytes; a bigger "
          "one is dropped with a warning (0 = unlimited)", 0, G_MAXUINT64,
          DEFAULT_MAX_SEGMENT_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_trickle_set_doc_caps (element_class, "src");
  gst_element_class_set_static_metadata (element_class, "Trickle source",
      "Source/Network", "Subscribes to a trickle channel: preconnected HTTP "
      "GETs following the channel's segments", "gst-trickle developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_trickle_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_trickle_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_trickle_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_trickle_src_unlock_stop);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_trickle_src_query);
  basesrc_class->event = GST_DEBUG_FUNCPTR (gst_trickle_src_event);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_trickle_src_get_caps);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_trickle_src_negotiate);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_trickle_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_trickle_src_debug, "tricklesrc", 0,
      "Trickle subscriber");
}

static void
gst_trickle_src_init (GstTrickleSrc * self)
{
  self->start_seq = DEFAULT_START_SEQ;
  self->wait_timeout = DEFAULT_WAIT_TIMEOUT;
  self->preconnect_timeout = DEFAULT_PRECONNECT_TIMEOUT;
  self->retries = DEFAULT_RETRIES;
  self->retry_delay = DEFAULT_RETRY_DELAY;
  self->timeout = DEFAULT_TIMEOUT;
  self->user_agent = g_strdup (DEFAULT_USER_AGENT);
  self->ssl_strict = DEFAULT_SSL_STRICT;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->mark_segment_end = DEFAULT_MARK_SEGMENT_END;
  self->max_segment_size = DEFAULT_MAX_SEGMENT_SIZE;
  self->framer = gst_trickle_framer_new (GST_OBJECT (self));
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
gst_trickle_src_finalize (GObject * object)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (object);

  g_free (self->location);
  g_free (self->user_agent);
  g_free (self->proxy);
  g_free (self->proxy_id);
  g_free (self->proxy_pw);
  g_free (self->user_id);
  g_free (self->user_pw);
  g_free (self->ssl_ca_file);
  g_clear_object (&self->tls_database);
  g_clear_object (&self->tls_interaction);
  if (self->extra_headers)
    gst_structure_free (self->extra_headers);
  gst_clear_caps (&self->caps);
  gst_trickle_framer_free (self->framer);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_trickle_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (object);

  if (prop_id == PROP_LOCATION) {
    /* through the URI handler: trickle:// maps to http:// */
    gst_trickle_uri_set_location (GST_ELEMENT (self), &self->location,
        g_value_get_string (value), NULL);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_START_SEQ:
      self->start_seq = g_value_get_int64 (value);
      break;
    case PROP_CAPS:
      gst_clear_caps (&self->caps);
      self->caps = g_value_dup_boxed (value);
      break;
    case PROP_WAIT_TIMEOUT:
      self->wait_timeout = g_value_get_int (value);
      break;
    case PROP_PRECONNECT_TIMEOUT:
      self->preconnect_timeout = g_value_get_uint (value);
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
    case PROP_SSL_CA_FILE:
      g_free (self->ssl_ca_file);
      self->ssl_ca_file = g_value_dup_string (value);
      break;
    case PROP_EXTRA_HEADERS:
      if (self->extra_headers)
        gst_structure_free (self->extra_headers);
      self->extra_headers = g_value_dup_boxed (value);
      break;
    case PROP_MARK_SEGMENT_END:
      self->mark_segment_end = g_value_get_boolean (value);
      break;
    case PROP_MAX_SEGMENT_SIZE:
      self->max_segment_size = g_value_get_uint64 (value);
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
gst_trickle_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_START_SEQ:
      g_value_set_int64 (value, self->start_seq);
      break;
    case PROP_CAPS:
      g_value_set_boxed (value, self->caps);
      break;
    case PROP_WAIT_TIMEOUT:
      g_value_set_int (value, self->wait_timeout);
      break;
    case PROP_PRECONNECT_TIMEOUT:
      g_value_set_uint (value, self->preconnect_timeout);
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
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, self->ssl_strict);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, self->tls_database);
      break;
    case PROP_TLS_INTERACTION:
      g_value_set_object (value, self->tls_interaction);
      break;
    case PROP_SSL_CA_FILE:
      g_value_set_string (value, self->ssl_ca_file);
      break;
    case PROP_EXTRA_HEADERS:
      g_value_set_boxed (value, self->extra_headers);
      break;
    case PROP_MARK_SEGMENT_END:
      g_value_set_boolean (value, self->mark_segment_end);
      break;
    case PROP_MAX_SEGMENT_SIZE:
      g_value_set_uint64 (value, self->max_segment_size);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_STATS:
      if (self->subscriber)
        g_value_take_boxed (value,
            gst_trickle_subscriber_get_stats (self->subscriber));
      else
        g_value_take_boxed (value,
            gst_structure_new ("trickle-subscriber-stats", "segments",
                G_TYPE_UINT64, (guint64) 0, "bytes", G_TYPE_UINT64, (guint64) 0,
                "retries", G_TYPE_UINT64, (guint64) 0, "jumps", G_TYPE_UINT64,
                (guint64) 0, "preconnect-hits", G_TYPE_UINT64, (guint64) 0,
                "incomplete", G_TYPE_UINT64, (guint64) 0, "seq", G_TYPE_INT64,
                G_GINT64_CONSTANT (-1), NULL));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_trickle_src_start (GstBaseSrc * src)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (src);
  GstTrickleSubscriber *sub;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  if (!self->location) {
    GST_OBJECT_UNLOCK (self);
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No location set (an http:// or https:// channel URL)"), (NULL));
    return FALSE;
  }
  sub = gst_trickle_subscriber_new (self->location);
  g_object_set (sub, "start-seq", self->start_seq,
      "wait-timeout", (gdouble) self->wait_timeout,
      "preconnect-timeout", (gdouble) self->preconnect_timeout,
      "retries", self->retries, "retry-delay", self->retry_delay,
      "timeout", self->timeout, "user-agent", self->user_agent,
      "proxy", self->proxy, "proxy-id", self->proxy_id, "proxy-pw",
      self->proxy_pw, "user-id", self->user_id, "user-pw", self->user_pw,
      "ssl-strict", self->ssl_strict, "tls-database", self->tls_database,
      "tls-interaction", self->tls_interaction,
      "ssl-ca-file", self->ssl_ca_file, "extra-headers", self->extra_headers,
      NULL);
  GST_OBJECT_UNLOCK (self);

  if (!gst_trickle_subscriber_start (sub, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Could not subscribe to \"%s\"", self->location), ("%s",
            err->message));
    g_error_free (err);
    g_object_unref (sub);
    return FALSE;
  }
  gst_trickle_framer_reset (self->framer);
  memset (self->warned_at, 0, sizeof (self->warned_at));
  memset (self->unwarned, 0, sizeof (self->unwarned));
  gst_trickle_framer_set_timestamping (self->framer,
      gst_base_src_get_do_timestamp (src));
  GST_OBJECT_LOCK (self);
  gst_trickle_framer_set_caps_override (self->framer, self->caps);
  gst_trickle_framer_set_mark_end (self->framer, self->mark_segment_end);
  gst_trickle_framer_set_max_frame_size (self->framer, self->max_segment_size);
  self->subscriber = sub;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_trickle_src_stop (GstBaseSrc * src)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (src);
  GstTrickleSubscriber *sub;

  GST_OBJECT_LOCK (self);
  sub = self->subscriber;
  self->subscriber = NULL;
  GST_OBJECT_UNLOCK (self);
  if (sub) {
    /* drops every request: never waits for the server */
    gst_trickle_subscriber_stop (sub);
    g_object_unref (sub);
  }
  gst_trickle_framer_reset (self->framer);
  return TRUE;
}

static gboolean
gst_trickle_src_unlock (GstBaseSrc * src)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (src);

  GST_OBJECT_LOCK (self);
  if (self->subscriber)
    gst_trickle_subscriber_unlock (self->subscriber);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_trickle_src_unlock_stop (GstBaseSrc * src)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (src);

  GST_OBJECT_LOCK (self);
  if (self->subscriber)
    gst_trickle_subscriber_unlock_stop (self->subscriber);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_trickle_src_query (GstBaseSrc * src, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    /* live: data comes when it is published; adds no latency of its own
     * (bytes are pushed as they arrive) */
    gst_query_set_latency (query, TRUE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_SCHEDULING) {
    gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1, 0);
    gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

/* an upstream force-key-unit (hlssink asks for one every target-duration):
 * announced at the next segment start, which is a keyframe */
static gboolean
gst_trickle_src_event (GstBaseSrc * src, GstEvent * event)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (src);

  if (gst_trickle_framer_handle_upstream_event (self->framer, event))
    return TRUE;
  return GST_BASE_SRC_CLASS (parent_class)->event (src, event);
}

static GstCaps *
gst_trickle_src_get_caps (GstBaseSrc * src, GstCaps * filter)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (src);
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (self);
  if (self->caps)
    caps = gst_caps_ref (self->caps);
  GST_OBJECT_UNLOCK (self);
  if (!caps)
    caps = gst_pad_get_current_caps (GST_BASE_SRC_PAD (src));
  if (!caps)
    caps = gst_caps_new_any ();
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* caps come with the first segment's Content-Type (in create) */
static gboolean
gst_trickle_src_negotiate (GstBaseSrc * src)
{
  return TRUE;
}

static GstFlowReturn
report_error (GstTrickleSrc * self, GError * err)
{
  GstFlowReturn ret = GST_FLOW_ERROR;

  if (g_error_matches (err, GST_TRICKLE_SUBSCRIBER_ERROR,
          GST_TRICKLE_SUBSCRIBER_ERROR_CANCELLED)) {
    ret = GST_FLOW_FLUSHING;
  } else if (g_error_matches (err, GST_TRICKLE_SUBSCRIBER_ERROR,
          GST_TRICKLE_SUBSCRIBER_ERROR_NOT_AUTHORIZED)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
        ("Not authorized to read \"%s\"", self->location),
        ("%s", err->message));
  } else if (g_error_matches (err, GST_TRICKLE_SUBSCRIBER_ERROR,
          GST_TRICKLE_SUBSCRIBER_ERROR_NOT_FOUND)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Trickle channel \"%s\" not found", self->location),
        ("%s", err->message));
  } else {
    GST_ELEMENT_ERROR (self, RESOURCE, READ,
        ("Could not read from \"%s\"", self->location), ("%s", err->message));
  }
  g_error_free (err);
  return ret;
}

static void
post_segment_message (GstTrickleSrc * self, GstTrickleSubscriberEvent * ev)
{
  gboolean post;

  GST_OBJECT_LOCK (self);
  post = self->post_messages;
  GST_OBJECT_UNLOCK (self);
  if (!post)
    return;
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("trickle-segment", "seq", G_TYPE_INT64, ev->seq,
              "bytes", G_TYPE_UINT64, ev->size, "duration", G_TYPE_UINT64,
              (guint64) ev->duration_us * GST_USECOND, "complete",
              G_TYPE_BOOLEAN, ev->complete, NULL)));
}

enum
{
  WARN_INCOMPLETE,
  WARN_JUMP,
};

/* TRUE when a warning of @kind may be posted now (at most one a second);
 * *@unwarned: how many were not since the last one */
static gboolean
warn_now (GstTrickleSrc * self, guint kind, guint * unwarned)
{
  gint64 now = g_get_monotonic_time ();

  if (self->warned_at[kind] && now - self->warned_at[kind] < G_USEC_PER_SEC) {
    self->unwarned[kind]++;
    return FALSE;
  }
  self->warned_at[kind] = now;
  *unwarned = self->unwarned[kind];
  self->unwarned[kind] = 0;
  return TRUE;
}

static GstFlowReturn
gst_trickle_src_create (GstPushSrc * src, GstBuffer ** outbuf)
{
  GstTrickleSrc *self = GST_TRICKLE_SRC (src);
  GstTrickleSubscriber *sub = self->subscriber;

  for (;;) {
    GstTrickleSubscriberEvent ev;
    GError *err = NULL;
    guint unwarned = 0;
    GstBuffer *buf;
    GstCaps *caps = NULL;

    if (!gst_trickle_subscriber_next_event (sub, &ev, &err))
      return report_error (self, err);

    switch (ev.type) {
      case GST_TRICKLE_SUBSCRIBER_SEGMENT_START:
        GST_DEBUG_OBJECT (self, "segment %" G_GINT64_FORMAT " (%s)%s",
            ev.seq, GST_STR_NULL (ev.content_type),
            ev.discont ? ", discont" : "");
        break;
      case GST_TRICKLE_SUBSCRIBER_SEGMENT_END:
        GST_DEBUG_OBJECT (self, "segment %" G_GINT64_FORMAT " done: %"
            G_GUINT64_FORMAT " bytes%s", ev.seq, ev.size,
            ev.complete ? "" : " (incomplete)");
        if (!ev.complete && warn_now (self, WARN_INCOMPLETE, &unwarned))
          /* what follows is marked DISCONT (the framer) */
          GST_ELEMENT_WARNING (self, RESOURCE, READ,
              ("Segment %" G_GINT64_FORMAT " is incomplete", ev.seq),
              ("%s (and %u more since the last warning)",
                  GST_STR_NULL (ev.message), unwarned));
        post_segment_message (self, &ev);
        break;
      case GST_TRICKLE_SUBSCRIBER_JUMP:
        if (warn_now (self, WARN_JUMP, &unwarned))
          GST_ELEMENT_WARNING (self, RESOURCE, READ,
              ("Segments lost: fell behind the channel"),
              ("segment %" G_GINT64_FORMAT " is no longer on the server "
                  "(470); going on at %" G_GINT64_FORMAT " (and %u more "
                  "jumps since the last warning)", ev.seq, ev.latest,
                  unwarned));
        break;
      case GST_TRICKLE_SUBSCRIBER_RETRY:
        GST_WARNING_OBJECT (self, "%s", ev.message);
        break;
      case GST_TRICKLE_SUBSCRIBER_EOS:
        GST_INFO_OBJECT (self, "channel closed: end of stream%s%s",
            ev.message ? ": " : "", GST_STR_NULL (ev.message));
        gst_trickle_subscriber_event_clear (&ev);
        return GST_FLOW_EOS;
      default:
        break;
    }
    buf = gst_trickle_framer_feed (self->framer, &ev,
        gst_trickle_framer_now (GST_ELEMENT (self)), &caps);
    gst_trickle_subscriber_event_clear (&ev);
    if (caps) {
      gboolean ok = gst_base_src_set_caps (GST_BASE_SRC (self), caps);
      gst_caps_unref (caps);
      if (!ok) {
        gst_clear_buffer (&buf);
        GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
            ("Downstream refused the caps of the channel"));
        return GST_FLOW_NOT_NEGOTIATED;
      }
    }
    if (buf) {
      GstEvent *event = gst_trickle_framer_take_event (self->framer);
      if (event)
        gst_pad_push_event (GST_BASE_SRC_PAD (self), event);
      *outbuf = buf;
      return GST_FLOW_OK;
    }
    if (gst_trickle_framer_refused_content_type (self->framer)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("Channel \"%s\" names a media type that cannot be used",
              self->location), ("its Content-Type \"%.200s\" gives caps "
              "that are not fixed (ANY, EMPTY, ranges or lists), or it is "
              "over 4096 bytes, or the 65th Content-Type of the stream: set "
              "the caps property", gst_trickle_framer_refused_content_type
              (self->framer)));
      return GST_FLOW_ERROR;
    }
    if (gst_trickle_framer_type_not_found (self->framer)) {
      GST_ELEMENT_ERROR (self, STREAM, TYPE_NOT_FOUND,
          ("Could not determine the media type of channel \"%s\"",
              self->location), ("the channel has no Content-Type and its "
              "first bytes were not recognised: set the caps property"));
      return GST_FLOW_ERROR;
    }
  }
}
