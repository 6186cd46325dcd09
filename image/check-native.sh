#!/usr/bin/env bash
# Checks that an arm64 deskphone .deb's native parts are arm64 and load: unpacks
# it and runs image/check-native.mjs in the arm64 Node under qemu-aarch64-static
# (user-mode emulation), with the image's root file system for glibc and libasound.
#   DESKPHONE_IMAGE_SYSROOT=ROOT DESKPHONE_IMAGE_NODE=NODE check-native.sh DEB
set -euo pipefail
deb=$1
here=$(cd "$(dirname "$0")" && pwd)
: "${DESKPHONE_IMAGE_SYSROOT:?the arm64 root file system}" "${DESKPHONE_IMAGE_NODE:?the arm64 node binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
lib=$tmp/usr/lib/deskphone
bad=$(find "$lib" -name '*.node' -exec file -b {} \; | grep -vc 'ARM aarch64' || true)
[ "$bad" = 0 ] || { echo "check-native: $bad .node files are not arm64" >&2; find "$lib" -name '*.node' -exec file {} \; >&2; exit 1; }
qemu-aarch64-static -L "$DESKPHONE_IMAGE_SYSROOT" "$DESKPHONE_IMAGE_NODE" "$here/check-native.mjs" "$lib"
