#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (-fsanitize=fuzzer,
# address,undefined: the units are compiled in, instrumented; the rest of
# the library is linked from the build) and runs each on its seed corpus.
#
#   bash tests/fuzz/run.sh SOURCE-ROOT BUILD-DIR smoke
#       each target for a bounded number of inputs (the `fuzz` test suite)
#   bash tests/fuzz/run.sh SOURCE-ROOT BUILD-DIR long SECONDS [TARGET]
#       each target (or one) for SECONDS; what it finds is kept in
#       BUILD-DIR/tests/fuzz-corpus/TARGET, a crash in ./crash-*
#
# Exits 77 (skipped) without clang's libFuzzer (Debian: clang,
# libclang-rt-14-dev; tests/setup.sh installs them).
set -euo pipefail
SRC=$(cd "$1" && pwd)
BUILD=$(cd "$2" && pwd)
MODE=${3:-smoke}
SECONDS_EACH=${4:-60}
ONLY=${5:-}
CC=${FUZZ_CC:-clang}
OUT=$BUILD/tests/fuzz-bin
mkdir -p "$OUT"

if ! command -v "$CC" >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){return 0;}' |
     "$CC" -x c -fsanitize=fuzzer - -o "$OUT/.probe" 2>/dev/null; then
  echo "no $CC with libFuzzer: skipped"
  exit 77
fi

PKGS="gstreamer-1.0 libsoup-3.0 json-glib-1.0 gio-unix-2.0"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -DHAVE_CONFIG_H -DGST_USE_UNSTABLE_API -I$SRC -I$SRC/gst/trickle -I$BUILD
  -I$BUILD/gst/trickle $(pkg-config --cflags $PKGS)"
LIBS="-L$BUILD/gst/trickle -lgsttrickle-1.0 -Wl,-rpath,$BUILD/gst/trickle
  $(pkg-config --libs $PKGS)"

# target: the units compiled into it
declare -A UNITS=(
  [request]="gst/trickle/tricklehttpframing.c"
  [answer]="gst/trickle/trickleclient.c"
  [content-type]="gst/trickle/tricklecaps.c"
  [json]="gst/trickle/tricklejson.c"
)
TARGETS=(request answer content-type json)
[ -n "$ONLY" ] && TARGETS=("$ONLY")

for t in "${TARGETS[@]}"; do
  srcs="$SRC/tests/fuzz/fuzz-$t.c"
  for u in ${UNITS[$t]}; do srcs="$srcs $SRC/$u"; done
  # shellcheck disable=SC2086
  "$CC" $CFLAGS $srcs $LIBS -o "$OUT/fuzz-$t"
done

# GStreamer's one-time allocations are not leaks of an input
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# (and what GLib allocates in its library constructor, before any input,
# and GQuarks: interned for good, bounded by the framer's limits)
cat "$SRC/tests/lsan.supp" - > "$OUT/lsan.supp" <<'SUPP'
leak:call_init
leak:_dl_init
leak:g_quark_from_string
SUPP
export LSAN_OPTIONS="suppressions=$OUT/lsan.supp:print_suppressions=0"
export GST_REGISTRY_FORK=no G_SLICE=always-malloc

rc=0
for t in "${TARGETS[@]}"; do
  seeds=$SRC/tests/fuzz/corpus/$t
  if [ "$MODE" = smoke ]; then
    work=$(mktemp -d)
    # -seed: the same inputs every run; new ones go to a scratch corpus
    if ! (cd "$work" && "$OUT/fuzz-$t" -runs=20000 -seed=1 -max_len=4096 \
        -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 "$work" "$seeds" \
        > "$work/log" 2>&1); then
      echo "fuzz-$t: FAILED"; cat "$work/log"; rc=1
    else
      echo "fuzz-$t: $(grep -E '^stat::number_of_executed_units' "$work/log" | awk '{print $2}') inputs, no failure"
    fi
    rm -rf "$work"
  else
    corpus=$BUILD/tests/fuzz-corpus/$t
    mkdir -p "$corpus"
    "$OUT/fuzz-$t" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=30 \
      -rss_limit_mb=2048 -print_final_stats=1 "$corpus" "$seeds" || rc=1
  fi
done
exit $rc
