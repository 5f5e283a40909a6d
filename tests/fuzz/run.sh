#!/usr/bin/env bash
# Fuzzes one target for N minutes with ASan+UBSan (docs/fuzzing.md):
#   tests/fuzz/run.sh <envelope|auth|decompress|store_body|event_json> [minutes, default 10] [libFuzzer flags...]
# Configures build-fuzz/ with clang on first use and builds only that target. New coverage goes to
# build-fuzz/fuzz-corpus/<target>/ (the checked-in seeds are read, never written), crashes to
# build-fuzz/fuzz-artifacts/<target>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${ROOKERY_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
export CCACHE_DIR="${CCACHE_DIR:-$ROOT/.rookery/ccache}"

target="${1:-}"
minutes="${2:-10}"
shift $(($# < 2 ? $# : 2))
case "$target" in
  envelope | auth | decompress | store_body | event_json) ;;
  *) echo "usage: $0 <envelope|auth|decompress|store_body|event_json> [minutes] [libFuzzer flags...]" >&2; exit 2 ;;
esac

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DROOKERY_FUZZ=ON -DROOKERY_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$BUILD" "${target}_fuzzer"

work="$BUILD/fuzz-corpus/$target"
artifacts="$BUILD/fuzz-artifacts/$target"
mkdir -p "$work" "$artifacts"
dict=()
if [ -f "$ROOT/tests/fuzz/$target.dict" ]; then dict=("-dict=$ROOT/tests/fuzz/$target.dict"); fi
# -timeout: a parser that spends 25 s on a 4 KiB input is a bug too (OSS-Fuzz uses the same bound).
# -max_len: libFuzzer would otherwise grow it to the largest corpus file (the 300 KB crash-* input)
# and spend its time on huge inputs; pass a later -max_len to override.
exec "$BUILD/tests/fuzz/${target}_fuzzer" -max_total_time=$((minutes * 60)) -timeout=25 -max_len=4096 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "${dict[@]}" "$@" "$work" "$ROOT/tests/fuzz/corpus/$target"
