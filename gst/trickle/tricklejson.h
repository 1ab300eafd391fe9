/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/trickle-prelude.h>

G_BEGIN_DECLS

/**
 * GstTrickleJsonError:
 * @GST_TRICKLE_JSON_ERROR_PARSE: the text is not valid JSON
 * @GST_TRICKLE_JSON_ERROR_SETTING: a setting cannot be applied
 *   (gst_trickle_json_apply_settings())
 *
 * Errors of the JSON functions.
 */
typedef enum
{
  GST_TRICKLE_JSON_ERROR_PARSE,
  GST_TRICKLE_JSON_ERROR_SETTING,
} GstTrickleJsonError;

#define GST_TRICKLE_JSON_ERROR (gst_trickle_json_error_quark ())
GST_TRICKLE_API
GQuark gst_trickle_json_error_quark (void);

GST_TRICKLE_API
gboolean gst_trickle_json_parse (const gchar * text, gssize len,
    GValue * out, GError ** error);
GST_TRICKLE_API
gboolean gst_trickle_json_apply_settings (GstElement * top,
    const GstStructure * settings, GError ** error);
GST_TRICKLE_API
gchar *gst_trickle_json_escape (const gchar * str);

G_END_DECLS
