# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the fault matrix (tests/faults/[0-9]*.sh): on top of tests/lib/lib.sh, helpers to run a
# program, inject a fault, and assert the end state a technician would find: the safe state on the
# simulated hardware, the e-stop reason on D-Bus, the fault-log entries and the counters of
# org.chaird.Maintenance1 (asserted only when the daemon offers them: otherwise each such check is
# reported as "skip", never as a pass), and that a restart loses nothing of either.

source "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"

CHAIR="busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1"
MAINT="busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1"
SKIPPED=0
XFAILED=0
HAVE_MAINT=
declare -A MARK=()

skip() {
        SKIPPED=$((SKIPPED + 1))
        echo "skip - $*"
}

# xfail "description" "known bug" command...: a check that fails today because of a bug reported to the
# lead. It still runs: when it starts passing the script fails, so the marker is removed with the fix.
xfail() {
        local what=$1 why=$2
        shift 2
        if "$@"; then
                not_ok "$what: passes now, remove its expected-fail marker ($why)"
        else
                XFAILED=$((XFAILED + 1))
                echo "xfail - $what (known bug: $why)"
        fi
}

finish_faults() {
        echo "# $XFAILED expected failures (known bugs), $SKIPPED skipped"
        [ "$SKIPPED" -eq 0 ] || echo "# skipped: fault-log and counter checks need org.chaird.Maintenance1" \
                "GetFaults/GetCounters, which this daemon does not offer yet"
        echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
        [ "$FAILED" -eq 0 ] && exit 0 || exit 1
}

# Whether the daemon has the technician's fault log and counters (issue 5), by introspection.
maint_detect() {
        local xml
        xml=$(busctl --system introspect --xml-interface org.chaird.Chair1 /org/chaird/Chair1 2>/dev/null || true)
        if grep -q '"GetFaults"' <<<"$xml" && grep -q '"GetCounters"' <<<"$xml"; then
                HAVE_MAINT=1
        else
                HAVE_MAINT=0
        fi
}

# mcheck "description" command...: a fault-log or counter assertion.
mcheck() {
        [ -n "$HAVE_MAINT" ] || maint_detect
        if [ "$HAVE_MAINT" = 1 ]; then
                check "$@"
        else
                skip "$1"
        fi
}

# "name value" lines of GetCounters
counters() {
        busctl --system --json=short call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 GetCounters |
                $PY -c 'import json,sys
for k, v in sorted(json.load(sys.stdin)["data"][0].items()): print(k, v)'
}

counter() {
        counters | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

# "realtime_usec code" lines of GetFaults, oldest first
faults() {
        busctl --system --json=short call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Maintenance1 GetFaults |
                $PY -c 'import json,sys
for t, code, msg in json.load(sys.stdin)["data"][0]: print(t, code)'
}

# mark: remembers the counters, so later checks can ask what one fault added.
mark() {
        [ -n "$HAVE_MAINT" ] || maint_detect
        [ "$HAVE_MAINT" = 1 ] || return 0
        MARK=()
        local k v
        while read -r k v; do MARK[$k]=$v; done < <(counters)
        # entries carry CLOCK_REALTIME µs: later ones are those from now on, however many come meanwhile
        MARK_TIME=$(( $(date +%s%N) / 1000 ))
}

# Fault-log codes logged since the mark (the log keeps the newest entries; faults-logged counts all).
faults_since_mark() {
        # By time, not by count: entries that arrive between reading the counter and reading the log
        # would otherwise shift a counted window past the first new entry.
        faults | awk -v since="${MARK_TIME:-0}" '$1 >= since { print $2 }'
}

# logged_since CODE...: every code (exact) appears among the entries since the mark.
logged_since() {
        local got c
        got=$(faults_since_mark)
        for c in "$@"; do
                grep -qxF -- "$c" <<<"$got" || { echo "# fault log since mark: $(echo $got), wanted $c" >&2; return 1; }
        done
}

# not_logged_since REGEX: no entry since the mark matches.
not_logged_since() {
        local got
        got=$(faults_since_mark)
        if grep -qE -- "$1" <<<"$got"; then
                echo "# unexpected fault-log entries: $(echo $got)" >&2
                return 1
        fi
}

# delta NAME N: the counter grew by exactly N since the mark.
delta() {
        local now
        now=$(counter "$1")
        [ $((now - ${MARK[$1]:-0})) -eq "$2" ] || { echo "# counter $1: ${MARK[$1]:-0} -> $now, wanted +$2" >&2; return 1; }
}

estop_counted() {
        delta estops 1 && delta "estops.$1" 1
}

# expect_estop_logged NAME REASON: the fault log and counters of one latched e-stop with this reason.
expect_estop_logged() {
        local name=$1 reason=$2 kind=${2%%:*}
        mcheck "$name: fault log estop:$reason" logged_since "estop:$reason"
        mcheck "$name: counters estops +1, estops.$kind +1" estop_counted "$kind"
}

# reset_chair: ResetEmergencyStop until accepted (boards recover after a few good polls), then idle.
reset_chair() {
        local end=$((SECONDS + ${1:-10}))
        until $CHAIR ResetEmergencyStop >/dev/null 2>&1; do
                [ $SECONDS -lt $end ] || { echo "# reset refused: $($CHAIR ResetEmergencyStop 2>&1)" >&2; return 1; }
                sleep 0.05 # poll: a recovered board needs its next good polls
        done
        wait_prop State idle 5
}

# run_program ID [INTENSITY]: started, running, the roller powered and moving.
run_program() {
        wait_prop Occupied true 5 || return 1
        $CHAIR StartProgram su "$1" "${2:-5}" >/dev/null
        wait_prop State running 5 && sim wait roller.powered==1 relay==1 --timeout 5 >/dev/null
}

# safe_hw: what the chair's power stage sees after an e-stop: relay open, no actuator powered. With
# "full", also every setpoint at its safe value (only when the boards still answer).
safe_hw() {
        sim wait relay==0 roller.powered==0 roller.speed==0 --timeout 2 >/dev/null || return 1
        [ "${1:-}" = full ] || return 0
        sim wait roller.enable==0 heat.enable==0 airbag.shoulders.command==0 airbag.arms.command==0 \
                airbag.hips.command==0 airbag.legs.command==0 --timeout 2 >/dev/null
}

# expect_latched REASON-REGEX: EStop latched with this reason, the session ended.
expect_latched() {
        wait_prop EStop true 5 || return 1
        local r
        r=$(chair_prop EStopReason)
        [[ "$r" =~ ^($1)$ ]] || { echo "# EStopReason '$r', wanted '$1'" >&2; return 1; }
        [ -z "$(chair_prop ActiveProgram)" ] || { echo "# session still active" >&2; return 1; }
}

# persisted_check: counters and fault log survive a clean restart unchanged (operating seconds aside).
persisted_check() {
        [ -n "$HAVE_MAINT" ] || maint_detect
        if [ "$HAVE_MAINT" != 1 ]; then
                skip "counters and fault log survive a restart"
                return 0
        fi
        counters | grep -v '^operating-seconds ' >"$T/counters.before"
        faults >"$T/faults.before"
        kill -TERM "$DAEMON_PID"
        wait "$DAEMON_PID" || true
        start_daemon
        counters | grep -v '^operating-seconds ' >"$T/counters.after"
        faults >"$T/faults.after"
        check "restart: every counter kept ($(wc -l <"$T/counters.before") counters)" \
                diff "$T/counters.before" "$T/counters.after"
        check "restart: every fault-log entry kept ($(wc -l <"$T/faults.before") entries)" \
                diff "$T/faults.before" "$T/faults.after"
}
