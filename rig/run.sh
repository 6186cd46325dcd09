#!/usr/bin/env bash
# npm run rig: the packaged firmware on Debian's kernel in a QEMU guest, with
# gpio-sim, i2c-stub and snd-aloop as the phone's hardware (docs/rig.md).
#   DESKPHONE_RIG_CACHE  the cached guests (default /var/cache/deskphone-rig)
#   DESKPHONE_RIG_TIMEOUT  seconds per boot before QEMU is killed (default 900)
set -euo pipefail
# mmdebstrap --mode=root and the guest's root-owned files need root.
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "rig: needs root (or sudo)" >&2; exit 2; }
  exec sudo --preserve-env=DESKPHONE_RIG_CACHE,DESKPHONE_RIG_TIMEOUT,DESKPHONE_RIG_CPUS,PATH bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
clone=$(cd "$here/.." && pwd)
node_version=20.20.2
cache=${DESKPHONE_RIG_CACHE:-/var/cache/deskphone-rig}
timeout_s=${DESKPHONE_RIG_TIMEOUT:-900}
for tool in mmdebstrap qemu-system-x86_64 qemu-img mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "rig: $tool is missing (bash scripts/install-debian-deps.sh)" >&2; exit 2; }
done
t0=$SECONDS
key=$("$here/host/guest-key.sh" "$node_version")
guest=$cache/guest-$key
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -f "$guest/disk.img" ]; then
  echo "rig: guest $key cached ($guest)"
else
  echo "rig: building guest $key (mmdebstrap, gpio-sim, Node $node_version) — minutes"
  "$here/image/build-guest.sh" "$guest.tmp" "$node_version" "$cache/apt-archives"
  rm -rf "$guest" && mv "$guest.tmp" "$guest"
  # Older guests are of no use once the inputs changed.
  find "$cache" -maxdepth 1 -name 'guest-*' ! -name "guest-$key" -exec rm -rf {} +
fi
t_guest=$((SECONDS - t0))
out=$cache/runs/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
trap 'rm -f "$out/run.img" "$out/root.qcow2"' EXIT
ls -1d "$cache"/runs/*/ | head -n -5 | xargs -r rm -rf
deb=$(cd "$clone" && npm run -s deb | tail -n 1)
"$here/host/stage-run-disk.sh" "$clone/$deb" "$out/run.img"
qemu-img create -q -f qcow2 -F raw -b "$guest/disk.img" "$out/root.qcow2"
t_prep=$((SECONDS - t0))
echo "rig: run in $out (console transcripts: $out/*-console.log)"
rc=0
"$here/host/boot.sh" "$guest" "$out/root.qcow2" "$out/run.img" install "$timeout_s" \
  "$out/install-console.log" "$out/install-steps.log" rig-install.target || rc=1
t_install=$((SECONDS - t0))
if [ $rc -eq 0 ]; then
  "$here/host/boot.sh" "$guest" "$out/root.qcow2" "$out/run.img" scenario "$timeout_s" \
    "$out/scenario-console.log" "$out/scenario-steps.log" || rc=1
fi
t_end=$((SECONDS - t0))
echo "rig: time: guest ready ${t_guest} s, staged ${t_prep} s, install boot done ${t_install} s, all ${t_end} s"
logs=("$out/install-steps.log")
[ $rc -eq 0 ] && logs+=("$out/scenario-steps.log")
"$here/host/report.sh" "${logs[@]}"
