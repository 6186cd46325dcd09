#!/bin/sh
# image:boot, inside the emulated phone, before deskphone starts: Kamailio from
# the test disk's .debs (never in the shipped image), snd-aloop for the ringer.
set -eu
s=/run/smoke
say() { echo "smoke: $*"; }
say "setting up: kamailio from the test disk, snd-aloop"
systemctl mask --runtime kamailio.service >/dev/null 2>&1 || true
# Kamailio's Python dependency serves only its kamctl/kamdbctl scripts: left out, as
# byte-compiling Python under full-system emulation would take minutes.
debs=$(ls $s/debs/*.deb | grep -v -e /python -e /libpython -e /media-types)
DEBIAN_FRONTEND=noninteractive dpkg --force-depends -i $debs >/run/smoke-dpkg.log 2>&1 || { say "FAIL kamailio install (dpkg)"; tail -5 /run/smoke-dpkg.log; exit 1; }
modprobe snd-aloop index=0 id=Loopback pcm_substreams=2
systemd-run --quiet --unit=smoke-kamailio /usr/sbin/kamailio -DD -E -f $s/kamailio.cfg
for _ in $(seq 1 120); do
  ss -ltn 2>/dev/null | grep -q '127.0.0.1:8080' && { say "kamailio listening on ws://127.0.0.1:8080"; exit 0; }
  sleep 1
done
say "FAIL kamailio did not listen within 120 s"; journalctl -u smoke-kamailio --no-pager | tail -5
exit 1
