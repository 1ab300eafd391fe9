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
 * - `video/mpegts`: a new segment at a keyframe (a buffer without
 *   DELTA_UNIT) once `keyframes-per-segment` keyframes are in the current
 *   one; every segment starts with the caps' `streamheader` (PAT/PMT from
 *   mpegtsmux), so it decodes on its own. Sent as `video/MP2T`.
 * - anything else (raw video or audio, image/jpeg, application/json...):
 *   `buffers-per-segment` buffers per segment (default 1), sent with a
 *   Content-Type built from the caps: `video/x-raw;format=I420;width=...`.
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
#include <gst/trickle/trickle.h>
#include "gsttricklesink.h"

GST_DEBUG_CATEGORY_STATIC (gst_trickle_sink_debug);
#define GST_CAT_DEFAULT gst_trickle_sink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_CREATE_CHANNEL FALSE
#define DEFAULT_DELETE_ON_EOS TRUE
#define DEFAULT_KEYFRAMES_PER_SEGMENT 1
#define DEFAULT_BUFFERS_PER_SEGMENT 1
#define DEFAULT_ACCEPT_ANY_CERTIFICATE FALSE

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_CREATE_CHANNEL,
  PROP_DELETE_ON_EOS,
  PROP_KEYFRAMES_PER_SEGMENT,
  PROP_BUFFERS_PER_SEGMENT,
  PROP_ACCEPT_ANY_CERTIFICATE,
  PROP_EXTRA_HEADERS,
};

struct _GstTrickleSink
{
  GstBaseSink parent;

  /* properties (object lock) */
  gchar *location;
  gboolean create_channel;
  gboolean delete_on_eos;
  guint keyframes_per_segment;
  guint buffers_per_segment;
  gboolean accept_any_certificate;
  gchar **extra_headers;

  /* streaming thread */
  GstTricklePublisher *publisher;
  gboolean byte_stream;
  gchar *content_type;
  GPtrArray *streamheader;      /* GstBuffer */
  gboolean in_segment;
  guint keyframes;              /* in the current segment */
  guint buffers;                /* in the current segment */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_trickle_sink_parent_class parent_class
G_DEFINE_TYPE (GstTrickleSink, gst_trickle_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (tricklesink, "tricklesink", GST_RANK_NONE,
    GST_TYPE_TRICKLE_SINK);

static void gst_trickle_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_trickle_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_trickle_sink_finalize (GObject * object);
static gboolean gst_trickle_sink_start (GstBaseSink * sink);
static gboolean gst_trickle_sink_stop (GstBaseSink * sink);
static gboolean gst_trickle_sink_set_caps (GstBaseSink * sink,
    GstCaps * caps);
static GstFlowReturn gst_trickle_sink_render (GstBaseSink * sink,
    GstBuffer * buffer);
static gboolean gst_trickle_sink_event (GstBaseSink * sink,
    GstEvent * event);
static gboolean gst_trickle_sink_unlock (GstBaseSink * sink);
static gboolean gst_trickle_sink_unlock_stop (GstBaseSink * sink);
static gboolean start_publisher (GstTrickleSink * self);

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
          "Channel URL: http(s)://host:port/[base/]channel", DEFAULT_LOCATION,
          flags));
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
  g_object_class_install_property (gobject_class, PROP_BUFFERS_PER_SEGMENT,
      g_param_spec_uint ("buffers-per-segment", "Buffers per segment",
          "Frame formats (raw, JSON, JPEG...): buffers in one segment", 1,
          G_MAXUINT, DEFAULT_BUFFERS_PER_SEGMENT, flags));
  g_object_class_install_property (gobject_class, PROP_ACCEPT_ANY_CERTIFICATE,
      g_param_spec_boolean ("accept-any-certificate", "Accept any certificate",
          "Accept any TLS certificate (test servers only)",
          DEFAULT_ACCEPT_ANY_CERTIFICATE, flags));
  g_object_class_install_property (gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed ("extra-headers", "Extra headers",
          "\"Name: value\" HTTP headers added to every request (e.g. "
          "\"Authorization: Bearer ...\")", G_TYPE_STRV, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "Trickle sink",
      "Sink/Network", "Publishes a stream into a trickle channel, one "
      "streamed HTTP POST per segment", "gst-trickle developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_trickle_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_trickle_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_trickle_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_trickle_sink_render);
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
  self->accept_any_certificate = DEFAULT_ACCEPT_ANY_CERTIFICATE;
  self->streamheader = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  /* a network sink: rendering never waits for the clock */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_trickle_sink_finalize (GObject * object)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (object);

  g_free (self->location);
  g_strfreev (self->extra_headers);
  g_free (self->content_type);
  g_ptr_array_unref (self->streamheader);
  g_clear_object (&self->publisher);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_trickle_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_CREATE_CHANNEL:
      self->create_channel = g_value_get_boolean (value);
      break;
    case PROP_DELETE_ON_EOS:
      self->delete_on_eos = g_value_get_boolean (value);
      break;
    case PROP_KEYFRAMES_PER_SEGMENT:
      self->keyframes_per_segment = g_value_get_uint (value);
      break;
    case PROP_BUFFERS_PER_SEGMENT:
      self->buffers_per_segment = g_value_get_uint (value);
      break;
    case PROP_ACCEPT_ANY_CERTIFICATE:
      self->accept_any_certificate = g_value_get_boolean (value);
      break;
    case PROP_EXTRA_HEADERS:
      g_strfreev (self->extra_headers);
      self->extra_headers = g_value_dup_boxed (value);
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
    case PROP_BUFFERS_PER_SEGMENT:
      g_value_set_uint (value, self->buffers_per_segment);
      break;
    case PROP_ACCEPT_ANY_CERTIFICATE:
      g_value_set_boolean (value, self->accept_any_certificate);
      break;
    case PROP_EXTRA_HEADERS:
      g_value_set_boxed (value, self->extra_headers);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* posts the publisher's error on the bus, as the right GStreamer error */
static GstFlowReturn
report_error (GstTrickleSink * self, GError * err)
{
  GstFlowReturn ret = GST_FLOW_ERROR;

  if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CANCELLED)) {
    ret = GST_FLOW_FLUSHING;
  } else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_CLOSED)) {
    /* the channel was closed by its host: publishing ends cleanly */
    GST_INFO_OBJECT (self, "%s", err->message);
    ret = GST_FLOW_EOS;
  } else if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
          GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Trickle channel \"%s\" not found", self->location),
        ("%s", err->message));
  } else {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not publish to \"%s\"", self->location), ("%s",
            err->message));
  }
  g_error_free (err);
  return ret;
}

/* caps -> Content-Type: video/MP2T for MPEG-TS, else the caps as a MIME
 * type with its fields as parameters (tricklesrc reverses this) */
static gchar *
caps_to_content_type (GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  GString *str;
  guint i;

  if (gst_structure_has_name (s, "video/mpegts"))
    return g_strdup ("video/MP2T");
  str = g_string_new (gst_structure_get_name (s));
  for (i = 0; i < (guint) gst_structure_n_fields (s); i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);
    gchar *ser;

    if (G_VALUE_TYPE (v) == GST_TYPE_ARRAY ||
        G_VALUE_TYPE (v) == GST_TYPE_BUFFER)
      continue;                 /* streamheaders and the like */
    ser = gst_value_serialize (v);
    if (ser && !strpbrk (ser, ";,\"\r\n"))
      g_string_append_printf (str, ";%s=%s", name, ser);
    g_free (ser);
  }
  return g_string_free (str, FALSE);
}

static gboolean
gst_trickle_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const GValue *sh;
  guint i;

  self->byte_stream = gst_structure_has_name (s, "video/mpegts");
  g_free (self->content_type);
  self->content_type = caps_to_content_type (caps);
  g_ptr_array_set_size (self->streamheader, 0);
  sh = gst_structure_get_value (s, "streamheader");
  if (sh && G_VALUE_TYPE (sh) == GST_TYPE_ARRAY) {
    for (i = 0; i < gst_value_array_get_size (sh); i++) {
      const GValue *b = gst_value_array_get_value (sh, i);
      if (G_VALUE_TYPE (b) == GST_TYPE_BUFFER)
        g_ptr_array_add (self->streamheader,
            gst_buffer_ref (gst_value_get_buffer (b)));
    }
  }
  GST_INFO_OBJECT (self, "Content-Type %s, %s, %u streamheader buffers",
      self->content_type, self->byte_stream ? "byte stream" : "frames",
      self->streamheader->len);
  if (self->publisher)
    g_object_set (self->publisher, "mime-type", self->content_type, NULL);
  else if (!start_publisher (self))
    return FALSE;
  return TRUE;
}

static gboolean
gst_trickle_sink_start (GstBaseSink * sink)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  gboolean ok;

  GST_OBJECT_LOCK (self);
  ok = self->location && (g_str_has_prefix (self->location, "http://")
      || g_str_has_prefix (self->location, "https://"));
  GST_OBJECT_UNLOCK (self);
  if (!ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No valid location set (an http:// or https:// channel URL)"),
        ("location: %s", GST_STR_NULL (self->location)));
    return FALSE;
  }
  self->in_segment = FALSE;
  return TRUE;
}

/* The publisher starts once the caps are known: its first (preconnected)
 * POST carries the Content-Type, which names an auto-created channel's
 * type, and create-channel sends it as Expect-Content. */
static gboolean
start_publisher (GstTrickleSink * self)
{
  GError *err = NULL;
  gchar *location;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  GST_OBJECT_UNLOCK (self);
  self->publisher = gst_trickle_publisher_new (location, self->content_type);
  g_free (location);
  GST_OBJECT_LOCK (self);
  g_object_set (self->publisher, "create-channel", self->create_channel,
      "accept-any-certificate", self->accept_any_certificate,
      "extra-headers", self->extra_headers, NULL);
  GST_OBJECT_UNLOCK (self);
  self->in_segment = FALSE;
  if (!gst_trickle_publisher_start (self->publisher, &err)) {
    if (g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND))
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Trickle channel \"%s\" not found", self->location),
          ("%s", err->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Could not connect to \"%s\"", self->location),
          ("%s", err->message));
    g_clear_error (&err);
    g_clear_object (&self->publisher);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_trickle_sink_stop (GstBaseSink * sink)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);

  if (self->publisher) {
    /* a state change never waits for the server */
    gst_trickle_publisher_close (self->publisher);
    g_clear_object (&self->publisher);
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
  ok = gst_trickle_publisher_write (self->publisher, map.data, map.size,
      &err);
  gst_buffer_unmap (buf, &map);
  return ok ? GST_FLOW_OK : report_error (self, err);
}

static GstFlowReturn
begin_segment (GstTrickleSink * self)
{
  GError *err = NULL;
  GstFlowReturn ret;
  gint64 seq;
  guint i;

  seq = gst_trickle_publisher_begin_segment (self->publisher, &err);
  if (seq < 0)
    return report_error (self, err);
  GST_DEBUG_OBJECT (self, "segment %" G_GINT64_FORMAT, seq);
  self->in_segment = TRUE;
  self->keyframes = 0;
  self->buffers = 0;
  /* every MPEG-TS segment starts with PAT/PMT so it decodes on its own */
  for (i = 0; i < self->streamheader->len; i++) {
    ret = write_buffer (self, g_ptr_array_index (self->streamheader, i));
    if (ret != GST_FLOW_OK)
      return ret;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_trickle_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);
  GstFlowReturn ret;

  if (self->byte_stream) {
    gboolean key = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT)
        && !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER);

    if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER)
        && self->streamheader->len > 0)
      return GST_FLOW_OK;       /* re-sent at each segment start anyway */
    if (key && (!self->in_segment
            || self->keyframes >= self->keyframes_per_segment)) {
      ret = begin_segment (self);
      if (ret != GST_FLOW_OK)
        return ret;
    }
    if (!self->in_segment) {
      GST_LOG_OBJECT (self, "dropping data before the first keyframe");
      return GST_FLOW_OK;
    }
    if (key)
      self->keyframes++;
  } else {
    if (!self->in_segment || self->buffers >= self->buffers_per_segment) {
      ret = begin_segment (self);
      if (ret != GST_FLOW_OK)
        return ret;
    }
    self->buffers++;
  }
  return write_buffer (self, buffer);
}

static gboolean
gst_trickle_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->publisher) {
    GError *err = NULL;
    gboolean delete;

    GST_OBJECT_LOCK (self);
    delete = self->delete_on_eos;
    GST_OBJECT_UNLOCK (self);
    /* finish the last segment, wait for the answers, close the channel:
     * errors are reported before EOS completes */
    if (!gst_trickle_publisher_stop (self->publisher, delete, &err) &&
        !g_error_matches (err, GST_TRICKLE_PUBLISHER_ERROR,
            GST_TRICKLE_PUBLISHER_ERROR_CLOSED)) {
      report_error (self, err);
      err = NULL;
    }
    g_clear_error (&err);
    self->in_segment = FALSE;
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static gboolean
gst_trickle_sink_unlock (GstBaseSink * sink)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);

  if (self->publisher)
    gst_trickle_publisher_unlock (self->publisher);
  return TRUE;
}

static gboolean
gst_trickle_sink_unlock_stop (GstBaseSink * sink)
{
  GstTrickleSink *self = GST_TRICKLE_SINK (sink);

  if (self->publisher)
    gst_trickle_publisher_unlock_stop (self->publisher);
  return TRUE;
}
