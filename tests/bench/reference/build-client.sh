#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds go-livepeer's trickle *clients* (trickle/trickle_publisher.go,
# trickle_subscriber.go) into one program driven as go-livepeer's gateway
# drives them (client.go.in), for the fault matrix's comparison
# (tests/faults/faults.py --sub-cmd/--pub-cmd, docs/faults.md), with
# Debian 12's Go 1.19: the files unchanged except where Go 1.19 cannot
# compile them (log/slog: a no-op, logging off; context.WithCancelCause:
# shim_cause.go.in).
#
#   bash tests/bench/reference/build-client.sh /path/to/go-livepeer [out-binary]
#
# The go-livepeer checkout is not part of this project (MIT-licensed, it
# needs network access to clone); this script only builds it.
set -euo pipefail
SRC=${1:?usage: build-client.sh /path/to/go-livepeer [out]}
OUT=${2:-/tmp/trickle-reference/trickle-client}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

mkdir -p "$W/trickle" "$W/slog" "$W/cmd"
for f in trickle_publisher.go trickle_subscriber.go; do
  cp "$SRC/trickle/$f" "$W/trickle/"
done
cp "$HERE/shim_cause.go.in" "$W/trickle/shim_cause.go"
cp "$HERE/slog.go.in" "$W/slog/slog.go"
cp "$HERE/client.go.in" "$W/cmd/main.go"
printf 'module refcli\n\ngo 1.19\n' >"$W/go.mod"
cd "$W/trickle"
sed -i 's#"log/slog"#"refcli/slog"#; s#context\.WithCancelCause(#withCancelCause(#' ./*.go
cd "$W"
mkdir -p "$(dirname "$OUT")"
go build -o "$OUT" ./cmd
echo "built $OUT ($(go version | cut -d' ' -f3))"
