#!/usr/bin/env bash
# End-to-end latency of the worker chain (publisher -> video-in -> filter ->
# video-out -> subscriber) at 720p30 with 1-frame segments, raw and H.264,
# against the same elements linked directly. Not part of the tests.
#   bash tests/bench/latency.sh [frames per run, default 300] [runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/setup.sh >/dev/null
export GST_PLUGIN_PATH="$PWD/build/plugins/trickle"
FRAMES=${1:-300}
RUNS=${2:-3}
nproc_=$(nproc)
echo "machine: $nproc_ CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for r in $(seq "$RUNS"); do
  echo "== run $r"
  ./build/tests/bench/trickle-latency "$FRAMES"
done
