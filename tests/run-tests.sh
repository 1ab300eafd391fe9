#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs the tests in a
# normal build and again in an AddressSanitizer + UndefinedBehaviorSanitizer
# build. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh --asan

echo "== tests (normal build)"
meson test -C build --print-errorlogs

echo "== tests (ASan + UBSan build)"
# GST_REGISTRY_FORK=no: plugins are loaded in-process (the plugin scanner
# is not instrumented). Leaks of GLib/GStreamer one-time type and plugin
# registrations are suppressed; leaks of our own code are not.
# LSan's scan of thread-local storage crashes with this glibc and the
# dlopen'ed TLS of gnutls: tests/check/meson.build sets use_tls=0 for the
# tests that use TLS (and tests/lsan.supp names GLib's thread-local state
# for them); LSAN_OPTIONS here is the fallback for the others.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:fast_unwind_on_malloc=0" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0:use_tls=0" \
G_SLICE=always-malloc GSETTINGS_BACKEND=memory GST_REGISTRY_FORK=no \
  meson test -C build-asan --print-errorlogs --timeout-multiplier 3
