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
/* What the two libsoup clients (GstTricklePublisher, GstTrickleSubscriber)
 * do the same way: checking a channel URL, opening a CA file, and the
 * messages' HTTP version and extra headers. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "trickle-private.h"

/* A channel URL: http(s), a host, and a channel name. Without one
 * (`http://host:port/`) requests would go to `/<seq>` of the server's
 * root: a mistake to report, not a channel named after the seq. */
gboolean
_gst_trickle_client_check_url (const gchar * url, gchar ** why)
{
  GUri *uri = url ? g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL) : NULL;
  const gchar *path = uri ? g_uri_get_path (uri) : NULL;
  gboolean ok = uri && g_uri_get_host (uri) && *g_uri_get_host (uri) &&
      (g_strcmp0 (g_uri_get_scheme (uri), "http") == 0 ||
      g_strcmp0 (g_uri_get_scheme (uri), "https") == 0);

  if (!ok) {
    *why = g_strdup_printf ("Invalid channel URL \"%s\" "
        "(http(s)://host:port/[base/]channel)", GST_STR_NULL (url));
  } else if (!path || !*path || g_str_has_suffix (path, "/")) {
    ok = FALSE;
    *why = g_strdup_printf ("The URL \"%s\" names no channel "
        "(http(s)://host:port/[base/]channel)", url);
  }
  g_clear_pointer (&uri, g_uri_unref);
  return ok;
}

/* Every number a server sends is checked: a hostile one answering
 * Lp-Trickle-Latest: 9223372036854775807 must not make seq + 1 overflow.
 * Decimal digits only (no sign, no space), at most GST_TRICKLE_SEQ_MAX,
 * which leaves room for every seq + 1 a client computes. */
gboolean
_gst_trickle_client_parse_seq (const gchar * value, gint64 * seq)
{
  guint64 v;

  if (!value || !g_ascii_isdigit (*value)
      || !g_ascii_string_to_unsigned (value, 10, 0, GST_TRICKLE_SEQ_MAX, &v,
          NULL))
    return FALSE;
  *seq = (gint64) v;
  return TRUE;
}

/* An answer's head, from a server that may be hostile (the publisher's
 * direct POSTs read it themselves): the status, what ends its body
 * (Content-Length, -1 none; chunked), whether the connection stays open,
 * Lp-Trickle-Closed. FALSE while no "\r\n\r\n" ends it in @d (@len
 * bytes, not NUL-terminated); *@consumed: its length. */
gboolean
_gst_trickle_client_parse_answer_head (const gchar * d, gsize len,
    gsize * consumed, guint * status, gint64 * content_length,
    gboolean * chunked, gboolean * keep_alive, gboolean * closed)
{
  const gchar *end = len ? g_strstr_len (d, len, "\r\n\r\n") : NULL;
  gchar **lines, *head;
  guint i;

  if (!end)
    return FALSE;
  *consumed = end + 4 - d;
  head = g_strndup (d, end - d);
  lines = g_strsplit (head, "\r\n", -1);
  g_free (head);
  *status = 0;
  if (lines[0] && g_str_has_prefix (lines[0], "HTTP/1.") && strlen (lines[0])
      >= 12 && g_ascii_isdigit (lines[0][9]) && g_ascii_isdigit (lines[0][10])
      && g_ascii_isdigit (lines[0][11]))
    *status = (lines[0][9] - '0') * 100 + (lines[0][10] - '0') * 10 +
        (lines[0][11] - '0');
  *keep_alive = lines[0] && g_str_has_prefix (lines[0], "HTTP/1.1");
  *content_length = -1;
  *chunked = FALSE;
  *closed = FALSE;
  /* (an empty head splits into no line at all) */
  for (i = 1; lines[0] && lines[i]; i++) {
    gchar *colon = strchr (lines[i], ':');
    gchar *value;
    guint64 v;

    if (!colon)
      continue;
    *colon = '\0';
    value = g_strstrip (colon + 1);
    if (!g_ascii_strcasecmp (lines[i], "Content-Length")) {
      /* digits below 2^63, else unknown: the body then ends with the
       * connection */
      *content_length = g_ascii_isdigit (*value) &&
          g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &v, NULL) ?
          (gint64) v : -1;
    } else if (!g_ascii_strcasecmp (lines[i], "Transfer-Encoding")) {
      *chunked = g_ascii_strcasecmp (value, "chunked") == 0;
    } else if (!g_ascii_strcasecmp (lines[i], "Connection")) {
      gchar **tokens = g_strsplit (value, ",", -1);
      guint t;

      for (t = 0; tokens[t]; t++)
        if (!g_ascii_strcasecmp (g_strstrip (tokens[t]), "close"))
          *keep_alive = FALSE;
      g_strfreev (tokens);
    } else if (!g_ascii_strcasecmp (lines[i], "Lp-Trickle-Closed")) {
      *closed = TRUE;
    }
  }
  g_strfreev (lines);
  return TRUE;
}

/* the body of a chunked answer is complete in @d (@len bytes; trailers
 * skipped). A chunk size that does not fit in what was read is "not yet"
 * (a hostile 0xffff...fe made size + 2 wrap around: a loop that never
 * ended); the caller bounds what it reads. */
gboolean
_gst_trickle_client_chunked_complete (const gchar * d, gsize len)
{
  gsize off = 0;

  for (;;) {
    const gchar *eol = len > off ? g_strstr_len (d + off, len - off,
        "\r\n") : NULL;
    guint64 size;

    if (!eol)
      return FALSE;
    size = g_ascii_strtoull (d + off, NULL, 16);
    off = eol + 2 - d;
    if (size == 0)              /* then trailers, up to an empty line */
      return (len - off >= 2 && d[off] == '\r' && d[off + 1] == '\n')
          || (len > off && g_strstr_len (d + off, len - off, "\r\n\r\n"));
    if (size > len - off || len - off - size < 2)
      return FALSE;
    off += size + 2;
  }
}

/* GTlsFileDatabase takes only an absolute path: a relative one is taken
 * from the working directory, as users of a command line expect */
GTlsDatabase *
_gst_trickle_client_open_ca_file (const gchar * ca_file, gchar ** why)
{
  gchar *path = g_canonicalize_filename (ca_file, NULL);
  GError *err = NULL;
  GTlsDatabase *db = g_tls_file_database_new (path, &err);

  if (!db) {
    *why = g_strdup_printf ("CA file %s: %s", path, err->message);
    g_error_free (err);
  }
  g_free (path);
  return db;
}

void
_gst_trickle_client_creds_clear (TrickleClientCreds * creds)
{
  g_clear_pointer (&creds->user_id, g_free);
  g_clear_pointer (&creds->user_pw, g_free);
  g_clear_pointer (&creds->proxy_id, g_free);
  g_clear_pointer (&creds->proxy_pw, g_free);
}

/* 401, 403, 407: the credentials are missing or refused */
gboolean
_gst_trickle_client_status_unauthorized (guint status)
{
  return status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN
      || status == SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED;
}

/* The proxy property as souphttpsrc takes it: a URI, `http://` assumed
 * when it has no scheme; NULL (*resolver NULL) leaves the system's
 * (GIO's default resolver: the http_proxy/https_proxy environment or the
 * desktop's settings) */
gboolean
_gst_trickle_client_proxy_resolver (const gchar * proxy,
    GProxyResolver ** resolver, gchar ** why)
{
  gchar *uri;
  GUri *parsed;
  const gchar *scheme;
  gboolean ok;

  *resolver = NULL;
  if (!proxy || !*proxy)
    return TRUE;
  uri = strstr (proxy, "://") ? g_strdup (proxy) :
      g_strconcat ("http://", proxy, NULL);
  parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  scheme = parsed ? g_uri_get_scheme (parsed) : NULL;
  ok = parsed && g_uri_get_host (parsed) && *g_uri_get_host (parsed)
      && (g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "https") == 0
      || g_strcmp0 (scheme, "socks") == 0 || g_strcmp0 (scheme, "socks4") == 0
      || g_strcmp0 (scheme, "socks5") == 0);
  if (ok)
    *resolver = g_simple_proxy_resolver_new (uri, NULL);
  else
    /* not echoed: the URI may hold a password (user:password@host) */
    *why = g_strdup ("Badly formatted proxy URI (expected "
        "http://[user:password@]host:port)");
  g_clear_pointer (&parsed, g_uri_unref);
  g_free (uri);
  return ok;
}

/* a challenge (401 from the server, 407 from the proxy) is answered once
 * with the credentials set for it, as souphttpsrc does; libsoup then
 * sends the request again and keeps the credentials for the following
 * requests of the same protection space (sent at once: a streamed POST,
 * which could not be sent again, follows a bodiless request that met the
 * challenge first). Refused credentials leave the 401/407 as the answer. */
/* what a message keeps of where it was first sent, to tell a redirect to
 * another origin */
typedef struct
{
  gchar *origin;                /* scheme://host:port */
  gchar **extra;                /* the extra-headers' names */
  gboolean elsewhere;           /* redirected to another origin */
} Origin;

static void
origin_free (Origin * o)
{
  g_free (o->origin);
  g_strfreev (o->extra);
  g_free (o);
}

static gchar *
origin_of (GUri * uri)
{
  return g_strdup_printf ("%s://%s:%d", g_uri_get_scheme (uri),
      g_uri_get_host (uri), g_uri_get_port (uri));
}

static gboolean
collect_name (GQuark field, const GValue * value, gpointer data)
{
  g_ptr_array_add (data, g_strdup (g_quark_to_string (field)));
  return TRUE;
}

/* A redirect followed by libsoup (a GET: POSTs are never redirected)
 * re-sends the message: to another origin, without the extra-headers
 * (an API key must not reach a host the user did not name), the
 * Authorization and Cookie headers, and with no credentials given to
 * that host's challenges */
static void
restarted (SoupMessage * msg, Origin * o)
{
  gchar *now = origin_of (soup_message_get_uri (msg));
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  guint i;

  if (!g_str_equal (now, o->origin)) {
    o->elsewhere = TRUE;
    for (i = 0; o->extra && o->extra[i]; i++)
      soup_message_headers_remove (h, o->extra[i]);
    soup_message_headers_remove (h, "Authorization");
    soup_message_headers_remove (h, "Cookie");
  }
  g_free (now);
}

static gboolean
authenticate (SoupMessage * msg, SoupAuth * auth, gboolean retrying,
    gpointer data)
{
  TrickleClientCreds *creds = data;
  Origin *o = g_object_get_data (G_OBJECT (msg), "trickle-origin");

  if (retrying)
    return FALSE;
  if (!soup_auth_is_for_proxy (auth) && o && o->elsewhere)
    return FALSE;
  if (soup_auth_is_for_proxy (auth)) {
    if (creds->proxy_id && creds->proxy_pw)
      soup_auth_authenticate (auth, creds->proxy_id, creds->proxy_pw);
  } else if (creds->user_id && creds->user_pw) {
    soup_auth_authenticate (auth, creds->user_id, creds->user_pw);
  }
  return FALSE;
}

/* a failure in a row after @failures others may be retried: @retries -1
 * is forever */
gboolean
_gst_trickle_client_may_retry (gint retries, guint failures)
{
  return retries < 0 || failures < (guint) retries;
}

/* the wait before retry number @failures + 1: @retry_delay seconds,
 * doubling with each failure in a row up to 16 times it; at least 10 ms,
 * so retry-delay=0 with retries=-1 against a server that refuses at once
 * does not spin a core */
#define MIN_RETRY_DELAY_MS 10

guint
_gst_trickle_client_retry_delay_ms (gdouble retry_delay, guint failures)
{
  gdouble ms = retry_delay * 1000.0 * (1u << MIN (failures, 4));

  return (guint) CLAMP (ms, MIN_RETRY_DELAY_MS, (gdouble) G_MAXUINT);
}

/* DELETE on a channel whose publisher could not end it (blocking, 5 s at
 * most): its subscribers would wait for it for ever. FALSE when the
 * server did not take it (a warning says why). */
gboolean
_gst_trickle_client_delete_channel (const gchar * url)
{
  SoupSession *session = soup_session_new_with_options ("timeout", 5, NULL);
  SoupMessage *msg = soup_message_new ("DELETE", url);
  GError *err = NULL;
  GBytes *body = NULL;
  guint status = 0;

  if (msg)
    body = soup_session_send_and_read (session, msg, NULL, &err);
  if (err)
    GST_WARNING ("DELETE %s: %s", url, err->message);
  else if (msg)
    status = soup_message_get_status (msg);
  g_clear_error (&err);
  if (body)
    g_bytes_unref (body);
  g_clear_object (&msg);
  g_object_unref (session);
  return (status >= 200 && status < 300) || status == 404;
}

#define MAX_RETRY_AFTER_S 60

guint
_gst_trickle_client_throttled_ms (guint status, SoupMessageHeaders * headers)
{
  const gchar *v;
  guint64 secs = 0;
  const gchar *p;

  if (status != 429 && status != 503)
    return 0;
  v = soup_message_headers_get_one (headers, "Retry-After");
  if (!v)
    return 0;
  while (*v == ' ' || *v == '\t')
    v++;
  /* delta-seconds only (an HTTP-date is a clock we may not share) */
  for (p = v; g_ascii_isdigit (*p) && secs <= MAX_RETRY_AFTER_S; p++)
    secs = secs * 10 + (*p - '0');
  if (p == v || (*p && *p != ' ' && *p != '\t' && !g_ascii_isdigit (*p)))
    return 0;
  return (guint) MIN (MAX (secs, 1), MAX_RETRY_AFTER_S) * 1000;
}

/* The session's TLS database: from ssl-ca-file if set (it takes
 * precedence, as in souphttpsrc), else tls-database, else (NULL) the
 * system's */
gboolean
_gst_trickle_client_get_database (const gchar * ssl_ca_file,
    GTlsDatabase * tls_database, GTlsDatabase ** db, gchar ** why)
{
  *db = NULL;
  if (ssl_ca_file) {
    *db = _gst_trickle_client_open_ca_file (ssl_ca_file, why);
    return *db != NULL;
  }
  if (tls_database)
    *db = g_object_ref (tls_database);
  return TRUE;
}

/* Offers only HTTP/1.1 in the TLS handshake (ALPN), so an https server
 * that also speaks HTTP/2 (Go's ListenAndServeTLS, nginx with http2)
 * answers in HTTP/1.1. libsoup 3.2.3's HTTP/2 client aborts the process on
 * a request body streamed while it is sent (on_data_source_read_callback
 * asserts data_source_poll == NULL when a body that became readable runs
 * dry again within one write): our POSTs, as soon as a segment has more
 * than one buffer. Its cancellation paths (dropped and reissued
 * preconnects) are untested ground too, and one TCP connection per
 * request is what the preconnects are designed around. libsoup 3.2 has no
 * public call to force the version (soup_message_set_force_http_version()
 * is private, SOUP_FORCE_HTTP1 is process-wide): the handshake is about to
 * start when a new connection reports G_SOCKET_CLIENT_TLS_HANDSHAKING, and
 * the protocols advertised are read only then. */
static void
force_http1 (SoupMessage * msg, GSocketClientEvent event,
    GIOStream * connection, gpointer user_data)
{
  static const gchar *const http1[] = { "http/1.1", NULL };

  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING
      && G_IS_TLS_CONNECTION (connection))
    g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (connection),
        http1);
}

/* A header name is an HTTP token: what libsoup would refuse (with a
 * warning, dropping the header) is a settings error at start instead. */
static gboolean
header_name_ok (const gchar * name)
{
  const gchar *c;

  if (!name || !*name)
    return FALSE;
  for (c = name; *c; c++)
    if (*c <= ' ' || *c >= 127 || strchr ("()<>@,;:\\\"/[]?={}", *c))
      return FALSE;
  return TRUE;
}

/* one value as souphttpsrc takes it: a string, or anything GValue can
 * transform into one; NULL if it cannot */
static gchar *
header_value (const GValue * value)
{
  GValue dest = G_VALUE_INIT;
  gchar *s = NULL;

  if (G_VALUE_HOLDS_STRING (value))
    return g_value_dup_string (value);
  g_value_init (&dest, G_TYPE_STRING);
  if (g_value_transform (value, &dest))
    s = g_value_dup_string (&dest);
  g_value_unset (&dest);
  return s;
}

typedef struct
{
  SoupMessageHeaders *headers;  /* NULL: only check */
  gchar *why;
} HeaderCtx;

static gboolean
add_header (HeaderCtx * ctx, const gchar * name, const GValue * value)
{
  gchar *v = header_value (value);

  if (!v || strpbrk (v, "\r\n")) {
    ctx->why = g_strdup_printf ("extra-headers: the value of %s %s", name,
        v ? "contains a line break" : "cannot be turned into a string");
    g_free (v);
    return FALSE;
  }
  if (ctx->headers)
    soup_message_headers_append (ctx->headers, name, v);
  g_free (v);
  return TRUE;
}

static gboolean
add_field (GQuark field, const GValue * value, gpointer data)
{
  HeaderCtx *ctx = data;
  const gchar *name = g_quark_to_string (field);
  guint i, n;

  if (!header_name_ok (name)) {
    ctx->why = g_strdup_printf ("extra-headers: \"%s\" is not a valid HTTP "
        "header name", name);
    return FALSE;
  }
  /* arrays and lists: the header repeated, once per value */
  if (GST_VALUE_HOLDS_ARRAY (value)) {
    n = gst_value_array_get_size (value);
    for (i = 0; i < n; i++)
      if (!add_header (ctx, name, gst_value_array_get_value (value, i)))
        return FALSE;
    return TRUE;
  }
  if (GST_VALUE_HOLDS_LIST (value)) {
    n = gst_value_list_get_size (value);
    for (i = 0; i < n; i++)
      if (!add_header (ctx, name, gst_value_list_get_value (value, i)))
        return FALSE;
    return TRUE;
  }
  return add_header (ctx, name, value);
}

/* Checks @extra_headers as the clients will send them (at start, so a bad
 * one is a settings error and never a header silently dropped) */
gboolean
_gst_trickle_client_check_extra_headers (const GstStructure * extra_headers,
    gchar ** why)
{
  HeaderCtx ctx = { NULL, NULL };

  if (!extra_headers || gst_structure_foreach (extra_headers, add_field, &ctx))
    return TRUE;
  *why = ctx.why;
  return FALSE;
}

/* a request as both clients send them: HTTP/1.1, the @extra_headers
 * (checked at start) added as souphttpsrc adds them: every field a header,
 * named as the field, its value a string (other types transformed into
 * one), an array or a list the header repeated */
SoupMessage *
_gst_trickle_client_new_message (const gchar * method, const gchar * url,
    const GstStructure * extra_headers, TrickleClientCreds * creds)
{
  SoupMessage *msg = soup_message_new (method, url);
  HeaderCtx ctx = { NULL, NULL };
  Origin *o;

  if (!msg)
    return NULL;
  o = g_new0 (Origin, 1);
  o->origin = origin_of (soup_message_get_uri (msg));
  if (extra_headers) {
    GPtrArray *names = g_ptr_array_new ();

    ctx.headers = soup_message_get_request_headers (msg);
    gst_structure_foreach (extra_headers, add_field, &ctx);
    g_free (ctx.why);
    gst_structure_foreach (extra_headers, collect_name, names);
    g_ptr_array_add (names, NULL);
    o->extra = (gchar **) g_ptr_array_free (names, FALSE);
  }
  g_object_set_data_full (G_OBJECT (msg), "trickle-origin", o,
      (GDestroyNotify) origin_free);
  g_signal_connect (msg, "restarted", G_CALLBACK (restarted), o);
  /* a segment POST is published where it was sent, or not at all: its
   * 3xx is an error, not a GET somewhere else */
  if (g_str_equal (method, "POST") || g_str_equal (method, "DELETE"))
    soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect (msg, "network-event", G_CALLBACK (force_http1), NULL);
  if (creds)
    g_signal_connect (msg, "authenticate", G_CALLBACK (authenticate), creds);
  return msg;
}
