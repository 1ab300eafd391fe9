#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Throughput of 1, 2, 3 trickleservers behind nginx (docs/cluster.md's
# configuration), each server in a network namespace of its own (a veth on
# a bridge, 10.77.0.1N) and held to a fixed CPU share (a cgroup's CPU
# quota), so that the servers, not the machine, are the limit. nginx and
# the load (yardstick's `channels`: K channels, each one publisher pacing
# F segments/s and one subscriber, through nginx) run outside the
# namespaces, unconstrained. Not a test: it prints the table.
#
#   sudo python3 tests/bench/cluster-bench.py      # as root: netns, cgroups
#
# Environment: RUNS [3], SERVERS [1,2,3], QUOTA [0.15] (CPUs per server),
# CHANNELS [24], FPS [30], SEG_BYTES [16384], SECONDS [10],
# YARDSTICK [/tmp/yardstick-bin/yardstick, built from ../shared/yardstick
# when missing, with Debian's golang-go].
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))
import test_cluster  # noqa: E402  (nginx_config: docs/cluster.md's block)

RUNS = int(os.environ.get("RUNS", "3"))
SERVERS = [int(n) for n in os.environ.get("SERVERS", "1,2,3").split(",")]
QUOTA = float(os.environ.get("QUOTA", "0.15"))
CHANNELS = int(os.environ.get("CHANNELS", "24"))
FPS = float(os.environ.get("FPS", "30"))
SEG_BYTES = int(os.environ.get("SEG_BYTES", "16384"))
SECONDS = float(os.environ.get("SECONDS", "10"))
YARDSTICK = os.environ.get("YARDSTICK", "/tmp/yardstick-bin/yardstick")
CGROUP = "/sys/fs/cgroup/cpu"          # cgroup v1 here (v2: cpu.max)
BRIDGE = "trcbr0"
PORT = 2939


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def addr(i):
    return "10.77.0.%d" % (11 + i)


class Net:
    """a bridge in this namespace (10.77.0.1) and one namespace per server
    with a veth on it"""

    def __init__(self, n):
        self.n = n
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", "10.77.0.1/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for i in range(n):
            ns = "trc-s%d" % i
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", "trc-v%d" % i, "type", "veth", "peer",
               "name", "eth0", "netns", ns)
            sh("ip", "link", "set", "trc-v%d" % i, "master", BRIDGE, "up")
            sh("ip", "-n", ns, "addr", "add", addr(i) + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            cg = os.path.join(CGROUP, ns)
            os.makedirs(cg, exist_ok=True)
            with open(os.path.join(cg, "cpu.cfs_period_us"), "w") as f:
                f.write("100000")
            with open(os.path.join(cg, "cpu.cfs_quota_us"), "w") as f:
                f.write(str(int(QUOTA * 100000)))

    def close(self):
        for i in range(self.n):
            sh("ip", "netns", "del", "trc-s%d" % i, check=False)
            cg = os.path.join(CGROUP, "trc-s%d" % i)
            for _ in range(50):
                try:
                    os.rmdir(cg)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)     # its processes are still leaving
        sh("ip", "link", "del", BRIDGE, check=False)


def start_server(i, n, logdir):
    ns = "trc-s%d" % i
    peers = ",".join("http://%s:%d/" % (addr(j), PORT)
                     for j in range(n) if j != i)
    # into the cgroup first (ip netns exec mounts a /sys of its own, where
    # the cgroups are not), then into the namespace: both are inherited
    cmd = ("echo $$ > %s/%s/cgroup.procs && exec ip netns exec %s "
           "gst-launch-1.0 -q trickleserver host=0.0.0.0 port=%d "
           "changefeed=true%s" % (CGROUP, ns, ns, PORT,
                                  " changefeed-peers=" + peers if peers
                                  else ""))
    return subprocess.Popen(["sh", "-c", cmd],
                            stdout=open(os.path.join(logdir, ns + ".log"),
                                        "w"), stderr=subprocess.STDOUT)


def wait_listening(host, port):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if test_cluster.request_host(host, port, "GET",
                                         "/_changes/next")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s:%d does not listen" % (host, port))


class Host:
    def __init__(self, i):
        self.port = PORT
        self.host = addr(i)


def run_once(n, workdir):
    net = Net(n)
    servers, nginx = [], None
    try:
        for i in range(n):
            servers.append(start_server(i, n, workdir))
        for i in range(n):
            wait_listening(addr(i), PORT)
        nginx = test_cluster.Nginx(workdir, [Host(i) for i in range(n)],
                                   worker_processes=1)
        out = subprocess.run(
            [YARDSTICK, "channels", "-url", "http://127.0.0.1:%d" % nginx.port,
             "-channels", str(CHANNELS), "-fps", str(FPS), "-seg-bytes",
             str(SEG_BYTES), "-seconds", str(SECONDS),
             "-timeout", "%ds" % (SECONDS + 60), "-keep"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = out.stdout.strip().splitlines()[-1]
        r = json.loads(line)
        # how nginx's hash spread the channels (kept: -keep), asked of
        # each server directly
        r["per_server"] = [
            sum(1 for c in range(CHANNELS)
                if test_cluster.request_host(
                    addr(i), PORT, "GET", "/%s-%d/next" % (
                        r["channel_prefix"], c))[0] == 200)
            for i in range(n)]
        return r, out.stderr
    finally:
        if nginx:
            nginx.stop()
        for p in servers:
            p.send_signal(signal.SIGINT)
        for p in servers:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        net.close()


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (network namespaces, cgroups)")
    if not os.path.exists(YARDSTICK):
        src = os.path.join(ROOT, "..", "shared", "yardstick")
        if not shutil.which("go"):
            subprocess.run(["apt-get", "install", "-y", "-qq", "golang-go"],
                           check=True)
        os.makedirs(os.path.dirname(YARDSTICK), exist_ok=True)
        subprocess.run(["go", "build", "-o", YARDSTICK, "."], cwd=src,
                       check=True)
    test_cluster.NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
    os.environ.setdefault("GST_PLUGIN_PATH_1_0",
                          os.path.join(ROOT, "build", "plugins", "trickle"))
    print("# %s, %d CPUs, %d runs; each server %.2f CPU (cgroup quota); "
          "yardstick channels -channels %d -fps %g -seg-bytes %d "
          "-seconds %g through nginx" % (
              time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              os.cpu_count(), RUNS, QUOTA, CHANNELS, FPS, SEG_BYTES,
              SECONDS), flush=True)
    results = {n: [] for n in SERVERS}
    for run in range(RUNS):
        for n in SERVERS:
            workdir = tempfile.mkdtemp(prefix="trickle-cluster-bench-")
            try:
                r, err = run_once(n, workdir)
            except Exception:
                for f in sorted(os.listdir(workdir)):
                    if f.endswith(".log"):
                        print("----", f, file=sys.stderr)
                        print(open(os.path.join(workdir, f)).read()[-2000:],
                              file=sys.stderr)
                raise
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            results[n].append(r)
            print("run %d, %d server(s): %s" % (run + 1, n, json.dumps(r)),
                  file=sys.stderr, flush=True)
    print()
    print("| servers | CPU for servers | delivered MB/s | delivered / "
          "expected segments | first-byte p50 ms | p99 ms | channels per "
          "server (each run) |")
    print("|---|---|---|---|---|---|---|")
    for n in SERVERS:
        rs = results[n]

        def med(f):
            return statistics.median(f(r) for r in rs)
        print("| %d | %.2f | %.1f | %.3f | %.1f | %.1f | %s |" % (
            n, n * QUOTA, med(metric_mbps), med(metric_ratio), med(metric_p50),
            med(metric_p99), ", ".join(
                "/".join(str(k) for k in r["per_server"]) for r in rs)))


def metric_mbps(r):
    return r["delivered_segments"] * r["params"]["seg_bytes"] / \
        r["params"]["seconds"] / 1e6


def metric_ratio(r):
    return r["delivered_ratio"]


def metric_p50(r):
    return r["first_byte_latency"]["p50_us"] / 1000


def metric_p99(r):
    return r["first_byte_latency"]["p99_us"] / 1000


if __name__ == "__main__":
    main()
