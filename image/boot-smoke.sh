#!/usr/bin/env bash
# npm run image:boot: boots the image (npm run image) under qemu-system-aarch64
# -M virt -cpu cortex-a72 (software emulation) with its own kernel and initrd,
# the installer's files dropped on its boot partition, Kamailio on a test-only
# second disk; the phone must reach READY registered and ring an emergency call
# on snd-aloop; then the guest powers off. Runs on a copy: the image stays as built.
# Prints each check and "N passed, N failed". docs/image.md#the-boot-smoke-test
set -uo pipefail
cd "$(dirname "$0")/.."
here=$PWD/image
cache=${DESKPHONE_IMAGE_CACHE:-/var/cache/deskphone-image}
out=${DESKPHONE_IMAGE_OUT:-$PWD/dist/image}
version=$(node -p 'require("./package.json").version')
img=${1:-$out/deskphone-$version-arm64.img}
limit=${DESKPHONE_IMAGE_BOOT_TIMEOUT_S:-1500}
start=$(date +%s)
[ -f "$img" ] || { echo "image:boot: no $img (npm run image first)"; echo "0 passed, 1 failed"; exit 1; }
bash "$here/host-deps.sh"
key=$(cat image/packages.txt image/rootfs.sh image/initramfs-hook | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$key
debs=$cache/smoke-debs-$key
if [ ! -d "$debs" ]; then
  "$here/smoke-debs.sh" "$rootfs" "$debs.tmp" >/dev/null && mv "$debs.tmp" "$debs"
fi
tmp=$(mktemp -d "$cache/boot.XXXXXX")
qemu_pid=""
cleanup() { [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# The test disk: Kamailio's .debs, its cfg, the guest's scripts.
mkdir -p "$tmp/smoke/debs"
cp "$debs"/*.deb "$tmp/smoke/debs/"
cp "$here"/smoke/{kamailio.cfg,setup.sh,check.sh,invite.mjs,cadence.mjs} "$tmp/smoke/"
mkfs.ext4 -q -F -L SMOKE -d "$tmp/smoke" "$tmp/smoke.ext4" $(( $(du -sm "$tmp/smoke" | cut -f1) + 32 ))M >/dev/null
# A copy of the image with the installer's files on its boot partition and the
# smoke units in its root (debugfs: no loop device, no mount).
cp --sparse=always "$img" "$tmp/phone.img"
read -r boot_start root_start < <(sfdisk -J "$tmp/phone.img" | node -e '
  const p = JSON.parse(require("fs").readFileSync(0, "utf8")).partitiontable.partitions;
  console.log(p[0].start * 512, p[1].start * 512)')
mcopy -i "$tmp/phone.img@@$boot_start" "$here/smoke/deskphone.yaml" "$here/smoke/deskphone-password" ::/
rootimg="$tmp/phone.img?offset=$root_start"
{
  echo "write $here/smoke/deskphone-smoke-setup.service /etc/systemd/system/deskphone-smoke-setup.service"
  echo "write $here/smoke/deskphone-smoke.service /etc/systemd/system/deskphone-smoke.service"
  echo "write $here/smoke/deskphone-emulated.conf /etc/systemd/system/deskphone.service.d/emulated.conf"
  echo "symlink /etc/systemd/system/multi-user.target.wants/deskphone-smoke-setup.service /etc/systemd/system/deskphone-smoke-setup.service"
  echo "symlink /etc/systemd/system/multi-user.target.wants/deskphone-smoke.service /etc/systemd/system/deskphone-smoke.service"
} > "$tmp/debugfs.cmds"
debugfs -w -f "$tmp/debugfs.cmds" "$rootimg" >/dev/null 2>&1
kernel=$(debugfs -R "ls -p /boot" "$rootimg" 2>/dev/null | awk -F/ '$6 ~ /^vmlinuz-/ {print $6}' | sort -V | tail -1)
kver=${kernel#vmlinuz-}
debugfs -R "dump /boot/vmlinuz-$kver $tmp/vmlinuz" "$rootimg" >/dev/null 2>&1
debugfs -R "dump /boot/initrd.img-$kver $tmp/initrd.img" "$rootimg" >/dev/null 2>&1
[ -s "$tmp/vmlinuz" ] && [ -s "$tmp/initrd.img" ] || { echo "image:boot: no kernel/initrd in the image's /boot"; echo "0 passed, 1 failed"; exit 1; }
echo "image:boot: booting $(basename "$img") (kernel $kver) under qemu-system-aarch64 -M virt -cpu cortex-a72, TCG"
# A NIC on a hub with nothing else on it: a MAC for the hostname, no traffic anywhere.
nice -n 10 qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg,thread=multi -smp 2 -m 1024 \
  -display none -monitor none -no-reboot -serial "file:$tmp/console.log" \
  -kernel "$tmp/vmlinuz" -initrd "$tmp/initrd.img" \
  -append "root=LABEL=RASPIROOT rw rootwait console=ttyAMA0 fsck.repair=yes panic=10 systemd.show_status=auto" \
  -drive "file=$tmp/phone.img,if=none,id=phone,format=raw" -device virtio-blk-pci,drive=phone \
  -drive "file=$tmp/smoke.ext4,if=none,id=smoke,format=raw,readonly=on" -device virtio-blk-pci,drive=smoke \
  -netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,mac=52:54:00:de:5c:01 &
qemu_pid=$!
deadline=$(( start + limit ))
while kill -0 "$qemu_pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 2; done
if kill -0 "$qemu_pid" 2>/dev/null; then
  kill "$qemu_pid"; wait "$qemu_pid" 2>/dev/null; timed_out=1
else
  wait "$qemu_pid"; timed_out=0
fi
qemu_pid=""
cp "$tmp/console.log" "$out/boot-console.log"
log=$out/boot-console.log
pass=0 fail=0
host() { if [ "$1" = 1 ]; then echo "image:boot: PASS $2"; pass=$((pass + 1)); else echo "image:boot: FAIL $2"; fail=$((fail + 1)); fi; }
host "$(grep -q 'Linux version' "$log" && echo 1)" "kernel up: $(grep -m1 -o 'Linux version [^ ]*' "$log")"
# The guest's lines, as journald forwards them to the console ("[ t] sh[pid]: smoke: ...").
grep -a -o -E '(smoke|deskphone-firstboot): .*' "$log" | sed 's/\r$//' > "$tmp/lines"
grep -v -E '^smoke: [0-9]+ passed, [0-9]+ failed$' "$tmp/lines"
guest_pass=$(grep -c '^smoke: PASS' "$tmp/lines")
pass=$(( pass + guest_pass ))
fail=$(( fail + $(grep -c '^smoke: FAIL' "$tmp/lines") ))
[ "$guest_pass" -ge 9 ] || [ "$(grep -c '^smoke: FAIL' "$tmp/lines")" -gt 0 ] || host 0 "the guest's checks ran (9 expected)"
host "$( [ "$timed_out" = 0 ] && grep -q 'reboot: Power down' "$log" && echo 1)" "powered off by itself$( [ "$timed_out" = 1 ] && echo " (killed after ${limit} s)")"
echo "image:boot: $(( $(date +%s) - start )) s; console in $log"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
