#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# chaird under valgrind memcheck through one whole scenario: start, a program, the e-stop button, a
# bus fault and its recovery, a remote e-stop, a refused and an accepted reload, the technician's
# calls, and a clean SIGTERM. Expected: zero memcheck errors and no definitely or indirectly lost
# bytes (--error-exitcode, and the summary lines are checked too). valgrind runs the daemon some 20-50
# times slower: the loop runs at 10 Hz with patient boards here, and READY=1 gets 90 s.
set -euo pipefail
source "$(dirname "$0")/../faults/lib-faults.sh"

if ! command -v valgrind >/dev/null; then
        not_ok "valgrind is missing (Debian package valgrind)"
        finish
fi
REAL_CHAIRD=$CHAIRD

start_bus
start_sim
make_root tcp "[Chair]
ControlRateHz=10
[Board roller]
ResponseTimeoutMs=200
CommLossMs=2000
CommTimeoutMs=5000
[Board airbag]
ResponseTimeoutMs=200
CommLossMs=2000
CommTimeoutMs=5000
[Board base]
ResponseTimeoutMs=200
CommLossMs=2000
CommTimeoutMs=5000
[Limits]
StuckMs=10000"

# start_daemon with valgrind in front and a longer wait for READY=1
start_notify
NOTIFY_SOCKET=$T/notify.sock CHAIRD_LOG_LEVEL=info \
        valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=99 --track-fds=no --log-file="$T/valgrind.log" \
        "$REAL_CHAIRD" --root "$ROOT" >>"$T/chaird.log" 2>&1 &
DAEMON_PID=$!
PIDS+=($DAEMON_PID)
timeout 90 bash -c "until grep -q 'READY=1' '$T/notify.log'; do
        kill -0 $DAEMON_PID 2>/dev/null || exit 1
        inotifywait -qq -t 1 -e modify '$T/notify.log' 2>/dev/null || true
done" || die "chaird under valgrind did not send READY=1"
maint_detect

check "program runs under valgrind" run_program quick-10 5
sim estop press
check "button: latched" wait_prop EStop true 20
sim estop release
check "button: released" wait_prop EStopPressed false 20
check "button: reset" reset_chair 30
sim fault airbag timeout
check "bus fault: comm-loss:airbag" wait_prop EStop true 30
sim fault airbag none
check "bus fault: reset once the board answers" reset_chair 60
$CHAIR EmergencyStop >/dev/null
check "remote e-stop: reset" reset_chair 30
printf '[Limits\n' >"$ROOT/run/chaird/chaird.conf.d/90-bad.conf"
check "bad reload refused" bash -c "! $MAINT Reload 2>/dev/null"
rm "$ROOT/run/chaird/chaird.conf.d/90-bad.conf"
check "good reload accepted" $MAINT Reload
mcheck "technician calls answer" bash -c "$MAINT GetFaults >/dev/null && $MAINT GetCounters >/dev/null && $MAINT GetLimits >/dev/null"

kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
check "chaird exited 0 under valgrind (99 = memcheck errors or leaks)" test "$rc" -eq 0
echo "# valgrind: $(grep -E 'ERROR SUMMARY|definitely lost|indirectly lost' "$T/valgrind.log" | tr '\n' ' ')"
check "memcheck ran the daemon" grep -q "Memcheck" "$T/valgrind.log"
check "memcheck: ERROR SUMMARY: 0 errors" grep -q "ERROR SUMMARY: 0 errors" "$T/valgrind.log"
check "memcheck: nothing definitely or indirectly lost" \
        bash -c "! grep -qE '(definitely|indirectly) lost: [1-9]' '$T/valgrind.log'"
finish
