#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Persistence under crashes (issue 5): chaird is SIGKILLed at random moments, 30 times, while e-stops and
# their fault-log entries are being written as fast as the bus allows. After every kill and every restart
# the state file parses whole, and no counter ever goes backwards. Then a damaged file: logged, moved
# aside, replaced, and the counters that were still readable kept.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"
ROUNDS=${CRASH_ROUNDS:-30}

start_bus
start_sim
make_root tcp
STATE=$ROOT/var/lib/chaird/state

# validate FILE PREV-JSON: exits 1 unless FILE is a complete state file whose counters are all ≥ PREV's;
# prints the counters as JSON for the next round.
cat >"$T/validate.py" <<'PYEOF'
import json, re, sys
path, prev = sys.argv[1], json.loads(sys.argv[2])
lines = open(path, encoding="utf-8").read().split("\n")
assert lines[-1] == "" and lines[-2] == "end", "not terminated by 'end'"
counters = {}
pattern = re.compile(r"^(version|estops|estops\.[a-z-]+|sessions|operating-seconds|faults-dropped)=(\d+)$")
for l in lines[:-2]:
    if l.startswith("#") or l.startswith("last_estop_reason=") or l.startswith("limit."):
        continue
    if l.startswith("fault="):
        assert re.match(r"^fault=\d+ \S+ .*$", l), "bad fault line: " + l
        counters["faults-seen"] = counters.get("faults-seen", 0) + 1
        continue
    m = pattern.match(l)
    assert m, "bad line: " + repr(l)
    counters[m.group(1)] = int(m.group(2))
for k, v in prev.items():
    if k != "faults-seen":
        assert counters.get(k, 0) >= v, "%s went backwards: %d -> %d" % (k, v, counters.get(k, 0))
print(json.dumps(counters))
PYEOF

# Keeps chaird busy writing: every EmergencyStop latches, counts and logs a fault (saved at once).
load() {
        while :; do
                busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop \
                        >/dev/null 2>&1 || true
                busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 EmergencyStop \
                        >/dev/null 2>&1 || true
        done
}

prev='{}'
bad=0
for round in $(seq "$ROUNDS"); do
        start_daemon
        # (a fresh state folder has no file until the first thing worth saving)
        if { [ "$round" -gt 1 ] || [ -e "$STATE" ]; } &&
                ! prev=$($PY "$T/validate.py" "$STATE" "$prev" 2>"$T/validate.err"); then
                bad=$((bad + 1))
                echo "# round $round after restart: $(cat "$T/validate.err")" >&2
                prev='{}'
        fi
        load &
        LOAD=$!
        # The kill lands at a random moment of the write stream (0..400 ms): this is the point of the
        # test, not a wait for a condition.
        sleep "0.$(printf '%03d' $((RANDOM % 400)))"
        kill -KILL "$DAEMON_PID"
        wait "$DAEMON_PID" 2>/dev/null || true
        kill "$LOAD"
        wait "$LOAD" 2>/dev/null || true
        if ! prev=$($PY "$T/validate.py" "$STATE" "$prev" 2>"$T/validate.err"); then
                bad=$((bad + 1))
                echo "# round $round after SIGKILL: $(cat "$T/validate.err")" >&2
                prev='{}'
        fi
done
check "$ROUNDS SIGKILLs: every file complete, no counter went backwards" test "$bad" -eq 0
echo "# last counters: $prev"
check "e-stops were written during the rounds" \
        $PY -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['estops'] > $ROUNDS else 1)" "$prev"
check "every restart after a kill counted as unclean-restart" \
        $PY -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['estops.unclean-restart'] >= $ROUNDS - 1 else 1)" "$prev"
check "no file was ever found damaged" bash -c "! ls '$ROOT/var/lib/chaird/' | grep -q corrupt"
check "no temp files pile up" test "$(ls -A "$ROOT/var/lib/chaird" | grep -c '^\.#' || true)" -le 1

# ---- a damaged file: garbage and a torn last line ----
start_daemon
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
{
        echo "version=1"
        echo "estops=41"
        echo "estops.button=40"
        printf 'sessions=\x01\x02\xff\n'
        echo "operating-seconds=7200"
        echo "fault=1700000000000000 estop:button pressed in the test"
        printf 'estops.remote=12'
} >"$STATE"
start_daemon
check "damage logged" grep -qE "state: .*unreadable line|state is truncated" "$T/chaird.log"
check "damaged file moved aside" bash -c "ls '$ROOT/var/lib/chaird/' | grep -q '^state.corrupt-'"
check "replacement is complete" bash -c "$PY '$T/validate.py' '$STATE' '{}' >/dev/null"
check "readable counters kept: estops" grep -q '^estops=41$' "$STATE"
check "readable counters kept: estops.button" grep -q '^estops.button=40$' "$STATE"
check "readable counters kept: operating time" grep -q '^operating-seconds=7200$' "$STATE"
check "readable fault kept" grep -q 'estop:button pressed in the test' "$STATE"
check "the torn line was not trusted" bash -c "! grep -q '^estops.remote=' '$STATE'"
check "daemon runs on" test "$(chair_prop State)" = idle
finish
