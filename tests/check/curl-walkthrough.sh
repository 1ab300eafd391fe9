#!/usr/bin/env bash
# Runs the curl walkthrough of docs/protocol.md as written (on a free port
# instead of 2939) and checks each commented status code.
# Usage: curl-walkthrough.sh docs/protocol.md
set -u
doc=$1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
script=$(awk '/<!-- walkthrough -->/{f=1; next} f && /^```sh/{g=1; next} g && /^```/{exit} g' "$doc")
[ -n "$script" ] || { echo "no walkthrough block in $doc"; exit 1; }
script=${script//2939/$port}
# a fresh GST_REGISTRY is built by the first GStreamer command (seconds):
# build it now, and after starting the server wait for its port
gst-inspect-1.0 trickleserver >/dev/null 2>&1
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start on port $port"
  return 1
}
failures=0 checks=0
while IFS= read -r line; do
  [ -z "$line" ] && continue
  if [[ "$line" =~ ^(.*[^[:space:]])[[:space:]]+#[[:space:]]+([0-9]{3})([[:space:]:,].*)?$ ]]; then
    cmd=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
    if [[ "$cmd" == *"&" ]] || [[ "$cmd" == *">"* ]]; then
      eval "$line"
      continue
    fi
    out=$(eval "$cmd" 2>&1)
    status=$(printf '%s\n' "$out" | head -1 | awk '{print $2}')
    checks=$((checks + 1))
    if [ "$status" != "$want" ]; then
      echo "FAIL: $cmd"
      echo "  expected status $want, got: $(printf '%s\n' "$out" | head -1)"
      failures=$((failures + 1))
    else
      echo "ok: $cmd -> $status"
    fi
  else
    eval "$line"
    if [[ "$line" == gst-launch-1.0* ]]; then wait_port || exit 1; fi
  fi
done <<< "$script"
echo "$checks walkthrough checks"
echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ] && [ "$checks" -gt 5 ]
