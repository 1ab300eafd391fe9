/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End-to-end latency of a trickle worker chain, frame by frame:
 *
 *   publisher:  videotestsrc (720p30, live) [! x264enc ! mpegtsmux] ! tricklesink -> video-in
 *   worker:     trickleserver srv.src_video-in [! decode] ! videoflip [! encode] ! srv.sink_video-out
 *   subscriber: video-out -> tricklesrc [! decode] ! appsink
 *
 * with 1-frame segments (raw: one frame per segment; H.264: every frame a
 * keyframe, so one frame per segment). Timestamps (monotonic clock, one
 * process) are taken by pad probes at points that see one buffer per frame:
 *   raw:  A tricklesink's sink pad, B srv.src_video-in, C srv.sink_video-out,
 *         D the subscriber's appsink;
 *   H.264: A the publisher's encoder output (so A->B includes muxing and
 *         demuxing), B the worker's tsdemux output, C the worker's encoder
 *         output (B->C: decode, flip, encode), D the subscriber's appsink
 *         (C->D includes muxing, demuxing and decoding).
 * Hops: publish = B-A, filter = C-B, subscribe = D-C, total = D-A.
 *
 * The baseline is the same elements with the trickle hops replaced by
 * direct links, in one pipeline, timed from the same point A' (where
 * tricklesink would be) to D'. transport share = total - baseline.
 *
 * Frames are matched by order (none is lost on loopback at 30 fps; the
 * program checks the counts).
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_FRAMES 4096

typedef struct
{
  gint64 t[MAX_FRAMES];
  guint n;
  GMutex lock;
} Stamps;

static GstPadProbeReturn
stamp (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Stamps *s = data;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&s->lock);
  if (s->n < MAX_FRAMES)
    s->t[s->n++] = now;
  g_mutex_unlock (&s->lock);
  return GST_PAD_PROBE_OK;
}

static void
demux_pad_added (GstElement * demux, GstPad * pad, Stamps * s)
{
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, stamp, s, NULL);
}

static void
probe (GstElement * pipeline, const gchar * element, const gchar * pad,
    Stamps * s)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  GstPad *p;

  if (!e) {
    g_printerr ("no element %s\n", element);
    exit (1);
  }
  p = gst_element_get_static_pad (e, pad);
  if (!p) {
    g_printerr ("no pad %s.%s\n", element, pad);
    exit (1);
  }
  gst_pad_add_probe (p, GST_PAD_PROBE_TYPE_BUFFER, stamp, s, NULL);
  gst_object_unref (p);
  gst_object_unref (e);
}

static int
cmp (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* percentiles of to[i] - from[i] over frames skip..n-1, in ms */
static const gchar *chain_name;

static void
hop (const gchar * name, Stamps * from, Stamps * to, guint skip, guint n,
    gdouble * p50_out)
{
  gint64 *d = g_new (gint64, n);
  guint i, m = 0;

  for (i = skip; i < n; i++)
    d[m++] = to->t[i] - from->t[i];
  qsort (d, m, sizeof (gint64), cmp);
  printf ("  %-28s p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms\n", name,
      d[m / 2] / 1000.0, d[m * 95 / 100] / 1000.0, d[m * 99 / 100] / 1000.0);
  /* for latency.sh's table */
  printf ("ROW|%s|%s|%.3f|%.3f|%.3f\n", chain_name, name, d[m / 2] / 1000.0,
      d[m * 95 / 100] / 1000.0, d[m * 99 / 100] / 1000.0);
  if (p50_out)
    *p50_out = d[m / 2] / 1000.0;
  g_free (d);
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
wait_eos (GstElement * p, guint seconds)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, seconds * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  if (!m || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;
    if (m)
      gst_message_parse_error (m, &err, &dbg);
    g_printerr ("pipeline %s: %s (%s)\n", GST_ELEMENT_NAME (p),
        err ? err->message : "timed out", dbg ? dbg : "");
    exit (1);
  }
  gst_message_unref (m);
  gst_object_unref (bus);
}

#define SRC "videotestsrc is-live=true pattern=%s num-buffers=%u ! " \
  "video/x-raw,format=I420,width=%u,height=%u,framerate=30/1"
/* the parser told that tsdemux's buffers are whole frames (alignment=au):
 * otherwise it holds each until the next begins */
#define DEC "tsdemux ! capssetter caps=video/x-h264,alignment=au ! " \
  "h264parse ! avdec_h264"
#define FILTER "videoflip video-direction=horiz"

/* @kbps: 0 raw I420, else H.264 at that bitrate (big frames: over 64 KiB,
 * whose PES mpegtsmux leaves without a length) */
static void
run (guint kbps, guint frames, guint skip)
{
  Stamps a = { {0} }, b = { {0} }, c = { {0} }, d = { {0} };
  Stamps a2 = { {0} }, d2 = { {0} };
  GstElement *chain, *pub, *sub, *direct, *srv;
  gdouble total = 0, base = 0;
  guint port = 0, i, n;
  gboolean h264 = kbps > 0, big = kbps > 15000;
  const gchar *pattern = big ? "snow" : "ball";
  /* (noise at 720p is more than this machine encodes and decodes twice in
   * real time: 640x360 for the big frames) */
  guint w = big ? 640 : 1280, h = big ? 360 : 720;
  gchar *desc, *x264 = g_strdup_printf ("x264enc tune=zerolatency "
      "speed-preset=ultrafast key-int-max=1 bitrate=%u", kbps);

  chain_name = !h264 ? "raw I420 720p (1.38 MB frames)" : big ?
      "H.264 360p noise, frames over 64 KiB" : "H.264 720p";
  printf ("\n%s, %ux%u@30, %u kbit/s, 1 frame per segment, %u frames "
      "(first %u skipped)\n", chain_name, w, h, kbps, frames, skip);

  desc = h264 ? g_strdup_printf ("trickleserver name=srv port=0 window=8 "
      "srv.src_video-in ! tsdemux name=wdemux ! capssetter "
      "caps=video/x-h264,alignment=au ! h264parse ! avdec_h264 ! "
      "videoconvert ! " FILTER " ! %s name=wenc ! mpegtsmux ! "
      "srv.sink_video-out", x264) :
      g_strdup ("trickleserver name=srv port=0 window=8 srv.src_video-in ! "
      FILTER " ! srv.sink_video-out");
  chain = launch (desc);
  g_free (desc);
  srv = gst_bin_get_by_name (GST_BIN (chain), "srv");
  gst_element_set_state (chain, GST_STATE_PLAYING);
  for (i = 0; i < 500 && port == 0; i++) {
    g_object_get (srv, "current-port", &port, NULL);
    g_usleep (10000);
  }
  if (h264) {
    GstElement *demux = gst_bin_get_by_name (GST_BIN (chain), "wdemux");
    /* tsdemux's pad comes with the stream */
    g_signal_connect (demux, "pad-added", G_CALLBACK (demux_pad_added), &b);
    gst_object_unref (demux);
    probe (chain, "wenc", "src", &c);
  } else {
    GstPad *p = gst_element_get_static_pad (srv, "src_video-in");
    gst_pad_add_probe (p, GST_PAD_PROBE_TYPE_BUFFER, stamp, &b, NULL);
    gst_object_unref (p);
    p = gst_element_get_static_pad (srv, "sink_video-out");
    gst_pad_add_probe (p, GST_PAD_PROBE_TYPE_BUFFER, stamp, &c, NULL);
    gst_object_unref (p);
  }
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/video-out "
      "! %s ! appsink name=out sync=false emit-signals=false max-buffers=1 "
      "drop=true wait-on-eos=false", port, h264 ? DEC : "queue");
  sub = launch (desc);
  g_free (desc);
  probe (sub, "out", "sink", &d);
  gst_element_set_state (sub, GST_STATE_PLAYING);
  g_usleep (300000);
  desc = g_strdup_printf (SRC " ! %s%s ! tricklesink name=ts location="
      "http://127.0.0.1:%u/video-in", pattern, frames, w, h,
      h264 ? x264 : "queue", h264 ? " name=penc ! mpegtsmux" : "", port);
  pub = launch (desc);
  g_free (desc);
  probe (pub, h264 ? "penc" : "ts", h264 ? "src" : "sink", &a);
  gst_element_set_state (pub, GST_STATE_PLAYING);
  wait_eos (pub, frames / 30 + 30);
  g_usleep (500000);
  gst_element_set_state (pub, GST_STATE_NULL);
  gst_element_set_state (sub, GST_STATE_NULL);
  gst_element_set_state (chain, GST_STATE_NULL);

  /* the last frame or two of an MPEG-TS stream may stay in a demuxer (a
   * stream's first frames end no segment early): matched up to what all
   * saw */
  n = MIN (MIN (a.n, b.n), MIN (c.n, d.n));
  if (a.n < frames || n + 3 < a.n || n <= skip) {
    printf ("  frames lost: published %u, worker in %u, out %u, received "
        "%u: no per-frame matching\n", a.n, b.n, c.n, d.n);
  } else {
    hop ("publish (A->B)", &a, &b, skip, n, NULL);
    hop (h264 ? "filter (B->C): decode, flip, encode" : "filter (B->C)", &b,
        &c, skip, n, NULL);
    hop (h264 ? "subscribe+decode (C->D)" : "subscribe (C->D)", &c, &d, skip,
        n, NULL);
    hop ("total (A->D)", &a, &d, skip, n, &total);
  }

  /* the baseline: the same elements, direct links (with the demuxers'
   * hold where they have one: nothing ends a frame for them but the next) */
  desc = h264 ? g_strdup_printf (SRC " ! %s ! identity name=a ! mpegtsmux ! "
      DEC " ! videoconvert ! " FILTER " ! %s ! mpegtsmux ! " DEC " ! appsink "
      "name=out sync=false max-buffers=1 drop=true wait-on-eos=false",
      pattern, frames, w, h, x264, x264) : g_strdup_printf (SRC " ! queue ! "
      "identity name=a ! queue ! " FILTER " ! queue ! appsink name=out "
      "sync=false max-buffers=1 drop=true wait-on-eos=false", pattern, frames,
      w, h);
  direct = launch (desc);
  g_free (desc);
  probe (direct, "a", "sink", &a2);
  probe (direct, "out", "sink", &d2);
  gst_element_set_state (direct, GST_STATE_PLAYING);
  wait_eos (direct, frames / 30 + 30);
  gst_element_set_state (direct, GST_STATE_NULL);
  n = MIN (a2.n, d2.n);
  if (n + 3 >= a2.n && n > skip) {
    hop ("baseline, direct links", &a2, &d2, skip, n, &base);
    printf ("  transport share (p50 total - p50 baseline): %.2f ms\n",
        total - base);
  }
  g_free (x264);
  gst_object_unref (srv);
  gst_object_unref (chain);
  gst_object_unref (sub);
  gst_object_unref (pub);
  gst_object_unref (direct);
}

int
main (int argc, char **argv)
{
  guint frames = argc > 1 ? atoi (argv[1]) : 300;

  gst_init (&argc, &argv);
  printf ("gst-trickle end-to-end latency (one process, loopback, "
      "monotonic clock)\n");
  run (0, frames, 30);
  run (2048, frames, 30);
  run (30000, frames, 30);
  return 0;
}
