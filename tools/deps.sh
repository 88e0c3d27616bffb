#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Finds the Debian packages that building, testing and the demo need and installs the missing ones
# (as root), or prints the exact apt-get line (otherwise) and fails.
set -euo pipefail

PACKAGES=(
        build-essential pkg-config
        libsystemd-dev libmodbus-dev libgpiod-dev gpiod libcmocka-dev libinih-dev libjson-c-dev clang libclang-rt-14-dev valgrind
        systemd man-db inotify-tools dbus-daemon dbus-bin libglib2.0-bin socat mbpoll
        python3 python3-pymodbus python3-serial python3-dbus
)

missing=()
for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
                missing+=("$p")
        fi
done

if [ ${#missing[@]} -eq 0 ]; then
        exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
        echo "Missing packages: ${missing[*]}" >&2
        echo "Install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
