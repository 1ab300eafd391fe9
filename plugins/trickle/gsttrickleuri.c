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
/* The URI handler shared by tricklesrc and tricklesink:
 * trickle://host:port/path is http://host:port/path and
 * trickles://host:port/path is https://host:port/path. The `location`
 * property takes either form and stores the http(s) one. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/base/gstbasesrc.h>
#include "gsttrickleuri.h"

const gchar *const *
gst_trickle_uri_protocols (void)
{
  static const gchar *protocols[] = { "trickle", "trickles", NULL };

  return protocols;
}

gchar *
gst_trickle_uri_from_location (const gchar * location)
{
  if (!location)
    return NULL;
  if (g_str_has_prefix (location, "http://"))
    return g_strconcat ("trickle://", location + 7, NULL);
  if (g_str_has_prefix (location, "https://"))
    return g_strconcat ("trickles://", location + 8, NULL);
  return g_strdup (location);
}

/* @uri: trickle(s):// or http(s):// (NULL unsets); refused above READY */
gboolean
gst_trickle_uri_set_location (GstElement * element, gchar ** location,
    const gchar * uri, GError ** error)
{
  gchar *url = NULL;

  if (GST_STATE (element) > GST_STATE_READY ||
      GST_STATE_PENDING (element) > GST_STATE_READY) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "Changing the location of %s while it runs is not supported",
        GST_ELEMENT_NAME (element));
    return FALSE;
  }
  if (uri) {
    if (g_str_has_prefix (uri, "trickle://"))
      url = g_strconcat ("http://", uri + 10, NULL);
    else if (g_str_has_prefix (uri, "trickles://"))
      url = g_strconcat ("https://", uri + 11, NULL);
    else if (g_str_has_prefix (uri, "http://")
        || g_str_has_prefix (uri, "https://") || !error)
      url = g_strdup (uri);     /* the property: checked at start */
    else {
      g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_UNSUPPORTED_PROTOCOL,
          "Not a trickle URI: %s", uri);
      return FALSE;
    }
    if (error && !gst_uri_is_valid (url)) {
      g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
          "Invalid URI: %s", uri);
      g_free (url);
      return FALSE;
    }
  }
  GST_OBJECT_LOCK (element);
  g_free (*location);
  *location = url;
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* the GstURIHandler interface, on the element's "location" property */

static GstURIType
uri_get_type (GType type)
{
  return g_type_is_a (type, GST_TYPE_BASE_SRC) ? GST_URI_SRC : GST_URI_SINK;
}

static const gchar *const *
uri_get_protocols (GType type)
{
  return gst_trickle_uri_protocols ();
}

static gchar *
uri_get_uri (GstURIHandler * handler)
{
  gchar *location = NULL, *uri;

  g_object_get (handler, "location", &location, NULL);
  uri = gst_trickle_uri_from_location (location);
  g_free (location);
  return uri;
}

static gboolean
uri_set_uri (GstURIHandler * handler, const gchar * uri, GError ** error)
{
  gchar *checked = NULL;

  /* checked (state, scheme, syntax) on a scratch copy, then set */
  if (!gst_trickle_uri_set_location (GST_ELEMENT (handler), &checked, uri,
          error))
    return FALSE;
  g_free (checked);
  g_object_set (handler, "location", uri, NULL);
  return TRUE;
}

void
gst_trickle_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = g_iface;

  iface->get_type = uri_get_type;
  iface->get_protocols = uri_get_protocols;
  iface->get_uri = uri_get_uri;
  iface->set_uri = uri_set_uri;
}
