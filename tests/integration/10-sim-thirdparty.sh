#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# chair-sim is a real Modbus peer: third-party tools (mbpoll, python3-pymodbus) read and write its
# boards over TCP and over RTU on a pty pair, a plain socket client closes the power relay on the GPIO
# socket, the roller moves, and the board-side comm timeout stops it when heartbeats stop.
# Usage: 10-sim-thirdparty.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=$(realpath "${1:-build}")
SIM_BIN="$BUILD/chair-sim"
PY=/usr/bin/python3 # Debian's python: pymodbus and pyserial live there

for tool in "$SIM_BIN" socat mbpoll "$PY"; do
        command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

TMP=$(mktemp -d)
PIDS=()
cleanup() {
        for pid in "${PIDS[@]}"; do
                kill "$pid" 2>/dev/null || true
        done
        for pid in "${PIDS[@]}"; do
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$TMP"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
fail() { echo "not ok - $*"; failed=$((failed + 1)); }
check() { # check "description" command...
        local what=$1
        shift
        if "$@"; then ok "$what"; else fail "$what"; fi
}

sim() { "$SIM_BIN" --run-dir "$TMP/run" "$@"; }

# Polls a condition (a command) until it holds or the timeout passes: waiting on a condition, not a sleep.
wait_for() { # wait_for SECONDS command...
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                [ "$SECONDS" -lt "$deadline" ] || return 1
                sleep 0.02
        done
}

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

socat pty,raw,echo=0,link="$TMP/ttyA" pty,raw,echo=0,link="$TMP/ttyB" 2>"$TMP/socat.log" &
PIDS+=($!)
wait_for 10 test -e "$TMP/ttyA" -a -e "$TMP/ttyB" || { echo "socat made no pty pair" >&2; exit 1; }

"$SIM_BIN" --run-dir "$TMP/run" serve --tcp "127.0.0.1:$PORT" --rtu "$TMP/ttyA" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=($SIM_PID)
if ! sim wait-ready --timeout 10; then
        cat "$TMP/sim.log" >&2
        exit 1
fi
ok "chair-sim answers on its control socket"

# ---- mbpoll over TCP --------------------------------------------------------------------------------

# mbpoll prints "[1]: <tab>value" lines; -r is 1-based unless -0 is given.
mbpoll_reg() { # mbpoll_reg REF ARGS... -> value of reference REF
        local ref=$1
        shift
        mbpoll -m tcp -p "$PORT" -1 "$@" 127.0.0.1 | sed -n "s/^\[$ref\]:[[:space:]]*//p"
}

pos=$(mbpoll_reg 1 -a 1 -r 1 -c 4 -t 3)
check "mbpoll reads the roller's input registers over TCP (position register = $pos)" \
        [ "$pos" = "$(sim get roller.position.reported | awk -F= '{ printf "%.0f", $2 * 10 }')" ]

mbpoll -m tcp -p "$PORT" -1 -a 1 -0 -r 0 -t 4 127.0.0.1 3000 >/dev/null
check "mbpoll writes the roller target over TCP (holding register 0 = 300.0 mm)" \
        sim wait 'roller.target==300' --timeout 2

out=$(mbpoll -m tcp -p "$PORT" -1 -a 9 -r 1 -t 3 127.0.0.1 2>&1 || true)
check "an unknown unit id gets exception 0x0B (gateway target failed to respond)" \
        grep -q "Target device failed to respond" <<<"$out"

# ---- pymodbus over TCP and RTU ----------------------------------------------------------------------

cat >"$TMP/pm.py" <<'EOF'
# pm.py tcp PORT | rtu TTY, then: read-in SLAVE ADDR N | read-hr SLAVE ADDR N | write SLAVE ADDR V... | exc SLAVE ADDR
import sys
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
kind, where, op, slave, addr = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rest = [int(v) for v in sys.argv[6:]]
if kind == "tcp":
    c = ModbusTcpClient("127.0.0.1", port=int(where), timeout=2)
else:
    c = ModbusSerialClient(port=where, baudrate=115200, parity="N", stopbits=1, timeout=2)
if not c.connect():
    sys.exit("cannot connect")
if op == "read-in":
    r = c.read_input_registers(addr, rest[0], slave=slave)
elif op == "read-hr":
    r = c.read_holding_registers(addr, rest[0], slave=slave)
elif op == "write":
    r = c.write_registers(addr, rest, slave=slave)
else:
    r = c.read_input_registers(addr, 1, slave=slave)
    print(getattr(r, "exception_code", "none"))
    sys.exit(0)
if r.isError():
    sys.exit("modbus error: %s" % r)
print(" ".join(str(v) for v in getattr(r, "registers", [])))
EOF
pm() { "$PY" "$TMP/pm.py" "$@"; }

check "pymodbus reads the roller's 4 input registers over TCP" \
        test "$(pm tcp "$PORT" read-in 1 0 4 | wc -w)" -eq 4
check "pymodbus reads the roller's holding registers over TCP (target 3000)" \
        test "$(pm tcp "$PORT" read-hr 1 0 8 | cut -d' ' -f1)" = 3000
check "pymodbus reads the roller's holding registers over RTU (same board: target 3000)" \
        test "$(pm rtu "$TMP/ttyB" read-hr 1 0 8 | cut -d' ' -f1)" = 3000
check "pymodbus reads the airbag's 5 input registers over RTU (slave 2)" \
        test "$(pm rtu "$TMP/ttyB" read-in 2 0 5 | wc -w)" -eq 5
check "pymodbus reads the base's heater temperature over RTU (slave 3: 24.0 C = 240)" \
        test "$(pm rtu "$TMP/ttyB" read-in 3 0 1)" = "$(sim get heat.temperature | awk -F= '{ printf "%.0f", $2 * 10 }')"
check "a register outside the roller's map is an illegal data address (exception 2)" \
        test "$(pm rtu "$TMP/ttyB" exc 1 10)" = 2

# ---- power, enable, heartbeat: the roller moves --------------------------------------------------------

# The "daemon" of this test: closes the relay on the GPIO socket and writes the roller's heartbeat
# register every 50 ms while $TMP/hb exists. It keeps the GPIO connection until killed.
cat >"$TMP/driver.py" <<'EOF'
import os, socket, sys, time
from pymodbus.client import ModbusTcpClient
run, port, flag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
g = socket.socket(socket.AF_UNIX)
g.connect(os.path.join(run, "gpio.sock"))
f = g.makefile("rw")
hello = [f.readline().strip() for _ in range(7)]
assert hello[0] == "hello chair-sim 1" and hello[-1] == "ready", hello
f.write("set POWER_EN 1\nget POWER_EN\n")
f.flush()
assert f.readline().strip() == "value POWER_EN 1"
c = ModbusTcpClient("127.0.0.1", port=port, timeout=1)
c.connect()
beat = 0
while True:
    if os.path.exists(flag):
        beat = beat % 65535 + 1
        c.write_register(6, beat, slave=1)
    time.sleep(0.05)  # the heartbeat period, not a wait for anything
EOF
touch "$TMP/hb"
"$PY" "$TMP/driver.py" "$TMP/run" "$PORT" "$TMP/hb" 2>"$TMP/driver.log" &
DRIVER=$!
PIDS+=($DRIVER)

check "a socket client closes the power relay on gpio.sock" sim wait 'relay==1' --timeout 5
check "heartbeats arrive at the roller board" sim wait 'board.roller.heartbeat>0' --timeout 5

# speed limit 100 mm/s, force 20 N, technique 0, width 40 mm, enable, (heartbeat), comm timeout 300 ms
hb=$(pm rtu "$TMP/ttyB" read-hr 1 6 1)
pm rtu "$TMP/ttyB" write 1 1 1000 200 0 40 1 "$hb" 300 >/dev/null
check "roller enabled and powered" sim wait 'roller.enable==1' 'roller.powered==1' 'board.roller.comm_timeout==300'
check "the roller moves toward its target (position > 100 mm)" sim wait 'roller.position>100' --timeout 5
check "the roller reports its speed limit while moving (100 mm/s)" sim wait 'roller.speed==100' --timeout 1

# ---- heartbeats stop: the board trips on its own -------------------------------------------------------

rm -f "$TMP/hb"
check "the roller board trips when heartbeats stop" sim wait 'board.roller.tripped==1' --timeout 3
check "a tripped roller stops at once" sim wait 'roller.speed==0' 'roller.powered==0' --timeout 1
status=$(mbpoll_reg 4 -a 1 -r 1 -c 4 -t 3)
check "the roller status register shows the trip (bit1 set: $status)" test $((status & 2)) -eq 2
pos=$(mbpoll_reg 1 -a 1 -r 1 -c 4 -t 3)
check "mbpoll shows where the roller stopped ($pos, between 100 and 300 mm)" \
        test "$pos" -gt 1000 -a "$pos" -le 3000 -a "$pos" = \
        "$(sim get roller.position.reported | awk -F= '{ printf "%.0f", $2 * 10 }')"

touch "$TMP/hb"
check "the trip clears when heartbeats resume" sim wait 'board.roller.tripped==0' 'roller.powered==1' --timeout 3

# ---- the GPIO client goes away: its outputs drop -------------------------------------------------------

kill "$DRIVER"
check "the relay opens when the client that closed it disconnects" sim wait 'relay==0' 't.relay_off_ns>0' --timeout 3
check "without power the roller stops" sim wait 'roller.powered==0' 'roller.speed==0' --timeout 1

# ---- clean exit ------------------------------------------------------------------------------------------

kill -TERM "$SIM_PID"
rc=0
wait "$SIM_PID" || rc=$?
check "chair-sim exits 0 on SIGTERM (exit status $rc)" test "$rc" -eq 0
check "chair-sim removes its sockets on exit" test ! -e "$TMP/run/ctl.sock" -a ! -e "$TMP/run/gpio.sock"

if [ "$failed" -ne 0 ]; then
        echo "---- chair-sim log ----"
        cat "$TMP/sim.log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
