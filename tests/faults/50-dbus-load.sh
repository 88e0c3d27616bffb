#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault matrix, load: ten D-Bus clients hammer chaird's methods for 15 s while a program runs.
# Expected: every call gets its proper answer (refusals included) and none times out; the program keeps
# running, no e-stop; systemd's watchdog would never have fired (no gap between WATCHDOG=1 as long as
# WatchdogSec) and the control loop keeps its deadlines (late cycles under 1 %, printed); the board-side
# comm timeout never trips.
set -euo pipefail
source "$(dirname "$0")/lib-faults.sh"

CLIENTS=10
SECONDS_LOAD=15
WATCHDOG=400000 # µs, as the unit's WatchdogSec would set it

start_bus
start_sim
make_root tcp
export WATCHDOG_USEC=$WATCHDOG
start_daemon
unset WATCHDOG_USEC
maint_detect

stats() { $MAINT GetCycleStats | awk '{ print $2, $3, $4, $5 }'; }
mono_us() { $PY -c 'import time; print(time.monotonic_ns() // 1000)'; }

check "program running" run_program quick-10 5
mark
read -r c0 l0 o0 _ <<<"$(stats)"
t0=$(mono_us)
hammer() { $PY "$TOP/tests/faults/hammer.py" "$CLIENTS" "$SECONDS_LOAD" >"$T/hammer.json"; }
check "$CLIENTS clients × ${SECONDS_LOAD} s: every call answered as expected" hammer
t1=$(mono_us)
read -r c1 l1 o1 max_late <<<"$(stats)"
echo "# hammer: $(cat "$T/hammer.json")"
calls=$($PY -c 'import json,sys; print(sum(c["calls"] for c in json.load(open(sys.argv[1]))["clients"]))' "$T/hammer.json")
echo "# $calls calls; control cycles $((c1 - c0)), late $((l1 - l0)), overruns $((o1 - o0)), max lateness ${max_late} µs (whole run)"
check "every client made progress (≥ 50 calls each)" \
        $PY -c 'import json,sys; sys.exit(not all(c["calls"] >= 50 for c in json.load(open(sys.argv[1]))["clients"]))' "$T/hammer.json"
check "program still running, no e-stop" \
        bash -c "[ \"\$(busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 State)\" = 's \"running\"' ]"
mcheck "no e-stop counted" delta estops 0
check "control cycles ran through the load (≥ 50 Hz)" test $((c1 - c0)) -ge $((SECONDS_LOAD * 50))
check "late control cycles under 1 % ($((l1 - l0)) of $((c1 - c0)))" test $(((l1 - l0) * 100)) -lt $((c1 - c0))
# the longest gap between two WATCHDOG=1 inside the load window, and the kicks seen there
gap=$(awk -v a="$t0" -v b="$t1" '$2 == "WATCHDOG=1" && $1 >= a && $1 <= b {
        if (p) { g = $1 - p; if (g > m) m = g } ; p = $1; n++ } END { print (n > 1 ? m : -1) }' "$T/notify.log")
echo "# longest gap between WATCHDOG=1 under load: $gap µs (WatchdogSec $WATCHDOG µs)"
check "watchdog kicked all along (longest gap $gap µs < $WATCHDOG µs)" test "$gap" -ge 0 -a "$gap" -lt "$WATCHDOG"
check "board-side comm timeouts never tripped" \
        sim wait board.roller.tripped==0 board.airbag.tripped==0 board.base.tripped==0 wdt.tripped==0 --timeout 1
$CHAIR Stop >/dev/null
check "stopped → idle" wait_prop State idle 20
finish_faults
