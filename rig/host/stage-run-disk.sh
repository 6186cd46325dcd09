#!/usr/bin/env bash
# Makes the run disk (ext4, label rigrun, mounted at /rig in the guest): the
# .deb just built (debs/) and the part of this clone the guest runs from
# (repo/: the lab exchange, the HAL tests, the scenario, their node_modules,
# native parts as built here — the guest is amd64 bookworm like this host).
#   stage-run-disk.sh DEB OUT_IMG
set -euo pipefail
deb=$1 img=$2
clone=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/debs" "$stage/repo"
cp "$deb" "$stage/debs/"
(cd "$clone" && tar -cf - \
  --exclude='node_modules/@biomejs' --exclude='node_modules/typescript' \
  --exclude='node_modules/playwright-core' --exclude='node_modules/@stryker-mutator' \
  --exclude='node_modules/.cache' --exclude='native/*/build/Release/obj.target' \
  package.json tsconfig.json vitest.config.ts audio bin firmware hal native rig server sip test node_modules) \
  | tar -xf - -C "$stage/repo"
size_mb=$(( $(du -sm "$stage" | cut -f1) * 5 / 4 + 64 ))
mkfs.ext4 -q -F -L rigrun -d "$stage" "$img" "${size_mb}M" >/dev/null
