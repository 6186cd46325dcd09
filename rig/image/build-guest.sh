#!/usr/bin/env bash
# Builds the rig's guest into DIR: DIR/disk.img (ext4 root file system, raw),
# DIR/vmlinuz and DIR/initrd.img — bookworm from Debian's mirrors by mmdebstrap,
# the out-of-tree gpio-sim, Node from the npm registry as a local "nodejs" .deb,
# the boot trimmed. The firmware is not in it: each run installs its .deb.
# Downloaded packages are kept in ARCHIVES for the next build.
#   build-guest.sh DIR NODE_VERSION ARCHIVES
set -euo pipefail
out=$1 node_version=$2 archives=$3
mkdir -p "$archives"
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$here/node-deb.sh" "$node_version" "$tmp/debs" >/dev/null
mapfile -t pkgs < <(grep -v '^\s*#' "$here/packages.txt" | awk 'NF{print $1}')
include=$(IFS=,; echo "${pkgs[*]}")
mmdebstrap --variant=apt --mode=root --format=directory --quiet \
  --aptopt='APT::Install-Recommends "false"' \
  --include="$include" \
  --skip=download/empty \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
  --setup-hook="sync-in $archives /var/cache/apt/archives" \
  --customize-hook="copy-in $tmp/debs/nodejs_${node_version}_amd64.deb /tmp" \
  --customize-hook="chroot \"\$1\" dpkg -i /tmp/nodejs_${node_version}_amd64.deb >/dev/null" \
  --customize-hook="$here/gpio-sim-module.sh \"\$1\"" \
  --customize-hook="sync-out /var/cache/apt/archives $archives" \
  --customize-hook="$here/trim.sh \"\$1\"" \
  bookworm "$tmp/root" \
  "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian bookworm-updates main" \
  "deb http://deb.debian.org/debian-security bookworm-security main"
cp -L "$tmp/root/vmlinuz" "$tmp/vmlinuz"
cp -L "$tmp/root/initrd.img" "$tmp/initrd.img"
rm -rf "$tmp/root/var/cache/apt/archives"/*.deb "$tmp/root/var/lib/apt/lists"/*_Packages
# Room for the .deb, the journal and the logs of a run (the run writes to an overlay).
size_mb=$(( $(du -sm "$tmp/root" | cut -f1) + 768 ))
mkfs.ext4 -q -F -L rigroot -d "$tmp/root" "$tmp/disk.img" "${size_mb}M"
mv "$tmp/disk.img" "$tmp/vmlinuz" "$tmp/initrd.img" "$out/"
echo "build-guest: $out ($(du -sh "$out/disk.img" | cut -f1), kernel $(ls "$tmp/root/lib/modules"))"
