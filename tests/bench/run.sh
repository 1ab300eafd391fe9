#!/usr/bin/env bash
# Measures trickleserver with the neutral yardstick tool, the way the
# reference server's baseline was measured, and prints the table.
# Not part of the test suite (timings are not assertions).
#
#   bash tests/bench/run.sh                # all rows, 3 runs each
#   RUNS=1 ONLY=channels bash tests/bench/run.sh
#
# Needs ../shared/yardstick beside the repository (or YARDSTICK_SRC=dir) and
# Go to build it (Debian: golang-go, installed here when missing).
# Environment: RUNS [3], ONLY [.], PORT [2960], THREADS [0 = one per CPU],
# OUT [/tmp/yardstick-gst-trickle].
#
# REFERENCE_CMD: the command that starts another server on $PORT (the
# go-livepeer reference, built by tests/bench/reference/build.sh, say
# `/tmp/trickle-reference/trickle-server -addr 127.0.0.1:$PORT`).
# When set, every run of every configuration is made against both servers
# in turn (gst-trickle, then the reference), so that both tables come from
# the same sitting and share its noise; the two tables are printed one after
# the other, from $OUT/gst-trickle and $OUT/reference.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SRC=${YARDSTICK_SRC:-$ROOT/../shared/yardstick}
if [ ! -f "$SRC/main.go" ]; then
  echo "yardstick not found in $SRC (set YARDSTICK_SRC)" >&2
  exit 2
fi
if ! command -v go >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
fi
bash tests/setup.sh >/dev/null

BIN=/tmp/yardstick-bin
mkdir -p "$BIN" /tmp/yardstick-src
cp -r "$SRC"/. /tmp/yardstick-src/
(cd /tmp/yardstick-src && go build -o "$BIN/yardstick" .)

export GST_PLUGIN_PATH=$ROOT/build/plugins/trickle
export Y=$BIN/yardstick
export RUNS=${RUNS:-3} ONLY=${ONLY:-.} PORT=${PORT:-2960}
export OUT=${OUT:-/tmp/yardstick-gst-trickle}
THREADS=${THREADS:-0}
# gst-launch-1.0 is exec'd by baseline.sh, so -pid is the server itself
export SERVER_CMD="gst-launch-1.0 -q trickleserver host=127.0.0.1 port=\$PORT threads=$THREADS"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "# gst-trickle $(git -C "$ROOT" rev-parse --short HEAD), $(date -u +%FT%TZ), $(nproc) CPUs, RUNS=$RUNS, threads=$THREADS" >&2
if [ -z "${REFERENCE_CMD:-}" ]; then
  exec bash "$SRC/baseline.sh"
fi

# Interleaved: run k of configuration c against gst-trickle, then against
# the reference; baseline.sh does each single run (fresh server), and then
# prints each server's table from the merged results.
OURS_CMD=$SERVER_CMD
mapfile -t NAMES < <(sed -n 's/^  "\([a-z0-9-]*\)|.*/\1/p' "$SRC/baseline.sh" | grep -E -- "$ONLY")
rm -rf "$OUT"
for run in $(seq 1 "$RUNS"); do
  for name in "${NAMES[@]}"; do
    for side in gst-trickle reference; do
      if [ $side = gst-trickle ]; then cmd=$OURS_CMD; else cmd=$REFERENCE_CMD; fi
      SERVER_CMD=$cmd RUNS=1 ONLY="^$name\$" OUT="$OUT/$side/run$run" \
        bash "$SRC/baseline.sh" >/dev/null
      cat "$OUT/$side/run$run/$name.jsonl" >>"$OUT/$side/$name.jsonl"
    done
  done
done
for side in gst-trickle reference; do
  echo
  echo "## $side"
  echo
  SERVER_CMD=: RUNS=0 ONLY='^$' OUT="$OUT/$side" bash "$SRC/baseline.sh"
done
echo
echo "## targets (issue 3): gst-trickle against the reference, this sitting"
echo
python3 tests/bench/targets.py "$OUT/gst-trickle" "$OUT/reference"
