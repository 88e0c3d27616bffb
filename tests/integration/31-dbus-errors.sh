#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bad input over D-Bus gets the right org.chaird.Error.* name and leaves the chair's state unchanged:
# unknown program, intensity 0 or 99, over-long strings, wrong signatures, calls in the wrong state.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_chair

call() {
        busctl --system call org.chaird.Chair1 /org/chaird/Chair1 "$@" 2>&1
}

snapshot() {
        busctl --system get-property org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 \
                State Mode ActiveProgram Intensity EStop 2>&1 | tr '\n' ' '
}

# expect ERROR-NAME DESCRIPTION ARGS...: the call fails with exactly that error, state unchanged
expect() {
        local want=$1 what=$2 before after out
        shift 2
        before=$(snapshot)
        out=$(busctl --system --verbose call org.chaird.Chair1 /org/chaird/Chair1 "$@" 2>&1) && {
                not_ok "$what: call succeeded"
                return
        }
        after=$(snapshot)
        if ! echo "$out" | grep -q -- "$want"; then
                # busctl prints the message, not always the name: ask gdbus, which prints the name
                out=$(gdbus_call "$@" 2>&1 || true)
        fi
        if echo "$out" | grep -q -- "$want" && [ "$before" = "$after" ]; then
                ok "$what → $want"
        else
                not_ok "$what: wanted $want, state '$before' → '$after': $out"
        fi
}

# gdbus shows the D-Bus error name (busctl shows only the message)
gdbus_call() {
        local iface=$1 method=$2 sig=${3:-}
        shift $(($# < 3 ? $# : 3))
        local args=()
        local i=0
        for a in "$@"; do
                case "${sig:$i:1}" in
                s) args+=("\"$a\"") ;;
                u) args+=("uint32 $a") ;;
                d) args+=("double $a") ;;
                esac
                i=$((i + 1))
        done
        gdbus call --system --dest org.chaird.Chair1 --object-path /org/chaird/Chair1 \
                --method "$iface.$method" "${args[@]}"
}

expect org.chaird.Error.NoSuchProgram "unknown program" org.chaird.Chair1 StartProgram su nosuch 5
expect org.chaird.Error.InvalidArgument "intensity 0" org.chaird.Chair1 StartProgram su quick-10 0
expect org.chaird.Error.InvalidArgument "intensity 99" org.chaird.Chair1 StartProgram su quick-10 99
long=$(printf 'x%.0s' $(seq 300))
expect org.chaird.Error.InvalidArgument "over-long program id" org.chaird.Chair1 StartProgram su "$long" 5
expect org.chaird.Error.InvalidArgument "SetIntensity 0" org.chaird.Chair1 SetIntensity u 0
expect org.chaird.Error.Busy "Pause when idle" org.chaird.Chair1 Pause
expect org.chaird.Error.Busy "Resume when idle" org.chaird.Chair1 Resume
expect org.chaird.Error.Interlock "EnterUntrainedMode without the key" org.chaird.Chair1 EnterUntrainedMode
expect org.chaird.Error.NotPermitted "ManualControl outside untrained mode" org.chaird.Chair1 ManualControl dsu 200 knead 2
expect org.chaird.Error.InvalidArgument "Jog to a NaN-free but off-track target" org.chaird.Maintenance1 Jog sd roller 5000
expect org.chaird.Error.InvalidArgument "Jog of an unknown actuator" org.chaird.Maintenance1 Jog sd wings 10

# wrong signature: sd-bus rejects it before the adaptor (standard InvalidArgs)
out=$(busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 StartProgram us 5 quick-10 2>&1 || true)
check "wrong signature → InvalidArgs ($out)" grep -qi "invalid arg" <<<"$out"

busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 StartProgram su quick-10 4
check "program running" wait_prop State running 5
expect org.chaird.Error.Busy "StartProgram while running" org.chaird.Chair1 StartProgram su swedish-back 4
expect org.chaird.Error.Busy "StartBodyScan while running" org.chaird.Chair1 StartBodyScan
expect org.chaird.Error.Busy "Jog while running" org.chaird.Maintenance1 Jog sd roller 100
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 SetIntensity u 7
check "SetIntensity while running" test "$(chair_prop Intensity)" = 7
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 EmergencyStop
check "latched" wait_prop EStop true 5
expect org.chaird.Error.EmergencyStop "StartProgram while latched" org.chaird.Chair1 StartProgram su quick-10 4
sim stand
busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop
check "idle after reset" wait_prop State idle 5
check "daemon sees nobody seated" wait_prop Occupied false 5
expect org.chaird.Error.NotOccupied "StartProgram with nobody seated" org.chaird.Chair1 StartProgram su quick-10 4
finish
