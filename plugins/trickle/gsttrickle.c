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
 * plugin-trickle:
 *
 * Elements for Livepeer's trickle protocol: HTTP publish/subscribe of
 * real-time media segments.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttrickleserver.h"
#include "gsttricklesink.h"
#include "gsttricklesrc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (trickleserver, plugin);
  ret |= GST_ELEMENT_REGISTER (tricklesink, plugin);
  ret |= GST_ELEMENT_REGISTER (tricklesrc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, trickle,
    "Trickle protocol: HTTP publish/subscribe of real-time media segments",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
