/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/trickle-prelude.h>

G_BEGIN_DECLS

GST_TRICKLE_API
gchar *gst_trickle_caps_to_content_type (const GstCaps * caps);
GST_TRICKLE_API
GstCaps *gst_trickle_content_type_to_caps (const gchar * content_type);
GST_TRICKLE_API
gboolean gst_trickle_caps_is_byte_stream (const GstCaps * caps);
GST_TRICKLE_API
GPtrArray *gst_trickle_caps_get_headers (const GstCaps * caps);
GST_TRICKLE_API
gboolean gst_trickle_content_type_has_headers (const gchar * content_type);
GST_TRICKLE_API
GstCaps *gst_trickle_caps_take_headers (GstCaps * caps,
    const gchar * content_type, GstBuffer * segment, gsize * header_size);

G_END_DECLS
