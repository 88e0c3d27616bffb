#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Packaging checks (issue 6): `make install DESTDIR=` gives the expected tree; systemd-analyze verify says
# nothing about the unit; the offline security exposure is at most 2.0; sysusers/tmpfiles apply to an
# empty root; the generator narrows devices and network to the config; the relay helper drives the
# configured line; the installed D-Bus policy loads in a real dbus-daemon. Each check is also shown to
# fail on a broken input, so none of them passes by accident.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

DEST=$T/dest
make -C "$TOP" --no-print-directory -s BUILD="$BUILD" install-files DESTDIR="$DEST" PREFIX=/usr >"$T/install.log" 2>&1 ||
        die "make install-files failed: $(tail -n 5 "$T/install.log")"
UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
GENDIR=$(pkg-config --variable=systemdsystemgeneratordir systemd 2>/dev/null || echo /lib/systemd/system-generators)
LIBEXEC=$DEST/usr/libexec/chaird
fails() { ! "$@" 2>/dev/null; }

# ---- the installed tree ---------------------------------------------------------------------------
expect_file() { # MODE PATH
        local mode
        mode=$(stat -c %a "$DEST$2" 2>/dev/null) || { echo "# missing $2" >&2; return 1; }
        [ "$mode" = "$1" ] || { echo "# $2 has mode $mode, wanted $1" >&2; return 1; }
}
tree_ok() {
        expect_file 755 /usr/sbin/chaird && expect_file 755 /usr/bin/chair-sim &&
                expect_file 644 "$UNITDIR/chaird.service" && expect_file 755 "$GENDIR/chaird-generator" &&
                expect_file 755 /usr/libexec/chaird/chaird-safe-outputs &&
                expect_file 644 /usr/lib/sysusers.d/chaird.conf && expect_file 644 /usr/lib/tmpfiles.d/chaird.conf &&
                expect_file 644 /usr/share/dbus-1/system.d/org.chaird.Chair1.conf &&
                expect_file 644 /usr/share/doc/chaird/examples/chaird.conf &&
                expect_file 644 /usr/share/bash-completion/completions/chairctl &&
                ls "$DEST"/usr/share/chaird/programs/*.program >/dev/null &&
                { [ -f "$DEST/lib/udev/rules.d/60-chaird.rules" ] || [ -f "$DEST/usr/lib/udev/rules.d/60-chaird.rules" ]; }
}
check "make install places daemon, units, policy, sysusers, tmpfiles, udev, docs" tree_ok
for x in "$TOP"/dbus/org.chaird.*.xml; do
        [ -e "$x" ] && check "interface $(basename "$x") installed" \
                test -f "$DEST/usr/share/dbus-1/interfaces/$(basename "$x")"
done
[ -x "$BUILD/chairctl" ] && check "chairctl installed" test -x "$DEST/usr/bin/chairctl"

make -C "$TOP" --no-print-directory -s BUILD="$BUILD" install-files DESTDIR="$T/opt" PREFIX=/opt/chair >/dev/null 2>&1
check "PREFIX=/opt/chair: unit runs that chaird" grep -qx 'ExecStart=/opt/chair/sbin/chaird' "$T/opt$UNITDIR/chaird.service"
check "PREFIX=/opt/chair: relay helper from that prefix" \
        grep -qx 'ExecStopPost=+/opt/chair/libexec/chaird/chaird-safe-outputs' "$T/opt$UNITDIR/chaird.service"

# ---- systemd-analyze verify: a root holding the host's units plus ours -------------------------------
VROOT=$T/vroot
cp -a "$DEST" "$VROOT"
mkdir -p "$VROOT/lib/systemd/system" "$VROOT/usr/lib/systemd/system" "$VROOT/bin" "$VROOT/etc/systemd/system"
cp -an /lib/systemd/system/. "$VROOT/lib/systemd/system/"
[ -d /usr/lib/systemd/system ] && cp -an /usr/lib/systemd/system/. "$VROOT/usr/lib/systemd/system/"
cp /bin/kill "$VROOT/bin/kill"
# The man page check runs man(1) on this host: only when the page exists, and then from the tree.
MAN=no
[ -e "$DEST/usr/share/man/man8/chaird.8" ] && MAN=yes
verify_quiet() { # ROOT: any output at all is a failure (an unknown key only warns)
        local out
        out=$(MANPATH=$DEST/usr/share/man systemd-analyze verify --man=$MAN --root="$1" chaird.service 2>&1) &&
                [ -z "$out" ] || { echo "# verify: $out" >&2; return 1; }
}
check "systemd-analyze verify chaird.service: no output (man check: $MAN)" verify_quiet "$VROOT"
BAD=$T/vroot-bad
cp -a "$VROOT" "$BAD"
sed -i 's/^WatchdogSec=.*/&\nWatchdogSecs=1/' "$BAD$UNITDIR/chaird.service"
check "verify flags an unknown key (self-check)" fails verify_quiet "$BAD"

exposure() { # ROOT: prints the overall exposure, e.g. 0.7
        systemd-analyze security --offline=yes --no-pager --root="$1" chaird.service 2>&1 |
                sed -n 's/.*Overall exposure level for chaird.service: \([0-9.]*\).*/\1/p'
}
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }'; }
E=$(exposure "$VROOT")
check "security exposure $E <= 2.0 (no network)" at_most "$E" 2.0

# ---- generator: devices and network follow the config ------------------------------------------
gen_root() { # NAME DROPIN-TEXT: a config tree for the generator
        mkdir -p "$T/$1/etc/chaird/chaird.conf.d"
        cp "$TOP/config/examples/chaird.conf" "$T/$1/etc/chaird/chaird.conf"
        printf '%s\n' "$2" >"$T/$1/etc/chaird/chaird.conf.d/50-test.conf"
}
run_gen() { # NAME: runs the installed generator on that tree, prints its drop-in
        rm -rf "$T/$1.gen"
        CHAIRD=$DEST/usr/sbin/chaird CHAIRD_ROOT=$T/$1 CHAIRD_LIBEXEC=$LIBEXEC \
                sh "$DEST$GENDIR/chaird-generator" "$T/$1.gen" "$T/$1.early" "$T/$1.late" 2>"$T/$1.gen.err"
        cat "$T/$1.gen/chaird.service.d/50-chaird-generator.conf" 2>/dev/null || true
}
gen_root tcp $'[Modbus]\nTransport=tcp\nHost=127.0.0.1'
G=$(run_gen tcp)
check "generator, TCP: network opened to the Modbus host only" \
        bash -c '[[ "$1" == *"RestrictAddressFamilies=AF_INET AF_INET6"* && "$1" == *"IPAddressAllow=127.0.0.1"* &&
                "$1" == *"PrivateNetwork=no"* && "$1" != *DeviceAllow* ]]' _ "$G"
gen_root rtu $'[Modbus]\nTransport=rtu\nDevice=/dev/ttyAMA3\n[GPIO]\nBackend=gpiod\nChip=gpiochip2'
G=$(run_gen rtu)
check "generator, RTU + gpiod: the serial port and the chip, no network" \
        bash -c '[[ "$1" == *"DeviceAllow=/dev/ttyAMA3 rw"* && "$1" == *"DeviceAllow=/dev/gpiochip2 rw"* &&
                "$1" != *AF_INET* && "$1" != *PrivateNetwork* ]]' _ "$G"
gen_root label $'[Modbus]\nTransport=rtu\n[GPIO]\nBackend=gpiod\nChip=pinctrl-bcm2711'
check "generator, chip by label: the gpiochip class" bash -c '[[ "$(cat)" == *"DeviceAllow=char-gpiochip rw"* ]]' \
        <<<"$(run_gen label)"
gen_root bad $'[Chair]\nControlRateHz=banana'
check "generator, invalid config: no drop-in (unit stays closed)" test -z "$(run_gen bad)"

# security with the generated TCP drop-in: the example config's case
mkdir -p "$VROOT/etc/systemd/system/chaird.service.d"
run_gen tcp >"$VROOT/etc/systemd/system/chaird.service.d/50-chaird-generator.conf"
check "verify with the generated TCP drop-in: no output" verify_quiet "$VROOT"
E=$(exposure "$VROOT")
check "security exposure $E <= 2.0 (Modbus TCP drop-in)" at_most "$E" 2.0

# ---- relay helper (ExecStopPost=); the real line is driven in tests/vm/ ---------------------------
mkdir -p "$T/bin"
cat >"$T/bin/gpioinfo" <<'STUB'
#!/bin/sh
# gpioinfo of libgpiod 1.6, as a gpio-sim chip with named lines prints it
printf 'gpiochip5 - 5 lines:\n'
printf '\tline   0:      "ESTOP"       unused   input  active-high \n'
printf '\tline   3:   "POWER_EN"     "chaird"  output  active-high [used]\n'
STUB
printf '#!/bin/sh\necho "$@" >>"%s"\n' "$T/gpioset.calls" >"$T/bin/gpioset"
chmod +x "$T/bin/gpioinfo" "$T/bin/gpioset"
safe_outputs() { # NAME
        CHAIRD=$DEST/usr/sbin/chaird CHAIRD_ROOT=$T/$1 CHAIRD_LIBEXEC=$LIBEXEC GPIOINFO=$T/bin/gpioinfo \
                GPIOSET=$T/bin/gpioset sh "$LIBEXEC/chaird-safe-outputs" >>"$T/safe-outputs.log" 2>&1
}
gen_root gpiod $'[GPIO]\nBackend=gpiod\nChip=gpiochip5'
rm -f "$T/gpioset.calls"
safe_outputs gpiod || true
check "relay helper: POWER_EN found by name, driven to 0" test "$(cat "$T/gpioset.calls")" = "gpiochip5 3=0"
gen_root gpiodlow $'[GPIO]\nBackend=gpiod\nChip=gpiochip5\n[Line power-relay]\nActiveLow=yes'
rm -f "$T/gpioset.calls"
safe_outputs gpiodlow || true
check "relay helper: ActiveLow=yes drives the physical level high (-l)" test "$(cat "$T/gpioset.calls")" = "-l gpiochip5 3=0"
gen_root noline $'[GPIO]\nBackend=gpiod\nChip=gpiochip5\n[Line power-relay]\nName=RELAY_MISSING'
check "relay helper: a missing line fails loudly" fails safe_outputs noline
check "relay helper: sim backend needs nothing" safe_outputs tcp

# ---- sysusers and tmpfiles on an empty root -------------------------------------------------------
SR=$T/sysroot
mkdir -p "$SR/etc"
check "sysusers applies" systemd-sysusers --root="$SR" "$DEST/usr/lib/sysusers.d/chaird.conf" 2>>"$T/sysusers.log"
check "user chaird, groups chair-ui and chair-tech exist" bash -c "grep -q '^chaird:.*:/var/lib/chaird:' '$SR/etc/passwd' &&
        grep -q '^chair-ui:' '$SR/etc/group' && grep -q '^chair-tech:' '$SR/etc/group'"
check "tmpfiles applies" systemd-tmpfiles --create --root="$SR" "$DEST/usr/lib/tmpfiles.d/chaird.conf"
modes_ok() {
        [ "$(stat -c %a:%u "$SR/etc/chaird/chaird.conf.d")" = 755:0 ] &&
                [ "$(stat -c %a:%u "$SR/run/chaird/chaird.conf.d")" = 755:0 ] &&
                [ "$(stat -c %a "$SR/var/lib/chaird")" = 750 ]
}
check "config dirs root's 0755, state dir 0750" modes_ok

# ---- the installed policy in a real dbus-daemon ---------------------------------------------------
policy_loads() { # POLICY-FILE: the bus starts with it and says nothing
        sed -e "s|@SOCKET@|$T/policy-bus.sock|" -e "s|@POLICY@|$1|" "$TOP/tests/lib/system-bus.conf.in" >"$T/policy-bus.conf"
        local out pid
        out=$(dbus-daemon --config-file="$T/policy-bus.conf" --fork --print-pid=1 2>"$T/policy-bus.err") || return 1
        pid=$out
        kill "$pid" 2>/dev/null || true
        # A user or group this host lacks only warns (they come with the package): anything else fails.
        local line name
        while read -r line; do
                name=$(sed -n 's/.*Unknown \(username\|group\) "\([^"]*\)".*/\2/p' <<<"$line")
                if [ -n "$name" ] && ! getent passwd "$name" >/dev/null && ! getent group "$name" >/dev/null; then
                        continue
                fi
                echo "# dbus-daemon: $line" >&2
                return 1
        done <"$T/policy-bus.err"
}
check "installed D-Bus policy loads in dbus-daemon without warnings" \
        policy_loads "$DEST/usr/share/dbus-1/system.d/org.chaird.Chair1.conf"
sed 's|<allow own=|<allow own_everything=|' "$DEST/usr/share/dbus-1/system.d/org.chaird.Chair1.conf" >"$T/bad-policy.conf"
check "a broken policy is caught (self-check)" fails policy_loads "$T/bad-policy.conf"
finish
