/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/trickle/trickle-prelude.h>

G_BEGIN_DECLS

#define GST_TRICKLE_TYPE_PUBLISHER (gst_trickle_publisher_get_type ())
GST_TRICKLE_API
G_DECLARE_FINAL_TYPE (GstTricklePublisher, gst_trickle_publisher,
    GST_TRICKLE, PUBLISHER, GObject)

/**
 * GstTricklePublisherError:
 * @GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND: the channel does not exist (404)
 * @GST_TRICKLE_PUBLISHER_ERROR_CLOSED: the channel was closed
 *   (`Lp-Trickle-Closed`)
 * @GST_TRICKLE_PUBLISHER_ERROR_HTTP: another HTTP error status
 * @GST_TRICKLE_PUBLISHER_ERROR_IO: the connection failed
 * @GST_TRICKLE_PUBLISHER_ERROR_CANCELLED: gst_trickle_publisher_unlock()
 * @GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST: the current segment broke
 *   and was dropped; publishing goes on with the next segment
 * @GST_TRICKLE_PUBLISHER_ERROR_SETTINGS: the URL names no channel, or the
 *   CA file, the proxy or an extra header cannot be used
 * @GST_TRICKLE_PUBLISHER_ERROR_NOT_AUTHORIZED: 401, 403 or 407: the
 *   credentials (user-id/user-pw, proxy-id/proxy-pw) are missing or refused
 */
typedef enum
{
  GST_TRICKLE_PUBLISHER_ERROR_NOT_FOUND,
  GST_TRICKLE_PUBLISHER_ERROR_CLOSED,
  GST_TRICKLE_PUBLISHER_ERROR_HTTP,
  GST_TRICKLE_PUBLISHER_ERROR_IO,
  GST_TRICKLE_PUBLISHER_ERROR_CANCELLED,
  GST_TRICKLE_PUBLISHER_ERROR_SEGMENT_LOST,
  GST_TRICKLE_PUBLISHER_ERROR_SETTINGS,
  GST_TRICKLE_PUBLISHER_ERROR_NOT_AUTHORIZED,
} GstTricklePublisherError;

#define GST_TRICKLE_PUBLISHER_ERROR (gst_trickle_publisher_error_quark ())
GST_TRICKLE_API
GQuark gst_trickle_publisher_error_quark (void);

GST_TRICKLE_API
GstTricklePublisher *gst_trickle_publisher_new (const gchar * url,
    const gchar * mime_type);
GST_TRICKLE_API
gboolean gst_trickle_publisher_start (GstTricklePublisher * pub,
    GError ** error);
GST_TRICKLE_API
gint64 gst_trickle_publisher_begin_segment (GstTricklePublisher * pub,
    GError ** error);
GST_TRICKLE_API
gboolean gst_trickle_publisher_write (GstTricklePublisher * pub,
    gconstpointer data, gsize size, GError ** error);
GST_TRICKLE_API
gboolean gst_trickle_publisher_end_segment (GstTricklePublisher * pub,
    GError ** error);
GST_TRICKLE_API
void gst_trickle_publisher_unlock (GstTricklePublisher * pub);
GST_TRICKLE_API
void gst_trickle_publisher_unlock_stop (GstTricklePublisher * pub);
GST_TRICKLE_API
void gst_trickle_publisher_abort (GstTricklePublisher * pub);
GST_TRICKLE_API
gboolean gst_trickle_publisher_stop (GstTricklePublisher * pub,
    gboolean delete_channel, GError ** error);
GST_TRICKLE_API
void gst_trickle_publisher_close (GstTricklePublisher * pub);
GST_TRICKLE_API
GstStructure *gst_trickle_publisher_get_stats (GstTricklePublisher * pub);

G_END_DECLS
