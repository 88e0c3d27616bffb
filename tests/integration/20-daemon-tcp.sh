#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The walking skeleton over Modbus TCP: chaird starts on the example config, owns its bus name, drives
# the simulated roller where a jog asks, keeps every board's heartbeat going, and the e-stop button cuts
# the relay and stops the motors; reset is refused while pressed and returns to idle after release;
# SIGTERM leaves everything safe.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_chair

check "bus name owned before READY=1" busctl --system status org.chaird.Chair1 >/dev/null
check "state idle after start" test "$(chair_prop State)" = idle
check "not latched after a clean first start" test "$(chair_prop EStop)" = false
check "relay closed when not latched" sim wait relay==1 --timeout 5
hb1=$(sim get board.roller.heartbeat | cut -d= -f2)
check "board comm timeout written at connect" sim wait board.roller.comm_timeout==250 --timeout 5
check "roller heartbeat register advances" sim wait "board.roller.heartbeat!=$hb1" --timeout 5
check "airbag heartbeat register advances (slower poll)" sim wait "board.airbag.requests>5" --timeout 5

busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 Jog sd roller 320
check "jog drives the simulated roller to its target" sim wait 'roller.position>319' 'roller.position<321' --timeout 15
check "state back to idle when the jog is done" wait_prop State idle 5
check "RollerPosition property follows the roller" \
        $PY -c "import sys; sys.exit(0 if abs(float('$(chair_prop RollerPosition)') - 320) < 2 else 1)"
check "jog outside the track is refused with InvalidArgument" \
        bash -c "busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 Jog sd roller 9999 2>&1 | grep -q 'outside'"

busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 Jog sd roller 600
sim wait 'roller.position>400' --timeout 15 >/dev/null
sim estop press
check "e-stop button: relay off and roller stopped" sim wait relay==0 roller.speed==0 roller.powered==0 --timeout 2
check "e-stop button: roller enable written 0" sim wait roller.enable==0 --timeout 2
check "EStop latched" wait_prop EStop true 5
check "EStopPressed while held" test "$(chair_prop EStopPressed)" = true
check "EStopReason is button" test "$(chair_prop EStopReason)" = button
check "state estop" test "$(chair_prop State)" = estop
check "reset refused while the button is pressed" \
        bash -c "! busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop 2>/dev/null"
check "still latched after the refused reset" test "$(chair_prop EStop)" = true
sim estop release
check "daemon sees the release (debounced)" wait_prop EStopPressed false 5
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop
check "reset after release: idle" wait_prop State idle 5
pos=$(sim get roller.position | cut -d= -f2)
check "no motion resumes after reset" sim wait roller.enable==0 roller.speed==0 --timeout 2
check "roller did not move after reset" \
        $PY -c "import sys; sys.exit(0 if abs(float('$(sim get roller.position | cut -d= -f2)') - $pos) < 0.5 else 1)"
check "journal/stderr names the e-stop" grep -q "e-stop button" "$T/chaird.log"

kill -TERM "$DAEMON_PID"
check "SIGTERM: chaird exits 0" wait "$DAEMON_PID"
check "SIGTERM: STOPPING=1 sent" grep -q STOPPING=1 "$T/notify.log"
check "SIGTERM: relay off and roller disabled" sim wait relay==0 roller.enable==0 --timeout 5
finish
