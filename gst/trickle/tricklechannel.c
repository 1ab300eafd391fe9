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
 * SECTION:tricklechannel
 * @title: GstTrickleChannel
 * @short_description: a named trickle channel and its segment window
 *
 * A channel keeps the last `window` segments in slots (slot = seq mod
 * window). Writing a seq whose slot holds an older segment evicts that
 * segment: readers that are still sending it keep it alive until they are
 * done, new readers of it get "gone" (HTTP 470) and jump to the live edge.
 *
 * Reads follow the reference server: the next seq to be written (and seq 1
 * of a channel nothing was written to yet) is pre-created so a reader can
 * wait on it (the subscriber's preconnect); anything else outside the
 * window is gone.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "trickle-private.h"

struct _GstTrickleChannel
{
  gint refcount;
  gchar *name;
  guint window;
  guint64 max_segment_size;

  GMutex lock;
  gchar *mime_type;
  gboolean publisher_typed;
  gint read_only;               /* atomic */
  gchar *publish_token;         /* under lock */
  /* statistics (atomic) */
  guint64 st_segments, st_bytes, st_gone, st_drops;
  gint st_subscribers;
  GstTrickleSegment **slots;
  gint64 next_write;
  gint64 write_time;            /* monotonic µs of the last first byte */
  gboolean closed;
};

G_DEFINE_BOXED_TYPE (GstTrickleChannel, gst_trickle_channel,
    gst_trickle_channel_ref, gst_trickle_channel_unref);

GstTrickleChannel *
_gst_trickle_channel_new (const gchar * name, const gchar * mime_type,
    guint window, guint64 max_segment_size)
{
  GstTrickleChannel *ch = g_new0 (GstTrickleChannel, 1);

  ch->refcount = 1;
  ch->name = g_strdup (name);
  ch->mime_type = g_strdup (mime_type ? mime_type : "");
  ch->window = MAX (window, 1);
  ch->max_segment_size = max_segment_size;
  ch->slots = g_new0 (GstTrickleSegment *, ch->window);
  ch->write_time = g_get_monotonic_time ();
  g_mutex_init (&ch->lock);
  return ch;
}

/**
 * gst_trickle_channel_ref:
 * Returns: (transfer full): @channel
 */
GstTrickleChannel *
gst_trickle_channel_ref (GstTrickleChannel * channel)
{
  g_return_val_if_fail (channel != NULL, NULL);
  g_atomic_int_inc (&channel->refcount);
  return channel;
}

static void
clear_slots_locked (GstTrickleChannel * ch)
{
  guint i;

  for (i = 0; i < ch->window; i++) {
    if (ch->slots[i]) {
      _gst_trickle_segment_end (ch->slots[i], GST_TRICKLE_SEGMENT_COMPLETE);
      g_clear_pointer (&ch->slots[i], gst_trickle_segment_unref);
    }
  }
}

void
gst_trickle_channel_unref (GstTrickleChannel * channel)
{
  g_return_if_fail (channel != NULL);
  if (!g_atomic_int_dec_and_test (&channel->refcount))
    return;
  clear_slots_locked (channel);
  g_free (channel->slots);
  g_free (channel->name);
  g_free (channel->mime_type);
  g_free (channel->publish_token);
  g_mutex_clear (&channel->lock);
  g_free (channel);
}

const gchar *
gst_trickle_channel_get_name (GstTrickleChannel * channel)
{
  return channel->name;
}

/**
 * gst_trickle_channel_set_mime_type:
 *
 * Names the channel's media (the Content-Type of its answers): for a
 * publisher in the same process, whose caps become known after the
 * channel was made.
 */
void
gst_trickle_channel_set_mime_type (GstTrickleChannel * channel,
    const gchar * mime_type)
{
  g_mutex_lock (&channel->lock);
  g_free (channel->mime_type);
  channel->mime_type = g_strdup (mime_type ? mime_type : "");
  g_mutex_unlock (&channel->lock);
}

/**
 * gst_trickle_channel_set_publisher_typed:
 *
 * With %TRUE the channel's MIME type follows the Content-Type of the POSTs
 * published into it (for channels made without a type, such as a
 * pipeline's hosted input channels: only the publisher knows the media).
 * By default, as in the reference server, the type is fixed when the
 * channel is made, except that a channel made without one takes the
 * Content-Type of its first publisher.
 */
void
gst_trickle_channel_set_publisher_typed (GstTrickleChannel * channel,
    gboolean publisher_typed)
{
  g_mutex_lock (&channel->lock);
  channel->publisher_typed = publisher_typed;
  g_mutex_unlock (&channel->lock);
}

/**
 * gst_trickle_channel_set_read_only:
 *
 * With %TRUE, clients may read the channel but not write it: over HTTP a
 * segment's POST or DELETE and a DELETE of the channel are answered 403.
 * For channels the application writes itself (the change feed, a
 * trickleserver's events channel and the channels its sink pads fill),
 * which a client's POSTs would otherwise interleave with or delete. Writing
 * through this API is not affected.
 */
void
gst_trickle_channel_set_read_only (GstTrickleChannel * channel,
    gboolean read_only)
{
  g_atomic_int_set (&channel->read_only, read_only);
}

gboolean
gst_trickle_channel_get_read_only (GstTrickleChannel * channel)
{
  return g_atomic_int_get (&channel->read_only);
}

/**
 * gst_trickle_channel_set_publish_token:
 * @token: (nullable): a bearer token, or %NULL
 *
 * Writing this channel over HTTP (a segment's POST or DELETE, a DELETE of
 * the channel) needs `Authorization: Bearer` with @token, instead of the
 * server's publish-token: a trickleserver's control channel can so be
 * steered by whoever holds its own token only.
 */
void
gst_trickle_channel_set_publish_token (GstTrickleChannel * channel,
    const gchar * token)
{
  g_mutex_lock (&channel->lock);
  g_free (channel->publish_token);
  channel->publish_token = token && *token ? g_strdup (token) : NULL;
  g_mutex_unlock (&channel->lock);
}

gchar *
_gst_trickle_channel_dup_publish_token (GstTrickleChannel * channel)
{
  gchar *t;

  g_mutex_lock (&channel->lock);
  t = g_strdup (channel->publish_token);
  g_mutex_unlock (&channel->lock);
  return t;
}

gboolean
gst_trickle_channel_get_publisher_typed (GstTrickleChannel * channel)
{
  gboolean ret;

  g_mutex_lock (&channel->lock);
  ret = channel->publisher_typed;
  g_mutex_unlock (&channel->lock);
  return ret;
}

/* the Content-Type of a POST into the channel: a publisher-typed channel
 * follows each; a channel made without a type (POST /ch with no
 * Expect-Content) takes its first publisher's, so subscribers need not
 * guess the media. curl's default for --data names no media and is not
 * taken */
void
_gst_trickle_channel_publisher_content_type (GstTrickleChannel * channel,
    const gchar * content_type)
{
  if (!content_type || !*content_type)
    return;
  g_mutex_lock (&channel->lock);
  if (channel->publisher_typed ? g_strcmp0 (channel->mime_type,
          content_type) != 0 : channel->mime_type[0] == '\0'
      && g_ascii_strncasecmp (content_type,
          "application/x-www-form-urlencoded", 33) != 0) {
    g_free (channel->mime_type);
    channel->mime_type = g_strdup (content_type);
  }
  g_mutex_unlock (&channel->lock);
}

/**
 * gst_trickle_channel_dup_mime_type:
 * Returns: (transfer full): the channel's MIME type ("" when none was given)
 */
gchar *
gst_trickle_channel_dup_mime_type (GstTrickleChannel * channel)
{
  gchar *ret;

  g_mutex_lock (&channel->lock);
  ret = g_strdup (channel->mime_type);
  g_mutex_unlock (&channel->lock);
  return ret;
}

gint64
gst_trickle_channel_get_next_seq (GstTrickleChannel * channel)
{
  gint64 ret;

  g_mutex_lock (&channel->lock);
  ret = channel->next_write;
  g_mutex_unlock (&channel->lock);
  return ret;
}

gboolean
gst_trickle_channel_is_closed (GstTrickleChannel * channel)
{
  gboolean ret;

  g_mutex_lock (&channel->lock);
  ret = channel->closed;
  g_mutex_unlock (&channel->lock);
  return ret;
}

gint64
_gst_trickle_channel_get_write_time (GstTrickleChannel * channel)
{
  gint64 ret;

  g_mutex_lock (&channel->lock);
  ret = channel->write_time;
  g_mutex_unlock (&channel->lock);
  return ret;
}

/* @seg leaves its slot (a newer seq takes it). One nobody wrote into
 * releases the readers waiting on it (an empty segment); one still being
 * written stays open for the readers sending it, who get the rest and its
 * end, or an error should its publisher die. Ending it there cut it short
 * and they took the first part for the whole segment: a publisher's
 * backlog after a network cut (its POSTs resumed together, a later seq's
 * first byte before an earlier one's last) made complete segments short
 * (found by tests/faults) */
static void
evict (GstTrickleSegment * seg)
{
  if (_gst_trickle_segment_is_fresh (seg))
    _gst_trickle_segment_end (seg, GST_TRICKLE_SEGMENT_COMPLETE);
  gst_trickle_segment_unref (seg);
}

/**
 * gst_trickle_channel_open_read:
 * @channel: the channel
 * @seq: a seq >= 0, %GST_TRICKLE_SEQ_NEXT or %GST_TRICKLE_SEQ_CURRENT
 * @result: (out): what happened
 * @latest: (out) (optional): the next seq to be written
 *
 * Returns: (transfer full) (nullable): the segment when @result is
 * %GST_TRICKLE_READ_OK
 */
GstTrickleSegment *
gst_trickle_channel_open_read (GstTrickleChannel * channel, gint64 seq,
    GstTrickleReadResult * result, gint64 * latest)
{
  GstTrickleSegment *seg = NULL;
  guint slot;

  g_return_val_if_fail (seq >= 0 || seq == GST_TRICKLE_SEQ_NEXT
      || seq == GST_TRICKLE_SEQ_CURRENT, NULL);

  g_mutex_lock (&channel->lock);
  if (latest)
    *latest = channel->next_write;
  if (channel->closed) {
    /* a closed channel's segments kept for the readers behind it
     * (_gst_trickle_channel_close_draining()) are still read: ended ones
     * only, whatever was open is not a segment */
    seg = seq >= 0 ? channel->slots[(guint64) seq % channel->window] : NULL;
    if (seg && gst_trickle_segment_get_seq (seg) == seq
        && gst_trickle_segment_get_state (seg) != GST_TRICKLE_SEGMENT_OPEN) {
      gst_trickle_segment_ref (seg);
      *result = GST_TRICKLE_READ_OK;
    } else {
      seg = NULL;
      *result = GST_TRICKLE_READ_CLOSED;
    }
    goto out;
  }
  if (seq == GST_TRICKLE_SEQ_NEXT)
    seq = channel->next_write;
  else if (seq == GST_TRICKLE_SEQ_CURRENT)
    seq = MAX (channel->next_write - 1, 0);

  slot = (guint64) seq % channel->window;
  seg = channel->slots[slot];
  if (seg && gst_trickle_segment_get_seq (seg) == seq) {
    gst_trickle_segment_ref (seg);
  } else if (seq == channel->next_write
      || (channel->next_write == 0 && seq == 1)) {
    /* a preconnect: the reader waits on the pre-created segment; whoever
     * waited on the segment it replaces is released */
    if (seg)
      evict (seg);
    seg = channel->slots[slot] = _gst_trickle_segment_new (seq);
    gst_trickle_segment_ref (seg);
  } else {
    seg = NULL;
    *result = GST_TRICKLE_READ_GONE;
    channel->st_gone++;         /* under the channel lock */
    goto out;
  }
  *result = GST_TRICKLE_READ_OK;
out:
  g_mutex_unlock (&channel->lock);
  return seg;
}

GstTrickleSegment *
_gst_trickle_channel_open_write_claim (GstTrickleChannel * channel,
    gint64 seq, gboolean reset, guint * writer)
{
  GstTrickleSegment *seg;
  guint slot, i;

  g_return_val_if_fail ((seq >= 0 && seq <= GST_TRICKLE_SEQ_MAX)
      || seq == GST_TRICKLE_SEQ_NEXT, NULL);

  g_mutex_lock (&channel->lock);
  if (channel->closed) {
    g_mutex_unlock (&channel->lock);
    return NULL;
  }
  if (seq == GST_TRICKLE_SEQ_NEXT)
    seq = channel->next_write;

  if (seq + (gint64) channel->window < channel->next_write) {
    /* older than anything the window can hold: no POST of the publisher
     * writing at the head can be that late (it sends each segment after
     * the one before, so its stragglers are at most a segment or two
     * behind). A publisher restarted here, as the reference clients do
     * at seq 0 with no Lp-Trickle-Reset: the head follows it back, and
     * readers waiting at the old head are released (their next GET is
     * sent to this seq by the 470's Lp-Trickle-Latest), so none of the
     * new publisher's segments is skipped. The old publisher's segments
     * above this seq leave the window (readers sending one finish it):
     * kept, a publisher that died early (its seqs 2..6 still held) would
     * have them served again under the new publisher's numbers and its
     * own POSTs of those seqs refused (found by tests/faults) */
    channel->next_write = seq;
    for (i = 0; i < channel->window; i++) {
      GstTrickleSegment *s = channel->slots[i];
      if (s && gst_trickle_segment_get_seq (s) > seq) {
        if (_gst_trickle_segment_is_fresh (s))
          _gst_trickle_segment_end (s, GST_TRICKLE_SEGMENT_COMPLETE);
        channel->slots[i] = NULL;
        gst_trickle_segment_unref (s);
      }
    }
  }

  if (reset) {
    /* the publisher restarted: everyone waiting on older seqs is
     * released. The write head is left alone: preconnected POSTs can
     * arrive out of order, so a reset POST may be claimed after later
     * segments of the same publisher were written */
    for (i = 0; i < channel->window; i++) {
      GstTrickleSegment *s = channel->slots[i];
      if (s && gst_trickle_segment_get_seq (s) < seq)
        _gst_trickle_segment_end (s, GST_TRICKLE_SEGMENT_COMPLETE);
    }
  }

  slot = (guint64) seq % channel->window;
  seg = channel->slots[slot];
  if (seg && gst_trickle_segment_get_seq (seg) == seq
      && _gst_trickle_segment_is_fresh (seg)) {
    /* pre-created by a reader, or a retry of a POST that sent nothing:
     * keep the object so the readers already waiting on it stay */
  } else if (seg && gst_trickle_segment_get_seq (seg) == seq && !reset) {
    /* written (or being written) already: the reference keeps the first
     * data; the caller gets the segment but no right to write */
    gst_trickle_segment_ref (seg);
    g_mutex_unlock (&channel->lock);
    *writer = 0;
    return seg;
  } else {
    if (seg)
      /* an older segment (evicted), or a written seq POSTed again by a
       * publisher that reset: readers still sending the old one finish
       * it, new readers get the new one */
      evict (seg);
    seg = channel->slots[slot] = _gst_trickle_segment_new (seq);
  }
  gst_trickle_segment_ref (seg);
  g_mutex_unlock (&channel->lock);

  *writer = _gst_trickle_segment_claim (seg);
  return seg;
}

TrickleAppendResult
_gst_trickle_channel_append_claimed (GstTrickleChannel * channel,
    GstTrickleSegment * segment, guint writer, GBytes * data)
{
  gsize len = g_bytes_get_size (data);

  /* a superseded writer must not touch the segment nor the write head */
  if (writer != 0 && !_gst_trickle_segment_writer_is_current (segment, writer))
    return TRICKLE_APPEND_CLOSED;
  if (len == 0)
    return TRICKLE_APPEND_OK;

  /* max-segment-size counts payload bytes; the pages holding them are
   * bounded too (TRICKLE_MAX_PAGES) so a publisher sending 1-byte chunks
   * one at a time cannot make a segment cost many times its size */
  if (channel->max_segment_size > 0 &&
      (gst_trickle_segment_get_size (segment) + len >
          channel->max_segment_size ||
          _gst_trickle_segment_get_n_pages (segment) >=
          TRICKLE_MAX_PAGES (channel->max_segment_size))) {
    _gst_trickle_segment_end (segment, GST_TRICKLE_SEGMENT_ABORTED);
    __atomic_add_fetch (&channel->st_drops, 1, __ATOMIC_RELAXED);
    return TRICKLE_APPEND_TOO_LARGE;
  }

  if (gst_trickle_segment_get_size (segment) == 0) {
    /* first byte: the write head moves past this seq. Never backwards: two
     * segments of one publisher can reach us out of order on two
     * connections (a publisher that restarted far below the head moved it
     * back when its POST was claimed) */
    g_mutex_lock (&channel->lock);
    if (!channel->closed) {
      channel->next_write = MAX (channel->next_write,
          gst_trickle_segment_get_seq (segment) + 1);
      channel->write_time = g_get_monotonic_time ();
    }
    g_mutex_unlock (&channel->lock);
  }

  if (!_gst_trickle_segment_append (segment, writer, data))
    return TRICKLE_APPEND_CLOSED;
  __atomic_add_fetch (&channel->st_bytes, len, __ATOMIC_RELAXED);
  return TRICKLE_APPEND_OK;
}

/**
 * gst_trickle_channel_open_write:
 * @channel: the channel
 * @seq: the seq to write, or %GST_TRICKLE_SEQ_NEXT
 * @reset: the writer restarted: end every older open segment
 *
 * Starts writing a segment from inside the process (no HTTP).
 *
 * Returns: (transfer full) (nullable): the segment, or %NULL if the channel
 * is closed or @seq was written already (and @reset is %FALSE)
 */
GstTrickleSegment *
gst_trickle_channel_open_write (GstTrickleChannel * channel, gint64 seq,
    gboolean reset)
{
  GstTrickleSegment *seg;
  guint writer;

  seg = _gst_trickle_channel_open_write_claim (channel, seq, reset, &writer);
  if (seg && writer == 0)
    g_clear_pointer (&seg, gst_trickle_segment_unref);
  return seg;
}

/**
 * gst_trickle_channel_append:
 * @data: (transfer none): the bytes, kept by reference (never copied)
 *
 * Returns: %FALSE when the segment was closed (or exceeded the maximum
 * size, in which case it is aborted)
 */
gboolean
gst_trickle_channel_append (GstTrickleChannel * channel,
    GstTrickleSegment * segment, GBytes * data)
{
  return _gst_trickle_channel_append_claimed (channel, segment, 0,
      data) == TRICKLE_APPEND_OK;
}

void
gst_trickle_channel_finish (GstTrickleChannel * channel,
    GstTrickleSegment * segment)
{
  if (_gst_trickle_segment_end (segment, GST_TRICKLE_SEGMENT_COMPLETE))
    __atomic_add_fetch (&channel->st_segments, 1, __ATOMIC_RELAXED);
}

void
gst_trickle_channel_abort (GstTrickleChannel * channel,
    GstTrickleSegment * segment)
{
  if (_gst_trickle_segment_end (segment, GST_TRICKLE_SEGMENT_ABORTED))
    __atomic_add_fetch (&channel->st_drops, 1, __ATOMIC_RELAXED);
}

void
_gst_trickle_channel_add_subscriber (GstTrickleChannel * channel, gint n)
{
  g_atomic_int_add (&channel->st_subscribers, n);
}

/* HTTP GETs open on the channel now */
gint
_gst_trickle_channel_get_n_subscribers (GstTrickleChannel * channel)
{
  return g_atomic_int_get (&channel->st_subscribers);
}

/**
 * gst_trickle_channel_get_stats:
 *
 * Returns: (transfer full): `segments` (completed), `bytes` (published),
 * `gone` (reads answered 470: the segment had left the window), `drops`
 * (segments aborted: broken publishers, too large) as guint64, and
 * `subscribers` (HTTP GETs open on the channel now, preconnects included)
 * as guint
 */
GstStructure *
gst_trickle_channel_get_stats (GstTrickleChannel * channel)
{
  return gst_structure_new ("trickle-channel-stats",
      "segments", G_TYPE_UINT64,
      __atomic_load_n (&channel->st_segments, __ATOMIC_RELAXED),
      "bytes", G_TYPE_UINT64,
      __atomic_load_n (&channel->st_bytes, __ATOMIC_RELAXED),
      "gone", G_TYPE_UINT64,
      __atomic_load_n (&channel->st_gone, __ATOMIC_RELAXED),
      "drops", G_TYPE_UINT64,
      __atomic_load_n (&channel->st_drops, __ATOMIC_RELAXED),
      "subscribers", G_TYPE_UINT,
      (guint) MAX (g_atomic_int_get (&channel->st_subscribers), 0), NULL);
}

/**
 * gst_trickle_channel_write_segment:
 * @data: (transfer none): the whole segment
 * @seq_out: (out) (optional): the seq written
 *
 * Writes one complete segment at the next seq (JSON messages, the change
 * feed, documents an application publishes). Safe from any number of
 * threads at once: each call gets a seq of its own, the segments in the
 * order of the calls. A seq a POST has claimed but not yet written (a
 * publisher's preconnected POST) is left to it and the next one used.
 *
 * Returns: %FALSE if the channel is closed or the data too large
 */
gboolean
gst_trickle_channel_write_segment (GstTrickleChannel * channel, GBytes * data,
    gint64 * seq_out)
{
  GstTrickleSegment *seg = NULL;
  gsize len = g_bytes_get_size (data);
  gint64 seq;
  guint slot, tries;

  g_return_val_if_fail (channel != NULL, FALSE);

  if (channel->max_segment_size > 0 && len > channel->max_segment_size)
    return FALSE;
  /* seq chosen, written and ended under the channel lock: in-process
   * writers are serialised, and the write head moves with the choice */
  g_mutex_lock (&channel->lock);
  if (channel->closed) {
    g_mutex_unlock (&channel->lock);
    return FALSE;
  }
  seq = channel->next_write;
  for (tries = 0; tries < channel->window; tries++, seq++) {
    GstTrickleSegment *s = channel->slots[(guint64) seq % channel->window];
    if (!(s && gst_trickle_segment_get_seq (s) == seq
            && _gst_trickle_segment_is_claimed_empty (s)))
      break;
  }
  slot = (guint64) seq % channel->window;
  seg = channel->slots[slot];
  if (!(seg && gst_trickle_segment_get_seq (seg) == seq
          && _gst_trickle_segment_is_fresh (seg))) {
    /* not a segment readers already wait on: a new one (an older one in
     * the slot is ended for the readers still sending it) */
    if (seg)
      evict (seg);
    seg = channel->slots[slot] = _gst_trickle_segment_new (seq);
  }
  channel->next_write = MAX (channel->next_write, seq + 1);
  channel->write_time = g_get_monotonic_time ();
  _gst_trickle_segment_append (seg, _gst_trickle_segment_claim (seg), data);
  _gst_trickle_segment_end (seg, GST_TRICKLE_SEGMENT_COMPLETE);
  g_mutex_unlock (&channel->lock);

  __atomic_add_fetch (&channel->st_bytes, len, __ATOMIC_RELAXED);
  __atomic_add_fetch (&channel->st_segments, 1, __ATOMIC_RELAXED);
  if (seq_out)
    *seq_out = seq;
  return TRUE;
}

/**
 * gst_trickle_channel_close_segment:
 *
 * Politely ends segment @seq (HTTP `DELETE /ch/seq`): readers finish with
 * what was written so far.
 *
 * Returns: %FALSE if @seq is not in the window
 */
gboolean
gst_trickle_channel_close_segment (GstTrickleChannel * channel, gint64 seq)
{
  GstTrickleSegment *seg;
  gboolean found = FALSE;

  if (seq < 0)
    return FALSE;
  g_mutex_lock (&channel->lock);
  seg = channel->slots[(guint64) seq % channel->window];
  if (seg && gst_trickle_segment_get_seq (seg) == seq) {
    found = TRUE;
    _gst_trickle_segment_end (seg, GST_TRICKLE_SEGMENT_COMPLETE);
  }
  g_mutex_unlock (&channel->lock);
  return found;
}

/* marks the channel closed and releases everyone waiting on it */
void
_gst_trickle_channel_close (GstTrickleChannel * channel)
{
  g_mutex_lock (&channel->lock);
  channel->closed = TRUE;
  clear_slots_locked (channel);
  g_mutex_unlock (&channel->lock);
}

/* As _gst_trickle_channel_close(), but the segments that had ended stay
 * readable (complete, dropped or aborted, as before): the readers behind
 * the end still get them. The ones still open (being written, or waited
 * for) end as with _gst_trickle_channel_close() and go: a segment cut by
 * the close is not served later as a whole one. Returns TRUE when a kept
 * segment has data */
gboolean
_gst_trickle_channel_close_draining (GstTrickleChannel * channel)
{
  gboolean kept = FALSE;
  guint i;

  g_mutex_lock (&channel->lock);
  channel->closed = TRUE;
  for (i = 0; i < channel->window; i++) {
    GstTrickleSegment *s = channel->slots[i];

    if (!s)
      continue;
    if (_gst_trickle_segment_end (s, GST_TRICKLE_SEGMENT_COMPLETE))
      g_clear_pointer (&channel->slots[i], gst_trickle_segment_unref);
    else if (gst_trickle_segment_get_size (s) > 0)
      kept = TRUE;
  }
  g_mutex_unlock (&channel->lock);
  return kept;
}

/* an empty segment ended: the write head still moves past it */
void
_gst_trickle_channel_mark_empty_written (GstTrickleChannel * channel,
    gint64 seq)
{
  g_mutex_lock (&channel->lock);
  if (!channel->closed && channel->next_write <= seq) {
    channel->next_write = seq + 1;
    channel->write_time = g_get_monotonic_time ();
  }
  g_mutex_unlock (&channel->lock);
}
