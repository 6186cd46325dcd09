#!/usr/bin/env bash
# Stage 1 of the image: a Debian bookworm arm64 root file system for Raspberry
# Pi 4 / 3 / Zero 2 W boards into DIR, by mmdebstrap under qemu-user (binfmt),
# from image/packages.txt. The initramfs is made once, at the end, with the
# short module list of image/initramfs-hook (Debian's kernel and initramfs
# postinsts would each make a MODULES=most one under emulation: ~30 minutes).
# Downloaded .debs are kept in ARCHIVES for the next build.
#   rootfs.sh DIR ARCHIVES
set -euo pipefail
out=$1 archives=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$archives"
mapfile -t pkgs < <(grep -v '^\s*#' "$here/packages.txt" | awk 'NF{print $1}')
include=$(IFS=,; echo "${pkgs[*]}")
mirror=${DESKPHONE_IMAGE_MIRROR:-http://deb.debian.org/debian}
security=${DESKPHONE_IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
rm -rf "$out"
mmdebstrap --architectures=arm64 --variant=apt --mode=root --format=directory \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --include="$include" \
  --skip=download/empty \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives" "$1/boot/firmware"' \
  --setup-hook="sync-in $archives /var/cache/apt/archives" \
  --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs' \
  --essential-hook='printf "#!/bin/sh\n# deskphone image build: the initramfs is made once, at the end\nexit 0\n" > "$1/usr/sbin/update-initramfs" && chmod 755 "$1/usr/sbin/update-initramfs"' \
  --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"' \
  --essential-hook='printf "MODULES=list\nCOMPRESS=zstd\n" > "$1/etc/initramfs-tools/conf.d/deskphone-image"' \
  --essential-hook="copy-in $here/initramfs-hook /etc/initramfs-tools/hooks" \
  --customize-hook="sync-out /var/cache/apt/archives $archives" \
  --customize-hook='rm -f "$1/usr/sbin/update-initramfs" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs' \
  --customize-hook='chroot "$1" update-initramfs -c -k all' \
  --customize-hook='for k in "$1"/lib/modules/*; do k=${k##*/}; [ ! -x "$1/etc/kernel/postinst.d/z50-raspi-firmware" ] || chroot "$1" /etc/kernel/postinst.d/z50-raspi-firmware "$k"; done' \
  bookworm "$out" \
  "deb $mirror bookworm main non-free-firmware" \
  "deb $mirror bookworm-updates main non-free-firmware" \
  "deb $security bookworm-security main non-free-firmware"
rm -f "$out"/var/cache/apt/archives/*.deb
echo "rootfs: $out ($(du -sh "$out" | cut -f1); kernel $(ls "$out/lib/modules"); boot files: $(ls "$out/boot/firmware" | wc -l))"
