#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Three trickleservers behind Debian's nginx, configured with the block of
# docs/cluster.md as written (only the addresses, and a guard for the
# smuggling victim, put in): every channel served through the proxy and
# living on exactly one server, spread over all three; tricklesink and
# tricklesrc through the proxy; the merged change feed read through the
# proxy; one server killed (the one that holds _changes): only its channels
# fail, the feed is answered by another server and says they are removed;
# the server back: its channels published and served again, a tricklesrc
# that read a live channel of that server across the loss goes on with a
# new tricklesink, the feed whole; the request-smuggling cases of
# tests/check/libs/httpserver.c (test_strict_framing) sent to nginx never
# run their hidden DELETE (nginx is told to refuse that DELETE itself, so
# only a request nginx did not see, a smuggled one, could run it: a
# pipelined DELETE after a request nginx took whole is not smuggling).
#
# Needs gst-launch-1.0 with the build's plugin (GST_PLUGIN_PATH_1_0) and
# nginx (exit 77, skipped, without it). No wall-clock bound is asserted:
# where the test must wait for something to happen it polls with a
# generous deadline (DEADLINE_S), commented at each use.
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
DEADLINE_S = 90
N_CHANNELS = 30


def log(*args):
    print(*args, flush=True)


def skip(why):
    log("SKIP:", why)
    sys.exit(77)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    def __init__(self, port, peers, workdir, name):
        self.port = port
        self.peers = peers
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None

    def start(self):
        # window=128: the change feed keeps every document of this test,
        # so readers from seq 0 never jump (the default is 5)
        args = ["gst-launch-1.0", "-q", "trickleserver",
                "host=127.0.0.1", "port=%d" % self.port, "changefeed=true",
                "window=128", "changefeed-peers=" + ",".join(
                    "http://127.0.0.1:%d/" % p for p in self.peers)]
        self.proc = subprocess.Popen(args, stdout=open(self.log_path, "ab"),
                                     stderr=subprocess.STDOUT)
        # listening: a loaded machine may take seconds to start a pipeline
        deadline = time.monotonic() + DEADLINE_S
        while True:
            assert self.proc.poll() is None, \
                "%s exited: %s" % (self.name, open(self.log_path).read())
            try:
                if request(self.port, "GET", "/_changes/next")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, "%s does not listen" % (
                self.name)
            time.sleep(0.1)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def request(port, method, path, body=None, headers=None, timeout=30):
    """one request on a connection of its own: (status, headers, body)"""
    return request_host("127.0.0.1", port, method, path, body, headers,
                        timeout)


def request_host(host, port, method, path, body=None, headers=None,
                 timeout=30):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, dict(r.getheaders()), data
    finally:
        c.close()


def nginx_config(workdir, port, backends, worker_processes=1):
    """docs/cluster.md's block, as written, inside a main configuration
    that keeps nginx's files in workdir; only the server addresses and the
    listen port are put in, and a guard: DELETE of the channel "victim"
    is refused by nginx itself, so that victim can only be deleted by a
    request nginx did not see (smuggled)"""
    doc = open(os.path.join(ROOT, "docs", "cluster.md"),
               encoding="utf-8").read()
    m = re.search(r"<!-- cluster-nginx-config[^>]*-->\n```nginx\n(.*?)```",
                  doc, re.S)
    assert m, "no configuration block in docs/cluster.md"
    block = m.group(1)
    servers = re.findall(r"^ *server 10\.0\.0\.\d+:2939 (.*);$", block,
                         re.M)
    assert len(servers) == 3, "docs/cluster.md: three server lines"
    block = re.sub(r"^( *)server 10\.0\.0\.\d+:2939 (.*);\n", "", block,
                   flags=re.M)
    lines = "".join("    server %s:%d %s;\n" % (
        getattr(b, "host", "127.0.0.1"), b.port, servers[0])
        for b in backends)
    block = block.replace("upstream trickle {\n",
                          "upstream trickle {\n" + lines, 1)
    assert "listen 80;" in block
    block = block.replace("listen 80;", "listen 127.0.0.1:%d;" % port, 1)
    assert block.count("location / {\n") == 1
    block = block.replace(
        "location / {\n",
        "location / {\n        if ($trickle_victim_delete) { return 403; }\n",
        1)
    return """daemon off;
master_process off;
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
  log_format up '$request_method $uri $status $upstream_addr';
  access_log {dir}/access.log up;
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  map "$request_method $trickle_channel" $trickle_victim_delete {{
    "DELETE victim" 1;
    default 0;
  }}
{block}
}}
""".format(dir=workdir, block=block, workers=worker_processes)


class Nginx:
    def __init__(self, workdir, backends, worker_processes=1):
        self.workdir = workdir
        self.port = free_port()
        self.conf = os.path.join(workdir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(nginx_config(workdir, self.port, backends,
                                 worker_processes))
        self.proc = subprocess.Popen(
            [NGINX, "-p", workdir, "-c", self.conf, "-e",
             os.path.join(workdir, "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # listening (a loaded machine: generous)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            assert self.proc.poll() is None, "nginx exited: " + open(
                os.path.join(workdir, "error.log")).read()
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "nginx does not listen"
                time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def owners(backends, channel):
    """the backends that hold channel (asked directly, not through nginx)"""
    return [b for b in backends if b.proc and
            request(b.port, "GET", "/%s/next" % channel)[0] == 200]


def upstream_of(workdir, path, after=0):
    """the port of the server nginx sent its last request for path to,
    from nginx's log (past its first after lines); nginx writes the line
    when the request is done, which may be after its client has the
    answer: polled"""
    deadline = time.monotonic() + DEADLINE_S    # generous: a loaded machine
    while True:
        lines = open(os.path.join(workdir, "access.log")).read().splitlines()
        for line in reversed(lines[after:]):
            method, uri, status, up = line.split(" ", 3)
            if uri == urllib.parse.unquote(path):
                m = re.match(r"127\.0\.0\.1:(\d+)$", up)
                assert m, line
                return int(m.group(1))
        assert time.monotonic() < deadline, "%s not in nginx's log" % path
        time.sleep(0.05)


def log_lines(workdir):
    return len(open(os.path.join(workdir, "access.log")).read().splitlines())


def wait_for(cond, what):
    # generous: a loaded machine; the condition is an event, not a time
    deadline = time.monotonic() + DEADLINE_S
    while not cond():
        assert time.monotonic() < deadline, "never: " + what
        time.sleep(0.05)


def read_feed(port, start=0, until=None):
    """the documents of _changes from seq start, through port, until
    until(docs) is true (each GET waits for its segment: the server holds
    a preconnected GET until the document comes)"""
    docs = []
    seq = start
    deadline = time.monotonic() + DEADLINE_S   # generous: a loaded machine
    while not until(docs):
        assert time.monotonic() < deadline, "feed: %s" % docs
        try:
            st, h, body = request(port, "GET", "/_changes/%d" % seq,
                                  timeout=5)
        except (socket.timeout, TimeoutError):
            continue    # nothing new yet: the same GET again
        assert st == 200, "feed seq %d: %d %s" % (seq, st, body)
        docs.append(json.loads(body))
        seq = int(h["Lp-Trickle-Seq"]) + 1
    return docs


def feed_state(docs):
    """the channel list the documents leave"""
    names = set()
    for d in docs:
        for n in d.get("added", []):
            names.add(n)
        for n in d.get("removed", []):
            names.discard(n)
    return names


def publish_segment(port, ch, seq, data):
    """POST ch/seq through port with a preconnected subscriber: the GET is
    sent first and waits on the server; returns (POST status, GET status,
    GET body)"""
    got = {}

    def sub():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/%s/%d" % (ch, seq))
        r = c.getresponse()
        got["status"], got["body"] = r.status, r.read()
        c.close()

    t = threading.Thread(target=sub)
    t.start()
    # the GET is waiting once the segment exists on the server (its
    # preconnect pre-creates it): poll /next... not needed, the POST below
    # may come first too: the GET of a written segment gets it whole
    st = request(port, "POST", "/%s/%d" % (ch, seq), body=data)[0]
    t.join(60)
    assert not t.is_alive(), "GET %s/%d never answered" % (ch, seq)
    return st, got.get("status"), got.get("body")


# the request-smuggling cases of tests/check/libs/httpserver.c
# (test_strict_framing, test_bad_seq's %00), each followed by a hidden
# DELETE of the victim that must never run
HIDDEN = b"DELETE /victim HTTP/1.1\r\nHost: x\r\n\r\n"
SMUGGLING = [
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n"
    b"\r\n0\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length\t: 0\r\n\r\n",
    b"GET /ch/next HTTP/1.1\r\nHost: x\r\nX Y: z\r\n\r\n",
    b"GET /ch/next HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n",
    b"GET /ch/next HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tTransfer-Encoding: "
    b"chunked\r\n\r\n",
    b"GET /ch/next HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n",
    b"POST /ch HTTP/1.1\r\nHost: x\r\nExpect-Content: video/mp2t\x1b[31m"
    b"\r\n\r\n",
    b"POST /ch HTTP/1.1\r\nHost: x\r\nExpect-Content: a\x7f\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 50\r\n\r\n0\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
    b"Content-Length: 44\r\n\r\ndata",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 44\r\n\r\ndata",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\ndata",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 0x4\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 4 4\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: "
    b"9223372036854775808\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: "
    b"18446744073709551615\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nContent-Length: "
    b"000000000000000000000004\r\n\r\ndata",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
    b"identity\r\n\r\n0\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
    b"0\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
    b"chunked\r\n\r\n0\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n"
    b"\r\n0\r\n\r\n",
    b"POST /ch/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /ch/0 HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"\r\n0\r\n\r\n",
    b"GET /ch/0%00junk HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /ch/0%00junk HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    b"GET /ch/next%00x HTTP/1.1\r\nHost: x\r\n\r\n",
    # and the head ends at the first empty line, LF LF or CRLF CRLF alike
    b"GET /ch/next HTTP/1.1\nHost: x\n\n",
]


def raw_exchange(port, data):
    """sends data on one connection, reads until the peer closes or is
    quiet; returns the first status line"""
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.settimeout(3)
    got = b""
    try:
        s.sendall(data)
        while True:
            try:
                b = s.recv(65536)
            except (socket.timeout, TimeoutError, ConnectionResetError):
                break
            if not b:
                break
            got += b
    finally:
        s.close()
    return got.split(b"\r\n", 1)[0].decode("latin-1")


def pipeline(desc, log_path):
    return subprocess.Popen(["gst-launch-1.0", "-q", "-e"] + desc.split(),
                            stdout=open(log_path, "ab"),
                            stderr=subprocess.STDOUT)


def main():
    global NGINX
    NGINX = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not NGINX:
        skip("nginx not found (tests/setup.sh installs nginx-light)")
    if not shutil.which("gst-launch-1.0"):
        skip("gst-launch-1.0 not found")
    if subprocess.run(["gst-inspect-1.0", "trickleserver"],
                      stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        skip("trickleserver not found (GST_PLUGIN_PATH_1_0)")

    workdir = tempfile.mkdtemp(prefix="trickle-cluster-")
    ports = [free_port() for _ in range(3)]
    backends = [Backend(p, [q for q in ports if q != p], workdir,
                        "server%d" % i) for i, p in enumerate(ports)]
    nginx = None
    procs = []
    ok = False
    try:
        for b in backends:
            b.start()
        nginx = Nginx(workdir, backends)
        px = nginx.port
        log("servers on", ports, "nginx on", px)

        # --- every channel through the proxy, on exactly one server ---
        channels = ["ch%02d" % i for i in range(N_CHANNELS)]
        home = {}
        for ch in channels:
            st = request(px, "POST", "/" + ch,
                         headers={"Expect-Content": "text/plain"})[0]
            assert st == 200, (ch, st)
            for seq in range(2):
                data = ("%s segment %d" % (ch, seq)).encode()
                pst, gst, body = publish_segment(px, ch, seq, data)
                assert (pst, gst, body) == (200, 200, data), \
                    (ch, seq, pst, gst, body)
            st, h, body = request(px, "GET", "/%s/next" % ch)
            assert (st, body) == (200, b"2"), (ch, st, body)
            hs = owners(backends, ch)
            assert len(hs) == 1, "%s on %s" % (ch, [b.name for b in hs])
            home[ch] = hs[0]
        spread = {b.name: [c for c in channels if home[c] is b]
                  for b in backends}
        log("channels per server:", {k: len(v) for k, v in spread.items()})
        assert all(spread.values()), "a server holds none: %s" % spread

        # the hash key is the channel, whatever the path says of it:
        # percent-encoded (nginx's $uri is decoded, as the servers decode
        # names) or under a base path (these servers have none: a 404, but
        # from the channel's server, as nginx's log says)
        for ch in channels[:6]:
            enc = "".join("%%%02X" % ord(c) for c in ch)
            st, h, body = request(px, "GET", "/%s/next" % enc)
            assert (st, body) == (200, b"2"), (enc, st, body)
            for path in ("/%s/next" % enc, "/ai/trickle/%s/next" % ch,
                         "/ai/trickle/%s/3" % ch):
                n = log_lines(workdir)
                request(px, "GET", path)
                assert upstream_of(workdir, path, n) == home[ch].port, (
                    path, home[ch].name)

        # a DELETE through the proxy reaches the channel's server
        gone = channels.pop()
        assert request(px, "DELETE", "/" + gone)[0] == 200
        assert owners(backends, gone) == []
        assert request(px, "GET", "/%s/next" % gone)[0] == 404

        # --- tricklesink and tricklesrc through the proxy, one channel on
        # each server (names picked once their home is known: three
        # candidates per server are tried until one hashes there) ---
        live = {}
        for i in range(200):
            name = "live%d" % i
            request(px, "POST", "/" + name)
            b = owners(backends, name)[0]
            request(px, "DELETE", "/" + name)
            if b.name not in live:
                live[b.name] = name
            if len(live) == 3:
                break
        assert len(live) == 3, live
        frames = 40
        subs = []
        for name in live.values():
            out = os.path.join(workdir, name + ".raw")
            # the subscriber first: it waits for the missing channel
            subs.append((name, out, pipeline(
                "tricklesrc location=http://127.0.0.1:%d/%s ! "
                "filesink location=%s" % (px, name, out),
                os.path.join(workdir, name + "-src.log"))))
        time.sleep(0.5)   # not a bound: only lets the GETs go out first
        pubs = [pipeline(
            "videotestsrc num-buffers=%d ! video/x-raw,format=GRAY8,"
            "width=16,height=16,framerate=30/1 ! tricklesink "
            "location=http://127.0.0.1:%d/%s delete-on-eos=true"
            % (frames, px, name), os.path.join(workdir, name + "-sink.log"))
            for name in live.values()]
        procs += pubs + [p for _, _, p in subs]
        for p in pubs:
            assert p.wait(DEADLINE_S) == 0, "tricklesink failed"
        for name, out, p in subs:
            # the DELETE of delete-on-eos reached the subscriber's server:
            # tricklesrc ends
            assert p.wait(DEADLINE_S) == 0, "tricklesrc %s failed" % name
            size = os.path.getsize(out)
            log("tricklesrc %s: %d bytes" % (name, size))
            assert size == frames * 256, (name, size)

        # --- the merged change feed, through the proxy ---
        feed_home = owners(backends, "_changes")   # every server has one
        assert len(feed_home) == 3
        docs = read_feed(px, 0, lambda d: set(channels) <= feed_state(d))
        state = feed_state(docs)
        assert set(channels) <= state and gone not in state, state
        assert not set(live.values()) & state, state
        # which server answers _changes through nginx: nginx's log says
        n = log_lines(workdir)
        assert request(px, "GET", "/_changes/next")[0] == 200
        lost = [b for b in backends
                if b.port == upstream_of(workdir, "/_changes/next", n)][0]
        log("_changes through nginx from", lost.name)

        # a live stream through the proxy on a channel of that server,
        # tricklesrc reading it (waiting up to 120 s for a missing channel)
        cam = live[lost.name]
        cam_out = os.path.join(workdir, "cam.raw")
        cam_src = pipeline(
            "tricklesrc location=http://127.0.0.1:%d/%s wait-timeout=120 ! "
            "filesink location=%s buffer-mode=unbuffered" % (px, cam,
                                                             cam_out),
            os.path.join(workdir, "cam-src.log"))
        cam_sink_desc = (
            "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,"
            "height=16,framerate=30/1 ! tricklesink location=http://"
            "127.0.0.1:%d/%s retries=-1 retry-delay=0.1" % (px, cam))
        cam_sink = pipeline(cam_sink_desc,
                            os.path.join(workdir, "cam-sink.log"))
        procs += [cam_src, cam_sink]
        wait_for(lambda: os.path.exists(cam_out)
                 and os.path.getsize(cam_out) > 0, "tricklesrc reads")

        # --- one server lost: the one nginx sends _changes to ---
        lost.kill()
        log("killed", lost.name, "holding", len(spread[lost.name]),
            "channels")
        for ch in channels:
            st = request(px, "GET", "/%s/next" % ch)[0]
            if home[ch] is lost:
                assert st == 502, (ch, st)
            else:
                assert st == 200, (ch, st)
                pst, gst, body = publish_segment(px, ch, 2, b"after loss")
                assert (pst, gst, body) == (200, 200, b"after loss"), (
                    ch, pst, gst, body)
        # the feed through the proxy, now from another server: the lost
        # server's channels removed
        lost_set = set(spread[lost.name])
        rest = set(channels) - lost_set
        docs = read_feed(px, 0, lambda d: feed_state(d) & set(channels)
                         == rest)

        # --- back: its channels published again and served ---
        # the live publisher's POSTs were answered 502 by nginx meanwhile:
        # tricklesink (retries=-1) lost those segments and goes on; its
        # subscriber waits
        assert cam_sink.poll() is None, "tricklesink gave up during the loss"
        assert cam_src.poll() is None, "tricklesrc gave up during the loss"
        size = os.path.getsize(cam_out)
        lost.start()
        # the same publisher on the restarted server: the waiting
        # tricklesrc goes on with it
        wait_for(lambda: os.path.getsize(cam_out) > size + 10 * 256,
                 "tricklesrc reads the channel again")
        assert cam_src.poll() is None
        for ch in spread[lost.name]:
            if ch == gone:
                continue
            # gone with the server: made again
            assert request(px, "GET", "/%s/next" % ch)[0] == 404
            assert request(px, "POST", "/" + ch)[0] == 200
            pst, gst, body = publish_segment(px, ch, 0, b"back")
            assert (pst, gst, body) == (200, 200, b"back"), (ch, pst, gst,
                                                              body)
        # the feed through the proxy (its server again: a new feed) tells
        # of every channel: its own, its peers' from their snapshots
        docs = read_feed(px, 0, lambda d: set(channels) <= feed_state(d))

        # --- request smuggling through nginx ---
        assert request(px, "POST", "/victim")[0] == 200
        assert request(px, "POST", "/ch")[0] == 200
        vhome = owners(backends, "victim")
        assert len(vhome) == 1
        # the guard works: nginx itself refuses the DELETE of the victim
        assert request(px, "DELETE", "/victim")[0] == 403
        statuses = []
        for i, case in enumerate(SMUGGLING):
            first = raw_exchange(px, case + HIDDEN)
            statuses.append(first)
            log("  case %2d: %s" % (i, first))
            assert owners([vhome[0]], "victim"), \
                "case %d (%r, answered %s) ran the hidden DELETE" % (
                    i, case, first)
        log("smuggling cases through nginx:", len(SMUGGLING),
            "first answers:", sorted(set(statuses)))
        # the backend itself, directly, without nginx: the same cases, and
        # it would run an unguarded DELETE (the check above can fail)
        assert request(vhome[0].port, "DELETE", "/victim")[0] == 200
        assert not owners([vhome[0]], "victim")
        ok = True
        log("OK")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if nginx:
            nginx.stop()
        for b in backends:
            b.kill()
        if not ok:
            for f in sorted(os.listdir(workdir)):
                if f.endswith(".log"):
                    log("----", f)
                    log(open(os.path.join(workdir, f), errors="replace")
                        .read()[-3000:])
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
