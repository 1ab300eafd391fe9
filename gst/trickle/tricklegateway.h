/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/trickle-prelude.h>

G_BEGIN_DECLS
#define GST_TRICKLE_TYPE_GATEWAY (gst_trickle_gateway_get_type ())
    GST_TRICKLE_API
G_DECLARE_FINAL_TYPE (GstTrickleGateway, gst_trickle_gateway,
    GST_TRICKLE, GATEWAY, GObject)
     GST_TRICKLE_API GstTrickleGateway *gst_trickle_gateway_new (void);
GST_TRICKLE_API
    gboolean gst_trickle_gateway_start (GstTrickleGateway * gateway,
    GError ** error);
GST_TRICKLE_API
    guint gst_trickle_gateway_get_bound_port (GstTrickleGateway * gateway);
GST_TRICKLE_API
    guint gst_trickle_gateway_get_session_count (GstTrickleGateway * gateway);
GST_TRICKLE_API
    gboolean gst_trickle_gateway_stop (GstTrickleGateway * gateway);

G_END_DECLS
