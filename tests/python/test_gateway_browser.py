#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# gst-trickle-gateway with Chromium on both sides: a headless Chromium
# publishes its fake camera and microphone over WHIP (tests/browser/whip.html),
# the channel is checked to carry decodable H.264 and Opus, a second Chromium
# plays the stream over WHEP (tests/browser/whep.html) and decodes 320x240
# frames and audible audio, then the publisher's DELETE ends both sessions.
# Then the same through gst-trickle-worker: the browser publishes into
# channel "in", the worker (a Livepeer ai-runner as the orchestrator starts
# it) mirrors the video into channel "out", the second browser watches "out"
# and sees the picture mirrored; the publisher's DELETE ends it all.
# The pages report their getStats() to a small HTTP server of the test's,
# which also serves them (the pages' origin; the gateway is reached by CORS).
# Only the standard library: Chromium is driven by its command line alone.
import ctypes
import http.server
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

CHROMIUM = "/usr/bin/chromium"
WAIT_S = 90  # a bound for failures on a loaded machine, not a timing
STREAM = "browser"
HERE = pathlib.Path(__file__).resolve().parent
PAGES = HERE.parent / "browser"
BUILD = HERE.parent.parent / "build"  # meson's environment overrides it
GATEWAY = os.environ.get("GST_TRICKLE_GATEWAY",
                         str(BUILD / "tools" / "gst-trickle-gateway"))
WORKER = os.environ.get("GST_TRICKLE_WORKER",
                        str(BUILD / "tools" / "gst-trickle-worker"))
FLIP = "videoconvert ! videoflip video-direction=horiz"


_print_lock = threading.Lock()


def log(text):
    """one line on stdout, whole: the reader threads print too"""
    with _print_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def child_env():
    """the environment of the gateway and gst-launch-1.0: the built plugin
    and library, unless meson (or the caller) set them already"""
    env = dict(os.environ)
    if not env.get("GST_PLUGIN_PATH") and not env.get("GST_PLUGIN_PATH_1_0"):
        env["GST_PLUGIN_PATH"] = str(BUILD / "plugins")
    env.setdefault("LD_LIBRARY_PATH", str(BUILD / "gst" / "trickle"))
    return env


class Reports:
    """what the pages POSTed (the latest per page) and the commands the
    test leaves for them; a condition wakes whoever waits on a report"""

    def __init__(self):
        self.cond = threading.Condition()
        self.latest = {}
        self.counts = {}  # reports received per page
        self.commands = {}
        self.programs = []  # a page waited for needs them running

    def put(self, report):
        page = report.get("page", "?")
        with self.cond:
            old = self.latest.get(page, {})
            self.latest[page] = report
            self.counts[page] = self.counts.get(page, 0) + 1
            self.cond.notify_all()
        # printed when something other than a counter changes: the CI log
        # shows the steps without a line a second
        keys = ("status", "location", "connectionState", "codec",
                "deleteStatus", "errors")
        if any(old.get(k) != report.get(k) for k in keys):
            log("page %s: %s" % (page, json.dumps(report)))

    def get(self, page):
        with self.cond:
            return dict(self.latest.get(page, {}))

    def wait(self, page, predicate, what, after=0):
        """the page's latest report once predicate(report) holds and more
        than `after` reports came; fails on an error the page reported or
        after WAIT_S"""
        deadline = time.monotonic() + WAIT_S
        with self.cond:
            while True:
                r = self.latest.get(page, {})
                if r.get("errors"):
                    raise AssertionError("%s page: %s" % (page, r["errors"]))
                if self.counts.get(page, 0) > after and predicate(r):
                    return dict(r)
                for prog in self.programs:
                    if prog.proc.poll() is not None:
                        raise AssertionError(
                            "%s page, %s: the %s exited (rc %s); last "
                            "report %s" % (page, what, prog.name,
                                           prog.proc.poll(), json.dumps(r)))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s page, %s: never; last report %s"
                                         % (page, what, json.dumps(r)))
                self.cond.wait(min(left, 1.0))


def report_server(reports):
    """127.0.0.1, any port: GET /whip.html and /whep.html, POST /report,
    GET /command?page=P (the command left for P, or nothing)"""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, code, body, ctype="text/plain"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path in ("/whip.html", "/whep.html"):
                self._answer(200, (PAGES / url.path[1:]).read_bytes(),
                             "text/html; charset=utf-8")
            elif url.path == "/command":
                page = urllib.parse.parse_qs(url.query).get("page", [""])[0]
                with reports.cond:
                    command = reports.commands.get(page, "")
                self._answer(200, command.encode())
            elif url.path == "/favicon.ico":
                self._answer(204, b"")
            else:
                self._answer(404, b"not found")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if urllib.parse.urlsplit(self.path).path != "/report":
                return self._answer(404, b"not found")
            try:
                reports.put(json.loads(body))
            except ValueError:
                return self._answer(400, b"not JSON")
            self._answer(204, b"")

        def log_message(self, *args):
            pass  # a request a second from each page: not for the log

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Program:
    """a program of the build, its stdout read in a thread"""

    name = "?"

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env,
                                     text=True, bufsize=1)
        self.cond = threading.Condition()
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            log(line.rstrip("\n"))
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # the end of its stdout
            self.cond.notify_all()

    def wait_line(self, pattern):
        """the first stdout line matching pattern (re.search)"""
        deadline = time.monotonic() + WAIT_S
        with self.cond:
            while True:
                for line in self.lines:
                    m = line and re.search(pattern, line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if None in self.lines or left <= 0:
                    raise AssertionError("%s: no line %r (rc %s)"
                                         % (self.name, pattern,
                                            self.proc.poll()))
                self.cond.wait(min(left, 1.0))

    def stop(self):
        """SIGINT, then the exit code (killed, and None, past WAIT_S)"""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.reader.join(WAIT_S)  # its last lines printed
        self.proc.stdout.close()
        return rc


def fetch(method, url, body=None):
    """(status, the answer's JSON or text): error statuses included"""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=WAIT_S) as r:
            status, text = r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class Gateway(Program):
    """gst-trickle-gateway --port 0 --serve-trickle 0: the two ports, then
    its session lines"""

    name = "gateway"

    def __init__(self):
        super().__init__([GATEWAY, "--port", "0", "--serve-trickle", "0"],
                         child_env())
        try:
            self.channels_port = int(self.wait_line(
                r"channels on port (\d+)").group(1))
            self.port = int(self.wait_line(
                r"listening on port (\d+)").group(1))
        except AssertionError:
            self.stop()  # no process nor pipe left behind
            raise

    def sessions(self):
        url = "http://127.0.0.1:%d/sessions" % self.port
        with urllib.request.urlopen(url, timeout=WAIT_S) as r:
            return json.loads(r.read())

    def channel(self, name):
        """the channel's URL on the gateway's trickle server"""
        return "http://127.0.0.1:%d/%s" % (self.channels_port, name)


class Worker(Program):
    """gst-trickle-worker --port 0 with the mirroring filter; its stream's
    start, stop and failure in its log (stderr: trickleworker at INFO)"""

    name = "worker"

    def __init__(self):
        env = child_env()
        if not env.get("GST_DEBUG"):
            env["GST_DEBUG"] = "trickleworker:4"
            env["GST_DEBUG_NO_COLOR"] = "1"
        super().__init__([WORKER, "--port", "0", "--host", "127.0.0.1",
                          "--filter", FLIP], env)
        try:
            self.port = int(self.wait_line(
                r"listening on port (\d+)").group(1))
        except AssertionError:
            self.stop()
            raise
        self.url = "http://127.0.0.1:%d" % self.port

    def health(self):
        status, answer = fetch("GET", self.url + "/health")
        if status != 200 or not isinstance(answer, dict):
            raise AssertionError("worker /health: %s %r" % (status, answer))
        return answer.get("status")

    def wait_health(self, want):
        """/health polled until it answers `want`; fails if the worker
        exits or after WAIT_S"""
        deadline = time.monotonic() + WAIT_S
        while True:
            health = self.health()
            if health == want:
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("worker /health: %s, never %s (rc %s)"
                                     % (health, want, self.proc.poll()))
            time.sleep(0.25)


def asymmetry(columns):
    """where a picture's bright marks are, from a page's `columns` (the mean
    luma of 16 columns of a band): (right - left) / both of the brightness
    above the darkest column, from -1 (all left) to 1 (all right)"""
    excess = [c - min(columns) for c in columns]
    half = len(excess) // 2
    total = sum(excess)
    return (sum(excess[half:]) - sum(excess[:half])) / total if total else 0.0


def distance(a, b):
    return sum(abs(x - y) for x, y in zip(a, b))


def become_subreaper():
    """orphaned descendants become this process's children (Linux's
    PR_SET_CHILD_SUBREAPER), so it can reap Chromium's whole tree"""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass  # the zombies are init's then


class Chromium:
    """a headless Chromium on one URL, in its own profile and process group
    (its renderer, GPU and utility processes end with it)"""

    def __init__(self, url, tmp, name):
        become_subreaper()
        self.profile = tempfile.mkdtemp(prefix=name + "-", dir=tmp)
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([
            CHROMIUM, "--headless=new",
            "--no-sandbox",  # the tests run as root
            "--use-fake-device-for-media-stream",  # a test pattern, a beep
            "--use-fake-ui-for-media-stream",  # getUserMedia allowed
            "--autoplay-policy=no-user-gesture-required",
            "--disable-gpu",
            # real addresses in the candidates, not mDNS names the gateway
            # cannot resolve; loopback too, on a machine with nothing else
            "--disable-features=WebRtcHideLocalIpsWithMdns",
            "--allow-loopback-in-peer-connection",
            # a loaded machine must not slow the pages' timers down
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--no-first-run", "--no-default-browser-check",
            "--user-data-dir=" + self.profile,
            "--enable-logging=stderr", "--v=0",
            url], stdout=self.log, stderr=subprocess.STDOUT,
            # its shared memory directories (/tmp/org.chromium.*, left
            # behind) in the test's temporary directory
            env=dict(os.environ, TMPDIR=tmp),
            start_new_session=True)

    def console(self):
        """the page's console lines in Chromium's log"""
        with open(self.log_path, errors="replace") as f:
            return [line.rstrip() for line in f if ":CONSOLE" in line]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # the zygote and the renderers outlive the browser process: killed,
        # and reaped here (the test is their subreaper) rather than left as
        # zombies to an init that may never reap them (a container's)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break  # none left, zombies included
            try:
                while os.waitpid(-self.proc.pid, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass  # not reparented yet
            time.sleep(0.05)
        self.log.close()


@unittest.skipUnless(os.path.exists(CHROMIUM),
                     CHROMIUM + " is missing: no browser to test with")
class GatewayBrowserTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gateway-browser-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.reports = Reports()
        self.server = report_server(self.reports)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.gateway = Gateway()
        self.reports.programs.append(self.gateway)
        # if the test does not get there; the exit code in the log
        self.addCleanup(lambda: log("gateway rc %s" % self.gateway.stop()))
        self.browsers = []

    def tearDown(self):
        for b in self.browsers:
            b.stop()
            for line in b.console():
                log("%s console: %s" % (os.path.basename(b.log_path), line))

    def browse(self, page, stream=STREAM):
        query = urllib.parse.urlencode({
            "gateway": "http://127.0.0.1:%d" % self.gateway.port,
            "stream": stream, "report": "/report"})
        b = Chromium("http://127.0.0.1:%d/%s.html?%s"
                     % (self.server.server_address[1], page, query),
                     self.tmp, page)
        self.browsers.append(b)
        return b

    def check_channel(self):
        """the channel decodes: 30 H.264 frames of 320x240 and 50 Opus
        frames (each fakesink ends at its count; both ended: exit 0)"""
        cmd = ["gst-launch-1.0", "-v",
               "tricklesrc", "location=http://127.0.0.1:%d/%s"
               % (self.gateway.channels_port, STREAM),
               "!", "tsdemux", "name=d",
               "d.", "!", "queue", "!", "h264parse", "!", "avdec_h264", "!",
               "fakesink", "name=vsink", "sync=false", "num-buffers=30",
               "d.", "!", "queue", "!", "opusparse", "!", "opusdec", "!",
               "fakesink", "name=asink", "sync=false", "num-buffers=50"]
        p = subprocess.run(cmd, env=child_env(), capture_output=True,
                           text=True, timeout=WAIT_S)
        self.assertEqual(p.returncode, 0, "%s%s(gateway: %s)" % (
            p.stdout, p.stderr, "running" if self.gateway.proc.poll() is None
            else "exited, rc %s" % self.gateway.proc.poll()))
        # -v prints the caps each sink got: decoded video and audio
        vcaps = re.search(r"vsink\.GstPad:sink: caps = (video/x-raw.*)",
                          p.stdout)
        acaps = re.search(r"asink\.GstPad:sink: caps = (audio/x-raw.*)",
                          p.stdout)
        self.assertIsNotNone(vcaps, p.stdout)
        self.assertIsNotNone(acaps, p.stdout)
        log("channel video: " + vcaps.group(1))
        log("channel audio: " + acaps.group(1))
        self.assertIn("width=(int)320", vcaps.group(1))
        self.assertIn("height=(int)240", vcaps.group(1))
        self.assertIn("Got EOS from element", p.stdout)

    def test_whip_whep_chromium(self):
        gw, reports = self.gateway, self.reports

        # the publisher: connected, sending H.264 frames and audio
        self.browse("whip")
        whip = reports.wait(
            "whip", lambda r: r.get("connectionState") == "connected"
            and r.get("framesSent", 0) > 0
            and r.get("audioPacketsSent", 0) > 0, "connected, sending")
        self.assertEqual(whip["status"], 201)
        self.assertRegex(whip["location"], r"^/whip/%s/[^/]+$" % STREAM)
        self.assertEqual(whip["codec"].lower(), "video/h264")
        whip_id = gw.wait_line(r"whip session (\S+) of stream %s started"
                               % STREAM).group(1)
        self.assertTrue(whip["location"].endswith("/" + whip_id))
        log("whip stats: " + json.dumps(reports.get("whip")))

        # what the gateway writes into the channel decodes
        self.check_channel()

        # the viewer: 320x240 frames decoded, the beep heard (whep.html
        # plays the audio in an element that is not muted: Chromium measures
        # totalAudioEnergy after the element's volume, 0 when muted)
        self.browse("whep")
        whep = reports.wait(
            "whep", lambda r: r.get("framesDecoded", 0) > 30
            and r.get("frameWidth") == 320 and r.get("frameHeight") == 240
            and r.get("totalAudioEnergy", 0) > 0, "frames and audio")
        self.assertEqual(whep["status"], 201)
        self.assertEqual(whep["connectionState"], "connected")
        self.assertEqual(whep["codec"].lower(), "video/h264")
        whep_id = gw.wait_line(r"whep session (\S+) of stream %s started"
                               % STREAM).group(1)
        log("whep stats: " + json.dumps(whep))
        sessions = gw.sessions()
        log("sessions: " + json.dumps(sessions))
        self.assertEqual(sorted((s["kind"], s["id"]) for s in sessions),
                         sorted([("whip", whip_id), ("whep", whep_id)]))

        # the publisher's DELETE ends its session and so the viewer's
        with reports.cond:
            reports.commands["whip"] = "delete"
        whip = reports.wait("whip", lambda r: r.get("deleteStatus")
                            is not None, "DELETE")
        self.assertEqual(whip["deleteStatus"], 200)
        gw.wait_line(r"whip session %s of stream %s ended"
                     % (re.escape(whip_id), STREAM))
        gw.wait_line(r"whep session %s of stream %s ended: the channel ended"
                     % (re.escape(whep_id), STREAM))
        # the viewer's view once its session ended (nothing to assert: WHEP
        # has no way to tell the browser, its media just stop)
        with reports.cond:
            seen = reports.counts["whep"]
        log("whip final: " + json.dumps(reports.get("whip")))
        log("whep final: " + json.dumps(reports.wait(
            "whep", lambda r: True, "a report after the end", after=seen)))
        self.assertEqual(gw.sessions(), [])

        for b in self.browsers:
            b.stop()
        self.browsers = []  # stopped: tearDown has nothing left to stop
        self.assertEqual(gw.stop(), 0)

    def test_whip_worker_whep_chromium(self):
        """the browser publishes into channel "in", gst-trickle-worker mirrors
        it into "out", the second browser watches "out" mirrored"""
        gw, reports = self.gateway, self.reports
        worker = Worker()
        reports.programs.append(worker)
        self.addCleanup(lambda: log("worker rc %s" % worker.stop()))
        self.assertEqual(worker.health(), "IDLE")

        # the publisher, into channel "in"
        self.browse("whip", "in")
        whip = reports.wait(
            "whip", lambda r: r.get("connectionState") == "connected"
            and r.get("framesSent", 0) > 0
            and r.get("audioPacketsSent", 0) > 0
            and r.get("columns"), "connected, sending")
        self.assertEqual(whip["status"], 201)
        self.assertEqual(whip["codec"].lower(), "video/h264")
        whip_id = gw.wait_line(r"whip session (\S+) of stream in started"
                               ).group(1)
        # the camera's picture, left to right: it must be lopsided, or a
        # mirror would not show (Chromium's fake camera: its clock is right
        # of the centre)
        source = whip["columns"]
        log("whip stats: " + json.dumps(whip))
        log("source columns %s, asymmetry %.2f" % (source, asymmetry(source)))
        self.assertGreater(abs(asymmetry(source)), 0.15, source)

        # channel "out" is the worker's: none before its start
        status, answer = fetch("GET", gw.channel("out") + "/next")
        self.assertEqual(status, 404, answer)

        # the orchestrator's start, as go-livepeer sends it to ai-runner
        start = {"subscribe_url": gw.channel("in"),
                 "publish_url": gw.channel("out"),
                 "control_url": "", "events_url": "",
                 "gateway_request_id": "browser", "params": {}}
        status, answer = fetch("POST", worker.url + "/live-video-to-video",
                              start)
        log("worker start: %s %s" % (status, json.dumps(answer)))
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["subscribe_url"], start["subscribe_url"])
        self.assertEqual(answer["publish_url"], start["publish_url"])
        self.assertEqual(worker.health(), "OK")

        # the worker's output makes channel "out"
        deadline = time.monotonic() + WAIT_S
        while fetch("GET", gw.channel("out") + "/next")[0] != 200:
            self.assertEqual(worker.health(), "OK")
            self.assertLess(time.monotonic(), deadline, "no channel out")
            time.sleep(0.25)

        # the viewer of "out": 320x240 frames, the beep heard
        self.browse("whep", "out")
        whep = reports.wait(
            "whep", lambda r: r.get("framesDecoded", 0) > 30
            and r.get("frameWidth") == 320 and r.get("frameHeight") == 240
            and r.get("totalAudioEnergy", 0) > 0
            and r.get("columns"), "frames and audio")
        self.assertEqual(whep["status"], 201)
        self.assertEqual(whep["connectionState"], "connected")
        self.assertEqual(whep["codec"].lower(), "video/h264")
        whep_id = gw.wait_line(r"whep session (\S+) of stream out started"
                               ).group(1)
        log("whep stats: " + json.dumps(whep))
        self.assertEqual(worker.health(), "OK")
        sessions = gw.sessions()
        log("sessions: " + json.dumps(sessions))
        self.assertEqual(sorted((s["kind"], s["id"]) for s in sessions),
                         sorted([("whip", whip_id), ("whep", whep_id)]))

        # the picture the viewer plays is the camera's mirrored: its
        # marks on the other side, its columns closer to the source's
        # reversed than to the source's (three frames, a second apart)
        for i in range(3):
            if i:
                with reports.cond:
                    seen = reports.counts["whep"]
                whep = reports.wait("whep", lambda r: r.get("columns"),
                                    "another frame", after=seen)
            seen_columns = whep["columns"]
            log("viewer columns %s, asymmetry %.2f; distance to the source "
                "%d, to the source mirrored %d" % (
                    seen_columns, asymmetry(seen_columns),
                    distance(seen_columns, source),
                    distance(seen_columns, source[::-1])))
            self.assertGreater(abs(asymmetry(seen_columns)), 0.15,
                               seen_columns)
            self.assertLess(asymmetry(seen_columns) * asymmetry(source), 0,
                            "not mirrored: %s, source %s"
                            % (seen_columns, source))
            self.assertLess(distance(seen_columns, source[::-1]),
                            distance(seen_columns, source), seen_columns)

        # the publisher's DELETE ends channel "in": the worker's stream ends
        # and so channel "out" and the viewer's session
        with reports.cond:
            reports.commands["whip"] = "delete"
        whip = reports.wait("whip", lambda r: r.get("deleteStatus")
                            is not None, "DELETE")
        self.assertEqual(whip["deleteStatus"], 200)
        gw.wait_line(r"whip session %s of stream in ended"
                     % re.escape(whip_id))
        gw.wait_line(r"whep session %s of stream out ended: the channel ended"
                     % re.escape(whep_id))
        worker.wait_health("IDLE")
        log("whip final: " + json.dumps(reports.get("whip")))
        self.assertEqual(gw.sessions(), [])

        for b in self.browsers:
            b.stop()
        self.browsers = []
        self.assertEqual(worker.stop(), 0)
        self.assertEqual(gw.stop(), 0)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
