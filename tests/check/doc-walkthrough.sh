#!/usr/bin/env bash
# A document's "Try it" commands, run verbatim from the repository root
# (their output checked): the doc's walkthrough works as written.
#   doc-walkthrough.sh DOC.md REPOSITORY-ROOT EXPECTED...
# Every EXPECTED string must appear in the commands' output.
set -euo pipefail
doc=$1
cd "$2"
shift 2
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
for want in "$@"; do
  grep -qF -- "$want" <<<"$out" || { echo "missing in the output: $want"; exit 1; }
done
echo "walkthrough OK"
