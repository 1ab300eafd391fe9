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
 * Member names become GQuarks, which live as long as the process: a name
 * is at most 256 bytes, and at most 16384 names that were not GQuarks
 * already are taken in a process's life; past that, documents with new
 * names are refused (an error), those with known names still parse.
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
/* A member name becomes a GQuark (a GstStructure field), which lives as
 * long as the process: names are bounded in length, and the names no
 * GQuark held before are bounded in number, so that documents with ever
 * new names (a control channel's hostile publisher) cannot grow the
 * memory without bound (at most ~4 MiB) */
#define MAX_NAME_LENGTH 256
#define MAX_NEW_NAMES 16384

static gint new_names;

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
    if (strlen (key) > MAX_NAME_LENGTH) {
      g_free (key);
      g_value_unset (&v);
      gst_structure_free (s);
      return fail (ps, "member name longer than 256 bytes");
    }
    if (!g_quark_try_string (key)
        && g_atomic_int_add (&new_names, 1) >= MAX_NEW_NAMES) {
      g_free (key);
      g_value_unset (&v);
      gst_structure_free (s);
      return fail (ps, "too many different member names (16384 new ones in "
          "this process: each is kept for its life)");
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

/* ------------------------------------------------------------------------ */
/* settings */

typedef struct
{
  GstElement *element;
  GParamSpec *pspec;
  GValue value;
} Setting;

static void
setting_clear (Setting * s)
{
  g_clear_object (&s->element);
  if (G_IS_VALUE (&s->value))
    g_value_unset (&s->value);
}

/* the JSON value @json as a value of @pspec's type */
static gboolean
convert (const GValue * json, GParamSpec * pspec, GValue * out, gchar ** why)
{
  GType want = pspec->value_type;
  GType have = G_VALUE_TYPE (json);

  g_value_init (out, want);
  if (have == G_TYPE_STRING) {
    const gchar *str = g_value_get_string (json);
    if (!str) {
      *why = g_strdup ("null is not a value");
      return FALSE;
    }
    if (want == G_TYPE_STRING)
      g_value_set_string (out, str);
    else if (!gst_value_deserialize_with_pspec (out, str, pspec)) {
      *why = g_strdup_printf ("\"%s\" is not a %s", str, g_type_name (want));
      return FALSE;
    }
  } else if (have == G_TYPE_BOOLEAN || have == G_TYPE_INT64
      || have == G_TYPE_DOUBLE) {
    gboolean number = have != G_TYPE_BOOLEAN;
    gboolean want_number = G_TYPE_IS_FUNDAMENTAL (want)
        && want != G_TYPE_BOOLEAN && want != G_TYPE_STRING
        && g_value_type_transformable (have, want);

    if (number && want_number) {
      if (have == G_TYPE_DOUBLE && want != G_TYPE_DOUBLE
          && want != G_TYPE_FLOAT) {
        gdouble d = g_value_get_double (json);
        if (d != (gdouble) (gint64) d) {
          *why = g_strdup_printf ("%g is not an integer", d);
          return FALSE;
        }
      }
      g_value_transform (json, out);
      if (have == G_TYPE_INT64 && want != G_TYPE_INT64 && want != G_TYPE_DOUBLE
          && want != G_TYPE_FLOAT) {
        /* a narrowing transform wraps: compare back */
        GValue back = G_VALUE_INIT;
        g_value_init (&back, G_TYPE_INT64);
        g_value_transform (out, &back);
        if (g_value_get_int64 (&back) != g_value_get_int64 (json)) {
          g_value_unset (&back);
          *why = g_strdup_printf ("%" G_GINT64_FORMAT " is out of range",
              g_value_get_int64 (json));
          return FALSE;
        }
        g_value_unset (&back);
      }
    } else if (!number && want == G_TYPE_BOOLEAN) {
      g_value_copy (json, out);
    } else {
      /* e.g. an enum given by value: GStreamer's deserialisation */
      gchar *str = gst_value_serialize (json);
      gboolean ok = str && gst_value_deserialize_with_pspec (out, str, pspec);
      if (!ok) {
        *why = g_strdup_printf ("%s is not a %s", GST_STR_NULL (str),
            g_type_name (want));
        g_free (str);
        return FALSE;
      }
      g_free (str);
    }
  } else {
    *why = g_strdup_printf ("a JSON %s cannot set a %s",
        have == GST_TYPE_ARRAY ? "array" : "object", g_type_name (want));
    return FALSE;
  }
  if (g_param_value_validate (pspec, out)) {
    gchar *str = gst_value_serialize (json);
    *why = g_strdup_printf ("%s is out of range", GST_STR_NULL (str));
    g_free (str);
    return FALSE;
  }
  return TRUE;
}

/**
 * gst_trickle_json_apply_settings:
 * @top: the element whose children are set (a #GstBin, searched
 *   recursively), or the one element named in the keys
 * @settings: fields `<element>.<property>` holding values as
 *   gst_trickle_json_parse() gives them
 * @error: (optional): where the reason a setting was refused goes
 *   (%GST_TRICKLE_JSON_ERROR_SETTING)
 *
 * Sets the properties named by @settings, all of them or none: every
 * member is checked first (the element exists, the property exists and is
 * writable after construction, the value converts to the property's type
 * and is in its range) and nothing is set if one fails. A JSON string is
 * deserialised for the property's type with GStreamer's own rules (enums
 * by nick, caps, fractions "30/1"...); numbers and booleans are converted
 * and range-checked. This is how the `{"set": {...}}` control documents of
 * trickleserver and #GstTrickleWorker are applied.
 *
 * Returns: %TRUE if every setting was applied
 */
gboolean
gst_trickle_json_apply_settings (GstElement * top,
    const GstStructure * settings, GError ** error)
{
  const GstStructure *set = settings;
  gchar *reason_ = NULL;
  gchar **why = &reason_;
  guint i, n = gst_structure_n_fields (set);
  Setting *s_ = g_new0 (Setting, n);
  gboolean ok = TRUE;

  for (i = 0; i < n && ok; i++) {
    const gchar *key = gst_structure_nth_field_name (set, i);
    const gchar *dot = strrchr (key, '.');
    gchar *name;

    if (!dot || dot == key || !dot[1]) {
      *why = g_strdup_printf ("\"%s\" is not \"<element>.<property>\"", key);
      ok = FALSE;
      break;
    }
    name = g_strndup (key, dot - key);
    s_[i].element = GST_IS_BIN (top) ?
        gst_bin_get_by_name (GST_BIN (top), name) :
        (g_strcmp0 (GST_ELEMENT_NAME (top), name) == 0 ?
        gst_object_ref (top) : NULL);
    if (!s_[i].element) {
      *why = g_strdup_printf ("no element named \"%s\"", name);
      ok = FALSE;
    } else {
      GObjectClass *klass = G_OBJECT_GET_CLASS (s_[i].element);

      s_[i].pspec = g_object_class_find_property (klass, dot + 1);
      if (!s_[i].pspec) {
        *why = g_strdup_printf ("%s has no property \"%s\"", name, dot + 1);
        ok = FALSE;
      } else if (!(s_[i].pspec->flags & G_PARAM_WRITABLE)
          || (s_[i].pspec->flags & G_PARAM_CONSTRUCT_ONLY)) {
        *why = g_strdup_printf ("%s.%s cannot be set", name, dot + 1);
        ok = FALSE;
      } else {
        gchar *reason = NULL;
        if (!convert (gst_structure_get_value (set, key), s_[i].pspec,
                &s_[i].value, &reason)) {
          *why = g_strdup_printf ("%s: %s", key, reason);
          g_free (reason);
          ok = FALSE;
        }
      }
    }
    g_free (name);
  }
  if (ok) {
    for (i = 0; i < n; i++) {
      GST_INFO_OBJECT (top, "setting %s",
          gst_structure_nth_field_name (set, i));
      g_object_set_property (G_OBJECT (s_[i].element),
          s_[i].pspec->name, &s_[i].value);
    }
  }
  for (i = 0; i < n; i++)
    setting_clear (&s_[i]);
  g_free (s_);
  if (!ok)
    g_set_error_literal (error, GST_TRICKLE_JSON_ERROR,
        GST_TRICKLE_JSON_ERROR_SETTING, reason_);
  g_free (reason_);
  return ok;
}
