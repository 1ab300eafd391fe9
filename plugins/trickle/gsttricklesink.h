/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_TRICKLE_SINK (gst_trickle_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstTrickleSink, gst_trickle_sink, GST, TRICKLE_SINK,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (tricklesink);

G_END_DECLS
