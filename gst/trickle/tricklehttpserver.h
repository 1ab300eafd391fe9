/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gst/trickle/tricklechannelstore.h>

G_BEGIN_DECLS

#define GST_TRICKLE_TYPE_HTTP_SERVER (gst_trickle_http_server_get_type ())
GST_TRICKLE_API
G_DECLARE_FINAL_TYPE (GstTrickleHttpServer, gst_trickle_http_server,
    GST_TRICKLE, HTTP_SERVER, GObject)

GST_TRICKLE_API
GstTrickleHttpServer *gst_trickle_http_server_new (GstTrickleChannelStore *
    store);
GST_TRICKLE_API
GstTrickleChannelStore *gst_trickle_http_server_get_store (GstTrickleHttpServer
    * server);
GST_TRICKLE_API
gboolean gst_trickle_http_server_start (GstTrickleHttpServer * server,
    GError ** error);
GST_TRICKLE_API
guint gst_trickle_http_server_get_bound_port (GstTrickleHttpServer * server);
GST_TRICKLE_API
void gst_trickle_http_server_stop (GstTrickleHttpServer * server);

G_END_DECLS
