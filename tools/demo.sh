#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `make demo`: a private system-like bus, chair-sim over Modbus TCP and chaird on the example config.
# Moves the roller through a short sequence over D-Bus (Maintenance1.Jog), prints a live line twice a
# second, presses the simulated e-stop mid-motion, resets it, and shuts everything down cleanly.
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

say "Starting a private D-Bus system bus, chair-sim (Modbus TCP) and chaird"
start_bus
start_sim
make_root tcp
start_daemon
echo "  chaird owns org.chaird.Chair1 on $DBUS_SYSTEM_BUS_ADDRESS (READY=1 received)"
start_printer

for target in 150 420 260; do
        say "Jog the roller to $target mm"
        jog roller "$target"
        wait_prop State idle 30 || die "jog to $target did not finish"
done

say "Jog to 600 mm and press the emergency stop half-way"
jog roller 600
sim wait 'roller.position>450' --timeout 20 >/dev/null
sim estop press
sim wait relay==0 roller.speed==0 --timeout 5 >/dev/null && echo "  chair-sim: power relay off, roller stopped"
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
