/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gst-trickle-worker: a GStreamer filter as a Livepeer real-time AI worker
 * (the HTTP API of ai-runner and PyTrickle). See docs/livepeer.md.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/trickle/trickle.h>

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gchar *host = NULL, *filter = NULL, *audio_filter = NULL;
  gchar *video_encoder = NULL, *audio_encoder = NULL, *token = NULL;
  gchar *model_id = NULL;
  gchar **params = NULL;
  gint port = 8000;
  gdouble keyframe_interval = 2.0, input_timeout = 60.0;
  gdouble status_interval = 10.0, data_interval = 0.333;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &host,
        "Address to listen on (default: every interface)", "ADDRESS"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
          "Port of the HTTP API (default 8000, 0: any; the port is printed)",
        "PORT"},
    {"filter", 'f', 0, G_OPTION_ARG_STRING, &filter,
          "Video filter, a gst-launch fragment (default: identity)",
        "LAUNCH"},
    {"audio-filter", 'a', 0, G_OPTION_ARG_STRING, &audio_filter,
        "Audio filter, a gst-launch fragment (default: none)", "LAUNCH"},
    {"param", 0, 0, G_OPTION_ARG_STRING_ARRAY, &params,
          "Map a params key to a property: KEY=ELEMENT.PROPERTY (repeatable)",
        "KEY=ELEMENT.PROPERTY"},
    {"video-encoder", 0, 0, G_OPTION_ARG_STRING, &video_encoder,
        "H.264 encoder (default: x264enc tune=zerolatency "
          "speed-preset=superfast bframes=0)", "LAUNCH"},
    {"audio-encoder", 0, 0, G_OPTION_ARG_STRING, &audio_encoder,
        "Audio encoder (default: opusenc)", "LAUNCH"},
    {"keyframe-interval", 0, 0, G_OPTION_ARG_DOUBLE, &keyframe_interval,
        "Seconds between output keyframes (default 2)", "SECONDS"},
    {"input-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &input_timeout,
          "Seconds without input before a stream ends (default 60, 0: never)",
        "SECONDS"},
    {"status-interval", 0, 0, G_OPTION_ARG_DOUBLE, &status_interval,
          "Seconds between the status and heartbeat events (default 10)",
        "SECONDS"},
    {"data-interval", 0, 0, G_OPTION_ARG_DOUBLE, &data_interval,
          "Seconds between the data channel's batches (default 0.333)",
        "SECONDS"},
    {"token", 0, 0, G_OPTION_ARG_STRING, &token,
        "Bearer token the stream requests must carry (default: the "
          "AUTH_TOKEN environment variable, as ai-runner)", "TOKEN"},
    {"model-id", 0, 0, G_OPTION_ARG_STRING, &model_id,
        "model_id of /version; starts naming another are refused (default: "
          "the MODEL_ID environment variable, or any)", "NAME"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  GstTrickleWorker *worker;
  GMainLoop *loop;
  gint i;

  ctx = g_option_context_new ("- a GStreamer filter as a Livepeer worker");
  g_option_context_set_summary (ctx,
      "Serves ai-runner's and PyTrickle's HTTP API (POST /live-video-to-video,\n"
      "/stream/start, /stream/params, /stream/stop, GET /stream/status,\n"
      "/health, /version): each stream subscribes to subscribe_url, runs\n"
      "decode ! FILTER ! encode ! mpegtsmux and publishes to publish_url.\n\n"
      "  gst-trickle-worker --port 8000 --filter \"videoconvert ! "
      "videoflip name=f video-direction=horiz\" --param flip=f.video-direction");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("gst-trickle-worker: %s\n", err->message);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (version) {
    g_print ("gst-trickle-worker %s\n", PACKAGE_VERSION);
    return 0;
  }
  if (!token && g_getenv ("AUTH_TOKEN") && *g_getenv ("AUTH_TOKEN"))
    token = g_strdup (g_getenv ("AUTH_TOKEN"));
  if (!model_id && g_getenv ("MODEL_ID") && *g_getenv ("MODEL_ID"))
    model_id = g_strdup (g_getenv ("MODEL_ID"));

  if (port < 0 || port > 65535 || keyframe_interval < 0.01
      || keyframe_interval > 3600 || input_timeout < 0
      || status_interval < 0.1 || status_interval > 29
      || data_interval < 0.01 || data_interval > 60) {
    g_printerr ("gst-trickle-worker: out of range: --port 0-65535, "
        "--keyframe-interval 0.01-3600, --input-timeout >= 0, "
        "--status-interval 0.1-29, --data-interval 0.01-60\n");
    return 2;
  }

  worker = gst_trickle_worker_new ();
  g_object_set (worker, "port", port, "keyframe-interval", keyframe_interval,
      "input-timeout", input_timeout, "status-interval", status_interval,
      "data-interval", data_interval, NULL);
  if (host)
    g_object_set (worker, "host", host, NULL);
  if (filter)
    g_object_set (worker, "filter", filter, NULL);
  if (audio_filter)
    g_object_set (worker, "audio-filter", audio_filter, NULL);
  if (video_encoder)
    g_object_set (worker, "video-encoder", video_encoder, NULL);
  if (audio_encoder)
    g_object_set (worker, "audio-encoder", audio_encoder, NULL);
  if (token)
    g_object_set (worker, "auth-token", token, NULL);
  if (model_id)
    g_object_set (worker, "model-id", model_id, NULL);
  for (i = 0; params && params[i]; i++) {
    gchar **kv = g_strsplit (params[i], "=", 2);
    if (!kv[0] || !kv[1]
        || !gst_trickle_worker_add_param (worker, kv[0], kv[1], &err)) {
      g_printerr ("gst-trickle-worker: --param %s: %s\n", params[i],
          err ? err->message : "not KEY=ELEMENT.PROPERTY");
      g_strfreev (kv);
      g_object_unref (worker);
      return 2;
    }
    g_strfreev (kv);
  }
  if (!gst_trickle_worker_start (worker, &err)) {
    g_printerr ("gst-trickle-worker: %s\n", err->message);
    g_object_unref (worker);
    return 1;
  }
  /* the port on stdout, alone on a line: what scripts with --port 0 read */
  g_print ("gst-trickle-worker: listening on port %u\n",
      gst_trickle_worker_get_bound_port (worker));

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  g_print ("gst-trickle-worker: stopping\n");
  gst_trickle_worker_stop (worker);
  g_object_unref (worker);
  g_main_loop_unref (loop);
  g_free (host);
  g_free (filter);
  g_free (audio_filter);
  g_free (video_encoder);
  g_free (audio_encoder);
  g_free (token);
  g_free (model_id);
  g_strfreev (params);
  gst_deinit ();
  return 0;
}
