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
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include "trickle-api-server-private.h"

struct _GstTrickleApiServer
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  gchar *thread_name;
  SoupServer *server;
  GSocketService *service;
  guint port;
};

static gboolean
on_incoming (GSocketService * service, GSocketConnection * connection,
    GObject * source, GstTrickleApiServer * api)
{
  GSocketAddress *local = g_socket_connection_get_local_address (connection,
      NULL);
  GSocketAddress *remote = g_socket_connection_get_remote_address (connection,
      NULL);
  GError *err = NULL;

  if (!soup_server_accept_iostream (api->server, G_IO_STREAM (connection),
          local, remote, &err)) {
    GST_WARNING ("cannot serve a connection: %s", err->message);
    g_clear_error (&err);
  }
  g_clear_object (&local);
  g_clear_object (&remote);
  return TRUE;
}

static gpointer
api_thread (gpointer data)
{
  GstTrickleApiServer *api = data;

  g_main_context_push_thread_default (api->context);
  g_main_loop_run (api->loop);
  /* the server (and its connections) end in the thread they live in,
   * after the answers already given are written */
  g_socket_service_stop (api->service);
  g_socket_listener_close (G_SOCKET_LISTENER (api->service));
  g_clear_object (&api->service);
  while (g_main_context_iteration (api->context, FALSE));
  soup_server_disconnect (api->server);
  g_clear_object (&api->server);
  while (g_main_context_iteration (api->context, FALSE));
  g_main_context_pop_thread_default (api->context);
  return NULL;
}

static gboolean
listen_on (GstTrickleApiServer * api, const gchar * host, guint port,
    GError ** error)
{
  GSocketListener *listener = G_SOCKET_LISTENER (api->service);
  GInetAddress *addr;
  GSocketAddress *sa, *bound = NULL;
  gboolean ok;

  if (!host || !*host || g_str_equal (host, "0.0.0.0")
      || g_str_equal (host, "::")) {
    if (port == 0) {
      api->port = g_socket_listener_add_any_inet_port (listener, NULL, error);
      return api->port != 0;
    }
    api->port = port;
    return g_socket_listener_add_inet_port (listener, port, NULL, error);
  }
  addr = g_inet_address_new_from_string (g_str_equal (host, "localhost") ?
      "127.0.0.1" : host);
  if (!addr) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "host \"%s\" is not an IP address", host);
    return FALSE;
  }
  sa = g_inet_socket_address_new (addr, port);
  ok = g_socket_listener_add_address (listener, sa, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL, &bound, error);
  if (ok) {
    api->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    g_object_unref (bound);
  }
  g_object_unref (sa);
  g_object_unref (addr);
  return ok;
}

GstTrickleApiServer *
gst_trickle_api_server_new (const gchar * host, guint port,
    const gchar * server_header, const gchar * thread_name,
    SoupServerCallback callback, gpointer user_data, GError ** error)
{
  GstTrickleApiServer *api = g_new0 (GstTrickleApiServer, 1);
  gboolean ok;

  api->context = g_main_context_new ();
  api->loop = g_main_loop_new (api->context, FALSE);
  g_main_context_push_thread_default (api->context);
  api->server = soup_server_new ("server-header", server_header, NULL);
  soup_server_add_handler (api->server, NULL, callback, user_data, NULL);
  api->service = g_socket_service_new ();
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (api->service), 128);
  g_signal_connect (api->service, "incoming", G_CALLBACK (on_incoming), api);
  ok = listen_on (api, host, port, error);
  g_main_context_pop_thread_default (api->context);
  if (!ok) {
    g_socket_listener_close (G_SOCKET_LISTENER (api->service));
    g_clear_object (&api->service);
    g_clear_object (&api->server);
    g_main_loop_unref (api->loop);
    g_main_context_unref (api->context);
    g_free (api);
    return NULL;
  }
  api->thread_name = g_strdup (thread_name);
  return api;
}

void
gst_trickle_api_server_run (GstTrickleApiServer * api)
{
  g_return_if_fail (api->thread == NULL);
  g_socket_service_start (api->service);
  api->thread = g_thread_new (api->thread_name, api_thread, api);
}

GMainContext *
gst_trickle_api_server_get_context (GstTrickleApiServer * api)
{
  return api->context;
}

guint
gst_trickle_api_server_get_port (GstTrickleApiServer * api)
{
  return api->port;
}

static gboolean
stop_accepting_in_thread (gpointer data)
{
  GstTrickleApiServer *api = data;

  g_socket_service_stop (api->service);
  return G_SOURCE_REMOVE;
}

void
gst_trickle_api_server_stop_accepting (GstTrickleApiServer * api)
{
  g_main_context_invoke (api->context, stop_accepting_in_thread, api);
}

void
gst_trickle_api_server_free (GstTrickleApiServer * api)
{
  if (!api)
    return;
  g_return_if_fail (!g_main_context_is_owner (api->context));
  if (api->thread) {
    g_main_loop_quit (api->loop);
    g_thread_join (api->thread);
  } else {
    g_socket_listener_close (G_SOCKET_LISTENER (api->service));
    g_object_unref (api->service);
    g_object_unref (api->server);
  }
  g_free (api->thread_name);
  g_main_loop_unref (api->loop);
  g_main_context_unref (api->context);
  g_free (api);
}
