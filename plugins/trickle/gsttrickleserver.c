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
 * SECTION:element-trickleserver
 * @title: trickleserver
 *
 * trickleserver hosts trickle channels over HTTP (or HTTPS): external
 * publishers POST segments into channels, subscribers GET them, exactly as
 * with go-livepeer's trickle server, so the Go and Python trickle clients,
 * curl and the tricklesink/tricklesrc elements all work against it.
 *
 * The server starts listening when the element goes to READY and stops in
 * NULL. Once listening it posts an element message named
 * `trickleserver-listening` with the fields `host` (string), `port`
 * (uint, the bound port, useful with port=0; also in `current-port`) and
 * `url` (string, the base URL of the channels).
 *
 * A failure to listen (port in use, bad host address) or to load the TLS
 * certificate fails the state change with a RESOURCE error.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 trickleserver port=2939
 * ]| runs a trickle relay server on port 2939 until interrupted; publish
 * with `curl -X POST --data-binary @file http://127.0.0.1:2939/mychannel/0`
 * and read back with `curl http://127.0.0.1:2939/mychannel/0`.
 * |[
 * gst-launch-1.0 trickleserver port=8443 base-path=/ai/trickle/ tls-certificate=cert.pem tls-key=key.pem
 * ]| serves channels under https://host:8443/ai/trickle/.
 *
 * ## Hosting channels in the pipeline
 *
 * Request pads make the pipeline the worker behind channels:
 * - `src_<channel>` (e.g. `srv.src_video-in`): what external publishers
 *   POST to `<channel>` flows out of this pad, read from the server's
 *   store in process, framed as tricklesrc frames it (MPEG-TS as it
 *   arrives, each segment's end marked for tsdemux as tricklesrc's
 *   `mark-segment-end` does, frame formats one buffer per segment, caps
 *   from the Content-Type). A live source: no data while no publisher
 *   feeds it.
 * - `sink_<channel>` (e.g. `srv.sink_video-out`): what flows in is
 *   published to `<channel>`, cut as tricklesink cuts it, for external
 *   subscribers.
 *
 * The pad name is the prefix `src_` or `sink_` followed by the channel
 * name, exactly (`srv.src_video-in` hosts channel `video-in`); on a
 * gst-launch line channel names are limited to letters, digits, `-` and
 * `_`, the API takes any. Hosted channels exist while their pads exist;
 * a publisher that stops, deletes the channel or comes back with
 * `Lp-Trickle-Reset` does not interrupt the pipeline. Every other channel
 * is relayed as without pads. With sink pads the element is a sink of the
 * pipeline (it posts EOS once every sink pad took EOS), with src pads a
 * source (EOS sent to the pipeline, as `gst-launch-1.0 -e` does, ends
 * their streams).
 * |[
 * gst-launch-1.0 trickleserver name=srv port=2939 \
 *   srv.src_video-in ! tsdemux ! h264parse ! avdec_h264 ! videoconvert ! \
 *   videoflip video-direction=horiz ! x264enc tune=zerolatency ! mpegtsmux ! srv.sink_video-out
 * ]| publishers POST to http://host:2939/video-in; subscribers GET the
 * flipped video from http://host:2939/video-out.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/trickle/trickle.h>
#include <libsoup/soup.h>
#include "gsttrickleserver.h"
#include "gsttrickledoc.h"
#include "gsttricklepads.h"
#include "gsttricklecontrol.h"

GST_DEBUG_CATEGORY (gst_trickle_server_debug);
#define GST_CAT_DEFAULT gst_trickle_server_debug

#define DEFAULT_HOST "0.0.0.0"
#define DEFAULT_PORT 2939
#define DEFAULT_BASE_PATH "/"
#define DEFAULT_AUTO_CREATE TRUE
#define DEFAULT_WINDOW 5
#define DEFAULT_IDLE_TIMEOUT 300
#define DEFAULT_MAX_SEGMENT_SIZE (32 * 1024 * 1024)
#define DEFAULT_MAX_CHANNELS 10000
#define DEFAULT_CHANGEFEED FALSE
#define DEFAULT_THREADS 0
#define DEFAULT_HEADER_TIMEOUT 30
#define DEFAULT_MAX_HEADER_SIZE (16 * 1024)
#define DEFAULT_IO_TIMEOUT 60
#define DEFAULT_KEEPALIVE_INTERVAL 10
#define DEFAULT_STATS_INTERVAL 10

enum
{
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_BASE_PATH,
  PROP_AUTO_CREATE,
  PROP_WINDOW,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_SEGMENT_SIZE,
  PROP_MAX_CHANNELS,
  PROP_CHANGEFEED,
  PROP_TLS_CERTIFICATE,
  PROP_TLS_KEY,
  PROP_THREADS,
  PROP_HEADER_TIMEOUT,
  PROP_MAX_HEADER_SIZE,
  PROP_IO_TIMEOUT,
  PROP_KEEPALIVE_INTERVAL,
  PROP_N_CHANNELS,
  PROP_CONTROL,
  PROP_EVENTS,
  PROP_STATS_INTERVAL,
  PROP_STATS,
  PROP_POST_MESSAGES,
  PROP_PUBLISH_TOKEN,
  PROP_SUBSCRIBE_TOKEN,
  PROP_CONTROL_TOKEN,
  PROP_CONTROL_ALLOW,
  PROP_MAX_CONNS_PER_CLIENT,
  PROP_MAX_CHANNEL_RATE,
  PROP_CHANGEFEED_PEERS,
  PROP_CHANGEFEED_PEERS_TOKEN,
};

enum
{
  SIGNAL_CONTROL,
  SIGNAL_CHANNEL_ADDED,
  SIGNAL_CHANNEL_REMOVED,
  SIGNAL_PUBLISHER_CONNECTED,
  SIGNAL_PUBLISHER_DISCONNECTED,
  SIGNAL_SUBSCRIBER_CONNECTED,
  SIGNAL_SUBSCRIBER_DISCONNECTED,
  SIGNAL_PUBLISH_DOCUMENT,
  SIGNAL_AUTHORIZE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean authorize_accumulator (GSignalInvocationHint * hint,
    GValue * acc, const GValue * ret, gpointer data);

struct _GstTrickleServer
{
  GstBin parent;

  /* settings, protected by the object lock */
  gchar *host;
  guint port;
  gchar *base_path;
  gboolean auto_create;
  guint window;
  guint idle_timeout;
  guint64 max_segment_size;
  guint max_channels;
  gboolean changefeed;
  gchar *changefeed_peers;
  gchar *changefeed_peers_token;
  gchar *tls_certificate;
  gchar *tls_key;
  guint threads;
  guint header_timeout;
  guint max_header_size;
  guint io_timeout;
  guint max_conns_per_client;
  guint max_channel_rate;
  guint keepalive_interval;
  gchar *control;
  gchar *events;
  guint stats_interval;
  gboolean post_messages;
  gchar *publish_token;
  gchar *subscribe_token;
  gchar *control_token;
  gchar *control_allow;

  /* running, only changed in change_state */
  GstTrickleChannelStore *store;
  GstTrickleHttpServer *server;
  GstTrickleControl *ctl;       /* set and cleared under ctl_lock */
  GMutex ctl_lock;
  /* EOS posted for the sink pads (object lock) */
  gboolean posted_eos;
};

#define gst_trickle_server_parent_class parent_class
G_DEFINE_TYPE (GstTrickleServer, gst_trickle_server, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (trickleserver, "trickleserver", GST_RANK_NONE,
    GST_TYPE_TRICKLE_SERVER);

static void gst_trickle_server_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_trickle_server_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_trickle_server_finalize (GObject * object);
static GstStateChangeReturn gst_trickle_server_change_state (GstElement *
    element, GstStateChange transition);
static GstPad *gst_trickle_server_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_trickle_server_release_pad (GstElement * element, GstPad * pad);
static gboolean gst_trickle_server_send_event (GstElement * element,
    GstEvent * event);

static gint64 gst_trickle_server_publish_document (GstTrickleServer * self,
    const gchar * channel, const gchar * document);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src_%s",
    GST_PAD_SRC, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%s",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);

static void
gst_trickle_server_class_init (GstTrickleServerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_trickle_server_set_property;
  gobject_class->get_property = gst_trickle_server_get_property;
  gobject_class->finalize = gst_trickle_server_finalize;

  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "Numeric IPv4/IPv6 address to listen on (0.0.0.0 = all IPv4, "
          ":: = all)", DEFAULT_HOST, flags));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port",
          "TCP port to listen on (0 = pick a free port, see current-port)",
          0, 65535, DEFAULT_PORT, flags));
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      g_param_spec_uint ("current-port", "Current port",
          "The port actually listened on (0 when not listening)",
          0, 65535, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BASE_PATH,
      g_param_spec_string ("base-path", "Base path",
          "URL path the channels live under, e.g. /ai/trickle/",
          DEFAULT_BASE_PATH, flags));
  g_object_class_install_property (gobject_class, PROP_AUTO_CREATE,
      g_param_spec_boolean ("auto-create", "Auto-create",
          "Create a channel on the first POST to it (otherwise unknown "
          "channels answer 404)", DEFAULT_AUTO_CREATE, flags));
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_uint ("window", "Window",
          "Segments kept per channel; readers of older ones get 470",
          1, 1024, DEFAULT_WINDOW, flags));
  g_object_class_install_property (gobject_class, PROP_IDLE_TIMEOUT,
      g_param_spec_uint ("idle-timeout", "Idle timeout",
          "Close a channel with no new segment for this many seconds "
          "(0 = never)", 0, G_MAXUINT / 1000, DEFAULT_IDLE_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_SEGMENT_SIZE,
      g_param_spec_uint64 ("max-segment-size", "Maximum segment size",
          "Largest segment in bytes; a larger POST is answered 413 and the "
          "segment aborted (0 = unlimited)", 0, G_MAXUINT64,
          DEFAULT_MAX_SEGMENT_SIZE, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_CHANNELS,
      g_param_spec_uint ("max-channels", "Maximum channels",
          "Most channels at once; one more is answered 503 (0 = unlimited)",
          0, G_MAXUINT, DEFAULT_MAX_CHANNELS, flags));
  g_object_class_install_property (gobject_class, PROP_CHANGEFEED,
      g_param_spec_boolean ("changefeed", "Change feed",
          "Publish {\"added\":[name]} / {\"removed\":[name]} JSON segments on "
          "the channel _changes", DEFAULT_CHANGEFEED, flags));
  /**
   * GstTrickleServer:changefeed-peers:
   *
   * The other servers of a cluster behind one proxy, comma-separated, as
   * the base URLs this server reaches them at directly
   * (`http://10.0.0.2:2939/,http://10.0.0.3:2939/`, with their
   * `base-path`). This server then follows their channels' changes (in
   * their internal channel `_changes-local`) and writes them into its
   * `_changes` after its own, so that the change feed read from any server
   * of the cluster tells of all its channels; a peer that cannot be
   * reached has its channels written as removed until it answers again.
   * Set on every server, with `changefeed=true`; docs/cluster.md. Applied
   * when the server starts.
   */
  g_object_class_install_property (gobject_class, PROP_CHANGEFEED_PEERS,
      g_param_spec_string ("changefeed-peers", "Change feed peers",
          "Comma-separated base URLs of the other servers of a cluster: "
          "their channels' changes are merged into _changes", NULL, flags));
  /**
   * GstTrickleServer:changefeed-peers-token:
   *
   * The bearer token given to the `changefeed-peers` to read their
   * changes. Unset, this server gives its own `subscribe-token` (or, with
   * none, its `publish-token`): servers of a cluster that share their
   * tokens need nothing more. Write-only; a new one (or a new token it
   * follows) applies from the next connection to each peer.
   */
  g_object_class_install_property (gobject_class,
      PROP_CHANGEFEED_PEERS_TOKEN,
      g_param_spec_string ("changefeed-peers-token", "Change feed peers token",
          "Bearer token given to the changefeed-peers (NULL: this server's "
          "subscribe-token, else its publish-token)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TLS_CERTIFICATE,
      g_param_spec_string ("tls-certificate", "TLS certificate",
          "PEM file with the certificate (and possibly the key): serve HTTPS "
          "(NULL = plain HTTP)", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_TLS_KEY,
      g_param_spec_string ("tls-key", "TLS key",
          "PEM file with the private key (NULL = read it from "
          "tls-certificate)", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "HTTP worker threads (0 = one per CPU)", 0, 64,
          DEFAULT_THREADS, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_HEADER_SIZE,
      g_param_spec_uint ("max-header-size", "Maximum header size",
          "Largest request head in bytes; a larger one is answered 431",
          1024, 1024 * 1024, DEFAULT_MAX_HEADER_SIZE, flags));
  g_object_class_install_property (gobject_class, PROP_HEADER_TIMEOUT,
      g_param_spec_uint ("header-timeout", "Header timeout",
          "Seconds a client may take to send a request head", 1, 3600,
          DEFAULT_HEADER_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_IO_TIMEOUT,
      g_param_spec_uint ("io-timeout", "I/O timeout",
          "Seconds a started upload may stall, or a subscriber accept "
          "nothing, before it is dropped", 1, 3600, DEFAULT_IO_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_KEEPALIVE_INTERVAL,
      g_param_spec_uint ("keepalive-interval", "Keep-alive interval",
          "Seconds between interim 100 Continue responses to a preconnected "
          "POST that has no body yet (they keep proxies from closing it)",
          1, 3600, DEFAULT_KEEPALIVE_INTERVAL, flags));
  g_object_class_install_property (gobject_class, PROP_N_CHANNELS,
      g_param_spec_uint ("n-channels", "Channels",
          "Channels hosted now (0 when not running)", 0, G_MAXUINT, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_CONTROL,
      g_param_spec_string ("control", "Control channel",
          "Channel hosted for control messages (one JSON document per "
          "segment, {\"set\": {\"element.property\": value}} sets "
          "properties of the pipeline); NULL: none", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_EVENTS,
      g_param_spec_string ("events", "Events channel",
          "Channel the server publishes JSON status to (started, stopped, "
          "control applied or refused, stats); NULL: none", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Stats interval",
          "Seconds between \"stats\" events on the events channel (0: "
          "none)", 0, 3600, DEFAULT_STATS_INTERVAL, flags));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Per channel (a field each): segments, bytes, subscribers (GETs "
          "open now), gone (470s served), drops (aborted segments)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstTrickleServer::control:
   * @server: the trickleserver
   * @seq: the control segment's seq
   * @json: the document
   * @data: (nullable): the document parsed, when it is a JSON object
   *
   * A control message arrived (from the streaming thread of the control
   * channel: connect with care). Emitted before a "set" is applied.
   */
  signals[SIGNAL_CONTROL] = g_signal_new ("control",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_STRING, GST_TYPE_STRUCTURE);
  /**
   * GstTrickleServer::channel-added:
   * @server: the trickleserver
   * @name: the channel
   *
   * A channel was created: by a client's POST, a hosted pad, or the
   * application. Emitted from the thread that created it.
   */
  signals[SIGNAL_CHANNEL_ADDED] = g_signal_new ("channel-added",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * GstTrickleServer::channel-removed:
   * @server: the trickleserver
   * @name: the channel
   *
   * A channel was deleted or closed for idleness. Emitted from the thread
   * that removed it.
   */
  signals[SIGNAL_CHANNEL_REMOVED] = g_signal_new ("channel-removed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);

  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post \"trickle-publisher\" and \"trickle-subscriber\" element "
          "messages (channel, seq, connected, complete) when a POST or GET "
          "of a segment begins and ends (one per segment and client: for "
          "monitoring, not for busy servers)", FALSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleServer:publish-token:
   *
   * When set, writing over HTTP (a segment's POST or DELETE, creating or
   * deleting a channel) needs `Authorization: Bearer <token>`: 401
   * without it, 403 with the subscribe token. Write-only, so that it is
   * never printed (`gst-launch-1.0 -v` included); may change while the
   * server runs.
   */
  g_object_class_install_property (gobject_class, PROP_PUBLISH_TOKEN,
      g_param_spec_string ("publish-token", "Publish token",
          "Bearer token that writing needs (empty: anyone may write)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleServer:max-connections-per-client:
   *
   * Most connections open at once from one client address. One past it is
   * answered `429 Too Many Requests` with `Retry-After: 1`; past twice the
   * limit a connection is closed unanswered. A subscriber holds two
   * connections, a publisher two or three; everything behind a proxy or a
   * NAT is one address. May change while the server runs.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CONNS_PER_CLIENT,
      g_param_spec_uint ("max-connections-per-client",
          "Max connections per client",
          "Most connections at once from one client address; beyond, 429 "
          "with Retry-After (0 = unlimited)", 0, G_MAXINT, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstTrickleServer:max-channel-request-rate:
   *
   * Most requests a second on one channel, from all clients together
   * (bursts up to a second's worth pass at once). Beyond, `503 Service
   * Unavailable` with the seconds to wait in `Retry-After`, which
   * tricklesrc honours. A channel's steady traffic is about
   * (2 x subscribers + 2) requests per segment. May change while the
   * server runs.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CHANNEL_RATE,
      g_param_spec_uint ("max-channel-request-rate",
          "Max channel request rate",
          "Most requests a second on one channel; beyond, 503 with "
          "Retry-After (0 = unlimited)", 0, G_MAXINT, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstTrickleServer:subscribe-token:
   *
   * When set, reading (GET, HEAD) needs `Authorization: Bearer` with this
   * token or the publish token: 401 without. Write-only; may change while
   * the server runs.
   */
  g_object_class_install_property (gobject_class, PROP_SUBSCRIBE_TOKEN,
      g_param_spec_string ("subscribe-token", "Subscribe token",
          "Bearer token that reading needs (empty: anyone may read)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleServer:control-token:
   *
   * When set, posting to the control channel needs `Authorization:
   * Bearer` with this token, instead of the publish token (401 without a
   * token, 403 with another). Write-only.
   */
  g_object_class_install_property (gobject_class, PROP_CONTROL_TOKEN,
      g_param_spec_string ("control-token", "Control token",
          "Bearer token that posting to the control channel needs, instead "
          "of the publish token", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTrickleServer:control-allow:
   *
   * The properties a control document may set, as comma-separated
   * `element.property` patterns (`*` and `?` wildcards: `flip.*,
   * enc.bitrate`). Unset: any property of any element of the pipeline but
   * this trickleserver's and its children's, which a control document can
   * never set (a client must not change `max-channels`, the tokens or the
   * port). A refused document changes nothing and is reported like an
   * invalid one (a warning, an error on the events channel).
   */
  g_object_class_install_property (gobject_class, PROP_CONTROL_ALLOW,
      g_param_spec_string ("control-allow", "Control allow-list",
          "Comma-separated element.property patterns a control document may "
          "set (unset: any, except this server's own)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstTrickleServer::publisher-connected:
   * @server: the trickleserver
   * @channel: the channel
   * @seq: the segment
   *
   * A POST began writing a segment (from a server thread).
   */
  signals[SIGNAL_PUBLISHER_CONNECTED] = g_signal_new ("publisher-connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT64);
  /**
   * GstTrickleServer::publisher-disconnected:
   * @server: the trickleserver
   * @channel: the channel
   * @seq: the segment
   * @complete: the segment ended normally (%FALSE: the publisher broke off)
   *
   * A POST of a segment ended (from a server thread).
   */
  signals[SIGNAL_PUBLISHER_DISCONNECTED] =
      g_signal_new ("publisher-disconnected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING,
      G_TYPE_INT64, G_TYPE_BOOLEAN);
  /**
   * GstTrickleServer::subscriber-connected:
   * @server: the trickleserver
   * @channel: the channel
   * @seq: the segment
   *
   * A GET of a segment began (a preconnect too; from a server thread).
   */
  signals[SIGNAL_SUBSCRIBER_CONNECTED] = g_signal_new ("subscriber-connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT64);
  /**
   * GstTrickleServer::subscriber-disconnected:
   * @server: the trickleserver
   * @channel: the channel
   * @seq: the segment
   *
   * A GET of a segment ended: answered in full, or the subscriber left
   * (from a server thread).
   */
  signals[SIGNAL_SUBSCRIBER_DISCONNECTED] =
      g_signal_new ("subscriber-disconnected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_INT64);

  /**
   * GstTrickleServer::publish-document:
   * @server: the trickleserver
   * @channel: the channel, created (`application/json`) if it does not exist
   * @document: a JSON document
   *
   * Action signal: publishes @document as the next segment of @channel
   * inside the process, as a POST to the server would, without an HTTP
   * round trip: a `{"set": ...}` document on the control channel is applied
   * as one from a client, a document on the events channel or any other
   * reaches its subscribers. Only while the server runs (READY and up).
   *
   * Returns: the seq of the segment written, or -1 when the server is not
   * running, @document is not valid JSON, or @channel cannot take it (an
   * invalid name or one starting with `_`, a channel of another type,
   * the channel limit reached);
   * a warning in the debug log says which.
   */
  /**
   * GstTrickleServer::authorize:
   * @server: the trickleserver
   * @method: the request's method
   * @action: "subscribe", "publish", "create" or "delete"
   * @channel: the channel's name
   * @headers: (type Soup.MessageHeaders): the request's headers
   * @client: the client's IP address
   *
   * Any policy beyond the tokens (checked first): return 0 to let the
   * request go on, or the HTTP status (4xx, 5xx) to answer instead. See
   * #GstTrickleHttpServer::authorize. Emitted from the server's threads,
   * before the request is served: keep it quick.
   *
   * Returns: 0, or the status to answer
   */
  signals[SIGNAL_AUTHORIZE] = g_signal_new ("authorize",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, authorize_accumulator,
      NULL, NULL,
      G_TYPE_UINT, 5, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
      SOUP_TYPE_MESSAGE_HEADERS, G_TYPE_STRING);

  signals[SIGNAL_PUBLISH_DOCUMENT] =
      g_signal_new_class_handler ("publish-document",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_trickle_server_publish_document), NULL, NULL, NULL,
      G_TYPE_INT64, 2, G_TYPE_STRING, G_TYPE_STRING);

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_trickle_server_change_state);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_trickle_server_request_new_pad);
  element_class->release_pad =
      GST_DEBUG_FUNCPTR (gst_trickle_server_release_pad);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_trickle_server_send_event);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_trickle_set_doc_caps (element_class, "src_%s");
  gst_trickle_set_doc_caps (element_class, "sink_%s");

  gst_element_class_set_static_metadata (element_class,
      "Trickle server", "Generic/Bin/Network",
      "Hosts trickle protocol channels over HTTP(S): a relay for "
      "trickle publishers and subscribers", "gst-trickle developers");

  GST_DEBUG_CATEGORY_INIT (gst_trickle_server_debug, "trickleserver", 0,
      "Trickle protocol server");
}

static void
gst_trickle_server_init (GstTrickleServer * self)
{
  g_mutex_init (&self->ctl_lock);
  self->host = g_strdup (DEFAULT_HOST);
  self->port = DEFAULT_PORT;
  self->base_path = g_strdup (DEFAULT_BASE_PATH);
  self->auto_create = DEFAULT_AUTO_CREATE;
  self->window = DEFAULT_WINDOW;
  self->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  self->max_segment_size = DEFAULT_MAX_SEGMENT_SIZE;
  self->max_channels = DEFAULT_MAX_CHANNELS;
  self->changefeed = DEFAULT_CHANGEFEED;
  self->threads = DEFAULT_THREADS;
  self->header_timeout = DEFAULT_HEADER_TIMEOUT;
  self->max_header_size = DEFAULT_MAX_HEADER_SIZE;
  self->io_timeout = DEFAULT_IO_TIMEOUT;
  self->keepalive_interval = DEFAULT_KEEPALIVE_INTERVAL;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
}

static void
gst_trickle_server_finalize (GObject * object)
{
  GstTrickleServer *self = GST_TRICKLE_SERVER (object);

  g_clear_object (&self->server);
  g_clear_object (&self->store);
  g_free (self->host);
  g_free (self->base_path);
  g_free (self->tls_certificate);
  g_free (self->tls_key);
  g_free (self->control);
  g_free (self->events);
  g_free (self->publish_token);
  g_free (self->subscribe_token);
  g_free (self->control_token);
  g_free (self->control_allow);
  g_free (self->changefeed_peers);
  g_free (self->changefeed_peers_token);
  g_mutex_clear (&self->ctl_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* with the object lock: the token the store gives its peers */
static const gchar *
peers_token (GstTrickleServer * self)
{
  if (self->changefeed_peers_token)
    return self->changefeed_peers_token;
  return self->subscribe_token && *self->subscribe_token ?
      self->subscribe_token : self->publish_token;
}

static void
apply_peers_token (GstTrickleServer * self)
{
  if (self->store)
    g_object_set (self->store, "changefeed-peers-token", peers_token (self),
        NULL);
}

static void
gst_trickle_server_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTrickleServer *self = GST_TRICKLE_SERVER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_HOST:
      g_free (self->host);
      self->host = g_value_dup_string (value);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_BASE_PATH:
      g_free (self->base_path);
      self->base_path = g_value_dup_string (value);
      break;
    case PROP_AUTO_CREATE:
      self->auto_create = g_value_get_boolean (value);
      break;
    case PROP_WINDOW:
      self->window = g_value_get_uint (value);
      break;
    case PROP_IDLE_TIMEOUT:
      self->idle_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_SEGMENT_SIZE:
      self->max_segment_size = g_value_get_uint64 (value);
      break;
    case PROP_MAX_CHANNELS:
      self->max_channels = g_value_get_uint (value);
      break;
    case PROP_CHANGEFEED:
      self->changefeed = g_value_get_boolean (value);
      break;
    case PROP_CHANGEFEED_PEERS:
      g_free (self->changefeed_peers);
      self->changefeed_peers = g_value_dup_string (value);
      break;
    case PROP_CHANGEFEED_PEERS_TOKEN:
      g_free (self->changefeed_peers_token);
      self->changefeed_peers_token = g_value_dup_string (value);
      apply_peers_token (self);
      break;
    case PROP_TLS_CERTIFICATE:
      g_free (self->tls_certificate);
      self->tls_certificate = g_value_dup_string (value);
      break;
    case PROP_TLS_KEY:
      g_free (self->tls_key);
      self->tls_key = g_value_dup_string (value);
      break;
    case PROP_THREADS:
      self->threads = g_value_get_uint (value);
      break;
    case PROP_HEADER_TIMEOUT:
      self->header_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_HEADER_SIZE:
      self->max_header_size = g_value_get_uint (value);
      break;
    case PROP_IO_TIMEOUT:
      self->io_timeout = g_value_get_uint (value);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      self->keepalive_interval = g_value_get_uint (value);
      break;
    case PROP_CONTROL:
      g_free (self->control);
      self->control = g_value_dup_string (value);
      break;
    case PROP_EVENTS:
      g_free (self->events);
      self->events = g_value_dup_string (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_MAX_CONNS_PER_CLIENT:
    case PROP_MAX_CHANNEL_RATE:
      *(prop_id == PROP_MAX_CONNS_PER_CLIENT ? &self->max_conns_per_client :
          &self->max_channel_rate) = g_value_get_uint (value);
      /* applies at once */
      if (self->server)
        g_object_set_property (G_OBJECT (self->server), pspec->name, value);
      break;
    case PROP_PUBLISH_TOKEN:
    case PROP_SUBSCRIBE_TOKEN:{
      gchar **field = prop_id == PROP_PUBLISH_TOKEN ? &self->publish_token :
          &self->subscribe_token;

      g_free (*field);
      *field = g_value_dup_string (value);
      /* a new token applies at once */
      if (self->server)
        g_object_set_property (G_OBJECT (self->server), pspec->name, value);
      apply_peers_token (self);
      break;
    }
    case PROP_CONTROL_TOKEN:
      g_free (self->control_token);
      self->control_token = g_value_dup_string (value);
      if (self->store && self->control)
        gst_trickle_channel_store_guard (self->store, self->control, FALSE,
            self->control_token);
      break;
    case PROP_CONTROL_ALLOW:
      g_free (self->control_allow);
      self->control_allow = g_value_dup_string (value);
      /* applied below, without the object lock */
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (prop_id == PROP_CONTROL_ALLOW) {
    gchar *allow;

    GST_OBJECT_LOCK (self);
    allow = g_strdup (self->control_allow);
    GST_OBJECT_UNLOCK (self);
    /* ctl_lock, not the object lock: the control thread takes elements'
     * object locks while it checks a document */
    g_mutex_lock (&self->ctl_lock);
    gst_trickle_control_set_allow (self->ctl, allow);
    g_mutex_unlock (&self->ctl_lock);
    g_free (allow);
  }
}

static void
gst_trickle_server_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTrickleServer *self = GST_TRICKLE_SERVER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_CURRENT_PORT:
      g_value_set_uint (value, self->server ?
          gst_trickle_http_server_get_bound_port (self->server) : 0);
      break;
    case PROP_BASE_PATH:
      g_value_set_string (value, self->base_path);
      break;
    case PROP_AUTO_CREATE:
      g_value_set_boolean (value, self->auto_create);
      break;
    case PROP_WINDOW:
      g_value_set_uint (value, self->window);
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, self->idle_timeout);
      break;
    case PROP_MAX_SEGMENT_SIZE:
      g_value_set_uint64 (value, self->max_segment_size);
      break;
    case PROP_MAX_CHANNELS:
      g_value_set_uint (value, self->max_channels);
      break;
    case PROP_CHANGEFEED:
      g_value_set_boolean (value, self->changefeed);
      break;
    case PROP_CHANGEFEED_PEERS:
      g_value_set_string (value, self->changefeed_peers);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_string (value, self->tls_certificate);
      break;
    case PROP_TLS_KEY:
      g_value_set_string (value, self->tls_key);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, self->threads);
      break;
    case PROP_HEADER_TIMEOUT:
      g_value_set_uint (value, self->header_timeout);
      break;
    case PROP_MAX_HEADER_SIZE:
      g_value_set_uint (value, self->max_header_size);
      break;
    case PROP_IO_TIMEOUT:
      g_value_set_uint (value, self->io_timeout);
      break;
    case PROP_MAX_CONNS_PER_CLIENT:
      g_value_set_uint (value, self->max_conns_per_client);
      break;
    case PROP_MAX_CHANNEL_RATE:
      g_value_set_uint (value, self->max_channel_rate);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, self->keepalive_interval);
      break;
    case PROP_N_CHANNELS:
      g_value_set_uint (value, self->store ?
          gst_trickle_channel_store_get_n_channels (self->store) : 0);
      break;
    case PROP_CONTROL:
      g_value_set_string (value, self->control);
      break;
    case PROP_EVENTS:
      g_value_set_string (value, self->events);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint (value, self->stats_interval);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_CONTROL_ALLOW:
      g_value_set_string (value, self->control_allow);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, self->store ?
          gst_trickle_channel_store_get_stats (self->store) :
          gst_structure_new_empty ("trickle-channels"));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* a channel name as the HTTP server accepts it in a URL */
static gboolean
valid_channel_name (const gchar * name)
{
  const gchar *p;

  /* as long as a URL's may be (256), and not the server's own channels
   * (`_changes`, and the `_` names the idle sweep leaves alone) */
  if (!name || !*name || name[0] == '_' || strlen (name) > 256
      || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return FALSE;
  for (p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("-_.~", *p))
      return FALSE;
  return TRUE;
}

static gint64
gst_trickle_server_publish_document (GstTrickleServer * self,
    const gchar * channel, const gchar * document)
{
  GstTrickleChannelStore *store = NULL;
  GstTrickleChannel *ch = NULL;
  GValue parsed = G_VALUE_INIT;
  GError *err = NULL;
  GBytes *bytes;
  gchar *type;
  gint64 seq = -1;

  if (!valid_channel_name (channel)) {
    GST_WARNING_OBJECT (self, "publish-document: invalid channel name");
    return -1;
  }
  if (!document || !gst_trickle_json_parse (document, -1, &parsed, &err)) {
    GST_WARNING_OBJECT (self, "publish-document on %s: not JSON: %s",
        channel, err ? err->message : "no document");
    g_clear_error (&err);
    return -1;
  }
  g_value_unset (&parsed);

  GST_OBJECT_LOCK (self);
  if (self->store)
    store = g_object_ref (self->store);
  GST_OBJECT_UNLOCK (self);
  if (!store) {
    GST_WARNING_OBJECT (self, "publish-document on %s: the server is not "
        "running", channel);
    return -1;
  }

  ch = gst_trickle_channel_store_lookup (store, channel);
  if (!ch)
    ch = gst_trickle_channel_store_create (store, channel, "application/json",
        &err);
  if (!ch) {
    GST_WARNING_OBJECT (self, "publish-document: cannot create %s: %s",
        channel, err ? err->message : "?");
    g_clear_error (&err);
    goto out;
  }
  type = gst_trickle_channel_dup_mime_type (ch);
  if (type && *type && !strstr (type, "json")) {
    GST_WARNING_OBJECT (self, "publish-document: %s carries %s, not JSON",
        channel, type);
    g_free (type);
    goto out;
  }
  g_free (type);
  bytes = g_bytes_new (document, strlen (document));
  if (!gst_trickle_channel_write_segment (ch, bytes, &seq))
    seq = -1;
  g_bytes_unref (bytes);
  GST_DEBUG_OBJECT (self, "published a document on %s as seq %"
      G_GINT64_FORMAT, channel, seq);

out:
  if (ch)
    gst_trickle_channel_unref (ch);
  g_object_unref (store);
  return seq;
}

static void
store_channel_added (GstTrickleChannelStore * store, GstTrickleChannel * ch,
    GstTrickleServer * self)
{
  g_signal_emit (self, signals[SIGNAL_CHANNEL_ADDED], 0,
      gst_trickle_channel_get_name (ch));
}

static void
store_channel_removed (GstTrickleChannelStore * store,
    GstTrickleChannel * ch, GstTrickleServer * self)
{
  g_signal_emit (self, signals[SIGNAL_CHANNEL_REMOVED], 0,
      gst_trickle_channel_get_name (ch));
}

static void
connection_event (GstTrickleServer * self, guint signal,
    const gchar * channel, gint64 seq, gboolean complete)
{
  gboolean post, publisher = signal == SIGNAL_PUBLISHER_CONNECTED
      || signal == SIGNAL_PUBLISHER_DISCONNECTED;
  gboolean connected = signal == SIGNAL_PUBLISHER_CONNECTED
      || signal == SIGNAL_SUBSCRIBER_CONNECTED;

  if (signal == SIGNAL_PUBLISHER_DISCONNECTED)
    g_signal_emit (self, signals[signal], 0, channel, seq, complete);
  else
    g_signal_emit (self, signals[signal], 0, channel, seq);
  GST_OBJECT_LOCK (self);
  post = self->post_messages;
  GST_OBJECT_UNLOCK (self);
  if (post)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new (publisher ? "trickle-publisher" :
                "trickle-subscriber", "channel", G_TYPE_STRING, channel,
                "seq", G_TYPE_INT64, seq, "connected", G_TYPE_BOOLEAN,
                connected, "complete", G_TYPE_BOOLEAN, complete, NULL)));
}

static void
on_publisher_connected (GstTrickleHttpServer * s, const gchar * channel,
    gint64 seq, GstTrickleServer * self)
{
  connection_event (self, SIGNAL_PUBLISHER_CONNECTED, channel, seq, FALSE);
}

static void
on_publisher_disconnected (GstTrickleHttpServer * s, const gchar * channel,
    gint64 seq, gboolean complete, GstTrickleServer * self)
{
  connection_event (self, SIGNAL_PUBLISHER_DISCONNECTED, channel, seq,
      complete);
}

static void
on_subscriber_connected (GstTrickleHttpServer * s, const gchar * channel,
    gint64 seq, GstTrickleServer * self)
{
  connection_event (self, SIGNAL_SUBSCRIBER_CONNECTED, channel, seq, FALSE);
}

static void
on_subscriber_disconnected (GstTrickleHttpServer * s, const gchar * channel,
    gint64 seq, GstTrickleServer * self)
{
  connection_event (self, SIGNAL_SUBSCRIBER_DISCONNECTED, channel, seq, FALSE);
}

/* the first handler that refuses decides */
static gboolean
authorize_accumulator (GSignalInvocationHint * hint, GValue * acc,
    const GValue * ret, gpointer data)
{
  guint status = g_value_get_uint (ret);

  g_value_set_uint (acc, status);
  return status == 0 || status == 200;
}

static guint
on_authorize (GstTrickleHttpServer * s, const gchar * method,
    const gchar * action, const gchar * channel, SoupMessageHeaders * headers,
    const gchar * client, GstTrickleServer * self)
{
  guint status = 0;

  if (g_signal_has_handler_pending (self, signals[SIGNAL_AUTHORIZE], 0, FALSE))
    g_signal_emit (self, signals[SIGNAL_AUTHORIZE], 0, method, action,
        channel, headers, client, &status);
  return status;
}

/* a sink pad's channel (sink_<channel>) is the pipeline's output */
static void
guard_sink_pad (const gchar * name, GstTrickleChannelStore * store)
{
  if (g_str_has_prefix (name, "sink_") && name[5])
    gst_trickle_channel_store_guard (store, name + 5, TRUE, NULL);
}

static void
host_pad (const GValue * item, gpointer store)
{
  gst_trickle_pad_host (g_value_get_object (item), store);
}

static void
drop_pad_store (const GValue * item, gpointer unused)
{
  gst_trickle_pad_drop_store (g_value_get_object (item));
}

static gboolean
gst_trickle_server_start (GstTrickleServer * self)
{
  GstTrickleChannelStore *store;
  GstTrickleHttpServer *server;
  GTlsCertificate *cert = NULL;
  GError *err = NULL;
  gchar *url, *host, *control, *events;
  gchar **peers;
  guint port, stats_interval;
  GstIterator *hosted;
  GList *l;

  GST_OBJECT_LOCK (self);
  if (self->tls_certificate || self->tls_key) {
    if (!self->tls_certificate) {
      GST_OBJECT_UNLOCK (self);
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("tls-key is set but tls-certificate is not"), (NULL));
      return FALSE;
    }
    cert = g_tls_certificate_new_from_files (self->tls_certificate,
        self->tls_key ? self->tls_key : self->tls_certificate, &err);
    if (!cert) {
      gchar *file = g_strdup (self->tls_certificate);
      GST_OBJECT_UNLOCK (self);
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not load the TLS certificate \"%s\"", file),
          ("%s", err->message));
      g_free (file);
      g_clear_error (&err);
      return FALSE;
    }
  }

  store = gst_trickle_channel_store_new ();
  g_object_set (store, "window", self->window,
      "max-segment-size", self->max_segment_size,
      "max-channels", self->max_channels,
      "auto-create", self->auto_create,
      "changefeed", self->changefeed, "idle-timeout", self->idle_timeout,
      "changefeed-peers-token", peers_token (self), NULL);
  /* set once the server listens (below) */
  peers = self->changefeed_peers && *self->changefeed_peers ?
      g_strsplit (self->changefeed_peers, ",", -1) : NULL;
  /* the names this element writes or guards, before the server listens
   * (and for good: a channel swept or deleted and made again keeps it):
   * the events channel and the sink pads' are read-only for clients, the
   * control channel takes its own token */
  if (self->events)
    gst_trickle_channel_store_guard (store, self->events, TRUE, NULL);
  if (self->control && self->control_token)
    gst_trickle_channel_store_guard (store, self->control, FALSE,
        self->control_token);
  /* (the object lock, held here, guards the pad list) */
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next)
    guard_sink_pad (GST_OBJECT_NAME (l->data), store);
  server = gst_trickle_http_server_new (store);
  g_signal_connect (server, "authorize", G_CALLBACK (on_authorize), self);
  /* connected before the server runs (its threads emit) */
  g_signal_connect (server, "publisher-connected",
      G_CALLBACK (on_publisher_connected), self);
  g_signal_connect (server, "publisher-disconnected",
      G_CALLBACK (on_publisher_disconnected), self);
  g_signal_connect (server, "subscriber-connected",
      G_CALLBACK (on_subscriber_connected), self);
  g_signal_connect (server, "subscriber-disconnected",
      G_CALLBACK (on_subscriber_disconnected), self);
  g_object_set (server, "address", self->host, "port", self->port,
      "base-path", self->base_path, "tls-certificate", cert,
      "threads", self->threads, "header-timeout", self->header_timeout,
      "max-header-size", self->max_header_size,
      "io-timeout", self->io_timeout,
      "keepalive-interval", self->keepalive_interval * 1000,
      "publish-token", self->publish_token,
      "subscribe-token", self->subscribe_token,
      "max-connections-per-client", self->max_conns_per_client,
      "max-channel-request-rate", self->max_channel_rate, NULL);
  GST_OBJECT_UNLOCK (self);
  g_clear_object (&cert);

  if (!gst_trickle_http_server_start (server, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Could not start the trickle server"), ("%s", err->message));
    g_clear_error (&err);
    g_strfreev (peers);
    g_object_unref (server);
    g_object_unref (store);
    return FALSE;
  }

  port = gst_trickle_http_server_get_bound_port (server);
  /* the peers' feeds are followed from threads of their own, started once
   * the server is up: GLib 2.74 can deadlock when two threads initialize
   * GIO types (GInetSocketAddress, libsoup's) at once, as the server's
   * start and a follower's first connection did */
  if (peers) {
    g_object_set (store, "changefeed-peers", peers, NULL);
    g_strfreev (peers);
  }
  /* connected before the channels of pads requested before the start
   * (gst_parse_launch() requests them in NULL) are made: an application
   * that connected channel-added after making the pipeline sees them */
  g_signal_connect (store, "channel-added", G_CALLBACK (store_channel_added),
      self);
  g_signal_connect (store, "channel-removed",
      G_CALLBACK (store_channel_removed), self);
  GST_OBJECT_LOCK (self);
  self->store = store;
  /* a token set while the server was being made */
  apply_peers_token (self);
  self->server = server;
  /* a token set while the server was being made */
  g_object_set (server, "publish-token", self->publish_token,
      "subscribe-token", self->subscribe_token,
      "max-connections-per-client", self->max_conns_per_client,
      "max-channel-request-rate", self->max_channel_rate, NULL);
  GST_OBJECT_UNLOCK (self);
  /* not under the object lock: channel-added handlers may use the element.
   * The pad list is the element's, stable here (pads are requested and
   * released by the application thread, which is changing the state) */
  hosted = gst_element_iterate_pads (GST_ELEMENT (self));
  while (gst_iterator_foreach (hosted, host_pad, store) == GST_ITERATOR_RESYNC)
    gst_iterator_resync (hosted);
  gst_iterator_free (hosted);
  GST_OBJECT_LOCK (self);
  control = g_strdup (self->control);
  events = g_strdup (self->events);
  stats_interval = self->stats_interval;
  host = strchr (self->host, ':') ? g_strdup_printf ("[%s]", self->host)
      : g_strdup (self->host);
  url = g_strdup_printf ("%s://%s:%u%s", cert || self->tls_certificate ?
      "https" : "http", host, port, self->base_path);
  GST_OBJECT_UNLOCK (self);

  {
    GstTrickleControl *ctl;
    gchar *allow;

    GST_OBJECT_LOCK (self);
    allow = g_strdup (self->control_allow);
    GST_OBJECT_UNLOCK (self);
    ctl = gst_trickle_control_start (GST_ELEMENT (self), store, control,
        events, stats_interval, allow);
    g_mutex_lock (&self->ctl_lock);
    self->ctl = ctl;
    g_mutex_unlock (&self->ctl_lock);
    g_free (allow);
  }
  g_free (control);
  g_free (events);

  GST_INFO_OBJECT (self, "listening on %s", url);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("trickleserver-listening",
              "host", G_TYPE_STRING, self->host,
              "port", G_TYPE_UINT, port, "url", G_TYPE_STRING, url, NULL)));
  g_free (url);
  g_free (host);
  return TRUE;
}

static void
gst_trickle_server_stop (GstTrickleServer * self)
{
  GstTrickleHttpServer *server;
  GstTrickleChannelStore *store;
  GstIterator *hosted;

  {
    GstTrickleControl *ctl;

    g_mutex_lock (&self->ctl_lock);
    ctl = g_steal_pointer (&self->ctl);
    g_mutex_unlock (&self->ctl_lock);
    gst_trickle_control_stop (ctl);
  }
  GST_OBJECT_LOCK (self);
  server = g_steal_pointer (&self->server);
  store = g_steal_pointer (&self->store);
  GST_OBJECT_UNLOCK (self);
  /* the hosted pads forget the store (they were handed it at the start) */
  hosted = gst_element_iterate_pads (GST_ELEMENT (self));
  while (gst_iterator_foreach (hosted, drop_pad_store, NULL) ==
      GST_ITERATOR_RESYNC)
    gst_iterator_resync (hosted);
  gst_iterator_free (hosted);
  if (store)
    g_signal_handlers_disconnect_by_data (store, self);

  if (server) {
    gst_trickle_http_server_stop (server);
    g_object_unref (server);
  }
  if (store) {
    gst_trickle_channel_store_clear (store);
    g_object_unref (store);
  }
}

static GstStateChangeReturn
gst_trickle_server_change_state (GstElement * element,
    GstStateChange transition)
{
  GstTrickleServer *self = GST_TRICKLE_SERVER (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY &&
      !gst_trickle_server_start (self))
    return GST_STATE_CHANGE_FAILURE;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    GST_OBJECT_LOCK (self);
    self->posted_eos = FALSE;
    GST_OBJECT_UNLOCK (self);
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING)
    gst_trickle_control_publish_event (self->ctl, "{\"event\":\"started\"}");
  else if (transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED)
    gst_trickle_control_publish_event (self->ctl, "{\"event\":\"stopped\"}");

  /* src pads are live sources: nothing to preroll */
  if (ret == GST_STATE_CHANGE_SUCCESS &&
      (transition == GST_STATE_CHANGE_READY_TO_PAUSED ||
          transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED) &&
      element->numsrcpads > 0)
    ret = GST_STATE_CHANGE_NO_PREROLL;

  if (transition == GST_STATE_CHANGE_READY_TO_NULL ||
      (transition == GST_STATE_CHANGE_NULL_TO_READY &&
          ret == GST_STATE_CHANGE_FAILURE))
    gst_trickle_server_stop (self);
  return ret;
}

/* ------------------------------------------------------------------------ */
/* hosted channels: request pads (see gsttricklepads.c) */

static GstTrickleChannelStore *
gst_trickle_server_get_store (GstElement * element)
{
  GstTrickleServer *self = GST_TRICKLE_SERVER (element);
  GstTrickleChannelStore *store;

  GST_OBJECT_LOCK (self);
  store = self->store ? g_object_ref (self->store) : NULL;
  GST_OBJECT_UNLOCK (self);
  return store;
}

/* with hosted sink pads the server is one of the pipeline's sinks (the
 * pipeline's EOS waits for it), with src pads one of its sources (the
 * pipeline sends it EOS: gst-launch-1.0 -e). It has no children, so the
 * flags are its pads' alone */
static void
update_flags (GstElement * element)
{
  GST_OBJECT_LOCK (element);
  if (element->numsinkpads > 0)
    GST_OBJECT_FLAG_SET (element, GST_ELEMENT_FLAG_SINK);
  else
    GST_OBJECT_FLAG_UNSET (element, GST_ELEMENT_FLAG_SINK);
  if (element->numsrcpads > 0)
    GST_OBJECT_FLAG_SET (element, GST_ELEMENT_FLAG_SOURCE);
  else
    GST_OBJECT_FLAG_UNSET (element, GST_ELEMENT_FLAG_SOURCE);
  GST_OBJECT_UNLOCK (element);
}

/* called when a sink pad takes EOS or is flushed: EOS is posted once
 * every sink pad has it, as a sink posts it */
static void
gst_trickle_server_check_eos (GstElement * element, guint32 seqnum)
{
  GstTrickleServer *self = GST_TRICKLE_SERVER (element);
  gboolean all = FALSE, post = FALSE;
  GList *l;

  GST_OBJECT_LOCK (self);
  for (l = element->sinkpads; l; l = l->next) {
    all = gst_trickle_pad_is_eos (l->data);
    if (!all)
      break;
  }
  if (!all)
    self->posted_eos = FALSE;
  else if (!self->posted_eos)
    post = self->posted_eos = TRUE;
  GST_OBJECT_UNLOCK (self);

  if (post) {
    GstMessage *msg = gst_message_new_eos (GST_OBJECT (self));
    if (seqnum != GST_SEQNUM_INVALID)
      gst_message_set_seqnum (msg, seqnum);
    GST_INFO_OBJECT (self, "every sink pad is at EOS");
    gst_element_post_message (element, msg);
  }
}

static void
end_src_pad (const GValue * item, gpointer seqnum)
{
  gst_trickle_pad_end_stream (g_value_get_object (item),
      GPOINTER_TO_UINT (seqnum));
}

/* EOS sent to the element (by the pipeline, to its sources): the src pads
 * end their streams. Not the sink pads: they get EOS from upstream, after
 * what upstream still has */
static gboolean
gst_trickle_server_send_event (GstElement * element, GstEvent * event)
{
  GstIterator *it;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);

  it = gst_element_iterate_src_pads (element);
  while (gst_iterator_foreach (it, end_src_pad,
          GUINT_TO_POINTER (gst_event_get_seqnum (event))) ==
      GST_ITERATOR_RESYNC)
    gst_iterator_resync (it);
  gst_iterator_free (it);
  gst_event_unref (event);
  return TRUE;
}

static GstPad *
gst_trickle_server_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps)
{
  GstPad *pad = gst_trickle_pad_new (element, templ, name,
      gst_trickle_server_check_eos);
  GstTrickleChannelStore *store;

  if (!pad)
    return NULL;
  {
    GstPad *existing = gst_element_get_static_pad (element, name);
    if (existing) {
      GST_WARNING_OBJECT (element, "pad %s exists already", name);
      gst_object_unref (existing);
      gst_object_ref_sink (pad);
      gst_object_unref (pad);
      return NULL;
    }
  }
  store = gst_trickle_server_get_store (element);
  if (store) {
    gst_trickle_pad_host (pad, store);
    g_object_unref (store);
  }
  if (GST_STATE (element) >= GST_STATE_PAUSED)
    gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (element, pad);
  update_flags (element);
  GST_INFO_OBJECT (element, "hosting channel \"%s\" on %s",
      gst_trickle_pad_get_channel (pad), name);
  return pad;
}

static void
gst_trickle_server_release_pad (GstElement * element, GstPad * pad)
{
  GstTrickleChannelStore *store = gst_trickle_server_get_store (element);

  gst_object_ref (pad);
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
  update_flags (element);
  if (store) {
    gst_trickle_pad_unhost (pad, store);
    g_object_unref (store);
  }
  gst_object_unref (pad);
  /* the pad that had not ended may have been the last one */
  if (element->numsinkpads > 0)
    gst_trickle_server_check_eos (element, GST_SEQNUM_INVALID);
}
