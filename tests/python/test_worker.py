#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# GstTrickleWorker from Python (PyGObject): a worker whose filter the
# application makes (create-filter), started over its HTTP API on a stream
# published into a GstTrickleHttpServer, its params update reaching the
# application (params-updated) and the mapped property, then stopped.
import json
import sys
import threading
import time
import unittest
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstTrickle", "1.0")
from gi.repository import Gst, GstTrickle  # noqa: E402

WAIT_S = 60  # a bound for failures on a loaded machine, not a timing


def call(port, method, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 method=method,
                                 data=json.dumps(body).encode()
                                 if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=WAIT_S) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class WorkerTest(unittest.TestCase):
    def test_worker(self):
        store = GstTrickle.ChannelStore.new()
        server = GstTrickle.HttpServer.new(store)
        server.props.address = "127.0.0.1"
        server.props.port = 0
        server.props.base_path = "/ai/trickle/"
        self.assertTrue(server.start())
        base = "http://127.0.0.1:%d/ai/trickle/py" % server.get_bound_port()

        filters, updates, stopped = [], [], threading.Event()

        def create_filter(worker, media, params):
            if media != "video":
                return None
            filters.append(params.get_value("flip"))
            return Gst.parse_bin_from_description(
                "videoconvert ! videoflip name=f", True)

        worker = GstTrickle.Worker(host="127.0.0.1", port=0)
        worker.add_param("flip", "f.video-direction")
        worker.connect("create-filter", create_filter)
        worker.connect("params-updated",
                       lambda w, params, text: updates.append(json.loads(text)))
        worker.connect("stream-stopped", lambda w, reason: stopped.set())
        self.assertTrue(worker.start())
        port = worker.props.current_port
        self.assertEqual(call(port, "GET", "/health"), (200, {"status": "IDLE"}))

        src = Gst.parse_launch(
            "videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! "
            "x264enc tune=zerolatency key-int-max=15 ! mpegtsmux ! "
            "tricklesink location=%s" % base)
        src.set_state(Gst.State.PLAYING)

        status, answer = call(port, "POST", "/stream/start", {
            "gateway_request_id": "py", "subscribe_url": base,
            "publish_url": base + "-out", "params": {"flip": "horiz"}})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["status"], "success")
        self.assertEqual(filters, ["horiz"])

        # the output flows, then an update reaches the pipeline and the app
        deadline = time.monotonic() + WAIT_S
        while True:
            ch = store.lookup("py-out")
            if ch is not None and ch.get_stats().get_value("bytes") > 0:
                break
            self.assertLess(time.monotonic(), deadline, "no output")
            time.sleep(0.05)
        status, answer = call(port, "POST", "/stream/params", {"flip": "vert"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(updates, [{"flip": "vert"}])
        status, answer = call(port, "POST", "/stream/params", {"flip": 99})
        self.assertEqual(status, 400, answer)
        self.assertEqual(len(updates), 1)

        self.assertEqual(call(port, "POST", "/stream/stop")[0], 200)
        self.assertTrue(stopped.wait(WAIT_S))
        self.assertEqual(worker.props.health, GstTrickle.WorkerHealth.IDLE)
        src.set_state(Gst.State.NULL)
        worker.stop()
        server.stop()


if __name__ == "__main__":
    Gst.init(None)
    unittest.main(argv=sys.argv[:1], verbosity=2)
