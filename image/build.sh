#!/usr/bin/env bash
# npm run image: the SD-card image for Raspberry Pi 4 / 3 / Zero 2 W desk phones
# (docs/image.md). Stages, each cached in DESKPHONE_IMAGE_CACHE
# (/var/cache/deskphone-image) under a key of its inputs:
#   rootfs   bookworm arm64 by mmdebstrap (image/rootfs.sh, packages.txt, initramfs-hook)
#   node     Node for arm64 from the npm registry (image/node-deb.sh)
# and every run: the arm64 .deb cross-built from the tree (npm run deb with
# image/cross-env.sh), its native parts loaded under qemu-user, the root
# customised (image/customize.sh), the partitions assembled without loop
# devices, the .img and .img.zst with size and SHA-256, and the package list.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD/image
cache=${DESKPHONE_IMAGE_CACHE:-/var/cache/deskphone-image}
out=${DESKPHONE_IMAGE_OUT:-$PWD/dist/image}
node_version=$(cat image/node-version)
version=$(node -p 'require("./package.json").version')
start=$(date +%s)
step() { echo "image: $* ($(( $(date +%s) - start )) s)"; }
[ "$(id -u)" = 0 ] || { echo "image: run as root (mmdebstrap --mode=root, chroot)" >&2; exit 2; }
bash image/host-deps.sh
mkdir -p "$cache" "$out"

key=$(cat image/packages.txt image/rootfs.sh image/initramfs-hook | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$key
if [ ! -d "$rootfs" ]; then
  step "building the arm64 root file system $key (mmdebstrap under qemu-user: many minutes)"
  nice -n 10 image/rootfs.sh "$rootfs.tmp" "$cache/apt-arm64"
  mv "$rootfs.tmp" "$rootfs"
fi
step "root file system $key"
nodedir=$cache/node-$node_version
if [ ! -f "$nodedir/nodejs_${node_version}_arm64.deb" ]; then
  image/node-deb.sh "$node_version" "$nodedir.tmp" >/dev/null
  rm -rf "$nodedir" && mv "$nodedir.tmp" "$nodedir"
fi
step "node $node_version"

# The arm64 .deb, its native parts cross-compiled against the image's libasound.
deb=$(DEB_ARCH=arm64 DESKPHONE_CROSS="$here/cross-env.sh" DESKPHONE_CROSS_SYSROOT="$rootfs" \
  DESKPHONE_CROSS_NODEDIR="$nodedir/node" nice -n 10 bash scripts/build-deb.sh)
step "built $deb"
DESKPHONE_IMAGE_SYSROOT="$rootfs" DESKPHONE_IMAGE_NODE="$nodedir/node/bin/node" image/check-native.sh "$deb"
step "its native parts load under qemu-aarch64"

work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -a "$rootfs" "$work/root"
cp "$nodedir/nodejs_${node_version}_arm64.deb" "$deb" "$work/root/tmp/"
chroot "$work/root" dpkg -i "/tmp/nodejs_${node_version}_arm64.deb" "/tmp/$(basename "$deb")" >/dev/null
rm -f "$work/root"/tmp/*.deb
image/customize.sh "$work/root"
step "deskphone $version installed and the root customised"

name=deskphone-$version-arm64
image/assemble.sh "$work/root" "$work/$name.img"
chroot "$work/root" dpkg-query -W -f='${Package} ${Version}\n' > "$out/$name.packages.txt"
step "assembled"
mv "$work/$name.img" "$out/$name.img"
nice -n 10 zstd -q -T0 -f -10 "$out/$name.img" -o "$out/$name.img.zst"
(cd "$out" && sha256sum "$name.img" "$name.img.zst" > "$name.sha256")
step "done"
echo "image: $out/$name.img  $(du -h --apparent-size "$out/$name.img" | cut -f1)  sha256 $(cut -d' ' -f1 < <(grep " $name.img$" "$out/$name.sha256"))"
echo "image: $out/$name.img.zst  $(du -h "$out/$name.img.zst" | cut -f1)  sha256 $(cut -d' ' -f1 < <(grep " $name.img.zst$" "$out/$name.sha256"))"
echo "image: packages ($(wc -l < "$out/$name.packages.txt")) in $out/$name.packages.txt"
