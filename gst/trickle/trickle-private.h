/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the gsttrickle library: not installed.
 */
#pragma once

#include "trickle.h"
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum
{
  TRICKLE_APPEND_OK,
  TRICKLE_APPEND_CLOSED,        /* segment no longer open, or another writer took it */
  TRICKLE_APPEND_TOO_LARGE,     /* max-segment-size exceeded: segment aborted */
} TrickleAppendResult;

G_GNUC_INTERNAL
GstTrickleSegment *_gst_trickle_segment_new (gint64 seq);
G_GNUC_INTERNAL
gboolean _gst_trickle_segment_append (GstTrickleSegment * segment,
    guint writer, GBytes * data);
G_GNUC_INTERNAL
gboolean _gst_trickle_segment_end (GstTrickleSegment * segment,
    GstTrickleSegmentState state);
/* pages a segment of at most @max bytes may hold (each costs ~64 bytes of
 * bookkeeping: at most 1/8 of the payload bound, at least 1024 pages) */
#define TRICKLE_MAX_PAGES(max) MAX (1024, (max) / 512)

G_GNUC_INTERNAL
guint _gst_trickle_segment_get_n_pages (GstTrickleSegment * segment);
G_GNUC_INTERNAL
gboolean _gst_trickle_segment_is_fresh (GstTrickleSegment * segment);
G_GNUC_INTERNAL
guint _gst_trickle_segment_claim (GstTrickleSegment * segment);
G_GNUC_INTERNAL
gboolean _gst_trickle_segment_is_claimed_empty (GstTrickleSegment * segment);
G_GNUC_INTERNAL
gboolean _gst_trickle_segment_writer_is_current (GstTrickleSegment * segment,
    guint writer);

G_GNUC_INTERNAL
GstTrickleChannel *_gst_trickle_channel_new (const gchar * name,
    const gchar * mime_type, guint window, guint64 max_segment_size);
G_GNUC_INTERNAL
void _gst_trickle_channel_close (GstTrickleChannel * channel);
G_GNUC_INTERNAL
gboolean _gst_trickle_channel_close_draining (GstTrickleChannel * channel);
G_GNUC_INTERNAL
gchar *_gst_trickle_channel_dup_publish_token (GstTrickleChannel * channel);
G_GNUC_INTERNAL
void _gst_trickle_channel_mark_empty_written (GstTrickleChannel * channel,
    gint64 seq);
G_GNUC_INTERNAL
gint64 _gst_trickle_channel_get_write_time (GstTrickleChannel * channel);
G_GNUC_INTERNAL
void _gst_trickle_channel_publisher_content_type (GstTrickleChannel *
    channel, const gchar * content_type);
G_GNUC_INTERNAL
void _gst_trickle_channel_add_subscriber (GstTrickleChannel * channel,
    gint n);
gint _gst_trickle_channel_get_n_subscribers (GstTrickleChannel * channel);

/* The HTTP front's writer path: the writer token makes a stale POST (one
 * superseded by a retry of the same seq) unable to write. */
G_GNUC_INTERNAL
GstTrickleSegment *_gst_trickle_channel_open_write_claim (GstTrickleChannel *
    channel, gint64 seq, gboolean reset, guint * writer);
G_GNUC_INTERNAL
TrickleAppendResult _gst_trickle_channel_append_claimed (GstTrickleChannel *
    channel, GstTrickleSegment * segment, guint writer, GBytes * data);

G_GNUC_INTERNAL
gboolean _gst_trickle_channel_store_get_auto_create (GstTrickleChannelStore *
    store);
G_GNUC_INTERNAL
GstTrickleChannel *_gst_trickle_channel_store_lookup_drained (
    GstTrickleChannelStore * store, const gchar * name);
G_GNUC_INTERNAL
guint _gst_trickle_channel_store_get_idle_timeout (GstTrickleChannelStore *
    store);
G_GNUC_INTERNAL
void _gst_trickle_channel_store_write_change (GstTrickleChannelStore * store,
    const gchar * what, const gchar * name);
G_GNUC_INTERNAL
void _gst_trickle_channel_store_write_snapshot (GstTrickleChannelStore *
    store);
G_GNUC_INTERNAL
gchar *_gst_trickle_channel_store_dup_peers_token (GstTrickleChannelStore *
    store);

/* tricklefeedmerge.c: the change feed of a cluster (changefeed-peers) */
typedef struct _GstTrickleFeedMerge GstTrickleFeedMerge;
G_GNUC_INTERNAL
GstTrickleFeedMerge *_gst_trickle_feed_merge_new (GstTrickleChannelStore *
    store, const gchar * const *peers);
G_GNUC_INTERNAL
void _gst_trickle_feed_merge_free (GstTrickleFeedMerge * merge);

G_GNUC_INTERNAL
gboolean _gst_trickle_channel_store_get_guard (GstTrickleChannelStore * store,
    const gchar * name, gboolean * read_only, gchar ** token);

/* trickleclient.c: shared by the publisher and the subscriber */
G_GNUC_INTERNAL
gboolean _gst_trickle_client_check_url (const gchar * url, gchar ** why);
/* a sequence number from the wire (Lp-Trickle-Seq, Lp-Trickle-Latest):
 * decimal digits, 0..GST_TRICKLE_SEQ_MAX */
G_GNUC_INTERNAL
gboolean _gst_trickle_client_parse_seq (const gchar * value, gint64 * seq);
G_GNUC_INTERNAL
gboolean _gst_trickle_client_parse_answer_head (const gchar * d, gsize len,
    gsize * consumed, guint * status, gint64 * content_length,
    gboolean * chunked, gboolean * keep_alive, gboolean * closed);
G_GNUC_INTERNAL
gboolean _gst_trickle_client_chunked_complete (const gchar * d, gsize len);
G_GNUC_INTERNAL
GTlsDatabase *_gst_trickle_client_open_ca_file (const gchar * ca_file,
    gchar ** why);
#define TRICKLE_CLIENT_DEFAULT_USER_AGENT "gst-trickle/" PACKAGE_VERSION " "
#define TRICKLE_CLIENT_DEFAULT_TIMEOUT 30
#define TRICKLE_CLIENT_DEFAULT_RETRIES 5
#define TRICKLE_CLIENT_DEFAULT_RETRY_DELAY 0.25

/* HTTP authentication: the server's (user-id, user-pw) and the proxy's
 * (proxy-id, proxy-pw) */
typedef struct
{
  gchar *user_id;
  gchar *user_pw;
  gchar *proxy_id;
  gchar *proxy_pw;
} TrickleClientCreds;

G_GNUC_INTERNAL
void _gst_trickle_client_creds_clear (TrickleClientCreds * creds);
G_GNUC_INTERNAL
gboolean _gst_trickle_client_proxy_resolver (const gchar * proxy,
    GProxyResolver ** resolver, gchar ** why);
G_GNUC_INTERNAL
gboolean _gst_trickle_client_status_unauthorized (guint status);
G_GNUC_INTERNAL
gboolean _gst_trickle_client_may_retry (gint retries, guint failures);
G_GNUC_INTERNAL
guint _gst_trickle_client_retry_delay_ms (gdouble retry_delay,
    guint failures);
G_GNUC_INTERNAL
gboolean _gst_trickle_client_delete_channel (const gchar * url);
/* a 429 or 503 whose Retry-After gives delta-seconds: the wait it asks for
 * (ms, at most a minute), else 0 */
G_GNUC_INTERNAL
guint _gst_trickle_client_throttled_ms (guint status,
    SoupMessageHeaders * headers);
G_GNUC_INTERNAL
gboolean _gst_trickle_client_get_database (const gchar * ssl_ca_file,
    GTlsDatabase * tls_database, GTlsDatabase ** db, gchar ** why);
G_GNUC_INTERNAL
gboolean _gst_trickle_client_check_extra_headers (const GstStructure *
    extra_headers, gchar ** why);
G_GNUC_INTERNAL
SoupMessage *_gst_trickle_client_new_message (const gchar * method,
    const gchar * url, const GstStructure * extra_headers,
    TrickleClientCreds * creds);

/* tricklecaps.c */
G_GNUC_INTERNAL
void _gst_trickle_parse_whole_frames (GstElement * element);

G_END_DECLS
