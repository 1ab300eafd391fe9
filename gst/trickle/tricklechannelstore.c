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
/**
 * SECTION:tricklechannelstore
 * @title: GstTrickleChannelStore
 * @short_description: the channels a trickle server hosts
 *
 * The store maps channel names to #GstTrickleChannel objects, enforces the
 * limits (number of channels, segment window, segment size), closes idle
 * channels and optionally publishes a change feed on the internal channel
 * `_changes` (one JSON document per segment: `{"added":["name"]}` or
 * `{"removed":["name"]}`).
 *
 * In a cluster (several servers behind one proxy), `changefeed-peers`
 * lists the other servers: each server then also writes its own changes
 * into the internal channel `_changes-local`, follows its peers' with a
 * #GstTrickleSubscriber, and writes theirs into its `_changes`, so that
 * every server's `_changes` tells of every channel of the cluster
 * (docs/cluster.md).
 *
 * It knows nothing of HTTP: the HTTP server and in-process readers and
 * writers share it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/trickle/trickle-json-private.h>
#include "trickle-private.h"

#define DEFAULT_WINDOW 5
#define DEFAULT_MAX_SEGMENT_SIZE (32 * 1024 * 1024)
#define DEFAULT_MAX_CHANNELS 10000
#define DEFAULT_AUTO_CREATE TRUE
#define DEFAULT_CHANGEFEED FALSE
#define DEFAULT_IDLE_TIMEOUT 300
/* a deleted channel's last segments stay readable this long for the
 * subscribers behind its end, for at most this many channels at once
 * (and at most max-channels: deleting never more than doubles what the
 * channels may hold; the oldest go first) */
#define DRAIN_TIME_US (30 * G_USEC_PER_SEC)
#define DRAIN_MAX 256

enum
{
  PROP_0,
  PROP_WINDOW,
  PROP_MAX_SEGMENT_SIZE,
  PROP_MAX_CHANNELS,
  PROP_AUTO_CREATE,
  PROP_CHANGEFEED,
  PROP_IDLE_TIMEOUT,
  PROP_N_CHANNELS,
  PROP_CHANGEFEED_PEERS,
  PROP_CHANGEFEED_PEERS_TOKEN,
};

enum
{
  SIGNAL_CHANNEL_ADDED,
  SIGNAL_CHANNEL_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

struct _GstTrickleChannelStore
{
  GObject parent;

  GMutex lock;
  GMutex feed_lock;             /* one change-feed write at a time */
  GMutex peers_lock;            /* one change of changefeed-peers at a time */
  GHashTable *channels;         /* name -> GstTrickleChannel */
  GstTrickleChannel *changefeed;
  GstTrickleChannel *localfeed; /* _changes-local, with peers only */
  gchar **peers;
  gchar *peers_token;           /* sent to the peers as a bearer token */
  GstTrickleFeedMerge *merge;   /* following the peers */
  GHashTable *guards;           /* name -> Guard */
  GHashTable *draining;         /* name -> Drained: deleted, still read */

  guint window;
  guint64 max_segment_size;
  guint max_channels;
  gboolean auto_create;
  guint idle_timeout;
};

G_DEFINE_TYPE (GstTrickleChannelStore, gst_trickle_channel_store,
    G_TYPE_OBJECT);

/* a deleted channel whose last segments are still read */
typedef struct
{
  GstTrickleChannel *channel;
  gint64 until;                 /* monotonic µs */
} Drained;

static void
drained_free (Drained * d)
{
  _gst_trickle_channel_close (d->channel);
  gst_trickle_channel_unref (d->channel);
  g_free (d);
}

/* who may write a channel of that name over HTTP */
typedef struct
{
  gboolean read_only;
  gchar *token;
} Guard;

static void
guard_free (Guard * g)
{
  g_free (g->token);
  g_free (g);
}

static void
guard_apply (const Guard * g, GstTrickleChannel * ch)
{
  gst_trickle_channel_set_read_only (ch, g->read_only);
  gst_trickle_channel_set_publish_token (ch, g->token);
}

/* *INDENT-OFF* */
G_DEFINE_QUARK (gst-trickle-store-error-quark, gst_trickle_store_error);
/* *INDENT-ON* */

/* {"added": [name]} or {"removed": [name]}, as the reference writes */
static GBytes *
change_doc (const gchar * what, const gchar * name)
{
  JsonBuilder *b;
  JsonNode *root;
  gchar *json;

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, what);
  json_builder_begin_array (b);
  json_builder_add_string_value (b, name);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = gst_trickle_json_node_to_string (root);
  json_node_unref (root);
  g_object_unref (b);
  return g_bytes_new_take (json, strlen (json));
}

/* @doc into _changes (@local: and _changes-local), if there */
static void
write_feeds (GstTrickleChannelStore * store, GBytes * doc, gboolean local)
{
  GstTrickleChannel *feed, *lfeed;

  g_mutex_lock (&store->lock);
  feed = store->changefeed ? gst_trickle_channel_ref (store->changefeed) : NULL;
  lfeed = local && store->localfeed ?
      gst_trickle_channel_ref (store->localfeed) : NULL;
  g_mutex_unlock (&store->lock);
  if (!feed && !lfeed)
    return;
  g_mutex_lock (&store->feed_lock);
  if (feed)
    gst_trickle_channel_write_segment (feed, doc, NULL);
  if (lfeed)
    gst_trickle_channel_write_segment (lfeed, doc, NULL);
  g_mutex_unlock (&store->feed_lock);
  if (feed)
    gst_trickle_channel_unref (feed);
  if (lfeed)
    gst_trickle_channel_unref (lfeed);
}

static void
publish_change (GstTrickleChannelStore * store, const gchar * what,
    const gchar * name)
{
  GBytes *doc = change_doc (what, name);

  write_feeds (store, doc, TRUE);
  g_bytes_unref (doc);
}

/* a peer's change, into _changes only (never back to the peers) */
void
_gst_trickle_channel_store_write_change (GstTrickleChannelStore * store,
    const gchar * what, const gchar * name)
{
  GBytes *doc = change_doc (what, name);

  write_feeds (store, doc, FALSE);
  g_bytes_unref (doc);
}

/* {"channels": [every name but the feeds']} into _changes-local, for the
 * peers that (re)connect or fell behind */
void
_gst_trickle_channel_store_write_snapshot (GstTrickleChannelStore * store)
{
  GstTrickleChannel *lfeed = NULL;
  JsonBuilder *b = json_builder_new ();
  JsonNode *root;
  GHashTableIter iter;
  gpointer key;
  GList *names = NULL, *l;
  gchar *json;
  GBytes *doc;

  /* under feed_lock, between two changes: a name is in the table before
   * its "added" is written and out of it before its "removed" is, so the
   * list never contradicts a change written before it */
  g_mutex_lock (&store->feed_lock);
  g_mutex_lock (&store->lock);
  if (store->localfeed) {
    lfeed = gst_trickle_channel_ref (store->localfeed);
    g_hash_table_iter_init (&iter, store->channels);
    while (g_hash_table_iter_next (&iter, &key, NULL)) {
      if (strcmp (key, GST_TRICKLE_CHANGEFEED_CHANNEL) != 0
          && strcmp (key, GST_TRICKLE_CHANGEFEED_LOCAL_CHANNEL) != 0)
        names = g_list_prepend (names, g_strdup (key));
    }
  }
  g_mutex_unlock (&store->lock);
  if (!lfeed) {
    g_mutex_unlock (&store->feed_lock);
    g_object_unref (b);
    return;
  }
  names = g_list_sort (names, (GCompareFunc) strcmp);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "channels");
  json_builder_begin_array (b);
  for (l = names; l; l = l->next)
    json_builder_add_string_value (b, l->data);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_list_free_full (names, g_free);
  root = json_builder_get_root (b);
  json = gst_trickle_json_node_to_string (root);
  json_node_unref (root);
  g_object_unref (b);
  doc = g_bytes_new_take (json, strlen (json));
  gst_trickle_channel_write_segment (lfeed, doc, NULL);
  g_mutex_unlock (&store->feed_lock);
  g_bytes_unref (doc);
  gst_trickle_channel_unref (lfeed);
}

static void
reset_peers (GstTrickleChannelStore * store, const gchar * const *peers)
{
  GstTrickleFeedMerge *merge;
  GstTrickleChannel *old = NULL;
  gboolean any = FALSE;
  guint i;

  for (i = 0; peers && peers[i]; i++) {
    const gchar *c = peers[i];
    while (g_ascii_isspace (*c))
      c++;
    any = any || *c != '\0';
  }
  /* one change of peers at a time */
  g_mutex_lock (&store->peers_lock);
  g_mutex_lock (&store->lock);
  merge = store->merge;
  store->merge = NULL;
  g_strfreev (store->peers);
  store->peers = any ? g_strdupv ((gchar **) peers) : NULL;
  g_mutex_unlock (&store->lock);
  /* (outside the lock: its threads write into the store) */
  if (merge)
    _gst_trickle_feed_merge_free (merge);

  g_mutex_lock (&store->lock);
  if (any && !store->localfeed) {
    /* a larger window than the channels': a burst of changes does not
     * make the peers jump over some */
    store->localfeed =
        _gst_trickle_channel_new (GST_TRICKLE_CHANGEFEED_LOCAL_CHANNEL,
        "application/json", MAX (store->window, 64), 0);
    gst_trickle_channel_set_read_only (store->localfeed, TRUE);
    g_hash_table_insert (store->channels,
        g_strdup (GST_TRICKLE_CHANGEFEED_LOCAL_CHANNEL),
        gst_trickle_channel_ref (store->localfeed));
  } else if (!any && store->localfeed) {
    old = store->localfeed;
    store->localfeed = NULL;
    g_hash_table_remove (store->channels, GST_TRICKLE_CHANGEFEED_LOCAL_CHANNEL);
  }
  g_mutex_unlock (&store->lock);
  if (old) {
    _gst_trickle_channel_close (old);
    gst_trickle_channel_unref (old);
  }
  if (any) {
    merge = _gst_trickle_feed_merge_new (store,
        (const gchar * const *) store->peers);
    g_mutex_lock (&store->lock);
    store->merge = merge;
    g_mutex_unlock (&store->lock);
  }
  g_mutex_unlock (&store->peers_lock);
}

static void
set_changefeed (GstTrickleChannelStore * store, gboolean enable)
{
  GstTrickleChannel *old = NULL;

  g_mutex_lock (&store->lock);
  if (enable && !store->changefeed) {
    store->changefeed =
        _gst_trickle_channel_new (GST_TRICKLE_CHANGEFEED_CHANNEL,
        "application/json", store->window, 0);
    /* the store writes it, clients only read it */
    gst_trickle_channel_set_read_only (store->changefeed, TRUE);
    g_hash_table_insert (store->channels,
        g_strdup (GST_TRICKLE_CHANGEFEED_CHANNEL),
        gst_trickle_channel_ref (store->changefeed));
  } else if (!enable && store->changefeed) {
    old = store->changefeed;
    store->changefeed = NULL;
    g_hash_table_remove (store->channels, GST_TRICKLE_CHANGEFEED_CHANNEL);
  }
  g_mutex_unlock (&store->lock);
  if (old) {
    _gst_trickle_channel_close (old);
    gst_trickle_channel_unref (old);
  }
}

static void
gst_trickle_channel_store_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleChannelStore *store = GST_TRICKLE_CHANNEL_STORE (object);

  switch (prop_id) {
    case PROP_WINDOW:
      store->window = g_value_get_uint (value);
      break;
    case PROP_MAX_SEGMENT_SIZE:
      store->max_segment_size = g_value_get_uint64 (value);
      break;
    case PROP_MAX_CHANNELS:
      store->max_channels = g_value_get_uint (value);
      break;
    case PROP_AUTO_CREATE:
      store->auto_create = g_value_get_boolean (value);
      break;
    case PROP_CHANGEFEED:
      set_changefeed (store, g_value_get_boolean (value));
      break;
    case PROP_IDLE_TIMEOUT:
      store->idle_timeout = g_value_get_uint (value);
      break;
    case PROP_CHANGEFEED_PEERS:
      reset_peers (store, g_value_get_boxed (value));
      break;
    case PROP_CHANGEFEED_PEERS_TOKEN:
      g_mutex_lock (&store->lock);
      g_free (store->peers_token);
      store->peers_token = g_value_dup_string (value);
      if (store->peers_token && !*store->peers_token)
        g_clear_pointer (&store->peers_token, g_free);
      g_mutex_unlock (&store->lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_channel_store_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTrickleChannelStore *store = GST_TRICKLE_CHANNEL_STORE (object);

  switch (prop_id) {
    case PROP_WINDOW:
      g_value_set_uint (value, store->window);
      break;
    case PROP_MAX_SEGMENT_SIZE:
      g_value_set_uint64 (value, store->max_segment_size);
      break;
    case PROP_MAX_CHANNELS:
      g_value_set_uint (value, store->max_channels);
      break;
    case PROP_AUTO_CREATE:
      g_value_set_boolean (value, store->auto_create);
      break;
    case PROP_CHANGEFEED:
      g_value_set_boolean (value, store->changefeed != NULL);
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, store->idle_timeout);
      break;
    case PROP_N_CHANNELS:
      g_value_set_uint (value,
          gst_trickle_channel_store_get_n_channels (store));
      break;
    case PROP_CHANGEFEED_PEERS:
      g_mutex_lock (&store->lock);
      g_value_set_boxed (value, store->peers);
      g_mutex_unlock (&store->lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_trickle_channel_store_finalize (GObject * object)
{
  GstTrickleChannelStore *store = GST_TRICKLE_CHANNEL_STORE (object);

  /* the peers' threads first: they write into the store */
  reset_peers (store, NULL);
  gst_trickle_channel_store_clear (store);
  g_hash_table_unref (store->channels);
  g_hash_table_unref (store->guards);
  g_hash_table_unref (store->draining);
  g_mutex_clear (&store->lock);
  g_mutex_clear (&store->feed_lock);
  g_mutex_clear (&store->peers_lock);
  g_free (store->peers_token);
  G_OBJECT_CLASS (gst_trickle_channel_store_parent_class)->finalize (object);
}

static void
gst_trickle_channel_store_class_init (GstTrickleChannelStoreClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_trickle_channel_store_set_property;
  gobject_class->get_property = gst_trickle_channel_store_get_property;
  gobject_class->finalize = gst_trickle_channel_store_finalize;

  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_uint ("window", "Window",
          "Segments kept per channel; older ones answer 470 "
          "(applies to channels created afterwards)",
          1, 1024, DEFAULT_WINDOW, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_SEGMENT_SIZE,
      g_param_spec_uint64 ("max-segment-size", "Maximum segment size",
          "Largest segment in bytes; a larger POST gets 413 and the segment "
          "is aborted (0 = unlimited)",
          0, G_MAXUINT64, DEFAULT_MAX_SEGMENT_SIZE, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_CHANNELS,
      g_param_spec_uint ("max-channels", "Maximum channels",
          "Most channels at once; creating one more answers 503 "
          "(0 = unlimited)", 0, G_MAXUINT, DEFAULT_MAX_CHANNELS, flags));
  g_object_class_install_property (gobject_class, PROP_AUTO_CREATE,
      g_param_spec_boolean ("auto-create", "Auto-create",
          "Create unknown channels on POST (otherwise 404)",
          DEFAULT_AUTO_CREATE, flags));
  g_object_class_install_property (gobject_class, PROP_CHANGEFEED,
      g_param_spec_boolean ("changefeed", "Change feed",
          "Publish channel additions and removals as JSON on the channel "
          "_changes", DEFAULT_CHANGEFEED, flags));
  g_object_class_install_property (gobject_class, PROP_IDLE_TIMEOUT,
      g_param_spec_uint ("idle-timeout", "Idle timeout",
          "Close channels with no new segment for this many seconds "
          "(0 = never; channels named _* are never closed)",
          0, G_MAXUINT / 1000, DEFAULT_IDLE_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_N_CHANNELS,
      g_param_spec_uint ("n-channels", "Channels", "Channels hosted now",
          0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleChannelStore:changefeed-peers:
   *
   * The other servers of a cluster, as the base URLs they are reached at
   * directly (`http://10.0.0.2:2939/`, with the base path if they have
   * one). Each server then writes its own changes into the internal
   * read-only channel `_changes-local` too (a snapshot of its channel
   * list every 5 s besides), follows its peers' (retrying, from 250 ms
   * to 5 s apart, when one cannot be reached) and writes their changes
   * into its `_changes`: the feed of the whole cluster, whichever server
   * it is read from. A lost peer's channels are written as removed; they
   * come back as added when it answers again. Set `changefeed` too for
   * `_changes`.
   */
  g_object_class_install_property (gobject_class, PROP_CHANGEFEED_PEERS,
      g_param_spec_boxed ("changefeed-peers", "Change feed peers",
          "Base URLs of the other servers of a cluster, whose channels' "
          "changes are merged into _changes (theirs read from their "
          "_changes-local)", G_TYPE_STRV, flags));
  /**
   * GstTrickleChannelStore:changefeed-peers-token:
   *
   * The bearer token this server gives its peers (`Authorization: Bearer
   * <token>`) to read their `_changes-local`: needed when they have a
   * `subscribe-token` or a `publish-token` (either of theirs reads).
   * Taken at every connection to a peer, so a new one applies from the
   * next (a peer that refused the old one is asked again within 5 s).
   * Write-only, so that it is never printed.
   */
  g_object_class_install_property (gobject_class,
      PROP_CHANGEFEED_PEERS_TOKEN,
      g_param_spec_string ("changefeed-peers-token", "Change feed peers token",
          "Bearer token given to the changefeed-peers to read their changes "
          "(empty: none)", NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstTrickleChannelStore::channel-added:
   * @store: the store
   * @channel: the new #GstTrickleChannel
   *
   * Emitted from the thread that created the channel.
   */
  signals[SIGNAL_CHANNEL_ADDED] = g_signal_new ("channel-added",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, GST_TRICKLE_TYPE_CHANNEL);
  /**
   * GstTrickleChannelStore::channel-removed:
   * @store: the store
   * @channel: the closed #GstTrickleChannel
   */
  signals[SIGNAL_CHANNEL_REMOVED] = g_signal_new ("channel-removed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, GST_TRICKLE_TYPE_CHANNEL);
}

static void
gst_trickle_channel_store_init (GstTrickleChannelStore * store)
{
  g_mutex_init (&store->lock);
  g_mutex_init (&store->feed_lock);
  g_mutex_init (&store->peers_lock);
  store->channels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) gst_trickle_channel_unref);
  store->guards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) guard_free);
  store->draining = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) drained_free);
  store->window = DEFAULT_WINDOW;
  store->max_segment_size = DEFAULT_MAX_SEGMENT_SIZE;
  store->max_channels = DEFAULT_MAX_CHANNELS;
  store->auto_create = DEFAULT_AUTO_CREATE;
  store->idle_timeout = DEFAULT_IDLE_TIMEOUT;
}

GstTrickleChannelStore *
gst_trickle_channel_store_new (void)
{
  return g_object_new (GST_TRICKLE_TYPE_CHANNEL_STORE, NULL);
}

/**
 * gst_trickle_channel_store_lookup:
 * Returns: (transfer full) (nullable): the channel called @name
 */
GstTrickleChannel *
gst_trickle_channel_store_lookup (GstTrickleChannelStore * store,
    const gchar * name)
{
  GstTrickleChannel *ch;

  g_mutex_lock (&store->lock);
  ch = g_hash_table_lookup (store->channels, name);
  if (ch)
    gst_trickle_channel_ref (ch);
  g_mutex_unlock (&store->lock);
  return ch;
}

/* The deleted channel called @name whose last segments are still kept for
 * the readers behind its end (transfer full, nullable); NULL when a
 * channel of that name exists */
GstTrickleChannel *
_gst_trickle_channel_store_lookup_drained (GstTrickleChannelStore * store,
    const gchar * name)
{
  GstTrickleChannel *ch = NULL;
  Drained *d;

  g_mutex_lock (&store->lock);
  d = g_hash_table_lookup (store->draining, name);
  if (d && d->until < g_get_monotonic_time ())
    g_hash_table_remove (store->draining, name);
  else if (d)
    ch = gst_trickle_channel_ref (d->channel);
  g_mutex_unlock (&store->lock);
  return ch;
}

/**
 * gst_trickle_channel_store_guard:
 * @name: a channel name
 * @read_only: clients may read the channel, not write it
 * @publish_token: (nullable): the bearer token that writing it needs,
 *   instead of the server's publish-token
 *
 * Who may write the channel called @name over HTTP (see
 * gst_trickle_channel_set_read_only() and
 * gst_trickle_channel_set_publish_token()): applied to the channel now if
 * it exists, and every time a channel of that name is created again
 * (after an idle sweep or a DELETE, or by a client's POST before the
 * application made it), so the guard never lapses. A trickleserver guards
 * its events, control and sink-pad channels so.
 */
void
gst_trickle_channel_store_guard (GstTrickleChannelStore * store,
    const gchar * name, gboolean read_only, const gchar * publish_token)
{
  Guard *g = g_new0 (Guard, 1);
  GstTrickleChannel *ch;

  g_return_if_fail (name != NULL);
  g->read_only = read_only;
  g->token = publish_token && *publish_token ? g_strdup (publish_token) : NULL;
  g_mutex_lock (&store->lock);
  ch = g_hash_table_lookup (store->channels, name);
  if (ch)
    guard_apply (g, ch);
  g_hash_table_replace (store->guards, g_strdup (name), g);
  g_mutex_unlock (&store->lock);
}

/* the guard of @name, if it has one (*@token: transfer full) */
gboolean
_gst_trickle_channel_store_get_guard (GstTrickleChannelStore * store,
    const gchar * name, gboolean * read_only, gchar ** token)
{
  const Guard *g;

  g_mutex_lock (&store->lock);
  g = g_hash_table_lookup (store->guards, name);
  if (g) {
    *read_only = g->read_only;
    *token = g_strdup (g->token);
  }
  g_mutex_unlock (&store->lock);
  return g != NULL;
}

/**
 * gst_trickle_channel_store_create:
 * @mime_type: (nullable): the channel's MIME type
 *
 * Returns the existing channel called @name, or creates it.
 *
 * Returns: (transfer full) (nullable): the channel, or %NULL with
 * %GST_TRICKLE_STORE_ERROR_TOO_MANY_CHANNELS
 */
GstTrickleChannel *
gst_trickle_channel_store_create (GstTrickleChannelStore * store,
    const gchar * name, const gchar * mime_type, GError ** error)
{
  GstTrickleChannel *ch;
  guint n_user;

  g_return_val_if_fail (name != NULL && *name != '\0', NULL);

  g_mutex_lock (&store->lock);
  ch = g_hash_table_lookup (store->channels, name);
  if (ch) {
    gst_trickle_channel_ref (ch);
    g_mutex_unlock (&store->lock);
    return ch;
  }
  n_user = g_hash_table_size (store->channels) - (store->changefeed ? 1 : 0)
      - (store->localfeed ? 1 : 0);
  if (store->max_channels > 0 && n_user >= store->max_channels) {
    g_mutex_unlock (&store->lock);
    g_set_error (error, GST_TRICKLE_STORE_ERROR,
        GST_TRICKLE_STORE_ERROR_TOO_MANY_CHANNELS,
        "Too many channels (%u)", store->max_channels);
    return NULL;
  }
  /* a new channel of a deleted one's name: the old segments go */
  g_hash_table_remove (store->draining, name);
  ch = _gst_trickle_channel_new (name, mime_type, store->window,
      store->max_segment_size);
  {
    const Guard *g = g_hash_table_lookup (store->guards, name);
    if (g)
      guard_apply (g, ch);
  }
  g_hash_table_insert (store->channels, g_strdup (name),
      gst_trickle_channel_ref (ch));
  g_mutex_unlock (&store->lock);

  g_signal_emit (store, signals[SIGNAL_CHANNEL_ADDED], 0, ch);
  publish_change (store, "added", name);
  return ch;
}

/* the oldest of the draining channels (under the lock) */
static const gchar *
oldest_drained (GstTrickleChannelStore * store)
{
  GHashTableIter iter;
  gpointer key, value;
  const gchar *oldest = NULL;
  gint64 until = G_MAXINT64;

  g_hash_table_iter_init (&iter, store->draining);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    if (((Drained *) value)->until < until) {
      until = ((Drained *) value)->until;
      oldest = key;
    }
  }
  return oldest;
}

static gboolean
remove_channel (GstTrickleChannelStore * store, const gchar * name,
    gboolean drain)
{
  gpointer key, value;
  GstTrickleChannel *ch;

  g_mutex_lock (&store->lock);
  if (!g_hash_table_steal_extended (store->channels, name, &key, &value)) {
    g_mutex_unlock (&store->lock);
    return FALSE;
  }
  ch = value;
  if (ch == store->changefeed)
    g_clear_pointer (&store->changefeed, gst_trickle_channel_unref);
  if (ch == store->localfeed)
    g_clear_pointer (&store->localfeed, gst_trickle_channel_unref);
  /* closed and kept in one hold of the lock: a GET never finds the name
   * in neither table, and two removals of one name never cross (the
   * segments' waiters only queue their readers) */
  if (drain && _gst_trickle_channel_close_draining (ch)) {
    Drained *d = g_new0 (Drained, 1);
    guint max = store->max_channels > 0 ?
        MIN (store->max_channels, DRAIN_MAX) : DRAIN_MAX;

    d->channel = gst_trickle_channel_ref (ch);
    d->until = g_get_monotonic_time () + DRAIN_TIME_US;
    if (g_hash_table_size (store->draining) >= max &&
        !g_hash_table_contains (store->draining, name))
      g_hash_table_remove (store->draining, oldest_drained (store));
    g_hash_table_replace (store->draining, g_strdup (name), d);
    g_mutex_unlock (&store->lock);
  } else {
    g_mutex_unlock (&store->lock);
    _gst_trickle_channel_close (ch);
  }
  g_signal_emit (store, signals[SIGNAL_CHANNEL_REMOVED], 0, ch);
  publish_change (store, "removed", name);
  gst_trickle_channel_unref (ch);
  g_free (key);
  return TRUE;
}

/**
 * gst_trickle_channel_store_remove:
 *
 * Closes the channel called @name and forgets it: its writers and the
 * readers waiting for a segment to come are released with "closed". The
 * segments it holds that had ended stay readable for 30 s (over HTTP,
 * for the subscribers behind its end; for at most 256 deleted channels,
 * and at most `max-channels`), unless a channel of that name is created
 * again.
 *
 * Returns: %FALSE if there was no such channel
 */
gboolean
gst_trickle_channel_store_remove (GstTrickleChannelStore * store,
    const gchar * name)
{
  return remove_channel (store, name, TRUE);
}

/**
 * gst_trickle_channel_store_sweep:
 * @now_us: the current g_get_monotonic_time()
 *
 * Closes every channel (except internal ones, named `_*`) that has had no
 * new segment for idle-timeout seconds, and forgets the deleted channels
 * whose segments were kept long enough (gst_trickle_channel_store_remove()).
 *
 * Returns: the number of channels closed
 */
guint
gst_trickle_channel_store_sweep (GstTrickleChannelStore * store, gint64 now_us)
{
  GHashTableIter iter;
  gpointer key, value;
  GPtrArray *idle;
  gint64 limit;
  guint i, n = 0;

  g_mutex_lock (&store->lock);
  /* deleted channels kept long enough */
  g_hash_table_iter_init (&iter, store->draining);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    if (((Drained *) value)->until < now_us)
      g_hash_table_iter_remove (&iter);
  }
  if (store->idle_timeout == 0) {
    g_mutex_unlock (&store->lock);
    return 0;
  }
  limit = (gint64) store->idle_timeout * G_USEC_PER_SEC;
  idle = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&iter, store->channels);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    if (((const gchar *) key)[0] == '_')
      continue;
    if (now_us - _gst_trickle_channel_get_write_time (value) > limit)
      g_ptr_array_add (idle, g_strdup (key));
  }
  g_mutex_unlock (&store->lock);

  for (i = 0; i < idle->len; i++)
    n += remove_channel (store, idle->pdata[i], FALSE);
  g_ptr_array_unref (idle);
  return n;
}

guint
gst_trickle_channel_store_get_n_channels (GstTrickleChannelStore * store)
{
  guint n;

  g_mutex_lock (&store->lock);
  n = g_hash_table_size (store->channels);
  g_mutex_unlock (&store->lock);
  return n;
}

/**
 * gst_trickle_channel_store_get_stats:
 *
 * Returns: (transfer full): a structure with one field per channel (its
 * name), each a #GstStructure from gst_trickle_channel_get_stats()
 */
GstStructure *
gst_trickle_channel_store_get_stats (GstTrickleChannelStore * store)
{
  GstStructure *s = gst_structure_new_empty ("trickle-channels");
  GPtrArray *channels = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_trickle_channel_unref);
  GHashTableIter iter;
  gpointer value;
  guint i;

  g_mutex_lock (&store->lock);
  g_hash_table_iter_init (&iter, store->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (channels, gst_trickle_channel_ref (value));
  g_mutex_unlock (&store->lock);
  for (i = 0; i < channels->len; i++) {
    GstTrickleChannel *ch = g_ptr_array_index (channels, i);
    GstStructure *cs = gst_trickle_channel_get_stats (ch);
    gst_structure_set (s, gst_trickle_channel_get_name (ch),
        GST_TYPE_STRUCTURE, cs, NULL);
    gst_structure_free (cs);
  }
  g_ptr_array_unref (channels);
  return s;
}

/**
 * gst_trickle_channel_store_clear:
 *
 * Closes and forgets every channel (the change feed included), releasing
 * all readers and writers.
 */
void
gst_trickle_channel_store_clear (GstTrickleChannelStore * store)
{
  GList *values, *l;

  g_mutex_lock (&store->lock);
  values = g_hash_table_get_values (store->channels);
  for (l = values; l; l = l->next)
    gst_trickle_channel_ref (l->data);
  g_hash_table_remove_all (store->channels);
  g_hash_table_remove_all (store->draining);
  g_clear_pointer (&store->changefeed, gst_trickle_channel_unref);
  g_clear_pointer (&store->localfeed, gst_trickle_channel_unref);
  g_mutex_unlock (&store->lock);

  for (l = values; l; l = l->next)
    _gst_trickle_channel_close (l->data);
  g_list_free_full (values, (GDestroyNotify) gst_trickle_channel_unref);
}

gboolean
_gst_trickle_channel_store_get_auto_create (GstTrickleChannelStore * store)
{
  return store->auto_create;
}

guint
_gst_trickle_channel_store_get_idle_timeout (GstTrickleChannelStore * store)
{
  return store->idle_timeout;
}

/* changefeed-peers-token (transfer full, nullable) */
gchar *
_gst_trickle_channel_store_dup_peers_token (GstTrickleChannelStore * store)
{
  gchar *token;

  g_mutex_lock (&store->lock);
  token = g_strdup (store->peers_token);
  g_mutex_unlock (&store->lock);
  return token;
}
