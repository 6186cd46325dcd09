#!/usr/bin/env bash
# Downloads Kamailio for arm64 and what it needs beyond the image's own packages
# into OUT, with the host's apt pointed at the image's dpkg status (no emulation).
# For image:boot's test disk only: the shipped image carries no Kamailio.
#   smoke-debs.sh ROOTFS OUT
set -euo pipefail
rootfs=$1 out=$2
mirror=${DESKPHONE_IMAGE_MIRROR:-http://deb.debian.org/debian}
st=$(mktemp -d)
trap 'rm -rf "$st"' EXIT
mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$out"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" > "$st/sources.list"
opts=(-o APT::Sandbox::User=root -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1
  -o Dir::State::Lists="$st/lists" -o Dir::State::status="$rootfs/var/lib/dpkg/status"
  -o Dir::Cache="$st/cache" -o Dir::Etc::SourceList="$st/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null -o APT::Install-Recommends=false)
apt-get -qq "${opts[@]}" update
apt-get -qq -y "${opts[@]}" --download-only install kamailio kamailio-websocket-modules >/dev/null
cp "$st"/cache/archives/*.deb "$out/"
ls "$out" | wc -l
