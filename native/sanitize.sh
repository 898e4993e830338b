#!/usr/bin/env bash
# The compiled paths under AddressSanitizer and UndefinedBehaviorSanitizer: builds the extension
# with both into a temporary folder and runs the equivalence tests (odd forms, real fixtures,
# randomly damaged lines, chunk and flush boundaries, fuzzed readers) against it; then again with
# the portable string scanner that machines without SSE2 take.
#
#     bash native/sanitize.sh [pytest options]        (PYTHON=... to choose the interpreter)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
python=${PYTHON:-$repo/.venv/bin/python}
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
for variant in "" "-U__SSE2__"; do
    rm -rf "$build"/*
    flags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined $variant"
    (cd "$here" && CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" \
        "$python" setup.py -q build_ext --build-lib "$build" --build-temp "$build/objects")
    (cd "$repo" && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        LD_PRELOAD="$preload" PYTHONPATH="$build" \
        "$python" -m pytest -p no:cacheprovider -q tests/test_native_split.py tests/test_native.py "$@")
done
