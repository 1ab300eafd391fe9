/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/trickle-prelude.h>

G_BEGIN_DECLS

typedef struct _GstTrickleSegmenter GstTrickleSegmenter;

/**
 * GstTrickleCut:
 * @GST_TRICKLE_CUT_NONE: write the buffer into the current segment
 * @GST_TRICKLE_CUT_BEGIN: begin a new segment (write the stream headers
 *   first), then write the buffer
 * @GST_TRICKLE_CUT_END_AFTER: write the buffer, then end the segment
 * @GST_TRICKLE_CUT_DROP: drop the buffer (before the first keyframe, or a
 *   header sent at every segment start anyway)
 */
typedef enum
{
  GST_TRICKLE_CUT_NONE = 0,
  GST_TRICKLE_CUT_BEGIN = 1 << 0,
  GST_TRICKLE_CUT_END_AFTER = 1 << 1,
  GST_TRICKLE_CUT_DROP = 1 << 2,
} GstTrickleCut;

GST_TRICKLE_API
GstTrickleSegmenter *gst_trickle_segmenter_new (void);
GST_TRICKLE_API
void gst_trickle_segmenter_free (GstTrickleSegmenter * seg);
GST_TRICKLE_API
void gst_trickle_segmenter_configure (GstTrickleSegmenter * seg,
    guint keyframes_per_segment, GstClockTime min_duration,
    GstClockTime keyframe_interval, guint buffers_per_segment);
GST_TRICKLE_API
void gst_trickle_segmenter_set_caps (GstTrickleSegmenter * seg,
    GstCaps * caps);
GST_TRICKLE_API
const gchar *gst_trickle_segmenter_get_content_type (GstTrickleSegmenter *
    seg);
GST_TRICKLE_API
GPtrArray *gst_trickle_segmenter_get_streamheader (GstTrickleSegmenter *
    seg);
GST_TRICKLE_API
GstTrickleCut gst_trickle_segmenter_cut (GstTrickleSegmenter * seg,
    GstBuffer * buffer);
GST_TRICKLE_API
gboolean gst_trickle_segmenter_wants_keyframe (GstTrickleSegmenter * seg,
    GstClockTime running_time);
GST_TRICKLE_API
void gst_trickle_segmenter_reset (GstTrickleSegmenter * seg);

G_END_DECLS
