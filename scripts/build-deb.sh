#!/usr/bin/env bash
# Builds dist/deskphone_VERSION_ARCH.deb with dpkg-deb: the firmware compiled
# to JavaScript under /usr/lib/deskphone/build (docs/build.md) with the native
# parts and its production npm packages, /usr/bin/deskphone, the systemd unit,
# and an example /etc/deskphone/config.yaml. No TypeScript source goes in.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p 'require("./package.json").version')
# The package carries npm packages with native parts (epoll, i2c-bus): build it
# for the phone's architecture. DEB_ARCH=arm64 (Pi 3/4/5, 64-bit) or armhf, amd64.
arch=${DEB_ARCH:-$(dpkg --print-architecture)}
case "$arch" in
  amd64) cpu=x64 ;; arm64) cpu=arm64 ;; armhf) cpu=arm ;;
  *) echo "build-deb: unsupported DEB_ARCH $arch (amd64, arm64, armhf)" >&2; exit 2 ;;
esac
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
lib="$root/usr/lib/deskphone"
mkdir -p "$lib" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/deskphone" "$root/usr/share/doc/deskphone" "$root/DEBIAN"
cp package.json package-lock.json "$lib/"
mkdir -p "$lib/bin" && cp bin/deskphone.mjs bin/load-built.mjs "$lib/bin/"
# The deskphone command only, compiled from the sources as they are now; the
# npm packages it loads at run time (the rest is inside the bundle).
# Node and V8 flags the phone runs with: in /usr/bin/deskphone below, and the same
# when the build makes its code cache (V8 refuses a cache made under other flags).
# None: --max-semi-space-size=1 took 14 MB off a run of calls but made an emergency's 180
# under a flood 220 ms late instead of 12-95 ms (docs/benchmarks.md, "Memory").
node_flags=""
runtime_packages=$(node scripts/build.mjs --only deskphone --outdir "$lib/build" --node-flags "$node_flags" --runtime-packages)
mkdir -p "$lib/scripts" "$lib/native"
cp scripts/build-native.mjs "$lib/scripts/"
for d in native/*/; do mkdir -p "$lib/$d" && cp "$d"binding.gyp "$d"*.c "$lib/$d" && { cp "$d"*.h "$lib/$d" 2>/dev/null || true; }; done
(cd "$lib" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts --os=linux --cpu="$cpu" >/dev/null)
# Keep only those packages (and what they need), at the locked versions; no type declarations.
(cd "$lib" && RUNTIME="$runtime_packages" node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
  const keep = process.env.RUNTIME.split(" ").filter(Boolean);
  p.dependencies = Object.fromEntries(keep.map((k) => [k, p.dependencies[k]]));
  delete p.devDependencies;
  p.scripts = { install: "node scripts/build-native.mjs" };
  fs.writeFileSync("package.json", JSON.stringify(p, null, 2) + "\n");' &&
  npm prune --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null &&
  find node_modules -name '*.ts' -delete && rm -f package-lock.json node_modules/.package-lock.json)
# The native parts (GPIO ioctl, in-process ALSA, and the i2c-bus and epoll
# packages' own) are built for this machine's architecture: build the package on
# the phone's kind of machine to have them, or cross-compile them with
# DESKPHONE_CROSS=a script that sets the compiler up (image/cross-env.sh: arm64 on amd64).
if [ "$arch" = "$(dpkg --print-architecture)" ] || [ -n "${DESKPHONE_CROSS:-}" ]; then
  (cd "$lib" && { [ -z "${DESKPHONE_CROSS:-}" ] || . "$DESKPHONE_CROSS"; } && node scripts/build-native.mjs &&
    npm rebuild --ignore-scripts=false --no-audit --no-fund i2c-bus epoll >/dev/null &&
    rm -rf native/*/build/Release/obj.target native/*/build/Release/.deps node_modules/*/build/Release/obj.target node_modules/*/build/Release/.deps)
else
  echo "build-deb: $arch differs from this machine: the package carries the native sources but not built (see docs/install.md)" >&2
fi
# The code cache was made by this machine's Node: another architecture's V8 took it and
# crashed (SIGSEGV in check-config, arm64 Node on an emulated Cortex-A72, npm run image:boot).
# None ships then; the phone compiles as it runs.
[ "$arch" = "$(dpkg --print-architecture)" ] || rm -f "$lib"/build/*.cache
cat > "$root/usr/bin/deskphone" <<SH
#!/bin/sh
exec /usr/bin/node $node_flags /usr/lib/deskphone/bin/deskphone.mjs "\$@"
SH
chmod 755 "$root/usr/bin/deskphone"
cp systemd/deskphone.service "$root/lib/systemd/system/"
cp packaging/config.example.yaml "$root/etc/deskphone/config.yaml"
chmod 600 "$root/etc/deskphone/config.yaml"
cp README.md docs/*.md "$root/usr/share/doc/deskphone/"
cat > "$root/DEBIAN/control" <<CTL
Package: deskphone
Version: $version
Section: comm
Priority: optional
Architecture: $arch
Depends: nodejs (>= 20.19), alsa-utils, systemd, adduser
Maintainer: deskphone developers <deskphone@invalid>
Description: emergency-capable SIP desk phone firmware
 Firmware for SIP desk phones on Raspberry-Pi-class boards: hook switch, keypad,
 LEDs and ALSA audio; registers with the site's exchange over WebSocket, and rings
 and preempts for emergency calls marked with Alert-Info.
CTL
echo "/etc/deskphone/config.yaml" > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  for g in gpio i2c audio; do getent group "$g" >/dev/null || addgroup --system "$g"; done
  getent passwd deskphone >/dev/null || adduser --system --group --home /var/lib/deskphone --no-create-home deskphone
  for g in gpio i2c audio; do adduser deskphone "$g" >/dev/null; done
  chown root:deskphone /etc/deskphone/config.yaml && chmod 640 /etc/deskphone/config.yaml
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; systemctl enable deskphone.service >/dev/null; fi
fi
SH
chmod 755 "$root/DEBIAN/postinst"
mkdir -p dist
dpkg-deb --root-owner-group --build "$root" "dist/deskphone_${version}_${arch}.deb" >/dev/null
echo "dist/deskphone_${version}_${arch}.deb"
