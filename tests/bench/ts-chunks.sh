#!/usr/bin/env bash
# How many sendmsg() calls and how much CPU tricklesink spends publishing a
# live H.264 MPEG-TS stream (x264enc ! mpegtsmux, 640x360, 2 Mbit/s,
# 10 s) to a trickleserver on loopback. Not part of the tests (numbers,
# not assertions).
#   bash tests/bench/ts-chunks.sh [runs, 5] [plugin dir to compare against]
# With a second plugin directory (a build of another commit), both are
# run alternately in the same sitting and the ratios printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
other=${2:-}
export LD_LIBRARY_PATH="$PWD/build/gst/trickle"
this="$PWD/build/plugins/trickle"
tmp=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$tmp"' EXIT
GST_PLUGIN_PATH="$this" gst-launch-1.0 -q trickleserver port=0 name=s \
  > /dev/null 2>&1 &
srv=$!
# the port: ask the kernel which one the server listens on
for _ in $(seq 100); do
  port=$(ss -ltnpH 2>/dev/null | awk -v p="pid=$srv," '$0 ~ p {n=split($4,a,":"); print a[n]; exit}')
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "no server"; exit 1; }
echo "# gst-trickle $(git rev-parse --short HEAD), $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# run plugins sendmsg cpu_s (user+sys of the whole publisher)"
one() { # $1 label, $2 plugin dir, $3 run
  local out="$tmp/$1.$3"
  GST_PLUGIN_PATH="$2" strace -f -qq -c -e trace=sendmsg,sendto,write,writev \
    -o "$out.strace" /usr/bin/time -f "%U %S" -o "$out.time" \
    gst-launch-1.0 -q videotestsrc is-live=true num-buffers=300 ! \
    video/x-raw,width=640,height=360,framerate=30/1 ! \
    x264enc tune=zerolatency speed-preset=ultrafast bitrate=2000 \
    key-int-max=30 ! mpegtsmux ! \
    tricklesink location="http://127.0.0.1:$port/bench-$1-$3" > /dev/null
  local calls cpu
  calls=$(awk '$NF=="sendmsg" {print $4}' "$out.strace")
  cpu=$(awk '{printf "%.2f", $1 + $2}' "$out.time")
  echo "$3 $1 ${calls:-0} $cpu"
}
for r in $(seq "$runs"); do
  one this "$this" "$r"
  [ -n "$other" ] && one other "$other" "$r"
done | tee "$tmp/all"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for l in this other; do
  grep -q " $l " "$tmp/all" || continue
  s=$(awk -v l="$l" '$2==l {print $3}' "$tmp/all" | median)
  c=$(awk -v l="$l" '$2==l {print $4}' "$tmp/all" | median)
  echo "median $l: sendmsg $s, cpu ${c} s"
  eval "m_$l=$s c_$l=$c"
done
if [ -n "$other" ]; then
  awk -v a="$m_this" -v b="$m_other" -v c="$c_this" -v d="$c_other" \
    'BEGIN {printf "ratio this/other: sendmsg %.3f, cpu %.3f\n", a/b, c/d}'
fi
