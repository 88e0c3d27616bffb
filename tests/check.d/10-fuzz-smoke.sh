#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make check's fuzz smoke run: builds the libFuzzer targets (clang, ASan+UBSan) and runs each over its
# committed seed corpus and what earlier runs found for FUZZ_SMOKE_SECONDS (default 15). Fails on any
# crash, leak, timeout or sanitizer report. The long run is `make fuzz FUZZ_SECONDS=N`.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
        echo "not ok - clang is missing (Debian packages clang and libclang-rt-14-dev)"
        echo "0 passed, 1 failed"
        exit 1
fi
make --no-print-directory -j"$(nproc)" BUILD="$BUILD" fuzz-build
if bash tests/fuzz/run.sh "$BUILD" "${FUZZ_SMOKE_SECONDS:-15}"; then
        echo "ok - every fuzz target ran without a crash"
        echo "1 passed, 0 failed"
else
        echo "not ok - a fuzz target crashed (see above)"
        echo "0 passed, 1 failed"
        exit 1
fi
