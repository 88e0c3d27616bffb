#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VM test (a): chaird's libgpiod backend on a real kernel GPIO chip. Boots Debian's kernel under QEMU
# with a busybox initramfs, creates a gpio-sim chip with named lines through configfs, runs chair-sim
# (Modbus TCP only), a system bus and chaird with [GPIO] Backend=gpiod, and checks what the lines do:
# e-stop (the sim line's pull) drops POWER_EN, reset is refused while pressed, the interlock key gates
# untrained mode. Usage: tests/vm/gpio-sim.sh BUILD
set -euo pipefail
source "$(dirname "$0")/lib.sh"

START=$SECONDS
vm_need qemu-system-x86 busybox-static cpio xz-utils gcc make libelf1 dbus-daemon dbus-bin systemd socat
vm_qemu_usable || exit 0
[ -x "$BUILD/chaird" ] && [ -x "$BUILD/chair-sim" ] || vm_die "build chaird and chair-sim first (make all)"
vm_kernel
vm_gpio_sim
PREP=$((SECONDS - START))

R=$CACHE/gpio-sim-initrd
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,lib/modules,etc/chaird,proc,sys,dev,run,tmp,var/lib/chaird}
install -m0755 /bin/busybox "$R/bin/busybox"
# Applet links; busybox itself stays the real file (a link onto itself would replace it).
"$R/bin/busybox" --list-full | while read -r a; do
        [ "$(basename "$a")" = busybox ] && continue
        [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
cp "$(vm_module_path configfs)" "$GPIO_SIM_KO" "$R/lib/modules/"
vm_copy_with_libs "$R" "$BUILD/chaird" "$BUILD/chair-sim" "$(command -v dbus-daemon)" "$(command -v busctl)" \
        "$(command -v dbus-send)" "$(command -v socat)"
mv "$R$BUILD/chaird" "$R/usr/sbin/chaird"
mv "$R$BUILD/chair-sim" "$R/usr/bin/chair-sim"
cp "$TOP/config/examples/chaird.conf" "$R/etc/chaird/chaird.conf"
sed -e "s|@SOCKET@|/run/dbus/system_bus_socket|" -e "s|@POLICY@|/etc/dbus-1/org.chaird.Chair1.conf|" \
        "$TOP/tests/lib/system-bus.conf.in" >"$R/etc/bus.conf"
install -D -m0644 "$TOP/dbus/org.chaird.Chair1.conf" "$R/etc/dbus-1/org.chaird.Chair1.conf"
printf 'root:x:0:0:root:/:/bin/sh\nchaird:x:101:101::/var/lib/chaird:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nchaird:x:101:\nchair-ui:x:102:\nchair-tech:x:103:\n' >"$R/etc/group"
echo 0123456789abcdef0123456789abcdef >"$R/etc/machine-id"
install -m0755 "$TOP/tests/vm/gpio-sim-init.sh" "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$CACHE/gpio-sim-initrd.gz"

BOOT=$SECONDS
vm_run gpio-sim -kernel "$VMLINUZ" -initrd "$CACHE/gpio-sim-initrd.gz" \
        -append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init"
BOOT=$((SECONDS - BOOT))

tr -d '\r' <"$VM_CONSOLE" | grep -E '^(ok|not ok|#) ' || true
summary=$(tr -d '\r' <"$VM_CONSOLE" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
echo "# gpio-sim VM: prepare ${PREP}s (kernel, module), boot+test ${BOOT}s, console $VM_CONSOLE"
if [ -z "$summary" ]; then
        tail -n 40 "$VM_CONSOLE" >&2
        echo "0 passed, 1 failed"
        exit 1
fi
echo "$summary"
[[ "$summary" == *" 0 failed" ]]
