/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/trickle/trickle-prelude.h>
#include <gst/trickle/tricklesegment.h>
#include <gst/trickle/tricklechannel.h>
#include <gst/trickle/tricklechannelstore.h>
#include <gst/trickle/tricklehttpserver.h>
#include <gst/trickle/tricklepublisher.h>
#include <gst/trickle/tricklesubscriber.h>
#include <gst/trickle/tricklecaps.h>
#include <gst/trickle/tricklesegmenter.h>
#include <gst/trickle/tricklereader.h>
#include <gst/trickle/tricklejson.h>
#include <gst/trickle/trickleworker.h>
#include <gst/trickle/tricklegateway.h>
