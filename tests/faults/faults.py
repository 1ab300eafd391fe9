#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The fault matrix (issue 15): a trickleserver host, a publisher host and a
# subscriber host in network namespaces of their own, joined by emulated
# links, and real pipelines on them: gst-launch-1.0 publishing H.264 in
# MPEG-TS with tricklesink, trickleserver, tricklesrc (subscriber.py). For
# each fault (100 ms delay, 1% and 5% loss, reordering, a 5 s link cut,
# the server killed and restarted, the publisher and the subscriber killed
# mid-segment) it checks what the subscriber got:
#   - every segment it reported complete=true is byte for byte a segment
#     the publisher sent whole: a witness on the server's own host (plain
#     http.client over loopback, no fault, no gst-trickle code) reads every
#     segment of the channel and hashes it; a complete=true segment whose
#     seq the witness read whole with other bytes, or saw cut, fails the
#     test (one the witness missed is counted, not checked; more than half
#     missed fails);
#   - a segment cut at its source (the witness saw it break: the publisher
#     or the server died) is reported complete=false by the subscriber;
#   - no bytes are received twice (a stale segment served again), at the
#     witness or at the subscriber;
#   - the stream recovers: complete segments arrive after the fault ends;
#     the time it took is printed, never asserted (the CI machine is a
#     loaded 2-core VM); the one deadline (RECOVERY_S) only stops a hang.
# and prints a table: case, segments complete / incomplete / lost (the
# witness had them whole while the subscriber was following, it got
# neither), recovery time (from the fault's end to the next complete
# segment), lag (median/largest: how much later than the witness the
# subscriber had each complete segment's end).
#
# The links: this project's CI kernel (and the one it was written on) has
# no sch_netem (CONFIG_NET_SCH_NETEM is not set), so `tc qdisc ... netem`
# cannot be used there. The links are emulated in user space instead, as
# netem does in the kernel: every host is joined to the server's host by a
# pair of TAP devices whose frames this script forwards (the "link"
# sub-command, a process of its own), each frame delayed, dropped or
# reordered per the case, in both directions. Exit code 77 (skipped) when
# network namespaces or TAP devices are not permitted (not root, a
# container without CAP_NET_ADMIN), saying why.
#
# FAULTS_DUMP=PREFIX writes every line each process printed to PREFIX-CASE.
#
#   faults.py [--sub-cmd CMD] [--pub-cmd CMD] [--server-cmd CMD]
#             [--cases a,b,..] [--json FILE]
# CMD templates take {url} (and {port} for the server): to run the same
# matrix with go-livepeer's clients (tests/bench/reference/build-client.sh):
#   --sub-cmd '/tmp/trickle-reference/trickle-client sub {url}'
#   --pub-cmd 'gst-launch-1.0 -q ... ! mpegtsmux ! fdsink fd=1 |
#              /tmp/trickle-reference/trickle-client pub {url}'
import argparse
import fcntl
import hashlib
import heapq
import http.client
import json
import os
import re
import random
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
PORT = 2939
# how long a case may wait for segments before it is called a hang: far
# above anything expected (a few seconds), because the CI machine is a
# loaded 2-core VM where a pipeline's start alone can take seconds
RECOVERY_S = 60
SEGMENTS_AFTER = 3  # complete segments wanted after a fault's end

# -m: tricklesink's "trickle-segment" messages (seq, bytes) say what it
# published, which the server's complete segments must match
PUB_CMD = ("gst-launch-1.0 -m videotestsrc is-live=true pattern=ball ! "
           "video/x-raw,width=320,height=240,framerate=30/1 ! "
           "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 "
           "bitrate=600 ! mpegtsmux ! tricklesink post-messages=true "
           "location={url}")
# Debian's own python3, which has PyGObject (another python3 may come first
# in PATH)
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable
SUB_CMD = SYSTEM_PYTHON + " " + os.path.join(HERE, "subscriber.py") + " {url}"
SERVER_CMD = "gst-launch-1.0 -q trickleserver port={port}"


def log(*a):
    print("[%6.1f]" % (time.monotonic() - T0), *a, flush=True)


T0 = time.monotonic()

# ---------------------------------------------------------------- the links

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(),
                                           IFF_TAP | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def link_main(names):
    """forwards frames between TAP pairs (names: a0 b0 a1 b1...), each pair
    a link; stdin takes 'LINK key=value...' lines (delay, loss, reorder,
    cut), stdout says 'ready' and, at the end, what was dropped"""
    fds = [open_tap(n) for n in names]
    peer = {}
    link_of = {}
    for i in range(0, len(fds), 2):
        peer[fds[i]], peer[fds[i + 1]] = fds[i + 1], fds[i]
        link_of[fds[i]] = link_of[fds[i + 1]] = i // 2
    conf = [dict(delay=0.0, loss=0.0, reorder=0.0, cut=0)
            for _ in range(len(fds) // 2)]
    # frames and bytes per tap read from (client side, server side...)
    count = {fd: [0, 0] for fd in fds}
    stats = dict(passed=0, dropped=0, reordered=0)

    def command(words):
        if words == ["stats"]:
            # what each link carried since the last "stats": [frames,
            # bytes] to the server, [frames, bytes] from it
            print(json.dumps([count[fds[i]] + count[fds[i + 1]]
                              for i in range(0, len(fds), 2)]), flush=True)
            for f in fds:
                count[f] = [0, 0]
            return
        for link in (range(len(conf)) if words[0] == "all"
                     else [int(words[0])]):
            for kv in words[1:]:
                k, v = kv.split("=")
                conf[link][k] = float(v)

    rnd = random.Random(15)
    queue = []
    n = 0
    print("ready", flush=True)
    stdin = sys.stdin.fileno()
    pending = b""  # (not sys.stdin: its buffer would hide lines from select)
    while True:
        timeout = None
        if queue:
            timeout = max(0.0, queue[0][0] - time.monotonic())
        r, _, _ = select.select([stdin] + fds, [], [], timeout)
        for fd in r:
            if fd == stdin:
                data = os.read(stdin, 4096)
                if not data:
                    print(json.dumps(stats), flush=True)
                    return
                pending += data
                lines = pending.split(b"\n")
                pending = lines.pop()
                for line in lines:
                    command(line.decode().split())
                continue

            while True:
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break
                count[fd][0] += 1
                count[fd][1] += len(frame)
                c = conf[link_of[fd]]
                if c["cut"] or (c["loss"] and rnd.random() < c["loss"]):
                    stats["dropped"] += 1
                    continue
                at = time.monotonic() + c["delay"]
                if c["reorder"] and rnd.random() < c["reorder"]:
                    # as netem's reorder: this one goes at once, ahead of
                    # the delayed ones
                    at = time.monotonic()
                    stats["reordered"] += 1
                n += 1
                heapq.heappush(queue, (at, n, peer[fd], frame))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            try:
                os.write(out, frame)
                stats["passed"] += 1
            except OSError:
                stats["dropped"] += 1

# -------------------------------------------------------------- the witness


def witness_main(url):
    """reads every segment of the channel at url from seq 0 with
    http.client; one JSON line per segment: seq, bytes, complete, sha.
    As a subscriber preconnects, the GET of seq N+1 is sent as soon as N's
    answer head arrives, each in a thread of its own: segments that arrive
    together (a publisher's backlog after a cut) are all read before the
    server's window drops them."""
    host_port, path = url[len("http://"):].split("/", 1)
    host, port = host_port.split(":")
    out = threading.Lock()

    def follow(seq):
        threading.Thread(target=read, args=(seq,), daemon=True).start()

    def read(seq):
        while True:
            try:
                conn = http.client.HTTPConnection(host, int(port),
                                                  timeout=120)
                conn.request("GET", "/%s/%d" % (path, seq))
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)  # the server is not (yet) there
                continue
            if resp.status == 470:
                resp.read()
                conn.close()
                latest = int(resp.getheader("Lp-Trickle-Latest", "-1"))
                return follow(latest if latest >= 0 else -1)
            if resp.status != 200:  # 404: no channel yet
                resp.read()
                conn.close()
                time.sleep(0.05)
                continue
            break
        got = int(resp.getheader("Lp-Trickle-Seq", str(seq)))
        if resp.getheader("Lp-Trickle-Closed"):
            resp.read()
            conn.close()
            time.sleep(0.05)
            return follow(0)
        follow(got + 1)
        h = hashlib.sha256()
        size = 0
        complete = True
        try:
            while True:
                b = resp.read1(65536)
                if not b:
                    break
                h.update(b)
                size += len(b)
        except (OSError, http.client.HTTPException):
            complete = False
        conn.close()
        if size or not complete:
            with out:
                print(json.dumps({"seq": got, "bytes": size,
                                  "complete": complete, "sha": h.hexdigest(),
                                  "t": time.time()}), flush=True)

    follow(0)
    while True:
        time.sleep(3600)

# ----------------------------------------------------------------- the matrix


def run(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


# gst-launch-1.0 -m printing tricklesink's message
PUBLISHED = re.compile(r"trickle-segment, seq=\(gint64\)(\d+), "
                       r"bytes=\(guint64\)(\d+)")


class Proc:
    """a command in a namespace, its own process group, its JSON lines
    collected with their arrival"""

    def __init__(self, name, ns, cmd, collect=True):
        self.name = name
        self.lines = []
        self.errors = []
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, "sh", "-c", "exec " + cmd
             if "|" not in cmd else cmd],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        self.started = time.time()
        threading.Thread(target=self._read, args=(self.p.stdout, collect),
                         daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()

    def _read(self, f, collect):
        for line in f:
            try:
                obj = json.loads(line)
            except ValueError:
                m = PUBLISHED.search(line)
                if not m:
                    continue
                obj = {"published": int(m.group(1)),
                       "bytes": int(m.group(2)), "t": time.time()}
            if collect and isinstance(obj, dict):
                self.lines.append(obj)

    def _err(self):
        for line in self.p.stderr:
            if len(self.errors) < 200:
                self.errors.append(line.rstrip())

    def segments(self):
        return [x for x in self.lines if "seq" in x]

    def kill(self, sig=signal.SIGKILL):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()


class Net:
    def __init__(self):
        tag = "f%d" % (os.getpid() % 100000)
        self.ns = {h: "%s-%s" % (tag, h) for h in ("srv", "pub", "sub")}
        self.taps = ["%sp0" % tag, "%sp1" % tag, "%ss0" % tag, "%ss1" % tag]
        self.made = []
        self.link = None

    def up(self):
        for ns in self.ns.values():
            run("ip", "netns", "add", ns)
            self.made.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        self.link = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "link"] + self.taps,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.link.stdout.readline().strip() != "ready":
            raise RuntimeError("the link emulator did not start")
        # link 0: publisher <-> server (10.213.1.0/24), link 1: subscriber
        # <-> server (10.213.2.0/24)
        for i, (client, tap_c, tap_s) in enumerate(
                (("pub", self.taps[0], self.taps[1]),
                 ("sub", self.taps[2], self.taps[3]))):
            for tap, ns, addr in ((tap_c, self.ns[client], "10.213.%d.2"),
                                  (tap_s, self.ns["srv"], "10.213.%d.1")):
                run("ip", "link", "set", tap, "netns", ns)
                run("ip", "-n", ns, "addr", "add", addr % (i + 1) + "/24",
                    "dev", tap)
                run("ip", "-n", ns, "link", "set", tap, "up")

    def set(self, link, **kw):
        """link: 0 (publisher's), 1 (subscriber's) or 'all'"""
        self.link.stdin.write("%s %s\n" % (link, " ".join(
            "%s=%s" % kv for kv in kw.items())))
        self.link.stdin.flush()

    def stats(self):
        """[[frames, bytes to the server, frames, bytes from it]] per link
        since the last call"""
        self.link.stdin.write("stats\n")
        self.link.stdin.flush()
        return json.loads(self.link.stdout.readline())

    def clear(self):
        self.set("all", delay=0, loss=0, reorder=0, cut=0)

    def down(self):
        stats = None
        if self.link:
            try:
                self.link.stdin.close()
                stats = self.link.stdout.readline().strip()
                self.link.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                self.link.kill()
        for ns in self.made:
            # processes left in it (a failed run) first
            pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run("ip", "netns", "del", ns, check=False)
        self.made = []
        return stats


def skip(why):
    print("SKIP: " + why, flush=True)
    sys.exit(SKIP)


def check_permitted():
    if os.geteuid() != 0:
        skip("the fault matrix needs root (network namespaces, TAP devices)")
    for tool in ("ip", "gst-launch-1.0"):
        if not shutil.which(tool):
            skip("%s is not installed (iproute2, gstreamer1.0-tools)" % tool)
    probe = "fprobe%d" % os.getpid()
    r = run("ip", "netns", "add", probe, check=False)
    if r.returncode != 0:
        skip("`ip netns add` is not permitted here: " + r.stderr.strip())
    run("ip", "netns", "del", probe, check=False)
    try:
        os.close(open_tap("fprobe%d" % (os.getpid() % 100000)))
    except OSError as e:
        skip("TAP devices are not permitted here (/dev/net/tun): %s" % e)


class Case:
    def __init__(self, name, title, kind, **kw):
        self.name, self.title, self.kind, self.kw = name, title, kind, kw


CASES = [
    Case("delay", "100 ms delay (each way)", "impair", delay=0.1),
    Case("loss1", "1% loss", "impair", loss=0.01),
    Case("loss5", "5% loss", "impair", loss=0.05),
    Case("reorder", "reordering (25%, 10 ms)", "impair", delay=0.01,
         reorder=0.25),
    Case("cut", "subscriber's link cut 5 s", "cut", link=1, seconds=5),
    Case("cut-pub", "publisher's link cut 5 s", "cut", link=0, seconds=5),
    Case("server", "server killed, restarted", "server"),
    Case("pub-kill", "publisher killed, new one", "pub-kill"),
    Case("sub-kill", "subscriber killed, new one", "sub-kill"),
]
IMPAIR_S = 6  # how long a delay/loss/reordering lasts


class Result:
    def __init__(self, case):
        self.case = case
        self.complete = self.incomplete = self.lost = 0
        self.recovery = None
        self.lag = []
        self.unverified = 0
        self.packets = None
        self.failures = []
        self.notes = []


def wait_for(pred, timeout, what, res, procs=()):
    """waits for pred(), at most timeout s or until every one of procs
    (the subscribers) has exited"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        if procs and all(p.p.poll() is not None for p in procs):
            res.failures.append("no %s: the subscriber exited" % what)
            return False
        time.sleep(0.05)
    res.failures.append("no %s within %d s (a hang?)" % (what, timeout))
    return False


def complete_after(subs, t, n=1):
    return len([s for p in subs for s in p.segments()
                if s["complete"] and s["bytes"] and s["t"] > t]) >= n


def run_case(net, case, args):
    res = Result(case)
    chan = "faults-" + case.name
    srv_url = "http://127.0.0.1:%d/%s" % (PORT, chan)
    pub_url = "http://10.213.1.1:%d/%s" % (PORT, chan)
    sub_url = "http://10.213.2.1:%d/%s" % (PORT, chan)
    server_cmd = args.server_cmd.format(port=PORT)
    procs = []

    def start(name, host, cmd, collect=True):
        p = Proc(name, net.ns[host], cmd, collect)
        procs.append(p)
        return p

    try:
        net.clear()
        net.stats()
        server = start("server", "srv", server_cmd, collect=False)
        witness = start("witness", "srv", "%s %s witness %s" % (
            sys.executable, os.path.abspath(__file__), srv_url))
        pub = start("publisher", "pub", args.pub_cmd.format(url=pub_url))
        if not wait_for(lambda: witness.segments(), RECOVERY_S,
                        "first segment at the witness", res):
            return finish(res, procs, witness, [], None)
        subs = [start("subscriber", "sub", args.sub_cmd.format(url=sub_url))]
        if not wait_for(lambda: complete_after(subs, 0, 3), RECOVERY_S,
                        "complete segments at the subscriber", res, subs):
            return finish(res, procs, witness, subs, None)

        if case.kind == "impair":
            net.set("all", **case.kw)
            time.sleep(IMPAIR_S)
            # the segments that end during the fault are the ones counted;
            # complete ones must be intact, and some must have come through
            net.clear()
            fault_end = time.time()
        elif case.kind == "cut":
            # mid-segment: just after a segment ended at the subscriber
            n = len(subs[0].segments())
            wait_for(lambda: len(subs[0].segments()) > n, RECOVERY_S,
                     "a segment", res)
            time.sleep(0.2)
            net.set(case.kw["link"], cut=1)
            time.sleep(case.kw["seconds"])
            net.set(case.kw["link"], cut=0)
            fault_end = time.time()
        elif case.kind == "server":
            n = len(witness.segments())
            wait_for(lambda: len(witness.segments()) > n, RECOVERY_S,
                     "a segment", res)
            time.sleep(0.2)
            server.kill()
            time.sleep(1)
            server = start("server", "srv", server_cmd, collect=False)
            fault_end = time.time()
        elif case.kind == "pub-kill":
            n = len(witness.segments())
            wait_for(lambda: len(witness.segments()) > n, RECOVERY_S,
                     "a segment", res)
            time.sleep(0.2)
            pub.kill()
            time.sleep(1)
            pub = start("publisher", "pub", args.pub_cmd.format(url=pub_url))
            fault_end = time.time()
        elif case.kind == "sub-kill":
            n = len(subs[0].segments())
            wait_for(lambda: len(subs[0].segments()) > n, RECOVERY_S,
                     "a segment", res)
            time.sleep(0.2)
            subs[0].kill()
            time.sleep(1)
            subs.append(start("subscriber", "sub",
                              args.sub_cmd.format(url=sub_url)))
            fault_end = time.time()
        wait_for(lambda: complete_after(subs, fault_end, SEGMENTS_AFTER),
                 RECOVERY_S, "complete segments after the fault", res,
                 subs[-1:])
        res = finish(res, procs, witness, subs, fault_end)
        res.packets = net.stats()
        if case.kind == "impair":
            # a lasting fault: nothing to recover from (the segments must
            # still flow after it, as waited for above)
            res.recovery = None
        return res
    except Exception as e:  # noqa: BLE001 - reported as the case's failure
        res.failures.append("%s: %s" % (type(e).__name__, e))
        for p in procs:
            p.kill()
        return res


def finish(res, procs, witness, subs, fault_end):
    if os.environ.get("FAULTS_DUMP"):
        with open(os.environ["FAULTS_DUMP"] + "-" + res.case.name, "w") as f:
            for p in procs:
                for x in p.lines:
                    f.write("%s %s\n" % (p.name, json.dumps(x)))
    # the subscribers first, so they report nothing of the others' end;
    # the witness last, after a moment to finish what it reads
    t_stop = time.time()
    for p in subs:
        p.kill()
    time.sleep(0.5)
    for p in procs:
        if p is not witness:
            p.kill()
    time.sleep(0.3)
    witness.kill()
    whole = {}
    whole_seqs = set()
    cut = set()
    cut_at = {}
    for w in witness.segments():
        if w["t"] > t_stop:
            continue  # cut by the end of the case
        if w["complete"]:
            whole.setdefault(w["sha"], w)
            whole_seqs.add(w["seq"])
        else:
            cut.add(w["seq"])
            cut_at[w["seq"]] = w["t"]
    got_sha = set()
    got_cut = set()
    # what the publisher says it published (tricklesink's messages): the
    # server's complete segment of that seq must be that long
    sent = {x["published"]: x["bytes"] for p in procs
            if p.name == "publisher" for x in p.lines if "published" in x}
    for w in witness.segments():
        if w["complete"] and w["t"] <= t_stop and \
                sent.get(w["seq"], w["bytes"]) != w["bytes"]:
            res.failures.append(
                "segment %d: complete on the server with %d bytes, the "
                "publisher sent %d" % (w["seq"], w["bytes"], sent[w["seq"]]))
    # the same bytes twice: a segment served again (a stale replay), at the
    # witness (the server) or at a subscriber
    seen = {}
    for w in witness.segments():
        if w["complete"] and w["t"] <= t_stop:
            if w["sha"] in seen:
                res.failures.append(
                    "the server served segment %d's bytes again as segment "
                    "%d, %.1f s later" % (seen[w["sha"]]["seq"], w["seq"],
                                          w["t"] - seen[w["sha"]]["t"]))
                break
            seen[w["sha"]] = w
    for i, p in enumerate(subs):
        segs = [s for s in p.segments() if s["t"] <= t_stop]
        for s in segs:
            if s["complete"] and not s["bytes"]:
                continue  # an empty segment (dropped): no media, skipped
            if s["complete"]:
                res.complete += 1
                if s["sha"] in got_sha:
                    res.failures.append(
                        "segment %d: bytes this subscriber had already "
                        "received (a stale replay)" % s["seq"])
                got_sha.add(s["sha"])
                if s["sha"] in whole:
                    # how much later than the witness on the server's host
                    # the subscriber had the segment's end
                    res.lag.append(s["t"] - whole[s["sha"]]["t"])
                if s["sha"] in whole:
                    pass
                elif s["seq"] in whole_seqs or s["seq"] in cut:
                    res.failures.append(
                        "segment %d (%d bytes) reported complete is not the "
                        "segment the publisher sent (%s)" % (
                            s["seq"], s["bytes"], "the witness had it whole, "
                            "other bytes" if s["seq"] in whole_seqs else
                            "the witness saw it cut"))
                else:
                    # the witness missed it (it was not on the server when
                    # the witness asked): nothing to compare with
                    res.unverified += 1
                if "pushed" in s and s["pushed"] != s["bytes"]:
                    res.failures.append(
                        "segment %d: %d bytes pushed, message says %d" % (
                            s["seq"], s["pushed"], s["bytes"]))
            else:
                res.incomplete += 1
                got_cut.add(s["seq"])
        errors = [x for x in p.lines if x.get("event") in ("error", "stop")]
        for e in errors:
            res.notes.append("%s %d: %s" % (p.name, i + 1, e.get(
                "message") or e.get("reason")))
        if segs:
            # lost: segments the witness had whole while this subscriber
            # was receiving that it got neither whole nor cut
            t0, t1 = segs[0]["t"], segs[-1]["t"]
            # a segment cut at its source (the publisher or the server
            # died) while this subscriber was following: it must say so
            mine = {s["seq"] for s in segs if not s["complete"]}
            for seq, t in cut_at.items():
                if t0 < t < t1 and seq not in mine:
                    res.failures.append(
                        "segment %d was cut at its source (the witness saw "
                        "it) and the subscriber did not report it "
                        "complete=false" % seq)
            for w in whole.values():
                if t0 < w["t"] < t1 - 1 and w["sha"] not in got_sha and \
                        w["seq"] not in got_cut:
                    res.lost += 1
    if fault_end is not None:
        after = sorted(s["t"] for p in subs for s in p.segments()
                       if s["complete"] and s["bytes"] and s["t"] > fault_end)
        if after:
            res.recovery = after[0] - fault_end
    if res.unverified * 2 > res.complete:
        res.failures.append("%d of the %d complete segments could not be "
                            "checked: the witness missed them" % (
                                res.unverified, res.complete))
    elif res.unverified:
        res.notes.append("%d complete segment(s) the witness missed, not "
                         "checked" % res.unverified)
    if res.failures:
        for p in procs:
            for line in p.errors[-5:]:
                res.notes.append("%s stderr: %s" % (p.name, line))
    if cut and res.case.kind == "pub-kill":
        res.notes.append("witness: segment(s) %s cut by the kill" %
                         sorted(cut))
    elif res.case.kind == "pub-kill":
        res.failures.append("the publisher's kill cut no segment (the "
                            "case did not test what it says)")
    return res


def lag_text(lag):
    """the median and the largest lag, in ms"""
    if not lag:
        return "-"
    lag = sorted(lag)
    return "%d/%d ms" % (lag[len(lag) // 2] * 1000, lag[-1] * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sub-cmd", default=SUB_CMD)
    ap.add_argument("--pub-cmd", default=PUB_CMD)
    ap.add_argument("--server-cmd", default=SERVER_CMD)
    ap.add_argument("--cases", default="")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    cases = CASES
    if args.cases:
        want = args.cases.split(",")
        cases = [c for c in CASES if c.name in want]
    check_permitted()
    net = Net()
    results = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        net.up()
        for case in cases:
            log("case %s: %s" % (case.name, case.title))
            res = run_case(net, case, args)
            results.append(res)
            log("  complete %d, incomplete %d, lost %d, recovery %s, lag %s,"
                " link frames (to/from the server) publisher %s, subscriber "
                "%s%s" % (
                res.complete, res.incomplete, res.lost,
                "-" if res.recovery is None else "%.2f s" % res.recovery,
                lag_text(res.lag),
                *(["%d/%d" % (p[0], p[2]) for p in res.packets]
                  if res.packets else ["-", "-"]),
                "".join("\n    FAIL: " + f for f in res.failures) +
                "".join("\n    note: " + n for n in res.notes)))
    finally:
        stats = net.down()
        if stats:
            log("link emulator: " + stats)
    print()
    print("| case | complete | incomplete | lost | recovery (s) | lag | "
          "result |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print("| %s | %d | %d | %d | %s | %s | %s |" % (
            r.case.title, r.complete, r.incomplete, r.lost,
            "-" if r.recovery is None else "%.2f" % r.recovery,
            lag_text(r.lag),
            "FAIL: " + r.failures[0] if r.failures else "ok"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(case=r.case.name, complete=r.complete,
                            incomplete=r.incomplete, lost=r.lost,
                            recovery=r.recovery, lag=r.lag,
                            unverified=r.unverified,
                            packets=r.packets, failures=r.failures,
                            notes=r.notes) for r in results], f, indent=1)
    failed = [r for r in results if r.failures]
    if failed:
        print("FAILED: " + ", ".join(r.case.name for r in failed))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "link":
        link_main(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "witness":
        witness_main(sys.argv[2])
    else:
        sys.exit(main())
