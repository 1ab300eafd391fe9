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
/* Subscriber events -> buffers, shared by tricklesrc (over HTTP) and
 * trickleserver's src pads (in-process):
 * - caps from each segment's Content-Type (gst_trickle_content_type_to_caps)
 *   or the override; none given: typefind the first TYPEFIND_BYTES (not
 *   recognised: nothing more is pushed, the caller reports it);
 * - byte streams: each piece as it arrives, wrapping the GBytes (no copy),
 *   without timestamps unless asked (gst_trickle_framer_set_timestamping():
 *   then PTS/DTS = the running time it arrived at). Arrival times are
 *   what hlssink needs, but tsdemux, given a TIME segment, follows them
 *   to estimate the sender's clock skew, and bursty arrival (a subscriber
 *   catching up, a loaded machine) then makes its output timestamps jump,
 *   backwards at times; without them it maps the PCR as it is. The first
 *   buffer of a segment (a keyframe with PAT/PMT, by how
 *   publishers cut) without DELTA_UNIT, the others with it, and a
 *   downstream force-key-unit event before a segment's first buffer when
 *   one was asked for (hlssink, splitmuxsink split there);
 * - frame formats: the pieces of a complete segment as one buffer
 *   (memories appended, no copy), PTS/DTS = the running time when the
 *   segment began; a segment cut short is dropped; stream headers named
 *   by the Content-Type (`trickle-headers`) are taken from the segment's
 *   start into the caps;
 * - DISCONT on the first buffer after a skipped seq, a jump or a break;
 * - MPEG-TS: at the end of a complete segment, one packet for each stream
 *   whose last PES has no length (video from ffmpeg, frames over 64 KiB)
 *   or is still short of it, so that a demuxer outputs the segment's last
 *   frame now rather than when the next segment's first packet arrives
 *   (gst_trickle_framer_set_mark_end()). The packet starts a PES (the
 *   previous one ends there) whose header is not one (no start code):
 *   tsdemux and ffmpeg drop it without a word. It repeats the stream's
 *   last continuity counter, with the discontinuity indicator set, so the
 *   next real packet follows in sequence for both. Segments begin on PES
 *   boundaries (publishers cut before a keyframe's PES), so no PES is open
 *   across one. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/base/gsttypefindhelper.h>
#include <gst/video/video.h>
#include <string.h>
#include "gsttrickleframer.h"

#define TYPEFIND_BYTES 8192
#define TS_PACKET 188
/* elementary streams followed in one channel */
#define TS_MAX_PES 16

typedef struct
{
  guint16 pid;
  guint8 cc;                    /* the last continuity counter seen */
  gboolean open;                /* a PES started and not known complete */
  gint64 left;                  /* its bytes still to come, -1: no length */
} TsPes;

#define MAX_TYPE_CHANGES 64
#define MAX_TYPE_LENGTH 4096

struct _GstTrickleFramer
{
  GstObject *owner;             /* not a reference: for logs and typefind */
  GstCaps *caps_override;
  GstCaps *caps;                /* current */
  gchar *content_type;
  gboolean byte_stream;
  gboolean typefind;
  gboolean type_not_found;
  gchar *refused;               /* a Content-Type naming no usable caps */
  guint type_changes;           /* Content-Types seen */
  guint64 max_frame;            /* frame formats: 0 = no bound */
  gboolean oversize;            /* the segment's frame went over it */
  gboolean discont;
  gboolean headers;             /* frame segments begin with caps buffers */
  GstCaps *base_caps;           /* ...the caps without them */
  gboolean segment_begins;      /* the next byte-stream buffer starts one */
  gboolean timestamping;        /* byte-stream buffers get arrival times */
  /* an upstream force-key-unit event's wish, under the owner's lock */
  gboolean key_unit_asked;
  GstClockTime key_unit_time;
  guint key_unit_count;
  GstEvent *key_unit_event;     /* to send before the buffer returned */
  GstBuffer *frame;
  GstClockTime segment_start;
  /* MPEG-TS segment ends */
  gboolean mark_end;            /* wanted */
  gboolean ts;                  /* the caps are 188-byte MPEG-TS */
  gboolean ts_synced;           /* this segment's packets are followed */
  guint8 ts_partial[TS_PACKET];
  guint ts_partial_len;
  TsPes pes[TS_MAX_PES];
  guint n_pes;
};

GstTrickleFramer *
gst_trickle_framer_new (GstObject * owner)
{
  GstTrickleFramer *f = g_new0 (GstTrickleFramer, 1);

  f->owner = owner;
  f->mark_end = TRUE;
  gst_trickle_framer_reset (f);
  return f;
}

void
gst_trickle_framer_free (GstTrickleFramer * f)
{
  gst_trickle_framer_reset (f);
  gst_clear_caps (&f->caps_override);
  g_free (f);
}

void
gst_trickle_framer_reset (GstTrickleFramer * f)
{
  g_clear_pointer (&f->content_type, g_free);
  gst_clear_caps (&f->caps);
  gst_clear_caps (&f->base_caps);
  gst_clear_buffer (&f->frame);
  f->typefind = FALSE;
  f->type_not_found = FALSE;
  g_clear_pointer (&f->refused, g_free);
  f->oversize = FALSE;
  f->type_changes = 0;
  f->byte_stream = TRUE;
  f->headers = FALSE;
  f->discont = TRUE;
  f->segment_begins = FALSE;
  f->ts = f->ts_synced = FALSE;
  f->ts_partial_len = 0;
  f->n_pes = 0;
  GST_OBJECT_LOCK (f->owner);
  f->key_unit_asked = FALSE;
  GST_OBJECT_UNLOCK (f->owner);
  gst_clear_event (&f->key_unit_event);
}

/* An upstream force-key-unit event (hlssink asks for one every
 * target-duration): the first segment start at or after the running time
 * asked (NONE: the next one) is announced downstream with a
 * force-key-unit event. Segments start on keyframes, so that is where a
 * file may be split. Returns TRUE when @event was one (not taken). Any
 * thread. */
gboolean
gst_trickle_framer_handle_upstream_event (GstTrickleFramer * f,
    GstEvent * event)
{
  GstClockTime running_time;
  gboolean all_headers;
  guint count;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_UPSTREAM
      || !gst_video_event_is_force_key_unit (event))
    return FALSE;
  gst_video_event_parse_upstream_force_key_unit (event, &running_time,
      &all_headers, &count);
  GST_OBJECT_LOCK (f->owner);
  f->key_unit_asked = TRUE;
  f->key_unit_time = running_time;
  f->key_unit_count = count;
  GST_OBJECT_UNLOCK (f->owner);
  return TRUE;
}

/* byte-stream buffers carry their arrival running time (tricklesrc's
 * do-timestamp) */
void
gst_trickle_framer_set_timestamping (GstTrickleFramer * f, gboolean on)
{
  f->timestamping = on;
}

/* MPEG-TS segments end with packets that close their open PES (on by
 * default) */
void
gst_trickle_framer_set_mark_end (GstTrickleFramer * f, gboolean on)
{
  f->mark_end = on;
}

/* the event to send before the buffer gst_trickle_framer_feed() just
 * returned, if any */
GstEvent *
gst_trickle_framer_take_event (GstTrickleFramer * f)
{
  GstEvent *ev = f->key_unit_event;

  f->key_unit_event = NULL;
  return ev;
}

/* a segment's first buffer, at @now, goes out: announce it if asked */
static void
segment_buffer (GstTrickleFramer * f, GstClockTime now)
{
  gboolean due;
  guint count;

  GST_OBJECT_LOCK (f->owner);
  due = f->key_unit_asked && (!GST_CLOCK_TIME_IS_VALID (f->key_unit_time)
      || !GST_CLOCK_TIME_IS_VALID (now) || now >= f->key_unit_time);
  count = f->key_unit_count;
  if (due)
    f->key_unit_asked = FALSE;
  GST_OBJECT_UNLOCK (f->owner);
  if (due) {
    gst_clear_event (&f->key_unit_event);
    f->key_unit_event = gst_video_event_new_downstream_force_key_unit (now,
        now, now, TRUE, count);
  }
}

/* typefinding could not name the channel's media: nothing is pushed (the
 * caller posts STREAM/TYPE_NOT_FOUND) */
gboolean
gst_trickle_framer_type_not_found (GstTrickleFramer * f)
{
  return f->type_not_found;
}

/* the Content-Type of a segment named caps that cannot be used (ANY,
 * EMPTY, ranges or lists: what a broken or hostile server may send):
 * nothing more is pushed, the caller posts STREAM/FORMAT. Returns that
 * Content-Type, or NULL */
const gchar *
gst_trickle_framer_refused_content_type (GstTrickleFramer * f)
{
  return f->refused;
}

/* the largest frame (a segment of a frame format) kept; a bigger one is
 * dropped with a warning instead of growing without bound (0: none) */
void
gst_trickle_framer_set_max_frame_size (GstTrickleFramer * f, guint64 max)
{
  f->max_frame = max;
}

void
gst_trickle_framer_set_caps_override (GstTrickleFramer * f, GstCaps * caps)
{
  gst_caps_replace (&f->caps_override, caps);
}

void
gst_trickle_framer_mark_discont (GstTrickleFramer * f)
{
  f->discont = TRUE;
}

static void
append (GstBuffer ** frame, GBytes * bytes)
{
  if (!*frame)
    *frame = gst_buffer_new ();
  gst_buffer_append_memory (*frame,
      gst_memory_new_wrapped (GST_MEMORY_FLAG_READONLY,
          (gpointer) g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
          0, g_bytes_get_size (bytes), g_bytes_ref (bytes),
          (GDestroyNotify) g_bytes_unref));
}

/* @caps (taken) become current; *new_caps tells the caller when they
 * changed */
static void
use_caps (GstTrickleFramer * f, GstCaps * caps, GstCaps ** new_caps)
{
  if (f->caps && gst_caps_is_equal (f->caps, caps)) {
    gst_caps_unref (caps);
    return;
  }
  GST_INFO_OBJECT (f->owner, "caps %" GST_PTR_FORMAT, caps);
  {
    GstStructure *st = gst_caps_get_structure (caps, 0);
    gint size = TS_PACKET;

    gst_structure_get_int (st, "packetsize", &size);
    f->ts = f->byte_stream && gst_structure_has_name (st, "video/mpegts")
        && size == TS_PACKET;
    f->n_pes = 0;
  }
  gst_caps_replace (&f->caps, caps);
  gst_caps_replace (new_caps, caps);
  gst_caps_unref (caps);
}

static void
segment_start (GstTrickleFramer * f, const gchar * content_type,
    GstCaps ** new_caps)
{
  GstCaps *caps;

  if (f->content_type && g_strcmp0 (f->content_type, content_type) == 0)
    return;
  /* Every name in a Content-Type (media type, fields) becomes a GQuark,
   * which lives as long as the process: a server changing it at every
   * segment would grow the memory without bound. A stream changes its
   * caps a few times; beyond MAX_TYPE_CHANGES, or a Content-Type longer
   * than MAX_TYPE_LENGTH, it is refused (STREAM/FORMAT) */
  if (!f->caps_override && (++f->type_changes > MAX_TYPE_CHANGES
          || (content_type && strlen (content_type) > MAX_TYPE_LENGTH))) {
    g_free (f->refused);
    f->refused = g_strdup (content_type ? content_type : "");
    return;
  }
  g_free (f->content_type);
  f->content_type = g_strdup (content_type ? content_type : "");
  f->typefind = FALSE;
  if (f->caps_override) {
    caps = gst_caps_ref (f->caps_override);
  } else {
    caps = gst_trickle_content_type_to_caps (content_type);
    if (gst_caps_is_any (caps) || gst_caps_is_empty (caps)
        || !gst_caps_is_fixed (caps)) {
      gst_caps_unref (caps);
      f->refused = g_strdup (f->content_type);
      return;
    }
    if (gst_structure_has_name (gst_caps_get_structure (caps, 0),
            "application/octet-stream")) {
      /* the publisher did not say (ffmpeg's segment muxer does not): the
       * first bytes tell */
      gst_caps_unref (caps);
      f->byte_stream = TRUE;
      f->typefind = TRUE;
      return;
    }
  }
  f->byte_stream = gst_trickle_caps_is_byte_stream (caps);
  f->headers = !f->caps_override && !f->byte_stream
      && gst_trickle_content_type_has_headers (content_type);
  if (f->headers) {
    /* the caps are complete only with the buffers at the segment's start */
    gst_caps_replace (&f->base_caps, caps);
    gst_caps_unref (caps);
    return;
  }
  use_caps (f, caps, new_caps);
}

/* a frame segment that begins with the caps' buffers: the caps from them,
 * the frame after them */
static GstBuffer *
take_headers (GstTrickleFramer * f, GstBuffer * buf, GstCaps ** new_caps)
{
  gsize hsize = 0;
  GstCaps *caps = gst_trickle_caps_take_headers (gst_caps_ref (f->base_caps),
      f->content_type, buf, &hsize);
  GstBuffer *frame;

  if (!caps || hsize >= gst_buffer_get_size (buf)) {
    GST_WARNING_OBJECT (f->owner, "a segment without its stream headers "
        "(%" G_GSIZE_FORMAT " bytes, Content-Type %s): dropped",
        gst_buffer_get_size (buf), f->content_type);
    gst_clear_caps (&caps);
    gst_buffer_unref (buf);
    f->discont = TRUE;
    return NULL;
  }
  use_caps (f, caps, new_caps);
  frame = gst_buffer_copy_region (buf, GST_BUFFER_COPY_ALL, hsize,
      gst_buffer_get_size (buf) - hsize);
  gst_buffer_unref (buf);
  return frame;
}

static GstBuffer *
typefind_done (GstTrickleFramer * f, GstCaps ** new_caps)
{
  GstBuffer *buf = f->frame;
  GstCaps *caps;

  f->frame = NULL;
  f->typefind = FALSE;
  caps = gst_type_find_helper_for_buffer (f->owner, buf, NULL);
  if (!caps) {
    /* pushing the bytes anyway would hand pieces of frames downstream as
     * if they were a stream */
    GST_WARNING_OBJECT (f->owner, "no Content-Type, and typefinding %"
        G_GSIZE_FORMAT " bytes failed", gst_buffer_get_size (buf));
    gst_buffer_unref (buf);
    f->type_not_found = TRUE;
    return NULL;
  }
  GST_INFO_OBJECT (f->owner, "no Content-Type: the data looks like %"
      GST_PTR_FORMAT, caps);
  use_caps (f, caps, new_caps);
  return buf;
}

/* ------------------------------------------------------------------------ */
/* MPEG-TS segment ends */

static TsPes *
ts_pes (GstTrickleFramer * f, guint pid, gboolean add)
{
  guint i;

  for (i = 0; i < f->n_pes; i++)
    if (f->pes[i].pid == pid)
      return &f->pes[i];
  if (!add || f->n_pes == TS_MAX_PES)
    return NULL;
  f->pes[f->n_pes].pid = pid;
  f->pes[f->n_pes].open = FALSE;
  return &f->pes[f->n_pes++];
}

static void
ts_packet (GstTrickleFramer * f, const guint8 * pkt)
{
  guint pid = ((pkt[1] & 0x1f) << 8) | pkt[2];
  guint afc = (pkt[3] >> 4) & 3, off = 4, size;
  const guint8 *payload;
  TsPes *pes;

  if (pkt[0] != 0x47) {
    /* not (or no longer) packet aligned: this segment is left as it is */
    GST_DEBUG_OBJECT (f->owner, "MPEG-TS segment out of packet sync");
    f->ts_synced = FALSE;
    return;
  }
  if (!(afc & 1))
    return;                     /* no payload: the counter stays */
  if ((pes = ts_pes (f, pid, FALSE)))
    pes->cc = pkt[3] & 0x0f;
  if (afc & 2)
    off += 1 + pkt[4];
  if (off >= TS_PACKET)
    return;
  payload = pkt + off;
  size = TS_PACKET - off;
  if ((pkt[1] & 0x40) && size >= 6 && payload[0] == 0 && payload[1] == 0
      && payload[2] == 1 && payload[3] >= 0xbc) {
    guint len = (payload[4] << 8) | payload[5];

    if (!(pes = ts_pes (f, pid, TRUE)))
      return;
    pes->left = len ? (gint64) len + 6 - size : -1;
    pes->open = len == 0 || pes->left > 0;
  } else if (!(pes = ts_pes (f, pid, FALSE))) {
    return;                     /* PSI, or a stream not followed */
  } else if (pes->open && pes->left > 0) {
    pes->left -= size;
    if (pes->left <= 0)
      pes->open = FALSE;
  }
  pes->cc = pkt[3] & 0x0f;
}

static void
ts_scan (GstTrickleFramer * f, GBytes * bytes)
{
  gsize n;
  const guint8 *d = g_bytes_get_data (bytes, &n);

  while (n > 0 && f->ts_synced) {
    if (f->ts_partial_len > 0 || n < TS_PACKET) {
      guint take = MIN (n, TS_PACKET - f->ts_partial_len);
      memcpy (f->ts_partial + f->ts_partial_len, d, take);
      f->ts_partial_len += take;
      d += take;
      n -= take;
      if (f->ts_partial_len == TS_PACKET) {
        f->ts_partial_len = 0;
        ts_packet (f, f->ts_partial);
      }
      continue;
    }
    ts_packet (f, d);
    d += TS_PACKET;
    n -= TS_PACKET;
  }
}

static void
ts_close_all (GstTrickleFramer * f)
{
  guint i;

  for (i = 0; i < f->n_pes; i++)
    f->pes[i].open = FALSE;
}

/* typefinding found MPEG-TS in the segment's first bytes (@buf): they
 * are followed from there */
static void
ts_follow_from (GstTrickleFramer * f, GstBuffer * buf)
{
  GstMapInfo map;

  if (!buf || !f->ts || !f->mark_end || !gst_buffer_map (buf, &map,
          GST_MAP_READ))
    return;
  f->ts_synced = TRUE;
  f->ts_partial_len = 0;
  ts_close_all (f);
  {
    GBytes *bytes = g_bytes_new_static (map.data, map.size);
    ts_scan (f, bytes);
    g_bytes_unref (bytes);
  }
  gst_buffer_unmap (buf, &map);
}

/* one packet per PES still open, or NULL */
static GstBuffer *
ts_end_packets (GstTrickleFramer * f)
{
  GstBuffer *buf = NULL;
  GstMapInfo map;
  guint i, n = 0, k = 0;

  for (i = 0; i < f->n_pes; i++)
    n += f->pes[i].open;
  if (n == 0 || !f->ts_synced || f->ts_partial_len != 0)
    goto done;
  buf = gst_buffer_new_allocate (NULL, n * TS_PACKET, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < f->n_pes; i++) {
    guint8 *p = map.data + k * TS_PACKET;
    if (!f->pes[i].open)
      continue;
    /* PUSI, adaptation field (1 byte: discontinuity indicator) and a
     * payload that is no PES header */
    p[0] = 0x47;
    p[1] = 0x40 | (f->pes[i].pid >> 8);
    p[2] = f->pes[i].pid & 0xff;
    p[3] = 0x30 | f->pes[i].cc;
    p[4] = 1;
    p[5] = 0x80;
    memset (p + 6, 0xff, TS_PACKET - 6);
    k++;
  }
  gst_buffer_unmap (buf, &map);
  GST_LOG_OBJECT (f->owner, "%u MPEG-TS end packet(s)", n);
done:
  ts_close_all (f);
  return buf;
}

/* a byte-stream buffer: stamped with its arrival if asked, a segment's
 * first one marked as the keyframe it starts with */
static GstBuffer *
stamp (GstTrickleFramer * f, GstBuffer * buf, GstClockTime now)
{
  if (!buf)
    return NULL;
  if (f->timestamping)
    GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) = now;
  if (f->segment_begins) {
    f->segment_begins = FALSE;
    segment_buffer (f, now);
  } else {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  }
  return buf;
}

/**
 * gst_trickle_framer_feed:
 * @now: running time now (timestamps)
 * @new_caps: (out) (transfer full): set when the caps change: to be sent
 *   before the returned buffer
 *
 * Returns: (transfer full) (nullable): a buffer to push
 */
GstBuffer *
gst_trickle_framer_feed (GstTrickleFramer * f, GstTrickleSubscriberEvent * ev,
    GstClockTime now, GstCaps ** new_caps)
{
  GstBuffer *buf = NULL;

  if (f->type_not_found || f->refused)
    return NULL;
  switch (ev->type) {
    case GST_TRICKLE_SUBSCRIBER_SEGMENT_START:
      if (ev->discont)
        f->discont = TRUE;
      f->oversize = FALSE;
      segment_start (f, ev->content_type, new_caps);
      if (f->refused)
        return NULL;
      f->segment_start = now;
      f->segment_begins = TRUE;
      gst_clear_buffer (&f->frame);
      f->ts_synced = f->ts && f->mark_end;
      f->ts_partial_len = 0;
      ts_close_all (f);
      break;
    case GST_TRICKLE_SUBSCRIBER_DATA:
      if (f->typefind) {
        append (&f->frame, ev->data);
        if (gst_buffer_get_size (f->frame) >= TYPEFIND_BYTES) {
          buf = stamp (f, typefind_done (f, new_caps), now);
          ts_follow_from (f, buf);
        }
      } else if (f->byte_stream) {
        /* as it arrives: no copy */
        if (f->ts_synced)
          ts_scan (f, ev->data);
        buf = stamp (f, gst_buffer_new_wrapped_bytes (ev->data), now);
      } else if (!f->oversize) {
        guint64 have = f->frame ? gst_buffer_get_size (f->frame) : 0;

        if (f->max_frame && have + g_bytes_get_size (ev->data) > f->max_frame) {
          /* a segment that never ends must not grow without bound */
          GST_ELEMENT_WARNING (GST_ELEMENT (f->owner), STREAM, DECODE,
              ("A segment over max-segment-size (%" G_GUINT64_FORMAT
                  " bytes) was dropped", f->max_frame),
              ("segment %" G_GINT64_FORMAT ", Content-Type %s", ev->seq,
                  f->content_type));
          gst_clear_buffer (&f->frame);
          f->oversize = TRUE;
          f->discont = TRUE;
        } else {
          append (&f->frame, ev->data);
        }
      }
      break;
    case GST_TRICKLE_SUBSCRIBER_SEGMENT_END:
      if (f->typefind && f->frame) {
        buf = stamp (f, typefind_done (f, new_caps), now);
        ts_follow_from (f, buf);
        if (buf && ev->complete && f->ts_synced) {
          GstBuffer *end = ts_end_packets (f);
          if (end)
            buf = gst_buffer_append (buf, end);
        }
        f->ts_synced = FALSE;
      } else if (!ev->complete) {
        /* a frame cut short is no frame; a byte stream resyncs */
        gst_clear_buffer (&f->frame);
        f->discont = TRUE;
        f->ts_synced = FALSE;
      } else if (f->ts_synced) {
        buf = stamp (f, ts_end_packets (f), now);
        f->ts_synced = FALSE;
      } else if (f->frame) {
        buf = f->frame;
        f->frame = NULL;
        if (f->headers)
          buf = take_headers (f, buf, new_caps);
        if (buf) {
          GST_BUFFER_PTS (buf) = f->segment_start;
          GST_BUFFER_DTS (buf) = f->segment_start;
        }
      }
      break;
    case GST_TRICKLE_SUBSCRIBER_JUMP:
      f->discont = TRUE;
      break;
    default:
      break;
  }
  if (buf && f->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    f->discont = FALSE;
  }
  return buf;
}

/* the running time of @element now (timestamps of frame formats), or
 * NONE without a clock */
GstClockTime
gst_trickle_framer_now (GstElement * element)
{
  GstClock *clock = gst_element_get_clock (element);
  GstClockTime now = GST_CLOCK_TIME_NONE;

  if (clock) {
    GstClockTime base = gst_element_get_base_time (element);
    now = gst_clock_get_time (clock);
    now = now > base ? now - base : 0;
    gst_object_unref (clock);
  }
  return now;
}
