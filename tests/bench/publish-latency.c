/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Live publish latency of tricklesink with sync=true (the default since
 * issue 10) and sync=false: a live source must not be held back by the
 * sync default (a synced sink would wait for each buffer's running time +
 * the pipeline latency).
 *
 *   publisher:  videotestsrc is-live (320x240@30) [! x264enc zerolatency
 *               key-int-max=1 ! mpegtsmux] ! tricklesink sync=X
 *   server:     trickleserver (in this process)
 *   subscriber: tricklesrc ! appsink
 *
 * One frame per segment. A = the frame reaches tricklesink's sink pad
 * (raw) or leaves the encoder (H.264), before any wait of the sink;
 * B = the subscriber's appsink gets the frame (raw) or the first buffer of
 * its segment (MPEG-TS: the buffer without DELTA_UNIT). Monotonic clock,
 * one process. Frames are matched by order (none is lost on loopback).
 *
 *   publish-latency [frames per run, 150] [runs per configuration, 5]
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_FRAMES 4096

typedef struct
{
  gint64 t[MAX_FRAMES];
  guint n;
  gboolean key_only;
  GMutex lock;
} Stamps;

static GstPadProbeReturn
stamp (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Stamps *s = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 now = g_get_monotonic_time ();

  if (s->key_only && GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&s->lock);
  if (s->n < MAX_FRAMES)
    s->t[s->n++] = now;
  g_mutex_unlock (&s->lock);
  return GST_PAD_PROBE_OK;
}

static GstElement *
launch (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);

  if (!p) {
    g_printerr ("%s: %s\n", desc, err->message);
    exit (1);
  }
  return p;
}

static void
probe (GstElement * pipeline, const gchar * element, const gchar * pad,
    Stamps * s)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  GstPad *p = gst_element_get_static_pad (e, pad);

  gst_pad_add_probe (p, GST_PAD_PROBE_TYPE_BUFFER, stamp, s, NULL);
  gst_object_unref (p);
  gst_object_unref (e);
}

static int
cmp (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

/* one run: the median and p95 of B - A (ms) over frames 30.. */
static gboolean
run (guint port, gboolean h264, gboolean sync, guint frames, gdouble * p50,
    gdouble * p95, gdouble * latency_ms)
{
  static guint count;
  Stamps *a = g_new0 (Stamps, 1), *b = g_new0 (Stamps, 1);
  GstElement *pub, *sub;
  GstMessage *m;
  GstBus *bus;
  GstQuery *q;
  gchar *desc, *ch = g_strdup_printf ("bench%u", count++);
  gdouble *d;
  guint i, n, skip = 30;

  b->key_only = h264;
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/%s "
      "start-seq=0 ! " "appsink name=out sync=false", port, ch);
  sub = launch (desc);
  g_free (desc);
  probe (sub, "out", "sink", b);
  gst_element_set_state (sub, GST_STATE_PLAYING);
  g_usleep (300000);
  desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=%u ! "
      "video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! %s "
      "tricklesink name=ts location=http://127.0.0.1:%u/%s sync=%s", frames,
      h264 ? "x264enc name=enc tune=zerolatency speed-preset=ultrafast "
      "key-int-max=1 ! mpegtsmux !" : "", port, ch, sync ? "true" : "false");
  pub = launch (desc);
  g_free (desc);
  probe (pub, h264 ? "enc" : "ts", h264 ? "src" : "sink", a);
  gst_element_set_state (pub, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pub);
  m = gst_bus_timed_pop_filtered (bus, (frames / 30 + 30) * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (!m || GST_MESSAGE_TYPE (m) != GST_MESSAGE_EOS) {
    g_printerr ("publisher: %s\n", m ? "error" : "timed out");
    exit (1);
  }
  gst_message_unref (m);
  q = gst_query_new_latency ();
  *latency_ms = -1;
  if (gst_element_query (pub, q)) {
    GstClockTime min;
    gst_query_parse_latency (q, NULL, &min, NULL);
    *latency_ms = min / 1e6;
  }
  gst_query_unref (q);
  gst_object_unref (bus);
  g_usleep (500000);
  gst_element_set_state (pub, GST_STATE_NULL);
  gst_element_set_state (sub, GST_STATE_NULL);
  gst_object_unref (pub);
  gst_object_unref (sub);
  g_free (ch);

  n = MIN (a->n, b->n);
  if (a->n < frames || n + 2 < a->n || n <= skip) {
    printf ("  frames lost (published %u, received %u): run ignored\n", a->n,
        b->n);
    g_free (a);
    g_free (b);
    return FALSE;
  }
  d = g_new (gdouble, n);
  for (i = skip; i < n; i++)
    d[i - skip] = (b->t[i] - a->t[i]) / 1000.0;
  qsort (d, n - skip, sizeof (gdouble), cmp);
  *p50 = d[(n - skip) / 2];
  *p95 = d[(n - skip) * 95 / 100];
  g_free (d);
  g_free (a);
  g_free (b);
  return TRUE;
}

int
main (int argc, char **argv)
{
  guint frames = argc > 1 ? atoi (argv[1]) : 150;
  guint runs = argc > 2 ? atoi (argv[2]) : 5;
  GstElement *srv;
  GstElement *server;
  guint port = 0, i, c, r;

  gst_init (&argc, &argv);
  /* a pipeline of one element is that element */
  server = launch ("trickleserver name=srv port=0 window=16");
  srv = gst_object_ref (server);
  gst_element_set_state (server, GST_STATE_PLAYING);
  for (i = 0; i < 500 && port == 0; i++) {
    g_object_get (srv, "current-port", &port, NULL);
    g_usleep (10000);
  }
  printf ("tricklesink live publish latency (A: frame at the sink or out of "
      "the encoder, B: at the subscriber), %u frames per run (first 30 "
      "skipped), %u runs per configuration, %u CPUs\n", frames, runs,
      g_get_num_processors ());
  /* configurations interleaved run by run: they share the machine's
   * noise */
  {
    const gboolean h264[] = { FALSE, FALSE, TRUE, TRUE };
    const gboolean sync[] = { FALSE, TRUE, FALSE, TRUE };
    gdouble p50[4][64], p95[4][64], lat[4] = { 0 };
    guint ok[4] = { 0 };

    for (r = 0; r < runs && r < 64; r++)
      for (c = 0; c < 4; c++)
        if (run (port, h264[c], sync[c], frames, &p50[c][ok[c]],
                &p95[c][ok[c]], &lat[c]))
          ok[c]++;
    for (c = 0; c < 4; c++) {
      gdouble m50, m95;
      if (!ok[c])
        continue;
      qsort (p50[c], ok[c], sizeof (gdouble), cmp);
      qsort (p95[c], ok[c], sizeof (gdouble), cmp);
      m50 = p50[c][ok[c] / 2];
      m95 = p95[c][ok[c] / 2];
      printf ("  %-32s sync=%-5s median of p50 %7.2f ms, of p95 %7.2f ms "
          "(%u runs; pipeline latency %.1f ms)\n", h264[c] ?
          "H.264 zerolatency in MPEG-TS" : "raw I420 320x240",
          sync[c] ? "true" : "false", m50, m95, ok[c], lat[c]);
    }
  }
  gst_element_set_state (server, GST_STATE_NULL);
  gst_object_unref (srv);
  gst_object_unref (server);
  return 0;
}
