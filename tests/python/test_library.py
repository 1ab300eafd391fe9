#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The gsttrickle-1.0 library used from Python through GObject-Introspection
# (PyGObject), without the GStreamer elements: a GstTrickleHttpServer on
# loopback (port 0), a GstTricklePublisher writing three segments and a
# GstTrickleSubscriber reading them back, in order and byte for byte.
import sys
import unittest

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstTrickle", "1.0")
from gi.repository import GLib, Gst, GstTrickle  # noqa: E402

EventType = GstTrickle.SubscriberEventType


class LibraryTest(unittest.TestCase):
    def setUp(self):
        self.store = GstTrickle.ChannelStore.new()
        self.server = GstTrickle.HttpServer.new(self.store)
        self.server.props.address = "127.0.0.1"
        self.server.props.port = 0
        self.assertTrue(self.server.start())
        self.port = self.server.get_bound_port()
        self.assertGreater(self.port, 0)

    def tearDown(self):
        self.server.stop()

    def read_segments(self, url, n):
        """(seq, content type, bytes) of the first n segments"""
        sub = GstTrickle.Subscriber.new(url)
        sub.props.start_seq = 0
        self.assertTrue(sub.start())
        segments, data, ctype = [], b"", None
        while len(segments) < n:
            ok, ev = sub.next_event()
            self.assertTrue(ok)
            if ev.type == EventType.SEGMENT_START:
                data, ctype = b"", ev.content_type
            elif ev.type == EventType.DATA:
                data += ev.data.get_data()
            elif ev.type == EventType.SEGMENT_END:
                self.assertTrue(ev.complete)
                segments.append((ev.seq, ctype, data))
            else:
                self.fail("unexpected event %s" % ev.type)
            ev.clear()  # the event owns its bytes and strings
        sub.stop()
        return segments

    def test_publish_and_subscribe(self):
        url = "http://127.0.0.1:%d/py" % self.port
        pub = GstTrickle.Publisher.new(url, "application/json")
        pub.props.create_channel = True
        self.assertTrue(pub.start())
        docs = [b'{"n": %d, "pad": "%s"}' % (i, b"x" * (i * 5000))
                for i in range(3)]
        for i, doc in enumerate(docs):
            self.assertEqual(pub.begin_segment(), i)
            # in two writes: the body is streamed
            self.assertTrue(pub.write(doc[:7]))
            self.assertTrue(pub.write(doc[7:]))
            self.assertTrue(pub.end_segment())
        self.assertTrue(pub.stop(False))
        stats = pub.get_stats()
        self.assertEqual(stats.get_uint64("segments")[1], 3)

        got = self.read_segments(url, 3)
        self.assertEqual([s[0] for s in got], [0, 1, 2])
        self.assertEqual([s[2] for s in got], docs)
        self.assertTrue(all(s[1] == "application/json" for s in got))

        channel = self.store.lookup("py")
        self.assertIsNotNone(channel)
        # 3, or 4 when the preconnected POST of seq 3 was open at stop (it
        # ends as an empty segment)
        self.assertIn(channel.get_next_seq(), (3, 4))

    def test_errors_are_gerrors(self):
        pub = GstTrickle.Publisher.new("http://127.0.0.1:%d/" % self.port,
                                       None)
        with self.assertRaises(GLib.Error) as cm:
            pub.start()
        self.assertTrue(cm.exception.matches(
            GLib.quark_from_string("gst-trickle-publisher-error-quark"),
            int(GstTrickle.PublisherError.SETTINGS)))


if __name__ == "__main__":
    Gst.init(None)
    sys.exit(unittest.main())
