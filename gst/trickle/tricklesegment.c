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
 * SECTION:tricklesegment
 * @title: GstTrickleSegment
 * @short_description: one segment of a trickle channel, shared by its readers
 *
 * The data of a segment is a growing array of immutable pages. The writer
 * appends whole pages; every reader takes references to the same pages, so
 * a segment read by 40 subscribers is stored once. Readers that fall behind
 * keep references only to the pages they have not sent yet, and once a
 * segment leaves the channel's window it lives only as long as a reader is
 * still sending it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "trickle-private.h"

struct _GstTrickleSegment
{
  gint refcount;
  gint64 seq;

  GMutex lock;
  GPtrArray *pages;             /* GBytes */
  gsize size;
  GstTrickleSegmentState state;
  guint writer;                 /* token of the current writer, 0 = none */
  GQueue waiters;
};

G_DEFINE_BOXED_TYPE (GstTrickleSegment, gst_trickle_segment,
    gst_trickle_segment_ref, gst_trickle_segment_unref);

GstTrickleSegment *
_gst_trickle_segment_new (gint64 seq)
{
  GstTrickleSegment *seg = g_new0 (GstTrickleSegment, 1);

  seg->refcount = 1;
  seg->seq = seq;
  g_mutex_init (&seg->lock);
  seg->pages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  seg->state = GST_TRICKLE_SEGMENT_OPEN;
  g_queue_init (&seg->waiters);
  return seg;
}

/**
 * gst_trickle_segment_ref:
 * Returns: (transfer full): @segment
 */
GstTrickleSegment *
gst_trickle_segment_ref (GstTrickleSegment * segment)
{
  g_return_val_if_fail (segment != NULL, NULL);
  g_atomic_int_inc (&segment->refcount);
  return segment;
}

void
gst_trickle_segment_unref (GstTrickleSegment * segment)
{
  g_return_if_fail (segment != NULL);
  if (!g_atomic_int_dec_and_test (&segment->refcount))
    return;
  g_warn_if_fail (segment->waiters.length == 0);
  g_ptr_array_unref (segment->pages);
  g_mutex_clear (&segment->lock);
  g_free (segment);
}

gint64
gst_trickle_segment_get_seq (GstTrickleSegment * segment)
{
  return segment->seq;
}

gsize
gst_trickle_segment_get_size (GstTrickleSegment * segment)
{
  gsize size;

  g_mutex_lock (&segment->lock);
  size = segment->size;
  g_mutex_unlock (&segment->lock);
  return size;
}

GstTrickleSegmentState
gst_trickle_segment_get_state (GstTrickleSegment * segment)
{
  GstTrickleSegmentState state;

  g_mutex_lock (&segment->lock);
  state = segment->state;
  g_mutex_unlock (&segment->lock);
  return state;
}

static void
wake_waiters_locked (GstTrickleSegment * seg)
{
  GList *l;

  for (l = seg->waiters.head; l; l = l->next) {
    GstTrickleWaiter *w = l->data;
    w->func (w->user_data);
  }
}

/**
 * gst_trickle_segment_peek_pages:
 * @segment: the segment
 * @first_page: index of the first page wanted
 * @pages: (out caller-allocates) (array length=max_pages): receives references
 * @max_pages: size of @pages
 * @state: (out) (optional): the segment state at the time of the call
 *
 * Takes references to the pages from @first_page on. When this returns 0
 * and @state is %GST_TRICKLE_SEGMENT_OPEN, the reader has everything so
 * far and should wait for its #GstTrickleWaiter.
 *
 * Returns: the number of pages stored in @pages
 */
guint
gst_trickle_segment_peek_pages (GstTrickleSegment * segment, guint first_page,
    GBytes ** pages, guint max_pages, GstTrickleSegmentState * state)
{
  guint n = 0;

  g_mutex_lock (&segment->lock);
  while (first_page + n < segment->pages->len && n < max_pages) {
    pages[n] = g_bytes_ref (g_ptr_array_index (segment->pages, first_page + n));
    n++;
  }
  if (state)
    *state = segment->state;
  g_mutex_unlock (&segment->lock);
  return n;
}

/**
 * gst_trickle_segment_add_waiter:
 *
 * Registers @waiter to be called each time data is appended to @segment or
 * its state changes. Register before the first peek so no wake-up is lost.
 */
void
gst_trickle_segment_add_waiter (GstTrickleSegment * segment,
    GstTrickleWaiter * waiter)
{
  g_mutex_lock (&segment->lock);
  waiter->link.data = waiter;
  g_queue_push_tail_link (&segment->waiters, &waiter->link);
  g_mutex_unlock (&segment->lock);
}

void
gst_trickle_segment_remove_waiter (GstTrickleSegment * segment,
    GstTrickleWaiter * waiter)
{
  g_mutex_lock (&segment->lock);
  g_queue_unlink (&segment->waiters, &waiter->link);
  g_mutex_unlock (&segment->lock);
}

guint
_gst_trickle_segment_claim (GstTrickleSegment * segment)
{
  guint token;

  g_mutex_lock (&segment->lock);
  token = ++segment->writer;
  /* a new writer starts from an empty segment (a retry of the same seq) */
  wake_waiters_locked (segment);
  g_mutex_unlock (&segment->lock);
  return token;
}

/* open, empty, and a writer (a POST) has claimed it: a preconnected POST
 * waiting for its data */
gboolean
_gst_trickle_segment_is_claimed_empty (GstTrickleSegment * segment)
{
  gboolean ret;

  g_mutex_lock (&segment->lock);
  ret = segment->state == GST_TRICKLE_SEGMENT_OPEN && segment->size == 0
      && segment->writer != 0;
  g_mutex_unlock (&segment->lock);
  return ret;
}

gboolean
_gst_trickle_segment_writer_is_current (GstTrickleSegment * segment,
    guint writer)
{
  gboolean ret;

  g_mutex_lock (&segment->lock);
  ret = segment->writer == writer && segment->state == GST_TRICKLE_SEGMENT_OPEN;
  g_mutex_unlock (&segment->lock);
  return ret;
}

guint
_gst_trickle_segment_get_n_pages (GstTrickleSegment * segment)
{
  guint n;

  g_mutex_lock (&segment->lock);
  n = segment->pages->len;
  g_mutex_unlock (&segment->lock);
  return n;
}

gboolean
_gst_trickle_segment_is_fresh (GstTrickleSegment * segment)
{
  gboolean ret;

  g_mutex_lock (&segment->lock);
  ret = segment->state == GST_TRICKLE_SEGMENT_OPEN && segment->size == 0;
  g_mutex_unlock (&segment->lock);
  return ret;
}

/* @writer 0 appends whatever the current writer is (in-process writers) */
gboolean
_gst_trickle_segment_append (GstTrickleSegment * segment, guint writer,
    GBytes * data)
{
  gboolean ok;

  g_mutex_lock (&segment->lock);
  ok = segment->state == GST_TRICKLE_SEGMENT_OPEN &&
      (writer == 0 || writer == segment->writer);
  if (ok && g_bytes_get_size (data) > 0) {
    g_ptr_array_add (segment->pages, g_bytes_ref (data));
    segment->size += g_bytes_get_size (data);
    wake_waiters_locked (segment);
  }
  g_mutex_unlock (&segment->lock);
  return ok;
}

/* OPEN -> COMPLETE or ABORTED; returns FALSE if it had ended already */
gboolean
_gst_trickle_segment_end (GstTrickleSegment * segment,
    GstTrickleSegmentState state)
{
  gboolean changed;

  g_mutex_lock (&segment->lock);
  changed = segment->state == GST_TRICKLE_SEGMENT_OPEN;
  if (changed) {
    segment->state = state;
    wake_waiters_locked (segment);
  }
  g_mutex_unlock (&segment->lock);
  return changed;
}
