/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Library General Public License for more details.
 */
/**
 * SECTION:tricklecaps
 * @title: Caps and Content-Type
 * @short_description: the mapping between GStreamer caps and a channel's
 *   Content-Type
 *
 * Publishers (tricklesink, trickleserver's sink pads) name a channel's
 * media with a Content-Type built from their caps; subscribers
 * (tricklesrc, trickleserver's src pads) rebuild the caps from it:
 *
 * - `video/mpegts` ⇄ `video/MP2T` (the reference clients' type); it comes
 *   back as `video/mpegts, systemstream=true, packetsize=188`.
 * - any other caps ⇄ the structure name as MIME type, each field a
 *   parameter: `video/x-raw;format=I420;width=320;height=240;framerate=30/1`.
 *   A value whose text alone would read back as another type carries its
 *   type in parentheses (`level=(string)4`), as in GStreamer's caps
 *   strings. Fields that cannot travel in a header (buffers such as
 *   `streamheader`, arrays, values with quotes or line breaks) are left
 *   out. Parameters from other publishers (`charset=utf-8`) become string
 *   fields.
 * - no or an unparsable Content-Type: `application/octet-stream`.
 *
 * Segment contents: `video/mpegts` and `application/octet-stream` are byte
 * streams (a segment is a piece of one continuous stream, delivered as it
 * arrives); every other type is a frame format (a segment is a whole
 * number of buffers).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "tricklecaps.h"

#define MPEGTS_CAPS "video/mpegts, systemstream=(boolean)true, packetsize=(int)188"

/* a name gst_structure_new_empty() accepts (it is critical otherwise) */
static gboolean
valid_name (const gchar * name)
{
  GstStructure *s = *name ? gst_structure_from_string (name, NULL) : NULL;
  gboolean ok = s && strcmp (gst_structure_get_name (s), name) == 0;

  if (s)
    gst_structure_free (s);
  return ok;
}

/* the short names caps strings use */
static const gchar *
type_name (GType type)
{
  if (type == G_TYPE_STRING)
    return "string";
  if (type == G_TYPE_INT)
    return "int";
  if (type == G_TYPE_UINT)
    return "uint";
  if (type == G_TYPE_INT64)
    return "int64";
  if (type == G_TYPE_UINT64)
    return "uint64";
  if (type == G_TYPE_DOUBLE)
    return "double";
  if (type == G_TYPE_FLOAT)
    return "float";
  if (type == G_TYPE_BOOLEAN)
    return "boolean";
  if (type == GST_TYPE_FRACTION)
    return "fraction";
  return g_type_name (type);
}

/* TRUE when @text, untyped in a caps string, reads back as @type */
static gboolean
reads_back_as (const gchar * text, GType type)
{
  gchar *str = g_strdup_printf ("x, v=%s", text);
  GstStructure *s = gst_structure_from_string (str, NULL);
  gboolean same = FALSE;

  if (s) {
    const GValue *v = gst_structure_get_value (s, "v");
    same = v && G_VALUE_TYPE (v) == type;
    gst_structure_free (s);
  }
  g_free (str);
  return same;
}

/**
 * gst_trickle_caps_to_content_type:
 * @caps: fixed caps
 *
 * Returns: (transfer full): the Content-Type that names @caps on a channel
 */
gchar *
gst_trickle_caps_to_content_type (const GstCaps * caps)
{
  GstStructure *s;
  GString *str;
  guint i;

  g_return_val_if_fail (GST_IS_CAPS (caps), NULL);

  if (gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return g_strdup ("application/octet-stream");
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_has_name (s, "video/mpegts"))
    return g_strdup ("video/MP2T");
  str = g_string_new (gst_structure_get_name (s));
  for (i = 0; i < (guint) gst_structure_n_fields (s); i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);
    GType type = G_VALUE_TYPE (v);
    gchar *ser;

    if (type == GST_TYPE_ARRAY || type == GST_TYPE_LIST
        || type == GST_TYPE_BUFFER || type == GST_TYPE_SAMPLE
        || type == GST_TYPE_CAPS || type == GST_TYPE_STRUCTURE)
      continue;
    ser = gst_value_serialize (v);
    if (ser && *ser && !strpbrk (ser, ";,\"\\\r\n ")) {
      if (reads_back_as (ser, type))
        g_string_append_printf (str, ";%s=%s", name, ser);
      else
        g_string_append_printf (str, ";%s=(%s)%s", name, type_name (type),
            ser);
    }
    g_free (ser);
  }
  return g_string_free (str, FALSE);
}

/**
 * gst_trickle_content_type_to_caps:
 * @content_type: (nullable): a channel's Content-Type
 *
 * The reverse of gst_trickle_caps_to_content_type().
 *
 * Returns: (transfer full): caps, never %NULL
 */
GstCaps *
gst_trickle_content_type_to_caps (const gchar * content_type)
{
  gchar **parts;
  GString *str;
  GstCaps *caps = NULL;
  guint i;

  if (!content_type || !*content_type)
    return gst_caps_new_empty_simple ("application/octet-stream");
  parts = g_strsplit (content_type, ";", -1);
  g_strstrip (parts[0]);
  if (g_ascii_strcasecmp (parts[0], "video/MP2T") == 0
      || g_ascii_strcasecmp (parts[0], "video/mpegts") == 0) {
    g_strfreev (parts);
    return gst_caps_from_string (MPEGTS_CAPS);
  }
  str = g_string_new (parts[0]);
  for (i = 1; parts[i]; i++) {
    gchar *p = g_strstrip (parts[i]);
    gchar *eq = strchr (p, '=');
    GstStructure *test;
    gchar *field;

    if (!eq || eq == p)
      continue;
    *eq = '\0';
    g_strstrip (p);
    g_strstrip (eq + 1);
    /* a quoted value is a string (untyped, GStreamer would warn and read
     * it as a flag set); a value that does not parse on its own becomes a
     * string too */
    if (eq[1] == '"') {
      field = g_strdup_printf ("x, %s=(string)%s", p, eq + 1);
      test = gst_structure_from_string (field, NULL);
      if (test) {
        g_string_append_printf (str, ", %s=(string)%s", p, eq + 1);
        gst_structure_free (test);
      }
      g_free (field);
      continue;
    }
    field = g_strdup_printf ("x, %s=%s", p, eq + 1);
    test = gst_structure_from_string (field, NULL);
    if (test) {
      g_string_append_printf (str, ", %s=%s", p, eq + 1);
      gst_structure_free (test);
    } else if (valid_name (p)) {
      gchar *quoted = g_strescape (eq + 1, NULL);
      g_string_append_printf (str, ", %s=(string)\"%s\"", p, quoted);
      g_free (quoted);
    }
    g_free (field);
  }
  if (valid_name (parts[0]))
    caps = gst_caps_from_string (str->str);
  if (!caps && valid_name (parts[0]))
    caps = gst_caps_new_empty_simple (parts[0]);
  if (!caps)
    caps = gst_caps_new_empty_simple ("application/octet-stream");
  g_string_free (str, TRUE);
  g_strfreev (parts);
  return caps;
}

/**
 * gst_trickle_caps_is_byte_stream:
 * @caps: caps
 *
 * Returns: %TRUE when segments of @caps are pieces of one continuous byte
 * stream (MPEG-TS, untyped bytes) rather than whole frames
 */
gboolean
gst_trickle_caps_is_byte_stream (const GstCaps * caps)
{
  GstStructure *s;

  if (!caps || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return TRUE;
  s = gst_caps_get_structure (caps, 0);
  return gst_structure_has_name (s, "video/mpegts")
      || gst_structure_has_name (s, "application/octet-stream");
}
