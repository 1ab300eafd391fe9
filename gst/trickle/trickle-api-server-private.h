/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Not installed: the HTTP side of the library's services (the Livepeer
 * worker, the gateway).
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS
/* A SoupServer in a thread of its own, on its own main context. The
 * connections are accepted by a GSocketService and handed to the server
 * (libsoup 3.2.3's own listener leaks every socket it accepts). */
typedef struct _GstTrickleApiServer GstTrickleApiServer;

G_GNUC_INTERNAL
    GstTrickleApiServer * gst_trickle_api_server_new (const gchar * host,
    guint port, const gchar * server_header, const gchar * thread_name,
    SoupServerCallback callback, gpointer user_data, GError ** error);
/* starts the thread: requests are served from now on */
G_GNUC_INTERNAL void gst_trickle_api_server_run (GstTrickleApiServer * api);
G_GNUC_INTERNAL
    GMainContext * gst_trickle_api_server_get_context (GstTrickleApiServer *
    api);
G_GNUC_INTERNAL guint gst_trickle_api_server_get_port (GstTrickleApiServer *
    api);
/* no new connection (from any thread); the open ones are still served */
G_GNUC_INTERNAL
    void gst_trickle_api_server_stop_accepting (GstTrickleApiServer * api);
/* ends the thread after the answers already given are written, closes
 * the server and frees it; never from the server's own thread */
G_GNUC_INTERNAL void gst_trickle_api_server_free (GstTrickleApiServer * api);

G_END_DECLS
