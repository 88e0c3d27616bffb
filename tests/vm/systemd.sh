#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VM test (b): the chaird .deb on a real systemd boot. debootstrap bookworm (cached), install the built
# packages, add a gpio-sim chip and chair-sim as the chair, make an ext4 image with mkfs.ext4 -d, boot it
# under QEMU (TCG) through a tiny initramfs that mounts /dev/vda and switch_roots into systemd, and read
# the results of tests/vm/systemd-test.sh after poweroff with debugfs. Usage: tests/vm/systemd.sh BUILD
set -euo pipefail
source "$(dirname "$0")/lib.sh"

START=$SECONDS
vm_need qemu-system-x86 busybox-static cpio xz-utils gcc make libelf1 kmod debootstrap e2fsprogs \
        debhelper lintian libdbus-1-dev bash-completion
vm_qemu_usable || exit 0
vm_kernel
vm_gpio_sim
[ -e "$KDIR/root/lib/modules/$KVER/modules.dep" ] || /sbin/depmod -b "$KDIR/root" "$KVER"

# The packages: built fresh unless CHAIRD_DEB_DIR holds them already.
DEBS=${CHAIRD_DEB_DIR:-}
if [ -z "$DEBS" ]; then
        make -C "$TOP" --no-print-directory BUILD="$BUILD" deb >"$CACHE/deb.log" 2>&1 || { tail -n 30 "$CACHE/deb.log"; vm_die "make deb failed"; }
        DEBS=$BUILD/deb
fi
ls "$DEBS"/chaird_*.deb "$DEBS"/chaird-sim_*.deb >/dev/null || vm_die "no chaird .deb in $DEBS"
T_DEB=$((SECONDS - START))

BASE=$CACHE/debootstrap/bookworm
if [ ! -e "$BASE/.done" ]; then
        vm_log "debootstrap bookworm (cached in $BASE)"
        rm -rf "$BASE"
        MIRROR=$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
        debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,udev,gpiod,libgpiod2,libmodbus5,libinih1,socat,kmod \
                bookworm "$BASE" "${MIRROR:-http://deb.debian.org/debian}" >"$CACHE/debootstrap.log" 2>&1 ||
                { tail -n 20 "$CACHE/debootstrap.log"; vm_die "debootstrap failed"; }
        touch "$BASE/.done"
fi
T_BASE=$((SECONDS - START))

R=$CACHE/systemd-root
rm -rf "$R"
cp -a "$BASE" "$R"
rm -f "$R/.done"
cp "$DEBS"/chaird_*.deb "$DEBS"/chaird-sim_*.deb "$R/tmp/"
chroot "$R" sh -c 'dpkg -i /tmp/chaird_*.deb /tmp/chaird-sim_*.deb' >"$CACHE/dpkg-i.log" 2>&1 ||
        { cat "$CACHE/dpkg-i.log"; vm_die "dpkg -i of the built packages failed"; }
rm -f "$R"/tmp/*.deb
echo chair-vm >"$R/etc/hostname"
ln -sf /dev/null "$R/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$R/etc/systemd/system/getty@tty1.service"
# The chair: the example config, lines on the gpio-sim chip, chair-sim's boards over local TCP.
mkdir -p "$R/etc/chaird/chaird.conf.d"
cp "$TOP/config/examples/chaird.conf" "$R/etc/chaird/chaird.conf"
cat >"$R/etc/chaird/chaird.conf.d/50-vm.conf" <<'CONF'
[GPIO]
Backend=gpiod
Chip=gpiochip0
# gpio-sim turns a consumer's bias request into the line level: the sim pull plays the button.
[Line estop]
Bias=as-is
# TCG runs the CPU many times slower than the board: the slack a slow link would get.
[Chair]
ControlRateHz=10
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
mkdir -p "$R/etc/systemd/system/chaird.service.d" "$R/etc/systemd/system/multi-user.target.wants"
printf '[Service]\n# TCG: a far slower machine than the board; the SIGSTOP check only needs the watchdog to fire.\nWatchdogSec=15s\nTimeoutStopSec=30s\n' \
        >"$R/etc/systemd/system/chaird.service.d/50-vm.conf"
install -m0755 "$TOP/tests/vm/systemd-test.sh" "$R/usr/local/bin/chair-vm-test"
cat >"$R/etc/systemd/system/chair-vm-gpio.service" <<'UNIT'
[Unit]
Description=gpio-sim chip with the chair's named lines
DefaultDependencies=no
After=systemd-udevd.service sys-kernel-config.mount
Before=chaird.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -ec 'G=/sys/kernel/config/gpio-sim/chair; mkdir -p $G/bank0; echo 5 >$G/bank0/num_lines; i=0; \
        for n in ESTOP INTERLOCK SEAT POWER_EN WDT_HEARTBEAT; do mkdir $G/bank0/line$i; echo $n >$G/bank0/line$i/name; \
        i=$((i + 1)); done; echo 1 >$G/live; udevadm settle'
[Install]
WantedBy=multi-user.target
UNIT
cat >"$R/etc/systemd/system/chair-sim.service" <<'UNIT'
[Unit]
Description=Simulated chair boards (Modbus TCP) and the relay wiring from gpio-sim's POWER_EN
After=chair-vm-gpio.service
Before=chaird.service
[Service]
ExecStart=/usr/bin/chair-sim --run-dir /run/chair-sim serve --tcp 127.0.0.1:1502
ExecStartPost=/usr/bin/chair-sim --run-dir /run/chair-sim wait-ready --timeout 30
ExecStartPost=/bin/sh -c 'S=/sys/devices/platform/gpio-sim.0/gpiochip0; (l=; while :; do \
        v="$(cat $S/sim_gpio3/value) $(cat $S/sim_gpio4/value)"; [ "$v" = "$l" ] || { echo "set POWER_EN $${v%% *}"; \
        echo "set WDT_HEARTBEAT $${v#* }"; l=$v; }; sleep 0.05; done | socat - UNIX-CONNECT:/run/chair-sim/gpio.sock) \
        >/dev/null 2>&1 &'
[Install]
WantedBy=multi-user.target
UNIT
cat >"$R/etc/systemd/system/chair-vm-test.service" <<'UNIT'
[Unit]
Description=chaird VM checks
After=chaird.service chair-sim.service
[Service]
Type=oneshot
ExecStart=/usr/local/bin/chair-vm-test
[Install]
WantedBy=multi-user.target
UNIT
for u in chair-vm-gpio chair-sim chair-vm-test; do
        ln -sf "/etc/systemd/system/$u.service" "$R/etc/systemd/system/multi-user.target.wants/$u.service"
done
rm -f "$CACHE/systemd.img"
mkfs.ext4 -q -L chairroot -d "$R" "$CACHE/systemd.img" 2G

# initramfs: virtio (virtio_ring first), ext4, configfs, gpio-sim; mount /dev/vda, switch_root.
I=$CACHE/systemd-initrd
rm -rf "$I"
mkdir -p "$I"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,newroot,mods}
install -m0755 /bin/busybox "$I/bin/busybox"
"$I/bin/busybox" --list-full | while read -r a; do
        [ "$(basename "$a")" = busybox ] || [ -e "$I/$a" ] || ln -s /bin/busybox "$I/$a"
done
MODS=""
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk crc16 mbcache jbd2 \
        crc32c_generic ext4 configfs; do
        f=$(find "$KDIR/root/lib/modules/$KVER" -name "$m.ko" | head -n 1)
        [ -n "$f" ] || continue # built in
        cp "$f" "$I/mods/"
        MODS="$MODS $m"
done
cp "$GPIO_SIM_KO" "$I/mods/"
cat >"$I/init" <<INIT
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $MODS gpio-sim; do insmod /mods/\$m.ko || echo "initrd: insmod \$m failed"; done
i=0; while [ ! -b /dev/vda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; poweroff -f; }
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
INIT
chmod 0755 "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1) >"$CACHE/systemd-initrd.gz"
T_PREP=$((SECONDS - START))

BOOT=$SECONDS
vm_run systemd -kernel "$VMLINUZ" -initrd "$CACHE/systemd-initrd.gz" \
        -drive "file=$CACHE/systemd.img,format=raw,if=virtio" \
        -append "console=ttyS0 panic=-1 rdinit=/init systemd.show_status=0 loglevel=3"
BOOT=$((SECONDS - BOOT))

debugfs -R "cat /var/log/chair-vm-test.log" "$CACHE/systemd.img" 2>/dev/null >"$CACHE/systemd-test.log" || true
cat "$CACHE/systemd-test.log"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$CACHE/systemd-test.log" | tail -n 1 || true)
echo "# systemd VM: .deb ${T_DEB}s, debootstrap/cache $((T_BASE - T_DEB))s, image $((T_PREP - T_BASE))s, boot+test ${BOOT}s; console $VM_CONSOLE"
if [ -z "$summary" ]; then
        tail -n 40 "$VM_CONSOLE" >&2
        echo "0 passed, 1 failed"
        exit 1
fi
echo "$summary"
[[ "$summary" == *" 0 failed" ]]
