#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `make demo`: a private system-like bus, chair-sim over Modbus TCP and chaird on the example config.
# Plays the touchscreen over D-Bus: body scan, a real massage program, prints a live line twice a
# second, presses the simulated e-stop mid-program, resets it, and shuts everything down cleanly.
# DEMO_KEEP=1 keeps the chair running afterwards so you can play with it (Ctrl-C ends it).
set -euo pipefail
BUILD=${1:-build}
export BUILD
source "$(dirname "$0")/../tests/lib/lib.sh"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

live_line() {
        $PY "$TOP/tools/demo-status.py" "$SIM" "$T/sim" once
}

start_printer() {
        $PY "$TOP/tools/demo-status.py" "$SIM" "$T/sim" &
        PRINTER=$!
        PIDS+=($PRINTER)
}

jog() {
        busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 Jog sd "$1" "$2"
}

export DEMO_T0=$($PY -c 'import time; print(time.monotonic())')
say "Starting a private D-Bus system bus, chair-sim (Modbus TCP) and chaird"
start_bus
start_sim
make_root tcp
start_daemon
echo "  chaird owns org.chaird.Chair1 on $DBUS_SYSTEM_BUS_ADDRESS (READY=1 received)"
start_printer

B="busctl --system call org.chaird.Chair1 /org/chaird/Chair1"

say "Technician check: jog the roller to 120 mm (org.chaird.Maintenance1.Jog)"
$B org.chaird.Maintenance1 Jog sd roller 120
wait_prop State idle 30 || die "jog did not finish"

say "Touchscreen: body scan (the roller finds the shoulders from the force profile)"
$B org.chaird.Chair1 StartBodyScan
wait_prop BodyScanned true 90 || die "body scan failed: $(chair_prop LastScanError)"
printf '  shoulders at %.1f mm; the neck zone' "$(chair_prop ShoulderPosition)"
echo " moves from the conservative one to the scanned one"

say "Touchscreen: the programs the chair offers"
$B org.chaird.Chair1 ListPrograms | $PY -c '
import re, sys
for pid, name, _, secs in re.findall(r"\"([^\"]*)\" \"([^\"]*)\" \"([^\"]*)\" (\d+)", sys.stdin.read()):
    print("  %-20s %-28s %2d min" % (pid, name, int(secs) // 60))'

say "Touchscreen: start \"neck-and-shoulder\" at intensity 5"
$B org.chaird.Chair1 StartProgram su neck-and-shoulder 5
wait_prop State running 5 || die "program did not start"
sim wait 'roller.powered==1' --timeout 10 >/dev/null
# let it run for a while so the live line shows the roller working (a display pace, not a wait)
end=$((SECONDS + ${DEMO_RUN_SECONDS:-12}))
while [ $SECONDS -lt $end ]; do sleep 1; done

say "Emergency stop button pressed during the program"
sim estop press
sim wait relay==0 roller.powered==0 --timeout 5 >/dev/null && echo "  chair-sim: power relay off, roller stopped"
wait_prop EStop true 5 || die "EStop did not latch"
live_line

say "Reset while the button is still pressed (refused)"
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop 2>&1 |
        sed 's/^/  /' || true
say "Release the button and reset: back to idle, nothing resumes"
sim estop release
wait_prop EStopPressed false 5 || die "chaird did not see the release"
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop
wait_prop State idle 5 || die "reset did not return to idle"
echo "  active program after reset: '$(chair_prop ActiveProgram)' (never resumed)"
live_line

if [ -n "${DEMO_KEEP:-}" ]; then
        say "Chair running. Try, in another shell:"
        cat <<EOT
  export DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS
  busctl --system introspect org.chaird.Chair1 /org/chaird/Chair1
  busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 Jog sd roller 300
  $SIM --run-dir $T/sim estop press        # and: estop release, sit --shoulder 200, get, fault roller timeout
  Ctrl-C here stops everything.
EOT
        trap 'echo; say "Stopping"; exit 0' INT TERM
        while :; do sleep 1; done
fi

say "Shutting down (SIGTERM: chaird drives everything to the safe state first)"
kill "$PRINTER" 2>/dev/null || true
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" && echo "  chaird exited 0"
sim wait relay==0 --timeout 5 >/dev/null && echo "  chair-sim: relay off"
echo "demo finished"
