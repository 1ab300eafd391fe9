#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The gateway's added latency per frame, WHIP -> trickle -> WHEP, with and
# without a passthrough Livepeer worker in the middle, and its CPU per
# session. Not part of the tests (timings are not assertions).
#
# One Python process (one monotonic clock) holds the WebRTC publisher and
# viewer; gst-trickle-gateway (and gst-trickle-worker) run as their own
# processes, whose CPU is read from /proc/PID/stat. Every video frame
# carries its number in its pixels: 2 x 12 blocks of 20x20 luma, black or
# white, 16 bits of a frame counter and 8 of CRC-8 (the guard), big
# enough to survive H.264 (twice, through the worker). The publisher
# stamps a frame when it pushes it into its appsrc, the viewer when it
# comes out of its decoder; latency = receive - send, per frame number.
#
# Chains, each with a fresh gateway (and worker):
#   (c) baseline: appsrc ! x264enc ! rtph264pay ! rtph264depay !
#       avdec_h264 ! appsink in one pipeline: what encoding and decoding
#       alone cost;
#   (a) WHIP -> gateway -> channel "in" -> gateway -> WHEP viewer of "in";
#   (b) WHIP -> "in" -> gst-trickle-worker (identity filter: decode,
#       re-encode) -> "out" -> WHEP viewer of "out", the viewer joining
#       as the worker starts;
#   (d) as (b), the viewer joining the worker's running output.
#
#   gateway-bench.py [FRAMES (300)] [RUNS (3)] [--chains cabd] [--width W
#       --height H] [--warmup FRAMES] [--join-later S] [--viewer-latency MS]
#       [--gateway-latency MS] [--pay-config-interval N] [--verbose]
# (tests/bench/gateway-bench.sh sets the plugin and library paths)
import argparse
import datetime
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import gi  # noqa: E402

gi.require_version("GstApp", "1.0")
gi.require_version("GstVideo", "1.0")
import webrtc_client as wc  # noqa: E402
from webrtc_client import Gst, GstWebRTC, WAIT_S  # noqa: E402
from gi.repository import GstVideo  # noqa: E402,F401
from gateway_program import Program  # noqa: E402

GATEWAY = os.path.join(ROOT, "build", "tools", "gst-trickle-gateway")
WORKER = os.path.join(ROOT, "build", "tools", "gst-trickle-worker")
FPS = 30
ENCODER = ("x264enc tune=zerolatency speed-preset=ultrafast bframes=0 "
           "key-int-max=60")

# --- frame numbers in pixels ------------------------------------------------

BLOCK, COLS, ROWS, X0, Y0 = 20, 12, 2, 20, 20
BLACK, WHITE = 16, 235
BITS = COLS * ROWS  # 16 counter bits + 8 CRC bits


def crc8(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xff if crc & 0x80 else crc << 1
    return crc


def check(v):
    """the guard of counter value v; all black and all white fail it"""
    return crc8((v >> 8, v & 0xff)) ^ 0xa5


def code_bits(n):
    v = n & 0xffff
    c = check(v)
    return [(v >> (15 - i)) & 1 for i in range(16)] + \
        [(c >> (7 - i)) & 1 for i in range(8)]


class FrameMaker:
    """I420 frames: a moving texture (work for the encoder) and the code"""
    SHIFT, CYCLE = 2, 90  # the texture moves 2 px a frame, repeats in 3 s

    def __init__(self, width, height):
        import math
        self.w, self.h = width, height
        span = width + self.SHIFT * self.CYCLE
        sx = [math.sin(x / 11.0) for x in range(span)]
        sx2 = [math.sin(x / 3.7) for x in range(span)]
        self.rows = []
        for y in range(height):
            cy, cy2 = math.cos(y / 17.0), math.sin(y / 5.3)
            self.rows.append(bytes(
                int(128 + 70 * sx[x] * cy + 25 * sx2[x] * cy2)
                for x in range(span)))
        self.chroma = bytes([128]) * (2 * ((width + 1) // 2) *
                                      ((height + 1) // 2))
        self.black = bytes([BLACK]) * BLOCK
        self.white = bytes([WHITE]) * BLOCK

    def make(self, n):
        w, k = self.w, (n % self.CYCLE) * self.SHIFT
        luma = bytearray(b"".join(r[k:k + w] for r in self.rows))
        for i, bit in enumerate(code_bits(n)):
            x = X0 + (i % COLS) * BLOCK
            y = Y0 + (i // COLS) * BLOCK
            blk = self.white if bit else self.black
            for yy in range(y, y + BLOCK):
                luma[yy * w + x:yy * w + x + BLOCK] = blk
        return Gst.Buffer.new_wrapped(bytes(luma) + self.chroma)


def read_code(data, stride):
    """the frame number in a decoded luma plane, None if the guard fails"""
    bits = []
    for i in range(BITS):
        x = X0 + (i % COLS) * BLOCK + 5
        y = Y0 + (i // COLS) * BLOCK + 5
        total = 0
        for yy in range(y, y + 10, 2):
            total += sum(data[yy * stride + x:yy * stride + x + 10])
        mean = total / 50
        if mean < 90:
            bits.append(0)
        elif mean > 160:
            bits.append(1)
        else:
            return None  # neither black nor white
    v = 0
    for b in bits[:16]:
        v = (v << 1) | b
    c = 0
    for b in bits[16:]:
        c = (c << 1) | b
    return v if check(v) == c else None


# --- sending and receiving --------------------------------------------------

class Pusher(threading.Thread):
    """pushes frame n at t0 + n / FPS; sent[n] = monotonic time of the push"""

    def __init__(self, appsrc, maker):
        super().__init__(daemon=True)
        self.appsrc, self.maker = appsrc, maker
        self.sent = {}
        self.count = 0
        self.cond = threading.Condition()
        self.stopping = False
        self.late = 0  # frames pushed more than one interval late

    def run(self):
        n, nxt = 0, self.maker.make(0)
        t0 = time.monotonic() + 0.02
        while not self.stopping:
            due = t0 + n / FPS
            d = due - time.monotonic()
            if d > 0:
                time.sleep(d)
            elif d < -1.0 / FPS:
                self.late += 1
            t = time.monotonic()
            self.appsrc.emit("push-buffer", nxt)
            with self.cond:
                self.sent[n] = t
                self.count = n + 1
                self.cond.notify_all()
            n += 1
            nxt = self.maker.make(n)

    def wait_count(self, count, timeout=WAIT_S):
        with self.cond:
            return self.cond.wait_for(lambda: self.count >= count, timeout)

    def stop(self):
        self.stopping = True
        self.join(5)


class Receiver:
    """an appsink's frames: recv[n] = monotonic time the decoded frame n
    reached the appsink (first copy only)"""

    def __init__(self):
        self.recv = {}
        self.bad = 0  # decoded frames whose code failed the guard
        self.dups = 0
        self.first = threading.Event()
        self.lock = threading.Lock()
        self.stride = None

    def attach(self, appsink):
        appsink.connect("new-sample", self._sample)

    def _sample(self, sink):
        t = time.monotonic()
        sample = sink.emit("pull-sample")
        if sample is None:
            return Gst.FlowReturn.EOS
        if self.stride is None:
            info = GstVideo.VideoInfo.new_from_caps(sample.get_caps())
            self.stride = info.stride[0]
        buf = sample.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        if not ok:
            return Gst.FlowReturn.OK
        try:
            n = read_code(m.data, self.stride)
        finally:
            buf.unmap(m)
        with self.lock:
            if n is None:
                self.bad += 1
            elif n in self.recv:
                self.dups += 1
            else:
                self.recv[n] = t
        if n is not None:
            self.first.set()
        return Gst.FlowReturn.OK

    def last(self):
        with self.lock:
            return max(self.recv) if self.recv else -1


def appsrc_desc(width, height):
    # max-bytes: about a second of frames queued before the WebRTC
    # connection drains them (they are not measured)
    return ("appsrc name=src is-live=true do-timestamp=true format=time "
            "max-bytes=%d block=false caps=video/x-raw,format=I420,width=%d,"
            "height=%d,framerate=%d/1" % (width * height * 3 // 2 * FPS,
                                           width, height, FPS))


# SPS and PPS in band from x264 (byte-stream), once per keyframe as a
# browser sends them; rtph264pay config-interval=-1 would repeat them
# before every slice of a keyframe (x264's sliced threads make several),
# and the gateway's rtph264depay (alignment=au) then cuts the keyframe
# into two access units: every picture until the next keyframe is broken
# (--pay-config-interval -1 shows it: the viewer's codes fail the guard).
PAY_CONFIG_INTERVAL = 0


def encode_desc():
    return ("%s name=enc ! video/x-h264,profile=constrained-baseline,"
            "stream-format=byte-stream ! rtph264pay name=pay "
            "config-interval=%d aggregate-mode=zero-latency" %
            (ENCODER, PAY_CONFIG_INTERVAL))


def keyframe_probe(pipeline, keys):
    """keys: the indexes of the encoder's keyframes (one output per input
    frame, in order: no B-frames)"""
    enc = pipeline.get_by_name("enc")
    count = [0]

    def probe(pad, info):
        buf = info.get_buffer()
        if not buf.has_flags(Gst.BufferFlags.DELTA_UNIT):
            keys.add(count[0])
        count[0] += 1
        return Gst.PadProbeReturn.OK

    enc.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, probe)
    return count


class CodePublisher(wc.Publisher):
    """WHIP publisher: appsrc (numbered frames) ! x264enc ! rtph264pay !
    webrtcbin, video only"""

    def __init__(self, maker):
        desc = ("webrtcbin name=webrtc bundle-policy=max-bundle %s ! %s ! "
                "application/x-rtp,media=video,encoding-name=H264,"
                "clock-rate=90000,payload=96 ! webrtc." %
                (appsrc_desc(maker.w, maker.h), encode_desc()))
        wc.Client.__init__(self, desc)
        for t in self._transceivers():
            t.props.direction = \
                GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY
        self.keys = set()
        self.encoded = keyframe_probe(self.pipeline, self.keys)
        self.pusher = Pusher(self.pipeline.get_by_name("src"), maker)

    def start(self, url, token=None):
        # frames flow from PLAYING on, as a camera's would (and webrtcbin
        # knows its caps for the offer)
        self.pipeline.set_state(Gst.State.PLAYING)
        self.pipeline.get_state(5 * Gst.SECOND)
        self.pusher.start()
        # the offer is made of the payloader's caps: before its first
        # frame they lack packetization-mode=1, which the gateway requires
        pad = self.pipeline.get_by_name("pay").get_static_pad("src")
        deadline = time.monotonic() + WAIT_S
        while pad.get_current_caps() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return super().start(url, token)

    def stop(self):
        self.pusher.stop()
        super().stop()


class CodeViewer(wc.Viewer):
    """WHEP viewer: webrtcbin (recvonly H.264) ! rtph264depay ! avdec_h264
    ! videoconvert ! I420 appsink"""

    def __init__(self, receiver, latency=None):
        self.receiver = receiver
        super().__init__(video=True, audio=False)
        if latency is not None:
            self.webrtc.props.latency = latency

    def _pad_added(self, webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        bin_ = Gst.parse_bin_from_description(
            "rtph264depay ! avdec_h264 ! videoconvert ! "
            "video/x-raw,format=I420 ! appsink name=vsink sync=false "
            "emit-signals=true max-buffers=8", True)
        self.receiver.attach(bin_.get_by_name("vsink"))
        self.pipeline.add(bin_)
        bin_.sync_state_with_parent()
        pad.link(bin_.get_static_pad("sink"))


class Baseline:
    """encode and decode in one pipeline, no network"""

    def __init__(self, maker, receiver):
        self.pipeline = Gst.parse_launch(
            "%s ! %s ! rtph264depay ! avdec_h264 ! videoconvert ! "
            "video/x-raw,format=I420 ! appsink name=vsink sync=false "
            "emit-signals=true max-buffers=8" % (appsrc_desc(maker.w, maker.h),
                                                  encode_desc()))
        receiver.attach(self.pipeline.get_by_name("vsink"))
        self.keys = set()
        self.encoded = keyframe_probe(self.pipeline, self.keys)
        self.pusher = Pusher(self.pipeline.get_by_name("src"), maker)

    def start(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        self.pipeline.get_state(5 * Gst.SECOND)
        self.pusher.start()

    def stop(self):
        self.pusher.stop()
        self.pipeline.set_state(Gst.State.NULL)


# --- the programs ----------------------------------------------------------

VERBOSE = False


def die_with_parent():
    """in a child: SIGTERM when the bench dies (no gateway left behind)"""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Gateway(Program):
    """gst-trickle-gateway (as gateway_program.Program starts it, but ended
    with the bench), its output kept (printed with --verbose)"""
    command = [GATEWAY]

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            self.command + ["--port", "0", *args], stdout=subprocess.PIPE,
            stderr=None if VERBOSE else subprocess.DEVNULL, text=True,
            preexec_fn=die_with_parent)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()
        self.trickle_port = None
        if "--serve-trickle" in args:
            self.trickle_port = int(self.expect(r"channels on port (\d+)")
                                    .group(1))
        self.port = int(self.expect(r"listening on port (\d+)").group(1))

    def _read(self):
        for line in self.proc.stdout:
            if VERBOSE:
                sys.stderr.write("gateway: " + line)
            self.lines.put(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Worker:
    """gst-trickle-worker --port 0 --host 127.0.0.1 (identity filter)"""

    def __init__(self):
        self.proc = subprocess.Popen(
            [WORKER, "--port", "0", "--host", "127.0.0.1"],
            stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent,
            stderr=None if VERBOSE else subprocess.DEVNULL)
        ports = queue.Queue()

        def read():
            for line in self.proc.stdout:
                if VERBOSE:
                    sys.stderr.write("worker: " + line)
                m = re.search(r"listening on port (\d+)", line)
                if m:
                    ports.put(int(m.group(1)))

        threading.Thread(target=read, daemon=True).start()
        self.port = ports.get(timeout=WAIT_S)

    def post(self, path, body):
        return wc.http("POST", "http://127.0.0.1:%d%s" % (self.port, path),
                       json.dumps(body).encode(), "application/json")

    def close(self):
        if self.proc.poll() is None:
            self.post("/stream/stop", {})
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve_gateway(latency):
    """--gateway-latency: the gateway program's equivalent (embedded trickle
    server, GstTrickleGateway, the same output lines) with the gateway's
    'latency' set, which gst-trickle-gateway has no option for. The same
    library code, hosted by a Python main loop instead of the C program."""
    gi.require_version("GstTrickle", "1.0")
    from gi.repository import GLib, GstTrickle
    Gst.init(None)
    store = GstTrickle.ChannelStore.new()
    server = GstTrickle.HttpServer.new(store)
    server.props.port = 0
    if not server.start():
        return 1
    tport = server.get_bound_port()
    print("gst-trickle-gateway: channels on port %d" % tport, flush=True)
    gw = GstTrickle.Gateway(port=0, latency=latency,
                            trickle_url="http://127.0.0.1:%d/" % tport)
    gw.connect("session-started", lambda g, kind, stream, id_: print(
        "gst-trickle-gateway: %s session %s of stream %s started" %
        (kind, id_, stream), flush=True))
    if not gw.start():
        return 1
    print("gst-trickle-gateway: listening on port %d" %
          gw.props.current_port, flush=True)
    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()
    gw.stop()
    server.stop()
    return 0


def cpu_seconds(pid):
    """user + system CPU time of a process (all its threads)"""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields 14 and 15 of stat(5), counted after the command name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu():
    t = os.times()
    return t.user + t.system


class CpuMeter:
    def __init__(self, pids):
        self.pids = pids  # name -> pid

    def snap(self):
        return (time.monotonic(), self_cpu(),
                {k: cpu_seconds(p) for k, p in self.pids.items()})

    @staticmethod
    def percent(a, b):
        wall = b[0] - a[0]
        out = {k: 100 * (b[2][k] - a[2][k]) / wall for k in a[2]}
        out["bench"] = 100 * (b[1] - a[1]) / wall
        return out


# --- one measurement --------------------------------------------------------

class NoFrames(Exception):
    pass


def percentile(sorted_values, p):
    """nearest rank"""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1,
                   int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def measure(args, client, receiver, meter, what):
    """frames [S, S + FRAMES): S a warmup after the first frame received"""
    pusher = client.pusher
    if not receiver.first.wait(WAIT_S):
        raise NoFrames("%s: no frame decoded in %d s (%d failed the guard; "
                       "%d frames sent)" % (what, WAIT_S, receiver.bad,
                                            pusher.count))
    first_seen = receiver.last()
    start = pusher.count + args.warmup
    end = start + args.frames
    if not pusher.wait_count(start):
        raise NoFrames("%s: the publisher stalled" % what)
    a = meter.snap()
    pusher.wait_count(end, timeout=args.frames / FPS + WAIT_S)
    b = meter.snap()
    # the last frames' way through
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and receiver.last() < end - 1:
        time.sleep(0.02)
    time.sleep(0.3)
    with receiver.lock:
        recv = dict(receiver.recv)
    sent = pusher.sent
    lat = {n: 1000 * (recv[n] - sent[n]) for n in range(start, end)
           if n in recv}
    values = sorted(lat.values())
    keys = [lat[n] for n in lat if n in client.keys]
    deltas = [lat[n] for n in lat if n not in client.keys]
    r = {
        "received": len(values), "lost": args.frames - len(values),
        "p50": percentile(values, 50), "p90": percentile(values, 90),
        "p99": percentile(values, 99), "max": values[-1] if values else 0,
        "cpu": CpuMeter.percent(a, b), "bad": receiver.bad,
        "late": pusher.late, "first_frame": first_seen,
        "key_p50": statistics.median(keys) if keys else float("nan"),
        "delta_p50": statistics.median(deltas) if deltas else float("nan"),
        "n_keys": len(keys),
        "spikes": sorted(((v, n) for n, v in lat.items()), reverse=True)[:5],
        "key_frames": sorted(n for n in client.keys if start <= n < end),
    }
    # the encoder's frames are numbered by order: it must have seen them all
    r["encoded_ok"] = client.encoded[0] >= end
    return r


def run_baseline(args):
    rx = Receiver()
    b = Baseline(FrameMaker(args.width, args.height), rx)
    try:
        b.start()
        return measure(args, b, rx, CpuMeter({}), "(c)")
    finally:
        b.stop()


def run_gateway(args, key):
    """(a): no worker; (b): the worker, the viewer at once; (d): the worker,
    the viewer args.join_later s after the worker's start"""
    worker_chain = key in "bd"
    gw = Gateway("--serve-trickle", "0")
    base = "http://127.0.0.1:%d" % gw.port
    tbase = "http://127.0.0.1:%d" % gw.trickle_port
    what = "(%s)" % key
    pub = viewer = worker = None
    whip_alone = None
    try:
        pub = CodePublisher(FrameMaker(args.width, args.height))
        status, _, body = pub.start(base + "/whip/in")
        if status != 201:
            raise NoFrames("%s: WHIP POST answered %d: %s" % (
                what, status, body[:300].decode(errors="replace")))
        gw.expect(r"whip session \S+ of stream in started")
        pids = {"gateway": gw.proc.pid}
        if not worker_chain:
            # the WHIP session alone (media flowing into channel "in")
            time.sleep(2)
            meter = CpuMeter(pids)
            a = meter.snap()
            time.sleep(args.alone)
            whip_alone = CpuMeter.percent(a, meter.snap())["gateway"]
            channel = "in"
        else:
            worker = Worker()
            pids["worker"] = worker.proc.pid
            status, _, body = worker.post("/live-video-to-video", {
                "subscribe_url": tbase + "/in",
                "publish_url": tbase + "/out",
                "gateway_request_id": "bench"})
            if status != 200:
                raise NoFrames("%s: worker start answered %d: %s" %
                               (what, status, body[:200]))
            channel = "out"
            if key == "d":
                time.sleep(args.join_later)
        rx = Receiver()
        viewer = CodeViewer(rx, args.viewer_latency)
        status, _, body = viewer.start(base + "/whep/" + channel)
        if status != 201:
            raise NoFrames("%s: WHEP POST answered %d: %s" % (
                what, status, body[:300].decode(errors="replace")))
        r = measure(args, pub, rx, CpuMeter(pids), what)
        r["whip_alone"] = whip_alone
        return r
    finally:
        for c in (viewer, pub):
            if c:
                c.stop()
        if worker:
            worker.close()
        gw.close()


# --- output -----------------------------------------------------------------

CHAINS = {
    "c": "(c) baseline: encode + decode, no network",
    "a": "(a) WHIP -> gateway -> \"in\" -> WHEP",
    "b": "(b) WHIP -> \"in\" -> worker (identity) -> \"out\" -> WHEP",
    "d": "(d) as (b), the viewer joining a running output",
}


def fmt(v, digits=1):
    if v is None or v != v:
        return "-"
    return "%.*f" % (digits, v)


def run_line(key, r):
    cpu = r["cpu"]
    parts = ["%s: %d/%d frames" % (key, r["received"],
                                  r["received"] + r["lost"]),
             "p50 %s p90 %s p99 %s max %s ms" % (
                 fmt(r["p50"]), fmt(r["p90"]), fmt(r["p99"]), fmt(r["max"])),
             "keyframes (%d) p50 %s ms, others %s ms" % (
                 r["n_keys"], fmt(r["key_p50"]), fmt(r["delta_p50"]))]
    if "gateway" in cpu:
        parts.append("gateway %s%%" % fmt(cpu["gateway"], 0) +
                     (" (WHIP alone %s%%)" % fmt(r["whip_alone"], 0)
                      if r.get("whip_alone") is not None else ""))
    if "worker" in cpu:
        parts.append("worker %s%%" % fmt(cpu["worker"], 0))
    parts.append("bench process %s%%" % fmt(cpu["bench"], 0))
    extra = []
    if r["bad"]:
        extra.append("%d decoded frames failed the guard" % r["bad"])
    if r["late"]:
        extra.append("%d frames pushed late" % r["late"])
    if not r["encoded_ok"]:
        extra.append("the encoder saw fewer frames than pushed")
    spikes = ", ".join("#%d %.0f ms%s" % (n, v, " (key)" if n in r[
        "key_frames"] else "") for v, n in r["spikes"][:3])
    print("  " + "; ".join(parts))
    print("    slowest: %s; keyframes at %s%s" % (
        spikes, ",".join(str(k) for k in r["key_frames"][:12]),
        "; " + "; ".join(extra) if extra else ""))
    sys.stdout.flush()


def med(results, f):
    vals = [f(r) for r in results]
    vals = [v for v in vals if v is not None and v == v]
    return statistics.median(vals) if vals else None


def build_stamp():
    """when the programs and the library were built (another build during
    a run would mix two versions)"""
    def when(path):
        try:
            return datetime.datetime.fromtimestamp(
                os.stat(path).st_mtime, datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M:%SZ")
        except OSError:
            return "missing"
    lib = os.path.join(ROOT, "build", "gst", "trickle",
                       "libgsttrickle-1.0.so.0")
    return "gst-trickle-gateway %s, gst-trickle-worker %s, libgsttrickle %s" \
        % (when(GATEWAY), when(WORKER), when(os.path.realpath(lib)))


def main():
    global VERBOSE, PAY_CONFIG_INTERVAL
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-gateway":
        return serve_gateway(int(sys.argv[2]))
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("frames", nargs="?", type=int, default=300)
    ap.add_argument("runs", nargs="?", type=int, default=3)
    ap.add_argument("--chains", default="cabd",
                    help="which chains, in order (default cabd)")
    ap.add_argument("--join-later", type=float, default=5.0,
                    help="(d): seconds between the worker's start and the "
                    "viewer's (default 5)")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--warmup", type=int, default=30,
                    help="frames after the first received, not measured")
    ap.add_argument("--alone", type=float, default=3.0,
                    help="seconds of the WHIP session alone for its CPU")
    ap.add_argument("--viewer-latency", type=int, default=None,
                    help="the viewer's webrtcbin latency, ms (default: "
                    "webrtcbin's, 200)")
    ap.add_argument("--pay-config-interval", type=int, default=0,
                    help="the publisher's rtph264pay config-interval "
                    "(default 0: SPS/PPS from x264, once per keyframe)")
    ap.add_argument("--gateway-latency", type=int, default=None,
                    help="set the gateway's 'latency' (its webrtcbins' "
                    "jitterbuffer, default 200 ms): gst-trickle-gateway has "
                    "no option for it, so the same GstTrickleGateway is then "
                    "hosted by this script in its own process instead")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose
    PAY_CONFIG_INTERVAL = args.pay_config_interval
    assert check(0) != 0 and check(0xffff) != 0xff
    if args.gateway_latency is not None:
        Gateway.command = [sys.executable, os.path.abspath(__file__),
                           "--serve-gateway", str(args.gateway_latency)]
    if args.width < X0 + COLS * BLOCK or args.height < Y0 + ROWS * BLOCK:
        ap.error("the frame is too small for the code blocks")
    Gst.init(None)
    # libnice's UPnP search in this process' webrtcbins: warnings only
    from gi.repository import GLib
    for domain in ("gupnp-context", "gupnp-context-manager"):
        GLib.log_set_handler(domain, GLib.LogLevelFlags.LEVEL_WARNING,
                             lambda *a: None, None)
    sys.setswitchinterval(0.0005)  # stamps not held behind another thread

    t_start = time.monotonic()
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                              "HEAD"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev, dirty = "?", ""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load0 = " ".join(f.read().split()[:3])
    print("# gateway-bench: gst-trickle %s%s, %s" % (
        rev, " (+ uncommitted changes)" if dirty else "",
        datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")))
    print("machine: %d CPU(s), %s; load at start %s" % (os.cpu_count(),
                                                         model, load0))
    built = build_stamp()
    print("build: %s" % built)
    print("""method:
- %dx%d I420 at %d fps from an appsrc (is-live, do-timestamp) in this
  process; each frame carries its number in 2x12 blocks of 20x20 luma
  (16-bit counter + CRC-8 guard), over a texture moving 2 px a frame.
  Encoded and sent as: %s; video only.
- send = monotonic time the frame is pushed into the appsrc; receive =
  monotonic time its decoded picture reaches the viewer's appsink
  (rtph264depay ! avdec_h264 ! videoconvert ! I420 appsink, sync=false);
  frames whose code fails the guard are ignored. One process, one clock.
- per chain and run: a fresh gateway (build/tools/gst-trickle-gateway
  --port 0 --serve-trickle 0: its own trickle server, loopback), the
  viewer joins, %d frames of warmup after its first frame, then %d
  frames measured: p50/p90/p99/max of receive - send; lost = measured
  frames never decoded. %d runs; the table shows the medians of the runs'
  values.
- CPU: %% of one core, (utime + stime) from /proc/PID/stat over the
  measured frames' wall time: the gateway (one WHIP + one WHEP session;
  in (b) and (d) it also serves the worker's trickle GET and POST), the
  worker in (b) and (d), and this bench process (encoder, decoder,
  webrtcbin clients) for context: it shares the CPUs.
- (c) baseline: appsrc ! x264enc ! rtph264pay ! rtph264depay !
  avdec_h264 ! appsink in one pipeline, no network: the codec's share.
- (a) WHIP publisher -> gateway (rtph264depay ! h264parse ! mpegtsmux !
  tricklesink) -> channel "in" -> gateway (tricklesrc ! tsdemux !
  h264parse ! rtph264pay) -> WHEP viewer of "in". No re-encoding.
- (b) as (a), but build/tools/gst-trickle-worker --port 0 --host
  127.0.0.1 (identity filter; decodebin ! identity ! x264enc superfast !
  mpegtsmux) started with POST /live-video-to-video {subscribe_url: "in",
  publish_url: "out", gateway_request_id: "bench"}; the viewer plays "out",
  joining at once (b: its first frames are the worker's first output), or
  %.0f s after the worker's start (d: a running output).
- the gateway's 'latency' (its webrtcbins' jitterbuffer): %s;
  the viewer's webrtcbin latency: %s.""" % (
        args.width, args.height, FPS, encode_desc(), args.warmup, args.frames,
        args.runs, args.join_later, "%d ms (--gateway-latency: "
        "GstTrickleGateway hosted by\n  this script, the program has no "
        "option for it)" %
        args.gateway_latency if args.gateway_latency is not None else
        "the\n  program's, 200 ms (it has no option for it)",
        "%d ms" % args.viewer_latency
        if args.viewer_latency is not None else "webrtcbin's default, 200 ms"))
    sys.stdout.flush()

    results = {k: [] for k in args.chains}
    failures = {k: [] for k in args.chains}
    for run in range(1, args.runs + 1):
        print("== run %d" % run)
        for key in args.chains:
            try:
                r = run_baseline(args) if key == "c" else \
                    run_gateway(args, key)
            except (NoFrames, AssertionError, RuntimeError, queue.Empty) as e:
                print("  (%s) failed: %s" % (key, e))
                failures[key].append(str(e))
                continue
            results[key].append(r)
            run_line("(%s)" % key, r)

    base = results.get("c")
    base_p50 = med(base, lambda r: r["p50"]) if base else None
    print()
    print("Medians of %d runs, %d frames each, %dx%d at %d fps (ms; CPU in "
          "%% of one core):" % (args.runs, args.frames, args.width,
                                args.height, FPS))
    print()
    print("| chain | runs | lost (per run) | p50 | p90 | p99 | max | "
          "p50 added to (c) | keyframes p50 / others p50 | gateway CPU | "
          "worker CPU | bench process CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key in args.chains:
        rs = results[key]
        if not rs:
            print("| %s | 0 | | | | | | | | | | |" % CHAINS[key])
            continue
        p50 = med(rs, lambda r: r["p50"])
        added = p50 - base_p50 if base_p50 is not None and key != "c" \
            else None
        print("| %s | %d | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s "
              "| %s |" % (
                  CHAINS[key], len(rs), ",".join(str(r["lost"]) for r in rs),
                  fmt(p50), fmt(med(rs, lambda r: r["p90"])),
                  fmt(med(rs, lambda r: r["p99"])),
                  fmt(med(rs, lambda r: r["max"])), fmt(added),
                  fmt(med(rs, lambda r: r["key_p50"])),
                  fmt(med(rs, lambda r: r["delta_p50"])),
                  fmt(med(rs, lambda r: r["cpu"].get("gateway")), 0) + "%"
                  if key != "c" else "-",
                  fmt(med(rs, lambda r: r["cpu"].get("worker")), 0) + "%"
                  if key in "bd" else "-",
                  fmt(med(rs, lambda r: r["cpu"]["bench"]), 0) + "%"))
    a = results.get("a")
    bd = (results.get("b") or []) + (results.get("d") or [])
    if a:
        for k in "bd":
            if results.get(k):
                print()
                print("(%s) - (a), the worker's share (p50): %s ms" % (k, fmt(
                    med(results[k], lambda r: r["p50"]) -
                    med(a, lambda r: r["p50"]))))
    if a or bd:
        print()
        print("CPU per session (% of one core, medians):")
        print()
        print("| what | CPU |")
        print("|---|---|")
        if a:
            alone = med(a, lambda r: r["whip_alone"])
            both = med(a, lambda r: r["cpu"]["gateway"])
            print("| gateway, one WHIP session alone (%.0f s before the "
                  "viewer) | %s%% |" % (args.alone, fmt(alone, 1)))
            print("| gateway, one WHIP + one WHEP session (a) | %s%% |" %
                  fmt(both, 1))
            if alone is not None and both is not None:
                print("| ... so one WHEP session (difference) | %s%% |" %
                      fmt(both - alone, 1))
        if bd:
            print("| gateway with the worker, (b) and (d): WHIP + WHEP + "
                  "the worker's trickle GET and POST | %s%% |" %
                  fmt(med(bd, lambda r: r["cpu"]["gateway"]), 1))
            print("| worker, (b) and (d): one stream (decode, identity, "
                  "x264 superfast, mux) | %s%% |" %
                  fmt(med(bd, lambda r: r["cpu"]["worker"]), 1))
    with open("/proc/loadavg") as f:
        load1 = " ".join(f.read().split()[:3])
    print()
    if build_stamp() != built:
        print("WARNING: the build changed during the run: %s" % build_stamp())
    print("""notes:
- the gateway's WHEP viewer joins at the live edge: it starts at the next
  segment of the channel (tricklesrc start-seq -1), so its first frame is
  the keyframe that starts that segment; the warmup frames after it are
  not measured.
- segments last >= 1 s (the gateway's min-segment-duration; the worker
  cuts its output at its keyframes, every 2 s): this adds no per-frame
  latency, since a segment streams to its subscribers as it is written.
  A segment boundary (a new POST and GET) falls on a keyframe: see the
  keyframes' own p50 (keyframes are also the largest frames).
- tsdemux emits a video frame when the next one begins (an MPEG-TS video
  PES carries no length): about one frame interval (33 ms) per demuxer:
  one in (a) (the gateway's WHEP side), two in (b) (the worker's
  decodebin and the gateway's WHEP side of "out").
- the gateway's WHEP output is paced by the clock: webrtcbin's send path
  (clocksync) releases each packet at its running time, the channel's
  timestamps being mapped to the clock when the viewer's first frame goes
  out. Whatever lateness that first frame had stays for the whole
  session. In (b) the viewer's first frames are the worker's first
  output, which comes late and in a burst (decoder and encoder starting);
  (d) is the same chain joined once the output runs.
- jitterbuffers: the viewer's (--viewer-latency) holds only packets that
  are missing or out of order, rare on loopback; the gateway's 'latency'
  (its webrtcbins', default 200 ms) cannot be set from
  gst-trickle-gateway: --gateway-latency MS hosts the same
  GstTrickleGateway with it set, to see its effect.
- load at the end %s; wall time %.0f s.""" % (load1,
                                                time.monotonic() - t_start))
    if any(failures.values()):
        print("- failed runs: " + "; ".join(
            "%s: %d" % (k, len(v)) for k, v in failures.items() if v))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
