#!/usr/bin/env bash
# Turns the root file system ROOT (Debian, Node and deskphone installed) into
# the shipped phone: mounts, network, the first-boot hand-over, SSH off, no
# passwords, a machine id and host keys of its own at first boot (docs/image.md).
#   customize.sh ROOT
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
cat > "$root/etc/fstab" <<'FSTAB'
# deskphone image (docs/image.md#power-cuts): ext4 root with data=journal (a default
# mount option in its superblock), the FAT boot partition read-only but at first boot
# and around dpkg runs (/etc/apt/apt.conf.d/80deskphone-boot-rw).
LABEL=RASPIROOT  /              ext4  rw,noatime,errors=remount-ro  0 1
LABEL=RASPIFIRM  /boot/firmware vfat  ro,noatime,umask=0022         0 2
FSTAB
cat > "$root/etc/apt/apt.conf.d/80deskphone-boot-rw" <<'APT'
// Kernel and firmware upgrades write the boot partition: rw around dpkg only.
DPkg::Pre-Invoke { "mount -o remount,rw /boot/firmware 2>/dev/null || true"; };
DPkg::Post-Invoke { "sync; mount -o remount,ro /boot/firmware 2>/dev/null || true"; };
APT
# The root by its label (the SD card is mmcblk0 or mmcblk1 depending on the board
# and kernel), a serial console beside the screen: for raspi-firmware's later
# kernel upgrades, and written now for this kernel.
sed -i -e 's|^#\?ROOTPART=.*|ROOTPART=LABEL=RASPIROOT|' -e 's|^#\?CONSOLES=.*|CONSOLES="ttyS1,115200 tty0"|' \
  "$root/etc/default/raspi-firmware"
echo "console=tty0 console=ttyS1,115200 root=LABEL=RASPIROOT rw fsck.repair=yes net.ifnames=0 cma=64M rootwait" \
  > "$root/boot/firmware/cmdline.txt"
echo deskphone-unnamed > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=e*\n\n[Network]\nDHCP=yes\n' > "$root/etc/systemd/network/20-wired.network"
printf '[Match]\nName=wl*\n\n[Network]\nDHCP=yes\n' > "$root/etc/systemd/network/25-wireless.network"
# Any one link up will do, and at most 30 s: a phone unplugged from the network
# still starts (it rings its LEDs, and registers when the network comes).
mkdir -p "$root/etc/systemd/system/systemd-networkd-wait-online.service.d"
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=30\n' \
  > "$root/etc/systemd/system/systemd-networkd-wait-online.service.d/deskphone-image.conf"
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nSystemMaxUse=64M\n' > "$root/etc/systemd/journald.conf.d/deskphone-image.conf"
install -D -m 755 "$here/root/firstboot" "$root/usr/lib/deskphone-image/firstboot"
install -D -m 644 "$here/root/deskphone-firstboot.service" "$root/lib/systemd/system/deskphone-firstboot.service"
install -D -m 644 "$here/root/deskphone-after-firstboot.conf" "$root/etc/systemd/system/deskphone.service.d/image.conf"
systemctl --root="$root" enable deskphone-firstboot.service deskphone.service systemd-networkd.service \
  systemd-resolved.service systemd-timesyncd.service >/dev/null 2>&1
systemctl --root="$root" disable ssh.service >/dev/null 2>&1 || true
systemctl --root="$root" mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1
# No passwords: root is locked (log in with a key after asking for SSH); no host keys
# or machine id shared by every phone flashed from this image.
chroot "$root" usermod -p '!' root
rm -f "$root"/etc/ssh/ssh_host_*
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log "$root"/tmp/*
