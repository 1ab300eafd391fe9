/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The formats of the library: caps <-> Content-Type, and the JSON parser
 * of control and event channels.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/trickle/trickle.h>

static void
assert_roundtrip (const gchar * caps_str, const gchar * want_type)
{
  GstCaps *caps = gst_caps_from_string (caps_str), *back;
  gchar *ct = gst_trickle_caps_to_content_type (caps);

  if (want_type)
    fail_unless_equals_string (ct, want_type);
  back = gst_trickle_content_type_to_caps (ct);
  fail_unless (gst_caps_is_equal (caps, back), "%s -> %s -> %" GST_PTR_FORMAT,
      caps_str, ct, back);
  gst_caps_unref (back);
  gst_caps_unref (caps);
  g_free (ct);
}

GST_START_TEST (test_caps_content_type)
{
  GstCaps *caps;
  gchar *ct;

  assert_roundtrip ("video/x-raw, format=(string)I420, width=(int)320, "
      "height=(int)240, framerate=(fraction)30/1",
      "video/x-raw;format=I420;width=320;height=240;framerate=30/1");
  /* a string that reads like a number carries its type */
  assert_roundtrip ("video/x-h264, level=(string)4, profile=(string)high",
      "video/x-h264;level=(string)4;profile=high");
  assert_roundtrip ("audio/x-raw, format=(string)S16LE, rate=(int)48000, "
      "channels=(int)2, layout=(string)interleaved", NULL);
  assert_roundtrip ("application/json", "application/json");
  assert_roundtrip ("image/jpeg, width=(int)64, height=(int)64", NULL);

  /* MPEG-TS is video/MP2T both ways, its streamheader left out */
  caps = gst_caps_from_string ("video/mpegts, systemstream=(boolean)true, "
      "packetsize=(int)188");
  ct = gst_trickle_caps_to_content_type (caps);
  fail_unless_equals_string (ct, "video/MP2T");
  g_free (ct);
  gst_caps_unref (caps);
  caps = gst_trickle_content_type_to_caps ("video/MP2T");
  fail_unless (gst_trickle_caps_is_byte_stream (caps));
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/mpegts"));
  gst_caps_unref (caps);

  /* from other publishers: parameters become string fields; nothing or
   * garbage is untyped bytes */
  caps = gst_trickle_content_type_to_caps ("application/json; charset=utf-8");
  fail_unless_equals_string (gst_structure_get_string (gst_caps_get_structure
          (caps, 0), "charset"), "utf-8");
  fail_if (gst_trickle_caps_is_byte_stream (caps));
  gst_caps_unref (caps);
  caps = gst_trickle_content_type_to_caps ("text/plain; odd=\"a b\"; x");
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "text/plain"));
  gst_caps_unref (caps);
  caps = gst_trickle_content_type_to_caps (NULL);
  fail_unless (gst_trickle_caps_is_byte_stream (caps));
  gst_caps_unref (caps);
  caps = gst_trickle_content_type_to_caps ("\x01 not a type");
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "application/octet-stream"));
  gst_caps_unref (caps);
}

GST_END_TEST;

static GValue *
parse_ok (const gchar * text)
{
  GValue *v = g_new0 (GValue, 1);
  GError *err = NULL;

  fail_unless (gst_trickle_json_parse (text, -1, v, &err), "%s: %s", text,
      err ? err->message : "");
  return v;
}

static void
free_value (GValue * v)
{
  g_value_unset (v);
  g_free (v);
}

GST_START_TEST (test_json)
{
  const gchar *bad[] = { "", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "01",
    "1.", "-", "\"\\x\"", "\"\\ud800\"", "\"a\nb\"", "tru", "nul",
    "{} {}", "[1 2]", "\"\\u12g4\"", "1e", "{\"a\":1,}"
  };
  const GstStructure *s, *inner;
  GValue *v;
  gchar *deep, *esc;
  guint i;
  gint64 i64 = 0;
  gdouble d = 0;
  gboolean b = FALSE;

  v = parse_ok (" {\"set\": {\"f.video-direction\": \"horiz\", \"b.x\": -2,"
      " \"b.y\": 0.5, \"ok\": true, \"none\": null},"
      " \"list\": [1, \"two\", [3], {}], \"big\": 123456789012} ");
  fail_unless (G_VALUE_TYPE (v) == GST_TYPE_STRUCTURE);
  s = gst_value_get_structure (v);
  fail_unless (gst_structure_get_int64 (s, "big", &i64));
  fail_unless_equals_int64 (i64, 123456789012);
  inner = gst_value_get_structure (gst_structure_get_value (s, "set"));
  fail_unless_equals_string (gst_structure_get_string (inner,
          "f.video-direction"), "horiz");
  fail_unless (gst_structure_get_int64 (inner, "b.x", &i64));
  fail_unless_equals_int64 (i64, -2);
  fail_unless (gst_structure_get_double (inner, "b.y", &d));
  fail_unless (d == 0.5);
  fail_unless (gst_structure_get_boolean (inner, "ok", &b) && b);
  fail_unless (gst_structure_has_field_typed (inner, "none", G_TYPE_STRING));
  fail_unless (gst_structure_get_string (inner, "none") == NULL);
  /* a mixed array is kept as its text; one of a kind is a GstValueArray */
  fail_unless_equals_string (gst_structure_get_string (s, "list"),
      "[1, \"two\", [3], {}]");
  free_value (v);
  v = parse_ok ("[1, 2, 3]");
  fail_unless_equals_int (gst_value_array_get_size (v), 3);
  free_value (v);

  /* escapes, a surrogate pair, numbers */
  v = parse_ok ("\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"");
  fail_unless_equals_string (g_value_get_string (v),
      "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
  free_value (v);
  v = parse_ok ("-1.5e2");
  fail_unless (g_value_get_double (v) == -150.0);
  free_value (v);
  v = parse_ok ("99999999999999999999");   /* beyond 64 bits: a double */
  fail_unless (G_VALUE_TYPE (v) == G_TYPE_DOUBLE);
  free_value (v);

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GValue bv = G_VALUE_INIT;
    GError *err = NULL;
    fail_if (gst_trickle_json_parse (bad[i], -1, &bv, &err), "%s", bad[i]);
    fail_unless (g_error_matches (err, GST_TRICKLE_JSON_ERROR, 0));
    fail_if (G_IS_VALUE (&bv));
    g_error_free (err);
  }
  /* nesting is bounded */
  deep = g_strnfill (100, '[');
  {
    GValue bv = G_VALUE_INIT;
    fail_if (gst_trickle_json_parse (deep, -1, &bv, NULL));
  }
  g_free (deep);

  esc = gst_trickle_json_escape ("q\"\\\n\x01");
  fail_unless_equals_string (esc, "\"q\\\"\\\\\\n\\u0001\"");
  v = parse_ok (esc);
  fail_unless_equals_string (g_value_get_string (v), "q\"\\\n\x01");
  free_value (v);
  g_free (esc);
}

GST_END_TEST;

static Suite *
formats_suite (void)
{
  Suite *s = suite_create ("formats");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caps_content_type);
  tcase_add_test (tc, test_json);
  return s;
}

GST_CHECK_MAIN (formats);
