#!/bin/sh
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fails when docs/plugins/gst_plugins_cache.json does not describe the
# plugin as built (a property, signal or pad template changed without the
# reference): regenerate it with `ninja -C build update-plugins-cache` and
# commit it with the change.
#   plugins-cache-check.sh TOOL PLUGIN.so COMMITTED.json SOURCE.c...
set -eu
tool=$1
plugin=$2
committed=$3
shift 3
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$tool" "$tmp" "$plugin" "$@"
if ! diff -u "$committed" "$tmp"; then
  echo "docs/plugins/gst_plugins_cache.json is stale: run" \
    "'ninja -C build update-plugins-cache' and commit the result" >&2
  exit 1
fi
