#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 3's scenarios against chair-sim, asserting what the simulated hardware sees:
#  - e-stop button during a program: relay off, every motor output safe; reset refused while pressed;
#    after release → idle, nothing moves, the program is not resumed (SR-1, SR-2, SR-3)
#  - force in the neck zone: the commanded force is clamped before it is sent (SR-10, SR-16), a force
#    over the zone limit for the window → retract (SR-11), over the hard limit → e-stop (SR-12)
#  - interlock key removed in untrained mode → the roller leaves the neck zone and stops, back to
#    program mode (SR-17)
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_chair
gdbus monitor --system --dest org.chaird.Chair1 >"$T/monitor.log" 2>&1 &
PIDS+=($!)

B="busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1"
event() { # event KIND REGEX: a SafetyEvent of that kind whose detail matches
        wait_for_line "$T/monitor.log" "SafetyEvent \('$1', '.*$2" 5
}

# ---- body scan (needed for untrained mode), then a program and the button -----------------------
$B StartBodyScan
check "body scan done" wait_prop BodyScanned true 90
$B StartProgram su quick-10 6
check "program running, roller powered" sim wait roller.powered==1 --timeout 10
sim estop press
check "button: relay off" sim wait relay==0 --timeout 1
check "button: roller disabled, airbags vent, heat off" sim wait roller.enable==0 airbag.shoulders.command==0 \
        airbag.arms.command==0 airbag.hips.command==0 airbag.legs.command==0 heat.enable==0 --timeout 2
check "button: SafetyEvent estop" event estop button
check "reset refused while pressed" bash -c "! $B ResetEmergencyStop 2>/dev/null"
sim estop release
check "release seen" wait_prop EStopPressed false 5
$B ResetEmergencyStop
check "reset → idle" wait_prop State idle 5
check "program not resumed" test -z "$(chair_prop ActiveProgram)"
check "nothing moves after reset" sim wait roller.enable==0 roller.speed==0 --timeout 2

# ---- untrained mode: clamp, over-limit window → retract, hard limit → e-stop --------------------
sim interlock on
check "interlock seen" wait_prop InterlockEngaged true 5
$B EnterUntrainedMode
check "mode untrained" wait_prop Mode untrained 5
neck_to=$(busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 NeckZone | awk '{print $3}')
$B ManualControl dsu 150 rolling 4
check "roller at 150 mm, in the neck zone" sim wait 'roller.position>149' 'roller.position<151' --timeout 15
check "commanded force clamped to the neck's untrained limit (20 N) on the bus" \
        sim wait 'roller.force_setpoint<=20' 'roller.force_setpoint>0' --timeout 2
check "SafetyEvent for the clamp" event limit "neck|untrained|force"
# A slow rise (a real body tensing), not a step: a step would be a rate-of-change sensor fault (SR-21).
sim sensor roller.force ramp 30 100
check "measured force over the limit for the window → retract" event retract ""
check "retract: roller target moved toward the seat" sim wait 'roller.target>150' --timeout 2
check "retract: force setpoint reduced" sim wait 'roller.force_setpoint<=10' --timeout 2
sim sensor roller.force ramp 75 100
check "hard limit → e-stop" wait_prop EStop true 5
check "reason hard-force" bash -c "[[ \"\$(busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 EStopReason)\" == *hard-force* ]]"
check "hard limit: relay off, roller disabled" sim wait relay==0 roller.enable==0 --timeout 2
check "latching left untrained mode" wait_prop Mode program 5
sim sensor roller.force normal
$B ResetEmergencyStop
check "reset after the force fault" wait_prop State idle 5

# ---- interlock removed in untrained mode ---------------------------------------------------------
$B EnterUntrainedMode
$B ManualControl dsu 150 rolling 2
check "back at 150 mm in the neck" sim wait 'roller.position>149' 'roller.position<151' --timeout 15
sim interlock off
check "SafetyEvent interlock" event interlock ""
check "roller leaves the neck zone (past ${neck_to} mm)" sim wait "roller.position>$neck_to" --timeout 10
check "roller stops" sim wait roller.speed==0 --timeout 5
check "no pressure during the controlled stop" sim wait 'roller.force_setpoint<=0' --timeout 1
check "back to program mode" wait_prop Mode program 5
check "session over: idle" wait_prop State idle 10
check "relay stays on (controlled stop, not e-stop)" sim wait relay==1 --timeout 1
finish
