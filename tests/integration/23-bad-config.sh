#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A config error makes `chaird --check-config` fail with file:line and key, and the daemon refuse to
# start without touching the outputs (relay stays released, nothing enabled).
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_bus
start_sim
make_root tcp
CONF=$ROOT/etc/chaird/chaird.conf
DROPIN=$ROOT/run/chaird/chaird.conf.d/50-test.conf

check "example config validates" "$CHAIRD" --root "$ROOT" --check-config >"$T/dump.txt"
check "dump names the origin of each value" grep -q "Port=$SIM_PORT.*50-test.conf:" "$T/dump.txt"
check "dump names defaults" grep -q "# default" "$T/dump.txt"

# expect_error DESCRIPTION FILE-REGEX: the last drop-in written makes --check-config fail like this
expect_error() {
        local what=$1 re=$2 out rc=0
        out=$("$CHAIRD" --root "$ROOT" --check-config 2>&1) || rc=$?
        if [ "$rc" -ne 0 ] && echo "$out" | grep -qE -- "$re"; then
                ok "$what: $out"
        else
                not_ok "$what (rc=$rc): $out"
        fi
}

bad() {
        printf '%s\n' "$1" >"$ROOT/etc/chaird/chaird.conf.d/90-bad.conf"
}
mkdir -p "$ROOT/etc/chaird/chaird.conf.d"

bad "[Signal roller.force]
Address=70000"
expect_error "register address out of range" "90-bad.conf:2: .*Address=70000"

bad "[Signal roller.force]
Board=nosuch"
expect_error "unknown board" "90-bad.conf:2: .*Board=nosuch"

bad "[Board roller]
ResponseTimeoutMs=0"
expect_error "value out of range" "90-bad.conf:2: .*ResponseTimeoutMs=0: value out of range"

bad "[Chair]
ControlRateHz=fast"
expect_error "not a number" "90-bad.conf:2: .*ControlRateHz"

bad "[Chair]
Colour=blue"
expect_error "unknown key" "90-bad.conf:2: .*Colour"

# The daemon refuses to start on the same error, and never closes the relay.
bad "[Signal roller.force]
Address=70000"
rc=0
NOTIFY_SOCKET= "$CHAIRD" --root "$ROOT" >"$T/refused.log" 2>&1 || rc=$?
check "daemon refuses to start (exit 1)" test "$rc" -eq 1
check "refusal names file:line" grep -q "90-bad.conf:2" "$T/refused.log"
check "outputs untouched: relay released, roller disabled" sim wait relay==0 roller.enable==0 --timeout 1
check "no Modbus write reached the roller board" sim wait board.roller.requests==0 --timeout 1
finish
