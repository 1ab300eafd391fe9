/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/trickle/tricklechannelstore.h>
#include <gst/trickle/tricklesubscriber.h>

G_BEGIN_DECLS

typedef struct _GstTrickleReader GstTrickleReader;

GST_TRICKLE_API
GstTrickleReader *gst_trickle_reader_new (GstTrickleChannelStore * store,
    const gchar * channel, gint64 start_seq, gboolean hosted);
GST_TRICKLE_API
void gst_trickle_reader_free (GstTrickleReader * reader);
GST_TRICKLE_API
gboolean gst_trickle_reader_next_event (GstTrickleReader * reader,
    GstTrickleSubscriberEvent * event, GError ** error);
GST_TRICKLE_API
void gst_trickle_reader_unlock (GstTrickleReader * reader);
GST_TRICKLE_API
void gst_trickle_reader_unlock_stop (GstTrickleReader * reader);

G_END_DECLS
