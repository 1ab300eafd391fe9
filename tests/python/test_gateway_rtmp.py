#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The gateway's RTMP and HLS sides with real peers started here: nginx with
# Debian's RTMP module (docs/gateway.md's configuration: on_publish starts
# the gateway's pull), ffmpeg publishing to it, tricklesrc and ffprobe
# reading the channel, RTMP out to nginx read back by ffprobe, HLS read by
# ffprobe, and a WHIP publisher's Opus leaving as AAC over RTMP.
#   test_gateway_rtmp.py GATEWAY-PROGRAM
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webrtc_client as wc  # noqa: E402
from webrtc_client import Gst, http, WAIT_S  # noqa: E402
from gateway_program import Program  # noqa: E402

Gst.init(None)
RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
NGINX_CONF = """load_module %(module)s;
daemon off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log info;
events {}
rtmp {
  server {
    listen 127.0.0.1:%(port)d;
    application live {
      live on;
      on_publish http://127.0.0.1:%(gateway)d/rtmp-hook/publish;
      on_publish_done http://127.0.0.1:%(gateway)d/rtmp-hook/publish-done;
    }
    application out {
      live on;
    }
  }
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ffprobe(url):
    """codec names of the streams ffprobe finds at url"""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rw_timeout", "30000000",
         "-show_entries", "stream=codec_name,width", "-of", "json", url],
        capture_output=True, text=True, timeout=WAIT_S)
    streams = json.loads(out.stdout or "{}").get("streams", [])
    return sorted(s["codec_name"] for s in streams), streams


@unittest.skipUnless(shutil.which("nginx") and os.path.exists(RTMP_MODULE)
                     and shutil.which("ffmpeg") and shutil.which("ffprobe"),
                     "needs nginx with libnginx-mod-rtmp, ffmpeg, ffprobe")
class GatewayRtmpTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.gw = Program("--serve-trickle", "0")
        self.base = "http://127.0.0.1:%d" % self.gw.port
        self.trickle = "http://127.0.0.1:%d" % self.gw.trickle_port
        self.rtmp_port = free_port()
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF % {"module": RTMP_MODULE, "dir": self.dir,
                                  "port": self.rtmp_port,
                                  "gateway": self.gw.port})
        self.nginx = subprocess.Popen(
            ["nginx", "-p", self.dir, "-c", os.path.join(self.dir,
                                                         "nginx.conf")])
        self.rtmp = "rtmp://127.0.0.1:%d" % self.rtmp_port
        self.ffmpeg = None
        # nginx listening before anything connects (a loaded machine
        # starts it slowly)
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.rtmp_port),
                                         timeout=1).close()
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline, "no nginx")
                time.sleep(0.1)

    def tearDown(self):
        if self.ffmpeg:
            self.ffmpeg.kill()
            self.ffmpeg.wait()
        # the gateway first: nginx's graceful stop would wait for its
        # connections
        self.gw.proc.send_signal(signal.SIGINT)
        rc = self.gw.proc.wait(timeout=WAIT_S * 2)
        self.nginx.terminate()
        self.nginx.wait(timeout=WAIT_S)
        shutil.rmtree(self.dir)
        self.assertEqual(rc, 0)

    def publish_rtmp(self, stream, seconds, audio=True):
        # nginx may still be starting: ffmpeg is retried until it connects
        cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
               "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30"]
        if audio:
            cmd += ["-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=48000", "-c:a", "aac"]
        cmd += ["-t", str(seconds), "-c:v", "libx264", "-preset",
                "ultrafast", "-tune", "zerolatency", "-g", "30",
                "-f", "flv", "%s/live/%s" % (self.rtmp, stream)]
        for _ in range(50):
            self.ffmpeg = subprocess.Popen(cmd)
            try:
                if self.ffmpeg.wait(timeout=1) != 0:
                    continue  # refused: nginx not listening yet
            except subprocess.TimeoutExpired:
                return  # publishing
        self.fail("ffmpeg could not publish to nginx")

    def segment(self, stream):
        """the last complete segment of the channel, as a file"""
        with urllib.request.urlopen("%s/%s/next" % (self.trickle, stream),
                                    timeout=WAIT_S) as r:
            seq = int(r.read())
        path = os.path.join(self.dir, "%s-%d.ts" % (stream, seq - 2))
        with urllib.request.urlopen("%s/%s/%d" % (self.trickle, stream,
                                                  seq - 2),
                                    timeout=WAIT_S) as r:
            with open(path, "wb") as f:
                f.write(r.read())
        return path

    def test_rtmp_in_out_and_hls(self):
        self.publish_rtmp("cam", 600)
        # nginx's on_publish started the gateway's pull
        self.gw.expect(r"rtmp session \w+ of stream cam started")
        # tricklesrc: decoded video and audio from the channel
        sub = subprocess.run(
            ["gst-launch-1.0", "-q", "tricklesrc",
             "location=%s/cam" % self.trickle, "!", "tsdemux", "name=d",
             "d.", "!", "queue", "!", "h264parse", "!", "avdec_h264", "!",
             "fakesink", "num-buffers=60", "d.", "!", "queue", "!",
             "aacparse", "!", "avdec_aac", "!", "fakesink",
             "num-buffers=60"], timeout=WAIT_S, capture_output=True)
        self.assertEqual(sub.returncode, 0, sub.stderr)
        # ffprobe: a segment of the channel is H.264 and AAC
        self.gw.seen.clear()
        codecs, streams = ffprobe(self.segment("cam"))
        self.assertEqual(codecs, ["aac", "h264"])

        # out to nginx, read back there
        status, headers, body = http(
            "POST", self.base + "/rtmp-out/cam",
            json.dumps({"url": self.rtmp + "/out/cam"}).encode(),
            "application/json")
        self.assertEqual(status, 201, body)
        self.assertRegex(headers["Location"], r"^/rtmp-out/cam/[0-9a-f]{32}$")
        codecs, streams = ffprobe(self.rtmp + "/out/cam")
        self.assertEqual(codecs, ["aac", "h264"])
        self.assertIn(320, [s.get("width") for s in streams])

        # HLS: the playlist (waited for on the first request), a segment
        status, headers, body = http("GET", self.base + "/hls/cam/index.m3u8")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Content-Type"],
                         "application/vnd.apple.mpegurl")
        first = re.findall(r"^(segment\d+\.ts)$", body.decode(), re.M)[0]
        status, headers, seg = http("GET", self.base + "/hls/cam/" + first)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "video/mp2t")
        codecs, _ = ffprobe(self.base + "/hls/cam/index.m3u8")
        self.assertEqual(codecs, ["aac", "h264"])
        self.assertEqual(http("GET", self.base + "/hls/cam/../x")[0], 404)

        # the RTMP publisher leaves: the pull ends (on_publish_done), the
        # channel with it, and its outputs
        self.ffmpeg.terminate()
        self.ffmpeg.wait()
        self.ffmpeg = None
        self.gw.expect(r"rtmp session \w+ of stream cam ended: the RTMP "
                       r"publisher left")
        self.gw.expect(r"(rtmp-out|hls) session \w+ of stream cam ended: the "
                       r"channel ended")
        self.gw.expect(r"(rtmp-out|hls) session \w+ of stream cam ended: the "
                       r"channel ended")

    def test_video_only(self):
        # flvdemux names its streams at once only when it has both: a
        # video-only publish must still reach the channel
        self.publish_rtmp("vo", 600, audio=False)
        self.gw.expect(r"rtmp session \w+ of stream vo started")
        deadline = time.monotonic() + WAIT_S
        while http("GET", "%s/vo/next" % self.trickle)[0] != 200:
            self.assertLess(time.monotonic(), deadline, "no channel")
            time.sleep(0.2)
        codecs, _ = ffprobe("%s/vo/-1" % self.trickle)
        self.assertEqual(codecs, ["h264"])

    def test_pull_and_opus_to_aac(self):
        # a pull by URL (nginx has no hook for this application: out)
        status, _, body = http(
            "POST", self.base + "/rtmp/pulled",
            json.dumps({"url": self.rtmp + "/out/src"}).encode(),
            "application/json")
        self.assertEqual(status, 201, body)
        self.assertEqual(http("POST", self.base + "/rtmp/pulled", b"{}",
                              "application/json")[0], 400)
        # a WHIP publisher (Opus) out over RTMP: AAC
        p = wc.Publisher()
        try:
            self.assertEqual(p.start(self.base + "/whip/web")[0], 201)
            self.assertEqual(http(
                "POST", self.base + "/rtmp-out/web",
                json.dumps({"url": self.rtmp + "/out/src"}).encode(),
                "application/json")[0], 201)
            codecs, _ = ffprobe(self.rtmp + "/out/src")
            self.assertEqual(codecs, ["aac", "h264"])
            # ... and back in through the pull: the channel "pulled" is
            # H.264 and AAC
            self.gw.expect(r"rtmp session \w+ of stream pulled started")
            codecs, _ = ffprobe(self.segment("pulled"))
            self.assertEqual(codecs, ["aac", "h264"])
        finally:
            p.stop()


if __name__ == "__main__":
    Program.path = sys.argv.pop(1)
    unittest.main(verbosity=2)
