/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/trickle/tricklechannel.h>

G_BEGIN_DECLS

#define GST_TRICKLE_TYPE_CHANNEL_STORE (gst_trickle_channel_store_get_type ())
GST_TRICKLE_API
G_DECLARE_FINAL_TYPE (GstTrickleChannelStore, gst_trickle_channel_store,
    GST_TRICKLE, CHANNEL_STORE, GObject)

#define GST_TRICKLE_CHANGEFEED_CHANNEL "_changes"
/* the changes of this server's own channels, for its peers
 * (changefeed-peers) */
#define GST_TRICKLE_CHANGEFEED_LOCAL_CHANNEL "_changes-local"

/**
 * GstTrickleStoreError:
 * @GST_TRICKLE_STORE_ERROR_TOO_MANY_CHANNELS: max-channels reached
 * @GST_TRICKLE_STORE_ERROR_NOT_FOUND: no such channel (and auto-create off)
 */
typedef enum
{
  GST_TRICKLE_STORE_ERROR_TOO_MANY_CHANNELS,
  GST_TRICKLE_STORE_ERROR_NOT_FOUND,
} GstTrickleStoreError;

#define GST_TRICKLE_STORE_ERROR (gst_trickle_store_error_quark ())
GST_TRICKLE_API
GQuark gst_trickle_store_error_quark (void);

GST_TRICKLE_API
GstTrickleChannelStore *gst_trickle_channel_store_new (void);

GST_TRICKLE_API
GstTrickleChannel *gst_trickle_channel_store_lookup (GstTrickleChannelStore *
    store, const gchar * name);
GST_TRICKLE_API
GstTrickleChannel *gst_trickle_channel_store_create (GstTrickleChannelStore *
    store, const gchar * name, const gchar * mime_type, GError ** error);
GST_TRICKLE_API
gboolean gst_trickle_channel_store_remove (GstTrickleChannelStore * store,
    const gchar * name);
GST_TRICKLE_API
void gst_trickle_channel_store_guard (GstTrickleChannelStore * store,
    const gchar * name, gboolean read_only, const gchar * publish_token);
GST_TRICKLE_API
guint gst_trickle_channel_store_sweep (GstTrickleChannelStore * store,
    gint64 now_us);
GST_TRICKLE_API
guint gst_trickle_channel_store_get_n_channels (GstTrickleChannelStore * store);
GST_TRICKLE_API
void gst_trickle_channel_store_clear (GstTrickleChannelStore * store);
GST_TRICKLE_API
GstStructure *gst_trickle_channel_store_get_stats (GstTrickleChannelStore *
    store);

G_END_DECLS
