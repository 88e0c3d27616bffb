#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The same chair over Modbus RTU: one multi-drop link on a socat pty pair, chair-sim adding the real
# frame time of 115200 baud, the control loop at 50 Hz. Jog moves the roller, every board answers, and
# the e-stop stops it.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_bus
start_pty_pair
start_sim --rtu "$T/tty.sim" --baud 115200 --wire-time
# 50 Hz: what 115200 baud carries for this map with room to spare; a little more response time than
# on TCP, since the simulator's replies wait for their real frame time.
make_root rtu "[Chair]
ControlRateHz=50
[Board roller]
ResponseTimeoutMs=40
CommLossMs=300"
start_daemon

check "RTU: relay closed" sim wait relay==1 --timeout 5
check "RTU: all three boards polled" sim wait 'board.roller.requests>20' 'board.airbag.requests>3' 'board.base.requests>3' --timeout 10
check "RTU: no board tripped" sim wait board.roller.tripped==0 board.airbag.tripped==0 board.base.tripped==0 --timeout 2
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 Jog sd roller 250
check "RTU: jog reaches the target" sim wait 'roller.position>249' 'roller.position<251' --timeout 15
check "RTU: state idle after jog" wait_prop State idle 5
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 Jog sd roller 500
sim wait 'roller.position>300' --timeout 10 >/dev/null
sim estop press
check "RTU: e-stop cuts relay and stops roller" sim wait relay==0 roller.speed==0 --timeout 2
check "RTU: roller enable written 0 over the link" sim wait roller.enable==0 --timeout 2
check "RTU: EStop latched" wait_prop EStop true 5
sim estop release
kill -TERM "$DAEMON_PID"
check "RTU: SIGTERM exits 0" wait "$DAEMON_PID"
finish
