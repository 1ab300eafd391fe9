/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/trickle.h>

G_BEGIN_DECLS

typedef struct _GstTrickleControl GstTrickleControl;

G_GNUC_INTERNAL
GstTrickleControl *gst_trickle_control_start (GstElement * server,
    GstTrickleChannelStore * store, const gchar * control,
    const gchar * events, guint stats_interval, const gchar * allow);
G_GNUC_INTERNAL
void gst_trickle_control_stop (GstTrickleControl * c);
G_GNUC_INTERNAL
void gst_trickle_control_publish_event (GstTrickleControl * c,
    const gchar * json);
G_GNUC_INTERNAL
gchar *gst_trickle_control_stats_json (GstStructure * stats);
G_GNUC_INTERNAL
void gst_trickle_control_set_allow (GstTrickleControl * c,
    const gchar * patterns);

G_END_DECLS
