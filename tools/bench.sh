#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `make bench`: starts the real parts (private bus, chair-sim over TCP and over RTU on a socat pty pair,
# chaird), measures e-stop latency, force-limit reaction, control-loop timing and bus efficiency, D-Bus
# round trips, footprint and start-up, prints the table and writes bench/results.json. Method and format:
# docs/bench.md. BENCH_QUICK=1 runs every measurement with small counts (a smoke run of about a minute).
set -euo pipefail
BUILD=${1:-build}
export BUILD
source "$(dirname "$0")/../tests/lib/lib.sh"

BENCH=$TOP/tools/bench
HELPERS=$BUILD/bench
PIECES=$T/pieces
OUT=$TOP/bench/results.json
BPY=("$PY" "$BENCH/bench.py")
# the highest rate the config parser accepts ([Chair] ControlRateHz range in config/config-keys.c)
MAX_HZ=$(sed -n 's/.*"ControlRateHz", *KEY_UINT, *[^,]*, *[0-9]*, *\([0-9]*\).*/\1/p' \
        "$TOP/config/config-keys.c")
MAX_HZ=${MAX_HZ:-1000}

# chaird runs with the scheduling policy the shipped unit gives it (CPUSchedulingPolicy=), so the loop is
# measured as it will run; tcp-100-fifo shows what SCHED_FIFO would change when the unit does not set it.
UNIT=$TOP/packaging/chaird.service
sched_prefix() {
        case ${1:-} in
        fifo) echo "chrt --fifo ${2:-10}" ;;
        rr) echo "chrt --rr ${2:-10}" ;;
        esac
}
SHIPPED_SCHED=$(sched_prefix "$(sed -n 's/^CPUSchedulingPolicy=//p' "$UNIT" 2>/dev/null | tail -n 1)" \
        "$(sed -n 's/^CPUSchedulingPriority=//p' "$UNIT" 2>/dev/null | tail -n 1)")
SCHED=$SHIPPED_SCHED

if [ -n "${BENCH_QUICK:-}" ]; then
        N_ESTOP=20 N_ESTOP_RTU=5 N_FORCE=3 LOOP_S=3 FOOT_S=3 DBUS_S=1 N_START=3
else
        N_ESTOP=200 N_ESTOP_RTU=50 N_FORCE=20 LOOP_S=8 FOOT_S=10 DBUS_S=3 N_START=10
fi

log() { printf '# %s  %s\n' "$(date +%T)" "$*" >&2; }

# A failed measurement shows as missing in the table and fails `make bench` at the end (the logs stay in
# $T); it does not stop the others.
measure() {
        "$@" 2>>"$T/bench-errors.log" && return 0
        FAILED=$((FAILED + 1))
        log "failed: ${*:3:1} (last lines of $T/bench-errors.log below)"
        tail -n 3 "$T/bench-errors.log" >&2
}

build_helpers() {
        local cflags=(-std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow
                -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE) sd chaird_flags
        read -ra sd <<<"$(pkg-config --cflags --libs libsystemd)"
        read -ra chaird_flags <<<"$(pkg-config --cflags --libs libsystemd libmodbus libgpiod inih)"
        mkdir -p "$HELPERS"
        cc "${cflags[@]}" -shared -fPIC -o "$HELPERS/trace-preload.so" "$BENCH/trace-preload.c" -ldl
        cc "${cflags[@]}" -o "$HELPERS/dbus-load" "$BENCH/dbus-load.c" "${sd[@]}"
        # links chaird's own parser: optional, the rest of the bench does not need it
        cc "${cflags[@]}" -I"$TOP/common" -I"$TOP/config" -I"$TOP/daemon" -o "$HELPERS/config-load" \
                "$BENCH/config-load.c" "$BUILD/libchaird.a" "${chaird_flags[@]}" -lm \
                2>"$T/config-load-build.log" || {
                log "config-load helper did not build (see $T/config-load-build.log)"
                rm -f "$HELPERS/config-load"
        }
}

# A chaird started through this wrapper runs with $SCHED and, given a name, records its Modbus traffic,
# timer arms and wake-ups (trace-preload.c) into $TRACE.
make_chaird_wrapper() {
        local env=
        if [ -n "${1:-}" ]; then
                TRACE=$T/trace-$1.bin
                env="LD_PRELOAD=$HELPERS/trace-preload.so CHAIRD_BENCH_TRACE=$TRACE"
        fi
        cat >"$T/chaird-run" <<-EOF
	#!/bin/sh
	$env exec $SCHED $BUILD/chaird "\$@"
	EOF
        chmod +x "$T/chaird-run"
        # shellcheck disable=SC2034 # start_daemon (tests/lib/lib.sh) runs $CHAIRD
        CHAIRD=$T/chaird-run
}

# chair-sim stands in for the boards, which answer in their own time whatever else the CPU does: it runs
# SCHED_FIFO below chaird's FIFO priority, so the simulator's scheduling delays stay out of chaird's figures
# (and a SCHED_FIFO chaird cannot starve it into comm-loss). Client verbs run normally. The RTU phases give
# socat (the wire) the same priority.
make_sim_wrapper() {
        local real=$SIM
        chrt --fifo 5 true 2>/dev/null || return 0
        cat >"$T/chair-sim-run" <<-EOF
	#!/bin/bash
	for a in "\$@"; do [ "\$a" = serve ] && exec chrt --fifo 5 $real "\$@"; done
	exec $real "\$@"
	EOF
        chmod +x "$T/chair-sim-run"
        SIM=$T/chair-sim-run
}

install_programs() {
        mkdir -p "$ROOT/usr/share/chaird/programs"
        cp "$TOP"/config/programs/*.program "$ROOT/usr/share/chaird/programs/" 2>/dev/null || true
}

# 200 programs with distinct ids: copies of the shipped ones, cycled.
make_200_programs() {
        local dir=$ROOT/usr/share/chaird/programs src=("$TOP"/config/programs/*.program) i
        [ -e "${src[0]}" ] || return 1
        rm -rf "$dir" && mkdir -p "$dir"
        for ((i = 0; i < 200; i++)); do
                sed "s/^Id=.*/Id=bench-$i/" "${src[i % ${#src[@]}]}" >"$dir/bench-$i.program"
        done
}

stop_pid() {
        [ -n "${1:-}" ] || return 0
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" || true
}

stop_parts() {
        stop_pid "${DAEMON_PID:-}"
        stop_pid "${SIM_PID:-}"
        stop_pid "${SOCAT_PID:-}"
        DAEMON_PID='' SIM_PID='' SOCAT_PID=''
        rm -f "$T/tty.sim" "$T/tty.daemon"
}

# start_phase NAME tcp|rtu RATE [BAUD]: sim + traced chaird, control loop at RATE Hz.
start_phase() {
        local name=$1 transport=$2 rate=$3 baud=${4:-} extra
        log "phase $name: $transport${baud:+ $baud baud} at $rate Hz"
        extra="[Chair]
ControlRateHz=$rate"
        if [ "$transport" = rtu ]; then
                start_pty_pair
                SOCAT_PID=${PIDS[-1]}
                # socat is the wire: like the simulator it must not add scheduling delays of its own
                chrt --fifo -p 5 "$SOCAT_PID" 2>/dev/null || true
                start_sim --rtu "$T/tty.sim" --baud "$baud" --wire-time
                # slow links need longer answers than the example's 20 ms (docs/bench.md)
                if [ "$baud" -lt 57600 ]; then
                        extra+=$(printf '\n[Board %s]\nResponseTimeoutMs=60\nCommLossMs=1000\n' \
                                roller airbag base)
                fi
        else
                start_sim
        fi
        RTU_BAUD=$baud make_root "$transport" "$extra"
        install_programs
        make_chaird_wrapper "$name"
        start_daemon
        # measure from a running loop: every board answered at least once
        sim wait 'board.roller.requests>20' 'board.airbag.requests>2' 'board.base.requests>2' \
                --timeout 10 >/dev/null || die "phase $name: boards not polled"
}

loop_phase() { # NAME RATE TRANSPORT [BAUD]
        measure "${BPY[@]}" loop "$T/sim" "$TRACE" "$PIECES" --seconds "$LOOP_S" --rate "$2" \
                --transport "$3" ${4:+--baud "$4"} --label "$1"
}

for tool in socat dbus-daemon inotifywait chrt; do
        command -v "$tool" >/dev/null || die "needs $tool (make deps)"
done
build_helpers
make_sim_wrapper
mkdir -p "$PIECES"
START=$SECONDS
start_bus

# 1-3: over TCP at 100 Hz and at the highest rate; force spikes and e-stop presses at 100 Hz
start_phase tcp-100 tcp 100
loop_phase tcp-100 100 tcp
log "force spikes and ramps in the neck zone: $N_FORCE each"
measure "${BPY[@]}" force "$T/sim" "$TRACE" "$PIECES" --count "$N_FORCE" --rate 100 --mode spike
measure "${BPY[@]}" force "$T/sim" "$TRACE" "$PIECES" --count "$N_FORCE" --rate 100 --mode ramp
log "e-stop presses over TCP: $N_ESTOP"
measure "${BPY[@]}" estop "$T/sim" "$PIECES" --count "$N_ESTOP" --label tcp
stop_parts

if [ -z "$SHIPPED_SCHED" ] && chrt --fifo 10 true 2>/dev/null; then
        SCHED="chrt --fifo 10"
        start_phase tcp-100-fifo tcp 100
        loop_phase tcp-100-fifo 100 tcp
        log "e-stop presses over TCP, SCHED_FIFO: $N_ESTOP"
        measure "${BPY[@]}" estop "$T/sim" "$PIECES" --count "$N_ESTOP" --label tcp-fifo
        stop_parts
        SCHED=$SHIPPED_SCHED
fi

start_phase tcp-max tcp "$MAX_HZ"
loop_phase tcp-max "$MAX_HZ" tcp
stop_parts

for baud in 115200 19200; do
        start_phase "rtu$baud-100" rtu 100 "$baud"
        loop_phase "rtu$baud-100" 100 rtu "$baud"
        if [ "$baud" = 115200 ]; then
                log "e-stop presses over RTU: $N_ESTOP_RTU"
                measure "${BPY[@]}" estop "$T/sim" "$PIECES" --count "$N_ESTOP_RTU" --label rtu115200
        fi
        stop_parts
        start_phase "rtu$baud-max" rtu "$MAX_HZ" "$baud"
        loop_phase "rtu$baud-max" "$MAX_HZ" rtu "$baud"
        stop_parts
done

# 4-6: an untraced chaird over TCP at 100 Hz
log "phase plain: start-up, footprint, D-Bus"
make_chaird_wrapper
start_sim
make_root tcp
install_programs
measure "${BPY[@]}" startup "$BUILD/chaird" "$ROOT" "$T/notify-bench.sock" "$T/chaird.log" "$PIECES" \
        --count "$N_START" --label shipped \
        --programs "$(find "$ROOT/usr/share/chaird/programs" -name '*.program' | wc -l)"
start_daemon
sim wait 'board.roller.requests>20' --timeout 10 >/dev/null || die "plain phase: roller not polled"
measure "${BPY[@]}" footprint "$T/sim" "$DAEMON_PID" "$PIECES" --seconds "$FOOT_S" --label idle
measure "${BPY[@]}" dbus "$HELPERS/dbus-load" "$PIECES" --seconds "$DBUS_S"
measure "${BPY[@]}" footprint "$T/sim" "$DAEMON_PID" "$PIECES" --seconds "$FOOT_S" --label running --running
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
DAEMON_PID=''

if make_200_programs; then
        log "start-up with 200 programs"
        measure "${BPY[@]}" startup "$BUILD/chaird" "$ROOT" "$T/notify-bench.sock" "$T/chaird.log" \
                "$PIECES" --count "$N_START" --programs 200 --label programs200
        if [ -x "$HELPERS/config-load" ]; then
                "$HELPERS/config-load" "$ROOT" 20 >"$PIECES/configload.json" 2>>"$T/bench-errors.log" ||
                        rm -f "$PIECES/configload.json"
        fi
fi
stop_parts

mkdir -p "$(dirname "$OUT")"
"$PY" "$BENCH/report.py" "$PIECES" "$OUT" --seconds $((SECONDS - START)) --build "$BUILD" \
        ${BENCH_QUICK:+--quick}
echo "# results: $OUT"
[ "$FAILED" -eq 0 ] || { echo "# $FAILED measurements failed; logs kept in $T" >&2; exit 1; }
