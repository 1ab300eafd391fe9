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
 * SECTION:tricklereader
 * @title: GstTrickleReader
 * @short_description: follows a channel of an in-process store
 *
 * What #GstTrickleSubscriber does over HTTP, done on the channel store
 * directly (trickleserver's src pads): the same events, no socket, no
 * copy — each #GBytes is a page of the segment as the publisher's
 * connection filled it.
 *
 * It follows seq + 1 from `start_seq`; a segment gone from the window is a
 * %GST_TRICKLE_SUBSCRIBER_JUMP to the live edge. A channel that does not
 * exist is waited for. A closed channel is the end of the stream, unless
 * the channel is `hosted` (it belongs to the reader's owner, who keeps it):
 * then the reader creates it again and waits for the next publisher,
 * starting at its current segment.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "tricklereader.h"

#define POLL_US (100 * 1000)

struct _GstTrickleReader
{
  GstTrickleChannelStore *store;
  gchar *name;
  gboolean hosted;

  /* the reading thread */
  GstTrickleChannel *channel;
  GstTrickleSegment *segment;
  GstTrickleWaiter waiter;
  gint64 seq;
  guint page;
  gboolean started;             /* SEGMENT_START returned */
  gint64 last_seq;
  gboolean discont;
  gboolean ended;               /* EOS returned */

  GMutex lock;
  GCond cond;
  guint64 wakeups;
  gboolean flushing;
};

static void
reader_wake (gpointer data)
{
  GstTrickleReader *r = data;

  /* called with the segment's lock held: only our own lock here */
  g_mutex_lock (&r->lock);
  r->wakeups++;
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
}

/**
 * gst_trickle_reader_new: (skip)
 * @start_seq: -1 the next segment, -2 the one being written, or a seq
 * @hosted: a closed channel is created again (see above)
 *
 * Returns: (transfer full): a reader of @channel in @store (not a boxed
 *   type, so C only for now)
 */
GstTrickleReader *
gst_trickle_reader_new (GstTrickleChannelStore * store, const gchar * channel,
    gint64 start_seq, gboolean hosted)
{
  GstTrickleReader *r = g_new0 (GstTrickleReader, 1);

  r->store = g_object_ref (store);
  r->name = g_strdup (channel);
  r->hosted = hosted;
  r->seq = start_seq;
  r->last_seq = -1;
  r->waiter.func = reader_wake;
  r->waiter.user_data = r;
  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  return r;
}

static void
drop_segment (GstTrickleReader * r)
{
  if (r->segment) {
    gst_trickle_segment_remove_waiter (r->segment, &r->waiter);
    g_clear_pointer (&r->segment, gst_trickle_segment_unref);
  }
}

void
gst_trickle_reader_free (GstTrickleReader * r)
{
  drop_segment (r);
  g_clear_pointer (&r->channel, gst_trickle_channel_unref);
  g_object_unref (r->store);
  g_free (r->name);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
  g_free (r);
}

/* waits for a wake-up after @seen (or @timeout_us); FALSE when flushing */
static gboolean
wait_for (GstTrickleReader * r, guint64 seen, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  gboolean ok;

  g_mutex_lock (&r->lock);
  while (!r->flushing && r->wakeups == seen)
    if (!g_cond_wait_until (&r->cond, &r->lock, deadline))
      break;
  ok = !r->flushing;
  g_mutex_unlock (&r->lock);
  return ok;
}

static guint64
wakeups (GstTrickleReader * r)
{
  guint64 w;

  g_mutex_lock (&r->lock);
  w = r->flushing ? G_MAXUINT64 : r->wakeups;
  g_mutex_unlock (&r->lock);
  return w;
}

static GstTrickleSubscriberEvent
make_event (GstTrickleSubscriberEventType type, gint64 seq)
{
  GstTrickleSubscriberEvent ev = { 0, };

  ev.type = type;
  ev.seq = seq;
  ev.latest = -1;
  return ev;
}

/**
 * gst_trickle_reader_next_event:
 * @event: (out caller-allocates): as gst_trickle_subscriber_next_event()
 *
 * Waits for what comes next. %GST_TRICKLE_SUBSCRIBER_ERROR_CANCELLED after
 * gst_trickle_reader_unlock().
 */
gboolean
gst_trickle_reader_next_event (GstTrickleReader * r,
    GstTrickleSubscriberEvent * event, GError ** error)
{
  for (;;) {
    guint64 seen = wakeups (r);
    GstTrickleReadResult res;
    GstTrickleSegmentState state;
    GBytes *page = NULL;
    gint64 latest = -1;

    if (seen == G_MAXUINT64 || r->ended) {
      g_set_error (error, GST_TRICKLE_SUBSCRIBER_ERROR,
          GST_TRICKLE_SUBSCRIBER_ERROR_CANCELLED, r->ended ? "Ended" :
          "Interrupted");
      return FALSE;
    }

    if (!r->channel) {
      r->channel = gst_trickle_channel_store_lookup (r->store, r->name);
      if (!r->channel && r->hosted) {
        r->channel = gst_trickle_channel_store_create (r->store, r->name,
            NULL, NULL);
        if (r->channel)
          gst_trickle_channel_set_publisher_typed (r->channel, TRUE);
      }
      if (!r->channel) {
        if (!wait_for (r, seen, POLL_US))
          continue;
        continue;
      }
    }

    if (!r->segment) {
      GstTrickleSegment *s = gst_trickle_channel_open_read (r->channel,
          r->seq, &res, &latest);

      if (res == GST_TRICKLE_READ_CLOSED) {
        g_clear_pointer (&r->channel, gst_trickle_channel_unref);
        if (!r->hosted) {
          r->ended = TRUE;
          *event = make_event (GST_TRICKLE_SUBSCRIBER_EOS, r->last_seq);
          return TRUE;
        }
        /* a publisher closed the channel we host: it is made again, the
         * next publisher is read from its current segment */
        r->seq = GST_TRICKLE_SEQ_CURRENT;
        r->discont = TRUE;
        if (!wait_for (r, seen, POLL_US / 10))
          continue;
        continue;
      }
      if (res == GST_TRICKLE_READ_GONE) {
        *event = make_event (GST_TRICKLE_SUBSCRIBER_JUMP, r->seq);
        event->latest = latest;
        r->seq = latest >= 0 ? latest : GST_TRICKLE_SEQ_NEXT;
        r->discont = TRUE;
        return TRUE;
      }
      r->segment = s;
      r->seq = gst_trickle_segment_get_seq (s);
      r->page = 0;
      r->started = FALSE;
      gst_trickle_segment_add_waiter (s, &r->waiter);
      continue;
    }

    if (!r->started) {
      /* announced once it has data (or ended), as the HTTP server sends
       * a waiting GET its headers: the publisher has named the media by
       * then */
      if (gst_trickle_segment_peek_pages (r->segment, 0, NULL, 0,
              &state) == 0 && state == GST_TRICKLE_SEGMENT_OPEN
          && gst_trickle_segment_get_size (r->segment) == 0) {
        wait_for (r, seen, G_MAXINT64 / 2);
        continue;
      }
      r->started = TRUE;
      *event = make_event (GST_TRICKLE_SUBSCRIBER_SEGMENT_START, r->seq);
      event->discont = r->discont || (r->last_seq >= 0
          && r->seq != r->last_seq + 1);
      event->content_type = gst_trickle_channel_dup_mime_type (r->channel);
      r->discont = FALSE;
      r->last_seq = r->seq;
      return TRUE;
    }

    if (gst_trickle_segment_peek_pages (r->segment, r->page, &page, 1,
            &state) == 1) {
      r->page++;
      *event = make_event (GST_TRICKLE_SUBSCRIBER_DATA, r->seq);
      event->data = page;
      return TRUE;
    }
    if (state != GST_TRICKLE_SEGMENT_OPEN) {
      *event = make_event (GST_TRICKLE_SUBSCRIBER_SEGMENT_END, r->seq);
      event->complete = state == GST_TRICKLE_SEGMENT_COMPLETE;
      event->size = gst_trickle_segment_get_size (r->segment);
      drop_segment (r);
      r->seq++;
      return TRUE;
    }
    /* everything so far: wait for the publisher (or a closed channel,
     * which ends the open segment and wakes us) */
    wait_for (r, seen, G_MAXINT64 / 2);
  }
}

/**
 * gst_trickle_reader_unlock:
 *
 * Makes gst_trickle_reader_next_event() return at once (from any thread)
 * until gst_trickle_reader_unlock_stop().
 */
void
gst_trickle_reader_unlock (GstTrickleReader * r)
{
  g_mutex_lock (&r->lock);
  r->flushing = TRUE;
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
}

void
gst_trickle_reader_unlock_stop (GstTrickleReader * r)
{
  g_mutex_lock (&r->lock);
  r->flushing = FALSE;
  g_mutex_unlock (&r->lock);
}
