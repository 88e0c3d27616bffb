#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SR-5: systemd's watchdog is fed only by control cycles that finish on time. We play systemd: own the
# NOTIFY_SOCKET, set WATCHDOG_USEC, and watch WATCHDOG=1 come, stop while the loop is late (a slow
# board makes every cycle overrun; SIGSTOP stops it altogether), and come back when it is on time again.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_bus
start_sim
make_root tcp
export WATCHDOG_USEC=400000
start_daemon
unset WATCHDOG_USEC

kicks() { grep -c 'WATCHDOG=1' "$T/notify.log" || true; }
req() { sim get board.roller.requests | cut -d= -f2; }

check "WATCHDOG=1 sent while cycles are on time" wait_for_line "$T/notify.log" 'WATCHDOG=1' 5

# Every roller request now takes 15 ms (under its 20 ms timeout: no comm loss), so each 10 ms cycle
# overruns. Wait until the board answered 30 slow requests, then no kick may have come after the first
# slow one.
sim fault roller slow 15
r0=$(req)
sim wait "board.roller.requests>$((r0 + 2))" --timeout 5 >/dev/null
k0=$(kicks)
sim wait "board.roller.requests>$((r0 + 32))" --timeout 10 >/dev/null
check "loop still running while late (requests advanced)" test "$(req)" -gt $((r0 + 32))
check "no WATCHDOG=1 from late cycles" test "$(kicks)" -eq "$k0"
check "late cycles did not latch the chair (board still within its timeout)" test "$(chair_prop EStop)" = false

sim fault roller none
check "WATCHDOG=1 resumes once cycles are on time" \
        timeout 5 bash -c "until [ \$(grep -c WATCHDOG=1 '$T/notify.log') -gt $k0 ]; do sleep 0.05; done"

# SIGSTOP: nothing at all reaches systemd (which would then kill and restart us latched).
kill -STOP "$DAEMON_PID"
k2=$(kicks)
check "stopped daemon: board-side timeout trips" sim wait board.roller.tripped==1 --timeout 3
check "stopped daemon: no WATCHDOG=1" test "$(kicks)" -eq "$k2"
kill -CONT "$DAEMON_PID"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
finish
