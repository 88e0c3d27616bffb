#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# /init of the gpio-sim VM (busybox ash): a gpio-sim chip with the chair's named lines, chair-sim for the
# Modbus boards, a system bus, chaird on the libgpiod backend; then the checks, printed as TAP-like lines
# on the console for tests/vm/gpio-sim.sh, and power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/dbus /run/chair-sim /run/chaird/chaird.conf.d
ip link set lo up
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
check() { what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
finish() {
        echo "$PASSED passed, $FAILED failed"
        sync
        poweroff -f
}
fatal() { not_ok "$*"; for f in /tmp/*.log; do echo "# --- $f"; tail -n 20 "$f" | sed 's/^/# /'; done; finish; }
# wait_until SECONDS CMD...: polls a condition until true or the (wall-clock) time is up.
wait_until() {
        end=$(($(date +%s) + $1)); shift
        while :; do
                "$@" && return 0
                [ "$(date +%s)" -lt $end ] || return 1
                sleep 0.1
        done
}

insmod /lib/modules/configfs.ko && mount -t configfs none /sys/kernel/config || fatal "configfs"
insmod /lib/modules/gpio-sim.ko || fatal "insmod gpio-sim.ko"
G=/sys/kernel/config/gpio-sim/chair
mkdir -p $G/bank0
echo 5 >$G/bank0/num_lines
i=0
for name in ESTOP INTERLOCK SEAT POWER_EN WDT_HEARTBEAT; do
        mkdir $G/bank0/line$i
        echo $name >$G/bank0/line$i/name
        i=$((i + 1))
done
echo 1 >$G/live || fatal "gpio-sim chip did not go live"
CHIP=$(cat $G/bank0/chip_name)
SIM=/sys/devices/platform/$(cat $G/dev_name)/$CHIP
check "gpio-sim chip $CHIP live with 5 lines" test -e $SIM/sim_gpio4/value
line() { cat $SIM/sim_gpio$1/value; } # 0 ESTOP 1 INTERLOCK 2 SEAT 3 POWER_EN 4 WDT_HEARTBEAT
pull() { echo pull-$2 >$SIM/sim_gpio$1/pull; }
is() { [ "$("$@" 2>/dev/null)" = "$WANT" ]; }
line_is() { [ "$(line $1)" = "$2" ]; }

# chaird's config: the example chair; the lines by name on this chip. gpio-sim turns a consumer's bias
# request into the line's level, so the e-stop keeps the level the "button" (the sim pull) sets.
cat >/run/chaird/chaird.conf.d/50-vm.conf <<CONF
[Modbus]
Transport=tcp
Host=127.0.0.1
Port=1502
[GPIO]
Backend=gpiod
Chip=$CHIP
[Line estop]
Bias=as-is
# TCG emulates the CPU many times slower than the board: give Modbus the slack a slow link would get.
[Chair]
ControlRateHz=20
[Board roller]
ResponseTimeoutMs=200
CommLossMs=3000
[Board airbag]
ResponseTimeoutMs=200
CommLossMs=3000
[Board base]
ResponseTimeoutMs=200
CommLossMs=3000
CONF

chair-sim --run-dir /run/chair-sim serve --tcp 127.0.0.1:1502 >/tmp/sim.log 2>&1 &
chair-sim --run-dir /run/chair-sim wait-ready --timeout 20 >/dev/null || fatal "chair-sim not ready"
# The wiring: the kernel line POWER_EN is the relay that powers chair-sim's boards, so mirror the
# gpio-sim outputs onto chair-sim's own lines (its GPIO socket), as they change.
mirror_outputs() {
        last=
        while :; do
                v="$(line 3) $(line 4)"
                if [ "$v" != "$last" ]; then
                        echo "set POWER_EN ${v% *}"
                        echo "set WDT_HEARTBEAT ${v#* }"
                        last=$v
                fi
                sleep 0.02
        done | socat - UNIX-CONNECT:/run/chair-sim/gpio.sock >/dev/null 2>&1
}
mirror_outputs &
dbus-daemon --config-file=/etc/bus.conf --fork >/tmp/dbus.log 2>&1 || fatal "dbus-daemon"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket
CHAIRD_LOG_LEVEL=info chaird >/tmp/chaird.log 2>&1 &
CHAIRD_PID=$!
bus_named() { busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 State >/dev/null 2>/tmp/busctl.log; }
wait_until 30 bus_named || fatal "chaird did not take its bus name"
prop() { busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 "$1" | cut -d' ' -f2- | tr -d '"'; }
# dbus-send names the D-Bus error on failure ("Error org.chaird.Error.X: text"), busctl only its text.
call() { dbus-send --system --print-reply --dest=org.chaird.Chair1 /org/chaird/Chair1 "org.chaird.Chair1.$1" \
        >/dev/null 2>/tmp/call.err; }
prop_is() { [ "$(prop "$1" 2>/dev/null)" = "$2" ]; }

mount -t debugfs none /sys/kernel/debug
held() { [ "$(grep -c '|chaird ' /sys/kernel/debug/gpio)" -ge 5 ]; }
check "chaird holds the 5 gpio-sim lines (libgpiod backend)" held
grep gpio- /sys/kernel/debug/gpio | sed 's/^/# /'
check "idle, not latched" wait_until 10 prop_is State idle
check "POWER_EN driven high while healthy" wait_until 10 line_is 3 1
hb0=$(line 4)
hb_toggles() { [ "$(line 4)" != "$hb0" ]; }
check "WDT_HEARTBEAT toggles" wait_until 5 hb_toggles

# E-stop: the normally-closed loop opens (pull-up) -> relay off, latched.
pull 0 up
check "e-stop pressed: POWER_EN drops" wait_until 5 line_is 3 0
check "EStop latched" wait_until 5 prop_is EStop true
check "EStopPressed follows the line" wait_until 5 prop_is EStopPressed true
check "reset refused while pressed" eval '! call ResetEmergencyStop'
check "still latched after the refused reset" prop_is EStop true
pull 0 down
check "EStopPressed clears on release" wait_until 5 prop_is EStopPressed false
check "reset accepted after release" call ResetEmergencyStop
check "idle after reset" wait_until 5 prop_is State idle
check "POWER_EN back on after reset" wait_until 5 line_is 3 1

# Interlock key: InterlockEngaged follows the line; untrained mode needs it.
check "interlock off" prop_is InterlockEngaged false
if busctl --system introspect org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 2>/dev/null | grep -q EnterUntrainedMode; then
        call EnterUntrainedMode
        check "untrained mode refused without the key: org.chaird.Error.Interlock" grep -q 'Error org.chaird.Error.Interlock' /tmp/call.err
        # The other entry conditions: someone seated (SEAT line) and a body scan.
        pull 2 up
        check "seat sensor: Occupied" wait_until 5 prop_is Occupied true
        call StartBodyScan || echo "# StartBodyScan: $(cat /tmp/call.err)"
        check "body scan done" wait_until 60 prop_is BodyScanned true
        echo "# after the scan: State=$(prop State) EStopReason=$(prop EStopReason) ShoulderPosition=$(prop ShoulderPosition) LastScanError=$(prop LastScanError)"
        check "idle after the scan" wait_until 20 prop_is State idle
        pull 1 up
        check "interlock key turned: InterlockEngaged" wait_until 5 prop_is InterlockEngaged true
        check "with the key, EnterUntrainedMode is accepted" call EnterUntrainedMode
        check "Mode untrained" wait_until 5 prop_is Mode untrained
        pull 1 down
        check "key pulled: back to program mode" wait_until 5 prop_is Mode program
else
        echo "# EnterUntrainedMode not on the bus yet: only the InterlockEngaged property is checked"
        pull 1 up
        check "interlock key turned: InterlockEngaged" wait_until 5 prop_is InterlockEngaged true
fi
pull 1 down
check "interlock key off again" wait_until 5 prop_is InterlockEngaged false

kill -TERM $CHAIRD_PID
gone() { ! kill -0 $CHAIRD_PID 2>/dev/null; }
check "SIGTERM: chaird exits" wait_until 10 gone
check "after stop POWER_EN is low" line_is 3 0
finish
