#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# GstTrickleGateway from Python, against GStreamer's own webrtcbin as the
# WHIP publisher and the WHEP viewers (tests/python/webrtc_client.py) and a
# tricklesrc subscriber on the channel in between: media both ways, a
# viewer leaving touching nobody else, DELETE and a vanished publisher
# ending the channel, every refusal with its status, and stop() against a
# trickle server that never answers: bounded teardowns, and a stop() that
# gives up on a session (stop-timeout) which then ends on its own.
import gc
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webrtc_client as wc  # noqa: E402
from blackhole import BlackHole  # noqa: E402
from webrtc_client import Gst, http, WAIT_S  # noqa: E402

import gi  # noqa: E402

gi.require_version("GstTrickle", "1.0")
from gi.repository import GstTrickle  # noqa: E402

Gst.init(None)

VP8_ONLY_OFFER = """v=0\r
o=- 1 1 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
m=video 9 UDP/TLS/RTP/SAVPF 96\r
c=IN IP4 0.0.0.0\r
a=mid:0\r
a=rtpmap:96 VP8/90000\r
a=sendonly\r
"""

# H.264 but no ICE credentials nor DTLS fingerprint: webrtcbin refuses it
BROKEN_OFFER = """v=0\r
o=- 1 1 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
m=video 9 UDP/TLS/RTP/SAVPF 96\r
c=IN IP4 0.0.0.0\r
a=mid:0\r
a=rtpmap:96 H264/90000\r
a=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r
a=sendonly\r
"""


def wait_for(what, predicate):
    """waits (bounded, for failures only) until predicate() holds"""
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("never happened: " + what)
        time.sleep(0.05)


class Subscriber:
    """tricklesrc ! tsdemux on the channel: what a trickle peer receives"""

    def __init__(self, url):
        self.pipeline = Gst.parse_launch(
            "tricklesrc name=src location=%s post-messages=true ! "
            "tsdemux name=d" % url)
        self.streams = []
        self.segments = []
        self.eos = threading.Event()
        self.error = None
        d = self.pipeline.get_by_name("d")
        d.connect("pad-added", self._pad_added)
        # messages handled where they are posted: no main loop needed
        self.pipeline.get_bus().set_sync_handler(self._message)
        self.pipeline.set_state(Gst.State.PLAYING)

    def _pad_added(self, demux, pad):
        self.streams.append(pad.get_current_caps().get_structure(0).get_name())
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("async", False)
        self.pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    def _message(self, bus, msg):
        self._handle(msg)
        return Gst.BusSyncReply.DROP

    def _handle(self, msg):
        if msg.type == Gst.MessageType.EOS:
            self.eos.set()
        elif msg.type == Gst.MessageType.ERROR:
            self.error = msg.parse_error()[0].message
            self.eos.set()
        elif (msg.type == Gst.MessageType.ELEMENT and
              msg.get_structure().get_name() == "trickle-segment"):
            self.segments.append(msg.get_structure().get_value("bytes"))

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


class GatewayTest(unittest.TestCase):
    def setUp(self):
        store = GstTrickle.ChannelStore.new()
        self.server = GstTrickle.HttpServer.new(store)
        self.server.props.address = "127.0.0.1"
        self.server.props.port = 0
        self.assertTrue(self.server.start())
        self.trickle = "http://127.0.0.1:%d/" % self.server.get_bound_port()
        self.gw = GstTrickle.Gateway(host="127.0.0.1", port=0,
                                     trickle_url=self.trickle)
        self.events = []
        self.gw.connect("session-started", lambda g, kind, stream, id_:
                        self.events.append(("started", kind, stream, id_)))
        self.gw.connect("session-ended", lambda g, kind, stream, id_, why:
                        self.events.append(("ended", kind, stream, id_, why)))
        self.clients = []

    def start_gateway(self, **props):
        for name, value in props.items():
            self.gw.set_property(name, value)
        self.assertTrue(self.gw.start())
        self.base = "http://127.0.0.1:%d" % self.gw.props.current_port

    def tearDown(self):
        for c in self.clients:
            c.stop()
        if self.gw:
            self.gw.stop()
            self.assertEqual(self.gw.get_session_count(), 0)
        self.server.stop()

    def ended(self, kind):
        return [e for e in self.events if e[0] == "ended" and e[1] == kind]

    def publish(self, stream, **kw):
        p = wc.Publisher(**kw)
        self.clients.append(p)
        status, headers, body = p.start(self.base + "/whip/" + stream)
        self.assertEqual(status, 201, body)
        return p

    def view(self, stream):
        v = wc.Viewer()
        self.clients.append(v)
        status, headers, body = v.start(self.base + "/whep/" + stream)
        self.assertEqual(status, 201, body)
        return v

    def test_publish_and_view(self):
        self.start_gateway()
        p = wc.Publisher()
        self.clients.append(p)
        status, headers, body = p.start(self.base + "/whip/cam")
        self.assertEqual(status, 201, body)
        self.assertEqual(headers["Content-Type"], "application/sdp")
        self.assertRegex(headers["Location"], r"^/whip/cam/[0-9a-f]{32}$")
        self.assertEqual(headers["ETag"],
                         '"%s"' % headers["Location"].split("/")[-1])
        self.assertIn("Location", headers["Access-Control-Expose-Headers"])
        answer = body.decode()
        self.assertIn("H264/90000", answer)
        self.assertIn("OPUS/48000", answer)
        self.assertNotIn("VP8", answer)
        self.assertIn("a=candidate:", answer)  # non-trickle: all in there
        self.assertTrue(p.connected.wait(WAIT_S), "publisher never connected")

        # the channel: MPEG-TS with H.264 and Opus, cut into segments (a
        # keyframe asked for by PLI every 2 s, segments of 1 s at least)
        sub = Subscriber(self.trickle + "cam")
        wait_for("three segments on the channel", lambda: len(sub.segments) >= 3)
        self.assertEqual(sorted(sub.streams), ["audio/x-opus", "video/x-h264"])

        v1, v2 = self.view("cam"), self.view("cam")
        for v in (v1, v2):
            self.assertTrue(v.first_frame.wait(WAIT_S), "no video frame")
            self.assertTrue(v.first_audio.wait(WAIT_S), "no audible audio")
            self.assertIn("width=(int)320", v.video_caps)
        status, sessions, _ = http("GET", self.base + "/sessions")
        self.assertEqual(status, 200)

        # a viewer leaves: the other one goes on
        status, _, _ = http("DELETE", self.base + v1.location)
        self.assertEqual(status, 200)
        wait_for("the viewer's session end", lambda: self.ended("whep"))
        self.assertEqual(self.ended("whep")[0][4], "DELETE from the client")
        frames = v2.frames
        wait_for("more frames for the other viewer",
                 lambda: v2.frames > frames + 30)
        self.assertEqual(http("DELETE", self.base + v1.location)[0], 404)

        # the publisher leaves: the channel ends for every subscriber
        status, _, _ = http("DELETE", self.base + p.location)
        self.assertEqual(status, 200)
        self.assertTrue(sub.eos.wait(WAIT_S), "the subscriber never ended")
        self.assertIsNone(sub.error)
        wait_for("both sessions ended", lambda: len(self.ended("whep")) == 2)
        self.assertEqual(self.ended("whip")[0][4], "DELETE from the client")
        self.assertEqual(self.ended("whep")[1][4], "the channel ended")
        sub.stop()

    def test_video_only_and_reuse(self):
        self.start_gateway()
        p = self.publish("solo", audio=False)
        self.assertTrue(p.connected.wait(WAIT_S))
        v = self.view("solo")
        self.assertTrue(v.first_frame.wait(WAIT_S), "no video frame")
        self.assertEqual(v.audio_buffers, 0)
        # the same stream name again once the publisher is gone
        self.assertEqual(http("DELETE", self.base + p.location)[0], 200)
        wait_for("the publisher's end", lambda: self.ended("whip"))
        p2 = self.publish("solo", audio=False)
        self.assertTrue(p2.connected.wait(WAIT_S))

    def test_publisher_vanishes(self):
        # no DELETE, no packet: the session ends after media-timeout and
        # the channel ends with it
        self.start_gateway(media_timeout=2.0)
        p = self.publish("gone")
        self.assertTrue(p.connected.wait(WAIT_S))
        sub = Subscriber(self.trickle + "gone")
        wait_for("a segment", lambda: len(sub.segments) >= 1)
        p.stop()
        self.assertTrue(sub.eos.wait(WAIT_S), "the channel never ended")
        # the channel ends first, then the session is gone
        wait_for("the session's end", lambda: self.ended("whip"))
        self.assertEqual(self.ended("whip")[0][4],
                         "the peer sent nothing for media-timeout")
        sub.stop()

    def test_stop_ends_sessions(self):
        self.start_gateway()
        p = self.publish("cam")
        self.assertTrue(p.connected.wait(WAIT_S))
        sub = Subscriber(self.trickle + "cam")
        wait_for("a segment", lambda: len(sub.segments) >= 1)
        self.assertTrue(self.gw.stop())  # all torn down in stop-timeout
        self.assertEqual(self.gw.get_session_count(), 0)
        self.assertEqual(self.ended("whip")[0][4], "the gateway stopped")
        self.assertTrue(sub.eos.wait(WAIT_S), "the channel never ended")
        sub.stop()

    def publish_to_hole(self, stream):
        """a publisher whose channel's trickle server accepts and never
        answers (self.hole): its tricklesink waits for the answer to its
        first request (up to 30 s) in its streaming thread, and its
        session's end never reaches the channel: a teardown of 5 s (the
        wait for that end, END_EOS_WAIT_US), then its pipeline stops
        (which interrupts the tricklesink, closing its connection)"""
        self.hole = BlackHole()
        self.addCleanup(self.hole.close)
        self.gw.props.trickle_url = self.hole.url
        p = self.publish(stream)
        self.assertTrue(p.connected.wait(WAIT_S))
        wait_for("the publisher's first request to the trickle server",
                 lambda: self.hole.requests("GET /%s/next" % stream))
        return p

    def test_teardown_is_bounded(self):
        # a teardown does not wait for a tricklesink held up by its server
        # (the EOS into the mux waited behind it, 30 s): stop() is done,
        # every session torn down, well within stop-timeout (20 s, for a
        # 5 s teardown: the margin is for a loaded machine)
        self.start_gateway()
        self.publish_to_hole("cam")
        self.assertTrue(self.gw.stop())
        self.assertEqual(self.ended("whip")[0][4], "the gateway stopped")
        wait_for("the tricklesink's connection closed",
                 lambda: self.hole.open_connections() == 0)
        self.assertEqual(self.hole.requests("POST"), [])

    def test_stop_is_bounded(self):
        self.start_gateway(stop_timeout=1.0)
        self.publish_to_hole("cam")
        self.assertFalse(self.gw.stop())
        # stop() returned while the session still tore down: its teardown
        # takes 5 s (the wait for its end), stop() gave up after 1 s (the
        # margin is for a loaded machine); the session is no longer the
        # gateway's
        self.assertEqual(self.hole.open_connections(), 1)
        self.assertEqual(self.gw.get_session_count(), 0)
        self.assertEqual(self.ended("whip"), [])
        # the gateway goes; the session ends on its own, touching nothing
        # of the gateway (a use after free here would crash, or be
        # reported with the sanitized library)
        self.gw = None
        gc.collect()
        wait_for("the session's pipeline stopped (the tricklesink's "
                 "connection closed)",
                 lambda: self.hole.open_connections() == 0)
        self.assertEqual(self.ended("whip"), [])

    def test_restart_while_tearing_down(self):
        # the gateway started again while a session of its previous run
        # still tears down: that session touches nothing of the new run
        self.start_gateway(stop_timeout=0.0)  # not waited for at all
        self.publish_to_hole("cam")
        self.assertFalse(self.gw.stop())
        self.gw.props.trickle_url = self.trickle
        self.start_gateway(stop_timeout=20.0)
        p = self.publish("cam")
        self.assertTrue(p.connected.wait(WAIT_S))
        sub = Subscriber(self.trickle + "cam")
        wait_for("a segment", lambda: len(sub.segments) >= 1)
        wait_for("the old session's pipeline stopped",
                 lambda: self.hole.open_connections() == 0)
        # the new run: its one session, which the next stop() waits for
        self.assertEqual(self.gw.get_session_count(), 1)
        self.assertEqual([e[0] for e in self.events], ["started", "started"])
        self.assertTrue(self.gw.stop())
        self.assertEqual(len(self.ended("whip")), 1)
        self.assertEqual(self.ended("whip")[0][4], "the gateway stopped")
        self.assertTrue(sub.eos.wait(WAIT_S), "the channel never ended")
        sub.stop()

    def test_refused_offer_leaves_channel(self):
        # a channel published by somebody else: a refused WHIP offer of
        # its name must not end it
        self.start_gateway()
        other = Gst.parse_launch(
            "videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! "
            "x264enc tune=zerolatency key-int-max=15 ! mpegtsmux ! "
            "tricklesink location=%sforeign" % self.trickle)
        other.set_state(Gst.State.PLAYING)
        try:
            sub = Subscriber(self.trickle + "foreign")
            wait_for("a segment", lambda: len(sub.segments) >= 1)
            status, _, _ = http("POST", self.base + "/whip/foreign",
                                BROKEN_OFFER.encode(), "application/sdp")
            self.assertEqual(status, 400)
            wait_for("the refused session's end", lambda: self.ended("whip"))
            count = len(sub.segments)
            wait_for("more segments", lambda: len(sub.segments) >= count + 2)
            self.assertFalse(sub.eos.is_set())
            sub.stop()
        finally:
            other.set_state(Gst.State.NULL)

    def test_refusals(self):
        self.start_gateway(auth_token="s3cret", max_sessions=3,
                           max_viewers=1)
        url = self.base + "/whip/cam"
        sdp = "application/sdp"
        # no token, a wrong one
        status, headers, _ = http("POST", url, b"v=0", sdp)
        self.assertEqual(status, 401)
        self.assertEqual(headers["WWW-Authenticate"], "Bearer")
        self.assertEqual(http("POST", url, b"v=0", sdp, "nope")[0], 401)
        tok = "s3cret"
        # the preflight needs no token
        status, headers, _ = http("OPTIONS", url)
        self.assertEqual(status, 204)
        self.assertEqual(headers["Access-Control-Allow-Origin"], "*")
        self.assertIn("Authorization", headers["Access-Control-Allow-Headers"])
        self.assertEqual(headers["Accept-Post"], "application/sdp")
        # not SDP, not an offer we can take
        self.assertEqual(http("POST", url, b"v=0", "text/plain", tok)[0], 415)
        self.assertEqual(http("POST", url, b"", sdp, tok)[0], 400)
        self.assertEqual(http("POST", url, b"hello", sdp, tok)[0], 400)
        status, _, body = http("POST", url, VP8_ONLY_OFFER.encode(), sdp, tok)
        self.assertEqual(status, 400)
        self.assertIn(b"H.264", body)
        status, _, body = http("POST", url, BROKEN_OFFER.encode(), sdp, tok)
        self.assertEqual(status, 400, body)
        # paths and methods
        self.assertEqual(http("GET", url, token=tok)[0], 405)
        self.assertEqual(http("POST", self.base + "/whip/a%20b", b"v=0", sdp,
                              tok)[0], 400)
        self.assertEqual(http("GET", self.base + "/nothing")[0], 404)
        self.assertEqual(http("DELETE", url + "/" + "0" * 32,
                              token=tok)[0], 404)

        p = wc.Publisher()
        self.clients.append(p)
        self.assertEqual(p.start(url, tok)[0], 201)
        loc = self.base + p.location
        # session resources: the token again, PATCH for trickle ICE only
        self.assertEqual(http("DELETE", loc)[0], 401)
        self.assertEqual(http("GET", loc, token=tok)[0], 405)
        self.assertEqual(http("PATCH", loc, b"a=mid:video0\r\n", sdp,
                              tok)[0], 415)
        frag = "application/trickle-ice-sdpfrag"
        self.assertEqual(http("PATCH", loc, b"a=ice-ufrag:other\r\n"
                              b"a=ice-pwd:other\r\n", frag, tok)[0], 422)
        cand = (b"a=mid:video0\r\na=candidate:1 1 UDP 2015363327 127.0.0.1 9 "
                b"typ host\r\na=end-of-candidates\r\n")
        self.assertEqual(http("PATCH", loc, cand, frag, tok)[0], 204)
        # one publisher per stream
        p2 = wc.Publisher()
        self.clients.append(p2)
        self.assertEqual(p2.start(url, tok)[0], 409)
        # a viewer, then max-viewers (429); a second publisher fills
        # max-sessions (3), so a third one gets 503
        v = wc.Viewer()
        self.clients.append(v)
        self.assertEqual(v.start(self.base + "/whep/cam", tok)[0], 201)
        v2 = wc.Viewer()
        self.clients.append(v2)
        status, headers, _ = v2.start(self.base + "/whep/cam", tok)
        self.assertEqual(status, 429)
        self.assertEqual(headers["Retry-After"], "5")
        p3 = wc.Publisher()
        self.clients.append(p3)
        self.assertEqual(p3.start(self.base + "/whip/other", tok)[0], 201)
        p4 = wc.Publisher()
        self.clients.append(p4)
        status, headers, _ = p4.start(self.base + "/whip/third", tok)
        self.assertEqual(status, 503)
        self.assertEqual(headers["Retry-After"], "5")
        self.assertTrue(p.connected.wait(WAIT_S))
        self.assertEqual(http("DELETE", loc, token=tok)[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
