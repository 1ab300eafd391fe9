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
/* trickleserver's control and events channels.
 *
 * Control: a thread reads the `control` channel (hosted: it exists while
 * the server runs) in process; each segment is one JSON document. It is
 * posted as a "trickle-control" element message and emitted as the
 * "control" signal; a document of the form
 *   {"set": {"<element>.<property>": <value>, ...}}
 * sets properties on named elements of the pipeline, with GStreamer's own
 * value deserialisation (a JSON string is deserialised for the property's
 * type: enums by nick, caps, fractions "30/1"...; numbers and booleans are
 * converted and range-checked). Everything is checked first: an invalid
 * document (bad JSON, unknown element or property, wrong type, out of
 * range, not writable) changes nothing, is posted as a warning and
 * published as an "error" event.
 *
 * Events: JSON documents the server publishes into the `events` channel:
 * {"event":"started"} / {"event":"stopped"} on PLAYING and leaving it,
 * {"event":"control","seq":N} for each control document applied,
 * {"event":"error",...} for a refused one, and every `stats-interval`
 * seconds {"event":"stats","channels":{...}}. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/trickle/trickle-json-private.h>
#include "gsttricklecontrol.h"

GST_DEBUG_CATEGORY_EXTERN (gst_trickle_server_debug);
#define GST_CAT_DEFAULT gst_trickle_server_debug

struct _GstTrickleControl
{
  GstElement *server;           /* not a reference: it owns us */
  GstTrickleChannelStore *store;
  gchar *control;
  gchar *events;
  guint stats_interval;

  GThread *control_thread;
  GstTrickleReader *reader;

  GThread *stats_thread;
  GMutex lock;
  GCond cond;
  gboolean stopping;
  gchar **allow;                /* under lock: control-allow, or NULL */
};

/* control-allow: comma-separated `element.property` patterns (NULL: any
 * but the server's own) */
void
gst_trickle_control_set_allow (GstTrickleControl * c, const gchar * patterns)
{
  gchar **allow = NULL;
  guint i;

  if (!c)
    return;
  if (patterns && *patterns) {
    allow = g_strsplit (patterns, ",", -1);
    for (i = 0; allow[i]; i++)
      g_strstrip (allow[i]);
  }
  g_mutex_lock (&c->lock);
  g_strfreev (c->allow);
  c->allow = allow;
  g_mutex_unlock (&c->lock);
}

/* the element is the server or one of its children */
static gboolean
is_server_own (GstTrickleControl * c, GstElement * e)
{
  GstObject *o = gst_object_ref (GST_OBJECT (e));

  while (o) {
    GstObject *parent;

    if (o == GST_OBJECT (c->server)) {
      gst_object_unref (o);
      return TRUE;
    }
    parent = gst_object_get_parent (o);
    gst_object_unref (o);
    o = parent;
  }
  return FALSE;
}

/* Who may be set: never the server's own settings (a client must not
 * change max-channels, its tokens, its port), and with control-allow only
 * what it names. Each element is found as gst_trickle_json_apply_settings()
 * finds it, so the one checked is the one that would be set. Returns
 * NULL, or why @set is refused */
static gchar *
check_allowed (GstTrickleControl * c, GstElement * top,
    const GstStructure * set)
{
  gchar *why = NULL, **allow;
  gint i, n = gst_structure_n_fields (set);

  /* a copy: no lock is held while elements are looked up (their object
   * locks come after ours elsewhere) */
  g_mutex_lock (&c->lock);
  allow = g_strdupv (c->allow);
  g_mutex_unlock (&c->lock);
  for (i = 0; i < n && !why; i++) {
    const gchar *key = gst_structure_nth_field_name (set, i);
    const gchar *dot = strrchr (key, '.');
    gchar *name = dot ? g_strndup (key, dot - key) : NULL;
    GstElement *e = NULL;

    if (name)
      e = GST_IS_BIN (top) ? gst_bin_get_by_name (GST_BIN (top), name) :
          (g_strcmp0 (GST_ELEMENT_NAME (top), name) == 0 ?
          gst_object_ref (top) : NULL);
    if (e && is_server_own (c, e)) {
      why = g_strdup_printf ("\"%s\": the server's own settings cannot be "
          "changed by a control document", key);
    } else if (allow) {
      guint k;
      gboolean ok = FALSE;

      for (k = 0; allow[k] && !ok; k++)
        ok = allow[k][0] && g_pattern_match_simple (allow[k], key);
      if (!ok)
        why = g_strdup_printf ("\"%s\" is not in control-allow", key);
    }
    if (e)
      gst_object_unref (e);
    g_free (name);
  }
  g_strfreev (allow);
  return why;
}

/* ------------------------------------------------------------------------ */
/* events */

void
gst_trickle_control_publish_event (GstTrickleControl * c, const gchar * json)
{
  GstTrickleChannel *ch;
  GBytes *bytes;

  if (!c || !c->events)
    return;
  ch = gst_trickle_channel_store_lookup (c->store, c->events);
  if (!ch) {
    ch = gst_trickle_channel_store_create (c->store, c->events,
        "application/json", NULL);
    if (!ch)
      return;
  }
  bytes = g_bytes_new (json, strlen (json));
  gst_trickle_channel_write_segment (ch, bytes, NULL);
  g_bytes_unref (bytes);
  gst_trickle_channel_unref (ch);
}

/* a document built with json-glib, published on the events channel */
static void
publish_event_node (GstTrickleControl * c, JsonNode * node)
{
  gchar *json = gst_trickle_json_node_to_string (node);

  gst_trickle_control_publish_event (c, json);
  g_free (json);
  json_node_unref (node);
}

static void
publish_error (GstTrickleControl * c, gint64 seq, const gchar * message)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, "control");
  json_builder_set_member_name (b, "seq");
  json_builder_add_int_value (b, seq);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  publish_event_node (c, json_builder_get_root (b));
  g_object_unref (b);
}

static JsonNode *
stats_node (GstStructure * stats)
{
  GValue v = G_VALUE_INIT;
  JsonNode *node;

  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_set_boxed (&v, stats);
  node = gst_trickle_json_value_to_node (&v);
  g_value_unset (&v);
  return node;
}

static gpointer
stats_thread (gpointer data)
{
  GstTrickleControl *c = data;

  g_mutex_lock (&c->lock);
  while (!c->stopping) {
    gint64 until = g_get_monotonic_time () +
        (gint64) c->stats_interval * G_USEC_PER_SEC;
    while (!c->stopping && g_cond_wait_until (&c->cond, &c->lock, until));
    if (c->stopping)
      break;
    g_mutex_unlock (&c->lock);
    {
      GstStructure *s = gst_trickle_channel_store_get_stats (c->store);
      JsonBuilder *b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "event");
      json_builder_add_string_value (b, "stats");
      json_builder_set_member_name (b, "channels");
      json_builder_add_value (b, stats_node (s));
      json_builder_end_object (b);
      publish_event_node (c, json_builder_get_root (b));
      g_object_unref (b);
      gst_structure_free (s);
    }
    g_mutex_lock (&c->lock);
  }
  g_mutex_unlock (&c->lock);
  return NULL;
}

gchar *
gst_trickle_control_stats_json (GstStructure * stats)
{
  JsonNode *node = stats_node (stats);
  gchar *json = gst_trickle_json_node_to_string (node);

  json_node_unref (node);
  return json;
}

/* ------------------------------------------------------------------------ */
/* control */

static GstElement *
toplevel (GstElement * e)
{
  GstObject *top = gst_object_ref (GST_OBJECT (e)), *parent;

  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  return GST_ELEMENT (top);
}

static void
handle_document (GstTrickleControl * c, gint64 seq, const gchar * text,
    gsize len)
{
  GValue doc = G_VALUE_INIT;
  GError *err = NULL;
  GstStructure *parsed = NULL, *msg;
  gchar *json, *why = NULL;

  /* JSON is UTF-8; anything else is refused like any invalid document
   * (and must not reach a GstStructure's string field, which warns) */
  if (!g_utf8_validate_len (text, len, NULL)) {
    json = g_utf8_make_valid (text, len);
    why = g_strdup ("the document is not UTF-8 text");
  } else {
    json = g_strndup (text, len);
  }
  if (!why && !gst_trickle_json_parse (json, len, &doc, &err)) {
    why = g_strdup (err->message);
    g_clear_error (&err);
  } else if (!why && G_VALUE_TYPE (&doc) == GST_TYPE_STRUCTURE) {
    parsed = gst_structure_copy (gst_value_get_structure (&doc));
  }

  msg = gst_structure_new ("trickle-control", "channel", G_TYPE_STRING,
      c->control, "seq", G_TYPE_INT64, seq, "json", G_TYPE_STRING, json, NULL);
  if (parsed)
    gst_structure_set (msg, "data", GST_TYPE_STRUCTURE, parsed, NULL);
  gst_element_post_message (c->server,
      gst_message_new_element (GST_OBJECT (c->server), msg));
  g_signal_emit_by_name (c->server, "control", seq, json, parsed);

  if (!why && parsed && gst_structure_has_field (parsed, "set")) {
    const GValue *set = gst_structure_get_value (parsed, "set");
    if (G_VALUE_TYPE (set) != GST_TYPE_STRUCTURE)
      why = g_strdup ("\"set\" is not an object");
    else {
      GstElement *top = toplevel (c->server);

      why = check_allowed (c, top, gst_value_get_structure (set));
      if (!why && !gst_trickle_json_apply_settings (top,
              gst_value_get_structure (set), &err)) {
        why = g_strdup (err->message);
        g_clear_error (&err);
      }
      gst_object_unref (top);
    }
  }

  if (why) {
    GST_ELEMENT_WARNING (c->server, STREAM, FORMAT,
        ("Invalid control message on channel \"%s\"", c->control),
        ("segment %" G_GINT64_FORMAT ": %s", seq, why));
    publish_error (c, seq, why);
  } else {
    JsonBuilder *b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "event");
    json_builder_add_string_value (b, "control");
    json_builder_set_member_name (b, "seq");
    json_builder_add_int_value (b, seq);
    json_builder_end_object (b);
    publish_event_node (c, json_builder_get_root (b));
    g_object_unref (b);
  }
  g_free (why);
  g_free (json);
  if (parsed)
    gst_structure_free (parsed);
  if (G_IS_VALUE (&doc))
    g_value_unset (&doc);
}

static gpointer
control_thread (gpointer data)
{
  GstTrickleControl *c = data;
  GByteArray *doc = g_byte_array_new ();

  for (;;) {
    GstTrickleSubscriberEvent ev;
    GError *err = NULL;

    if (!gst_trickle_reader_next_event (c->reader, &ev, &err)) {
      g_clear_error (&err);
      break;
    }
    switch (ev.type) {
      case GST_TRICKLE_SUBSCRIBER_SEGMENT_START:
        g_byte_array_set_size (doc, 0);
        break;
      case GST_TRICKLE_SUBSCRIBER_DATA:
        g_byte_array_append (doc, g_bytes_get_data (ev.data, NULL),
            g_bytes_get_size (ev.data));
        break;
      case GST_TRICKLE_SUBSCRIBER_SEGMENT_END:
        if (ev.complete && doc->len > 0)
          handle_document (c, ev.seq, (const gchar *) doc->data, doc->len);
        g_byte_array_set_size (doc, 0);
        break;
      default:
        break;
    }
    gst_trickle_subscriber_event_clear (&ev);
  }
  g_byte_array_unref (doc);
  return NULL;
}

/* ------------------------------------------------------------------------ */

GstTrickleControl *
gst_trickle_control_start (GstElement * server,
    GstTrickleChannelStore * store, const gchar * control,
    const gchar * events, guint stats_interval, const gchar * allow)
{
  GstTrickleControl *c;

  if (!control && !events)
    return NULL;
  c = g_new0 (GstTrickleControl, 1);
  c->server = server;
  c->store = g_object_ref (store);
  c->control = g_strdup (control);
  c->events = g_strdup (events);
  c->stats_interval = stats_interval;
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  /* before the first document is read */
  gst_trickle_control_set_allow (c, allow);
  if (events) {
    GstTrickleChannel *ch = gst_trickle_channel_store_create (store, events,
        "application/json", NULL);
    if (ch)
      gst_trickle_channel_unref (ch);
    if (stats_interval > 0)
      c->stats_thread = g_thread_new ("trickle-stats", stats_thread, c);
  }
  if (control) {
    /* from the segment being written when we start: a gateway may have
     * posted the first settings before the pipeline came up */
    c->reader = gst_trickle_reader_new (store, control,
        GST_TRICKLE_SEQ_CURRENT, TRUE);
    c->control_thread = g_thread_new ("trickle-control", control_thread, c);
  }
  return c;
}

void
gst_trickle_control_stop (GstTrickleControl * c)
{
  if (!c)
    return;
  if (c->reader)
    gst_trickle_reader_unlock (c->reader);
  if (c->control_thread)
    g_thread_join (c->control_thread);
  g_clear_pointer (&c->reader, gst_trickle_reader_free);
  g_mutex_lock (&c->lock);
  c->stopping = TRUE;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  if (c->stats_thread)
    g_thread_join (c->stats_thread);
  g_object_unref (c->store);
  g_free (c->control);
  g_free (c->events);
  g_strfreev (c->allow);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}
