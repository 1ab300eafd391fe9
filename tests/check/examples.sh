#!/usr/bin/env bash
# Runs the examples (examples/trickle-filter.c and trickle_filter.py) as a
# user would: each hosts video-in/video-out/control on a free port; a
# gst-launch publisher sends raw frames, a gst-launch subscriber receives
# them, a control message reaches the example and changes its filter.
# Usage: examples.sh <trickle-filter binary> <trickle_filter.py>
set -euo pipefail
C_EXAMPLE=$1
PY_EXAMPLE=$2
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
CAPS="video/x-raw,format=GRAY8,width=32,height=8,framerate=20/1"

run_example() {
  local name=$1; shift
  local log="$WORK/$name.log" frames="$WORK/$name-frames"
  mkdir -p "$frames"
  "$@" --raw --port 0 --duration 10 >"$log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  local url=""
  for _ in $(seq 200); do
    url=$(grep -o 'listening on http://[^ ]*' "$log" | head -1 | cut -d' ' -f3 || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { cat "$log"; echo "$name: did not start"; exit 1; }
  echo "$name: $url"
  gst-launch-1.0 -q tricklesrc location="${url}video-out" \
    ! multifilesink location="$frames/%05d.raw" >/dev/null 2>&1 &
  local sub=$!
  PIDS+=($sub)
  sleep 1
  gst-launch-1.0 -q videotestsrc is-live=true num-buffers=20 pattern=smpte75 \
    ! "$CAPS" ! tricklesink location="${url}video-in" delete-on-eos=false &
  local pub=$!
  sleep 0.4
  curl -sS -f -X POST -H 'Content-Type: application/json' \
    --data '{"set": {"f.video-direction": "vert"}}' "${url}control/-1"
  wait "$pub"
  sleep 0.5
  kill "$sub" 2>/dev/null || true
  local n
  n=$(ls "$frames" | wc -l)
  [ "$n" -ge 15 ] || { cat "$log"; echo "$name: $n frames of 20"; exit 1; }
  grep -q 'video-direction' "$log" || { cat "$log"; echo "$name: no control message"; exit 1; }
  if grep -q '^warning' "$log"; then cat "$log"; echo "$name: warnings"; exit 1; fi
  kill "$pid" 2>/dev/null || true
  echo "$name: $n frames, control message seen"
}

run_example c "$C_EXAMPLE"
# the Debian interpreter, where python3-gi is installed
PY=/usr/bin/python3
if $PY -c 'import gi; gi.require_version("Gst", "1.0"); from gi.repository import Gst' 2>/dev/null; then
  run_example python $PY "$PY_EXAMPLE"
else
  echo "PyGObject with GStreamer missing (python3-gi, gir1.2-gstreamer-1.0)"
  exit 1
fi
