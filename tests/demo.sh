#!/usr/bin/env bash
# The main job: a GStreamer pipeline as the real-time worker behind trickle
# channels.
#
#   publisher (gst-launch: test video -> H.264 -> MPEG-TS -> tricklesink)
#     -> POST http://127.0.0.1:$PORT/video-in
#   worker pipeline: trickleserver hosting video-in, video-out, control, events
#     srv.src_video-in ! tsdemux ! h264parse ! avdec_h264 ! videoconvert !
#     videoflip (mirror) ! videobalance ! x264enc ! mpegtsmux ! srv.sink_video-out
#   subscriber (gst-launch: tricklesrc -> decode -> one raw file per frame)
#     <- GET http://127.0.0.1:$PORT/video-out
#   a control update mid-stream (curl POST to the control channel):
#     {"set": {"bal.brightness": -0.4}}   (the video keeps flowing)
#
# Then it checks what arrived: every frame mirrored (compared with a local
# videoflip of the same test pattern), darker from some frame after the
# control update on, and the update reported on the events channel. The
# first and last frames are kept as PNG files to look at.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh

export GST_PLUGIN_PATH="$PWD/build/plugins/trickle${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
PORT=${PORT:-2939}
BASE="http://127.0.0.1:$PORT"
OUT=${OUT:-/tmp/gst-trickle-demo}
WORK=$(mktemp -d)
W=320
H=240
CAPS="video/x-raw,format=I420,width=$W,height=$H,framerate=30/1"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
rm -rf "$OUT" && mkdir -p "$OUT/frames"

echo "== worker: trickleserver hosting video-in -> mirror -> video-out (port $PORT)"
gst-launch-1.0 -m trickleserver name=srv host=127.0.0.1 port="$PORT" \
    control=control events=events window=16 stats-interval=2 \
  srv.src_video-in ! tsdemux ! h264parse ! avdec_h264 ! videoconvert \
  ! videoflip video-direction=horiz ! videobalance name=bal \
  ! x264enc tune=zerolatency key-int-max=15 ! mpegtsmux ! srv.sink_video-out \
  >"$WORK/worker.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do   # a first run builds the plugin registry (seconds)
  grep -q trickleserver-listening "$WORK/worker.log" && break
  sleep 0.1
done
grep -q trickleserver-listening "$WORK/worker.log" || {
  cat "$WORK/worker.log"; echo "the worker did not start"; exit 1; }

echo "== subscriber: tricklesrc $BASE/video-out -> one raw frame per file"
gst-launch-1.0 -q tricklesrc location="$BASE/video-out" ! tsdemux \
  ! h264parse ! avdec_h264 ! videoconvert ! "$CAPS" \
  ! multifilesink location="$OUT/frames/%05d.yuv" >"$WORK/sub.log" 2>&1 &
PIDS+=($!)
sleep 0.5

echo "== publisher: 5 s of test video, H.264 in MPEG-TS, into $BASE/video-in"
gst-launch-1.0 -q videotestsrc is-live=true num-buffers=150 pattern=smpte75 \
  ! "$CAPS" ! x264enc tune=zerolatency key-int-max=15 ! mpegtsmux \
  ! tricklesink location="$BASE/video-in" >"$WORK/pub.log" 2>&1 &
PUB=$!
PIDS+=($PUB)

sleep 2.5
echo "== control update: {\"set\": {\"bal.brightness\": -0.4}}"
curl -sS -f -X POST -H 'Content-Type: application/json' \
  --data '{"set": {"bal.brightness": -0.4}}' "$BASE/control/-1"
wait "$PUB" || { cat "$WORK/pub.log"; echo "the publisher failed"; exit 1; }
sleep 1

echo "== events channel"
next=$(curl -sS -f "$BASE/events/next")
for seq in $(seq 0 $((next - 1))); do
  # (older ones may have left the channel's window: 470, skipped)
  curl -sf "$BASE/events/$seq" 2>/dev/null && echo || true
done | grep '^{' | cut -c1-150 | sed 's/^/   /' | tee "$WORK/events.txt"
grep -q '"event":"control"' "$WORK/events.txt" || {
  echo "no control event"; exit 1; }

# the references: the same pattern mirrored locally, and not mirrored
gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=smpte75 ! "$CAPS" \
  ! videoflip video-direction=horiz ! filesink location="$WORK/mirrored.yuv"
gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=smpte75 ! "$CAPS" \
  ! filesink location="$WORK/plain.yuv"

python3 - "$OUT/frames" "$WORK/mirrored.yuv" "$WORK/plain.yuv" $W $H <<'EOF'
import os, sys
frames_dir, mirrored, plain, w, h = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
n = w * h
def luma(path):
    with open(path, 'rb') as f:
        return f.read()[:n]
def diff(a, b):
    return sum(abs(x - y) for x, y in zip(a[::7], b[::7])) / len(a[::7])
ref_m, ref_p = luma(mirrored), luma(plain)
files = sorted(os.listdir(frames_dir))
if len(files) < 100:
    sys.exit(f"only {len(files)} frames arrived")
mean = lambda y: sum(y[::7]) / len(y[::7])
first = luma(os.path.join(frames_dir, files[0]))
base = mean(first)
darker_from = None
for i, name in enumerate(files):
    y = luma(os.path.join(frames_dir, name))
    if darker_from is None and mean(y) < base - 40:
        darker_from = i
    elif darker_from is None:
        dm, dp = diff(y, ref_m), diff(y, ref_p)
        if not (dm < 10 and dp > 3 * dm):
            sys.exit(f"frame {i} is not mirrored ({dm:.1f} from the mirrored pattern, {dp:.1f} from the original)")
if darker_from is None:
    sys.exit("the control update never showed")
for name in files[darker_from:]:
    if mean(luma(os.path.join(frames_dir, name))) >= base - 40:
        sys.exit(f"frame {name} is not darker after the update")
last = luma(os.path.join(frames_dir, files[-1]))
print(f"== {len(files)} frames received: all mirrored; darker from frame {darker_from} on "
      f"(mean luma {base:.0f} -> {mean(last):.0f}) after the control update")
EOF

# snapshots to look at (first and last frame)
for f in $(ls "$OUT/frames" | head -1) $(ls "$OUT/frames" | tail -1); do
  gst-launch-1.0 -q filesrc location="$OUT/frames/$f" blocksize=$((W * H * 3 / 2)) \
    ! rawvideoparse format=i420 width=$W height=$H framerate=30/1 \
    ! videoconvert ! pngenc ! filesink location="$OUT/${f%.yuv}.png"
done
echo "== snapshots: $(ls "$OUT"/*.png | tr '\n' ' ')"
echo "== demo OK"
