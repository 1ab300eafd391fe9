#!/usr/bin/env bash
# The gateway's added latency per frame, WHIP -> trickle -> WHEP, with and
# without a passthrough Livepeer worker in the middle, against encode +
# decode alone, and its CPU per session (tests/bench/gateway-bench.py).
# Not part of the tests. Build first (bash tests/setup.sh).
#   bash tests/bench/gateway-bench.sh [frames per run, default 300] [runs, default 3] [--help for more]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
for f in build/plugins/trickle/libgsttrickle.so build/tools/gst-trickle-gateway build/tools/gst-trickle-worker; do
  if [ ! -e "$root/$f" ]; then
    echo "gateway-bench: $root/$f missing: build first (bash tests/setup.sh)" >&2
    exit 1
  fi
done
export GST_PLUGIN_PATH="$root/build/plugins/trickle${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export LD_LIBRARY_PATH="$root/build/gst/trickle${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GI_TYPELIB_PATH="$root/build/gst/trickle${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}"  # --gateway-latency
exec /usr/bin/python3 "$root/tests/bench/gateway-bench.py" "$@"
