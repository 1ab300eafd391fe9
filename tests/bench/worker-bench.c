/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Livepeer worker's cost per stream, at 720p30 with a passthrough
 * filter (identity), H.264 (+ Opus) in, as the gateway publishes:
 *
 * 1. added latency per frame (video only, so that every buffer the
 *    muxers push is one frame): from a frame's bytes entering the input
 *    channel (the publisher's tricklesink receives the muxed frame and
 *    streams it into the open POST) to the worker's output bytes for that
 *    frame (its tricklesink receives the muxed output frame). A
 *    GstTrickleWorker in this process; the publisher starts after the
 *    stream, so the worker reads every frame and frames match by order.
 * 2. CPU per stream: the gst-trickle-worker program (argv[2]) serving one
 *    such stream, its user+system CPU time over the run (/proc/PID/stat)
 *    divided by the wall time, in % of one core.
 *
 *   worker-bench FRAMES PROGRAM
 */
#include <gst/gst.h>
#include <gst/trickle/trickle.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FRAMES 8192

typedef struct
{
  gint64 t[MAX_FRAMES];
  guint n;
  GMutex lock;
} Stamps;

static Stamps in_stamps, out_stamps;

static GstPadProbeReturn
stamp (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Stamps *s = data;
  gint64 now = g_get_monotonic_time ();
  /* one stamp per video frame: mpegtsmux pushes a frame's packets as one
   * buffer (list) */
  g_mutex_lock (&s->lock);
  if (s->n < MAX_FRAMES)
    s->t[s->n++] = now;
  g_mutex_unlock (&s->lock);
  return GST_PAD_PROBE_OK;
}

static void
probe_element (GstElement * bin, const gchar * name, const gchar * pad,
    Stamps * s)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (bin), name);
  GstPad *p = gst_element_get_static_pad (e, pad);

  gst_pad_add_probe (p, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, stamp, s, NULL);
  gst_object_unref (p);
  gst_object_unref (e);
}

static void
on_stream_started (GstTrickleWorker * w, GstElement * pipeline, gpointer d)
{
  probe_element (pipeline, "output", "sink", &out_stamps);
}

static gint
cmp (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static guint
post (guint port, const gchar * path, const gchar * body)
{
  SoupSession *session = soup_session_new ();
  gchar *uri = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  SoupMessage *msg = soup_message_new ("POST", uri);
  GBytes *b = g_bytes_new (body, strlen (body)), *answer;
  guint status;

  soup_message_set_request_body_from_bytes (msg, "application/json", b);
  answer = soup_session_send_and_read (session, msg, NULL, NULL);
  status = soup_message_get_status (msg);
  if (answer)
    g_bytes_unref (answer);
  g_bytes_unref (b);
  g_object_unref (msg);
  g_object_unref (session);
  g_free (uri);
  return status;
}

/* 720p30 H.264 (key frame every 2 s), with Opus audio when @audio */
static GstElement *
publisher (guint port, const gchar * mid, guint frames, gboolean audio)
{
  gchar *adesc = g_strdup_printf ("audiotestsrc is-live=true num-buffers=%u "
      "samplesperbuffer=960 ! audio/x-raw,rate=48000 ! opusenc ! mux.",
      frames * 5 / 3);
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=%u "
      "pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 "
      "bitrate=3000 ! h264parse ! mpegtsmux name=mux ! tricklesink name=pub "
      "location=http://127.0.0.1:%u/ai/trickle/%s %s", frames, port, mid,
      audio ? adesc : "");
  GstElement *p = gst_parse_launch (desc, NULL);

  g_free (desc);
  g_free (adesc);
  return p;
}

static void
make_channels (GstTrickleChannelStore * store, const gchar * mid)
{
  const gchar *suffix[] = { "", "-out", "-control", "-events" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (suffix); i++) {
    gchar *name = g_strconcat (mid, suffix[i], NULL);
    GstTrickleChannel *ch = gst_trickle_channel_store_create (store, name,
        i < 2 ? "video/MP2T" : "application/json", NULL);
    gst_trickle_channel_unref (ch);
    g_free (name);
  }
}

static gchar *
start_body (guint port, const gchar * mid)
{
  return g_strdup_printf ("{\"subscribe_url\":\"http://127.0.0.1:%u/ai/"
      "trickle/%s\",\"publish_url\":\"http://127.0.0.1:%u/ai/trickle/%s-out\","
      "\"control_url\":\"http://127.0.0.1:%u/ai/trickle/%s-control\","
      "\"events_url\":\"http://127.0.0.1:%u/ai/trickle/%s-events\","
      "\"params\":{}}", port, mid, port, mid, port, mid, port, mid);
}

static void
run_to_eos (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m;

  gst_element_set_state (p, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
}

static gdouble
cpu_seconds (GPid pid)
{
  gchar *path = g_strdup_printf ("/proc/%d/stat", pid), *text = NULL;
  gdouble secs = -1;

  if (g_file_get_contents (path, &text, NULL, NULL)) {
    gchar *p = strrchr (text, ')');
    unsigned long utime, stime;
    /* fields 14 and 15, after the command name */
    if (p && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
            "%lu %lu", &utime, &stime) == 2)
      secs = (utime + stime) / (gdouble) sysconf (_SC_CLK_TCK);
  }
  g_free (text);
  g_free (path);
  return secs;
}

int
main (int argc, char **argv)
{
  guint frames = argc > 1 ? atoi (argv[1]) : 300;
  const gchar *program = argc > 2 ? argv[2] : "build/tools/gst-trickle-worker";
  GstTrickleChannelStore *store;
  GstTrickleHttpServer *server;
  GstTrickleWorker *worker;
  GstElement *pub;
  guint port, wport, i, n;
  gint64 *lat;
  gchar *body;

  gst_init (&argc, &argv);
  g_mutex_init (&in_stamps.lock);
  g_mutex_init (&out_stamps.lock);
  store = gst_trickle_channel_store_new ();
  server = gst_trickle_http_server_new (store);
  g_object_set (server, "address", "127.0.0.1", "port", 0, "base-path",
      "/ai/trickle/", NULL);
  if (!gst_trickle_http_server_start (server, NULL))
    return 1;
  port = gst_trickle_http_server_get_bound_port (server);

  /* 1. latency, in process */
  worker = gst_trickle_worker_new ();
  g_object_set (worker, "host", "127.0.0.1", "port", 0, NULL);
  g_signal_connect (worker, "stream-started", G_CALLBACK (on_stream_started),
      NULL);
  gst_trickle_worker_start (worker, NULL);
  wport = gst_trickle_worker_get_bound_port (worker);
  make_channels (store, "lat");
  body = start_body (port, "lat");
  if (post (wport, "/live-video-to-video", body) != 200)
    return 1;
  g_free (body);
  /* video only: every buffer (list) mpegtsmux pushes is one frame */
  pub = publisher (port, "lat", frames, FALSE);
  probe_element (pub, "pub", "sink", &in_stamps);
  run_to_eos (pub);
  gst_object_unref (pub);
  /* the last frames' output */
  for (i = 0; i < 100 && out_stamps.n < in_stamps.n; i++)
    g_usleep (50 * 1000);
  post (wport, "/stream/stop", "");
  gst_trickle_worker_stop (worker);
  g_object_unref (worker);

  n = MIN (in_stamps.n, out_stamps.n);
  printf ("frames: %u in, %u out\n", in_stamps.n, out_stamps.n);
  if (n < 10)
    return 1;
  lat = g_new (gint64, n);
  for (i = 0; i < n; i++)
    lat[i] = out_stamps.t[i] - in_stamps.t[i];
  qsort (lat, n, sizeof (gint64), cmp);
  printf ("worker added latency per frame (input bytes in -> output bytes "
      "out), 720p30 H.264, identity filter: p50 %.1f ms, p90 %.1f ms, "
      "p99 %.1f ms\n", lat[n / 2] / 1000.0, lat[n * 9 / 10] / 1000.0,
      lat[n * 99 / 100] / 1000.0);
  g_free (lat);

  /* 2. CPU of the program serving one stream */
  {
    gchar *args[] = { (gchar *) program, (gchar *) "--host",
      (gchar *) "127.0.0.1", (gchar *) "--port", (gchar *) "0", NULL
    };
    GPid pid;
    gint out_fd;
    gchar line[256] = { 0 };
    FILE *f;
    gint64 t0, t1;
    gdouble c0, c1;

    if (!g_spawn_async_with_pipes (NULL, args, NULL,
            G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL, &out_fd, NULL,
            NULL))
      return 1;
    f = fdopen (out_fd, "r");
    if (!fgets (line, sizeof (line), f)
        || sscanf (line, "gst-trickle-worker: listening on port %u",
            &wport) != 1)
      return 1;
    make_channels (store, "cpu");
    body = start_body (port, "cpu");
    post (wport, "/live-video-to-video", body);
    g_free (body);
    pub = publisher (port, "cpu", frames, TRUE);
    t0 = g_get_monotonic_time ();
    c0 = cpu_seconds (pid);
    run_to_eos (pub);
    c1 = cpu_seconds (pid);
    t1 = g_get_monotonic_time ();
    gst_object_unref (pub);
    printf ("gst-trickle-worker CPU for one 720p30 stream: %.0f%% of a core "
        "(%.2f s CPU in %.2f s)\n", 100 * (c1 - c0) / ((t1 - t0) / 1e6),
        c1 - c0, (t1 - t0) / 1e6);
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
    fclose (f);
  }
  gst_trickle_http_server_stop (server);
  g_object_unref (server);
  g_object_unref (store);
  return 0;
}
