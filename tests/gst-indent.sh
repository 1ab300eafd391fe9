#!/bin/sh
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Formats C files the way GStreamer's gst-indent does (GNU indent with
# GStreamer's options, run twice as GStreamer does: indent does not always
# reach a fixed point in one pass).
#   tests/gst-indent.sh FILE.c...           format in place
#   tests/gst-indent.sh --check [FILE.c...] list files that are not formatted
#                                           (exit 1 if any); without files,
#                                           every C file of the project
set -eu
OPTS="--braces-on-if-line --case-brace-indentation0 --case-indentation2
  --braces-after-struct-decl-line --line-length80 --no-tabs --cuddle-else
  --dont-line-up-parentheses --continuation-indentation4 --honour-newlines
  --tab-size8 --indent-level2 --leave-preprocessor-space"
check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  shift
fi
if [ $# -eq 0 ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  set -- $(find "$root/gst" "$root/plugins" "$root/tools" "$root/tests" "$root/examples" "$root/docs" \
    -name '*.c' | sort)
fi
command -v indent >/dev/null || { echo "GNU indent is not installed (apt-get install indent)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
for f in "$@"; do
  # shellcheck disable=SC2086
  indent $OPTS "$f" -o "$tmp/a.c"
  # shellcheck disable=SC2086
  indent $OPTS "$tmp/a.c" -o "$tmp/b.c"
  if [ $check -eq 1 ]; then
    if ! cmp -s "$f" "$tmp/b.c"; then
      echo "not formatted: $f"
      diff -u "$f" "$tmp/b.c" | head -20
      bad=1
    fi
  else
    cmp -s "$f" "$tmp/b.c" || cp "$tmp/b.c" "$f"
  fi
done
exit $bad
