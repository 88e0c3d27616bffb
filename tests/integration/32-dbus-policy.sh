#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Access control on a bus configured like the system bus with the shipped policy: chair-ui may run
# the chair but not Maintenance1, chair-tech may do both, an outsider may only introspect and read
# properties. Then, with a policy that lets everyone through, the daemon's own credential check still
# refuses the outsider (defence in depth). Needs root to create the test users.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: needs root to create the test users"
        finish
fi
for g in chair-ui chair-tech; do
        getent group "$g" >/dev/null || groupadd --system "$g"
done
mkuser() {
        getent passwd "$1" >/dev/null ||
                useradd --system --no-create-home --shell /usr/sbin/nologin ${2:+--groups "$2"} "$1"
}
mkuser chaird-test-ui chair-ui
mkuser chaird-test-tech chair-tech
mkuser chaird-test-outsider
chmod 0755 "$T" # the users must reach the bus socket inside it

as() {
        local user=$1
        shift
        setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
                env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" "$@"
}
call_as() {
        local user=$1
        shift
        as "$user" busctl --system call org.chaird.Chair1 /org/chaird/Chair1 "$@" 2>&1
}
allowed() {
        local what=$1 out
        shift
        if out=$(call_as "$@"); then ok "$what"; else not_ok "$what: $out"; fi
}
denied() {
        local what=$1 want=$2 out
        shift 2
        out=$(gdbus_as "$@" 2>&1) && { not_ok "$what: allowed"; return; }
        if grep -q -- "$want" <<<"$out"; then ok "$what → $want"; else not_ok "$what: $out"; fi
}
# gdbus prints the error name; arguments in GVariant text
gdbus_as() {
        local user=$1 method=$2
        shift 2
        as "$user" gdbus call --system --dest org.chaird.Chair1 --object-path /org/chaird/Chair1 \
                --method "$method" "$@"
}

start_bus
start_sim
make_root tcp
start_daemon

allowed "chair-ui: StartProgram" chaird-test-ui org.chaird.Chair1 StartProgram su quick-10 3
check "chair-ui: program running" wait_prop State running 5
allowed "chair-ui: Stop" chaird-test-ui org.chaird.Chair1 Stop
check "stopped" wait_prop State idle 60
allowed "chair-ui: EmergencyStop" chaird-test-ui org.chaird.Chair1 EmergencyStop
allowed "chair-ui: ResetEmergencyStop" chaird-test-ui org.chaird.Chair1 ResetEmergencyStop
denied "chair-ui: Maintenance1.Jog" org.freedesktop.DBus.Error.AccessDenied \
        chaird-test-ui org.chaird.Maintenance1.Jog roller 100.0

check "outsider: introspect" as chaird-test-outsider busctl --system introspect org.chaird.Chair1 /org/chaird/Chair1
check "outsider: read State" as chaird-test-outsider busctl --system get-property org.chaird.Chair1 \
        /org/chaird/Chair1 org.chaird.Chair1 State
denied "outsider: StartProgram" org.freedesktop.DBus.Error.AccessDenied \
        chaird-test-outsider org.chaird.Chair1.StartProgram quick-10 "uint32 3"
denied "outsider: EmergencyStop" org.freedesktop.DBus.Error.AccessDenied \
        chaird-test-outsider org.chaird.Chair1.EmergencyStop
denied "outsider: Jog" org.freedesktop.DBus.Error.AccessDenied \
        chaird-test-outsider org.chaird.Maintenance1.Jog roller 100.0
check "state unchanged by the outsider" test "$(chair_prop State)" = idle

allowed "chair-tech: Jog" chaird-test-tech org.chaird.Maintenance1 Jog sd roller 120
check "jog done" wait_prop State idle 20
allowed "chair-tech: StartProgram" chaird-test-tech org.chaird.Chair1 StartProgram su quick-10 3
allowed "chair-tech: Stop" chaird-test-tech org.chaird.Chair1 Stop
check "stopped" wait_prop State idle 60

# Defence in depth: a bus policy that lets everyone call chaird (a mis-installed policy).
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true
cat >"$T/open-policy.conf" <<'XML'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root"><allow own="org.chaird.Chair1"/></policy>
  <policy context="default"><allow send_destination="org.chaird.Chair1"/></policy>
</busconfig>
XML
start_bus "$T/open-policy.conf"
start_daemon
denied "open policy: outsider StartProgram refused by chaird itself" org.chaird.Error.NotPermitted \
        chaird-test-outsider org.chaird.Chair1.StartProgram quick-10 "uint32 3"
denied "open policy: chair-ui Jog refused by chaird itself" org.chaird.Error.NotPermitted \
        chaird-test-ui org.chaird.Maintenance1.Jog roller 100.0
allowed "open policy: EmergencyStop stays open to anyone who reaches chaird" \
        chaird-test-outsider org.chaird.Chair1 EmergencyStop
finish
