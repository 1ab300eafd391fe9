/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/trickle.h>

G_BEGIN_DECLS

/* called when a sink pad takes EOS (@seqnum: the event's) or is flushed
 * (GST_SEQNUM_INVALID): the element checks whether all its sink pads are
 * at EOS (gst_trickle_pad_is_eos()) */
typedef void (*GstTricklePadEosFunc) (GstElement * element, guint32 seqnum);

G_GNUC_INTERNAL
GstPad *gst_trickle_pad_new (GstElement * server, GstPadTemplate * templ,
    const gchar * name, GstTricklePadEosFunc eos_func);
G_GNUC_INTERNAL
const gchar *gst_trickle_pad_get_channel (GstPad * pad);
G_GNUC_INTERNAL
void gst_trickle_pad_host (GstPad * pad, GstTrickleChannelStore * store);
G_GNUC_INTERNAL
void gst_trickle_pad_unhost (GstPad * pad, GstTrickleChannelStore * store);
G_GNUC_INTERNAL
void gst_trickle_pad_drop_store (GstPad * pad);
G_GNUC_INTERNAL
void gst_trickle_pad_end_stream (GstPad * pad, guint32 seqnum);
G_GNUC_INTERNAL
gboolean gst_trickle_pad_is_eos (GstPad * pad);
G_GNUC_INTERNAL
gboolean gst_trickle_pad_peer_is_ts_muxer (GstPad * sinkpad);

G_END_DECLS
