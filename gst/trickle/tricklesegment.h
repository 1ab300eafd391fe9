/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <gst/trickle/trickle-prelude.h>

G_BEGIN_DECLS

/**
 * GstTrickleSegment:
 *
 * One numbered segment of a channel: a list of immutable, reference-counted
 * pages (#GBytes) appended by one writer and read by any number of readers.
 * Readers never copy: they take references to the pages.
 *
 * All functions are thread safe.
 */
typedef struct _GstTrickleSegment GstTrickleSegment;

/**
 * GstTrickleSegmentState:
 * @GST_TRICKLE_SEGMENT_OPEN: the writer may still append (or has not started)
 * @GST_TRICKLE_SEGMENT_COMPLETE: the segment ended normally (or was closed
 *   politely); readers finish with what they have
 * @GST_TRICKLE_SEGMENT_ABORTED: the writer failed mid-segment (disconnect,
 *   oversize): the data is incomplete and readers must report an error
 */
typedef enum
{
  GST_TRICKLE_SEGMENT_OPEN,
  GST_TRICKLE_SEGMENT_COMPLETE,
  GST_TRICKLE_SEGMENT_ABORTED,
} GstTrickleSegmentState;

/**
 * GstTrickleWakeFunc:
 *
 * Called, with internal locks held, when a watched segment gains data or
 * changes state. It must not block nor call back into the segment: it
 * should only schedule work (set a #GSource ready, signal a #GCond).
 */
typedef void (*GstTrickleWakeFunc) (gpointer user_data);

/**
 * GstTrickleWaiter:
 *
 * Caller-owned registration for wake-ups. Initialise @func and @user_data;
 * the rest is private.
 */
typedef struct _GstTrickleWaiter
{
  GstTrickleWakeFunc func;
  gpointer user_data;
  /*< private >*/
  GList link;
} GstTrickleWaiter;

GST_TRICKLE_API
GType gst_trickle_segment_get_type (void);
#define GST_TRICKLE_TYPE_SEGMENT (gst_trickle_segment_get_type ())

GST_TRICKLE_API
GstTrickleSegment *gst_trickle_segment_ref (GstTrickleSegment * segment);
GST_TRICKLE_API
void gst_trickle_segment_unref (GstTrickleSegment * segment);

GST_TRICKLE_API
gint64 gst_trickle_segment_get_seq (GstTrickleSegment * segment);
GST_TRICKLE_API
gsize gst_trickle_segment_get_size (GstTrickleSegment * segment);
GST_TRICKLE_API
GstTrickleSegmentState gst_trickle_segment_get_state (GstTrickleSegment * segment);

GST_TRICKLE_API
guint gst_trickle_segment_peek_pages (GstTrickleSegment * segment,
    guint first_page, GBytes ** pages, guint max_pages,
    GstTrickleSegmentState * state);

GST_TRICKLE_API
void gst_trickle_segment_add_waiter (GstTrickleSegment * segment,
    GstTrickleWaiter * waiter);
GST_TRICKLE_API
void gst_trickle_segment_remove_waiter (GstTrickleSegment * segment,
    GstTrickleWaiter * waiter);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstTrickleSegment, gst_trickle_segment_unref)

G_END_DECLS
