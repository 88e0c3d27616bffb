#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# chairctl against the running simulator and daemon (issue 5): every verb, their --json output parsed by
# Python's json module, the documented exit codes, config check of a broken OEM root (file:line, exit 1),
# the bus reached with --bus-address, and the man pages rendering.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"
CTL=$BUILD/chairctl
[ -x "$CTL" ] || die "$CTL not built"

# Generous board timeouts: this scenario runs for half a minute on a machine that may be busy, and it
# tests the CLI, not comm-loss (25-comm-loss.sh does).
TOLERANT=$(for b in roller airbag base; do printf '[Board %s]\nResponseTimeoutMs=200\nMaxMissedPolls=10\nCommLossMs=2000\n' $b; done)
export TOLERANT

start_bus
start_sim --shoulder 200
make_root tcp "$TOLERANT"
start_daemon

# json VERB... : runs chairctl --json VERB and prints the parsed document back (fails on invalid JSON)
json() {
        "$CTL" --json "$@" | $PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))'
}
# jq_py EXPR: evaluates a Python expression on the JSON document "d" read from stdin
jq_py() {
        $PY -c "import json,sys; d=json.load(sys.stdin); v=($1); print(v if isinstance(v,str) else json.dumps(v))"
}
# rc CMD...: prints the exit code
rc() {
        set +e
        "$@" >"$T/rc.out" 2>"$T/rc.err"
        local r=$?
        set -e
        echo $r
}

# expect_rc CODE PATTERN CMD...: the command exits with CODE and its stderr matches PATTERN
expect_rc() {
        local want=$1 pattern=$2
        shift 2
        [ "$(rc "$@")" = "$want" ] && grep -q -- "$pattern" "$T/rc.err"
}

# ---- status, programs, counters, limits, options ----
check "--version" bash -c "'$CTL' --version | grep -q '^chairctl '"
check "--help lists the commands and exit codes" bash -c "'$CTL' --help | grep -q 'registers BOARD KIND ADDR' && '$CTL' --help | grep -q '3 chaird not reachable'"
check "status is the default verb" bash -c "'$CTL' | grep -q 'State: idle'"
check "status --json parses" test "$(json status | jq_py 'd["State"]')" = idle
check "no colour when not a tty" bash -c "! '$CTL' status | grep -q $'\033'"
check "programs lists quick-10" bash -c "'$CTL' --no-pager programs | grep -q '^quick-10 '"
check "programs --json parses" test "$(json programs | jq_py '[p["id"] for p in d].count("quick-10")')" = 1
check "counters --json has the counters" test "$(json counters | jq_py 'sorted(k for k in d if k in ("operating-seconds","sessions","estops"))')" = '["estops", "operating-seconds", "sessions"]'
check "limits --json lists neck-max-force-n with its cap" test "$(json limits | jq_py '[l["cap"] for l in d if l["name"]=="neck-max-force-n"][0]')" = 35.0
check "usage error → exit 2" test "$(rc "$CTL" no-such-verb)" = 2
check "too many arguments → exit 2" test "$(rc "$CTL" status extra)" = 2
check "bad number → exit 2" test "$(rc "$CTL" jog roller abc)" = 2

# ---- limits: lower works and persists, raising above the cap is NotPermitted (exit 4) ----
check "lower neck limit" "$CTL" limits neck-max-force-n 30
check "lowered limit shown" test "$(json limits | jq_py '[l["value"] for l in d if l["name"]=="neck-max-force-n"][0]')" = 30.0
check "raising above the OEM cap → exit 4" test "$(rc "$CTL" limits neck-max-force-n 500)" = 4
check "… and names NotPermitted" grep -q NotPermitted "$T/rc.err"
check "limit not changed by the refusal" test "$(json limits | jq_py '[l["value"] for l in d if l["name"]=="neck-max-force-n"][0]')" = 30.0
check "unknown limit → exit 1 InvalidArgument" expect_rc 1 InvalidArgument "$CTL" limits nope 3
check "lowered limit persisted" grep -q '^limit.neck-max-force-n=30$' "$ROOT/var/lib/chaird/state"

# ---- registers: inside the map only ----
check "registers roller input 0 4" test "$(json registers roller input 0 4 | jq_py 'len(d["values"])')" = 4
check "heartbeat register readable" "$CTL" registers roller holding 6
check "register outside the map → exit 1 naming the address" \
        expect_rc 1 'address: holding register 8 of board roller' "$CTL" registers roller holding 8
check "register range running out of the map → refused" expect_rc 1 'address: input register 4' "$CTL" registers roller input 2 3
check "unknown board → InvalidArgument naming board" expect_rc 1 'board: no board "nope"' "$CTL" registers nope input 0
check "unknown kind → names kind" expect_rc 1 'kind: "bogus"' "$CTL" registers roller bogus 0
check "coil read of the base board" test "$(json registers base coil 0 2 | jq_py 'd["values"]')" = "[0, 0]"

# ---- selftest, jog, monitor ----
check "selftest passes on the healthy chair" bash -c "'$CTL' selftest >'$T/selftest.out'"
check "selftest table lists the relay" grep -q '^relay .*pass' "$T/selftest.out"
check "selftest --json parses, every row passed" test "$(json selftest | jq_py 'all(r["passed"] for r in d["results"]) and d["passed"]')" = true
check "relay back on after the self-test" sim wait relay==1 --timeout 3

check "jog roller 300" "$CTL" jog roller 300
check "monitor prints one line per update (not a tty)" bash -c "timeout 10 '$CTL' monitor --count 3 >'$T/monitor.out'"
check "monitor draws the track with the neck zone and force" grep -qE '\|[.NR]*\[[NR]*\][.NR]*\| force [0-9.]+/[0-9]+ N' "$T/monitor.out"
check "monitor --json: one JSON object per line" bash -c "timeout 10 '$CTL' --json monitor --count 2 | $PY -c 'import json,sys; [json.loads(l) for l in sys.stdin]'"
check "selftest refused while a jog runs → Busy" expect_rc 1 Busy "$CTL" selftest
check "jog reaches its target, back to idle" wait_prop State idle 20
check "jog out of travel → exit 1" test "$(rc "$CTL" jog roller 5000)" = 1

# ---- session verbs: scan, start, pause, resume, stop ----
check "scan finds the shoulders" bash -c "'$CTL' scan | grep -q 'shoulders at'"
check "start quick-10 --intensity 3" "$CTL" start quick-10 --intensity 3
check "running quick-10" wait_prop ActiveProgram quick-10 5
check "selftest refused while running → exit 1 Busy" expect_rc 1 Busy "$CTL" selftest
check "pause" "$CTL" pause
check "paused" wait_prop State paused 5
check "resume" "$CTL" resume
check "running" wait_prop State running 5
check "stop" "$CTL" stop
check "idle after stop" wait_prop State idle 60
check "session counted" test "$(json counters | jq_py 'd["sessions"]')" -ge 1

# ---- estop, faults, reset ----
check "estop" "$CTL" estop
check "status shows the latch" bash -c "'$CTL' status | grep -q 'latched: remote'"
check "selftest refused while latched → EmergencyStop" expect_rc 1 EmergencyStop "$CTL" selftest
check "faults --json has the e-stop in the log" test "$(json faults | jq_py '[f["code"] for f in d["log"]].count("estop:remote")')" -ge 1
check "faults table" bash -c "'$CTL' --no-pager faults | grep -q 'estop:remote'"
check "estops.remote counted" test "$(json counters | jq_py 'd["estops.remote"]')" -ge 1
check "reset" "$CTL" reset
check "idle after reset" wait_prop State idle 5
check "faults --clear" "$CTL" faults --clear
check "fault log empty" test "$(json faults | jq_py 'len(d["log"])')" = 0

# ---- reload: good, then a refused hardware change (logged as a fault) ----
check "reload" "$CTL" reload
printf '[Board roller]\nSlaveId=9\n' >"$ROOT/run/chaird/chaird.conf.d/60-hw.conf"
check "reload of a hardware change refused → exit 4 naming the key" expect_rc 4 SlaveId "$CTL" reload
check "refused reload in the fault log" test "$(json faults | jq_py '[f["code"] for f in d["log"]].count("reload-refused")')" = 1
rm "$ROOT/run/chaird/chaird.conf.d/60-hw.conf"

# ---- the bus: --bus-address, and no daemon → exit 3 ----
check "--bus-address reaches the private bus" env -u DBUS_SYSTEM_BUS_ADDRESS "$CTL" --bus-address="$DBUS_SYSTEM_BUS_ADDRESS" status
check "no bus → exit 3" expect_rc 3 "Failed to connect" env DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/none.sock "$CTL" status
start_bus # a second, empty bus: chaird is not on it
check "daemon not on the bus → exit 3" expect_rc 3 "Is chaird running" "$CTL" counters

# ---- config check: offline, file:line and exit 1 on a broken OEM root ----
check "config check of the good root" "$CTL" config check "$ROOT"
BAD=$T/bad-root
cp -r "$ROOT" "$BAD"
mkdir -p "$BAD/etc/chaird/chaird.conf.d"
printf '# OEM drop-in\n[Limits]\nMaxForceN=lots\n' >"$BAD/etc/chaird/chaird.conf.d/10-oem.conf"
check "broken OEM file → exit 1 naming file:line" expect_rc 1 "10-oem.conf:3" "$CTL" config check "$BAD"
check "config check --json parses and says invalid" test "$(set +e; "$CTL" --json config check "$BAD" | jq_py 'd["valid"]')" = false
rm "$BAD/etc/chaird/chaird.conf.d/10-oem.conf"
mkdir -p "$BAD/etc/chaird/programs"
printf '[Program]\nName=Too hard\n\n[Step 1]\nTechnique=knead\nZone=neck\nForce=300\nSeconds=10\n' \
        >"$BAD/etc/chaird/programs/too-hard.program"
check "rejected program → exit 1 naming the program's file:line" expect_rc 1 "too-hard.program:[0-9]" "$CTL" config check "$BAD"

# ---- man pages render ----
for page in "$TOP"/docs/man/*.[158]; do
        check "man page $(basename "$page") renders" bash -c "MANWIDTH=80 man -l '$page' 2>&1 >/dev/null | (! grep -q .)"
done
finish
