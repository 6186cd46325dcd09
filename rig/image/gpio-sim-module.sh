#!/usr/bin/env bash
# mmdebstrap customize hook: builds gpio-sim (with irq_sim, which Debian's kernel
# has only built in and unexported) as one out-of-tree module against the guest
# kernel's headers, from the linux-source-6.1 package; installs it under
# /lib/modules/KVER/extra and purges what it needed to build.
#   gpio-sim-module.sh ROOTFS
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t build_pkgs < <(grep -v '^\s*#' "$here/gpio-sim-build-packages.txt" | awk 'NF{print $1}')
chroot "$root" apt-get install -y -qq --no-install-recommends "${build_pkgs[@]}" >/dev/null
kver=$(ls "$root/lib/modules" | sort -V | tail -1)
src=$(ls "$root"/usr/src/linux-source-6.1.tar.xz)
work=$root/tmp/gpio-sim
mkdir -p "$work"
tar -xJf "$src" -C "$work" --strip-components=1 --wildcards \
  '*/drivers/gpio/gpio-sim.c' '*/drivers/gpio/gpiolib.h' '*/kernel/irq/irq_sim.c'
cp "$work/drivers/gpio/gpio-sim.c" "$work/drivers/gpio/gpiolib.h" "$work/"
# irq_to_desc() is not exported to modules: hand the interrupt on by number.
sed 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)))/generic_handle_irq(\1)/' \
  "$work/kernel/irq/irq_sim.c" > "$work/irq_sim.c"
grep -q 'generic_handle_irq' "$work/irq_sim.c" || { echo "gpio-sim-module: irq_sim.c patch did not apply" >&2; exit 1; }
cat > "$work/Kbuild" <<'KB'
obj-m := gpio-sim.o
gpio-sim-y := gpio-sim-main.o irq_sim.o
KB
mv "$work/gpio-sim.c" "$work/gpio-sim-main.c"
chroot "$root" make -s -C "/lib/modules/$kver/build" M=/tmp/gpio-sim modules >/dev/null
install -D -m 644 "$work/gpio-sim.ko" "$root/lib/modules/$kver/extra/gpio-sim.ko"
chroot "$root" depmod "$kver"
rm -rf "$work"
chroot "$root" apt-get purge -y -qq --auto-remove "${build_pkgs[@]}" >/dev/null
echo "gpio-sim-module: built for $kver"
