/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_TRICKLE_SERVER (gst_trickle_server_get_type ())
G_DECLARE_FINAL_TYPE (GstTrickleServer, gst_trickle_server, GST,
    TRICKLE_SERVER, GstBin)

GST_ELEMENT_REGISTER_DECLARE (trickleserver);

G_END_DECLS
