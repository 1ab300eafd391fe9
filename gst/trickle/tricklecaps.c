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
 *   strings. Fields that cannot travel in a header (arrays, values with
 *   quotes or line breaks) are left out. Parameters from other publishers
 *   (`charset=utf-8`) become string fields.
 * - fields holding buffers (`streamheader` of Opus or Vorbis, `codec_data`
 *   of H.264 avc) travel in the segments instead: every segment of a frame
 *   format begins with them, and the `trickle-headers` parameter says
 *   which fields and how long each buffer is, e.g.
 *   `audio/x-opus;...;trickle-headers=streamheader.19.61` (an array of two
 *   buffers, 19 and 61 bytes) or `trickle-headers=codec_data.43`; fields
 *   are joined by `+`. gst_trickle_caps_get_headers() gives the buffers to
 *   write, gst_trickle_caps_take_headers() puts them back into the caps
 *   from the start of a segment.
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
#include "trickle-private.h"

#define MPEGTS_CAPS "video/mpegts, systemstream=(boolean)true, packetsize=(int)188"
#define HEADERS_PARAM "trickle-headers"

/* a field whose buffers begin every segment: a buffer, or an array of
 * buffers (streamheader) */
static gboolean
header_field (const GValue * v)
{
  guint i, n;

  if (G_VALUE_TYPE (v) == GST_TYPE_BUFFER)
    return gst_value_get_buffer (v) != NULL;
  if (G_VALUE_TYPE (v) != GST_TYPE_ARRAY)
    return FALSE;
  n = gst_value_array_get_size (v);
  for (i = 0; i < n; i++) {
    const GValue *b = gst_value_array_get_value (v, i);
    if (G_VALUE_TYPE (b) != GST_TYPE_BUFFER || !gst_value_get_buffer (b))
      return FALSE;
  }
  return n > 0;
}

/* "name.size[.size...]" for the layout parameter */
static void
append_layout (GString * layout, const gchar * name, const GValue * v)
{
  guint i;

  if (layout->len > 0)
    g_string_append_c (layout, '+');
  g_string_append (layout, name);
  if (G_VALUE_TYPE (v) == GST_TYPE_BUFFER) {
    g_string_append_printf (layout, ".%" G_GSIZE_FORMAT,
        gst_buffer_get_size (gst_value_get_buffer (v)));
    return;
  }
  for (i = 0; i < gst_value_array_get_size (v); i++)
    g_string_append_printf (layout, ".%" G_GSIZE_FORMAT,
        gst_buffer_get_size (gst_value_get_buffer (gst_value_array_get_value
                (v, i))));
}

/* a name gst_structure_new_empty() accepts (it is critical otherwise; so
 * is gst_structure_from_string() on a name that does not begin with a
 * letter) */
static gboolean
valid_name (const gchar * name)
{
  GstStructure *s = g_ascii_isalpha (*name) ?
      gst_structure_from_string (name, NULL) : NULL;
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
  GString *str, *layout;
  guint i;

  g_return_val_if_fail (GST_IS_CAPS (caps), NULL);

  if (gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return g_strdup ("application/octet-stream");
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_has_name (s, "video/mpegts"))
    return g_strdup ("video/MP2T");
  str = g_string_new (gst_structure_get_name (s));
  layout = g_string_new (NULL);
  for (i = 0; i < (guint) gst_structure_n_fields (s); i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);
    GType type = G_VALUE_TYPE (v);
    gchar *ser;

    if (header_field (v)) {
      append_layout (layout, name, v);
      continue;
    }
    if (type == GST_TYPE_ARRAY || type == GST_TYPE_LIST
        || type == GST_TYPE_BUFFER || type == GST_TYPE_SAMPLE
        || type == GST_TYPE_CAPS || type == GST_TYPE_STRUCTURE)
      continue;
    ser = gst_value_serialize (v);
    if (ser && *ser && !strpbrk (ser, ";,\"\\\r\n ")) {
      if (reads_back_as (ser, type))
        g_string_append_printf (str, ";%s=%s", name, ser);
      else
        g_string_append_printf (str, ";%s=(%s)%s", name, type_name (type), ser);
    }
    g_free (ser);
  }
  if (layout->len > 0)
    g_string_append_printf (str, ";" HEADERS_PARAM "=%s", layout->str);
  g_string_free (layout, TRUE);
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
    if (g_ascii_strcasecmp (p, HEADERS_PARAM) == 0)
      continue;                 /* see gst_trickle_caps_take_headers() */
    /* A range, list or array ([..], {..}, <..>) is never in a channel's
     * Content-Type (a publisher's caps are fixed): such a type names no
     * usable caps (ANY: tricklesrc refuses it with STREAM/FORMAT). Not
     * parsed at all: GStreamer 1.22's parser leaks on malformed ones and
     * recurses once per nesting level, which a hostile server would use */
    if (eq[1] != '"' && strpbrk (eq + 1, "[{<")) {
      g_string_free (str, TRUE);
      g_strfreev (parts);
      return gst_caps_new_any ();
    }
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

/**
 * gst_trickle_caps_get_headers:
 * @caps: fixed caps
 *
 * The buffers that begin every segment of @caps, in the order the
 * Content-Type's `trickle-headers` parameter names them: for
 * `video/mpegts` its `streamheader` (PAT/PMT, not named in the
 * Content-Type: a demuxer reads them), for frame formats every field that
 * holds buffers.
 *
 * Returns: (transfer full) (element-type GstBuffer): the buffers, maybe
 * none
 */
GPtrArray *
gst_trickle_caps_get_headers (const GstCaps * caps)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstStructure *s;
  guint i, j;

  if (!caps || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return out;
  s = gst_caps_get_structure (caps, 0);
  for (i = 0; i < (guint) gst_structure_n_fields (s); i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);

    if (!header_field (v))
      continue;
    if (gst_structure_has_name (s, "video/mpegts")
        && strcmp (name, "streamheader") != 0)
      continue;
    if (G_VALUE_TYPE (v) == GST_TYPE_BUFFER) {
      g_ptr_array_add (out, gst_buffer_ref (gst_value_get_buffer (v)));
      continue;
    }
    for (j = 0; j < gst_value_array_get_size (v); j++)
      g_ptr_array_add (out, gst_buffer_ref (gst_value_get_buffer
              (gst_value_array_get_value (v, j))));
  }
  return out;
}

/**
 * gst_trickle_content_type_has_headers:
 * @content_type: (nullable): a channel's Content-Type
 *
 * Returns: %TRUE when its segments begin with caps buffers (a
 * `trickle-headers` parameter)
 */
gboolean
gst_trickle_content_type_has_headers (const gchar * content_type)
{
  gchar **parts;
  gboolean found = FALSE;
  guint i;

  if (!content_type)
    return FALSE;
  parts = g_strsplit (content_type, ";", -1);
  /* ("" splits into nothing: no parts[1] to look at) */
  for (i = 1; parts[0] && parts[i] && !found; i++) {
    gchar *p = g_strstrip (parts[i]);
    found = g_ascii_strncasecmp (p, HEADERS_PARAM "=",
        strlen (HEADERS_PARAM) + 1) == 0;
  }
  g_strfreev (parts);
  return found;
}

static const gchar *
headers_layout (gchar ** parts)
{
  guint i;

  for (i = 1; parts[0] && parts[i]; i++) {
    gchar *p = g_strstrip (parts[i]);
    if (g_ascii_strncasecmp (p, HEADERS_PARAM "=",
            strlen (HEADERS_PARAM) + 1) == 0)
      return p + strlen (HEADERS_PARAM) + 1;
  }
  return NULL;
}

/**
 * gst_trickle_caps_take_headers:
 * @caps: (transfer full): caps from gst_trickle_content_type_to_caps()
 * @content_type: the Content-Type they came from
 * @segment: a whole segment
 * @header_size: (out): how many bytes at the start of @segment were
 *   headers
 *
 * Puts the buffers a `trickle-headers` parameter names, from the start of
 * @segment, back into @caps as the fields they came from.
 *
 * Returns: (transfer full) (nullable): the caps with the buffers, or %NULL
 * when @segment is too short for them or the parameter is malformed
 */
GstCaps *
gst_trickle_caps_take_headers (GstCaps * caps, const gchar * content_type,
    GstBuffer * segment, gsize * header_size)
{
  gchar **parts = g_strsplit (content_type ? content_type : "", ";", -1);
  const gchar *layout = headers_layout (parts);
  gchar **fields = NULL;
  gsize off = 0, total = gst_buffer_get_size (segment);
  GstStructure *s;
  guint i, j;

  *header_size = 0;
  if (!layout) {
    g_strfreev (parts);
    return caps;
  }
  caps = gst_caps_make_writable (caps);
  s = gst_caps_get_structure (caps, 0);
  fields = g_strsplit (layout, "+", -1);
  if (!fields[0])
    goto bad;                   /* an empty layout */
  for (i = 0; fields[i]; i++) {
    gchar **sizes = g_strsplit (fields[i], ".", -1);
    GValue arr = G_VALUE_INIT;
    guint n = g_strv_length (sizes);

    if (n < 2 || !valid_name (sizes[0])) {
      g_strfreev (sizes);
      goto bad;
    }
    g_value_init (&arr, GST_TYPE_ARRAY);
    for (j = 1; j < n; j++) {
      guint64 len;
      GValue bv = G_VALUE_INIT;
      GstBuffer *b;

      if (!g_ascii_string_to_unsigned (sizes[j], 10, 0, total - off, &len,
              NULL)) {
        g_value_unset (&arr);
        g_strfreev (sizes);
        goto bad;
      }
      b = gst_buffer_copy_region (segment, GST_BUFFER_COPY_MEMORY, off, len);
      /* a header buffer is marked as one, as encoders mark theirs */
      GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_HEADER);
      off += len;
      g_value_init (&bv, GST_TYPE_BUFFER);
      gst_value_take_buffer (&bv, b);
      gst_value_array_append_and_take_value (&arr, &bv);
    }
    if (n == 2 && strcmp (sizes[0], "streamheader") != 0)
      gst_structure_set_value (s, sizes[0], gst_value_array_get_value (&arr,
              0));
    else
      gst_structure_set_value (s, sizes[0], &arr);
    g_value_unset (&arr);
    g_strfreev (sizes);
  }
  g_strfreev (fields);
  g_strfreev (parts);
  *header_size = off;
  return caps;

bad:
  g_strfreev (fields);
  g_strfreev (parts);
  gst_caps_unref (caps);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* parsers after tsdemux */

/* the element that feeds @sinkpad, through queues and bins: tsdemux? */
static gboolean
fed_by_tsdemux (GstPad * sinkpad)
{
  GstPad *pad = gst_pad_get_peer (sinkpad);
  gboolean is = FALSE;
  guint hops;

  for (hops = 0; pad && hops < 16; hops++) {
    GstElement *e;
    GstElementFactory *f;
    const gchar *name;
    GstPad *next = NULL;

    if (GST_IS_PROXY_PAD (pad) && !GST_IS_GHOST_PAD (pad)) {
      /* a bin's ghost sink pad, seen from inside: on to its peer */
      GstPad *ghost = GST_PAD (gst_proxy_pad_get_internal (GST_PROXY_PAD
              (pad)));
      if (ghost) {
        next = gst_pad_get_peer (ghost);
        gst_object_unref (ghost);
      }
      gst_object_unref (pad);
      pad = next;
      continue;
    }
    e = gst_pad_get_parent_element (pad);
    f = e ? gst_element_get_factory (e) : NULL;
    name = f ? GST_OBJECT_NAME (f) : "";
    if (strcmp (name, "queue") == 0 || strcmp (name, "multiqueue") == 0
        || strcmp (name, "queue2") == 0) {
      /* through it: the sink pad behind this src pad */
      GstIterator *it = gst_pad_iterate_internal_links (pad);
      GValue v = G_VALUE_INIT;
      if (it && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
        next = gst_pad_get_peer (g_value_get_object (&v));
        g_value_unset (&v);
      }
      if (it)
        gst_iterator_free (it);
    } else {
      is = strcmp (name, "tsdemux") == 0;
    }
    gst_clear_object (&e);
    gst_object_unref (pad);
    pad = next;
    if (!next)
      break;
  }
  gst_clear_object (&pad);
  return is;
}

static GstPadProbeReturn
whole_frames_probe (GstPad * pad, GstPadProbeInfo * info, gpointer unused)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  const GstStructure *s;
  GstCaps *caps;
  GstEvent *ev;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  if (gst_caps_get_size (caps) != 1)
    return GST_PAD_PROBE_OK;
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_has_field (s, "alignment")
      || g_strcmp0 (gst_structure_get_string (s, "stream-format"),
          "byte-stream") != 0 || !fed_by_tsdemux (pad))
    return GST_PAD_PROBE_OK;
  caps = gst_caps_copy (caps);
  gst_caps_set_simple (caps, "alignment", G_TYPE_STRING, "au", NULL);
  ev = gst_event_new_caps (caps);
  gst_event_set_seqnum (ev, gst_event_get_seqnum (event));
  gst_caps_unref (caps);
  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = ev;
  return GST_PAD_PROBE_OK;
}

/**
 * _gst_trickle_parse_whole_frames:
 * @element: an h264parse or h265parse after tsdemux, or a bin holding
 *   them
 *
 * tsdemux outputs one PES per buffer, and MPEG-TS muxers (mpegtsmux,
 * ffmpeg) put one access unit in a PES, but tsdemux's caps do not say so
 * (no `alignment`): the parser then holds each frame until the next one
 * begins, one frame interval. Marking the parser's input `alignment=au`
 * lets it output each frame as it comes (the gst-launch equivalent:
 * `tsdemux ! capssetter caps=video/x-h264,alignment=au ! h264parse`).
 */
void
_gst_trickle_parse_whole_frames (GstElement * element)
{
  if (GST_IS_BIN (element)) {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (element));
    GValue v = G_VALUE_INIT;

    GstIteratorResult r;

    while ((r = gst_iterator_next (it, &v)) != GST_ITERATOR_DONE
        && r != GST_ITERATOR_ERROR) {
      if (r == GST_ITERATOR_RESYNC) {
        /* (a parser seen twice gets a second probe: it finds the caps
         * already marked) */
        gst_iterator_resync (it);
        continue;
      }
      _gst_trickle_parse_whole_frames (g_value_get_object (&v));
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  } else {
    GstElementFactory *f = gst_element_get_factory (element);
    const gchar *name = f ? GST_OBJECT_NAME (f) : "";
    GstPad *sink;

    if (strcmp (name, "h264parse") != 0 && strcmp (name, "h265parse") != 0)
      return;
    sink = gst_element_get_static_pad (element, "sink");
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        whole_frames_probe, NULL, NULL);
    gst_object_unref (sink);
  }
}
