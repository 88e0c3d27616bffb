#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by chaird-generator and chaird-safe-outputs: reads one key of chaird's effective configuration
# (main file + drop-ins, exactly as the daemon merges them) from `chaird --check-config`.
# Sourced, POSIX sh. CHAIRD and CHAIRD_ROOT may point at another binary and config tree (tests).

: "${CHAIRD:=/usr/sbin/chaird}"
: "${CHAIRD_ROOT:=/}"
CHAIRD_CONFIG_DUMP=

# chaird_config_load: fills CHAIRD_CONFIG_DUMP; fails (and says why on stderr) on a bad config.
chaird_config_load() {
        CHAIRD_CONFIG_DUMP=$("$CHAIRD" --root "$CHAIRD_ROOT" --check-config 2>&1) || {
                echo "$CHAIRD_CONFIG_DUMP" >&2
                return 1
        }
}

# chaird_config_get SECTION KEY: prints the effective value ("Key=Value  # file:line" in the dump).
chaird_config_get() {
        printf '%s\n' "$CHAIRD_CONFIG_DUMP" | awk -v sec="[$1]" -v key="$2" '
                /^\[/ { insec = ($0 == sec); next }
                insec && index($0, key "=") == 1 {
                        v = substr($0, length(key) + 2)
                        sub(/  # .*$/, "", v)
                        print v
                        exit
                }'
}

# chaird_chip_path CHIP: the device node of a Chip= value, or nothing for a label (known only at run time).
chaird_chip_path() {
        case "$1" in
        /dev/*) echo "$1" ;;
        gpiochip[0-9]*) echo "/dev/$1" ;;
        *[!0-9]* | '') ;;
        *) echo "/dev/gpiochip$1" ;;
        esac
}
