#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The touchscreen's view (issue 4): a python3-dbus client subscribes to PropertiesChanged, scans the
# body, starts a real program, watches State and RemainingSeconds, e-stops and resets. The demo does
# the same with busctl. Also: PropertiesChanged of fast properties stays under 20 Hz.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_chair --shoulder 200

if $PY "$TOP/tests/lib/touchscreen.py" quick-10 200 >"$T/touchscreen.out" 2>&1; then
        ok "touchscreen client scenario"
else
        not_ok "touchscreen client scenario"
fi
sed 's/^/    /' "$T/touchscreen.out"

# Rate of RollerPosition PropertiesChanged while a program runs, counted with gdbus monitor.
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 StartProgram su swedish-back 3
timeout 3 gdbus monitor --system --dest org.chaird.Chair1 --object-path /org/chaird/Chair1 >"$T/monitor.out" 2>&1 || true
n=$(grep -c "'RollerPosition'" "$T/monitor.out" || true)
check "RollerPosition published (${n} updates in ~3 s)" test "$n" -gt 5
check "RollerPosition rate-limited to ≤ 20 Hz (${n} in ~3 s)" test "$n" -le 66
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 Stop
check "Stop parks the roller and returns to idle" wait_prop State idle 60
finish
