#!/usr/bin/env bash
# The Livepeer worker's added latency per frame and CPU per stream at 720p30
# (H.264 + Opus in, identity filter), a few runs. Not part of the tests.
#   bash tests/bench/worker-bench.sh [frames per run, default 300] [runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/setup.sh >/dev/null
export GST_PLUGIN_PATH="$PWD/build/plugins/trickle"
FRAMES=${1:-300}
RUNS=${2:-3}
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for r in $(seq "$RUNS"); do
  echo "== run $r"
  ./build/tests/bench/worker-bench "$FRAMES" build/tools/gst-trickle-worker
done
