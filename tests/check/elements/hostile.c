/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tricklesink and tricklesrc against a broken or hostile server: a
 * scripted raw-socket server (trickletestutil.h) answers what the test
 * says, byte for byte. Every number from the wire is checked, caps that
 * cannot be used are a STREAM error, segments that keep failing are asked
 * for ever more slowly and warned about at most once a second, a segment
 * is bounded, a redirect never takes a segment or an extra header
 * elsewhere, and a server that never answers holds no state change.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>

#include "trickletestutil.h"

#define RAW "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=8," \
    "height=8,framerate=30/1"

static gchar *
answer (guint status, const gchar * headers, const gchar * body)
{
  return g_strdup_printf ("HTTP/1.1 %u X\r\nConnection: close\r\n%s"
      "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s", status,
      headers ? headers : "", body ? strlen (body) : 0, body ? body : "");
}

static void
assert_error (GstMessage * msg, GQuark domain, gint code, const gchar * in)
{
  GError *err = NULL;
  gchar *debug = NULL;

  fail_unless (msg != NULL, "no error");
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (g_error_matches (err, domain, code), "error %s %d: %s (%s)",
      g_quark_to_string (err->domain), err->code, err->message,
      GST_STR_NULL (debug));
  if (in)
    fail_unless (debug && strstr (debug, in), "'%s' not in '%s'", in,
        GST_STR_NULL (debug));
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
}

#define SRC_LINE "tricklesrc location=http://127.0.0.1:%u/ch start-seq=0 " \
    "retries=0 ! fakesink"
#define SINK_LINE RAW " ! tricklesink location=http://127.0.0.1:%u/ch " \
    "retries=0"

/* runs the gst-launch line @line (its %u: @s's port) to its end: the error
 * message, or NULL at EOS */
static GstMessage *
run_against (TrickleTestScripted * s, const gchar * line)
{
  gchar *desc = g_strdup_printf (line, trickle_test_scripted_get_port (s));
  GstMessage *msg = trickle_test_run_pipeline (desc);

  g_free (desc);
  return msg;
}

/* ------------------------------------------------------------------------ */
/* numbers from the wire */

static gchar *
next_answers_latest (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  if (g_str_has_suffix (path, "/next")) {
    gchar *h = g_strdup_printf ("Lp-Trickle-Latest: %s\r\n",
        (const gchar *) data);
    gchar *a = answer (200, h, "0");

    g_free (h);
    return a;
  }
  return answer (200, NULL, NULL);
}

/* /next's Lp-Trickle-Latest near INT64_MAX made seq + 1 overflow (a NULL
 * dereference followed); any value that is no sequence number is now an
 * error naming it, and a good one is where publishing starts */
GST_START_TEST (test_sink_bad_latest)
{
  const gchar *bad[] = { "9223372036854775807", "4611686018427387904",
    "-5", "12abc", "+3", " 1 2", "99999999999999999999999"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    TrickleTestScripted *s =
        trickle_test_scripted_new (next_answers_latest, (gpointer) bad[i]);

    assert_error (run_against (s, SINK_LINE), GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_WRITE, "Lp-Trickle-Latest");
    fail_unless_equals_int (trickle_test_scripted_count (s, "POST /ch/"), 0);
    trickle_test_scripted_free (s);
  }

  /* a good one: the first segment is that seq */
  {
    TrickleTestScripted *s =
        trickle_test_scripted_new (next_answers_latest, (gpointer) "7");

    fail_unless (run_against (s, SINK_LINE) == NULL);
    fail_unless (trickle_test_scripted_count (s, "POST /ch/7") >= 1);
    trickle_test_scripted_free (s);
  }
}

GST_END_TEST;

static gchar *
segment_with_seq (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  gchar *h, *a;

  if (!g_str_equal (path, "/ch/0"))
    return answer (200, "Lp-Trickle-Closed: terminated\r\n", NULL);
  h = g_strdup_printf ("Lp-Trickle-Seq: %s\r\nContent-Type: video/mp2t\r\n",
      (const gchar *) data);
  a = answer (200, h, "0123456789");
  g_free (h);
  return a;
}

static gchar *
gone_with_latest (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  if (g_str_equal (path, "/ch/0")) {
    gchar *h = g_strdup_printf ("Lp-Trickle-Latest: %s\r\n",
        (const gchar *) data);
    gchar *a = answer (470, h, NULL);

    g_free (h);
    return a;
  }
  return answer (200, "Lp-Trickle-Closed: terminated\r\n", NULL);
}

GST_START_TEST (test_src_bad_seq)
{
  const gchar *bad[] = { "9223372036854775807", "-2", "x", "1e3" };
  guint i;

  /* Lp-Trickle-Seq: an error that names it */
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    TrickleTestScripted *s =
        trickle_test_scripted_new (segment_with_seq, (gpointer) bad[i]);

    assert_error (run_against (s, SRC_LINE), GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_READ, "Lp-Trickle-Seq");
    trickle_test_scripted_free (s);
  }

  /* Lp-Trickle-Latest of a 470: no number, so the live edge (-1) */
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    TrickleTestScripted *s =
        trickle_test_scripted_new (gone_with_latest, (gpointer) bad[i]);

    fail_unless (run_against (s, SRC_LINE) == NULL);
    fail_unless_equals_int (trickle_test_scripted_count (s, "GET /ch/-1"), 1);
    trickle_test_scripted_free (s);
  }
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* caps */

static gchar *
segment_typed (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  gchar *h, *a;

  if (!g_str_equal (path, "/ch/0"))
    return answer (200, "Lp-Trickle-Closed: terminated\r\n", NULL);
  h = g_strdup_printf ("Lp-Trickle-Seq: 0\r\nContent-Type: %s\r\n",
      (const gchar *) data);
  a = answer (200, h, "0123456789");
  g_free (h);
  return a;
}

/* A Content-Type whose caps are not fixed raised CRITICALs (fatal here:
 * G_DEBUG=fatal-criticals); now a STREAM/FORMAT error */
GST_START_TEST (test_src_unusable_caps)
{
  GString *nested = g_string_new ("video/x-raw;width=");
  const gchar *bad[] = { "ANY", "EMPTY", "video/x-raw;width=[1,100]",
    "video/x-raw;format={I420,NV12};width=8;height=8",
    "audio/x-raw;rate=[8000,48000];channels=1;format=S16LE;layout="
        "interleaved", NULL
  };
  guint i;

  for (i = 0; i < 10000; i++)
    g_string_append_c (nested, '{');
  bad[G_N_ELEMENTS (bad) - 1] = nested->str;
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    TrickleTestScripted *s =
        trickle_test_scripted_new (segment_typed, (gpointer) bad[i]);
    GstMessage *msg = run_against (s, SRC_LINE);

    /* the nested one may also parse as a plain string: then no error */
    if (bad[i] != nested->str || msg)
      assert_error (msg, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
          "Content-Type");
    trickle_test_scripted_free (s);
  }
  g_string_free (nested, TRUE);
}

GST_END_TEST;

static gchar *
new_type_each_segment (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  gint64 seq = g_ascii_strtoll (strrchr (path, '/') + 1, NULL, 10);
  gchar *h, *a;

  if (seq < 0 || seq > 200)
    return answer (200, "Lp-Trickle-Closed: terminated\r\n", NULL);
  h = g_strdup_printf ("Lp-Trickle-Seq: %" G_GINT64_FORMAT "\r\n"
      "Content-Type: text/x-n%" G_GINT64_FORMAT ";f%" G_GINT64_FORMAT
      "=1\r\n", seq, seq, seq);
  a = answer (200, h, "x");
  g_free (h);
  return a;
}

/* every name in a Content-Type becomes a GQuark for good: a server
 * changing it at each segment grew the memory without bound; the 65th is
 * refused */
GST_START_TEST (test_src_content_type_churn)
{
  TrickleTestScripted *s =
      trickle_test_scripted_new (new_type_each_segment, NULL);

  assert_error (run_against (s, SRC_LINE), GST_STREAM_ERROR,
      GST_STREAM_ERROR_FORMAT, "text/x-n64");
  fail_unless (trickle_test_scripted_count (s, "GET /ch/64") == 1);
  trickle_test_scripted_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* segments that keep failing */

static gchar *
always_gone (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  gint64 seq = g_ascii_strtoll (strrchr (path, '/') + 1, NULL, 10);
  gchar *h = g_strdup_printf ("Lp-Trickle-Latest: %" G_GINT64_FORMAT "\r\n",
      MAX (seq, 0) + 1);
  gchar *a = answer (470, h, NULL);

  g_free (h);
  return a;
}

static gchar *
always_broken (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  gint64 seq = g_ascii_strtoll (strrchr (path, '/') + 1, NULL, 10);

  /* a chunk that promises 100 bytes and brings 5, then the close */
  return g_strdup_printf ("HTTP/1.1 200 OK\r\nLp-Trickle-Seq: %"
      G_GINT64_FORMAT "\r\nContent-Type: video/mp2t\r\n"
      "Transfer-Encoding: chunked\r\n\r\n64\r\nhello", MAX (seq, 0));
}

/* A server answering 470 after 470 (or breaking every body) was asked
 * ~800 times a second and made ~750 warnings a second. Two seconds of
 * it: before, over a thousand requests; now the few free ones, then a
 * delay doubling from 100 ms. The bounds below are upper bounds far above
 * what the backoff allows: a loaded machine only makes fewer requests, so
 * they hold however slow CI is. */
static void
check_backoff (TrickleTestScriptFunc func)
{
  TrickleTestScripted *s = trickle_test_scripted_new (func, NULL);
  gchar *desc = g_strdup_printf ("tricklesrc "
      "location=http://127.0.0.1:%u/ch start-seq=0 ! fakesink",
      trickle_test_scripted_get_port (s));
  GstElement *p = trickle_test_start_pipeline (desc);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;
  guint warnings = 0, requests;
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  while ((msg = gst_bus_timed_pop_filtered (bus,
              MAX (end - g_get_monotonic_time (), 0) * GST_USECOND,
              GST_MESSAGE_WARNING | GST_MESSAGE_ERROR))) {
    fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING);
    warnings++;
    gst_message_unref (msg);
  }
  requests = trickle_test_scripted_count (s, "GET /ch/");
  trickle_test_stop_pipeline (p);
  gst_object_unref (bus);
  /* it went on asking (not stopped: a live channel may come back) */
  fail_unless (requests >= 2, "%u requests", requests);
  fail_unless (requests <= 40, "%u requests in 2 s", requests);
  fail_unless (warnings <= 4, "%u warnings in 2 s", warnings);
  g_free (desc);
  trickle_test_scripted_free (s);
}

GST_START_TEST (test_src_backoff_470_loop)
{
  check_backoff (always_gone);
}

GST_END_TEST;

GST_START_TEST (test_src_backoff_broken_bodies)
{
  check_backoff (always_broken);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* a bound on a segment */

#define FRAME_TYPE "video/x-raw;format=GRAY8;width=10;height=10;" \
    "framerate=30/1"

static gchar *
big_then_small (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  gchar *body, *a;

  if (g_str_equal (path, "/ch/0"))
    body = g_strnfill (5000, 'b');      /* over max-segment-size */
  else if (g_str_equal (path, "/ch/1"))
    body = g_strnfill (100, 's');       /* one frame */
  else
    return answer (200, "Lp-Trickle-Closed: terminated\r\n", NULL);
  a = answer (200, g_str_equal (path, "/ch/0") ? "Lp-Trickle-Seq: 0\r\n"
      "Content-Type: " FRAME_TYPE "\r\n" : "Lp-Trickle-Seq: 1\r\n"
      "Content-Type: " FRAME_TYPE "\r\n", body);
  g_free (body);
  return a;
}

/* a frame-format segment over max-segment-size is dropped with a warning
 * (it grew without bound: 137 MiB in 30 s from a segment that never
 * ended), the next one goes through */
GST_START_TEST (test_src_max_segment_size)
{
  TrickleTestScripted *s = trickle_test_scripted_new (big_then_small, NULL);
  gchar *desc = g_strdup_printf ("tricklesrc "
      "location=http://127.0.0.1:%u/ch start-seq=0 max-segment-size=1000 ! "
      "appsink name=sink sync=false",
      trickle_test_scripted_get_port (s));
  GstElement *p = trickle_test_start_pipeline (desc);
  GstElement *sink = trickle_test_get (p, "sink");
  GstBus *bus = gst_element_get_bus (p);
  GstSample *sample;
  GstMessage *msg;
  GError *err = NULL;

  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 30 * GST_SECOND);
  fail_unless (sample != NULL);
  fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer
          (sample)), 100);
  gst_sample_unref (sample);
  fail_unless (gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
          30 * GST_SECOND) == NULL);
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning");
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE), "%s", err->message);
  fail_unless (strstr (err->message, "max-segment-size") != NULL);
  g_error_free (err);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_object_unref (sink);
  trickle_test_stop_pipeline (p);
  g_free (desc);
  trickle_test_scripted_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* redirects */

typedef struct
{
  guint to_port;
  gint api_key_seen;            /* on the other origin */
} Redirect;

static gchar *
redirect_all (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  Redirect *r = data;
  gchar *h, *a;

  if (g_str_has_suffix (path, "/next"))
    return answer (200, "Lp-Trickle-Latest: 0\r\n", "0");
  if (g_str_equal (method, "POST") && !strchr (path + 1, '/'))
    return answer (200, NULL, NULL);    /* the channel's creation */
  h = g_strdup_printf ("Location: http://127.0.0.1:%u%s\r\n", r->to_port, path);
  a = answer (g_str_equal (method, "POST") ? 307 : 302, h, NULL);
  g_free (h);
  return a;
}

/* asks for credentials: a client that gives them (or the API key) to this
 * origin is caught */
static gchar *
other_origin (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  Redirect *r = data;

  if (soup_message_headers_get_one (headers, "X-Api-Key")
      || soup_message_headers_get_one (headers, "Authorization"))
    g_atomic_int_inc (&r->api_key_seen);
  return answer (401, "WWW-Authenticate: Basic realm=\"other\"\r\n", NULL);
}

/* A 3xx to a segment's POST counted as published (nothing reached any
 * server); a redirected GET took the extra headers (an API key) to
 * another host. Now: the POST is an error and is not re-sent anywhere; a
 * GET may follow, without them */
GST_START_TEST (test_redirects)
{
  Redirect r = { 0, 0 };
  TrickleTestScripted *other = trickle_test_scripted_new (other_origin, &r);
  TrickleTestScripted *s;
  gchar *desc;

  r.to_port = trickle_test_scripted_get_port (other);
  s = trickle_test_scripted_new (redirect_all, &r);

  desc = g_strdup_printf (RAW " ! tricklesink "
      "location=http://127.0.0.1:%u/ch retries=0 "
      "extra-headers=\"h,x-api-key=secret\"", trickle_test_scripted_get_port
      (s));
  assert_error (trickle_test_run_pipeline (desc), GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_WRITE, "redirect");
  fail_unless (trickle_test_scripted_count (s, "POST /ch/0") >= 1);
  fail_unless_equals_int (trickle_test_scripted_count (other, NULL), 0);
  g_free (desc);

  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/ch "
      "start-seq=0 retries=0 extra-headers=\"h,x-api-key=secret\" "
      "user-id=u user-pw=p ! fakesink", trickle_test_scripted_get_port (s));
  /* followed, then refused there: the credentials were not given */
  assert_error (trickle_test_run_pipeline (desc), GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_AUTHORIZED, NULL);
  fail_unless (trickle_test_scripted_count (other, "GET /ch/0") >= 1);
  fail_unless_equals_int (g_atomic_int_get (&r.api_key_seen), 0);
  g_free (desc);

  trickle_test_scripted_free (s);
  trickle_test_scripted_free (other);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* a server that never answers */

static gchar *
never_answers (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  return NULL;
}

/* tricklesink waiting for /next (timeout 60 s, so that a wait that is not
 * interrupted would outlast the bound below) stops at once */
GST_START_TEST (test_sink_stops_while_server_silent)
{
  TrickleTestScripted *s = trickle_test_scripted_new (never_answers, NULL);
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1 ! "
      "tricklesink location=http://127.0.0.1:%u/ch timeout=60",
      trickle_test_scripted_get_port (s));
  GstElement *p = trickle_test_start_pipeline (desc);
  gint64 t0;
  guint i;

  for (i = 0; i < 3000 && trickle_test_scripted_count (s, "GET /ch/next")
      == 0; i++)
    g_usleep (10000);
  fail_unless (trickle_test_scripted_count (s, "GET /ch/next") == 1);
  t0 = g_get_monotonic_time ();
  fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  /* milliseconds when interrupted; 60 s or more when not (the bound is
   * generous for a loaded machine) */
  fail_unless (g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC);
  gst_object_unref (p);
  g_free (desc);
  trickle_test_scripted_free (s);
}

GST_END_TEST;

/* ... and an EOS (what `gst-launch-1.0 -e` sends on Ctrl-C) ends a live
 * stream once /next has waited 3 s unanswered, with a warning that
 * nothing was published: the start runs in a thread of its own, so the
 * EOS is not held behind it. Before: it waited for the start to fail, `timeout` (60 s
 * here) or more. The bound, 20 s, is generous for a loaded machine and far
 * below the timeout. */
GST_START_TEST (test_sink_eos_while_server_silent)
{
  TrickleTestScripted *s = trickle_test_scripted_new (never_answers, NULL);
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1 ! "
      "tricklesink location=http://127.0.0.1:%u/ch timeout=60",
      trickle_test_scripted_get_port (s));
  GstElement *p = trickle_test_start_pipeline (desc);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;
  gboolean warned = FALSE;
  gint64 t0;
  guint i;

  for (i = 0; i < 3000 && trickle_test_scripted_count (s, "GET /ch/next")
      == 0; i++)
    g_usleep (10000);
  fail_unless (trickle_test_scripted_count (s, "GET /ch/next") == 1);
  t0 = g_get_monotonic_time ();
  gst_element_send_event (p, gst_event_new_eos ());
  while ((msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    GstMessageType t = GST_MESSAGE_TYPE (msg);

    if (t == GST_MESSAGE_WARNING) {
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      warned |= strstr (err->message, "Nothing was published") != NULL;
      g_error_free (err);
    }
    gst_message_unref (msg);
    if (t != GST_MESSAGE_WARNING) {
      fail_unless (t == GST_MESSAGE_EOS, "an error instead of EOS");
      break;
    }
  }
  fail_unless (msg != NULL, "no EOS");
  fail_unless (warned, "no warning that nothing was published");
  fail_unless (g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC);
  /* one attempt: not retried */
  fail_unless_equals_int (trickle_test_scripted_count (s, "GET /ch/next"), 1);
  gst_object_unref (bus);
  trickle_test_stop_pipeline (p);
  g_free (desc);
  trickle_test_scripted_free (s);
}

GST_END_TEST;

/* a server whose /next waits until the test releases it; segments and the
 * channel's DELETE are taken */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean released;
  gint segments;                /* POSTs of seqs read whole */
} HeldNext;

static gchar *
held_next (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  HeldNext *h = data;

  if (g_str_has_suffix (path, "/next")) {
    g_mutex_lock (&h->lock);
    while (!h->released)
      g_cond_wait (&h->cond, &h->lock);
    g_mutex_unlock (&h->lock);
    return answer (200, "Lp-Trickle-Latest: 0\r\n", "0");
  }
  if (g_str_equal (method, "POST") && g_str_has_prefix (path, "/ch/"))
    g_atomic_int_inc (&h->segments);
  return answer (200, NULL, NULL);
}

static void
held_next_release (HeldNext * h)
{
  g_mutex_lock (&h->lock);
  h->released = TRUE;
  g_cond_broadcast (&h->cond);
  g_mutex_unlock (&h->lock);
}

static void
wait_requests (TrickleTestScripted * s, const gchar * prefix, guint n)
{
  guint i;

  /* 60 s: generous for a loaded machine; a pass takes milliseconds */
  for (i = 0; i < 6000 && trickle_test_scripted_count (s, prefix) < n; i++)
    g_usleep (10000);
  fail_unless (trickle_test_scripted_count (s, prefix) >= n,
      "%u of %u \"%s\"", trickle_test_scripted_count (s, prefix), n, prefix);
}

static void
wait_segments (HeldNext * h, gint n)
{
  guint i;

  /* as above */
  for (i = 0; i < 6000 && g_atomic_int_get (&h->segments) < n; i++)
    g_usleep (10000);
  fail_unless (g_atomic_int_get (&h->segments) >= n, "%d of %d segments",
      g_atomic_int_get (&h->segments), n);
}

static void
expect_eos (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  fail_unless (msg != NULL, "no EOS");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    assert_error (msg, 0, 0, NULL);     /* fails, naming the error */
  gst_message_unref (msg);
  gst_object_unref (bus);
}

/* A pause while the start waits for the server does not end the stream:
 * once the server answers and the pipeline plays again, segments go out
 * and the EOS ends it cleanly. (A first threaded start let the pause's
 * unlock() interrupt the start: nothing was ever published, and no error
 * said so.) */
GST_START_TEST (test_sink_paused_during_start)
{
  HeldNext h = { 0 };
  TrickleTestScripted *s = trickle_test_scripted_new (held_next, &h);
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1 ! "
      "tricklesink location=http://127.0.0.1:%u/ch",
      trickle_test_scripted_get_port (s));
  GstElement *p = trickle_test_start_pipeline (desc);

  wait_requests (s, "GET /ch/next", 1);
  /* a live pipeline pauses without prerolling */
  fail_if (gst_element_set_state (p, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  fail_if (gst_element_get_state (p, NULL, NULL, GST_CLOCK_TIME_NONE) ==
      GST_STATE_CHANGE_FAILURE);
  held_next_release (&h);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  /* frames are segments of their own: 10 of them were published */
  wait_segments (&h, 10);
  gst_element_send_event (p, gst_event_new_eos ());
  expect_eos (p);
  fail_unless_equals_int (trickle_test_scripted_count (s, "GET /ch/next"), 1);
  trickle_test_stop_pipeline (p);
  g_free (desc);
  trickle_test_scripted_free (s);
}

GST_END_TEST;

/* A start that fails is reported as soon as it fails, even while the
 * pipeline only prerolls (the start runs in a thread of its own: its
 * error must not wait for the first buffer rendered in PLAYING) */
GST_START_TEST (test_sink_start_error_while_paused)
{
  gchar *desc = g_strdup_printf ("videotestsrc ! "
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1 ! "
      "tricklesink location=http://127.0.0.1:%u/ch retries=0",
      trickle_test_free_port ());
  GstElement *p = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (p);

  fail_if (gst_element_set_state (p, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  /* 60 s: generous for a loaded machine; a refused connection is
   * reported in milliseconds */
  assert_error (gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
          GST_MESSAGE_ERROR), GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_WRITE, NULL);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (desc);
}

GST_END_TEST;

static GstPadProbeReturn
eos_seen (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    held_next_release (data);
  return GST_PAD_PROBE_OK;
}

/* The end of a source that is not live (a file) waits for the start: the
 * server answers only once the EOS reached tricklesink, and all 5 frames
 * are published. */
GST_START_TEST (test_sink_file_eos_waits_for_start)
{
  HeldNext h = { 0 };
  TrickleTestScripted *s = trickle_test_scripted_new (held_next, &h);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=5 ! "
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1 ! "
      "tricklesink name=sink location=http://127.0.0.1:%u/ch",
      trickle_test_scripted_get_port (s));
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, eos_seen, &h,
      NULL);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  expect_eos (p);
  /* seqs 0 to 4, each a whole POST (and the preconnected 6th, ended
   * empty) */
  fail_unless (g_atomic_int_get (&h.segments) >= 5, "%d segments",
      g_atomic_int_get (&h.segments));
  fail_unless_equals_int (trickle_test_scripted_count (s, "POST /ch/4"), 1);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (p);
  g_free (desc);
  trickle_test_scripted_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* delete-on-eos */

/* the first DELETE's connection closes without an answer (what a kept-alive
 * connection closed by the server or a proxy looks like); @data: the
 * status of every later one */
static gchar *
delete_dropped_once (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  if (g_str_equal (method, "DELETE"))
    return n == 0 ? g_strdup ("") : answer (GPOINTER_TO_UINT (data), NULL,
        NULL);
  return answer (200, NULL, NULL);
}

/* The DELETE of delete-on-eos is checked: one that never reached the
 * server is made once more, and one the server refuses is an error at EOS.
 * Before, its result was dropped: the channel could stay behind with no
 * word of it */
GST_START_TEST (test_sink_delete_checked)
{
  TrickleTestScripted *s = trickle_test_scripted_new (delete_dropped_once,
      GUINT_TO_POINTER (200));

  fail_unless (run_against (s, SINK_LINE) == NULL);
  fail_unless_equals_int (trickle_test_scripted_count (s, "DELETE /ch"), 2);
  trickle_test_scripted_free (s);

  s = trickle_test_scripted_new (delete_dropped_once, GUINT_TO_POINTER (403));
  assert_error (run_against (s, SINK_LINE), GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_AUTHORIZED, "DELETE");
  fail_unless_equals_int (trickle_test_scripted_count (s, "DELETE /ch"), 2);
  trickle_test_scripted_free (s);

  /* 404: the channel is gone already, which is what was asked */
  s = trickle_test_scripted_new (delete_dropped_once, GUINT_TO_POINTER (404));
  fail_unless (run_against (s, SINK_LINE) == NULL);
  trickle_test_scripted_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* a server that asks to wait (429 or 503 with Retry-After, as
 * max-connections-per-client and max-channel-request-rate answer) */

static gchar *
throttles_twice (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  if (g_str_equal (path, "/ch/0")) {
    if (n < 2) {
      gchar *h = g_strdup_printf ("Retry-After: %s\r\n",
          n == 0 ? "1" : " 1");
      gchar *a = answer (GPOINTER_TO_UINT (data), h, NULL);

      g_free (h);
      return a;
    }
    return answer (200, "Lp-Trickle-Seq: 0\r\n"
        "Content-Type: video/mp2t\r\n", "0123456789");
  }
  return answer (200, "Lp-Trickle-Closed: terminated\r\n", NULL);
}

/* tricklesrc waits as asked and goes on; the answers do not use up its
 * `retries` (1 here: two refusals would have ended it before) */
GST_START_TEST (test_src_honours_retry_after)
{
  guint statuses[] = { 429, 503 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (statuses); i++) {
    TrickleTestScripted *s = trickle_test_scripted_new (throttles_twice,
        GUINT_TO_POINTER (statuses[i]));
    gchar *desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
        "ch start-seq=0 retries=1 ! fakesink",
        trickle_test_scripted_get_port (s));
    GstMessage *msg = trickle_test_run_pipeline (desc);

    fail_unless (msg == NULL, "status %u: an error", statuses[i]);
    fail_unless_equals_int (trickle_test_scripted_count (s, "GET /ch/0"), 3);
    g_free (desc);
    trickle_test_scripted_free (s);
  }
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* a proxy whose server is down */

typedef struct
{
  gint posts;                   /* atomic */
  gint refuse;                  /* the first ones answered 502 */
} ProxyDown;

static gchar *
proxy_down (const gchar * method, const gchar * path,
    SoupMessageHeaders * headers, guint n, gpointer data)
{
  ProxyDown *pd = data;

  if (g_str_equal (method, "POST") && g_atomic_int_add (&pd->posts, 1) <
      pd->refuse)
    return answer (502, NULL, "<html>502 Bad Gateway</html>");
  return answer (200, NULL, NULL);
}

/* A 502 (or 503, 504) to a segment's POST is what nginx answers while
 * the server behind it is down: the segment is lost (a warning) and the
 * next one tried after a delay, `retries` times in a row at most. Before,
 * the first one was an error and the pipeline stopped */
GST_START_TEST (test_sink_proxy_server_down)
{
  ProxyDown pd = { 0, 2 };
  TrickleTestScripted *s = trickle_test_scripted_new (proxy_down, &pd);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=6 ! "
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1 ! "
      "tricklesink location=http://127.0.0.1:%u/ch retries=3 "
      "retry-delay=0.01", trickle_test_scripted_get_port (s));

  fail_unless (trickle_test_run_pipeline (desc) == NULL);
  /* the two refused, then every segment */
  fail_unless (g_atomic_int_get (&pd.posts) >= 2 + 4, "%d POSTs",
      g_atomic_int_get (&pd.posts));
  trickle_test_scripted_free (s);

  /* down for good: an error once the retries are spent */
  pd.posts = 0;
  pd.refuse = G_MAXINT;
  s = trickle_test_scripted_new (proxy_down, &pd);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=30 ! "
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1 ! "
      "tricklesink location=http://127.0.0.1:%u/ch retries=2 "
      "retry-delay=0.01", trickle_test_scripted_get_port (s));
  assert_error (trickle_test_run_pipeline (desc), GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_WRITE, "HTTP 502 (after 2 retries)");
  g_free (desc);
  trickle_test_scripted_free (s);
}

GST_END_TEST;

static Suite *
hostile_suite (void)
{
  Suite *s = suite_create ("hostile");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_sink_bad_latest);
  tcase_add_test (tc, test_src_bad_seq);
  tcase_add_test (tc, test_src_unusable_caps);
  tcase_add_test (tc, test_src_content_type_churn);
  tcase_add_test (tc, test_src_backoff_470_loop);
  tcase_add_test (tc, test_src_backoff_broken_bodies);
  tcase_add_test (tc, test_src_max_segment_size);
  tcase_add_test (tc, test_redirects);
  tcase_add_test (tc, test_sink_stops_while_server_silent);
  tcase_add_test (tc, test_sink_eos_while_server_silent);
  tcase_add_test (tc, test_sink_paused_during_start);
  tcase_add_test (tc, test_sink_file_eos_waits_for_start);
  tcase_add_test (tc, test_sink_start_error_while_paused);
  tcase_add_test (tc, test_sink_delete_checked);
  tcase_add_test (tc, test_src_honours_retry_after);
  tcase_add_test (tc, test_sink_proxy_server_down);
  return s;
}

GST_CHECK_MAIN (hostile);
