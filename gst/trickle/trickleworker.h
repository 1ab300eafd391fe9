/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/trickle/trickle-prelude.h>

G_BEGIN_DECLS
#define GST_TRICKLE_TYPE_WORKER (gst_trickle_worker_get_type ())
    GST_TRICKLE_API
G_DECLARE_FINAL_TYPE (GstTrickleWorker, gst_trickle_worker,
    GST_TRICKLE, WORKER, GObject)
/**
 * GstTrickleWorkerHealth:
 * @GST_TRICKLE_WORKER_LOADING: not serving yet
 * @GST_TRICKLE_WORKER_IDLE: serving, no stream: ready for one
 * @GST_TRICKLE_WORKER_OK: a stream runs (from the start request until it
 *   is torn down)
 * @GST_TRICKLE_WORKER_ERROR: the last stream failed; the next start
 *   clears it
 *
 * What `GET /health` answers, with the meaning the Livepeer orchestrator
 * gives it (an IDLE worker goes back to its pool, an ERROR one is
 * restarted).
 */
     typedef enum
     {
       GST_TRICKLE_WORKER_LOADING,
       GST_TRICKLE_WORKER_IDLE,
       GST_TRICKLE_WORKER_OK,
       GST_TRICKLE_WORKER_ERROR,
     } GstTrickleWorkerHealth;

     GST_TRICKLE_API GType gst_trickle_worker_health_get_type (void);
#define GST_TRICKLE_TYPE_WORKER_HEALTH (gst_trickle_worker_health_get_type ())

     GST_TRICKLE_API GstTrickleWorker *gst_trickle_worker_new (void);
GST_TRICKLE_API
    gboolean gst_trickle_worker_add_param (GstTrickleWorker * worker,
    const gchar * key, const gchar * target, GError ** error);
GST_TRICKLE_API
    gboolean gst_trickle_worker_start (GstTrickleWorker * worker,
    GError ** error);
GST_TRICKLE_API
    guint gst_trickle_worker_get_bound_port (GstTrickleWorker * worker);
GST_TRICKLE_API
    GstTrickleWorkerHealth gst_trickle_worker_get_health (GstTrickleWorker *
    worker);
     GST_TRICKLE_API void
     gst_trickle_worker_stop (GstTrickleWorker * worker);

G_END_DECLS
