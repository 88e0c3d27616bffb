#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault matrix, files: the config corrupted before a reload (SIGHUP and Maintenance1.Reload), the state
# file corrupted before a start, the state folder read-only and full while e-stops happen. Expected: a
# refused reload keeps the old config whole and logs "reload-refused"; a damaged state file is set aside
# and what was readable is kept; a state folder that cannot be written never stops the chair, the old
# state file stays intact (atomic replace), and nothing counted meanwhile is lost once it can be
# written again.
# The state folder is a small tmpfs in a private mount namespace (the whole script re-runs itself under
# `unshare -m`), so it can be made read-only and filled without touching the machine.
set -euo pipefail
if [ -z "${FAULTS_MOUNT_NS:-}" ] && unshare -m --propagation private true 2>/dev/null; then
        FAULTS_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/lib-faults.sh"

start_bus
start_sim
make_root tcp
STATE=$ROOT/var/lib/chaird
HAVE_NS=0
if [ -n "${FAULTS_MOUNT_NS:-}" ] && mount -t tmpfs -o size=256k,mode=0755 chaird-state "$STATE"; then
        HAVE_NS=1
        # lib.sh's cleanup removes $T: detach the tmpfs first (the exit status goes through)
        trap '_rc=$?; umount -l "$STATE" 2>/dev/null || true; (exit $_rc); cleanup' EXIT
fi
start_daemon
maint_detect
limits() { $MAINT GetLimits; }

# ---- config corrupted before a reload ----------------------------------------------------------------
mkdir -p "$ROOT/etc/chaird/chaird.conf.d"
limits0=$(limits)
mark
# a lower force cap the reload would apply, and a line that is not INI at all
printf '[Limits]\nHeatMaxTempC=42\n[Limits\nMaxForceN\x01=\xff\n' >"$ROOT/etc/chaird/chaird.conf.d/90-new.conf"
kill -HUP "$DAEMON_PID"
check "config corrupt, SIGHUP: the refusal names file:line" \
        wait_for_line "$T/chaird.log" '90-new.conf:[0-9]+' 5
check "config corrupt, SIGHUP: daemon still running" kill -0 "$DAEMON_PID"
check "config corrupt, SIGHUP: old limits stay (heat cap 45, not 42)" test "$(limits)" = "$limits0"
mcheck "config corrupt, SIGHUP: fault log reload-refused" logged_since reload-refused
# the main file truncated half-way (a power cut during an OEM update)
cp "$ROOT/etc/chaird/chaird.conf" "$T/chaird.conf.good"
rm "$ROOT/etc/chaird/chaird.conf.d/90-new.conf"
head -c "$(($(stat -c %s "$T/chaird.conf.good") / 2))" "$T/chaird.conf.good" >"$ROOT/etc/chaird/chaird.conf"
mark
check "config truncated: Reload() fails with the reason" \
        bash -c "$MAINT Reload 2>&1 | grep -qiE 'chaird.conf|missing|required|no '"
check "config truncated: old limits stay" test "$(limits)" = "$limits0"
mcheck "config truncated: fault log reload-refused" logged_since reload-refused
check "config truncated: the old config still runs a program" run_program quick-10 5
$CHAIR Stop >/dev/null
wait_prop State idle 20
# a good file applies: the refusals above were about the damage, not about reloading at all
cp "$T/chaird.conf.good" "$ROOT/etc/chaird/chaird.conf"
printf '[Limits]\nHeatMaxTempC=42\n' >"$ROOT/etc/chaird/chaird.conf.d/90-new.conf"
check "config repaired: Reload() applies it" $MAINT Reload
check "config repaired: the new heat cap is in force" bash -c "$MAINT GetLimits | grep -q '\"heat-max-temp-c\" 42 42'"

# ---- state file corrupted before a start ---------------------------------------------------------
$CHAIR EmergencyStop >/dev/null
reset_chair
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
cp "$STATE/state" "$T/state.good"
# damage one fault line in the middle and lose the "end" line (a torn write on a bad flash)
awk 'BEGIN { n = 0 } /^fault=/ && ++n == 1 { print "fault=\001\002garbage"; next } /^end$/ { next } { print }' \
        "$T/state.good" >"$STATE/state"
start_daemon
check "state corrupt: daemon starts" kill -0 "$DAEMON_PID"
check "state corrupt: not latched (it was a clean stop)" test "$(chair_prop EStop)" = false
check "state corrupt: damaged file kept aside" bash -c "ls '$STATE'/state.corrupt-* >/dev/null"
check "state corrupt: the journal says so" grep -q "damaged state file" "$T/chaird.log"
want=$(grep -oE '^estops=[0-9]+' "$T/state.good" | cut -d= -f2)
mcheck "state corrupt: e-stop count kept ($want)" test "$(counter estops)" = "$want"
mcheck "state corrupt: the readable fault entries kept ($(($(grep -c '^fault=' "$T/state.good") - 1)))" \
        test "$(faults | wc -l)" -eq "$(($(grep -c '^fault=' "$T/state.good") - 1))"
check "state corrupt: a good state file is written again" \
        bash -c "$CHAIR EmergencyStop >/dev/null && grep -q '^end$' '$STATE/state'"
reset_chair

if [ "$HAVE_NS" != 1 ]; then
        skip "state folder read-only (needs a private mount namespace: unshare -m as root)"
        skip "state folder full (needs a private mount namespace: unshare -m as root)"
        finish_faults
fi

# ---- state folder read-only ---------------------------------------------------------------------
mark
cp "$STATE/state" "$T/state.before-ro"
mount -o remount,ro "$STATE"
check "read-only: program runs" run_program quick-10 5
$CHAIR EmergencyStop >/dev/null
check "read-only: e-stop latches as ever" expect_latched remote
check "read-only: relay open" safe_hw full
check "read-only: the failed write is logged" wait_for_line "$T/chaird.log" "Failed to write .*state" 5
check "read-only: the old state file is intact" cmp "$STATE/state" "$T/state.before-ro"
expect_estop_logged "read-only (in memory)" remote
check "read-only: reset → idle" reset_chair
mount -o remount,rw "$STATE"

# ---- state folder full --------------------------------------------------------------------------
dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null || true
check "full: no space left" bash -c "! echo x >'$STATE/probe' 2>/dev/null"
n_fail=$(grep -c "Failed to write .*state" "$T/chaird.log" || true)
check "full: program runs" run_program quick-10 5
$CHAIR EmergencyStop >/dev/null
check "full: e-stop latches as ever" expect_latched remote
check "full: the failed write is logged" \
        timeout 5 bash -c "until [ \$(grep -c 'Failed to write .*state' '$T/chaird.log') -gt $n_fail ]; do sleep 0.05; done"
whole_old_state() { # complete (its "end" line), without the e-stop that could not be saved, no temp file
        [ "$(tail -n 1 "$STATE/state")" = end ] &&
                ! grep -q "^estops=$(counter estops)$" "$STATE/state" &&
                ! ls -A "$STATE" | grep -q '^\.#'
}
mcheck "full: the old state file is whole, the new count not in it, no temp file left" whole_old_state
check "full: reset → idle" reset_chair
rm -f "$STATE/filler"

# ---- nothing lost: what was counted while the folder could not be written survives a restart -------
mcheck "after read-only and full: e-stops counted in memory (+2)" delta estops 2
persisted_check
mcheck "after read-only and full: e-stops still +2 after the restart" delta estops 2
finish_faults
