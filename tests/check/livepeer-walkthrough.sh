#!/usr/bin/env bash
# docs/livepeer.md's "Try it" commands, run verbatim from the repository
# root (their output checked): the doc's walkthrough works as written.
#   livepeer-walkthrough.sh DOCS/livepeer.md REPOSITORY-ROOT
set -euo pipefail
doc=$1
cd "$2"
script=$(mktemp)
log=$(mktemp)
trap 'rm -f "$script" "$log"' EXIT
# the sh blocks of the "Try it" section, in order
python3 - "$doc" > "$script" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = text.split("## Try it", 1)[1].split("\n## ", 1)[0]
print("set -e")
print("trap 'kill $(jobs -p) 2>/dev/null || true' EXIT")
for block in re.findall(r"```sh\n(.*?)```", section, re.S):
    print(block)
PY
rc=0
timeout 120 bash "$script" > "$log" 2>&1 || rc=$?
out=$(cat "$log")
echo "$out"
[ $rc -eq 0 ] || { echo "walkthrough failed ($rc)"; exit 1; }
for want in '"publish_url":"http://127.0.0.1:2939/ai/trickle/demo-out"' \
    '{"status":"OK"}' 'h264' 'opus' 'Parameters updated successfully' \
    '"queue_event_type":"' 'Stream stopped successfully'; do
  grep -qF "$want" <<<"$out" || { echo "missing in the output: $want"; exit 1; }
done
echo "walkthrough OK"
