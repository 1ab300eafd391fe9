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
 * SECTION:tricklejson
 * @title: JSON
 * @short_description: JSON documents (control and event channels) as
 *   GValues
 *
 * Reading: a strict RFC 8259 parser, one document nested at most 64
 * deep. Writing (gst_trickle_json_escape(), the events and change feed
 * documents) uses json-glib. Reading does not: Debian 12's json-glib
 * (1.6.6, before its `strict` mode) accepts what RFC 8259 refuses and the
 * control channel must refuse — an empty text, `01`, `1.`, `"\x"`, raw
 * line breaks in strings, `{} {}` (a second document after the first) —
 * and reads 99999999999999999999 as -1 (a silent 64-bit overflow), where
 * this parser gives a double. Measured with json_parser_load_from_data();
 * the formats test holds every case.
 *
 * | JSON | GValue |
 * |---|---|
 * | object | #GstStructure named `json`, one field per member |
 * | array | #GST_TYPE_ARRAY when its elements share a type, else its JSON text as a string |
 * | string | #G_TYPE_STRING |
 * | integer (fits in 64 bits) | #G_TYPE_INT64 |
 * | other number | #G_TYPE_DOUBLE |
 * | true, false | #G_TYPE_BOOLEAN |
 * | null | #G_TYPE_STRING holding %NULL |
 *
 * Writing: gst_trickle_json_escape() quotes a string.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/trickle/trickle-json-private.h>
#include <stdlib.h>
#include <errno.h>
#include "tricklejson.h"

#define MAX_DEPTH 64

/* *INDENT-OFF* */
G_DEFINE_QUARK (gst-trickle-json-error-quark, gst_trickle_json_error);
/* *INDENT-ON* */

typedef struct
{
  const gchar *p, *end, *start;
  GError **error;
} Parser;

static gboolean parse_value (Parser * ps, GValue * out, guint depth);

static gboolean
fail (Parser * ps, const gchar * what)
{
  g_set_error (ps->error, GST_TRICKLE_JSON_ERROR,
      GST_TRICKLE_JSON_ERROR_PARSE,
      "Invalid JSON at byte %" G_GSIZE_FORMAT ": %s",
      (gsize) (ps->p - ps->start), what);
  return FALSE;
}

static void
skip_ws (Parser * ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'
          || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static gboolean
literal (Parser * ps, const gchar * word)
{
  gsize n = strlen (word);

  if ((gsize) (ps->end - ps->p) < n || memcmp (ps->p, word, n) != 0)
    return fail (ps, "unknown literal");
  ps->p += n;
  return TRUE;
}

static gint
hex4 (const gchar * s)
{
  gint v = 0, i;

  for (i = 0; i < 4; i++) {
    gint d = g_ascii_xdigit_value (s[i]);
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

static gboolean
parse_string (Parser * ps, gchar ** out)
{
  GString *s = g_string_new (NULL);

  ps->p++;                      /* the quote */
  while (ps->p < ps->end && *ps->p != '"') {
    guchar c = *ps->p;

    if (c < 0x20) {
      g_string_free (s, TRUE);
      return fail (ps, "control character in a string");
    }
    if (c != '\\') {
      g_string_append_c (s, c);
      ps->p++;
      continue;
    }
    if (ps->end - ps->p < 2)
      break;
    ps->p++;
    switch (*ps->p) {
      case '"':
      case '\\':
      case '/':
        g_string_append_c (s, *ps->p);
        break;
      case 'b':
        g_string_append_c (s, '\b');
        break;
      case 'f':
        g_string_append_c (s, '\f');
        break;
      case 'n':
        g_string_append_c (s, '\n');
        break;
      case 'r':
        g_string_append_c (s, '\r');
        break;
      case 't':
        g_string_append_c (s, '\t');
        break;
      case 'u':{
        gint cp, lo;
        if (ps->end - ps->p < 5 || (cp = hex4 (ps->p + 1)) < 0) {
          g_string_free (s, TRUE);
          return fail (ps, "bad \\u escape");
        }
        ps->p += 4;
        if (cp >= 0xd800 && cp < 0xdc00) {
          /* a surrogate pair */
          if (ps->end - ps->p < 7 || ps->p[1] != '\\' || ps->p[2] != 'u'
              || (lo = hex4 (ps->p + 3)) < 0xdc00 || lo >= 0xe000) {
            g_string_free (s, TRUE);
            return fail (ps, "lone surrogate");
          }
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          ps->p += 6;
        } else if (cp >= 0xdc00 && cp < 0xe000) {
          g_string_free (s, TRUE);
          return fail (ps, "lone surrogate");
        }
        g_string_append_unichar (s, cp);
        break;
      }
      default:
        g_string_free (s, TRUE);
        return fail (ps, "bad escape");
    }
    ps->p++;
  }
  if (ps->p >= ps->end) {
    g_string_free (s, TRUE);
    return fail (ps, "unterminated string");
  }
  ps->p++;
  if (!g_utf8_validate (s->str, s->len, NULL)) {
    g_string_free (s, TRUE);
    return fail (ps, "not UTF-8");
  }
  *out = g_string_free (s, FALSE);
  return TRUE;
}

static gboolean
parse_number (Parser * ps, GValue * out)
{
  const gchar *b = ps->p;
  gboolean integral = TRUE;
  gchar *text, *endp;

  if (ps->p < ps->end && *ps->p == '-')
    ps->p++;
  if (ps->p >= ps->end || !g_ascii_isdigit (*ps->p))
    return fail (ps, "bad number");
  if (*ps->p == '0' && ps->p + 1 < ps->end && g_ascii_isdigit (ps->p[1]))
    return fail (ps, "leading zero");
  while (ps->p < ps->end && g_ascii_isdigit (*ps->p))
    ps->p++;
  if (ps->p < ps->end && *ps->p == '.') {
    integral = FALSE;
    ps->p++;
    if (ps->p >= ps->end || !g_ascii_isdigit (*ps->p))
      return fail (ps, "bad fraction");
    while (ps->p < ps->end && g_ascii_isdigit (*ps->p))
      ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    integral = FALSE;
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
      ps->p++;
    if (ps->p >= ps->end || !g_ascii_isdigit (*ps->p))
      return fail (ps, "bad exponent");
    while (ps->p < ps->end && g_ascii_isdigit (*ps->p))
      ps->p++;
  }
  text = g_strndup (b, ps->p - b);
  if (integral) {
    gint64 v;
    errno = 0;
    v = g_ascii_strtoll (text, &endp, 10);
    if (errno == 0 && *endp == '\0') {
      g_value_init (out, G_TYPE_INT64);
      g_value_set_int64 (out, v);
      g_free (text);
      return TRUE;
    }
  }
  g_value_init (out, G_TYPE_DOUBLE);
  g_value_set_double (out, g_ascii_strtod (text, NULL));
  g_free (text);
  return TRUE;
}

static gboolean
parse_object (Parser * ps, GValue * out, guint depth)
{
  GstStructure *s = gst_structure_new_empty ("json");

  ps->p++;
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    goto done;
  }
  for (;;) {
    GValue v = G_VALUE_INIT;
    gchar *key;

    skip_ws (ps);
    if (ps->p >= ps->end || *ps->p != '"') {
      gst_structure_free (s);
      return fail (ps, "expected a member name");
    }
    if (!parse_string (ps, &key)) {
      gst_structure_free (s);
      return FALSE;
    }
    skip_ws (ps);
    if (ps->p >= ps->end || *ps->p != ':') {
      g_free (key);
      gst_structure_free (s);
      return fail (ps, "expected ':'");
    }
    ps->p++;
    if (!parse_value (ps, &v, depth + 1)) {
      g_free (key);
      gst_structure_free (s);
      return FALSE;
    }
    gst_structure_take_value (s, key, &v);
    g_free (key);
    skip_ws (ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == '}') {
      ps->p++;
      break;
    }
    gst_structure_free (s);
    return fail (ps, "expected ',' or '}'");
  }
done:
  g_value_init (out, GST_TYPE_STRUCTURE);
  g_value_take_boxed (out, s);
  return TRUE;
}

static void
value_free (GValue * v)
{
  g_value_unset (v);
  g_free (v);
}

/* GstValueArray holds values of one type: a mixed array is kept as its
 * JSON text */
static gboolean
parse_array (Parser * ps, GValue * out, guint depth)
{
  const gchar *start = ps->p;
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify)
      value_free);
  gboolean mixed = FALSE;
  guint i;

  ps->p++;
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    goto done;
  }
  for (;;) {
    GValue *v = g_new0 (GValue, 1);

    if (!parse_value (ps, v, depth + 1)) {
      g_free (v);
      g_ptr_array_unref (items);
      return FALSE;
    }
    if (items->len > 0 && G_VALUE_TYPE (v) !=
        G_VALUE_TYPE ((GValue *) g_ptr_array_index (items, 0)))
      mixed = TRUE;
    g_ptr_array_add (items, v);
    skip_ws (ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == ']') {
      ps->p++;
      break;
    }
    g_ptr_array_unref (items);
    return fail (ps, "expected ',' or ']'");
  }
done:
  if (mixed) {
    g_value_init (out, G_TYPE_STRING);
    g_value_take_string (out, g_strndup (start, ps->p - start));
  } else {
    g_value_init (out, GST_TYPE_ARRAY);
    for (i = 0; i < items->len; i++) {
      GValue *v = g_ptr_array_index (items, i);
      GValue tmp = G_VALUE_INIT;
      g_value_init (&tmp, G_VALUE_TYPE (v));
      g_value_copy (v, &tmp);
      gst_value_array_append_and_take_value (out, &tmp);
    }
  }
  g_ptr_array_unref (items);
  return TRUE;
}

static gboolean
parse_value (Parser * ps, GValue * out, guint depth)
{
  if (depth > MAX_DEPTH)
    return fail (ps, "nested too deep");
  skip_ws (ps);
  if (ps->p >= ps->end)
    return fail (ps, "unexpected end");
  switch (*ps->p) {
    case '{':
      return parse_object (ps, out, depth);
    case '[':
      return parse_array (ps, out, depth);
    case '"':{
      gchar *str;
      if (!parse_string (ps, &str))
        return FALSE;
      g_value_init (out, G_TYPE_STRING);
      g_value_take_string (out, str);
      return TRUE;
    }
    case 't':
    case 'f':{
      gboolean t = *ps->p == 't';
      if (!literal (ps, t ? "true" : "false"))
        return FALSE;
      g_value_init (out, G_TYPE_BOOLEAN);
      g_value_set_boolean (out, t);
      return TRUE;
    }
    case 'n':
      if (!literal (ps, "null"))
        return FALSE;
      g_value_init (out, G_TYPE_STRING);
      return TRUE;
    default:
      return parse_number (ps, out);
  }
}

/**
 * gst_trickle_json_parse:
 * @text: the document
 * @len: its length, or -1 if NUL-terminated
 * @out: (out caller-allocates): an unset #GValue, set on success
 *
 * Returns: %FALSE with @error (GST_TRICKLE_JSON_ERROR) if @text is not
 * one JSON document
 */
gboolean
gst_trickle_json_parse (const gchar * text, gssize len, GValue * out,
    GError ** error)
{
  Parser ps;

  g_return_val_if_fail (text != NULL, FALSE);
  if (len < 0)
    len = strlen (text);
  ps.start = ps.p = text;
  ps.end = text + len;
  ps.error = error;
  if (!parse_value (&ps, out, 0))
    return FALSE;
  skip_ws (&ps);
  if (ps.p != ps.end) {
    g_value_unset (out);
    return fail (&ps, "trailing data");
  }
  return TRUE;
}

/**
 * gst_trickle_json_escape:
 *
 * Returns: (transfer full): @str as a JSON string literal, quotes included
 */
gchar *
gst_trickle_json_escape (const gchar * str)
{
  JsonNode *node = json_node_init_string (json_node_alloc (), str ? str : "");
  gchar *text = gst_trickle_json_node_to_string (node);

  json_node_unref (node);
  return text;
}
