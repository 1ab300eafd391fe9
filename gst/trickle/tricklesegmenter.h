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
 * @GST_TRICKLE_CUT_NONE: write the piece into the current segment
 * @GST_TRICKLE_CUT_BEGIN: begin a new segment (write
 *   gst_trickle_segmenter_get_streamheader() first), then write the piece
 * @GST_TRICKLE_CUT_END_AFTER: write the piece, then end the segment
 * @GST_TRICKLE_CUT_NO_KEYFRAME: set once, on the piece where an MPEG-TS
 *   stream without any keyframe the segmenter can find starts being cut by
 *   duration instead: the caller should warn
 */
typedef enum
{
  GST_TRICKLE_CUT_NONE = 0,
  GST_TRICKLE_CUT_BEGIN = 1 << 0,
  GST_TRICKLE_CUT_END_AFTER = 1 << 1,
  GST_TRICKLE_CUT_NO_KEYFRAME = 1 << 3,
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
gboolean gst_trickle_segmenter_is_byte_stream (GstTrickleSegmenter * seg);
GST_TRICKLE_API
const gchar *gst_trickle_segmenter_get_content_type (GstTrickleSegmenter *
    seg);
GST_TRICKLE_API
GPtrArray *gst_trickle_segmenter_get_streamheader (GstTrickleSegmenter *
    seg);
GST_TRICKLE_API
void gst_trickle_segmenter_push (GstTrickleSegmenter * seg,
    GstBuffer * buffer);
GST_TRICKLE_API
void gst_trickle_segmenter_push_list (GstTrickleSegmenter * seg,
    GstBufferList * list, gboolean pes_aligned);
GST_TRICKLE_API
GstBuffer *gst_trickle_segmenter_pop (GstTrickleSegmenter * seg,
    GstTrickleCut * cut);
GST_TRICKLE_API
void gst_trickle_segmenter_drain (GstTrickleSegmenter * seg);
GST_TRICKLE_API
GstClockTime gst_trickle_segmenter_get_stream_time (GstTrickleSegmenter *
    seg);
GST_TRICKLE_API
gboolean gst_trickle_segmenter_wants_keyframe (GstTrickleSegmenter * seg,
    GstClockTime running_time);
GST_TRICKLE_API
void gst_trickle_segmenter_reset (GstTrickleSegmenter * seg);

G_END_DECLS
