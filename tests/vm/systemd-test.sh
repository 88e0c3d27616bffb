#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the systemd VM (chair-vm-test.service) on the installed chaird package: readiness, the bus
# name on the real system bus, the policy for chair-ui and for an outsider, the watchdog restart after
# SIGSTOP, relay off after `systemctl stop`. Results go to /var/log/chair-vm-test.log, read after
# poweroff by tests/vm/systemd.sh with debugfs.
exec >/var/log/chair-vm-test.log 2>&1
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
wait_until() { # SECONDS CMD...: a condition with a wall-clock bound
        local end=$((SECONDS + $1)); shift
        until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done
}
SIM=/sys/devices/platform/gpio-sim.0/gpiochip0
line_is() { [ "$(cat $SIM/sim_gpio$1/value)" = "$2" ]; }
pull() { echo pull-$2 >$SIM/sim_gpio$1/pull; }
prop() { busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 "$1" | cut -d' ' -f2- | tr -d '"'; }
prop_is() { [ "$(prop "$1" 2>/dev/null)" = "$2" ]; }
send() { # USER METHOD [ARGS...]: dbus-send as USER; stderr names the D-Bus error
        local u=$1 m=$2; shift 2
        runuser -u "$u" -- dbus-send --system --print-reply --dest=org.chaird.Chair1 /org/chaird/Chair1 \
                "org.chaird.Chair1.$m" "$@" >/tmp/send.out 2>/tmp/send.err
}
active() { [ "$(systemctl is-active chaird)" = active ]; }
show() { systemctl show -p "$1" --value chaird; }

check "chaird.service active (Type=notify: after READY=1)" wait_until 90 active
check "STATUS= from sd_notify shown by systemd" test -n "$(show StatusText)"
echo "# StatusText: $(show StatusText)"
check "generator gave it the gpiochip and Modbus TCP only" \
        grep -qx 'DeviceAllow=/dev/gpiochip0 rw' /run/systemd/generator/chaird.service.d/50-chaird-generator.conf
owner_uid() { busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixUser s org.chaird.Chair1 | cut -d' ' -f2; }
check "org.chaird.Chair1 on the system bus, owned by user chaird" test "$(owner_uid)" = "$(id -u chaird)"
check "control loop runs SCHED_FIFO (CPUSchedulingPolicy=fifo despite RestrictRealtime=)" \
        bash -c "chrt -p \$(systemctl show -P MainPID chaird) | grep -q SCHED_FIFO"
check "runs unprivileged with no capabilities" test "$(grep CapEff /proc/$(show MainPID)/status | cut -f2)" = 0000000000000000

useradd -M -G chair-ui ui
useradd -M outsider
pull 2 up # someone sits down
check "seat sensor: Occupied" wait_until 10 prop_is Occupied true
if busctl --system introspect org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 | grep -q StartProgram; then
        PROG=$(busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ListPrograms |
                grep -o '"[^"]*"' | head -n 1 | tr -d '"')
        echo "# program: $PROG"
        send outsider StartProgram string:"$PROG" uint32:3
        check "outsider: StartProgram is AccessDenied by the bus policy" \
                grep -q org.freedesktop.DBus.Error.AccessDenied /tmp/send.err
        send ui StartProgram string:"$PROG" uint32:3
        echo "# chair-ui StartProgram: $(cat /tmp/send.err)"
        check "chair-ui user: StartProgram accepted" test ! -s /tmp/send.err
        running() { case "$(prop State)" in running | scanning) return 0 ;; esac; return 1; }
        check "chair-ui user: a session runs" wait_until 20 running
        send ui Stop
else
        echo "# StartProgram not on the bus yet: policy shown with EmergencyStop/ResetEmergencyStop"
        send outsider EmergencyStop
        check "outsider: EmergencyStop is AccessDenied" grep -q org.freedesktop.DBus.Error.AccessDenied /tmp/send.err
        check "chair-ui user: EmergencyStop accepted" send ui EmergencyStop
        check "chair-ui user: ResetEmergencyStop accepted" send ui ResetEmergencyStop
fi
check "outsider may still read properties" runuser -u outsider -- busctl --system get-property \
        org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 State
idle() { prop_is State idle; }
wait_until 30 idle

# Watchdog: a hung daemon (SIGSTOP) is killed by systemd and restarted; it comes up latched.
pid=$(show MainPID)
restarts=$(show NRestarts)
kill -STOP "$pid"
restarted() { [ "$(show NRestarts)" -gt "$restarts" ] && active && [ "$(show MainPID)" != "$pid" ]; }
check "SIGSTOP: watchdog kills and systemd restarts chaird" wait_until 60 restarted
check "journal: watchdog timeout" bash -c "journalctl -b -u chaird | grep -q 'Watchdog timeout'"
check "after the watchdog restart: latched" wait_until 20 prop_is EStop true
check "reason unclean-restart" prop_is EStopReason unclean-restart
check "relay off while latched" line_is 3 0
check "reset by root" busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop
check "relay on again when idle" wait_until 10 line_is 3 1

systemctl stop chaird
check "systemctl stop: relay off" line_is 3 0
check "ExecStopPost drove the relay line inactive" \
        bash -c "journalctl -b -u chaird | grep -q 'chaird-safe-outputs: power relay line gpiochip0:3 (POWER_EN) driven inactive'"
check "clean stop: unit inactive, not failed" test "$(systemctl is-active chaird)" = inactive
journalctl -b -u chaird --no-pager | tail -n 40 | sed 's/^/# /'
echo "$PASSED passed, $FAILED failed"
sync
systemctl poweroff
