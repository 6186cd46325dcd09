#!/usr/bin/env bash
# Writes the SD-card image OUT from the customised root ROOT, without loop
# devices or mounts: an MBR with a FAT32 boot partition (RASPIFIRM, the Pi's
# firmware, kernel, initrd, device trees, config.txt, cmdline.txt: ROOT/boot/firmware)
# and an ext4 root (RASPIROOT, journalled data: docs/image.md#power-cuts).
#   assemble.sh ROOT OUT
set -euo pipefail
root=$1 img=$2
boot_mb=256
root_mb=$(( $(du -sm "$root" | cut -f1) * 115 / 100 + 384 ))
tmp=$(mktemp -d "$(dirname "$img")/.assemble.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The boot files move to the FAT partition (mounted over /boot/firmware).
mv "$root/boot/firmware" "$tmp/firmware" && mkdir -m 755 "$root/boot/firmware"
mkfs.vfat -C -F 32 -n RASPIFIRM "$tmp/boot.fat" $(( boot_mb * 1024 )) >/dev/null
mcopy -s -p -Q -i "$tmp/boot.fat" "$tmp/firmware"/* ::/
mkfs.ext4 -q -F -L RASPIROOT -E root_owner=0:0 -d "$root" "$tmp/root.ext4" "${root_mb}M" >/dev/null
# File data as well as metadata goes through the journal (data=journal as the
# default mount option, so the initramfs's first mount has it too): after a power
# cut the journal replays to a consistent file system (docs/image.md#power-cuts).
tune2fs -o journal_data "$tmp/root.ext4" >/dev/null
e2fsck -fn "$tmp/root.ext4" >/dev/null 2>&1
start=8192 # 4 MiB
boot_sectors=$(( boot_mb * 2048 ))
root_start=$(( start + boot_sectors ))
root_sectors=$(( root_mb * 2048 ))
truncate -s $(( (root_start + root_sectors) * 512 )) "$img"
printf 'label: dos\nunit: sectors\n%s,%s,c,*\n%s,%s,83\n' "$start" "$boot_sectors" "$root_start" "$root_sectors" | sfdisk -q "$img"
dd if="$tmp/boot.fat" of="$img" bs=512 seek="$start" conv=notrunc,sparse status=none
dd if="$tmp/root.ext4" of="$img" bs=512 seek="$root_start" conv=notrunc,sparse status=none
echo "assemble: $img (boot ${boot_mb} MiB, root ${root_mb} MiB)"
