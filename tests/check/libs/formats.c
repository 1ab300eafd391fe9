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
  v = parse_ok ("99999999999999999999");        /* beyond 64 bits: a double */
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

  /* member names: bounded in length, and the new ones in number (each
   * becomes a GQuark for the life of the process) */
  {
    GValue bv = G_VALUE_INIT;
    GError *err = NULL;
    gchar *name = g_strnfill (257, 'n');
    gchar *doc = g_strdup_printf ("{\"%s\":1}", name);
    guint n_doc, k, taken = 0;
    gboolean refused = FALSE;

    fail_if (gst_trickle_json_parse (doc, -1, &bv, &err));
    fail_unless (strstr (err->message, "256"), "%s", err->message);
    g_clear_error (&err);
    g_free (doc);
    name[256] = '\0';
    doc = g_strdup_printf ("{\"%s\":1}", name);
    v = parse_ok (doc);
    free_value (v);
    g_free (doc);
    g_free (name);

    /* documents of 500 names never seen: refused once 16384 were taken */
    for (n_doc = 0; n_doc < 40 && !refused; n_doc++) {
      GString *big = g_string_new ("{");

      for (k = 0; k < 500; k++)
        g_string_append_printf (big, "%s\"fresh-%u-%u\":%u", k ? "," : "",
            n_doc, k, k);
      g_string_append_c (big, '}');
      if (gst_trickle_json_parse (big->str, big->len, &bv, &err)) {
        taken += 500;
        g_value_unset (&bv);
      } else {
        fail_unless (strstr (err->message, "different member names"), "%s",
            err->message);
        g_clear_error (&err);
        refused = TRUE;
      }
      g_string_free (big, TRUE);
    }
    fail_unless (refused);
    fail_unless (taken <= 16384, "%u taken", taken);
    /* names known already still parse */
    v = parse_ok ("{\"fresh-0-7\":1,\"set\":{}}");
    free_value (v);
  }

  /* every control character escaped, U+001F too (json-glib 1.6 writes it
   * raw) */
  esc = gst_trickle_json_escape ("a\x1f" "b");
  fail_unless_equals_string (esc, "\"a\\u001fb\"");
  v = parse_ok (esc);
  fail_unless_equals_string (g_value_get_string (v), "a\x1f" "b");
  free_value (v);
  g_free (esc);

  esc = gst_trickle_json_escape ("q\"\\\n\x01");
  fail_unless_equals_string (esc, "\"q\\\"\\\\\\n\\u0001\"");
  v = parse_ok (esc);
  fail_unless_equals_string (g_value_get_string (v), "q\"\\\n\x01");
  free_value (v);
  g_free (esc);
}

GST_END_TEST;

/* fails unless @a and @b are equal */
static void
assert_caps_equal (GstCaps * a, GstCaps * b)
{
  gchar *sa = gst_caps_to_string (a), *sb = gst_caps_to_string (b);

  fail_unless (gst_caps_is_equal (a, b), "%s vs %s", sa, sb);
  g_free (sa);
  g_free (sb);
}

/* a buffer of @size bytes, each @fill + its index */
static GstBuffer *
pattern_buffer (gsize size, guint8 fill)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;
  gsize i;

  fail_unless (gst_buffer_map (b, &map, GST_MAP_WRITE));
  for (i = 0; i < size; i++)
    map.data[i] = fill + i;
  gst_buffer_unmap (b, &map);
  return b;
}

/* @caps' buffers, in order, then @frame_size more bytes: a segment */
static GstBuffer *
segment_of (const GstCaps * caps, gsize frame_size)
{
  GPtrArray *hdrs = gst_trickle_caps_get_headers (caps);
  GstBuffer *seg = gst_buffer_new ();
  guint i;

  for (i = 0; i < hdrs->len; i++)
    seg = gst_buffer_append (seg,
        gst_buffer_copy_deep (g_ptr_array_index (hdrs, i)));
  if (frame_size)
    seg = gst_buffer_append (seg, pattern_buffer (frame_size, 0x80));
  g_ptr_array_unref (hdrs);
  return seg;
}

/* issue 10: caps buffers (Opus/Vorbis streamheader, H.264 codec_data)
 * named in the Content-Type's trickle-headers and taken back from the
 * start of a segment */
GST_START_TEST (test_caps_headers)
{
  GstCaps *opus, *avc, *both, *ts, *caps, *back;
  GstBuffer *seg, *b;
  GPtrArray *hdrs;
  GValue arr = G_VALUE_INIT, v = G_VALUE_INIT;
  gchar *ct;
  gsize hsize = 99;
  const gchar *bad[] = {
    "audio/x-opus;trickle-headers=streamheader",
    "audio/x-opus;trickle-headers=streamheader.abc",
    "audio/x-opus;trickle-headers=streamheader.-1",
    "audio/x-opus;trickle-headers=streamheader.19..61",
    "audio/x-opus;trickle-headers=9bad.19",
    "audio/x-opus;trickle-headers=",
    "audio/x-opus;trickle-headers=streamheader.19+",
  };
  guint i;

  /* Opus: a streamheader of two buffers (OpusHead 19, OpusTags 61) */
  opus = gst_caps_from_string ("audio/x-opus, rate=(int)48000, "
      "channels=(int)2, channel-mapping-family=(int)0");
  g_value_init (&arr, GST_TYPE_ARRAY);
  g_value_init (&v, GST_TYPE_BUFFER);
  gst_value_take_buffer (&v, pattern_buffer (19, 0x10));
  gst_value_array_append_value (&arr, &v);
  g_value_unset (&v);
  g_value_init (&v, GST_TYPE_BUFFER);
  gst_value_take_buffer (&v, pattern_buffer (61, 0x40));
  gst_value_array_append_value (&arr, &v);
  g_value_unset (&v);
  gst_caps_set_value (opus, "streamheader", &arr);
  g_value_unset (&arr);

  ct = gst_trickle_caps_to_content_type (opus);
  fail_unless_equals_string (ct, "audio/x-opus;rate=48000;channels=2;"
      "channel-mapping-family=0;trickle-headers=streamheader.19.61");
  fail_unless (gst_trickle_content_type_has_headers (ct));
  hdrs = gst_trickle_caps_get_headers (opus);
  fail_unless_equals_int (hdrs->len, 2);
  fail_unless_equals_int (gst_buffer_get_size (g_ptr_array_index (hdrs, 0)),
      19);
  fail_unless_equals_int (gst_buffer_get_size (g_ptr_array_index (hdrs, 1)),
      61);
  g_ptr_array_unref (hdrs);
  /* the parameter is no field of the caps; take_headers puts the buffers
   * back: the caps are the publisher's again */
  caps = gst_trickle_content_type_to_caps (ct);
  fail_if (gst_structure_has_field (gst_caps_get_structure (caps, 0),
          "trickle-headers"));
  fail_if (gst_structure_has_field (gst_caps_get_structure (caps, 0),
          "streamheader"));
  seg = segment_of (opus, 100);
  back = gst_trickle_caps_take_headers (caps, ct, seg, &hsize);
  fail_unless (back != NULL);
  fail_unless_equals_int (hsize, 80);
  assert_caps_equal (back, opus);
  /* marked as headers, as encoders mark theirs */
  hdrs = gst_trickle_caps_get_headers (back);
  fail_unless (GST_BUFFER_FLAG_IS_SET (g_ptr_array_index (hdrs, 0),
          GST_BUFFER_FLAG_HEADER));
  g_ptr_array_unref (hdrs);
  gst_caps_unref (back);

  /* a segment shorter than its headers: NULL (the caps are taken) */
  b = gst_buffer_copy_region (seg, GST_BUFFER_COPY_MEMORY, 0, 79);
  caps = gst_trickle_content_type_to_caps (ct);
  fail_unless (gst_trickle_caps_take_headers (caps, ct, b, &hsize) == NULL);
  gst_buffer_unref (b);
  b = gst_buffer_new ();
  caps = gst_trickle_content_type_to_caps (ct);
  fail_unless (gst_trickle_caps_take_headers (caps, ct, b, &hsize) == NULL);
  gst_buffer_unref (b);
  /* malformed parameters: NULL */
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    caps = gst_trickle_content_type_to_caps (bad[i]);
    fail_unless (gst_trickle_content_type_has_headers (bad[i]));
    fail_unless (gst_trickle_caps_take_headers (caps, bad[i], seg,
            &hsize) == NULL, "%s", bad[i]);
  }
  gst_buffer_unref (seg);
  g_free (ct);

  /* H.264 avc: codec_data, a single buffer, is a buffer again */
  avc = gst_caps_from_string ("video/x-h264, stream-format=(string)avc, "
      "alignment=(string)au, width=(int)160, height=(int)120");
  b = pattern_buffer (43, 0x01);
  gst_caps_set_simple (avc, "codec_data", GST_TYPE_BUFFER, b, NULL);
  gst_buffer_unref (b);
  ct = gst_trickle_caps_to_content_type (avc);
  fail_unless (g_str_has_suffix (ct, ";trickle-headers=codec_data.43"), "%s",
      ct);
  fail_unless (gst_trickle_content_type_has_headers (ct));
  caps = gst_trickle_content_type_to_caps (ct);
  seg = segment_of (avc, 500);
  fail_unless_equals_int (gst_buffer_get_size (seg), 543);
  back = gst_trickle_caps_take_headers (caps, ct, seg, &hsize);
  fail_unless (back != NULL);
  fail_unless_equals_int (hsize, 43);
  assert_caps_equal (back, avc);
  fail_unless (G_VALUE_TYPE (gst_structure_get_value (gst_caps_get_structure
              (back, 0), "codec_data")) == GST_TYPE_BUFFER);
  gst_caps_unref (back);
  gst_buffer_unref (seg);
  g_free (ct);

  /* two fields: joined by '+', taken in that order */
  both = gst_caps_copy (avc);
  gst_caps_set_value (both, "streamheader", gst_structure_get_value
      (gst_caps_get_structure (opus, 0), "streamheader"));
  ct = gst_trickle_caps_to_content_type (both);
  fail_unless (g_str_has_suffix (ct,
          ";trickle-headers=codec_data.43+streamheader.19.61"), "%s", ct);
  caps = gst_trickle_content_type_to_caps (ct);
  seg = segment_of (both, 10);
  back = gst_trickle_caps_take_headers (caps, ct, seg, &hsize);
  fail_unless (back != NULL);
  fail_unless_equals_int (hsize, 43 + 19 + 61);
  assert_caps_equal (back, both);
  gst_caps_unref (back);
  gst_buffer_unref (seg);
  g_free (ct);

  /* no parameter: no headers, the caps as they are */
  fail_if (gst_trickle_content_type_has_headers ("video/x-raw;format=I420"));
  fail_if (gst_trickle_content_type_has_headers (NULL));
  fail_if (gst_trickle_content_type_has_headers
      ("audio/x-opus;x-trickle-headers=a.1"));
  caps = gst_trickle_content_type_to_caps ("video/x-raw;format=I420");
  seg = pattern_buffer (10, 0);
  back = gst_trickle_caps_take_headers (gst_caps_ref (caps),
      "video/x-raw;format=I420", seg, &hsize);
  fail_unless (back == caps);
  fail_unless_equals_int (hsize, 0);
  gst_caps_unref (back);
  gst_caps_unref (caps);
  gst_buffer_unref (seg);

  /* names that do not begin with a letter (a peer's Content-Type) are no
   * names: untyped bytes, no critical (fatal in these tests) */
  caps = gst_trickle_content_type_to_caps ("9x/y;1a=2");
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "application/octet-stream"));
  gst_caps_unref (caps);

  /* MPEG-TS: its streamheader (PAT/PMT) begins segments, a demuxer reads
   * it: not named in the Content-Type */
  ts = gst_caps_from_string ("video/mpegts, systemstream=(boolean)true, "
      "packetsize=(int)188");
  gst_caps_set_value (ts, "streamheader", gst_structure_get_value
      (gst_caps_get_structure (opus, 0), "streamheader"));
  ct = gst_trickle_caps_to_content_type (ts);
  fail_unless_equals_string (ct, "video/MP2T");
  hdrs = gst_trickle_caps_get_headers (ts);
  fail_unless_equals_int (hdrs->len, 2);
  g_ptr_array_unref (hdrs);
  g_free (ct);
  /* caps without buffers: none */
  hdrs = gst_trickle_caps_get_headers (avc);
  fail_unless_equals_int (hdrs->len, 1);
  g_ptr_array_unref (hdrs);
  caps = gst_caps_from_string ("audio/x-raw, format=(string)S16LE");
  hdrs = gst_trickle_caps_get_headers (caps);
  fail_unless_equals_int (hdrs->len, 0);
  g_ptr_array_unref (hdrs);
  gst_caps_unref (caps);

  gst_caps_unref (ts);
  gst_caps_unref (both);
  gst_caps_unref (avc);
  gst_caps_unref (opus);
}

GST_END_TEST;

/* what the fuzz targets found (tests/fuzz), kept as regression tests: an
 * empty Content-Type read parts[1] of a one-element vector; a range or a
 * list in a parameter went to GStreamer's parser, which leaks on malformed
 * ones (and recursed once per nesting level) */
GST_START_TEST (test_content_type_fuzz_regressions)
{
  const gchar *any[] = { "video/x-raw;width=[1,1video/x00];format={I420,N-",
    "video/x-raw;width=[1,100]", "video/x-raw;format={I420,NV12}",
    "audio/x-raw;layout=<1,2>"
  };
  GstBuffer *seg = gst_buffer_new_allocate (NULL, 16, NULL);
  GstCaps *caps;
  gsize hsize = 1;
  guint i;

  fail_if (gst_trickle_content_type_has_headers (""));
  caps = gst_caps_new_empty_simple ("video/x-raw");
  caps = gst_trickle_caps_take_headers (caps, "", seg, &hsize);
  fail_unless_equals_int (hsize, 0);
  gst_caps_unref (caps);
  gst_buffer_unref (seg);
  for (i = 0; i < G_N_ELEMENTS (any); i++) {
    caps = gst_trickle_content_type_to_caps (any[i]);
    fail_unless (gst_caps_is_any (caps), "%s", any[i]);
    gst_caps_unref (caps);
  }
  /* a quoted value is a string, braces and all */
  caps = gst_trickle_content_type_to_caps ("text/x-y;s=\"{a}\"");
  fail_unless (gst_caps_is_fixed (caps));
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (caps, 0), "s"), "{a}");
  gst_caps_unref (caps);
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
  tcase_add_test (tc, test_caps_headers);
  tcase_add_test (tc, test_content_type_fuzz_regressions);
  return s;
}

GST_CHECK_MAIN (formats);
