# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the VM tests: packages they need, the cache outside the repository, Debian's current kernel
# (ABI from linux-image-amd64, never pinned), gpio-sim.ko built out of tree from linux-source, and a
# bounded QEMU run (TCG: this machine's /dev/kvm cannot run a Debian kernel).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-${1:-build}}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
CACHE=${CHAIRD_VM_CACHE:-/var/cache/chaird-vm}
VM_TIMEOUT=${VM_TIMEOUT:-240}
mkdir -p "$CACHE"

vm_log() { echo "vm: $*" >&2; }
vm_die() { echo "vm: FATAL: $*" >&2; exit 1; }

# vm_need PKG...: installs the missing Debian packages (root), or says which are missing.
vm_need() {
        local missing=() p
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        [ "$(id -u)" -eq 0 ] || vm_die "missing packages: ${missing[*]} (apt-get install them as root)"
        vm_log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
                { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                        --no-install-recommends "${missing[@]}" >/dev/null; } || vm_die "apt-get install failed"
}

# vm_qemu_usable: prints a SKIP line and returns 1 only when QEMU cannot run at all.
vm_qemu_usable() {
        if ! command -v qemu-system-x86_64 >/dev/null; then
                echo "SKIP: qemu-system-x86_64 is not installed and could not be installed"
                return 1
        fi
        if ! qemu-system-x86_64 -accel tcg -machine q35 -display none -S -no-user-config -nodefaults \
                -monitor none -serial none -daemonize -pidfile "$CACHE/probe.pid" >/dev/null 2>&1; then
                echo "SKIP: qemu-system-x86_64 cannot start a TCG machine here"
                return 1
        fi
        kill "$(cat "$CACHE/probe.pid")" 2>/dev/null || true
        return 0
}

# vm_kernel: sets KVER (e.g. 6.1.0-56-amd64), KDIR (unpacked packages) and VMLINUZ; downloads into the
# cache only what is missing.
vm_kernel() {
        local abi ver d
        abi=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-\(.*\)-amd64$/\1/p' | head -n 1)
        [ -n "$abi" ] || { apt-get update -qq; abi=$(apt-cache depends linux-image-amd64 |
                sed -n 's/.*Depends: linux-image-\(.*\)-amd64$/\1/p' | head -n 1); }
        [ -n "$abi" ] || vm_die "cannot find the kernel ABI of linux-image-amd64"
        KVER=$abi-amd64
        KDIR=$CACHE/kernel/$KVER
        VMLINUZ=$KDIR/root/boot/vmlinuz-$KVER
        [ -e "$KDIR/.unpacked" ] && return 0
        mkdir -p "$CACHE/debs" "$KDIR/root"
        local want=(linux-image-$KVER linux-headers-$KVER linux-headers-$abi-common linux-kbuild-${abi%%.0-*}
                linux-source-${abi%%.0-*})
        for d in "${want[@]}"; do
                ver=$(apt-cache policy "$d" | sed -n 's/.*Candidate: //p')
                [ -n "$ver" ] && [ "$ver" != "(none)" ] || vm_die "no candidate for $d"
                ls "$CACHE/debs/${d}_${ver/*:/}_"*.deb >/dev/null 2>&1 ||
                        (cd "$CACHE/debs" && apt-get download -q "$d" >/dev/null) || vm_die "download of $d failed"
                vm_log "unpacking $d"
                dpkg -x "$(ls "$CACHE/debs/${d}_${ver/*:/}_"*.deb | head -n 1)" "$KDIR/root"
        done
        touch "$KDIR/.unpacked"
}

# vm_module_path NAME: the .ko of a kernel module (decompressed into the cache if shipped compressed).
vm_module_path() {
        local f
        f=$(find "$KDIR/root/lib/modules/$KVER" -name "$1.ko*" | head -n 1)
        [ -n "$f" ] || vm_die "module $1 not in linux-image-$KVER"
        case "$f" in
        *.xz) mkdir -p "$KDIR/ko"; [ -e "$KDIR/ko/$1.ko" ] || xz -dc "$f" >"$KDIR/ko/$1.ko"; echo "$KDIR/ko/$1.ko" ;;
        *) echo "$f" ;;
        esac
}

# vm_gpio_sim: builds gpio-sim.ko (with irq_sim linked in: Debian's kernel has neither) into $KDIR/gpio-sim.
vm_gpio_sim() {
        local s=$KDIR/gpio-sim src
        GPIO_SIM_KO=$s/gpio-sim.ko
        [ -e "$GPIO_SIM_KO" ] && return 0
        vm_log "building gpio-sim.ko for $KVER"
        rm -rf "$s" && mkdir -p "$s"
        src=$(ls "$KDIR"/root/usr/src/linux-source-*.tar.xz | head -n 1)
        tar -xJf "$src" -C "$s" --strip-components=1 --wildcards \
                '*/drivers/gpio/gpio-sim.c' '*/drivers/gpio/gpiolib.h' '*/kernel/irq/irq_sim.c'
        cp "$s/drivers/gpio/gpio-sim.c" "$s/gpio-sim-core.c"
        cp "$s/drivers/gpio/gpiolib.h" "$s/gpiolib.h"
        # irq_desc handling is not exported to modules; generic_handle_irq() does the same by number.
        sed 's/handle_simple_irq(irq_to_desc(\([^)]*\)))/generic_handle_irq(\1)/' "$s/kernel/irq/irq_sim.c" >"$s/irq_sim.c"
        grep -q 'generic_handle_irq(' "$s/irq_sim.c" || vm_die "irq_sim.c: the handle_simple_irq call was not found"
        printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-core.o irq_sim.o\n' >"$s/Kbuild"
        # The headers package includes /usr/src/linux-headers-*-common by absolute path: point it into the
        # unpacked tree instead of installing anything.
        local hdr=$KDIR/root/usr/src/linux-headers-$KVER
        sed -i "s|^include /usr/src/|include $KDIR/root/usr/src/|" "$hdr/Makefile"
        make -s -C "$hdr" M="$s" modules >"$s/build.log" 2>&1 || { tail -n 30 "$s/build.log" >&2; vm_die "gpio-sim build failed"; }
        [ -e "$GPIO_SIM_KO" ] || vm_die "gpio-sim.ko not produced"
}

# vm_copy_with_libs DEST FILE...: copies executables and every shared library they load.
vm_copy_with_libs() {
        local dest=$1 f lib
        shift
        for f in "$@"; do
                install -D "$f" "$dest$f"
                ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
                        [ -e "$dest$lib" ] || install -D "$lib" "$dest$lib"
                done
        done
}

# vm_run NAME QEMU-ARGS...: one bounded boot; the serial console goes to $CACHE/NAME.console.
vm_run() {
        local name=$1
        shift
        VM_CONSOLE=$CACHE/$name.console
        timeout --foreground -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic \
                -no-reboot -no-user-config -nodefaults -serial "file:$VM_CONSOLE" -monitor none "$@" ||
                vm_log "qemu exited with $? (timeout $VM_TIMEOUT s)"
}
