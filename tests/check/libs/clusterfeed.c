/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The change feed of a cluster (the store's changefeed-peers): three
 * servers on loopback, each following the two others; what one's
 * _changes says about every channel of the cluster, what its
 * _changes-local carries (its own channels only: nothing loops), a peer
 * lost and back.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/trickle/trickle.h>
#include "trickletestutil.h"

/* the documents of a feed, in order, read by a GstTrickleSubscriber */
typedef struct
{
  GstTrickleSubscriber *sub;
  GString *cur;
} Feed;

/* @url's documents from @start, read with bearer @token (nullable) */
static Feed *
feed_open_url (const gchar * url, gint64 start, const gchar * token)
{
  Feed *f = g_new0 (Feed, 1);

  f->sub = gst_trickle_subscriber_new (url);
  g_object_set (f->sub, "start-seq", start, NULL);
  if (token) {
    gchar *v = g_strconcat ("Bearer ", token, NULL);
    GstStructure *h = gst_structure_new ("headers", "Authorization",
        G_TYPE_STRING, v, NULL);

    g_object_set (f->sub, "extra-headers", h, NULL);
    gst_structure_free (h);
    g_free (v);
  }
  fail_unless (gst_trickle_subscriber_start (f->sub, NULL));
  return f;
}

static Feed *
feed_open (TrickleTestServer * ts, const gchar * channel, gint64 start)
{
  gchar *path = g_strconcat ("/", channel, NULL);
  gchar *url = trickle_test_server_url (ts, FALSE, path);
  Feed *f = feed_open_url (url, start, NULL);

  g_free (url);
  g_free (path);
  return f;
}

/* the next document (transfer full); fails the test if the feed ends */
static gchar *
feed_next (Feed * f)
{
  GstTrickleSubscriberEvent ev;
  GError *err = NULL;

  for (;;) {
    gboolean ok = gst_trickle_subscriber_next_event (f->sub, &ev, &err);
    gchar *doc = NULL;

    fail_unless (ok, "feed: %s", err ? err->message : "?");
    fail_if (ev.type == GST_TRICKLE_SUBSCRIBER_EOS, "the feed ended");
    fail_if (ev.type == GST_TRICKLE_SUBSCRIBER_JUMP, "the feed jumped");
    if (ev.type == GST_TRICKLE_SUBSCRIBER_SEGMENT_START) {
      if (f->cur)
        g_string_free (f->cur, TRUE);
      f->cur = g_string_new (NULL);
    } else if (ev.type == GST_TRICKLE_SUBSCRIBER_DATA) {
      gsize len;
      const gchar *d = g_bytes_get_data (ev.data, &len);
      g_string_append_len (f->cur, d, len);
    } else if (ev.type == GST_TRICKLE_SUBSCRIBER_SEGMENT_END && f->cur) {
      doc = g_string_free (f->cur, FALSE);
      f->cur = NULL;
    }
    gst_trickle_subscriber_event_clear (&ev);
    if (doc)
      return doc;
  }
}

static void
feed_close (Feed * f)
{
  gst_trickle_subscriber_stop (f->sub);
  g_object_unref (f->sub);
  if (f->cur)
    g_string_free (f->cur, TRUE);
  g_free (f);
}

/* reads documents until every one of @want (NULL-terminated) was seen;
 * a document outside @allowed (NULL-terminated, @want are allowed too) or
 * seen twice fails the test. The Check timeout bounds the wait. */
static void
feed_expect (Feed * f, const gchar ** want, const gchar ** allowed)
{
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint i, missing;

  do {
    gchar *doc = feed_next (f);
    gboolean ok = FALSE;

    GST_INFO ("feed: %s", doc);
    for (i = 0; want[i]; i++)
      ok = ok || strcmp (want[i], doc) == 0;
    for (i = 0; allowed && allowed[i]; i++)
      ok = ok || strcmp (allowed[i], doc) == 0;
    fail_unless (ok, "unexpected document %s", doc);
    fail_if (g_hash_table_contains (seen, doc), "%s twice", doc);
    g_hash_table_add (seen, doc);
    missing = 0;
    for (i = 0; want[i]; i++)
      missing += !g_hash_table_contains (seen, want[i]);
  } while (missing > 0);
  g_hash_table_unref (seen);
}

static void
post (TrickleTestServer * ts, const gchar * path, guint status)
{
  TrickleTestConn *c = trickle_test_request (ts->port, "POST", path, "x", 1,
      NULL);
  fail_unless_equals_int (c->status, status);
  trickle_test_conn_free (c);
}

static TrickleTestServer *
server_new (guint port)
{
  TrickleTestServer *ts = trickle_test_server_new ();

  /* windows that hold a whole test's documents: the readers here never
   * have to jump */
  g_object_set (ts->store, "window", 64, "changefeed", TRUE, NULL);
  if (port)
    trickle_test_server_start (ts, "port", port, NULL);
  else
    trickle_test_server_start (ts, NULL);
  return ts;
}

static void
set_peers (TrickleTestServer * ts, TrickleTestServer * a, TrickleTestServer * b)
{
  gchar *peers[3];

  peers[0] = trickle_test_server_url (a, FALSE, "/");
  peers[1] = trickle_test_server_url (b, FALSE, "/");
  peers[2] = NULL;
  g_object_set (ts->store, "changefeed-peers", peers, NULL);
  g_free (peers[0]);
  g_free (peers[1]);
}

GST_START_TEST (test_cluster_feed)
{
  TrickleTestServer *s[3];
  Feed *fa, *local;
  gchar **peers;
  guint port_b, i;

  for (i = 0; i < 3; i++)
    s[i] = server_new (0);
  /* the ports are known once they listen: peers set afterwards (the
   * property may change while the server runs) */
  set_peers (s[0], s[1], s[2]);
  set_peers (s[1], s[0], s[2]);
  set_peers (s[2], s[0], s[1]);
  g_object_get (s[0]->store, "changefeed-peers", &peers, NULL);
  fail_unless_equals_int (g_strv_length (peers), 2);
  g_strfreev (peers);

  /* A's merged feed, from its first document */
  fa = feed_open (s[0], "_changes", 0);
  post (s[0], "/a1/0", 200);
  post (s[1], "/b1/0", 200);
  post (s[2], "/c1/0", 200);
  {
    const gchar *want[] = { "{\"added\":[\"a1\"]}", "{\"added\":[\"b1\"]}",
      "{\"added\":[\"c1\"]}", NULL
    };
    feed_expect (fa, want, NULL);
  }

  /* the feeds are the servers' own: read-only */
  post (s[1], "/_changes-local/-1", 403);
  post (s[1], "/_changes/-1", 403);

  /* B's _changes-local: B's channels only (a document from a peer that
   * came back there would loop through the cluster) */
  local = feed_open (s[1], "_changes-local", 0);
  post (s[1], "/b2/0", 200);
  for (;;) {
    gchar *doc = feed_next (local);

    GST_INFO ("B local: %s", doc);
    fail_if (strstr (doc, "a1") || strstr (doc, "c1"), "%s in B's own feed",
        doc);
    fail_unless (g_str_has_prefix (doc, "{\"channels\":[")
        || g_str_has_prefix (doc, "{\"added\":[\"b"), "%s", doc);
    if (strcmp (doc, "{\"added\":[\"b2\"]}") == 0) {
      g_free (doc);
      break;
    }
    g_free (doc);
  }
  feed_close (local);
  {
    const gchar *want[] = { "{\"added\":[\"b2\"]}", NULL };
    feed_expect (fa, want, NULL);
  }

  /* B stops: its channels, and only them, are removed from A's feed */
  port_b = s[1]->port;
  trickle_test_server_free (s[1]);
  {
    const gchar *want[] = { "{\"removed\":[\"b1\"]}",
      "{\"removed\":[\"b2\"]}", NULL
    };
    feed_expect (fa, want, NULL);
  }
  /* C's go on */
  post (s[2], "/c2/0", 200);
  {
    const gchar *want[] = { "{\"added\":[\"c2\"]}", NULL };
    feed_expect (fa, want, NULL);
  }

  /* B back on its port (with no channels: it restarted): a channel
   * published there is added to A's feed */
  s[1] = server_new (port_b);
  set_peers (s[1], s[0], s[2]);
  post (s[1], "/b3/0", 200);
  {
    const gchar *want[] = { "{\"added\":[\"b3\"]}", NULL };
    feed_expect (fa, want, NULL);
  }

  /* a DELETE on C reaches A's feed as removed */
  {
    TrickleTestConn *c = trickle_test_request (s[2]->port, "DELETE", "/c1",
        NULL, 0, NULL);
    fail_unless_equals_int (c->status, 200);
    trickle_test_conn_free (c);
  }
  {
    const gchar *want[] = { "{\"removed\":[\"c1\"]}", NULL };
    feed_expect (fa, want, NULL);
  }
  feed_close (fa);

  /* without peers, no _changes-local */
  g_object_set (s[0]->store, "changefeed-peers", NULL, NULL);
  fail_unless (gst_trickle_channel_store_lookup (s[0]->store,
          "_changes-local") == NULL);

  for (i = 0; i < 3; i++)
    trickle_test_server_free (s[i]);
}

GST_END_TEST;

/* a peer that is not there from the start, then comes: what it had
 * before we followed it arrives with its snapshot */
GST_START_TEST (test_peer_late)
{
  TrickleTestServer *a = server_new (0), *b = server_new (0);
  gchar *peers[2];
  Feed *fa;

  post (b, "/early/0", 200);
  /* b's local feed made now, after "early": only its snapshot tells */
  peers[0] = trickle_test_server_url (a, FALSE, "/");
  peers[1] = NULL;
  g_object_set (b->store, "changefeed-peers", peers, NULL);
  g_free (peers[0]);

  fa = feed_open (a, "_changes", 0);
  peers[0] = trickle_test_server_url (b, FALSE, "");
  g_object_set (a->store, "changefeed-peers", peers, NULL);
  g_free (peers[0]);
  {
    const gchar *want[] = { "{\"added\":[\"early\"]}", NULL };
    feed_expect (fa, want, NULL);
  }
  feed_close (fa);
  trickle_test_server_free (a);
  trickle_test_server_free (b);
}

GST_END_TEST;

/* Servers that need a token to be read: a peer follows another with the
 * token it is given (changefeed-peers-token), which it sends as
 * `Authorization: Bearer`. Without it the peer answers 401 and its
 * channels never reach the feed. */
GST_START_TEST (test_peers_token)
{
  TrickleTestServer *a = trickle_test_server_new (),
      *b = trickle_test_server_new ();
  gchar *peers[2], *url;
  Feed *fa;

  g_object_set (a->store, "window", 64, "changefeed", TRUE, NULL);
  g_object_set (b->store, "window", 64, "changefeed", TRUE, NULL);
  trickle_test_server_start (a, "subscribe-token", "sub", NULL);
  trickle_test_server_start (b, "subscribe-token", "sub", NULL);
  /* (each follows the other: a server with peers writes _changes-local) */
  g_object_set (a->store, "changefeed-peers-token", "sub", NULL);
  g_object_set (b->store, "changefeed-peers-token", "sub", NULL);
  peers[0] = trickle_test_server_url (b, FALSE, "/");
  peers[1] = NULL;
  g_object_set (a->store, "changefeed-peers", peers, NULL);
  g_free (peers[0]);
  peers[0] = trickle_test_server_url (a, FALSE, "/");
  g_object_set (b->store, "changefeed-peers", peers, NULL);
  g_free (peers[0]);

  url = trickle_test_server_url (a, FALSE, "/_changes");
  fa = feed_open_url (url, 0, "sub");
  post (b, "/onb/0", 200);
  post (a, "/ona/0", 200);
  {
    const gchar *want[] = { "{\"added\":[\"onb\"]}",
      "{\"added\":[\"ona\"]}", NULL
    };
    feed_expect (fa, want, NULL);
  }
  feed_close (fa);
  g_free (url);
  trickle_test_server_free (a);
  trickle_test_server_free (b);
}

GST_END_TEST;

/* a trickleserver element alone in a pipeline, playing (@token: its
 * subscribe-token, nullable) */
static GstElement *
element_start_with_token (guint port, const gchar * peers,
    const gchar * token, guint * bound)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *srv = gst_element_factory_make ("trickleserver", "srv");

  fail_unless (srv != NULL);
  g_object_set (srv, "host", "127.0.0.1", "port", port, "changefeed", TRUE,
      "changefeed-peers", peers, "subscribe-token", token, NULL);
  gst_bin_add (GST_BIN (pipeline), srv);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (srv, "current-port", bound, NULL);
  fail_unless (*bound > 0);
  return pipeline;
}

static GstElement *
element_start (guint port, const gchar * peers, guint * bound)
{
  return element_start_with_token (port, peers, NULL, bound);
}

static void
element_stop (GstElement * pipeline)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* the trickleserver element's changefeed-peers: comma-separated, with
 * spaces; the peers followed once the server listens */
GST_START_TEST (test_element_peers)
{
  guint port_b = trickle_test_free_port (), port_a = 0, bound_b = 0;
  gchar *peers_a = g_strdup_printf (" http://127.0.0.1:%u/ ,", port_b);
  gchar *peers_b, *url;
  GstElement *a, *b;
  TrickleTestConn *c;
  Feed *fa = g_new0 (Feed, 1);

  a = element_start (0, peers_a, &port_a);
  peers_b = g_strdup_printf ("http://127.0.0.1:%u", port_a);
  b = element_start (port_b, peers_b, &bound_b);
  fail_unless_equals_int (bound_b, port_b);
  {
    GstElement *srv = gst_bin_get_by_name (GST_BIN (a), "srv");
    gchar *got;

    g_object_get (srv, "changefeed-peers", &got, NULL);
    fail_unless_equals_string (got, peers_a);
    g_free (got);
    gst_object_unref (srv);
  }

  url = g_strdup_printf ("http://127.0.0.1:%u/_changes", port_a);
  fa->sub = gst_trickle_subscriber_new (url);
  g_object_set (fa->sub, "start-seq", (gint64) 0, NULL);
  fail_unless (gst_trickle_subscriber_start (fa->sub, NULL));
  c = trickle_test_request (port_b, "POST", "/onb/0", "x", 1, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  c = trickle_test_request (port_a, "POST", "/ona/0", "x", 1, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  {
    const gchar *want[] = { "{\"added\":[\"onb\"]}",
      "{\"added\":[\"ona\"]}", NULL
    };
    feed_expect (fa, want, NULL);
  }
  /* B stops: its channel is removed from A's feed */
  element_stop (b);
  {
    const gchar *want[] = { "{\"removed\":[\"onb\"]}", NULL };
    feed_expect (fa, want, NULL);
  }
  feed_close (fa);
  element_stop (a);
  g_free (url);
  g_free (peers_a);
  g_free (peers_b);
}

GST_END_TEST;

/* trickleserver elements with a subscribe-token give it to their peers:
 * a cluster whose servers share their tokens needs nothing more */
GST_START_TEST (test_element_peers_token)
{
  guint port_b = trickle_test_free_port (), port_a = 0, bound_b = 0;
  gchar *peers_a = g_strdup_printf ("http://127.0.0.1:%u/", port_b);
  gchar *peers_b, *url;
  GstElement *a, *b;
  TrickleTestConn *c;
  Feed *fa;

  a = element_start_with_token (0, peers_a, "sub", &port_a);
  peers_b = g_strdup_printf ("http://127.0.0.1:%u/", port_a);
  b = element_start_with_token (port_b, peers_b, "sub", &bound_b);
  fail_unless_equals_int (bound_b, port_b);

  url = g_strdup_printf ("http://127.0.0.1:%u/_changes", port_a);
  fa = feed_open_url (url, 0, "sub");
  c = trickle_test_request (port_b, "POST", "/onb/0", "x", 1, NULL);
  fail_unless_equals_int (c->status, 200);
  trickle_test_conn_free (c);
  {
    const gchar *want[] = { "{\"added\":[\"onb\"]}", NULL };
    feed_expect (fa, want, NULL);
  }
  feed_close (fa);
  element_stop (b);
  element_stop (a);
  g_free (url);
  g_free (peers_a);
  g_free (peers_b);
}

GST_END_TEST;

static Suite *
clusterfeed_suite (void)
{
  Suite *s = suite_create ("clusterfeed");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_cluster_feed);
  tcase_add_test (tc, test_peer_late);
  tcase_add_test (tc, test_element_peers);
  tcase_add_test (tc, test_peers_token);
  tcase_add_test (tc, test_element_peers_token);
  return s;
}

GST_CHECK_MAIN (clusterfeed);
