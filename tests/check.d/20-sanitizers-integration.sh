#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The integration suite under ASan+UBSan: builds chaird and chair-sim with the sanitizers into
# BUILD/san-bin and runs a representative set of scenarios and fault-matrix scripts against them
# (tests/lib/lib.sh takes chaird and chair-sim from the BUILD folder it is given). Sanitizer reports go
# to files (log_path), so a report from a daemon whose scenario still passed is not missed: any
# report, and any failed scenario, fails this check. Leaks are checked when each process exits.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
SCENARIOS=(tests/integration/20-daemon-tcp.sh tests/integration/21-daemon-rtu.sh
        tests/integration/25-comm-loss.sh tests/integration/31-dbus-errors.sh
        tests/faults/10-board-tcp.sh tests/faults/12-board-rtu.sh tests/faults/20-sensor-faults.sh
        tests/faults/40-config-state.sh)

make --no-print-directory -j"$(nproc)" BUILD="$BUILD" san-bin || { echo "0 passed, 1 failed"; exit 1; }
SANBIN=$(cd "$BUILD/san-bin" && pwd)
REPORTS=$(mktemp -d /tmp/chaird-san.XXXXXX)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$REPORTS/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/ubsan
export LSAN_OPTIONS=log_path=$REPORTS/lsan

passed=0
failed=0
for s in "${SCENARIOS[@]}"; do
        [ -f "$s" ] || continue
        log=$BUILD/test-logs/san/$(basename "$s" .sh).log
        mkdir -p "$(dirname "$log")"
        if BUILD=$SANBIN timeout 600 bash "$s" "$SANBIN" >"$log" 2>&1; then
                echo "ok - $s under ASan+UBSan"
                passed=$((passed + 1))
        else
                echo "not ok - $s under ASan+UBSan (log: $log)"
                tail -n 15 "$log" | sed 's/^/    /'
                failed=$((failed + 1))
        fi
done
if ls "$REPORTS"/* >/dev/null 2>&1; then
        echo "not ok - sanitizer reports:"
        for f in "$REPORTS"/*; do
                echo "--- $f"
                head -n 40 "$f"
        done
        failed=$((failed + 1))
else
        echo "ok - no ASan, UBSan or LeakSanitizer report from any chaird or chair-sim"
        passed=$((passed + 1))
        rm -rf "$REPORTS"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
