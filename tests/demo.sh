#!/usr/bin/env bash
# The main job, for now: start a trickleserver, publish a short test video
# into a channel as MPEG-TS segments (one per GOP, streamed into each POST as
# the encoder produces it, the next POST preconnected), read the channel
# back with a subscriber that follows the protocol (preconnected GET,
# Lp-Trickle-Seq + 1, Lp-Trickle-Closed = end), and check that what arrived
# is byte-identical and decodes.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh

export GST_PLUGIN_PATH="$PWD/build/plugins/trickle${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
PORT=${PORT:-2939}
SEGMENTS=${SEGMENTS:-4}
BASE="http://127.0.0.1:$PORT"
CH=demo
WORK=$(mktemp -d)
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting: gst-launch-1.0 trickleserver port=$PORT"
gst-launch-1.0 -m trickleserver address=127.0.0.1 port="$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do   # a first run builds the plugin registry (seconds)
  grep -q trickleserver-listening "$WORK/server.log" && break
  sleep 0.1
done
grep -o 'url=(string)[^,;]*' "$WORK/server.log" | head -1

echo "== creating channel $CH"
curl -sS -f -X POST -H 'Expect-Content: video/MP2T' "$BASE/$CH"

# The subscriber: starts at the live edge (-1) before anything is published
# and follows the channel until it is closed.
(
  seq=-1
  while :; do
    curl -sS -D "$WORK/h" -o "$WORK/part" "$BASE/$CH/$seq"
    if grep -qi '^Lp-Trickle-Closed' "$WORK/h"; then break; fi
    got=$(grep -i '^Lp-Trickle-Seq:' "$WORK/h" | tr -d '\r' | awk '{print $2}')
    cat "$WORK/part" >> "$WORK/received.ts"
    echo "   subscriber: segment $got, $(stat -c %s "$WORK/part") bytes"
    seq=$((got + 1))
  done
) &
SUB_PID=$!
sleep 0.3

echo "== publishing $SEGMENTS segments of H.264 in MPEG-TS (1 s GOPs, 320x240@30)"
for i in $(seq 0 $((SEGMENTS - 1))); do
  # the encoder's output is streamed into the POST body as it is produced
  gst-launch-1.0 -q videotestsrc num-buffers=30 pattern=ball \
      ! video/x-raw,width=320,height=240,framerate=30/1 \
      ! x264enc tune=zerolatency key-int-max=30 ! mpegtsmux ! fdsink fd=1 \
    | tee -a "$WORK/published.ts" \
    | curl -sS -f -X POST -H 'Content-Type: video/MP2T' -T - "$BASE/$CH/$i" -o /dev/null
  echo "   publisher: segment $i posted"
done
sleep 0.2
echo "== closing the channel (DELETE), the subscriber sees Lp-Trickle-Closed"
curl -sS -f -X DELETE "$BASE/$CH"
wait "$SUB_PID"

pub=$(stat -c %s "$WORK/published.ts")
got=$(stat -c %s "$WORK/received.ts")
echo "== published $pub bytes, received $got bytes"
if ! cmp -s "$WORK/published.ts" "$WORK/received.ts"; then
  echo "FAILED: the received stream differs from the published one"
  exit 1
fi
gst-launch-1.0 -q filesrc location="$WORK/received.ts" ! tsdemux ! h264parse \
  ! avdec_h264 ! videoconvert ! video/x-raw,format=I420 \
  ! filesink location="$WORK/decoded.yuv"
frames=$(( $(stat -c %s "$WORK/decoded.yuv") / (320 * 240 * 3 / 2) ))
echo "== received stream is byte-identical and decodes: $frames frames"
[ "$frames" -eq $((SEGMENTS * 30)) ] || { echo "FAILED: expected $((SEGMENTS * 30)) frames"; exit 1; }
echo "demo OK"
