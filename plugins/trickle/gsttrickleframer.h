/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/trickle.h>

G_BEGIN_DECLS

typedef struct _GstTrickleFramer GstTrickleFramer;

G_GNUC_INTERNAL
GstTrickleFramer *gst_trickle_framer_new (GstObject * owner);
G_GNUC_INTERNAL
void gst_trickle_framer_free (GstTrickleFramer * f);
G_GNUC_INTERNAL
void gst_trickle_framer_reset (GstTrickleFramer * f);
G_GNUC_INTERNAL
void gst_trickle_framer_set_caps_override (GstTrickleFramer * f,
    GstCaps * caps);
G_GNUC_INTERNAL
void gst_trickle_framer_mark_discont (GstTrickleFramer * f);
G_GNUC_INTERNAL
GstBuffer *gst_trickle_framer_feed (GstTrickleFramer * f,
    GstTrickleSubscriberEvent * ev, GstClockTime now, GstCaps ** new_caps);

G_GNUC_INTERNAL
gboolean gst_trickle_framer_handle_upstream_event (GstTrickleFramer * f,
    GstEvent * event);
G_GNUC_INTERNAL
void gst_trickle_framer_set_timestamping (GstTrickleFramer * f,
    gboolean on);
G_GNUC_INTERNAL
void gst_trickle_framer_set_mark_end (GstTrickleFramer * f, gboolean on);
G_GNUC_INTERNAL
GstEvent *gst_trickle_framer_take_event (GstTrickleFramer * f);

G_GNUC_INTERNAL
GstClockTime gst_trickle_framer_now (GstElement * element);

G_GNUC_INTERNAL
gboolean gst_trickle_framer_type_not_found (GstTrickleFramer * f);

G_GNUC_INTERNAL
const gchar *gst_trickle_framer_refused_content_type (GstTrickleFramer * f);

G_GNUC_INTERNAL
void gst_trickle_framer_set_max_frame_size (GstTrickleFramer * f,
    guint64 max);

G_END_DECLS
