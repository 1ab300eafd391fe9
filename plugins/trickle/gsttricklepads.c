/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Library General Public License for more details.
 */
/* trickleserver's request pads: channels hosted by the pipeline.
 *
 * `src_<channel>`: what external publishers POST to <channel>, read from
 * the channel store in process (GstTrickleReader: no socket, no copy) and
 * pushed by the pad's own task, framed as tricklesrc frames it
 * (GstTrickleFramer): byte streams as they arrive, frame formats one
 * buffer per segment, caps from the Content-Type.
 *
 * `sink_<channel>`: the pipeline's stream published into <channel> for
 * external subscribers, cut as tricklesink cuts it (GstTrickleSegmenter);
 * each buffer's memory becomes a page of the segment (mapped, not copied)
 * and every subscriber's socket is fed from it.
 *
 * The channels exist while their pads do: made when the pad is requested
 * (or when the server starts), removed when it is released. A publisher
 * that closes a hosted input channel (DELETE) does not end the pipeline:
 * the channel is made again and the next publisher is read. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/video/video.h>
#include "gsttricklepads.h"
#include "gsttrickleframer.h"

GST_DEBUG_CATEGORY_EXTERN (gst_trickle_server_debug);
#define GST_CAT_DEFAULT gst_trickle_server_debug

typedef struct
{
  GstElement *server;           /* not a reference: the pad's parent */
  GstPad *pad;                  /* not a reference: the pad owns this */
  gchar *channel;
  gboolean is_src;
  GstTrickleChannelStore *store;        /* while hosted by a started server,
                                         * under the pad's object lock */
  GstTricklePadEosFunc eos_func;

  /* src pads: the task */
  GstTrickleReader *reader;
  GstTrickleFramer *framer;
  gboolean sent_stream_start;
  gboolean sent_segment;
  gint end_stream;              /* atomic: EOS asked for (send_event) */
  guint32 end_seqnum;

  /* sink pads: the streaming thread (under the stream lock) */
  GstTrickleSegmenter *segmenter;
  GstTrickleChannel *out;
  GstTrickleSegment *open;
  gchar *content_type;
  gboolean reset;
  gint got_eos;                 /* atomic: read by the server's EOS check */
} Hosted;

static Hosted *
hosted (GstPad * pad)
{
  return gst_pad_get_element_private (pad);
}

/* the store of a started server (a reference), or NULL */
static GstTrickleChannelStore *
get_store (Hosted * h)
{
  GstTrickleChannelStore *store;

  GST_OBJECT_LOCK (h->pad);
  store = h->store ? g_object_ref (h->store) : NULL;
  GST_OBJECT_UNLOCK (h->pad);
  return store;
}

const gchar *
gst_trickle_pad_get_channel (GstPad * pad)
{
  Hosted *h = hosted (pad);

  return h ? h->channel : NULL;
}

/* ------------------------------------------------------------------------ */
/* src pads */

static void
src_start_stream (Hosted * h, GstPad * pad)
{
  /* not gst_pad_create_stream_id(): it asks upstream of a parent with one
   * sink pad at most, and the server may have several */
  gchar *id = g_strdup_printf ("%08x%08x/%s", g_random_int (),
      g_random_int (), h->channel);

  gst_pad_push_event (pad, gst_event_new_stream_start (id));
  g_free (id);
  h->sent_stream_start = TRUE;
}

static void
src_start_segment (Hosted * h, GstPad * pad)
{
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (pad, gst_event_new_segment (&segment));
  h->sent_segment = TRUE;
}

/* the stream ends here (the pipeline was sent EOS); stream-start and
 * segment first if nothing was pushed yet: EOS may not come before them */
static void
src_push_eos (Hosted * h, GstPad * pad)
{
  GstEvent *eos = gst_event_new_eos ();

  if (!h->sent_stream_start)
    src_start_stream (h, pad);
  if (!h->sent_segment)
    src_start_segment (h, pad);
  if (h->end_seqnum != GST_SEQNUM_INVALID)
    gst_event_set_seqnum (eos, h->end_seqnum);
  GST_DEBUG_OBJECT (pad, "end of stream");
  gst_pad_push_event (pad, eos);
  gst_pad_pause_task (pad);
}

static void
src_loop (GstPad * pad)
{
  Hosted *h = hosted (pad);
  GstTrickleSubscriberEvent ev;
  GError *err = NULL;
  GstCaps *caps = NULL;
  GstBuffer *buf;
  GstFlowReturn ret;

  if (g_atomic_int_get (&h->end_stream)) {
    src_push_eos (h, pad);
    return;
  }
  if (!gst_trickle_reader_next_event (h->reader, &ev, &err)) {
    g_clear_error (&err);
    if (g_atomic_int_get (&h->end_stream))
      src_push_eos (h, pad);
    else
      gst_pad_pause_task (pad);
    return;
  }
  if (ev.type == GST_TRICKLE_SUBSCRIBER_JUMP)
    GST_ELEMENT_WARNING (h->server, RESOURCE, READ,
        ("Segments lost on channel \"%s\": the pipeline fell behind",
            h->channel), ("segment %" G_GINT64_FORMAT " left the window; "
            "going on at %" G_GINT64_FORMAT, ev.seq, ev.latest));
  buf = gst_trickle_framer_feed (h->framer, &ev,
      gst_trickle_framer_now (h->server), &caps);
  gst_trickle_subscriber_event_clear (&ev);

  if (!h->sent_stream_start && (caps || buf))
    src_start_stream (h, pad);
  if (caps) {
    gst_pad_push_event (pad, gst_event_new_caps (caps));
    gst_caps_unref (caps);
  }
  if (!buf && gst_trickle_framer_refused_content_type (h->framer)) {
    GST_ELEMENT_ERROR (h->server, STREAM, FORMAT,
        ("Channel \"%s\" names a media type that cannot be used",
            h->channel), ("its publisher's Content-Type \"%.200s\" gives "
            "caps that are not fixed (ANY, EMPTY, ranges or lists), or it is "
            "over 4096 bytes, or the 65th Content-Type of the stream",
            gst_trickle_framer_refused_content_type (h->framer)));
    gst_pad_pause_task (pad);
    return;
  }
  if (!buf && gst_trickle_framer_type_not_found (h->framer)) {
    GST_ELEMENT_ERROR (h->server, STREAM, TYPE_NOT_FOUND,
        ("Could not determine the media type of channel \"%s\"",
            h->channel), ("its publisher sent no Content-Type and its first "
            "bytes were not recognised"));
    gst_pad_pause_task (pad);
    return;
  }
  if (!buf)
    return;
  if (!h->sent_segment)
    src_start_segment (h, pad);
  {
    GstEvent *event = gst_trickle_framer_take_event (h->framer);
    if (event)
      gst_pad_push_event (pad, event);
  }
  ret = gst_pad_push (pad, buf);
  if (ret != GST_FLOW_OK) {
    GST_DEBUG_OBJECT (pad, "pausing: %s", gst_flow_get_name (ret));
    gst_pad_pause_task (pad);
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)
      GST_ELEMENT_FLOW_ERROR (h->server, ret);
  }
}

static gboolean
src_activate_mode (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  Hosted *h = hosted (pad);
  GstTrickleReader *reader;

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    GstTrickleChannelStore *store = get_store (h);

    if (!store) {
      GST_ERROR_OBJECT (pad, "the server is not started");
      return FALSE;
    }
    reader = gst_trickle_reader_new (store, h->channel,
        GST_TRICKLE_SEQ_CURRENT, TRUE);
    g_object_unref (store);
    /* under the object lock: gst_trickle_pad_end_stream() wakes it up */
    GST_OBJECT_LOCK (pad);
    h->reader = reader;
    g_atomic_int_set (&h->end_stream, 0);
    GST_OBJECT_UNLOCK (pad);
    gst_trickle_framer_reset (h->framer);
    h->sent_stream_start = h->sent_segment = FALSE;
    return gst_pad_start_task (pad, (GstTaskFunction) src_loop, pad, NULL);
  }
  GST_OBJECT_LOCK (pad);
  if (h->reader)
    gst_trickle_reader_unlock (h->reader);
  GST_OBJECT_UNLOCK (pad);
  gst_pad_stop_task (pad);
  GST_OBJECT_LOCK (pad);
  reader = g_steal_pointer (&h->reader);
  GST_OBJECT_UNLOCK (pad);
  g_clear_pointer (&reader, gst_trickle_reader_free);
  return TRUE;
}

/* No internal links: a hosted src pad and a hosted sink pad are not one
 * stream (in `srv.src_in ! filter ! srv.sink_out` forwarding queries
 * between them would go round the loop forever) */
static GstIterator *
no_internal_links (GstPad * pad, GstObject * parent)
{
  return gst_iterator_new_single (GST_TYPE_PAD, NULL);
}

static gboolean
src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      /* whatever publishers send: the current caps once known */
      GstCaps *caps = gst_pad_get_current_caps (pad), *filter;
      if (!caps)
        caps = gst_caps_new_any ();
      gst_query_parse_caps (query, &filter);
      if (filter) {
        GstCaps *tmp = gst_caps_intersect_full (filter, caps,
            GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = tmp;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_LATENCY:
      /* live: data comes when it is published */
      gst_query_set_latency (query, TRUE, 0, GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_SCHEDULING:
      gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1,
          -1, 0);
      gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
      return TRUE;
    case GST_QUERY_ACCEPT_CAPS:
    case GST_QUERY_ALLOCATION:
    case GST_QUERY_POSITION:
    case GST_QUERY_DURATION:
    case GST_QUERY_SEEKING:
      return FALSE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  /* upstream events (QoS, navigation...) end here: the publisher is across
   * the network; a force-key-unit is answered at the next segment start
   * (segments start on keyframes) */
  gst_trickle_framer_handle_upstream_event (hosted (pad)->framer, event);
  gst_event_unref (event);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* sink pads */

static void
bytes_free_buffer (gpointer data)
{
  GstMapInfo *map = data;
  GstBuffer *buf = map->user_data[0];

  gst_buffer_unmap (buf, map);
  gst_buffer_unref (buf);
  g_free (map);
}

/* the buffer's memory as a page: mapped, not copied */
static GBytes *
buffer_bytes (GstBuffer * buf)
{
  GstMapInfo *map = g_new0 (GstMapInfo, 1);

  if (!gst_buffer_map (buf, map, GST_MAP_READ)) {
    g_free (map);
    return NULL;
  }
  map->user_data[0] = gst_buffer_ref (buf);
  return g_bytes_new_with_free_func (map->data, map->size,
      bytes_free_buffer, map);
}

static void
finish_open (Hosted * h)
{
  if (h->open) {
    gst_trickle_channel_finish (h->out, h->open);
    g_clear_pointer (&h->open, gst_trickle_segment_unref);
  }
}

/* the output channel, made again if a client removed it */
static GstTrickleChannel *
out_channel (Hosted * h)
{
  GstTrickleChannelStore *store;

  if (h->out && !gst_trickle_channel_is_closed (h->out))
    return h->out;
  g_clear_pointer (&h->out, gst_trickle_channel_unref);
  store = get_store (h);
  if (!store)
    return NULL;
  h->out = gst_trickle_channel_store_lookup (store, h->channel);
  if (!h->out)
    h->out = gst_trickle_channel_store_create (store, h->channel,
        h->content_type, NULL);
  g_object_unref (store);
  if (h->out && h->content_type)
    gst_trickle_channel_set_mime_type (h->out, h->content_type);
  h->reset = TRUE;
  return h->out;
}

static gboolean
write_bytes (Hosted * h, GstBuffer * buf)
{
  GBytes *bytes = buffer_bytes (buf);
  gboolean ok;

  if (!bytes)
    return FALSE;
  ok = gst_trickle_channel_append (h->out, h->open, bytes);
  g_bytes_unref (bytes);
  return ok;
}

/* writes one piece the segmenter cut */
static GstFlowReturn
write_piece (Hosted * h, GstBuffer * buf, GstTrickleCut cut)
{
  GPtrArray *sh;
  guint i;

  if (cut & GST_TRICKLE_CUT_NO_KEYFRAME)
    GST_ELEMENT_WARNING (h->server, STREAM, FORMAT,
        ("No keyframe found in the MPEG-TS for channel \"%s\": cut by "
            "duration, segments may not decode on their own", h->channel),
        (NULL));
  if (cut & GST_TRICKLE_CUT_BEGIN) {
    finish_open (h);
    if (!out_channel (h)) {
      GST_ELEMENT_ERROR (h->server, RESOURCE, WRITE,
          ("Could not host channel \"%s\"", h->channel), (NULL));
      return GST_FLOW_ERROR;
    }
    /* the first segment of a run releases subscribers of an older one */
    h->open = gst_trickle_channel_open_write (h->out, GST_TRICKLE_SEQ_NEXT,
        h->reset);
    h->reset = FALSE;
    sh = gst_trickle_segmenter_get_streamheader (h->segmenter);
    for (i = 0; h->open && i < sh->len; i++)
      write_bytes (h, g_ptr_array_index (sh, i));
  }
  if (!h->open)
    return GST_FLOW_OK;         /* this segment could not be written */
  if (!write_bytes (h, buf)) {
    GST_ELEMENT_WARNING (h->server, RESOURCE, WRITE,
        ("A segment of channel \"%s\" was dropped", h->channel),
        ("larger than max-segment-size, or the channel was closed"));
    g_clear_pointer (&h->open, gst_trickle_segment_unref);
    gst_trickle_segmenter_reset (h->segmenter);
    return GST_FLOW_OK;
  }
  if (cut & GST_TRICKLE_CUT_END_AFTER)
    finish_open (h);
  return GST_FLOW_OK;
}

/* writes what the segmenter has ready */
static GstFlowReturn
write_pieces (Hosted * h)
{
  GstFlowReturn ret = GST_FLOW_OK;
  GstTrickleCut cut;
  GstBuffer *piece;

  while ((piece = gst_trickle_segmenter_pop (h->segmenter, &cut))) {
    if (ret == GST_FLOW_OK)
      ret = write_piece (h, piece, cut);
    gst_buffer_unref (piece);
  }
  return ret;
}

static GstFlowReturn
sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  Hosted *h = hosted (pad);

  gst_trickle_segmenter_push (h->segmenter, buf);
  return write_pieces (h);
}

/* GStreamer's MPEG-TS muxers (GstBaseTsMux) push one PES per list */
static GstFlowReturn
sink_chain_list (GstPad * pad, GstObject * parent, GstBufferList * list)
{
  Hosted *h = hosted (pad);

  gst_trickle_segmenter_push_list (h->segmenter, list,
      gst_trickle_pad_peer_is_ts_muxer (pad));
  return write_pieces (h);
}

/**
 * gst_trickle_pad_peer_is_ts_muxer:
 * @sinkpad: a sink pad
 *
 * Returns: whether the element upstream of @sinkpad is one of GStreamer's
 * MPEG-TS muxers (mpegtsmux, atscmux...) pushing one buffer list per whole
 * PES: its `alignment` 0, or -1 (automatic) outside `m2ts-mode` (which
 * aligns to 32 packets)
 */
gboolean
gst_trickle_pad_peer_is_ts_muxer (GstPad * sinkpad)
{
  GType tsmux = g_type_from_name ("GstBaseTsMux");
  GstPad *peer = gst_pad_get_peer (sinkpad);
  GstElement *e = NULL;
  gboolean is;

  /* through ghost pads (a muxer inside a bin) */
  while (peer && GST_IS_PROXY_PAD (peer)) {
    GstPad *target = GST_IS_GHOST_PAD (peer) ?
        gst_ghost_pad_get_target (GST_GHOST_PAD (peer)) : NULL;
    gst_object_unref (peer);
    peer = target;
  }
  if (peer)
    e = gst_pad_get_parent_element (peer);
  is = tsmux && e && g_type_is_a (G_OBJECT_TYPE (e), tsmux);
  if (is) {
    gint alignment = -1;
    gboolean m2ts = FALSE;

    g_object_get (e, "alignment", &alignment, NULL);
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), "m2ts-mode"))
      g_object_get (e, "m2ts-mode", &m2ts, NULL);
    is = alignment == 0 || (alignment == -1 && !m2ts);
  }
  gst_clear_object (&e);
  gst_clear_object (&peer);
  return is;
}

static gboolean
sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  Hosted *h = hosted (pad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      gst_trickle_segmenter_set_caps (h->segmenter, caps);
      g_free (h->content_type);
      h->content_type =
          g_strdup (gst_trickle_segmenter_get_content_type (h->segmenter));
      if (out_channel (h))
        gst_trickle_channel_set_mime_type (h->out, h->content_type);
      break;
    }
    case GST_EVENT_EOS:
      /* the last segment ends; the channel stays (the pipeline may run
       * again). The server posts EOS once all its sink pads are here */
      gst_trickle_segmenter_drain (h->segmenter);
      write_pieces (h);
      finish_open (h);
      gst_trickle_segmenter_reset (h->segmenter);
      g_atomic_int_set (&h->got_eos, 1);
      h->eos_func (h->server, gst_event_get_seqnum (event));
      break;
    case GST_EVENT_FLUSH_STOP:
      if (h->open) {
        gst_trickle_channel_abort (h->out, h->open);
        g_clear_pointer (&h->open, gst_trickle_segment_unref);
      }
      gst_trickle_segmenter_reset (h->segmenter);
      g_atomic_int_set (&h->got_eos, 0);
      h->eos_func (h->server, GST_SEQNUM_INVALID);
      break;
    default:
      break;
  }
  gst_event_unref (event);
  return TRUE;
}

static gboolean
sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    GstCaps *filter, *caps;
    gst_query_parse_caps (query, &filter);
    caps = filter ? gst_caps_ref (filter) : gst_caps_new_any ();
    gst_query_set_caps_result (query, caps);
    gst_caps_unref (caps);
    return TRUE;
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
    gst_query_set_accept_caps_result (query, TRUE);
    return TRUE;
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_ALLOCATION)
    return FALSE;
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
sink_activate_mode (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  Hosted *h = hosted (pad);

  if (!active) {
    GST_PAD_STREAM_LOCK (pad);
    finish_open (h);
    gst_trickle_segmenter_reset (h->segmenter);
    g_clear_pointer (&h->out, gst_trickle_channel_unref);
    GST_PAD_STREAM_UNLOCK (pad);
  }
  g_atomic_int_set (&h->got_eos, 0);
  return mode == GST_PAD_MODE_PUSH;
}

/* ------------------------------------------------------------------------ */

static void
hosted_free (Hosted * h)
{
  g_clear_pointer (&h->reader, gst_trickle_reader_free);
  if (h->framer)
    gst_trickle_framer_free (h->framer);
  if (h->segmenter)
    gst_trickle_segmenter_free (h->segmenter);
  g_clear_pointer (&h->open, gst_trickle_segment_unref);
  g_clear_pointer (&h->out, gst_trickle_channel_unref);
  g_clear_object (&h->store);
  g_free (h->content_type);
  g_free (h->channel);
  g_free (h);
}

/**
 * gst_trickle_pad_new:
 * @name: `src_<channel>` or `sink_<channel>`
 * @eos_func: called on a sink pad's EOS and flushes, with @server
 *
 * Returns: (transfer floating) (nullable): the pad, not yet added
 */
GstPad *
gst_trickle_pad_new (GstElement * server, GstPadTemplate * templ,
    const gchar * name, GstTricklePadEosFunc eos_func)
{
  gboolean is_src = GST_PAD_TEMPLATE_DIRECTION (templ) == GST_PAD_SRC;
  const gchar *prefix = is_src ? "src_" : "sink_";
  GstPad *pad;
  Hosted *h;

  if (!name || !g_str_has_prefix (name, prefix) ||
      name[strlen (prefix)] == '\0') {
    GST_WARNING_OBJECT (server, "a hosted pad is named %s<channel>, not %s",
        prefix, GST_STR_NULL (name));
    return NULL;
  }
  h = g_new0 (Hosted, 1);
  h->server = server;
  h->eos_func = eos_func;
  h->channel = g_strdup (name + strlen (prefix));
  h->is_src = is_src;
  pad = gst_pad_new_from_template (templ, name);
  h->pad = pad;
  gst_pad_set_element_private (pad, h);
  gst_pad_set_iterate_internal_links_function (pad, no_internal_links);
  g_object_set_data_full (G_OBJECT (pad), "trickle-hosted", h,
      (GDestroyNotify) hosted_free);
  if (is_src) {
    h->framer = gst_trickle_framer_new (GST_OBJECT (pad));
    gst_pad_set_activatemode_function (pad, src_activate_mode);
    gst_pad_set_query_function (pad, src_query);
    gst_pad_set_event_function (pad, src_event);
  } else {
    h->segmenter = gst_trickle_segmenter_new ();
    gst_pad_set_chain_function (pad, sink_chain);
    gst_pad_set_chain_list_function (pad, sink_chain_list);
    gst_pad_set_event_function (pad, sink_event);
    gst_pad_set_query_function (pad, sink_query);
    gst_pad_set_activatemode_function (pad, sink_activate_mode);
  }
  return pad;
}

/**
 * gst_trickle_pad_end_stream:
 * @seqnum: of the EOS event the pipeline was sent, or GST_SEQNUM_INVALID
 *
 * A src pad pushes EOS and stops reading its channel (from any thread).
 */
void
gst_trickle_pad_end_stream (GstPad * pad, guint32 seqnum)
{
  Hosted *h = hosted (pad);

  if (!h || !h->is_src)
    return;
  GST_OBJECT_LOCK (pad);
  h->end_seqnum = seqnum;
  g_atomic_int_set (&h->end_stream, 1);
  /* wakes the task up if it waits for a publisher */
  if (h->reader)
    gst_trickle_reader_unlock (h->reader);
  GST_OBJECT_UNLOCK (pad);
}

/* a sink pad took EOS (and no flush since) */
gboolean
gst_trickle_pad_is_eos (GstPad * pad)
{
  Hosted *h = hosted (pad);

  return h && !h->is_src && g_atomic_int_get (&h->got_eos);
}

/* makes the pad's channel in @store (a started server), which the pad
 * reads and writes until gst_trickle_pad_drop_store() or _unhost() */
void
gst_trickle_pad_host (GstPad * pad, GstTrickleChannelStore * store)
{
  Hosted *h = hosted (pad);
  GstTrickleChannel *ch;

  GST_OBJECT_LOCK (pad);
  g_set_object (&h->store, store);
  GST_OBJECT_UNLOCK (pad);
  /* an output channel is the pipeline's: clients read it, never write it
   * (by name: also when it is swept and made again) */
  if (!h->is_src)
    gst_trickle_channel_store_guard (store, h->channel, TRUE, NULL);
  ch = gst_trickle_channel_store_lookup (store, h->channel);

  if (!ch)
    ch = gst_trickle_channel_store_create (store, h->channel,
        h->content_type, NULL);
  if (ch) {
    /* an input channel's media is whatever its publishers send; an output
     * channel is the pipeline's: clients read it, never write it */
    if (h->is_src)
      gst_trickle_channel_set_publisher_typed (ch, TRUE);
    gst_trickle_channel_unref (ch);
  }
}

/* the server stopped: the pad has no store any more */
void
gst_trickle_pad_drop_store (GstPad * pad)
{
  Hosted *h = hosted (pad);
  GstTrickleChannelStore *store;

  if (!h)
    return;
  GST_OBJECT_LOCK (pad);
  store = g_steal_pointer (&h->store);
  GST_OBJECT_UNLOCK (pad);
  g_clear_object (&store);
}

/* removes the pad's channel from @store (the pad is released) */
void
gst_trickle_pad_unhost (GstPad * pad, GstTrickleChannelStore * store)
{
  gst_trickle_pad_drop_store (pad);
  gst_trickle_channel_store_remove (store, hosted (pad)->channel);
}
