# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the integration scenarios and the demo: start the real parts (private system-like bus,
# chair-sim over TCP or RTU on a socat pty pair, chaird with a NOTIFY_SOCKET we own), wait for each
# to be ready, and assert on what a user would see. Waits are on conditions with timeouts, never sleeps.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-${1:-build}}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
SIM=$BUILD/chair-sim
CHAIRD=$BUILD/chaird
PY=/usr/bin/python3

T=$(mktemp -d /tmp/chaird-test.XXXXXX)
PIDS=()
PASSED=0
FAILED=0

cleanup() {
        local rc=$? pid
        if [ "$rc" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
                # a command outside check() failed under set -e: show what the parts said
                echo "not ok - the scenario stopped early (exit $rc) at line ${BASH_LINENO[0]:-?}"
                FAILED=1
                for f in "$T"/*.log; do
                        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
                done
        fi
        for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
                pid=${PIDS[i]}
                kill -TERM "$pid" 2>/dev/null || true
        done
        for pid in "${PIDS[@]}"; do
                wait "$pid" 2>/dev/null || true
        done
        if [ -n "${KEEP_TMP:-}" ] || [ "$FAILED" -ne 0 ]; then
                echo "# logs kept in $T" >&2
        else
                rm -rf "$T"
        fi
}
trap cleanup EXIT

ok() {
        PASSED=$((PASSED + 1))
        echo "ok - $*"
}

not_ok() {
        FAILED=$((FAILED + 1))
        echo "not ok - $*"
}

# check "description" command...: runs the command, counts the result.
check() {
        local what=$1
        shift
        if "$@"; then ok "$what"; else not_ok "$what"; fi
}

die() {
        echo "FATAL: $*" >&2
        for f in "$T"/*.log; do
                [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
        done
        FAILED=$((FAILED + 1))
        finish
}

finish() {
        echo "$PASSED passed, $FAILED failed"
        [ "$FAILED" -eq 0 ] && exit 0 || exit 1
}

free_port() {
        $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for_line FILE REGEX TIMEOUT_S: returns when a line matching REGEX is in FILE (already or later).
wait_for_line() {
        local file=$1 re=$2 end=$((SECONDS + ${3:-10}))
        touch "$file"
        until grep -qE -- "$re" "$file"; do
                [ $SECONDS -lt $end ] || return 1
                # woken by the next write; the 1 s bound covers a write between grep and inotifywait
                inotifywait -qq -t 1 -e modify "$file" >/dev/null 2>&1 || true
        done
}

# wait_for_path PATH TIMEOUT_S: for sockets and pty links that another process creates.
wait_for_path() {
        local p=$1 t=${2:-10}
        timeout "$t" bash -c "until [ -e '$p' ]; do inotifywait -qq -t 1 -e create '$(dirname "$p")' 2>/dev/null || sleep 0.02; done"
}

# start_bus [POLICY-FILE]: the shipped policy unless another is given
start_bus() {
        local policy=${1:-$TOP/dbus/org.chaird.Chair1.conf}
        BUS_N=$((${BUS_N:-0} + 1))
        sed -e "s|@SOCKET@|$T/bus$BUS_N.sock|" -e "s|@POLICY@|$policy|" \
                "$TOP/tests/lib/system-bus.conf.in" >"$T/bus$BUS_N.conf"
        local out
        out=$(dbus-daemon --config-file="$T/bus$BUS_N.conf" --fork --print-address=1 --print-pid=1 2>>"$T/dbus.log") ||
                die "dbus-daemon did not start"
        export DBUS_SYSTEM_BUS_ADDRESS=$(echo "$out" | sed -n 1p)
        PIDS+=("$(echo "$out" | sed -n 2p)")
}

start_pty_pair() {
        socat pty,raw,echo=0,link="$T/tty.sim" pty,raw,echo=0,link="$T/tty.daemon" 2>"$T/socat.log" &
        PIDS+=($!)
        wait_for_path "$T/tty.sim" 10 && wait_for_path "$T/tty.daemon" 10 || die "socat pty pair did not appear"
}

# start_sim [serve options...]: TCP on a free port always; add --rtu "$T/tty.sim" for RTU.
start_sim() {
        SIM_PORT=$(free_port)
        mkdir -p "$T/sim"
        "$SIM" --run-dir "$T/sim" serve --tcp "127.0.0.1:$SIM_PORT" "$@" >"$T/sim.log" 2>&1 &
        SIM_PID=$!
        PIDS+=($SIM_PID)
        "$SIM" --run-dir "$T/sim" wait-ready --timeout 10 >/dev/null || die "chair-sim did not become ready"
}

sim() {
        "$SIM" --run-dir "$T/sim" "$@"
}

# make_root tcp|rtu [extra drop-in text]: a config tree of our own for the daemon.
make_root() {
        local transport=${1:-tcp} extra=${2:-}
        ROOT=$T/root
        mkdir -p "$ROOT/etc/chaird" "$ROOT/run/chaird/chaird.conf.d" "$ROOT/var/lib/chaird"
        cp "$TOP/config/examples/chaird.conf" "$ROOT/etc/chaird/chaird.conf"
        mkdir -p "$ROOT/usr/share/chaird/programs"
        cp "$TOP"/config/programs/*.program "$ROOT/usr/share/chaird/programs/" 2>/dev/null || true
        {
                echo "# written by the test harness"
                echo "[Modbus]"
                if [ "$transport" = rtu ]; then
                        echo "Transport=rtu"
                        echo "Device=$T/tty.daemon"
                        echo "Baud=${RTU_BAUD:-115200}"
                else
                        echo "Transport=tcp"
                        echo "Port=$SIM_PORT"
                fi
                echo "[GPIO]"
                echo "SimSocket=$T/sim/gpio.sock"
                # Tests share two cores with builds and other tests: give the boards room so that a
                # starved test machine is not mistaken for a dead board (the timing itself is
                # measured by make bench, and comm loss is still tested: 25-comm-loss.sh).
                for b in roller airbag base; do
                        printf '[Board %s]\nResponseTimeoutMs=50\nCommLossMs=500\n' "$b"
                done
                if [ -n "$extra" ]; then printf "%s\n" "$extra"; fi
        } >"$ROOT/run/chaird/chaird.conf.d/50-test.conf"
}

start_notify() {
        $PY "$TOP/tests/lib/notify-listen.py" "$T/notify.sock" "$T/notify.log" 2>>"$T/notify-listen.log" &
        PIDS+=($!)
        wait_for_line "$T/notify.log" LISTENING 10 || die "notify listener did not start"
}

# start_daemon [chaird options...]: waits for READY=1 (sent only after the bus name is owned).
start_daemon() {
        [ -e "$T/notify.sock" ] || start_notify
        local n
        # count before starting: the daemon may be ready before a later count would run
        n=$(grep -c 'READY=1' "$T/notify.log" || true)
        NOTIFY_SOCKET=$T/notify.sock CHAIRD_LOG_LEVEL=${CHAIRD_LOG_LEVEL:-info} \
                "$CHAIRD" --root "$ROOT" "$@" >>"$T/chaird.log" 2>&1 &
        DAEMON_PID=$!
        PIDS+=($DAEMON_PID)
        timeout 10 bash -c "until [ \$(grep -c 'READY=1' '$T/notify.log') -gt $n ]; do
                kill -0 $DAEMON_PID 2>/dev/null || exit 1
                inotifywait -qq -t 1 -e modify '$T/notify.log' 2>/dev/null || sleep 0.01
        done" || die "chaird did not send READY=1"
}

# start_chair [sim serve options...]: the usual four parts over TCP, each waited for.
start_chair() {
        start_bus
        start_sim "$@"
        make_root tcp
        start_daemon
}

busctl_get() {
        busctl --system --json=short get-property org.chaird.Chair1 /org/chaird/Chair1 "$1" "$2" |
                $PY -c 'import json,sys; v=json.load(sys.stdin)["data"]; print(v if isinstance(v,str) else json.dumps(v))'
}

chair_prop() {
        busctl_get org.chaird.Chair1 "$1"
}

# wait_prop PROP VALUE TIMEOUT: polls the property until it equals VALUE.
wait_prop() {
        local prop=$1 want=$2 t=${3:-10} end=$((SECONDS + ${3:-10}))
        while [ $SECONDS -le $end ]; do
                [ "$(chair_prop "$prop" 2>/dev/null)" = "$want" ] && return 0
                sleep 0.02 # poll interval of a condition wait, bounded by the timeout above
        done
        echo "# $prop is '$(chair_prop "$prop" 2>&1)', wanted '$want'" >&2
        return 1
}
