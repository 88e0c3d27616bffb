#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault matrix, Modbus TCP: a board that times out, answers with an exception, sends garbage, drops
# the connection, and one board dead while the other keeps working, each injected during a program.
# Expected every time (SR-8): e-stop latched with reason comm-loss:<board>, relay open and nothing
# powered, the session ended, "board-lost:<board>" and "estop:comm-loss:<board>" in the fault log,
# e-stop counters +1; after the fault clears the reset works and the chair is idle.
set -euo pipefail
source "$(dirname "$0")/lib-faults.sh"

start_chair
maint_detect

# bus_fault NAME BOARD KIND [ARG]: one fault, its end state, recovery.
bus_fault() {
        local name=$1 board=$2
        shift 2
        check "$name: program running before the fault" run_program quick-10 5
        mark
        sim fault "$board" "$@"
        check "$name: e-stop comm-loss:$board, session ended" expect_latched "comm-loss:$board"
        check "$name: relay open, roller unpowered and still" safe_hw
        mcheck "$name: fault log board-lost:$board" logged_since "board-lost:$board"
        expect_estop_logged "$name" "comm-loss:$board"
        check "$name: reset refused while the board is faulty" bash -c "! $CHAIR ResetEmergencyStop 2>/dev/null"
        sim fault "$board" none
        check "$name: reset once the board answers → idle" reset_chair
        mcheck "$name: fault log board-recovered:$board" logged_since "board-recovered:$board"
        check "$name: nothing moves after the reset" sim wait roller.enable==0 roller.speed==0 --timeout 2
}

bus_fault "timeout" roller timeout
bus_fault "exception 04" roller exception 4
bus_fault "garbage" roller garbage

# A dropped connection takes every board on the shared gateway: the first one found lost names the stop.
check "disconnect: program running" run_program quick-10 5
mark
sim fault roller disconnect
check "disconnect: e-stop comm-loss:<board>, session ended" expect_latched "comm-loss:(roller|airbag|base)"
check "disconnect: relay open, roller unpowered" safe_hw
mcheck "disconnect: fault log board-lost:roller" logged_since board-lost:roller
expect_estop_logged disconnect "$(chair_prop EStopReason)"
sim fault roller none
check "disconnect: reconnects, reset → idle" reset_chair 15

# One of the boards dead: the others keep being polled, the loop does not stall.
check "one board dead: program running" run_program quick-10 5
mark
sim fault airbag timeout
check "one board dead: e-stop comm-loss:airbag" expect_latched comm-loss:airbag
check "one board dead: relay open" safe_hw
r0=$(sim get board.roller.requests | cut -d= -f2)
check "one board dead: roller board still polled (≥ 50 requests)" \
        sim wait "board.roller.requests>$((r0 + 50))" --timeout 5
check "one board dead: roller board got the all-stop (enable 0)" sim wait roller.enable==0 --timeout 2
mcheck "one board dead: fault log board-lost:airbag" logged_since board-lost:airbag
mcheck "one board dead: roller never logged lost" not_logged_since '^board-lost:roller$'
expect_estop_logged "one board dead" comm-loss:airbag
sim fault airbag none
check "one board dead: reset → idle" reset_chair

persisted_check
finish_faults
