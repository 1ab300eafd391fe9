/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Not installed: shared by the library and the plugin.
 */
#pragma once

#include <string.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* json_to_string() (compact), with the one escape json-glib 1.6 misses: it
 * writes U+001F raw inside strings, which RFC 8259 forbids (Go's and
 * Python's parsers, and ours, refuse the document). A raw 0x1F can only
 * come from a string, so each becomes \u001f. */
static inline gchar *
gst_trickle_json_node_to_string (JsonNode * node)
{
  gchar *text = json_to_string (node, FALSE);
  GString *out;
  const gchar *p;

  if (!strchr (text, 0x1f))
    return text;
  out = g_string_sized_new (strlen (text) + 16);
  for (p = text; *p; p++) {
    if (*p == 0x1f)
      g_string_append (out, "\\u001f");
    else
      g_string_append_c (out, *p);
  }
  g_free (text);
  return g_string_free (out, FALSE);
}

G_END_DECLS
