#!/usr/bin/env bash
# Live publish latency of tricklesink, sync=true (the default) against
# sync=false: a live source must not be held back by the sync default.
# Not part of the tests (timings are not assertions).
#   bash tests/bench/publish-latency.sh [frames per run, 150] [runs, 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/setup.sh >/dev/null
export GST_PLUGIN_PATH="$PWD/build/plugins/trickle"
echo "# gst-trickle $(git rev-parse --short HEAD), $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
./build/tests/bench/publish-latency "${1:-150}" "${2:-5}"
