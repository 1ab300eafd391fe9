/* gst-trickle example
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A real-time video worker in a few lines: trickleserver hosts the channels
 * video-in (external publishers POST H.264/MPEG-TS, or raw frames with
 * --raw), video-out (external subscribers GET the result), control (JSON
 * {"set": {"element.property": value}} applied live) and events.
 *
 *   trickle-filter [--port 2939] [--filter "videoflip video-direction=horiz"]
 *                  [--raw] [--duration SECONDS]
 *
 * Give the filter element a name (name=f) to control it:
 *   curl -X POST --data '{"set": {"f.video-direction": "vert"}}' \
 *     http://127.0.0.1:2939/control/-1
 */
#include <gst/gst.h>
#include <stdio.h>

static gboolean
on_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  GMainLoop *loop = data;
  const GstStructure *s = gst_message_get_structure (msg);

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_structure_has_name (s, "trickleserver-listening")) {
        g_print ("listening on %s\n", gst_structure_get_string (s, "url"));
      } else if (gst_structure_has_name (s, "trickle-control")) {
        gint64 seq = -1;
        gst_structure_get_int64 (s, "seq", &seq);
        g_print ("control %" G_GINT64_FORMAT ": %s\n", seq,
            gst_structure_get_string (s, "json"));
      }
      break;
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_warning (msg, &err, &dbg);
      g_print ("warning: %s (%s)\n", err->message, GST_STR_NULL (dbg));
      g_error_free (err);
      g_free (dbg);
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      g_printerr ("error: %s\n", err->message);
      g_error_free (err);
      g_main_loop_quit (loop);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gint port = 2939, duration = 0;
  gchar *filter = NULL;
  gboolean raw = FALSE;
  GOptionEntry entries[] = {
    {"port", 'p', 0, G_OPTION_ARG_INT, &port, "Port (0: any free one)", "N"},
    {"filter", 'f', 0, G_OPTION_ARG_STRING, &filter,
        "The filter, a gst-launch fragment", "DESC"},
    {"raw", 'r', 0, G_OPTION_ARG_NONE, &raw,
          "Raw frames in and out (one frame per segment), not H.264/MPEG-TS",
        NULL},
    {"duration", 'd', 0, G_OPTION_ARG_INT, &duration,
        "Stop after this many seconds (0: run until interrupted)", "S"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- a trickle video worker");
  GError *err = NULL;
  GstElement *pipeline;
  GMainLoop *loop;
  GstBus *bus;
  gchar *desc;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);

  desc = g_strdup_printf ("trickleserver name=srv host=127.0.0.1 port=%d "
      "control=control events=events srv.src_video-in ! %s ! %s ! %s ! "
      "srv.sink_video-out", port,
      raw ? "queue" : "tsdemux ! h264parse ! avdec_h264 ! videoconvert",
      filter ? filter : "videoflip name=f video-direction=horiz",
      raw ? "queue" : "x264enc tune=zerolatency ! mpegtsmux");
  pipeline = gst_parse_launch (desc, &err);
  if (!pipeline) {
    g_printerr ("%s: %s\n", desc, err->message);
    return 1;
  }
  g_free (desc);
  loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_message, loop);
  if (duration > 0)
    g_timeout_add_seconds (duration, quit, loop);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("could not start\n");
    return 1;
  }
  g_main_loop_run (loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_main_loop_unref (loop);
  g_free (filter);
  return 0;
}
