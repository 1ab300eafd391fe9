/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

G_GNUC_INTERNAL
const gchar *const *gst_trickle_uri_protocols (void);
G_GNUC_INTERNAL
gchar *gst_trickle_uri_from_location (const gchar * location);
G_GNUC_INTERNAL
gboolean gst_trickle_uri_set_location (GstElement * element,
    gchar ** location, const gchar * uri, GError ** error);

G_GNUC_INTERNAL
void gst_trickle_uri_handler_init (gpointer g_iface, gpointer iface_data);

G_END_DECLS
