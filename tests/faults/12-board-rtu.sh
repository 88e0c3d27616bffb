#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault matrix, Modbus RTU on a pty: replies of random bytes and replies with a wrong CRC, each during a
# program. Expected (SR-8): the corrupted replies are never taken as data, the board counts as lost,
# e-stop comm-loss:roller with the relay open; the link resynchronises by itself once the board is
# healthy again (no reconnect on RTU) and the reset works.
set -euo pipefail
source "$(dirname "$0")/lib-faults.sh"

start_bus
start_pty_pair
start_sim --rtu "$T/tty.sim"
make_root rtu
start_daemon
maint_detect

rtu_fault() {
        local name=$1 kind=$2
        check "$name: program running over RTU" run_program quick-10 5
        mark
        sim fault roller "$kind"
        check "$name: e-stop comm-loss:roller, session ended" expect_latched comm-loss:roller
        check "$name: relay open, roller unpowered and still" safe_hw
        mcheck "$name: fault log board-lost:roller" logged_since board-lost:roller
        expect_estop_logged "$name" comm-loss:roller
        sim fault roller none
        check "$name: link resynchronised, reset → idle" reset_chair
        check "$name: nothing moves after the reset" sim wait roller.enable==0 roller.speed==0 --timeout 2
        check "$name: the daemon reads the true position again (±0.5 mm)" same_position
}

# The position the daemon publishes is the board's, not a stale value or decoded noise.
same_position() {
        $PY -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 0.5)' \
                "$(chair_prop RollerPosition)" "$(sim get roller.position | cut -d= -f2)"
}

rtu_fault "RTU garbage" garbage
rtu_fault "RTU bad CRC" crc
persisted_check
finish_faults
