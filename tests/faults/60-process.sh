#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault matrix, the daemon process itself, each during a program: SIGKILL, SIGSTOP, and the wall clock
# jumping a day forward and back. Expected: after SIGKILL the boards stop on their own comm timeout,
# the GPIO outputs fall back to safe, the restart comes up latched "unclean-restart" with every counter
# and fault-log entry from before; while stopped, no WATCHDOG=1 and the boards and the external
# watchdog cut the motors; a clock jump changes nothing in the control (CLOCK_MONOTONIC): the program
# keeps running and timing, the watchdog keeps being fed, only the fault log's dates move.
# The clock jump moves chaird's wall clock only, through an LD_PRELOAD shim (tests/faults/clockjump.c,
# compiled here) that offsets CLOCK_REALTIME by the seconds written in a file the test rewrites mid-run.
# `date -s` would move the whole machine's clock (and needs CAP_SYS_TIME), a time namespace
# (unshare --time) offsets only MONOTONIC and BOOTTIME, and libfaketime, even with
# FAKETIME_DONT_FAKE_MONOTONIC=1, shifts absolute CLOCK_MONOTONIC timerfd deadlines by the offset,
# which makes sd-event fail with EINVAL at the first jump: a test artefact, not the daemon's.
set -euo pipefail
source "$(dirname "$0")/lib-faults.sh"

WATCHDOG=400000
CLOCKJUMP=$T/libclockjump.so
${CC:-cc} -O2 -shared -fPIC -o "$CLOCKJUMP" "$TOP/tests/faults/clockjump.c" -ldl ||
        die "cannot build the clock-jump shim"

start_bus
start_sim
make_root tcp
echo 0 >"$T/clock-offset"
start_chaird() { # with the wall-clock shim and the systemd watchdog on
        LD_PRELOAD=$CLOCKJUMP CLOCKJUMP_FILE=$T/clock-offset WATCHDOG_USEC=$WATCHDOG start_daemon
}
start_chaird
maint_detect
kicks() { grep -c 'WATCHDOG=1' "$T/notify.log" || true; }
mono_us() { $PY -c 'import time; print(time.monotonic_ns() // 1000)'; }
# max_gap FROM TO: longest gap between WATCHDOG=1 in that CLOCK_MONOTONIC window (µs)
max_gap() {
        awk -v a="$1" -v b="$2" '$2 == "WATCHDOG=1" && $1 >= a && $1 <= b {
                if (p) { g = $1 - p; if (g > m) m = g }; p = $1; n++ } END { print (n > 1 ? m : -1) }' "$T/notify.log"
}

# ---- SIGKILL -------------------------------------------------------------------------------------
# something in the fault log and the counters first, so "kept" below has something to keep
$CHAIR EmergencyStop >/dev/null
reset_chair
mark
check "SIGKILL: program running" run_program quick-10 5
sim wait 'roller.speed>10' --timeout 5 >/dev/null
mcheck "SIGKILL: the session is counted before the kill" delta sessions 1
[ "$HAVE_MAINT" = 1 ] && { counters | grep -v '^operating-seconds ' >"$T/counters.kill"; faults >"$T/faults.kill"; }
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
check "SIGKILL: relay falls open (the GPIO outputs' owner is gone)" sim wait relay==0 --timeout 2
check "SIGKILL: the roller board trips on its own and stops" \
        sim wait board.roller.tripped==1 roller.speed==0 --timeout 2
start_chaird
check "SIGKILL: restart latched, reason unclean-restart" expect_latched unclean-restart
check "SIGKILL: restart keeps everything safe" safe_hw full
expect_estop_logged "SIGKILL" unclean-restart
if [ "$HAVE_MAINT" = 1 ]; then
        counters | grep -v '^operating-seconds ' >"$T/counters.restart"
        faults >"$T/faults.restart"
fi
kept_counters() { # every counter as before, except the two the unclean restart adds and faults-logged
        diff <(grep -vE '^(estops|estops.unclean-restart|faults-logged) ' "$T/counters.kill") \
                <(grep -vE '^(estops|estops.unclean-restart|faults-logged) ' "$T/counters.restart")
}
kept_faults() { # the log before the kill is the start of the log after it
        diff "$T/faults.kill" <(head -n "$(wc -l <"$T/faults.kill")" "$T/faults.restart")
}
mcheck "SIGKILL: every counter from before the kill kept" kept_counters
mcheck "SIGKILL: every fault-log entry from before the kill kept ($(wc -l <"$T/faults.kill" 2>/dev/null || echo 0))" kept_faults
check "SIGKILL: reset → idle" reset_chair

# ---- SIGSTOP -------------------------------------------------------------------------------------
check "SIGSTOP: program running" run_program quick-10 5
sim wait 'roller.speed>10' --timeout 5 >/dev/null
kill -STOP "$DAEMON_PID"
k0=$(kicks)
check "SIGSTOP: the roller board trips, the roller stops" \
        sim wait board.roller.tripped==1 roller.speed==0 roller.powered==0 --timeout 2
check "SIGSTOP: the external watchdog cuts the actuator power" sim wait wdt.tripped==1 power==0 --timeout 2
check "SIGSTOP: no WATCHDOG=1 while stopped (systemd would restart it latched)" test "$(kicks)" -eq "$k0"
kill -CONT "$DAEMON_PID"
check "SIGCONT: WATCHDOG=1 again" \
        timeout 5 bash -c "until [ \$(grep -c WATCHDOG=1 '$T/notify.log') -gt $k0 ]; do sleep 0.05; done"
# After a stall that tripped the boards' own comm timeout, the daemon must not simply carry on: its
# boards did a protective stop, and resuming the program unasked is an unexpected start (ISO 14118).
check "SIGCONT: latched after the stall (the boards had tripped)" wait_prop EStop true 2
$CHAIR EmergencyStop >/dev/null
check "SIGCONT: remote e-stop, reset → idle" reset_chair

# ---- wall clock jumps ----------------------------------------------------------------------------
check "clock jump: program running" run_program quick-10 5
c0=$($MAINT GetCycleStats | awk '{ print $2, $3 }')
for jump in 86400 -86400; do
        r0=$(chair_prop RemainingSeconds)
        t0=$(mono_us)
        echo "$jump" >"$T/clock-offset"
        q0=$(sim get board.roller.requests | cut -d= -f2)
        # about 3 s of control later
        sim wait "board.roller.requests>$((q0 + 600))" --timeout 20 >/dev/null
        t1=$(mono_us)
        r1=$(chair_prop RemainingSeconds)
        el=$(((t1 - t0) / 1000000))
        check "clock ${jump}s: program still running, not latched" \
                bash -c "[ \"\$(busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 State)\" = 's \"running\"' ]"
        check "clock ${jump}s: RemainingSeconds $r0 → $r1 follows the real $el s (±2)" \
                test $((r0 - r1)) -ge $((el - 2)) -a $((r0 - r1)) -le $((el + 2))
        gap=$(max_gap "$t0" "$t1")
        check "clock ${jump}s: watchdog fed all along (longest gap $gap µs)" test "$gap" -ge 0 -a "$gap" -lt "$WATCHDOG"
done
c1=$($MAINT GetCycleStats | awk '{ print $2, $3 }')
echo "# cycles/late before the jumps: $c0, after: $c1"
mark
$CHAIR EmergencyStop >/dev/null
check "clock jumped: remote e-stop latches" expect_latched remote
stamp_shifted() { # the fault log's date is the faked wall clock: the jump did reach the daemon
        local t now
        t=$(faults | tail -n 1 | awk '{ print int($1 / 1000000) }')
        now=$(date +%s)
        echo "# last fault-log date $t, real now $now" >&2
        [ $((now - t)) -gt 86000 ] && [ $((now - t)) -lt 86800 ]
}
mcheck "clock -86400 s: the fault log is dated a day back (the daemon saw the jump)" stamp_shifted
check "clock jumped: reset → idle" reset_chair
persisted_check
finish_faults
