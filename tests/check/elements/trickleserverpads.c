/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * trickleserver hosting channels as pads: an external publisher (a
 * tricklesink pipeline) feeds video-in, the pipeline transforms it, an
 * external subscriber (a tricklesrc pipeline) reads video-out.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include "trickletestutil.h"

/* `srv.src_x ! filter ! srv.sink_y` links trickleserver to itself: GstBin
 * warns that its graph has a loop (the order of state changes inside the
 * loop is free; harmless here) */
static void
allow_loop_warning (void)
{
  gst_check_add_log_filter ("GStreamer", G_LOG_LEVEL_WARNING,
      g_regex_new ("loop detected in the graph", 0, 0, NULL), NULL, NULL,
      NULL);
}

static GstElement *
start_pipeline (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);

  fail_unless (p != NULL, "%s: %s", desc, err ? err->message : "");
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  return p;
}

static void
stop_pipeline (GstElement * p)
{
  fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (p);
}

static GstElement *
get (GstElement * p, const gchar * name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (p), name);

  fail_unless (e != NULL);
  return e;
}

/* the chain's bound port */
static guint
server_port (GstElement * chain)
{
  GstElement *srv = get (chain, "srv");
  guint port = 0;
  gint i;

  for (i = 0; i < 100 && port == 0; i++) {
    g_object_get (srv, "bound-port", &port, NULL);
    if (port == 0)
      g_usleep (10 * 1000);
  }
  gst_object_unref (srv);
  fail_unless (port != 0);
  return port;
}

/* pulls frames from an appsink until @n or a timeout */
static GPtrArray *
pull_frames (GstElement * sink, guint n, guint timeout_s)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstSample *sample;

  while (frames->len < n && (sample =
          gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              timeout_s * GST_SECOND))) {
    g_ptr_array_add (frames, gst_buffer_ref (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }
  return frames;
}

/* the frames of a local pipeline (the reference) */
static GPtrArray *
reference_frames (const gchar * desc, guint n)
{
  GstElement *p = start_pipeline (desc), *sink = get (p, "sink");
  GPtrArray *frames = pull_frames (sink, n, 10);

  gst_object_unref (sink);
  stop_pipeline (p);
  fail_unless_equals_int (frames->len, n);
  return frames;
}

/* mean absolute difference of the first @size bytes of two buffers */
static gdouble
mean_diff (GstBuffer * a, GstBuffer * b, gsize size)
{
  GstMapInfo ma, mb;
  guint64 sum = 0;
  gsize i;

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  fail_unless (ma.size >= size && mb.size >= size);
  for (i = 0; i < size; i++)
    sum += ABS ((gint) ma.data[i] - (gint) mb.data[i]);
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return (gdouble) sum / size;
}

#define RAW_CAPS "video/x-raw,format=GRAY8,width=32,height=8,framerate=20/1"

/* raw video through video-in -> videoflip -> video-out: every frame
 * arrives, mirrored exactly as a local videoflip mirrors it */
GST_START_TEST (test_raw_chain)
{
  GstElement *chain, *pub, *sub, *sink;
  GPtrArray *got, *flipped, *plain;
  gchar *desc;
  guint port, i;

  allow_loop_warning ();
  chain = start_pipeline ("trickleserver name=srv port=0 "
      "srv.src_video-in ! videoflip video-direction=horiz ! "
      "srv.sink_video-out");
  port = server_port (chain);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
      "video-out ! appsink name=sink sync=false", port);
  sub = start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=10 is-live=true "
      "pattern=smpte75 ! " RAW_CAPS " ! tricklesink "
      "location=http://127.0.0.1:%u/video-in", port);
  pub = start_pipeline (desc);
  g_free (desc);
  sink = get (sub, "sink");
  got = pull_frames (sink, 10, 10);
  gst_object_unref (sink);
  fail_unless_equals_int (got->len, 10);

  flipped = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      RAW_CAPS " ! videoflip video-direction=horiz ! appsink name=sink "
      "sync=false", 1);
  plain = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      RAW_CAPS " ! appsink name=sink sync=false", 1);
  /* the check can fail: the pattern is not symmetric */
  fail_unless (mean_diff (g_ptr_array_index (flipped, 0),
          g_ptr_array_index (plain, 0), 32 * 8) > 10);
  for (i = 0; i < got->len; i++)
    fail_unless (mean_diff (g_ptr_array_index (got, i),
            g_ptr_array_index (flipped, 0), 32 * 8) == 0,
        "frame %u (%" G_GSIZE_FORMAT " bytes): %.1f from the mirrored "
        "pattern, %.1f from the original", i,
        gst_buffer_get_size (g_ptr_array_index (got, i)),
        mean_diff (g_ptr_array_index (got, i), g_ptr_array_index (flipped,
                0), 32 * 8), mean_diff (g_ptr_array_index (got, i),
            g_ptr_array_index (plain, 0), 32 * 8));

  g_ptr_array_unref (got);
  g_ptr_array_unref (flipped);
  g_ptr_array_unref (plain);
  stop_pipeline (pub);
  stop_pipeline (sub);
  stop_pipeline (chain);
}

GST_END_TEST;

#define H264_SIZE "width=160,height=120"

/* The one-liner: H.264 in MPEG-TS in, decoded, mirrored,
 * encoded, out; an external tricklesink publishes, an external tricklesrc
 * receives every frame, mirrored */
GST_START_TEST (test_h264_chain)
{
  GstElement *chain, *pub, *sub, *sink;
  GPtrArray *got, *flipped, *plain;
  gchar *desc;
  guint port, i;

  if (!trickle_test_have ("x264enc") || !trickle_test_have ("avdec_h264")) {
    GST_WARNING ("encoder plugins missing, skipping");
    return;
  }
  allow_loop_warning ();
  chain = start_pipeline ("trickleserver name=srv port=0 "
      "srv.src_video-in ! tsdemux ! h264parse ! avdec_h264 ! videoconvert ! "
      "videoflip video-direction=horiz ! x264enc tune=zerolatency "
      "key-int-max=10 ! mpegtsmux ! srv.sink_video-out");
  port = server_port (chain);
  desc = g_strdup_printf ("tricklesrc location=http://127.0.0.1:%u/"
      "video-out ! tsdemux ! h264parse ! avdec_h264 ! videoconvert ! "
      "video/x-raw,format=I420 ! appsink name=sink sync=false", port);
  sub = start_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=60 is-live=true "
      "pattern=smpte75 ! video/x-raw," H264_SIZE ",framerate=30/1 ! "
      "x264enc tune=zerolatency key-int-max=10 ! mpegtsmux ! "
      "tricklesink location=http://127.0.0.1:%u/video-in", port);
  pub = start_pipeline (desc);
  g_free (desc);
  sink = get (sub, "sink");
  got = pull_frames (sink, 60, 3);
  gst_object_unref (sink);
  /* the subscriber may join a segment after the first */
  fail_unless (got->len >= 40, "%u frames", got->len);

  flipped = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      "video/x-raw,format=I420," H264_SIZE " ! videoflip "
      "video-direction=horiz ! appsink name=sink sync=false", 1);
  plain = reference_frames ("videotestsrc num-buffers=1 pattern=smpte75 ! "
      "video/x-raw,format=I420," H264_SIZE " ! appsink name=sink "
      "sync=false", 1);
  /* luma of every frame: close to the mirrored pattern (two lossy
   * encodings), far from the original */
  for (i = 0; i < got->len; i++) {
    gdouble to_flipped = mean_diff (g_ptr_array_index (got, i),
        g_ptr_array_index (flipped, 0), 160 * 120);
    gdouble to_plain = mean_diff (g_ptr_array_index (got, i),
        g_ptr_array_index (plain, 0), 160 * 120);
    fail_unless (to_flipped < 8 && to_plain > 3 * to_flipped,
        "frame %u: %.1f from the mirrored pattern, %.1f from the original",
        i, to_flipped, to_plain);
  }
  g_ptr_array_unref (got);
  g_ptr_array_unref (flipped);
  g_ptr_array_unref (plain);
  stop_pipeline (pub);
  stop_pipeline (sub);
  stop_pipeline (chain);
}

GST_END_TEST;

static Suite *
trickleserverpads_suite (void)
{
  Suite *s = suite_create ("trickleserverpads");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_raw_chain);
  tcase_add_test (tc, test_h264_chain);
  return s;
}

GST_CHECK_MAIN (trickleserverpads);
