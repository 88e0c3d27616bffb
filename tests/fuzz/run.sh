#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every libFuzzer target of tests/fuzz for SECONDS each, starting from its committed seed corpus
# (tests/fuzz/corpus/NAME, never written) plus what earlier runs found ($BUILD/fuzz/corpus-NAME), and
# prints executions, coverage and crashes per target. Exits 1 on any crash, leak or timeout; the input
# that caused it is kept as $BUILD/fuzz/crash-NAME-*. Usage: tests/fuzz/run.sh BUILD SECONDS [NAME...]
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
SECONDS_EACH=${2:-60}
shift 2 || true
NAMES=("$@")
if [ ${#NAMES[@]} -eq 0 ]; then
        for f in tests/fuzz/fuzz-*.c; do NAMES+=("$(basename "$f" .c)"); done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
printf '%-16s %10s %8s %6s %8s  %s\n' target executions exec/s cov corpus result
for name in "${NAMES[@]}"; do
        bin=$BUILD/fuzz/$name
        [ -x "$bin" ] || { echo "$name: $bin not built (make fuzz-build)"; failed=1; continue; }
        work=$BUILD/fuzz/corpus-$name
        log=$BUILD/fuzz/$name.log
        mkdir -p "$work"
        dict=()
        [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
        "$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
                -max_len=8192 "${dict[@]}" -artifact_prefix="$BUILD/fuzz/crash-$name-" \
                "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
        corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
        if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
                result="no crash"
        else
                result="FAILED (exit $rc): $(ls "$BUILD/fuzz/crash-$name-"* 2>/dev/null | tr '\n' ' ')log $log"
                failed=1
        fi
        printf '%-16s %10s %8s %6s %8s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${corp:-?}" "$result"
        [ "$rc" -eq 0 ] || grep -E 'ERROR|SUMMARY|runtime error|#0 |#1 |#2 |#3 ' "$log" | head -n 15 | sed 's/^/    /'
done
exit $failed
