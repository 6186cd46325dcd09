#!/usr/bin/env bash
# The build machine's packages for npm run image / image:boot (Debian bookworm,
# amd64), installed when missing; and binfmt for arm64 (a container may have
# binfmt_misc unmounted). The normal tests need none of these.
set -euo pipefail
need=(mmdebstrap qemu-user-static binfmt-support qemu-system-arm qemu-utils
  dosfstools mtools fdisk e2fsprogs zstd gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
  libasound2-dev make python3 file)
missing=()
for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "image: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
