/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a segment boundary costs a subscriber: 1-frame segments at 60 fps
 * (8 KiB each, a 720p H.264 frame's size) from a GstTricklePublisher, through the
 * server, to a GstTrickleSubscriber, all in this process (one monotonic
 * clock, loopback). For each boundary N|N+1:
 *   pub gap = the publisher starts writing N+1 - it ended N (end_segment
 *             returned: the last chunk is on the socket)
 *   sub gap = the subscriber's first bytes of N+1 - the end of N
 *   cost    = sub gap - pub gap: what the boundary adds at the subscriber
 * plus the delivery time of each segment's end (sub end - pub end).
 *
 * plus the delivery time of each whole segment (sub end - pub start).
 *
 *   boundary [segments, default 600] [bytes, default 8192] [fps, default 60]
 *
 * `boundary 300 1382400 30` is the raw 720p I420 case (one hop of the
 * latency bench's raw chain, with no GStreamer element around it).
 */
#include <gst/gst.h>
#include <gst/trickle/trickle.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_SEGS 10000

static gint64 pub_first[MAX_SEGS], pub_end[MAX_SEGS];
static gint64 sub_first[MAX_SEGS], sub_end[MAX_SEGS];

static int
cmp (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static void
report (const gchar * name, gint64 * v, guint n)
{
  qsort (v, n, sizeof (gint64), cmp);
  printf ("  %-34s p50 %8.1f us  p99 %8.1f us  max %8.1f us  (%u)\n", name,
      (gdouble) v[n / 2], (gdouble) v[n * 99 / 100], (gdouble) v[n - 1], n);
}

static gpointer
subscribe (gpointer data)
{
  GstTrickleSubscriber *sub = data;

  for (;;) {
    GstTrickleSubscriberEvent ev;
    GError *err = NULL;
    gint64 now;

    if (!gst_trickle_subscriber_next_event (sub, &ev, &err)) {
      g_clear_error (&err);
      return NULL;
    }
    now = g_get_monotonic_time ();
    if (ev.seq >= 0 && ev.seq < MAX_SEGS) {
      if (ev.type == GST_TRICKLE_SUBSCRIBER_DATA && sub_first[ev.seq] == 0)
        sub_first[ev.seq] = now;
      else if (ev.type == GST_TRICKLE_SUBSCRIBER_SEGMENT_END)
        sub_end[ev.seq] = now;
    }
    if (ev.type == GST_TRICKLE_SUBSCRIBER_EOS) {
      gst_trickle_subscriber_event_clear (&ev);
      return NULL;
    }
    gst_trickle_subscriber_event_clear (&ev);
  }
}

int
main (int argc, char **argv)
{
  guint segs = argc > 1 ? MIN (atoi (argv[1]), MAX_SEGS) : 600, i, n = 0;
  guint frame_bytes = argc > 2 ? MAX (atoi (argv[2]), 1) : 8192;
  guint fps = argc > 3 ? CLAMP (atoi (argv[3]), 1, 1000) : 60;
  GstTrickleChannelStore *store;
  GstTrickleHttpServer *server;
  GstTricklePublisher *pub;
  GstTrickleSubscriber *sub;
  GError *err = NULL;
  guint8 *frame = g_malloc0 (frame_bytes);
  gint64 *cost = g_new (gint64, segs), *gap = g_new (gint64, segs);
  gint64 *delivery = g_new (gint64, segs), t;
  gint64 *whole = g_new (gint64, segs);
  GThread *thread;
  gchar *url;

  gst_init (&argc, &argv);
  store = gst_trickle_channel_store_new ();
  server = gst_trickle_http_server_new (store);
  g_object_set (server, "address", "127.0.0.1", "port", 0, NULL);
  if (!gst_trickle_http_server_start (server, &err)) {
    g_printerr ("server: %s\n", err->message);
    return 1;
  }
  url = g_strdup_printf ("http://127.0.0.1:%u/b",
      gst_trickle_http_server_get_bound_port (server));
  pub = gst_trickle_publisher_new (url, "video/mp2t");
  g_object_set (pub, "create-channel", TRUE, NULL);
  if (!gst_trickle_publisher_start (pub, &err)) {
    g_printerr ("publisher: %s\n", err->message);
    return 1;
  }
  sub = gst_trickle_subscriber_new (url);
  g_object_set (sub, "start-seq", (gint64) 0, NULL);
  if (!gst_trickle_subscriber_start (sub, &err)) {
    g_printerr ("subscriber: %s\n", err->message);
    return 1;
  }
  thread = g_thread_new ("sub", subscribe, sub);
  g_usleep (200000);

  printf ("segment boundaries: %u 1-frame segments of %u bytes at %u fps, "
      "one process, loopback\n", segs, frame_bytes, fps);
  t = g_get_monotonic_time ();
  for (i = 0; i < segs; i++) {
    gint64 seq, now;

    t += G_USEC_PER_SEC / fps;
    now = g_get_monotonic_time ();
    if (t > now)
      g_usleep (t - now);
    seq = gst_trickle_publisher_begin_segment (pub, &err);
    if (seq < 0 || seq >= MAX_SEGS) {
      g_printerr ("begin: %s\n", err ? err->message : "seq");
      return 1;
    }
    pub_first[seq] = g_get_monotonic_time ();
    if (!gst_trickle_publisher_write (pub, frame, frame_bytes, &err)
        || !gst_trickle_publisher_end_segment (pub, &err)) {
      g_printerr ("write: %s\n", err->message);
      return 1;
    }
    pub_end[seq] = g_get_monotonic_time ();
  }
  g_usleep (500000);
  gst_trickle_publisher_stop (pub, TRUE, NULL);
  g_thread_join (thread);

  for (i = 10; i + 1 < segs; i++) {
    if (!sub_end[i] || !sub_first[i + 1] || !pub_end[i] || !pub_first[i + 1])
      continue;
    gap[n] = sub_first[i + 1] - sub_end[i];
    cost[n] = gap[n] - (pub_first[i + 1] - pub_end[i]);
    delivery[n] = sub_end[i] - pub_end[i];
    whole[n] = sub_end[i] - pub_first[i];
    n++;
  }
  if (n < segs / 2) {
    printf ("  only %u boundaries seen\n", n);
    return 1;
  }
  report ("gap at the subscriber", gap, n);
  report ("cost (sub gap - pub gap)", cost, n);
  report ("segment end delivered (sub - pub)", delivery, n);
  report ("whole segment (sub end - pub start)", whole, n);
  g_object_unref (sub);
  g_object_unref (pub);
  gst_trickle_http_server_stop (server);
  g_object_unref (server);
  g_object_unref (store);
  g_free (url);
  return 0;
}
