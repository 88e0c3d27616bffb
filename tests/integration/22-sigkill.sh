#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SIGKILL of chaird mid-motion: the roller board's own comm timeout (its heartbeat register stops
# changing) stops the motors without any help from the daemon; the next start comes up latched with
# reason unclean-restart and stays still.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_chair

busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 Jog sd roller 650
check "roller moving" sim wait 'roller.speed>10' --timeout 10
# Keep the relay closed the way a stuck relay driver would, so only the board-side timeout can stop it:
# hold POWER_EN high from a second GPIO client that outlives the daemon.
$PY - "$T/sim/gpio.sock" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"set POWER_EN 1\n")
time.sleep(30)
PYEOF
HOLDER=$!
PIDS+=($HOLDER)
sim wait relay==1 --timeout 5 >/dev/null
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
check "board-side comm timeout trips after SIGKILL" sim wait board.roller.tripped==1 --timeout 2
check "roller stopped by the board itself" sim wait roller.speed==0 roller.powered==0 --timeout 2
check "relay was still held (the board stopped on its own)" sim wait relay==1 --timeout 1
kill "$HOLDER"

start_daemon
check "restart comes up latched" test "$(chair_prop EStop)" = true
check "restart reason unclean-restart" test "$(chair_prop EStopReason)" = unclean-restart
check "state estop after unclean restart" test "$(chair_prop State)" = estop
check "relay stays off while latched" sim wait relay==0 roller.enable==0 --timeout 2
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop
check "reset after unclean restart: idle" wait_prop State idle 5
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true
check "clean stop leaves no running marker" test ! -e "$ROOT/var/lib/chaird/running"
finish
