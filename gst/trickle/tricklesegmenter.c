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
 * trickleserver's sink pads), in one place. Buffers go in with
 * gst_trickle_segmenter_push(); pieces come out of
 * gst_trickle_segmenter_pop(), each with what to do with it.
 *
 * MPEG-TS is cut by what it carries, not by buffer flags (which differ
 * from one producer to the next: mpegtsmux flags keyframes HEADER when
 * h264parse inserted SPS/PPS, tsparse and filesrc set no flags, audio
 * packets are all DELTA_UNIT). The segmenter follows the PAT and PMT and
 * cuts before the TS packet that starts a keyframe's PES on the video
 * stream: the adaptation field's random access indicator, or the first
 * NAL units of the PES (an H.264 IDR or SPS, an H.265 IRAP or parameter
 * set, an MPEG-2 sequence or GOP header). A new segment begins at a
 * keyframe once the current one holds `keyframes_per_segment` keyframes
 * and lasts `min_duration` (by the PES timestamps of the video stream).
 * A stream without video (audio only) is cut at a PES start of its first
 * stream every `min_duration` (1 s when that is 0). Data before the first
 * cut is dropped. A video stream with no keyframe found in its first 10 s
 * is cut by duration as if it were audio, once flagged
 * %GST_TRICKLE_CUT_NO_KEYFRAME so the caller can warn. Cuts fall on
 * packet boundaries wherever they are in a buffer (a piece is a
 * sub-buffer: no copy); input that is not packet aligned keeps a partial
 * packet back until the rest arrives. Every segment begins with the caps'
 * `streamheader` (PAT/PMT from mpegtsmux), or, without one, with the last
 * PAT and PMT packets seen in the stream, so it decodes on its own.
 *
 * A segment of MPEG-TS otherwise ends where the next one begins: at the
 * next keyframe, a frame after its own last frame was complete. Where the
 * input says where a PES ends (gst_trickle_segmenter_push_list() with
 * @pes_aligned: GStreamer's MPEG-TS muxers push each PES as one buffer
 * list) and every video frame so far was a keyframe (an all-intra stream,
 * as 1-frame segments need), a segment that is complete ends right after
 * its last frame, so its subscribers get that frame without waiting a
 * frame time for the next one; the next segment then begins with what
 * follows. Should such a stream bring a frame that is no keyframe after
 * all, that frame begins the segment that was already opened, and
 * segments end at keyframes again from then on.
 *
 * Frame formats (anything else): `buffers_per_segment` buffers per
 * segment, the segment ending with its last buffer (not when the next
 * arrives: a subscriber gets each frame without waiting a frame time).
 * Caps fields holding buffers (`streamheader`, `codec_data`) begin every
 * segment, in the order the Content-Type's `trickle-headers` parameter
 * names them (see gst_trickle_caps_to_content_type()); in-band HEADER
 * buffers that are these stream headers again are dropped (not other
 * HEADER buffers: h264parse flags keyframes with SPS/PPS so).
 *
 * Not thread safe: one streaming thread uses it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "tricklesegmenter.h"
#include "tricklecaps.h"

#define TS_SYNC 0x47
#define NO_PID -1
/* a video stream without any keyframe found for this long is cut by
 * duration */
#define NO_KEYFRAME_AFTER (10 * GST_SECOND)
/* ...or, without timestamps, after this many PES */
#define NO_KEYFRAME_AFTER_PES 300
/* audio-only MPEG-TS with min-duration 0 */
#define DEFAULT_AUDIO_DURATION GST_SECOND
#define PTS_WRAP (G_GUINT64_CONSTANT (1) << 33)

typedef struct
{
  GstBuffer *buffer;
  GstTrickleCut cut;
} Piece;

struct _GstTrickleSegmenter
{
  guint keyframes_per_segment;
  GstClockTime min_duration;
  GstClockTime keyframe_interval;
  guint buffers_per_segment;

  gboolean byte_stream;
  gchar *content_type;
  GPtrArray *caps_headers;      /* from the caps */
  GPtrArray *headers;           /* what each segment begins with */
  GQueue pieces;

  gboolean in_segment;
  guint keyframes;
  guint buffers;
  GstClockTime seg_start;
  GstClockTime last_key_request;

  /* MPEG-TS */
  guint packet_size;            /* 188, 192 (M2TS), 204 */
  guint sync_offset;            /* where 0x47 is in a packet */
  GstBuffer *carry;             /* a partial packet kept back */
  gint pmt_pid;
  gint video_pid;
  guint8 video_type;
  gint audio_pid;               /* the first other stream */
  gboolean pmt_known;
  GstBuffer *pat, *pmt;         /* the last ones seen in the stream */
  gboolean have_time;
  guint64 last_ts90;            /* raw 33-bit value */
  guint64 ts90;                 /* unwrapped, from the first one seen */
  guint pes_count;
  /* segments ended after their last frame (push_list) */
  guint intra_run;              /* video PES so far, all keyframes */
  gboolean seen_delta;          /* a video frame that was not a keyframe */
  gboolean unit_video;          /* a video PES began in the current list */
  gboolean pending_begin;       /* the next packet begins a segment */
  guint64 frame_ts90;           /* video PES time step, 90 kHz */
  guint64 prev_video_ts90;
  gboolean have_prev_video;
  gboolean key_seen;
  gboolean by_duration;         /* no keyframe found: cut like audio */
  gboolean warned;
};

/**
 * gst_trickle_segmenter_new: (skip)
 *
 * Returns: (transfer full): a segmenter, freed with
 *   gst_trickle_segmenter_free(); not a boxed type, so C only for now
 */
GstTrickleSegmenter *
gst_trickle_segmenter_new (void)
{
  GstTrickleSegmenter *seg = g_new0 (GstTrickleSegmenter, 1);

  seg->keyframes_per_segment = 1;
  seg->buffers_per_segment = 1;
  seg->caps_headers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  seg->headers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  g_queue_init (&seg->pieces);
  seg->content_type = g_strdup ("application/octet-stream");
  seg->packet_size = 188;
  seg->pmt_pid = seg->video_pid = seg->audio_pid = NO_PID;
  gst_trickle_segmenter_reset (seg);
  return seg;
}

static void
piece_free (Piece * p)
{
  gst_buffer_unref (p->buffer);
  g_free (p);
}

/* what the stream's PSI told us: forgotten with new caps */
static void
forget_stream (GstTrickleSegmenter * seg)
{
  seg->pmt_pid = seg->video_pid = seg->audio_pid = NO_PID;
  seg->video_type = 0;
  seg->pmt_known = FALSE;
  gst_clear_buffer (&seg->pat);
  gst_clear_buffer (&seg->pmt);
  seg->have_time = FALSE;
  seg->ts90 = seg->last_ts90 = 0;
  seg->pes_count = 0;
  seg->key_seen = seg->by_duration = seg->warned = FALSE;
  seg->intra_run = 0;
  seg->seen_delta = seg->unit_video = FALSE;
  seg->frame_ts90 = seg->prev_video_ts90 = 0;
  seg->have_prev_video = FALSE;
}

void
gst_trickle_segmenter_free (GstTrickleSegmenter * seg)
{
  gst_trickle_segmenter_reset (seg);
  forget_stream (seg);
  g_ptr_array_unref (seg->caps_headers);
  g_ptr_array_unref (seg->headers);
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
 * Forgets the current segment and what was not popped: the next buffer
 * begins a new segment (at a keyframe for MPEG-TS). For a start, a flush,
 * or a segment lost.
 */
void
gst_trickle_segmenter_reset (GstTrickleSegmenter * seg)
{
  seg->in_segment = FALSE;
  seg->keyframes = 0;
  seg->buffers = 0;
  seg->seg_start = GST_CLOCK_TIME_NONE;
  seg->last_key_request = GST_CLOCK_TIME_NONE;
  seg->pending_begin = FALSE;
  g_queue_clear_full (&seg->pieces, (GDestroyNotify) piece_free);
  gst_clear_buffer (&seg->carry);
}

static gpointer
copy_buffer (gconstpointer buffer, gpointer unused)
{
  return gst_buffer_ref ((GstBuffer *) buffer);
}

void
gst_trickle_segmenter_set_caps (GstTrickleSegmenter * seg, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  GPtrArray *hdrs;
  gint size = 188;

  seg->byte_stream = gst_structure_has_name (s, "video/mpegts");
  g_free (seg->content_type);
  seg->content_type = gst_trickle_caps_to_content_type (caps);
  g_ptr_array_set_size (seg->caps_headers, 0);
  hdrs = gst_trickle_caps_get_headers (caps);
  g_ptr_array_extend_and_steal (seg->caps_headers, hdrs);
  g_ptr_array_set_size (seg->headers, 0);
  g_ptr_array_extend (seg->headers, seg->caps_headers, copy_buffer, NULL);
  if (seg->byte_stream) {
    gst_structure_get_int (s, "packetsize", &size);
    seg->packet_size = (size == 192 || size == 204) ? size : 188;
    seg->sync_offset = size == 192 ? 4 : 0;
  }
  forget_stream (seg);
  gst_clear_buffer (&seg->carry);
}

gboolean
gst_trickle_segmenter_is_byte_stream (GstTrickleSegmenter * seg)
{
  return seg->byte_stream;
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
  return seg->headers;
}

/**
 * gst_trickle_segmenter_get_stream_time:
 *
 * Returns: for MPEG-TS, the time of the last PES start of the stream that
 * is cut (from its timestamps, counted from the first one seen), or
 * %GST_CLOCK_TIME_NONE before any: a pace for input without buffer
 * timestamps
 */
GstClockTime
gst_trickle_segmenter_get_stream_time (GstTrickleSegmenter * seg)
{
  if (!seg->have_time)
    return GST_CLOCK_TIME_NONE;
  return gst_util_uint64_scale (seg->ts90, GST_SECOND, 90000);
}

static void
queue_piece (GstTrickleSegmenter * seg, GstBuffer * buffer, GstTrickleCut cut)
{
  Piece *p = g_new (Piece, 1);

  p->buffer = buffer;
  p->cut = cut;
  g_queue_push_tail (&seg->pieces, p);
}

/* ------------------------------------------------------------------------ */
/* MPEG-TS */

/* the packet's payload (after the adaptation field), its size, and the
 * random access indicator */
static const guint8 *
ts_payload (const guint8 * pkt, guint * size, gboolean * rai)
{
  guint afc = (pkt[3] >> 4) & 3;
  guint off = 4;

  *rai = FALSE;
  if (afc & 2) {
    guint len = pkt[4];
    if (len > 0)
      *rai = (pkt[5] & 0x40) != 0;
    off = 5 + len;
  }
  if (!(afc & 1) || off >= 188) {
    *size = 0;
    return NULL;
  }
  *size = 188 - off;
  return pkt + off;
}

/* a PSI section starting in this packet (pointer field skipped), with
 * @table_id; its body after the 8-byte long header, NULL if it does not
 * fit in the packet */
static const guint8 *
psi_section (const guint8 * payload, guint size, guint8 table_id, guint * len)
{
  guint ptr, section_length;

  if (size < 1)
    return NULL;
  ptr = payload[0];
  if (1 + ptr + 8 > size)
    return NULL;
  payload += 1 + ptr;
  size -= 1 + ptr;
  if (payload[0] != table_id)
    return NULL;
  section_length = ((payload[1] & 0x0f) << 8) | payload[2];
  if (section_length < 9 || 3 + section_length > size)
    return NULL;
  /* the body without the CRC */
  *len = section_length - 5 - 4;
  return payload + 8;
}

static void
parse_pat (GstTrickleSegmenter * seg, const guint8 * payload, guint size)
{
  const guint8 *b;
  guint len, i;

  if (!(b = psi_section (payload, size, 0x00, &len)))
    return;
  for (i = 0; i + 4 <= len; i += 4) {
    guint program = (b[i] << 8) | b[i + 1];
    gint pid = ((b[i + 2] & 0x1f) << 8) | b[i + 3];
    if (program != 0) {
      if (pid != seg->pmt_pid)
        seg->pmt_known = FALSE;
      seg->pmt_pid = pid;
      return;                   /* the first program */
    }
  }
}

static gboolean
is_video_type (guint8 type)
{
  switch (type) {
    case 0x01:                 /* MPEG-1 video */
    case 0x02:                 /* MPEG-2 video */
    case 0x10:                 /* MPEG-4 part 2 */
    case 0x1b:                 /* H.264 */
    case 0x24:                 /* H.265 */
    case 0x42:                 /* AVS */
    case 0xea:                 /* VC-1 */
      return TRUE;
    default:
      return FALSE;
  }
}

static void
parse_pmt (GstTrickleSegmenter * seg, const guint8 * payload, guint size)
{
  const guint8 *b;
  guint len, i, info_len;

  if (!(b = psi_section (payload, size, 0x02, &len)) || len < 4)
    return;
  info_len = ((b[2] & 0x0f) << 8) | b[3];
  seg->video_pid = seg->audio_pid = NO_PID;
  for (i = 4 + info_len; i + 5 <= len;) {
    guint8 type = b[i];
    gint pid = ((b[i + 1] & 0x1f) << 8) | b[i + 2];
    guint es_len = ((b[i + 3] & 0x0f) << 8) | b[i + 4];

    if (is_video_type (type) && seg->video_pid == NO_PID) {
      seg->video_pid = pid;
      seg->video_type = type;
    } else if (!is_video_type (type) && seg->audio_pid == NO_PID) {
      seg->audio_pid = pid;
    }
    i += 5 + es_len;
  }
  seg->pmt_known = TRUE;
}

/* the PES header's DTS, else PTS (90 kHz, 33 bits); the ES data after
 * the header */
static gboolean
pes_timestamp (const guint8 * pes, guint size, guint64 * ts,
    const guint8 ** es, guint * es_size)
{
  guint flags, hlen;
  const guint8 *t;

  *es = NULL;
  *es_size = 0;
  if (size < 9 || pes[0] != 0 || pes[1] != 0 || pes[2] != 1)
    return FALSE;
  flags = pes[7] >> 6;
  hlen = pes[8];
  if (9 + hlen <= size) {
    *es = pes + 9 + hlen;
    *es_size = size - 9 - hlen;
  }
  if (!(flags & 2))
    return FALSE;
  t = pes + 9;
  if (flags == 3 && 9 + 10 <= size)
    t += 5;                     /* the DTS */
  else if (9 + 5 > size)
    return FALSE;
  *ts = ((guint64) (t[0] & 0x0e) << 29) | ((guint64) t[1] << 22) |
      ((guint64) (t[2] & 0xfe) << 14) | ((guint64) t[3] << 7) | (t[4] >> 1);
  return TRUE;
}

/* follows the 33-bit clock across wraps (and small steps back) */
static void
update_time (GstTrickleSegmenter * seg, guint64 ts)
{
  if (!seg->have_time) {
    seg->have_time = TRUE;
    seg->ts90 = 0;
  } else {
    guint64 d = (ts - seg->last_ts90) & (PTS_WRAP - 1);
    if (d < PTS_WRAP / 2)
      seg->ts90 += d;
    else if (seg->ts90 >= PTS_WRAP - d)
      seg->ts90 -= PTS_WRAP - d;
  }
  seg->last_ts90 = ts;
}

/* TRUE when the first NAL units (or start codes) of an ES say keyframe */
static gboolean
es_starts_keyframe (guint8 type, const guint8 * es, guint size)
{
  guint i;

  for (i = 0; i + 3 < size; i++) {
    guint8 code;
    if (es[i] != 0 || es[i + 1] != 0 || es[i + 2] != 1)
      continue;
    code = es[i + 3];
    switch (type) {
      case 0x1b:{              /* H.264 */
        guint nal = code & 0x1f;
        if (nal == 5 || nal == 7)
          return TRUE;          /* IDR, SPS */
        if (nal >= 1 && nal <= 4)
          return FALSE;         /* a non-IDR slice came first */
        break;
      }
      case 0x24:{              /* H.265 */
        guint nal = (code >> 1) & 0x3f;
        if ((nal >= 16 && nal <= 21) || (nal >= 32 && nal <= 34))
          return TRUE;          /* IRAP, VPS/SPS/PPS */
        if (nal <= 9)
          return FALSE;
        break;
      }
      case 0x01:
      case 0x02:
        if (code == 0xb3 || code == 0xb8)
          return TRUE;          /* sequence header, GOP */
        if (code == 0x00)
          return FALSE;         /* a picture without them */
        break;
      default:
        return FALSE;
    }
    i += 2;
  }
  return FALSE;
}

static GstClockTime
segment_duration (GstTrickleSegmenter * seg, gboolean by_duration)
{
  if (by_duration && seg->min_duration == 0)
    return DEFAULT_AUDIO_DURATION;
  return seg->min_duration;
}

/* a place where a segment may begin: TRUE if one begins here */
static gboolean
cut_point (GstTrickleSegmenter * seg, gboolean key, gboolean by_duration)
{
  GstClockTime now = gst_trickle_segmenter_get_stream_time (seg);
  GstClockTime min = segment_duration (seg, by_duration);
  gboolean begin;

  if (!key)
    return FALSE;
  if (!seg->in_segment) {
    begin = TRUE;
  } else {
    begin = by_duration || seg->keyframes >= seg->keyframes_per_segment;
    if (begin && min > 0 && GST_CLOCK_TIME_IS_VALID (now)
        && GST_CLOCK_TIME_IS_VALID (seg->seg_start))
      begin = now >= seg->seg_start && now - seg->seg_start >= min;
  }
  if (begin) {
    seg->in_segment = TRUE;
    seg->keyframes = 0;
    seg->seg_start = now;
  }
  seg->keyframes++;
  return begin;
}

/* one packet (aligned at @pkt, 188 bytes from the sync byte): returns the
 * cut flags when a segment begins before it */
static GstTrickleCut
scan_packet (GstTrickleSegmenter * seg, const guint8 * pkt, gboolean buffer_key)
{
  gboolean pusi = (pkt[1] & 0x40) != 0;
  gint pid = ((pkt[1] & 0x1f) << 8) | pkt[2];
  const guint8 *payload, *es;
  guint size, es_size;
  gboolean rai, key;
  guint64 ts;

  payload = ts_payload (pkt, &size, &rai);
  if (!payload || !pusi)
    return GST_TRICKLE_CUT_NONE;
  if (pid == 0) {
    parse_pat (seg, payload, size);
    if (seg->caps_headers->len == 0) {
      gst_clear_buffer (&seg->pat);
      seg->pat = gst_buffer_new_memdup (pkt, 188);
    }
    return GST_TRICKLE_CUT_NONE;
  }
  if (pid == seg->pmt_pid) {
    parse_pmt (seg, payload, size);
    if (seg->caps_headers->len == 0) {
      gst_clear_buffer (&seg->pmt);
      seg->pmt = gst_buffer_new_memdup (pkt, 188);
      g_ptr_array_set_size (seg->headers, 0);
      if (seg->pat)
        g_ptr_array_add (seg->headers, gst_buffer_ref (seg->pat));
      g_ptr_array_add (seg->headers, gst_buffer_ref (seg->pmt));
    }
    return GST_TRICKLE_CUT_NONE;
  }
  if (!seg->pmt_known) {
    /* no PMT understood: the producer's flags are all there is, trusted
     * on a packet that starts a PES only (input without flags, tsparse or
     * filesrc, looks flagged everywhere: not a segment at ffmpeg's SDT
     * before the PAT, nor in the middle of a PES) */
    if (buffer_key && size >= 3 && payload[0] == 0 && payload[1] == 0
        && payload[2] == 1)
      return cut_point (seg, TRUE, FALSE) ? GST_TRICKLE_CUT_BEGIN : 0;
    return GST_TRICKLE_CUT_NONE;
  }

  if (seg->video_pid != NO_PID) {
    GstTrickleCut cut = GST_TRICKLE_CUT_NONE;

    if (pid != seg->video_pid)
      return GST_TRICKLE_CUT_NONE;
    if (pes_timestamp (payload, size, &ts, &es, &es_size)) {
      update_time (seg, ts);
      if (seg->have_prev_video && seg->ts90 > seg->prev_video_ts90)
        seg->frame_ts90 = seg->ts90 - seg->prev_video_ts90;
      seg->prev_video_ts90 = seg->ts90;
      seg->have_prev_video = TRUE;
    }
    seg->pes_count++;
    seg->unit_video = TRUE;
    key = rai || (es && es_starts_keyframe (seg->video_type, es, es_size));
    if (key)
      seg->intra_run++;
    else
      seg->seen_delta = TRUE;
    if (key) {
      seg->key_seen = TRUE;
      seg->by_duration = FALSE;
    } else if (!seg->key_seen && !seg->by_duration) {
      GstClockTime t = gst_trickle_segmenter_get_stream_time (seg);
      if ((GST_CLOCK_TIME_IS_VALID (t) && t >= NO_KEYFRAME_AFTER)
          || seg->pes_count >= NO_KEYFRAME_AFTER_PES) {
        seg->by_duration = TRUE;
        if (!seg->warned) {
          seg->warned = TRUE;
          cut |= GST_TRICKLE_CUT_NO_KEYFRAME;
        }
      }
    }
    if (seg->by_duration)
      key = TRUE;
    if (cut_point (seg, key, seg->by_duration))
      cut |= GST_TRICKLE_CUT_BEGIN;
    return cut;
  }

  /* no video: cut the first other stream by duration */
  if (pid != seg->audio_pid)
    return GST_TRICKLE_CUT_NONE;
  if (pes_timestamp (payload, size, &ts, &es, &es_size))
    update_time (seg, ts);
  return cut_point (seg, TRUE, TRUE) ? GST_TRICKLE_CUT_BEGIN :
      GST_TRICKLE_CUT_NONE;
}

/* where the next packet starts at or after @off (a sync byte every
 * packet_size bytes), or @size */
static gsize
resync (GstTrickleSegmenter * seg, const guint8 * d, gsize off, gsize size)
{
  guint ps = seg->packet_size, so = seg->sync_offset;

  for (; off + so < size; off++) {
    if (d[off + so] != TS_SYNC)
      continue;
    if (off + ps + so >= size || d[off + ps + so] == TS_SYNC)
      return off;
  }
  return size;
}

static void
push_mpegts (GstTrickleSegmenter * seg, GstBuffer * buffer)
{
  GstMapInfo map;
  gsize off = 0, start = 0, size;
  gboolean dropping = !seg->in_segment;
  gboolean buffer_key;
  GstTrickleCut piece_cut = GST_TRICKLE_CUT_NONE;

  buffer_key = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (seg->carry) {
    GstBuffer *b = gst_buffer_append (seg->carry, buffer);
    seg->carry = NULL;
    buffer = b;
  }
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    gst_buffer_unref (buffer);
    return;
  }
  size = map.size;

#define FLUSH_PIECE(end) G_STMT_START {                                   \
    if ((end) > start && !dropping)                                       \
      queue_piece (seg, (start == 0 && (end) == size) ?                   \
          gst_buffer_ref (buffer) : gst_buffer_copy_region (buffer,       \
              GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS |         \
              GST_BUFFER_COPY_MEMORY, start, (end) - start), piece_cut);  \
    start = (end);                                                        \
  } G_STMT_END

  while (off < size) {
    const guint8 *pkt;
    GstTrickleCut cut;

    if (off + seg->packet_size > size) {
      /* a partial packet: kept until the rest comes */
      FLUSH_PIECE (off);
      seg->carry = gst_buffer_copy_region (buffer, GST_BUFFER_COPY_FLAGS |
          GST_BUFFER_COPY_TIMESTAMPS | GST_BUFFER_COPY_MEMORY, off, size - off);
      start = off = size;
      break;
    }
    pkt = map.data + off + seg->sync_offset;
    if (pkt[0] != TS_SYNC) {
      /* lost sync: the bytes up to the next packet go with the current
       * one */
      off = resync (seg, map.data, off + 1, size);
      continue;
    }
    if (seg->pending_begin) {
      /* the segment before ended after its last frame: this one begins
       * with whatever comes next */
      GstClockTime now = gst_trickle_segmenter_get_stream_time (seg);
      seg->pending_begin = FALSE;
      seg->keyframes = 0;
      seg->seg_start = GST_CLOCK_TIME_IS_VALID (now) ? now +
          gst_util_uint64_scale (seg->frame_ts90, GST_SECOND, 90000) : now;
      cut = GST_TRICKLE_CUT_BEGIN | scan_packet (seg, pkt, FALSE);
    } else {
      cut = scan_packet (seg, pkt, buffer_key && off == 0);
    }
    buffer_key = FALSE;
    if (cut & GST_TRICKLE_CUT_BEGIN) {
      FLUSH_PIECE (off);
      dropping = FALSE;
      piece_cut = cut;
    } else if (cut & GST_TRICKLE_CUT_NO_KEYFRAME) {
      FLUSH_PIECE (off);
      piece_cut = cut;
    }
    off += seg->packet_size;
  }
  FLUSH_PIECE (size);
#undef FLUSH_PIECE
  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);
}

/* ------------------------------------------------------------------------ */

/* TRUE when @buffer is one of the caps' buffers (Opus, Vorbis encoders
 * push their streamheader in band too). Not every HEADER buffer is one:
 * h264parse flags keyframes carrying SPS/PPS HEADER. */
static gboolean
is_caps_header (GstTrickleSegmenter * seg, GstBuffer * buffer)
{
  gsize size = gst_buffer_get_size (buffer);
  guint i;

  for (i = 0; i < seg->caps_headers->len; i++) {
    GstBuffer *h = g_ptr_array_index (seg->caps_headers, i);
    GstMapInfo map;
    gboolean same;

    if (gst_buffer_get_size (h) != size || !gst_buffer_map (h, &map,
            GST_MAP_READ))
      continue;
    same = gst_buffer_memcmp (buffer, 0, map.data, map.size) == 0;
    gst_buffer_unmap (h, &map);
    if (same)
      return TRUE;
  }
  return FALSE;
}

/**
 * gst_trickle_segmenter_push:
 * @buffer: (transfer full): the next buffer of the stream
 *
 * Cuts @buffer; gst_trickle_segmenter_pop() returns its pieces.
 */
void
gst_trickle_segmenter_push (GstTrickleSegmenter * seg, GstBuffer * buffer)
{
  GstTrickleCut cut = GST_TRICKLE_CUT_NONE;

  if (seg->byte_stream) {
    push_mpegts (seg, buffer);
    return;
  }
  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER)
      && is_caps_header (seg, buffer)) {
    /* the stream headers in band: every segment begins with them */
    gst_buffer_unref (buffer);
    return;
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
  queue_piece (seg, buffer, cut);
}

/* after a list that ended on a PES boundary: end the segment here when it
 * is complete and the next frame will be a keyframe (all so far were) */
static void
end_after_frame (GstTrickleSegmenter * seg)
{
  Piece *last = g_queue_peek_tail (&seg->pieces);
  GstClockTime now;

  if (!last || !seg->in_segment || seg->carry || seg->by_duration
      || !seg->pmt_known || seg->video_pid == NO_PID || seg->seen_delta
      || seg->intra_run < 2 || seg->keyframes < seg->keyframes_per_segment)
    return;
  if (seg->min_duration > 0) {
    now = gst_trickle_segmenter_get_stream_time (seg);
    if (!GST_CLOCK_TIME_IS_VALID (now) || !GST_CLOCK_TIME_IS_VALID
        (seg->seg_start) || seg->frame_ts90 == 0)
      return;
    /* the segment's length once its last frame is shown */
    now += gst_util_uint64_scale (seg->frame_ts90, GST_SECOND, 90000);
    if (now < seg->seg_start || now - seg->seg_start < seg->min_duration)
      return;
  }
  last->cut |= GST_TRICKLE_CUT_END_AFTER;
  seg->pending_begin = TRUE;
}

/**
 * gst_trickle_segmenter_push_list:
 * @list: (transfer full): the next buffers of the stream
 * @pes_aligned: the list ends where a PES ends (its producer is one of
 *   GStreamer's MPEG-TS muxers, which push one PES per list)
 *
 * Cuts the buffers of @list, as gst_trickle_segmenter_push() would one by
 * one; with @pes_aligned, a complete segment of an all-intra MPEG-TS
 * stream ends after the list (a piece with %GST_TRICKLE_CUT_END_AFTER)
 * instead of when the next keyframe arrives.
 */
void
gst_trickle_segmenter_push_list (GstTrickleSegmenter * seg,
    GstBufferList * list, gboolean pes_aligned)
{
  guint i, n = gst_buffer_list_length (list);

  seg->unit_video = FALSE;
  for (i = 0; i < n; i++)
    gst_trickle_segmenter_push (seg,
        gst_buffer_ref (gst_buffer_list_get (list, i)));
  if (pes_aligned && seg->byte_stream && seg->unit_video)
    end_after_frame (seg);
  gst_buffer_list_unref (list);
}

/**
 * gst_trickle_segmenter_pop:
 * @cut: (out): what to do with the piece
 *
 * Returns: (transfer full) (nullable): the next piece to write, in order,
 * or %NULL when all were taken
 */
GstBuffer *
gst_trickle_segmenter_pop (GstTrickleSegmenter * seg, GstTrickleCut * cut)
{
  Piece *p = g_queue_pop_head (&seg->pieces);
  GstBuffer *buf;

  if (!p)
    return NULL;
  buf = p->buffer;
  *cut = p->cut;
  g_free (p);
  return buf;
}

/**
 * gst_trickle_segmenter_drain:
 *
 * At the end of the stream: what was kept back (a partial MPEG-TS packet)
 * becomes a piece.
 */
void
gst_trickle_segmenter_drain (GstTrickleSegmenter * seg)
{
  if (seg->carry && seg->in_segment)
    queue_piece (seg, seg->carry, GST_TRICKLE_CUT_NONE);
  else
    gst_clear_buffer (&seg->carry);
  seg->carry = NULL;
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
