/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/trickle/trickle-prelude.h>

G_BEGIN_DECLS

#define GST_TRICKLE_TYPE_SUBSCRIBER (gst_trickle_subscriber_get_type ())
GST_TRICKLE_API
G_DECLARE_FINAL_TYPE (GstTrickleSubscriber, gst_trickle_subscriber,
    GST_TRICKLE, SUBSCRIBER, GObject)

/**
 * GstTrickleSubscriberError:
 * @GST_TRICKLE_SUBSCRIBER_ERROR_NOT_FOUND: the channel does not exist (404)
 * @GST_TRICKLE_SUBSCRIBER_ERROR_HTTP: another HTTP error status
 * @GST_TRICKLE_SUBSCRIBER_ERROR_IO: the server could not be reached (after
 *   the retries)
 * @GST_TRICKLE_SUBSCRIBER_ERROR_CANCELLED: gst_trickle_subscriber_unlock()
 * @GST_TRICKLE_SUBSCRIBER_ERROR_SETTINGS: the URL names no channel, or the
 *   CA file, the proxy or an extra header cannot be used
 * @GST_TRICKLE_SUBSCRIBER_ERROR_NOT_AUTHORIZED: 401, 403 or 407: the
 *   credentials (user-id/user-pw, proxy-id/proxy-pw) are missing or refused
 */
typedef enum
{
  GST_TRICKLE_SUBSCRIBER_ERROR_NOT_FOUND,
  GST_TRICKLE_SUBSCRIBER_ERROR_HTTP,
  GST_TRICKLE_SUBSCRIBER_ERROR_IO,
  GST_TRICKLE_SUBSCRIBER_ERROR_CANCELLED,
  GST_TRICKLE_SUBSCRIBER_ERROR_SETTINGS,
  GST_TRICKLE_SUBSCRIBER_ERROR_NOT_AUTHORIZED,
} GstTrickleSubscriberError;

#define GST_TRICKLE_SUBSCRIBER_ERROR (gst_trickle_subscriber_error_quark ())
GST_TRICKLE_API
GQuark gst_trickle_subscriber_error_quark (void);

/**
 * GstTrickleSubscriberEventType:
 * @GST_TRICKLE_SUBSCRIBER_SEGMENT_START: a segment's headers arrived:
 *   @seq, @content_type, @discont (a seq was skipped before it)
 * @GST_TRICKLE_SUBSCRIBER_DATA: @data, the next bytes of segment @seq
 * @GST_TRICKLE_SUBSCRIBER_SEGMENT_END: segment @seq ended after @size
 *   bytes and @duration_us; @complete is %FALSE when it was cut off (the
 *   connection broke, or the server closed it without the end of the body:
 *   its publisher died), @message then says how
 * @GST_TRICKLE_SUBSCRIBER_JUMP: segment @seq was gone (470): reading goes
 *   on at @latest
 * @GST_TRICKLE_SUBSCRIBER_RETRY: the request for @seq failed (@message)
 *   and is retried
 * @GST_TRICKLE_SUBSCRIBER_EOS: the channel was closed, or is gone (@message
 *   may say how)
 */
typedef enum
{
  GST_TRICKLE_SUBSCRIBER_SEGMENT_START,
  GST_TRICKLE_SUBSCRIBER_DATA,
  GST_TRICKLE_SUBSCRIBER_SEGMENT_END,
  GST_TRICKLE_SUBSCRIBER_JUMP,
  GST_TRICKLE_SUBSCRIBER_RETRY,
  GST_TRICKLE_SUBSCRIBER_EOS,
} GstTrickleSubscriberEventType;

typedef struct
{
  GstTrickleSubscriberEventType type;
  gint64 seq;
  gint64 latest;
  gboolean discont;
  gboolean complete;
  gchar *content_type;
  gchar *message;
  GBytes *data;
  guint64 size;
  gint64 duration_us;
} GstTrickleSubscriberEvent;

GST_TRICKLE_API
void gst_trickle_subscriber_event_clear (GstTrickleSubscriberEvent * event);

GST_TRICKLE_API
GstTrickleSubscriber *gst_trickle_subscriber_new (const gchar * url);
GST_TRICKLE_API
gboolean gst_trickle_subscriber_start (GstTrickleSubscriber * sub,
    GError ** error);
GST_TRICKLE_API
gboolean gst_trickle_subscriber_next_event (GstTrickleSubscriber * sub,
    GstTrickleSubscriberEvent * event, GError ** error);
GST_TRICKLE_API
void gst_trickle_subscriber_unlock (GstTrickleSubscriber * sub);
GST_TRICKLE_API
void gst_trickle_subscriber_unlock_stop (GstTrickleSubscriber * sub);
GST_TRICKLE_API
void gst_trickle_subscriber_stop (GstTrickleSubscriber * sub);
GST_TRICKLE_API
GstStructure *gst_trickle_subscriber_get_stats (GstTrickleSubscriber * sub);

G_END_DECLS
