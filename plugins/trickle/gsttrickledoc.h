/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* The pads of tricklesink, tricklesrc and trickleserver carry any caps
 * (every caps travel as a Content-Type, see tricklecaps.c), so their
 * templates are ANY, as those of GStreamer's other network elements
 * (souphttpsrc, souphttpclientsink, tcpserversink, udpsink) are: a template
 * listing formats would refuse the others and channels of other peers'
 * types. These documentation caps name the formats the elements treat
 * specially or were tested with: MPEG-TS is cut at keyframes found in the
 * stream; the others are frame formats, one buffer per segment, whose caps
 * buffers (stream headers, codec_data) begin every segment. */
#define GST_TRICKLE_DOC_CAPS \
  "video/mpegts, systemstream=(boolean)true, packetsize=(int){ 188, 192, 204 }; " \
  "video/x-raw; audio/x-raw; video/x-h264; video/x-h265; video/x-vp8; " \
  "video/x-vp9; video/x-av1; audio/x-opus; audio/x-vorbis; audio/mpeg; " \
  "image/jpeg; image/png; application/json; application/octet-stream"

static inline void
gst_trickle_set_doc_caps (GstElementClass * klass, const gchar * templ)
{
  GstCaps *caps = gst_caps_from_string (GST_TRICKLE_DOC_CAPS);

  gst_pad_template_set_documentation_caps (gst_element_class_get_pad_template
      (klass, templ), caps);
  gst_caps_unref (caps);
}

G_END_DECLS
