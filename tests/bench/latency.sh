#!/usr/bin/env bash
# End-to-end latency of the worker chain (publisher -> video-in -> filter ->
# video-out -> subscriber), 1 frame per segment, raw and H.264, against the
# same elements linked directly; prints each run, then the table of medians.
# Not part of the tests.
#   bash tests/bench/latency.sh [frames per run, default 300] [runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/setup.sh >/dev/null
export GST_PLUGIN_PATH="$PWD/build/plugins/trickle"
FRAMES=${1:-300}
RUNS=${2:-3}
out=$(mktemp)
floor=$(mktemp)
trap 'rm -f "$out" "$floor"' EXIT
machine="$(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "machine: $machine"
for r in $(seq "$RUNS"); do
  echo "== run $r"
  ./build/tests/bench/trickle-latency "$FRAMES" 2>/dev/null | tee -a "$out" | grep -v '^ROW|'
done
for r in $(seq "$RUNS"); do
  echo "== floor, run $r"
  ./build/tests/bench/trickle-floor "$FRAMES" 2>/dev/null | tee -a "$floor" | grep -v '^ROW|'
done
/usr/bin/python3 - "$out" "$FRAMES" "$RUNS" "$machine" "$floor" <<'PY'
import statistics, sys
rows, order = {}, []
for line in open(sys.argv[1]):
    if not line.startswith("ROW|"):
        continue
    _, chain, hop, p50, p95, p99 = line.rstrip("\n").split("|")
    key = (chain, hop)
    if key not in rows:
        rows[key] = []
        order.append(key)
    rows[key].append((float(p50), float(p95), float(p99)))
print(f"""
## Table: medians of {sys.argv[3]} runs (ms)

Method: tests/bench/latency.c, one process, one monotonic clock, loopback;
{sys.argv[2]} frames per run at 30 fps from a live videotestsrc, the first 30
skipped, 1 frame per segment (raw: buffers-per-segment=1; H.264: x264enc
tune=zerolatency speed-preset=ultrafast key-int-max=1, every frame a
keyframe, in MPEG-TS). Pad probes: A the publisher's input (raw: the
tricklesink; H.264: the encoder's output), B what the hosted pipeline gets
(raw: srv.src_video-in; H.264: its tsdemux output), C what it gives
(raw: srv.sink_video-out; H.264: its encoder output), D the subscriber's
appsink (H.264: after tsdemux, h264parse told alignment=au, avdec_h264).
Baseline: the same elements with the trickle hops replaced by direct links
(H.264: mpegtsmux ! tsdemux in their place). Each cell: the median over
the runs of that run's percentile. Machine: {sys.argv[4]}.
""")
print("| chain | hop | p50 | p95 | p99 | runs |")
print("|---|---|---|---|---|---|")
last = None
for key in order:
    chain, hop = key
    v = rows[key]
    med = [statistics.median(x[i] for x in v) for i in range(3)]
    print(f"| {chain if chain != last else ''} | {hop} | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.2f} | {len(v)} |")
    last = chain

floor = {}
for line in open(sys.argv[5]):
    if line.startswith("ROW|"):
        _, name, p50, p90, p99 = line.rstrip("\n").split("|")
        floor.setdefault(name, []).append((float(p50), float(p90), float(p99)))
print(f"""
## The floor under the raw chain's transport share: medians of {sys.argv[3]} runs (ms)

Method: tests/bench/floor.c, 1382400-byte frames at 30 fps over loopback,
first byte sent to last byte received: tcp = one TCP connection between
two threads (one hop, nothing above the kernel); server = the trickle
server between a minimal POSTing client (one sendmsg per segment) and a
minimal GETting one (two hops); library = GstTricklePublisher -> server ->
GstTrickleSubscriber (two hops). The raw chain's two hops each carry a
frame over TCP once, so its transport share cannot fall below 2 x tcp.
""")
print("| path | p50 | p90 | p99 | runs |")
print("|---|---|---|---|---|")
for name, v in floor.items():
    med = [statistics.median(x[i] for x in v) for i in range(3)]
    print(f"| {name} | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.2f} | {len(v)} |")
PY
