#!/usr/bin/env bash
# Installs the Debian 12 packages gst-trickle needs and builds it into
# ./build (and, with --asan, an AddressSanitizer + UBSan build into
# ./build-asan). Run as root on a fresh machine; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  gcc meson ninja-build pkg-config
  libglib2.0-dev libsoup-3.0-dev glib-networking libjson-glib-dev
  gobject-introspection libgirepository1.0-dev gi-docgen
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstreamer-plugins-bad1.0-dev gstreamer1.0-nice  # the gateway (webrtcbin)
  gstreamer1.0-tools gstreamer1.0-plugins-base-apps
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  curl openssl python3 python3-gi gir1.2-gstreamer-1.0 ffmpeg
  gir1.2-gst-plugins-bad-1.0 python3-gst-1.0  # webrtcbin from Python (tests)
  nginx-light
  libnginx-mod-rtmp  # a real RTMP server for the gateway's tests
  chromium  # a real browser for the gateway's WHIP/WHEP tests
  tinyproxy-bin  # a real HTTP proxy for the proxy properties' test
  indent  # the formatting check (tests/gst-indent.sh)
  iproute2  # ip netns: the fault matrix (tests/faults)
  stress-ng  # not run by the suite: to check it under load (README)
  clang libclang-rt-14-dev  # libFuzzer: the fuzz targets (tests/fuzz)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f build/build.ninja ]; then
  meson setup build -Ddoc=enabled
fi
meson compile -C build

if [ "${1:-}" = "--asan" ]; then
  if [ ! -f build-asan/build.ninja ]; then
    # no introspection: g-ir-scanner's dumper does not run sanitized
    meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debug -Dintrospection=disabled
  fi
  meson configure build-asan -Dintrospection=disabled >/dev/null
  meson compile -C build-asan
fi
