/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target: a channel's Content-Type into caps (tricklecaps.c),
 * what tricklesrc does with any server's header, then back to a
 * Content-Type when the caps are fixed, as the publisher would send them.
 */
#include <string.h>
#include <gst/gst.h>
#include "tricklecaps.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  static gboolean inited;
  GstCaps *caps;
  gchar *ct;

  if (!inited) {
    gst_init (NULL, NULL);
    inited = TRUE;
  }
  /* a header value: no NUL, no CR/LF (the HTTP parsers refuse them) */
  if (size > 4096 || memchr (data, 0, size) || memchr (data, '\r', size)
      || memchr (data, '\n', size))
    return 0;
  ct = g_strndup ((const gchar *) data, size);
  caps = gst_trickle_content_type_to_caps (ct);
  g_assert (caps != NULL);
  if (gst_trickle_content_type_has_headers (ct)) {
    /* the segment that would carry the headers: the Content-Type's bytes */
    GstBuffer *seg = gst_buffer_new_memdup (data, size);
    gsize hsize = 0;
    GstCaps *with = gst_trickle_caps_take_headers (gst_caps_ref (caps), ct,
        seg, &hsize);

    g_assert (hsize <= size);
    gst_clear_caps (&with);
    gst_buffer_unref (seg);
  }
  if (!gst_caps_is_any (caps) && !gst_caps_is_empty (caps)
      && gst_caps_is_fixed (caps)) {
    gchar *back = gst_trickle_caps_to_content_type (caps);

    g_free (back);
    gst_trickle_caps_is_byte_stream (caps);
  }
  gst_caps_unref (caps);
  g_free (ct);
  return 0;
}
