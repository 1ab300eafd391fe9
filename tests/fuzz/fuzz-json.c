/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target: the JSON of control documents and worker requests
 * (tricklejson.c), parsed into GStreamer values, then written back out.
 */
#include <string.h>
#include <gst/gst.h>
#include "tricklejson.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  static gboolean inited;
  GValue v = G_VALUE_INIT;
  GError *err = NULL;

  if (!inited) {
    gst_init (NULL, NULL);
    inited = TRUE;
  }
  if (size > 65536)
    return 0;
  if (gst_trickle_json_parse ((const gchar *) data, size, &v, &err)) {
    g_assert (err == NULL);
    if (G_VALUE_TYPE (&v) == GST_TYPE_STRUCTURE) {
      gchar *s = gst_structure_to_string (gst_value_get_structure (&v));
      g_free (s);
    }
    g_value_unset (&v);
  } else {
    g_assert (err != NULL);
    g_clear_error (&err);
  }
  return 0;
}
