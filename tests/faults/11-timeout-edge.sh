#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault matrix, replies at the edge of the response timeout (Modbus TCP). The roller board gets a
# 30 ms response timeout and the loop 10 Hz here: three roller requests at just under the timeout
# still fit one period, so the loop stays on time (a faster loop would overrun every cycle, freeze
# the heartbeat and let the external watchdog cut the power: safe, but another fault, see
# docs/reliability.md), and 8 ms of margin covers a loaded two-core CI machine.
#  - replies at 73 % of the timeout: nothing is lost, the program keeps running, the external
#    watchdog stays armed, no board-lost entry;
#  - replies at 150 % of the timeout: every poll misses, comm-loss:roller after MaxMissedPolls, and
#    the late replies are never taken for the answers to later requests.
set -euo pipefail
source "$(dirname "$0")/lib-faults.sh"

start_bus
start_sim
make_root tcp "[Chair]
ControlRateHz=10
[Board roller]
ResponseTimeoutMs=30
CommLossMs=1000"
start_daemon
maint_detect

check "program running" run_program quick-10 5
mark
sim fault roller slow 22
r0=$(sim get board.roller.requests | cut -d= -f2)
p0=$(chair_prop RollerPosition)
check "just under: 40 slow replies answered" sim wait "board.roller.requests>$((r0 + 40))" --timeout 20
check "just under: no e-stop" test "$(chair_prop EStop)" = false
check "just under: program still running" test "$(chair_prop State)" = running
check "just under: external watchdog not tripped, roller powered" sim wait wdt.tripped==0 roller.powered==1 --timeout 1
check "just under: the daemon's roller position is still fresh (moved from $p0)" \
        test "$(chair_prop RollerPosition)" != "$p0"
mcheck "just under: no board-lost entry" not_logged_since '^board-lost:'
mcheck "just under: no e-stop counted" delta estops 0

sim fault roller slow 45
check "just over: e-stop comm-loss:roller" expect_latched comm-loss:roller
check "just over: relay open, roller unpowered" safe_hw
mcheck "just over: fault log board-lost:roller" logged_since board-lost:roller
expect_estop_logged "just over" comm-loss:roller
sim fault roller none
check "just over: late replies flushed, reset → idle" reset_chair
check "just over: board polled normally again" sim wait "board.roller.fault==none" --timeout 1
mcheck "just over: board-recovered:roller" logged_since board-recovered:roller
finish_faults
