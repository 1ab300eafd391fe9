#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the go-livepeer reference trickle server for side-by-side
# measurements (tests/bench/run.sh with REFERENCE_CMD), with Debian 12's
# Go 1.19, the way ../shared/yardstick/BASELINE-reference.md describes it:
# go-livepeer's trickle/ server files, unchanged except where Go 1.19
# cannot compile them (log/slog, maps/slices, ServeMux method patterns),
# logging off, autocreate and changefeed on.
#
#   bash tests/bench/reference/build.sh /path/to/go-livepeer [out-binary]
#
# The go-livepeer checkout is not part of this project (it is MIT-licensed
# and needs network access to clone); this script only builds it.
set -euo pipefail
SRC=${1:?usage: build.sh /path/to/go-livepeer [out]}
OUT=${2:-/tmp/trickle-reference/trickle-server}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

mkdir -p "$W/trickle" "$W/slog" "$W/cmd"
for f in trickle_server.go segment_buffer.go local_publisher.go local_subscriber.go; do
  cp "$SRC/trickle/$f" "$W/trickle/"
done
cp "$HERE/shim_errors.go.in" "$W/trickle/shim_errors.go"
cp "$HERE/shim_route.go.in" "$W/trickle/shim_route.go"
cp "$HERE/slog.go.in" "$W/slog/slog.go"
cp "$HERE/main.go.in" "$W/cmd/main.go"
printf 'module refsrv\n\ngo 1.19\n' >"$W/go.mod"

cd "$W/trickle"
# Go 1.19 has no log/slog: a no-op package (the baseline ran with logging off)
sed -i 's#"log/slog"#"refsrv/slog"#' ./*.go
# nor maps/slices: the one use collects a map's values
python3 - trickle_server.go <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('\t"maps"\n', '').replace('\t"slices"\n', '')
s = s.replace('streams := slices.Collect(maps.Values(sm.streams))',
              'streams := make([]*Stream, 0, len(sm.streams))\n'
              '\tfor _, v := range sm.streams {\n\t\tstreams = append(streams, v)\n\t}')
# nor Request.PathValue / method patterns: one handler routes (shim_route.go)
s = s.replace('r.PathValue(', 'pathValue(r, ')
s, n = re.subn(r'(\tmux\.HandleFunc\("(POST|GET|DELETE) "\+basePath\+"[^"]*", streamManager\.\w+\)\n)+',
               '\tmux.HandleFunc(basePath, streamManager.route)\n', s)
if n != 1:
    sys.exit("trickle_server.go: the route registrations were not found (go-livepeer changed?)")
open(p, 'w').write(s)
PY
cd "$W"
mkdir -p "$(dirname "$OUT")"
go build -o "$OUT" ./cmd
echo "built $OUT ($(go version | cut -d' ' -f3)); run: REFERENCE_CMD='$OUT -addr 127.0.0.1:\$PORT'"
