/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Not installed: shared by the library and the plugin.
 */
#pragma once

#include <string.h>
#include <json-glib/json-glib.h>
#include <gst/gst.h>

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

/* A GValue as JSON: structures are objects, arrays and lists arrays,
 * numbers and booleans themselves, strings strings (NULL: null), anything
 * else its GStreamer serialisation as a string (so is an unsigned 64-bit
 * integer beyond the signed range). The events, stats and data documents
 * of trickleserver and the worker. */
static inline JsonNode *
gst_trickle_json_value_to_node (const GValue * v)
{
  GType t = G_VALUE_TYPE (v);
  JsonNode *node = json_node_alloc ();

  if (t == GST_TYPE_STRUCTURE) {
    const GstStructure *st = gst_value_get_structure (v);
    JsonObject *obj = json_object_new ();
    guint i, n = gst_structure_n_fields (st);
    for (i = 0; i < n; i++) {
      const gchar *name = gst_structure_nth_field_name (st, i);
      json_object_set_member (obj, name,
          gst_trickle_json_value_to_node (gst_structure_get_value (st, name)));
    }
    json_node_init_object (node, obj);
    json_object_unref (obj);
  } else if (t == GST_TYPE_ARRAY || t == GST_TYPE_LIST) {
    gboolean list = t == GST_TYPE_LIST;
    JsonArray *arr = json_array_new ();
    guint i, n = list ? gst_value_list_get_size (v) :
        gst_value_array_get_size (v);
    for (i = 0; i < n; i++)
      json_array_add_element (arr, gst_trickle_json_value_to_node (list ?
              gst_value_list_get_value (v, i) :
              gst_value_array_get_value (v, i)));
    json_node_init_array (node, arr);
    json_array_unref (arr);
  } else if (t == G_TYPE_BOOLEAN) {
    json_node_init_boolean (node, g_value_get_boolean (v));
  } else if (t == G_TYPE_DOUBLE || t == G_TYPE_FLOAT) {
    GValue d = G_VALUE_INIT;
    g_value_init (&d, G_TYPE_DOUBLE);
    g_value_transform (v, &d);
    json_node_init_double (node, g_value_get_double (&d));
  } else if (t == G_TYPE_INT || t == G_TYPE_UINT || t == G_TYPE_INT64
      || t == G_TYPE_LONG || t == G_TYPE_ULONG
      || (t == G_TYPE_UINT64 && g_value_get_uint64 (v) <= G_MAXINT64)) {
    GValue i = G_VALUE_INIT;
    g_value_init (&i, G_TYPE_INT64);
    g_value_transform (v, &i);
    json_node_init_int (node, g_value_get_int64 (&i));
  } else if (G_VALUE_HOLDS_STRING (v)) {
    if (g_value_get_string (v))
      json_node_init_string (node, g_value_get_string (v));
    else
      json_node_init_null (node);
  } else {
    gchar *str = gst_value_serialize (v);
    json_node_init_string (node, str ? str : "");
    g_free (str);
  }
  return node;
}

G_END_DECLS
