#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The gst-trickle-gateway program as a user runs it (--serve-trickle: its
# own channels), driven by webrtcbin WHIP/WHEP clients in this process:
# a publisher and two viewers, a publisher that vanishes (its viewers' end
# follows), then SIGINT with sessions running: the program ends them and
# exits 0; and SIGINT with a teardown longer than --stop-timeout: the
# program exits without waiting for it. In the sanitized build the program
# is the instrumented one, so a leak or a memory error makes it fail here.
#   test_gateway_program.py GATEWAY-PROGRAM   (TRICKLE_PLUGIN_DIR: the
#   plugin directory of that build, given to the program only)
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webrtc_client as wc  # noqa: E402
from webrtc_client import Gst, WAIT_S  # noqa: E402
from gateway_program import Program  # noqa: E402
from blackhole import BlackHole  # noqa: E402

Gst.init(None)


class GatewayProgramTest(unittest.TestCase):
    def test_program(self):
        # webrtcbin viewers send RTCP every 2.5-7.5 s (RFC 3550 intervals):
        # they must not look gone while the publisher is not
        gw = Program("--serve-trickle", "0", "--media-timeout", "10")
        base = "http://127.0.0.1:%d" % gw.port
        clients = []
        try:
            p = wc.Publisher()
            clients.append(p)
            self.assertEqual(p.start(base + "/whip/cam")[0], 201)
            gw.expect(r"whip session \w+ of stream cam started")
            viewers = [wc.Viewer(), wc.Viewer()]
            clients += viewers
            for v in viewers:
                self.assertEqual(v.start(base + "/whep/cam")[0], 201)
            for v in viewers:
                self.assertTrue(v.first_frame.wait(WAIT_S), "no video")
                self.assertTrue(v.first_audio.wait(WAIT_S), "no audio")

            # the publisher vanishes: its session, then its viewers', end
            p.stop()
            gw.expect(r"whip session \w+ of stream cam ended: the peer "
                      r"sent nothing for media-timeout")
            for _ in viewers:
                gw.expect(r"whep session \w+ of stream cam ended: the "
                          r"channel ended")

            # SIGINT with a session of each kind running
            p2 = wc.Publisher()
            clients.append(p2)
            self.assertEqual(p2.start(base + "/whip/cam2")[0], 201)
            v = wc.Viewer()
            clients.append(v)
            self.assertEqual(v.start(base + "/whep/cam2")[0], 201)
            self.assertTrue(v.first_frame.wait(WAIT_S), "no video")
        finally:
            gw.proc.send_signal(signal.SIGINT)
            rc = gw.proc.wait(timeout=WAIT_S * 2)
            for c in clients:
                c.stop()
        gw.expect(r"whip session \w+ of stream cam2 ended: the gateway "
                  r"stopped")
        self.assertEqual(rc, 0)

    def test_stop_timeout(self):
        # a trickle server that accepts and never answers: a publisher's
        # end cannot reach its channel, its teardown waits 5 s for it. At
        # SIGINT with --stop-timeout 1 the program gives up on it after
        # 1 s (the rest is margin for a loaded machine) and exits, 0,
        # with nothing freed under the teardown's feet (sanitized build)
        hole = BlackHole()
        self.addCleanup(hole.close)
        # a process that exits with a session's threads still running:
        # LeakSanitizer would count their thread-local state (GLib's,
        # OpenSSL's: not scanned, use_tls=0) as leaks. Memory errors are
        # still caught.
        options = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":")
                   if o and not o.startswith("detect_leaks=")]
        gw = Program("--trickle", hole.url, "--stop-timeout", "1",
                     env_extra={"ASAN_OPTIONS": ":".join(options + [
                         "detect_leaks=0"])})
        base = "http://127.0.0.1:%d" % gw.port
        p = wc.Publisher()
        try:
            self.assertEqual(p.start(base + "/whip/cam")[0], 201)
            gw.expect(r"whip session \w+ of stream cam started")
            deadline = time.monotonic() + WAIT_S
            while not hole.requests("GET /cam/next"):
                self.assertLess(time.monotonic(), deadline,
                                "the publisher never reached the server")
                time.sleep(0.05)
        finally:
            gw.proc.send_signal(signal.SIGINT)
            rc = gw.proc.wait(timeout=WAIT_S * 2)
            p.stop()
        gw.expect(r"exiting with sessions still tearing down")
        self.assertEqual(rc, 0)
        # nothing reached the channel; the program did not wait
        self.assertEqual(hole.requests("POST"), [])
        # and no session-ended for it (lines before the last are in seen)
        self.assertEqual([line for line in gw.seen if " ended: " in line], [])


if __name__ == "__main__":
    Program.path = sys.argv.pop(1)
    unittest.main(verbosity=2)
