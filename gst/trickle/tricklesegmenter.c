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
 * SECTION:tricklesegmenter
 * @title: GstTrickleSegmenter
 * @short_description: where a buffer stream is cut into trickle segments
 *
 * The rules every publisher of a pipeline's output follows (tricklesink,
 * trickleserver's sink pads), in one place:
 *
 * - byte streams (MPEG-TS): a keyframe (a buffer without DELTA_UNIT)
 *   begins a new segment once the current one holds
 *   `keyframes_per_segment` keyframes and lasts `min_duration` (by buffer
 *   timestamps); data before the first keyframe is dropped; every segment
 *   begins with the caps' `streamheader` (PAT/PMT), and HEADER buffers
 *   (the same tables again) are dropped. With a `keyframe_interval`,
 *   gst_trickle_segmenter_wants_keyframe() says when to ask upstream for
 *   one.
 * - frame formats (anything else): `buffers_per_segment` buffers per
 *   segment, the segment ending with its last buffer (not when the next
 *   arrives: a subscriber gets each frame without waiting a frame time).
 *
 * Not thread safe: one streaming thread uses it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "tricklesegmenter.h"
#include "tricklecaps.h"

struct _GstTrickleSegmenter
{
  guint keyframes_per_segment;
  GstClockTime min_duration;
  GstClockTime keyframe_interval;
  guint buffers_per_segment;

  gboolean byte_stream;
  gchar *content_type;
  GPtrArray *streamheader;

  gboolean in_segment;
  guint keyframes;
  guint buffers;
  GstClockTime seg_start_ts;
  GstClockTime last_key_request;
};

GstTrickleSegmenter *
gst_trickle_segmenter_new (void)
{
  GstTrickleSegmenter *seg = g_new0 (GstTrickleSegmenter, 1);

  seg->keyframes_per_segment = 1;
  seg->buffers_per_segment = 1;
  seg->streamheader = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  seg->content_type = g_strdup ("application/octet-stream");
  gst_trickle_segmenter_reset (seg);
  return seg;
}

void
gst_trickle_segmenter_free (GstTrickleSegmenter * seg)
{
  g_ptr_array_unref (seg->streamheader);
  g_free (seg->content_type);
  g_free (seg);
}

void
gst_trickle_segmenter_configure (GstTrickleSegmenter * seg,
    guint keyframes_per_segment, GstClockTime min_duration,
    GstClockTime keyframe_interval, guint buffers_per_segment)
{
  seg->keyframes_per_segment = MAX (keyframes_per_segment, 1);
  seg->min_duration = min_duration;
  seg->keyframe_interval = keyframe_interval;
  seg->buffers_per_segment = MAX (buffers_per_segment, 1);
}

/**
 * gst_trickle_segmenter_reset:
 *
 * Forgets the current segment: the next buffer begins a new one (at a
 * keyframe for byte streams). For a start, a flush, or a segment lost.
 */
void
gst_trickle_segmenter_reset (GstTrickleSegmenter * seg)
{
  seg->in_segment = FALSE;
  seg->keyframes = 0;
  seg->buffers = 0;
  seg->seg_start_ts = GST_CLOCK_TIME_NONE;
  seg->last_key_request = GST_CLOCK_TIME_NONE;
}

void
gst_trickle_segmenter_set_caps (GstTrickleSegmenter * seg, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const GValue *sh;
  guint i;

  seg->byte_stream = gst_structure_has_name (s, "video/mpegts");
  g_free (seg->content_type);
  seg->content_type = gst_trickle_caps_to_content_type (caps);
  g_ptr_array_set_size (seg->streamheader, 0);
  sh = gst_structure_get_value (s, "streamheader");
  if (sh && G_VALUE_TYPE (sh) == GST_TYPE_ARRAY) {
    for (i = 0; i < gst_value_array_get_size (sh); i++) {
      const GValue *b = gst_value_array_get_value (sh, i);
      if (G_VALUE_TYPE (b) == GST_TYPE_BUFFER)
        g_ptr_array_add (seg->streamheader,
            gst_buffer_ref (gst_value_get_buffer (b)));
    }
  }
}

const gchar *
gst_trickle_segmenter_get_content_type (GstTrickleSegmenter * seg)
{
  return seg->content_type;
}

/**
 * gst_trickle_segmenter_get_streamheader:
 *
 * Returns: (transfer none) (element-type GstBuffer): what every segment
 * begins with
 */
GPtrArray *
gst_trickle_segmenter_get_streamheader (GstTrickleSegmenter * seg)
{
  return seg->streamheader;
}

static gboolean
long_enough (GstTrickleSegmenter * seg, GstBuffer * buffer)
{
  GstClockTime ts = GST_BUFFER_DTS_OR_PTS (buffer);

  if (seg->keyframes < seg->keyframes_per_segment)
    return FALSE;
  if (seg->min_duration == 0 || !GST_CLOCK_TIME_IS_VALID (ts)
      || !GST_CLOCK_TIME_IS_VALID (seg->seg_start_ts))
    return TRUE;
  return ts >= seg->seg_start_ts && ts - seg->seg_start_ts >= seg->min_duration;
}

/**
 * gst_trickle_segmenter_cut:
 *
 * Where @buffer goes. The caller then does what the flags say; the
 * segmenter assumes it did.
 */
GstTrickleCut
gst_trickle_segmenter_cut (GstTrickleSegmenter * seg, GstBuffer * buffer)
{
  GstTrickleCut cut = GST_TRICKLE_CUT_NONE;

  if (seg->byte_stream) {
    gboolean header = GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER);
    gboolean key = !header
        && !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);

    if (header && seg->streamheader->len > 0)
      return GST_TRICKLE_CUT_DROP;      /* sent at each segment start */
    if (key && (!seg->in_segment || long_enough (seg, buffer))) {
      cut = GST_TRICKLE_CUT_BEGIN;
      seg->in_segment = TRUE;
      seg->keyframes = 0;
      seg->seg_start_ts = GST_BUFFER_DTS_OR_PTS (buffer);
    }
    if (!seg->in_segment)
      return GST_TRICKLE_CUT_DROP;      /* before the first keyframe */
    if (key)
      seg->keyframes++;
    return cut;
  }

  if (!seg->in_segment) {
    cut = GST_TRICKLE_CUT_BEGIN;
    seg->in_segment = TRUE;
    seg->buffers = 0;
  }
  if (++seg->buffers >= seg->buffers_per_segment) {
    cut |= GST_TRICKLE_CUT_END_AFTER;
    seg->in_segment = FALSE;
  }
  return cut;
}

/**
 * gst_trickle_segmenter_wants_keyframe:
 * @running_time: of the buffer about to be cut
 *
 * Returns: %TRUE when a keyframe should be asked from upstream now (an
 * upstream force-key-unit event), every `keyframe_interval`
 */
gboolean
gst_trickle_segmenter_wants_keyframe (GstTrickleSegmenter * seg,
    GstClockTime running_time)
{
  if (!seg->byte_stream || seg->keyframe_interval == 0
      || !GST_CLOCK_TIME_IS_VALID (running_time))
    return FALSE;
  if (GST_CLOCK_TIME_IS_VALID (seg->last_key_request)
      && running_time < seg->last_key_request + seg->keyframe_interval)
    return FALSE;
  seg->last_key_request = running_time;
  return TRUE;
}
