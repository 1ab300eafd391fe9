/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/tricklesegment.h>

G_BEGIN_DECLS

/**
 * GstTrickleChannel:
 *
 * A named channel: a window of the last N segments (slot = seq mod N), the
 * next sequence number to be written, a MIME type and an open/closed flag.
 * Thread safe; in-process readers and writers use it directly, the HTTP
 * server is just one more user.
 */
typedef struct _GstTrickleChannel GstTrickleChannel;

/**
 * GstTrickleReadResult:
 * @GST_TRICKLE_READ_OK: a segment was returned
 * @GST_TRICKLE_READ_GONE: the segment is not in the window (evicted, or too
 *   far ahead): HTTP 470, the reader jumps to the latest seq
 * @GST_TRICKLE_READ_CLOSED: the channel is closed
 */
typedef enum
{
  GST_TRICKLE_READ_OK,
  GST_TRICKLE_READ_GONE,
  GST_TRICKLE_READ_CLOSED,
} GstTrickleReadResult;

/**
 * GST_TRICKLE_SEQ_NEXT: (value -1)
 * The next segment to be written (the live edge).
 */
#define GST_TRICKLE_SEQ_NEXT (-1)
/**
 * GST_TRICKLE_SEQ_CURRENT: (value -2)
 * The segment being written now (or 0).
 */
#define GST_TRICKLE_SEQ_CURRENT (-2)
/**
 * GST_TRICKLE_SEQ_MAX:
 * The largest seq that can be written.
 */
#define GST_TRICKLE_SEQ_MAX (G_MAXINT64 / 2)

GST_TRICKLE_API
GType gst_trickle_channel_get_type (void);
#define GST_TRICKLE_TYPE_CHANNEL (gst_trickle_channel_get_type ())

GST_TRICKLE_API
GstTrickleChannel *gst_trickle_channel_ref (GstTrickleChannel * channel);
GST_TRICKLE_API
void gst_trickle_channel_unref (GstTrickleChannel * channel);

GST_TRICKLE_API
const gchar *gst_trickle_channel_get_name (GstTrickleChannel * channel);
GST_TRICKLE_API
gchar *gst_trickle_channel_dup_mime_type (GstTrickleChannel * channel);
GST_TRICKLE_API
void gst_trickle_channel_set_mime_type (GstTrickleChannel * channel,
    const gchar * mime_type);
GST_TRICKLE_API
void gst_trickle_channel_set_publisher_typed (GstTrickleChannel * channel,
    gboolean publisher_typed);
GST_TRICKLE_API
gboolean gst_trickle_channel_get_publisher_typed (GstTrickleChannel *
    channel);
GST_TRICKLE_API
void gst_trickle_channel_set_read_only (GstTrickleChannel * channel,
    gboolean read_only);
GST_TRICKLE_API
gboolean gst_trickle_channel_get_read_only (GstTrickleChannel * channel);
GST_TRICKLE_API
void gst_trickle_channel_set_publish_token (GstTrickleChannel * channel,
    const gchar * token);
GST_TRICKLE_API
gint64 gst_trickle_channel_get_next_seq (GstTrickleChannel * channel);
GST_TRICKLE_API
gboolean gst_trickle_channel_is_closed (GstTrickleChannel * channel);

/* reading */
GST_TRICKLE_API
GstTrickleSegment *gst_trickle_channel_open_read (GstTrickleChannel * channel,
    gint64 seq, GstTrickleReadResult * result, gint64 * latest);

/* writing */
GST_TRICKLE_API
GstTrickleSegment *gst_trickle_channel_open_write (GstTrickleChannel * channel,
    gint64 seq, gboolean reset);
GST_TRICKLE_API
gboolean gst_trickle_channel_append (GstTrickleChannel * channel,
    GstTrickleSegment * segment, GBytes * data);
GST_TRICKLE_API
void gst_trickle_channel_finish (GstTrickleChannel * channel,
    GstTrickleSegment * segment);
GST_TRICKLE_API
void gst_trickle_channel_abort (GstTrickleChannel * channel,
    GstTrickleSegment * segment);
GST_TRICKLE_API
gboolean gst_trickle_channel_write_segment (GstTrickleChannel * channel,
    GBytes * data, gint64 * seq_out);

/* control */
GST_TRICKLE_API
gboolean gst_trickle_channel_close_segment (GstTrickleChannel * channel,
    gint64 seq);

GST_TRICKLE_API
GstStructure *gst_trickle_channel_get_stats (GstTrickleChannel * channel);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstTrickleChannel, gst_trickle_channel_unref)

G_END_DECLS
