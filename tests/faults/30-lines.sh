#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault matrix, GPIO lines, each during a program or manual session: a bouncing e-stop button, a broken
# e-stop wire, a flapping interlock key, the occupant leaving. Expected: the button latches once with
# reason button (SR-2, SR-3) however much it bounces; a broken wire reads as pressed and keeps reset
# refused until repaired; losing the key leaves untrained mode with a controlled stop out of the neck,
# and getting it back resumes nothing (SR-17); an empty seat ends the session with a controlled stop,
# no e-stop (SR-20).
set -euo pipefail
source "$(dirname "$0")/lib-faults.sh"

start_chair
maint_detect
gdbus monitor --system --dest org.chaird.Chair1 >"$T/monitor.log" 2>&1 &
PIDS+=($!)
events() { grep -cE "SafetyEvent \('$1'" "$T/monitor.log" || true; }

# ---- e-stop bounce: six edges within a few ms ----------------------------------------------------
check "bounce: program running" run_program quick-10 5
mark
for _ in 1 2 3; do sim estop press; sim estop release; done
check "bounce: latched with reason button, session ended" expect_latched button
check "bounce: safe state on every board" safe_hw full
check "bounce: the button reads released" wait_prop EStopPressed false 5
mcheck "bounce: counted once (estops +1, estops.button +1)" estop_counted button
mcheck "bounce: one fault-log entry estop:button" \
        bash -c "[ \"\$(grep -cxF estop:button <<<'$(faults_since_mark)')\" -eq 1 ]"
check "bounce: reset → idle, program not resumed" reset_chair
check "bounce: nothing moves" sim wait roller.enable==0 roller.speed==0 --timeout 2

# ---- broken e-stop wire: the normally-closed loop opens for good ----------------------------------
check "broken wire: program running" run_program quick-10 5
mark
sim estop break
check "broken wire: latched with reason button" expect_latched button
check "broken wire: safe state on every board" safe_hw full
check "broken wire: the line reads pressed" wait_prop EStopPressed true 2
expect_estop_logged "broken wire" button
check "broken wire: reset refused while the wire is broken" bash -c "! $CHAIR ResetEmergencyStop 2>/dev/null"
check "broken wire: still latched, relay open" sim wait relay==0 --timeout 1
sim estop repair
check "broken wire: repaired, reset → idle" reset_chair

# ---- interlock key flapping in untrained mode -----------------------------------------------------
$CHAIR StartBodyScan >/dev/null
check "interlock: body scan done" wait_prop BodyScanned true 90
sim interlock on
check "interlock: key seen" wait_prop InterlockEngaged true 5
$CHAIR EnterUntrainedMode >/dev/null
$CHAIR ManualControl dsu 150 rolling 2 >/dev/null
check "interlock: manual work at 150 mm (neck)" sim wait 'roller.position>149' 'roller.position<151' --timeout 15
neck_to=$(busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 NeckZone | awk '{print $3}')
mark
i0=$(events interlock)
sim interlock off
check "interlock: key lost → program mode" wait_prop Mode program 5
sim interlock on
check "interlock: key back" wait_prop InterlockEngaged true 5
sim interlock off
check "interlock: key lost again" wait_prop InterlockEngaged false 5
sim interlock on
check "interlock: the loss in untrained mode raised a SafetyEvent" \
        timeout 5 bash -c "until [ \$(grep -c \"SafetyEvent ('interlock'\" '$T/monitor.log') -gt $i0 ]; do sleep 0.05; done"
check "interlock: every key change a SafetyEvent (4 changes)" \
        timeout 2 bash -c "until [ \$(grep -c \"SafetyEvent ('interlock'\" '$T/monitor.log') -ge $((i0 + 4)) ]; do sleep 0.05; done"
check "interlock: roller left the neck (past $neck_to mm) and stopped" \
        sim wait "roller.position>$neck_to" roller.speed==0 --timeout 10
check "interlock: session over, idle, no pressure" wait_prop State idle 10
check "interlock: the key's return resumed nothing (program mode, no force)" \
        bash -c "[ \"\$(busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 Mode)\" = 's \"program\"' ] &&
                 $SIM --run-dir $T/sim wait 'roller.force_setpoint<=0' --timeout 1 >/dev/null"
check "interlock: controlled stop, not an e-stop (relay on)" sim wait relay==1 --timeout 1
mcheck "interlock: no e-stop counted" delta estops 0

# ---- occupancy lost during a program ------------------------------------------------------------
check "seat: program running" run_program quick-10 5
mark
sim stand
check "seat: occupant gone" wait_prop Occupied false 5
settled() { # the session is over one way or the other
        local st
        st=$(chair_prop State)
        [ "$st" = idle ] || [ "$st" = estop ]
}
check "seat: the session ended" timeout 15 bash -c "$(declare -f settled chair_prop busctl_get); PY=$PY
        until settled; do sleep 0.05; done"
check "seat: no program left" test -z "$(chair_prop ActiveProgram)"
check "seat: roller still, heater off, airbags vent" sim wait roller.speed==0 heat.enable==0 \
        airbag.shoulders.command==0 airbag.arms.command==0 airbag.hips.command==0 airbag.legs.command==0 --timeout 5
# The contact force falls to zero at once when the person gets up, before the seat line's 200 ms
# debounce: a fall is not a rate fault (SR-21), so the occupancy rule's controlled stop acts.
check "seat: a controlled stop (SR-20), not an e-stop" test "$(chair_prop EStop)" = false
check "seat: no e-stop counted" delta estops 0
[ "$(chair_prop EStop)" = false ] || reset_chair
check "seat: a new start is refused (NotOccupied)" \
        bash -c "$CHAIR StartProgram su quick-10 5 2>&1 | grep -qi 'nobody\|occupied'"
sim sit
check "seat: someone sits again, a program starts" run_program quick-10 5
$CHAIR Stop >/dev/null
check "seat: stopped → idle" wait_prop State idle 20

persisted_check
finish_faults
