/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_TRICKLE_SRC (gst_trickle_src_get_type ())
G_DECLARE_FINAL_TYPE (GstTrickleSrc, gst_trickle_src, GST, TRICKLE_SRC,
    GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (tricklesrc);

G_END_DECLS
