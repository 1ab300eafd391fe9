/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gst-trickle-gateway: WebRTC publishers (WHIP) into trickle channels and
 * trickle channels to WebRTC viewers (WHEP). See docs/gateway.md.
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

static void
on_started (GstTrickleGateway * gw, const gchar * kind, const gchar * stream,
    const gchar * id)
{
  g_print ("gst-trickle-gateway: %s session %s of stream %s started\n",
      kind, id, stream);
}

static void
on_ended (GstTrickleGateway * gw, const gchar * kind, const gchar * stream,
    const gchar * id, const gchar * reason)
{
  g_print ("gst-trickle-gateway: %s session %s of stream %s ended: %s\n",
      kind, id, stream, reason);
}

int
main (int argc, char **argv)
{
  gchar *host = NULL, *trickle = NULL, *token = NULL, *stun = NULL;
  gint port = 8088, serve = -1, max_sessions = 32, max_viewers = 16;
  gdouble min_segment = 1.0, keyframe_interval = 2.0, media_timeout = 15.0;
  gdouble stop_timeout = 20.0;
  gboolean version = FALSE, all_ended = TRUE;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &host,
        "Address to listen on (default: every interface)", "ADDRESS"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
          "Port of the HTTP side (default 8088, 0: any; the port is printed)",
        "PORT"},
    {"trickle", 't', 0, G_OPTION_ARG_STRING, &trickle,
        "Base URL of the channels: stream S is channel URL/S (default "
          "http://127.0.0.1:2939/)", "URL"},
    {"serve-trickle", 0, 0, G_OPTION_ARG_INT, &serve,
        "Also serve the channels on this port (an embedded trickle server; "
          "0: any) and use it as --trickle", "PORT"},
    {"token", 0, 0, G_OPTION_ARG_STRING, &token,
        "Bearer token WHIP/WHEP requests must carry (default: the "
          "AUTH_TOKEN environment variable, or none)", "TOKEN"},
    {"max-sessions", 0, 0, G_OPTION_ARG_INT, &max_sessions,
        "Sessions at once, beyond which a POST gets 503 (default 32)", "N"},
    {"max-viewers", 0, 0, G_OPTION_ARG_INT, &max_viewers,
          "Viewers of one stream, beyond which a POST gets 429 (default 16)",
        "N"},
    {"min-segment-duration", 0, 0, G_OPTION_ARG_DOUBLE, &min_segment,
        "Seconds a published segment lasts at least (default 1)", "SECONDS"},
    {"keyframe-interval", 0, 0, G_OPTION_ARG_DOUBLE, &keyframe_interval,
          "Seconds between keyframe requests (PLI) to publishers (default 2)",
        "SECONDS"},
    {"media-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &media_timeout,
        "Seconds of silence after which a peer is gone (default 15, "
          "0: never)", "SECONDS"},
    {"stun-server", 0, 0, G_OPTION_ARG_STRING, &stun,
        "STUN server for the gateway's candidates (stun://host:port; "
          "default: none, host candidates only)", "URI"},
    {"stop-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &stop_timeout,
        "Seconds the sessions are waited for at SIGINT/SIGTERM before "
          "exiting anyway (default 20)", "SECONDS"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  GstTrickleGateway *gw;
  GstTrickleHttpServer *server = NULL;
  GMainLoop *loop;
  gint rc = 0;

  ctx = g_option_context_new ("- WebRTC (WHIP/WHEP) in and out of trickle");
  g_option_context_set_summary (ctx,
      "POST /whip/STREAM (an SDP offer) publishes a WebRTC stream into the\n"
      "trickle channel STREAM; POST /whep/STREAM plays the channel to a\n"
      "WebRTC viewer.\n\n"
      "  gst-trickle-gateway --port 8088 --trickle http://127.0.0.1:2939/");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("gst-trickle-gateway: %s\n", err->message);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (version) {
    g_print ("gst-trickle-gateway %s\n", PACKAGE_VERSION);
    return 0;
  }
  if (!token && g_getenv ("AUTH_TOKEN") && *g_getenv ("AUTH_TOKEN"))
    token = g_strdup (g_getenv ("AUTH_TOKEN"));
  if (port < 0 || port > 65535 || serve > 65535 || max_sessions < 1
      || max_viewers < 1 || min_segment < 0 || keyframe_interval < 0
      || media_timeout < 0 || stop_timeout < 0 || stop_timeout > 3600) {
    g_printerr ("gst-trickle-gateway: out of range: --port and "
        "--serve-trickle 0-65535, --max-sessions and --max-viewers >= 1, "
        "durations >= 0 (--stop-timeout 3600 at most)\n");
    return 2;
  }

  if (serve >= 0) {
    GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
    server = gst_trickle_http_server_new (store);
    g_object_unref (store);
    g_object_set (server, "port", (guint) serve, NULL);
    if (!gst_trickle_http_server_start (server, &err)) {
      g_printerr ("gst-trickle-gateway: cannot serve the channels: %s\n",
          err->message);
      g_object_unref (server);
      return 1;
    }
    g_free (trickle);
    trickle = g_strdup_printf ("http://127.0.0.1:%u/",
        gst_trickle_http_server_get_bound_port (server));
    g_print ("gst-trickle-gateway: channels on port %u\n",
        gst_trickle_http_server_get_bound_port (server));
  }

  gw = gst_trickle_gateway_new ();
  g_object_set (gw, "port", (guint) port, "max-sessions", (guint) max_sessions,
      "max-viewers", (guint) max_viewers, "min-segment-duration", min_segment,
      "keyframe-interval", keyframe_interval, "media-timeout", media_timeout,
      "stop-timeout", stop_timeout, NULL);
  if (host)
    g_object_set (gw, "host", host, NULL);
  if (trickle)
    g_object_set (gw, "trickle-url", trickle, NULL);
  if (token)
    g_object_set (gw, "auth-token", token, NULL);
  if (stun)
    g_object_set (gw, "stun-server", stun, NULL);
  g_signal_connect (gw, "session-started", G_CALLBACK (on_started), NULL);
  g_signal_connect (gw, "session-ended", G_CALLBACK (on_ended), NULL);
  if (!gst_trickle_gateway_start (gw, &err)) {
    g_printerr ("gst-trickle-gateway: %s\n", err->message);
    g_clear_error (&err);
    rc = 1;
  } else {
    /* the port on stdout, alone on a line: what scripts with --port 0 read */
    g_print ("gst-trickle-gateway: listening on port %u\n",
        gst_trickle_gateway_get_bound_port (gw));
    loop = g_main_loop_new (NULL, FALSE);
    g_unix_signal_add (SIGINT, on_signal, loop);
    g_unix_signal_add (SIGTERM, on_signal, loop);
    g_main_loop_run (loop);
    g_print ("gst-trickle-gateway: stopping\n");
    all_ended = gst_trickle_gateway_stop (gw);
    if (!all_ended)
      g_print ("gst-trickle-gateway: exiting with sessions still tearing "
          "down (--stop-timeout)\n");
    g_main_loop_unref (loop);
  }
  g_object_unref (gw);
  if (server) {
    gst_trickle_http_server_stop (server);
    g_object_unref (server);
  }
  g_free (host);
  g_free (trickle);
  g_free (token);
  g_free (stun);
  /* not under the threads of sessions still tearing down: the process'
   * exit ends them */
  if (all_ended)
    gst_deinit ();
  return rc;
}
