#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the unit tests (plain and under ASan+UBSan) and the integration scenarios; prints one summary.
# Usage: tests/run-all.sh BUILD [unit|unit-san|integration|all]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
WHAT=${2:-all}
export BUILD
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

passed=0
failed=0
failures=()

run() {
        local name=$1
        shift
        local log=$BUILD/test-logs/$name.log
        mkdir -p "$(dirname "$log")"
        local start=$SECONDS
        if timeout "${TEST_TIMEOUT:-300}" "$@" >"$log" 2>&1; then
                passed=$((passed + 1))
                printf 'PASS %-40s %3ss\n' "$name" $((SECONDS - start))
        else
                failed=$((failed + 1))
                failures+=("$name")
                printf 'FAIL %-40s %3ss  (log: %s)\n' "$name" $((SECONDS - start)) "$log"
                tail -n 25 "$log" | sed 's/^/    /'
        fi
}

if [ "$WHAT" = all ] || [ "$WHAT" = unit ]; then
        for t in "$BUILD"/tests/test-*; do
                [ -x "$t" ] && run "unit/$(basename "$t")" "$t"
        done
fi
if [ "$WHAT" = all ] || [ "$WHAT" = unit-san ]; then
        for t in "$BUILD"/tests-san/test-*; do
                [ -x "$t" ] && run "unit-san/$(basename "$t")" "$t"
        done
fi
if [ "$WHAT" = all ] || [ "$WHAT" = integration ]; then
        for t in tests/integration/[0-9]*.sh; do
                [ -f "$t" ] && run "integration/$(basename "$t" .sh)" bash "$t" "$BUILD"
        done
fi
if [ "$WHAT" = all ] || [ "$WHAT" = faults ]; then
        for t in tests/faults/[0-9]*.sh; do
                [ -f "$t" ] && run "faults/$(basename "$t" .sh)" bash "$t" "$BUILD"
        done
fi
if [ "$WHAT" = all ] || [ "$WHAT" = extra ]; then
        # checks other parts add (fuzz smoke, valgrind): executable scripts in tests/check.d
        for t in tests/check.d/[0-9]*.sh; do
                [ -f "$t" ] && run "check.d/$(basename "$t" .sh)" bash "$t" "$BUILD"
        done
fi

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
