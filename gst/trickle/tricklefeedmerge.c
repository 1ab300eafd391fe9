/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * The change feed of a cluster (the channel store's changefeed-peers).
 *
 * Each server writes what happens to its own channels into two internal
 * channels: `_changes` (the feed clients read) and `_changes-local` (only
 * its own channels: what its peers follow). Every SNAPSHOT_INTERVAL_MS it
 * also writes into `_changes-local` the whole list, `{"channels":[...]}`,
 * so a peer that (re)connects, or fell behind, learns the state without
 * the history. One thread per peer follows the peer's `_changes-local`
 * with a GstTrickleSubscriber (from the segment being written, then
 * onwards) and writes into this server's `_changes` an `{"added":[name]}`
 * or `{"removed":[name]}` for every change of the peer's list. Documents
 * read from a peer never go into `_changes-local`, so nothing loops
 * however the servers name each other.
 *
 * A peer that cannot be reached, or whose feed breaks or ends, is lost:
 * its channels are written as removed, and it is asked again after a
 * delay doubling from 250 ms to 5 s; when it answers, its snapshot brings
 * its channels back as added.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <libsoup/soup.h>
#include <gst/trickle/trickle-json-private.h>
#include "trickle-private.h"
#include "tricklesubscriber.h"

GST_DEBUG_CATEGORY_STATIC (feed_merge_debug);
#define GST_CAT_DEFAULT feed_merge_debug

#define SNAPSHOT_INTERVAL_MS 5000
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 5000
/* a peer's document: at most this big (a list of 10000 names of 256
 * bytes fits) */
#define MAX_DOC_SIZE (4 * 1024 * 1024)

typedef struct _Peer Peer;

struct _GstTrickleFeedMerge
{
  GstTrickleChannelStore *store;        /* not a reference: it owns us */
  GMutex lock;
  GCond cond;
  gboolean stopping;
  GPtrArray *peers;
  GThread *snapshot_thread;
};

struct _Peer
{
  GstTrickleFeedMerge *merge;
  gchar *url;                   /* the peer's _changes-local */
  GThread *thread;
  GstTrickleSubscriber *sub;    /* under merge->lock */
  GHashTable *names;            /* the peer's channels; its thread's own */
};

/* waits @ms or until stopped; returns FALSE when stopping */
static gboolean
merge_wait (GstTrickleFeedMerge * m, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  gboolean go_on;

  g_mutex_lock (&m->lock);
  while (!m->stopping && g_cond_wait_until (&m->cond, &m->lock, end));
  go_on = !m->stopping;
  g_mutex_unlock (&m->lock);
  return go_on;
}

static gboolean
valid_name (const gchar * name)
{
  gsize i, len = strlen (name);

  if (len == 0 || len > 256)
    return FALSE;
  for (i = 0; i < len; i++) {
    if (!g_ascii_isalnum (name[i]) && !strchr ("-_.~", name[i]))
      return FALSE;
  }
  return TRUE;
}

static void
peer_add (Peer * p, const gchar * name)
{
  if (g_hash_table_contains (p->names, name))
    return;
  g_hash_table_add (p->names, g_strdup (name));
  _gst_trickle_channel_store_write_change (p->merge->store, "added", name);
}

static void
peer_remove (Peer * p, const gchar * name)
{
  if (!g_hash_table_remove (p->names, name))
    return;
  _gst_trickle_channel_store_write_change (p->merge->store, "removed", name);
}

/* every channel of a lost peer, as removed */
static void
peer_lost (Peer * p)
{
  GList *names = g_hash_table_get_keys (p->names), *l;

  names = g_list_sort (names, (GCompareFunc) strcmp);
  for (l = names; l; l = l->next)
    _gst_trickle_channel_store_write_change (p->merge->store, "removed",
        l->data);
  g_list_free (names);
  g_hash_table_remove_all (p->names);
}

/* the names of @member of @obj, NULL if it is no array of valid names */
static GPtrArray *
doc_names (JsonObject * obj, const gchar * member)
{
  JsonNode *node = json_object_get_member (obj, member);
  JsonArray *arr;
  GPtrArray *names;
  guint i, n;

  if (!node || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  arr = json_node_get_array (node);
  n = json_array_get_length (arr);
  names = g_ptr_array_new ();
  for (i = 0; i < n; i++) {
    JsonNode *el = json_array_get_element (arr, i);
    const gchar *name;

    if (!JSON_NODE_HOLDS_VALUE (el)
        || json_node_get_value_type (el) != G_TYPE_STRING
        || !valid_name ((name = json_node_get_string (el)))) {
      g_ptr_array_unref (names);
      return NULL;
    }
    g_ptr_array_add (names, (gpointer) name);
  }
  return names;
}

static void
peer_apply (Peer * p, const gchar * data, gsize len)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *root;
  JsonObject *obj;
  GPtrArray *names;
  guint i;

  if (!json_parser_load_from_data (parser, data, len, NULL)
      || !(root = json_parser_get_root (parser)) || !JSON_NODE_HOLDS_OBJECT
      (root)) {
    GST_WARNING ("%s: not a JSON object, ignored", p->url);
    goto out;
  }
  obj = json_node_get_object (root);
  if ((names = doc_names (obj, "channels"))) {
    /* the whole list: what is not in it any more is removed */
    GHashTable *now = g_hash_table_new (g_str_hash, g_str_equal);
    GList *known = g_hash_table_get_keys (p->names), *l;

    for (i = 0; i < names->len; i++)
      g_hash_table_add (now, names->pdata[i]);
    known = g_list_sort (known, (GCompareFunc) strcmp);
    for (l = known; l; l = l->next) {
      if (!g_hash_table_contains (now, l->data))
        peer_remove (p, l->data);
    }
    g_list_free (known);
    for (i = 0; i < names->len; i++)
      peer_add (p, names->pdata[i]);
    g_hash_table_unref (now);
    g_ptr_array_unref (names);
  } else if ((names = doc_names (obj, "added"))) {
    for (i = 0; i < names->len; i++)
      peer_add (p, names->pdata[i]);
    g_ptr_array_unref (names);
  } else if ((names = doc_names (obj, "removed"))) {
    for (i = 0; i < names->len; i++)
      peer_remove (p, names->pdata[i]);
    g_ptr_array_unref (names);
  } else {
    GST_WARNING ("%s: a document without added, removed or channels", p->url);
  }
out:
  g_object_unref (parser);
}

/* follows the peer until it is lost or we stop; returns TRUE when a
 * document was read (the backoff starts over) */
static gboolean
peer_follow (Peer * p)
{
  GstTrickleFeedMerge *m = p->merge;
  GstTrickleSubscriber *sub = gst_trickle_subscriber_new (p->url);
  GstTrickleSubscriberEvent ev;
  GByteArray *doc = NULL;
  GError *err = NULL;
  gboolean got = FALSE, too_big = FALSE;
  gchar *token = _gst_trickle_channel_store_dup_peers_token (m->store);

  /* from the document being written (the latest), no retries of its own:
   * a peer that does not answer is lost at once, we retry */
  g_object_set (sub, "start-seq", (gint64) - 2, "retries", 0,
      "wait-timeout", 0.0, NULL);
  if (token) {
    GstStructure *h = gst_structure_new_empty ("headers");
    gchar *v = g_strconcat ("Bearer ", token, NULL);

    gst_structure_set (h, "Authorization", G_TYPE_STRING, v, NULL);
    g_object_set (sub, "extra-headers", h, NULL);
    gst_structure_free (h);
    g_free (v);
    g_free (token);
  }
  if (!gst_trickle_subscriber_start (sub, &err)) {
    GST_WARNING ("%s: %s", p->url, err->message);
    g_clear_error (&err);
    g_object_unref (sub);
    return FALSE;
  }
  /* (started first: a start clears an unlock) */
  g_mutex_lock (&m->lock);
  if (m->stopping) {
    g_mutex_unlock (&m->lock);
    gst_trickle_subscriber_stop (sub);
    g_object_unref (sub);
    return FALSE;
  }
  p->sub = sub;
  g_mutex_unlock (&m->lock);

  while (gst_trickle_subscriber_next_event (sub, &ev, &err)) {
    gboolean eos = FALSE;

    switch (ev.type) {
      case GST_TRICKLE_SUBSCRIBER_SEGMENT_START:
        if (doc)
          g_byte_array_unref (doc);
        doc = g_byte_array_new ();
        too_big = FALSE;
        break;
      case GST_TRICKLE_SUBSCRIBER_DATA:
        if (doc && !too_big) {
          gsize size;
          const guint8 *d = g_bytes_get_data (ev.data, &size);

          if (doc->len + size > MAX_DOC_SIZE)
            too_big = TRUE;
          else
            g_byte_array_append (doc, d, size);
        }
        break;
      case GST_TRICKLE_SUBSCRIBER_SEGMENT_END:
        if (doc && ev.complete && !too_big && doc->len > 0) {
          peer_apply (p, (const gchar *) doc->data, doc->len);
          got = TRUE;
        }
        g_clear_pointer (&doc, g_byte_array_unref);
        break;
      case GST_TRICKLE_SUBSCRIBER_EOS:
        GST_INFO ("%s: end of the feed (%s)", p->url,
            ev.message ? ev.message : "closed");
        eos = TRUE;
        break;
      default:
        break;
    }
    gst_trickle_subscriber_event_clear (&ev);
    if (eos)
      break;
  }
  if (err) {
    GST_INFO ("%s: %s", p->url, err->message);
    g_clear_error (&err);
  }
  if (doc)
    g_byte_array_unref (doc);
  g_mutex_lock (&m->lock);
  p->sub = NULL;
  g_mutex_unlock (&m->lock);
  gst_trickle_subscriber_stop (sub);
  g_object_unref (sub);
  return got;
}

static gpointer
peer_thread (gpointer data)
{
  Peer *p = data;
  guint backoff = 0;

  while (!backoff || merge_wait (p->merge, backoff)) {
    if (peer_follow (p))
      backoff = 0;
    /* lost (or stopping): its channels are gone from the feed */
    peer_lost (p);
    backoff = backoff ? MIN (backoff * 2, BACKOFF_MAX_MS) : BACKOFF_FIRST_MS;
  }
  return NULL;
}

static gpointer
snapshot_thread (gpointer data)
{
  GstTrickleFeedMerge *m = data;

  do {
    _gst_trickle_channel_store_write_snapshot (m->store);
  } while (merge_wait (m, SNAPSHOT_INTERVAL_MS));
  return NULL;
}

static void
peer_free (Peer * p)
{
  g_free (p->url);
  g_hash_table_unref (p->names);
  g_free (p);
}

/* @peers: base URLs (`http://host:port/` or with the base path) */
GstTrickleFeedMerge *
_gst_trickle_feed_merge_new (GstTrickleChannelStore * store,
    const gchar * const *peers)
{
  GstTrickleFeedMerge *m = g_new0 (GstTrickleFeedMerge, 1);
  guint i;

  GST_DEBUG_CATEGORY_INIT (feed_merge_debug, "tricklefeedmerge", 0,
      "trickle change feed of a cluster");
  /* the classes the followers' first connections need, made here, in one
   * thread: GLib 2.74 can deadlock when two threads initialize such GIO
   * types at once (a server starting in another thread did) */
  {
    GType types[] = { SOUP_TYPE_SESSION, SOUP_TYPE_MESSAGE,
      G_TYPE_INET_SOCKET_ADDRESS, G_TYPE_INET_ADDRESS, G_TYPE_NETWORK_ADDRESS,
      G_TYPE_SOCKET_CLIENT, G_TYPE_SOCKET, G_TYPE_TCP_CONNECTION,
      G_TYPE_SOCKET_ADDRESS_ENUMERATOR
    };
    guint t;

    for (t = 0; t < G_N_ELEMENTS (types); t++)
      g_type_class_unref (g_type_class_ref (types[t]));
  }
  m->store = store;
  g_mutex_init (&m->lock);
  g_cond_init (&m->cond);
  m->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  for (i = 0; peers && peers[i]; i++) {
    Peer *p;
    gchar *base = g_strstrip (g_strdup (peers[i]));

    if (*base == '\0') {
      g_free (base);
      continue;
    }
    p = g_new0 (Peer, 1);
    p->merge = m;
    p->url = g_strconcat (base, g_str_has_suffix (base, "/") ? "" : "/",
        GST_TRICKLE_CHANGEFEED_LOCAL_CHANNEL, NULL);
    p->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_ptr_array_add (m->peers, p);
    g_free (base);
  }
  m->snapshot_thread = g_thread_new ("trickle-feed-snapshot", snapshot_thread,
      m);
  for (i = 0; i < m->peers->len; i++) {
    Peer *p = g_ptr_array_index (m->peers, i);
    GST_INFO ("following %s", p->url);
    p->thread = g_thread_new ("trickle-feed-peer", peer_thread, p);
  }
  return m;
}

void
_gst_trickle_feed_merge_free (GstTrickleFeedMerge * m)
{
  guint i;

  g_mutex_lock (&m->lock);
  m->stopping = TRUE;
  g_cond_broadcast (&m->cond);
  for (i = 0; i < m->peers->len; i++) {
    Peer *p = g_ptr_array_index (m->peers, i);
    if (p->sub)
      gst_trickle_subscriber_unlock (p->sub);
  }
  g_mutex_unlock (&m->lock);
  for (i = 0; i < m->peers->len; i++) {
    Peer *p = g_ptr_array_index (m->peers, i);
    g_thread_join (p->thread);
  }
  g_thread_join (m->snapshot_thread);
  g_ptr_array_unref (m->peers);
  g_mutex_clear (&m->lock);
  g_cond_clear (&m->cond);
  g_free (m);
}
