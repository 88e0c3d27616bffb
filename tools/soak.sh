#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Soak: runs programs back to back on chaird against chair-sim for MINUTES, with a random fault in most
# rounds (bus faults, sensor faults, the e-stop button, the seat, the interlock key, remote e-stops,
# reloads, a burst of D-Bus calls), recovering after each. Samples chaird's RSS and open fds every
# round, prints them at the start, every few minutes and at the end, and fails when the daemon died,
# restarted, or RSS or fds grew (RSS: more than SOAK_RSS_SLACK_KB, default 1024, over the first sample
# taken after a warm-up round; fds: any growth).
# Usage: tools/soak.sh BUILD MINUTES        (make soak SOAK_MINUTES=N)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MINUTES=${2:-30}
SLACK_KB=${SOAK_RSS_SLACK_KB:-1024}
SEED=${SOAK_SEED:-$$}
source tests/faults/lib-faults.sh "$BUILD"
RANDOM=$SEED

start_chair
maint_detect
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
sample() { printf '%6ss  round %4d  rss %6s kB  fds %3s  state %-8s  %s\n' $((SECONDS - t_start)) "$round" \
        "$(rss_kb)" "$(fds)" "$(chair_prop State)" "$1"; }

PROGRAMS=($(busctl --system --json=short call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ListPrograms |
        $PY -c 'import json,sys; print(" ".join(p[0] for p in json.load(sys.stdin)["data"][0]))'))
FAULTS=(none bus-timeout bus-exception bus-garbage bus-slow airbag-timeout disconnect sensor-stuck
        sensor-range force-spike estop-button estop-bounce seat interlock remote-estop reload dbus-burst)
declare -A count=()

inject() {
        case $1 in
        none) ;;
        bus-timeout) sim fault roller timeout ;;
        bus-exception) sim fault roller exception $((RANDOM % 4 + 1)) ;;
        bus-garbage) sim fault base garbage ;;
        bus-slow) sim fault roller slow 8 ;;
        airbag-timeout) sim fault airbag timeout ;;
        disconnect) sim fault roller disconnect ;;
        sensor-stuck) sim sensor roller.position stuck ;;
        sensor-range) sim sensor heat.temperature offset 100 ;;
        force-spike) sim sensor roller.force spike 120 ;;
        estop-button) sim estop press ;;
        estop-bounce) for _ in 1 2 3; do sim estop press; sim estop release; done ;;
        seat) sim stand ;;
        interlock) sim interlock on; sim interlock off ;;
        remote-estop) $CHAIR EmergencyStop >/dev/null ;;
        reload) kill -HUP "$DAEMON_PID" ;;
        dbus-burst) for _ in $(seq 50); do busctl_get org.chaird.Chair1 RollerPosition >/dev/null; $MAINT GetFaults >/dev/null; done ;;
        esac
}

clear_faults() {
        for b in roller airbag base; do sim fault "$b" none; done
        for s in roller.position roller.force heat.temperature; do sim sensor "$s" normal; done
        sim estop release
        sim estop repair
        sim sit
}

# back to idle, whatever the fault did
recover() {
        clear_faults
        local st end=$((SECONDS + 30))
        while [ $SECONDS -lt $end ]; do
                st=$(chair_prop State)
                case $st in
                idle) return 0 ;;
                estop) $CHAIR ResetEmergencyStop >/dev/null 2>&1 || true ;;
                running | paused | scanning) $CHAIR Stop >/dev/null 2>&1 || true ;;
                esac
                sleep 0.1 # poll: parking the roller and board recovery take their time
        done
        echo "soak: could not get back to idle (State $(chair_prop State), $(chair_prop EStopReason))" >&2
        return 1
}

round=0
t_start=$SECONDS
end=$((SECONDS + MINUTES * 60))
pid0=$DAEMON_PID
echo "soak: $MINUTES min, seed $SEED, chaird pid $pid0, programs ${PROGRAMS[*]}"
while [ $SECONDS -lt $end ]; do
        round=$((round + 1))
        prog=${PROGRAMS[RANDOM % ${#PROGRAMS[@]}]}
        fault=${FAULTS[RANDOM % ${#FAULTS[@]}]}
        count[$fault]=$((${count[$fault]:-0} + 1))
        wait_prop Occupied true 5 >/dev/null 2>&1 || true
        $CHAIR StartProgram su "$prog" $((RANDOM % 10 + 1)) >/dev/null 2>&1 || true
        # run a while (1-4 s of program), measured in roller polls rather than sleeping
        q=$(sim get board.roller.requests | cut -d= -f2)
        sim wait "board.roller.requests>$((q + 100 + RANDOM % 300))" --timeout 10 >/dev/null 2>&1 || true
        inject "$fault"
        q=$(sim get board.roller.requests | cut -d= -f2)
        sim wait "board.roller.requests>$((q + 100))" --timeout 5 >/dev/null 2>&1 || true
        recover || { sample "stuck after $fault"; exit 1; }
        kill -0 "$pid0" 2>/dev/null || { echo "soak: chaird died in round $round ($fault)"; exit 1; }
        if [ "$round" -eq 2 ]; then
                rss0=$(rss_kb) fds0=$(fds)
                sample "start (after a warm-up round)"
                next_print=$((SECONDS + 300))
        elif [ "$round" -gt 2 ] && [ $SECONDS -ge "$next_print" ]; then
                sample ""
                next_print=$((SECONDS + 300))
        fi
done
rss1=$(rss_kb) fds1=$(fds)
sample "end"
echo "soak: $round rounds; faults injected: $(for k in "${!count[@]}"; do printf '%s=%s ' "$k" "${count[$k]}"; done)"
echo "soak: RSS start ${rss0:-?} kB end $rss1 kB; fds start ${fds0:-?} end $fds1"
[ "$HAVE_MAINT" = 1 ] && echo "soak: counters $(counters | tr '\n' ' ')"
check "chaird ran the whole soak (same pid $pid0)" test "$DAEMON_PID" = "$pid0"
check "RSS flat (grew $((rss1 - ${rss0:-rss1})) kB, allowed $SLACK_KB kB)" test $((rss1 - ${rss0:-rss1})) -le "$SLACK_KB"
check "fds flat ($fds1 vs ${fds0:-?})" test "$fds1" -le "${fds0:-0}"
finish
