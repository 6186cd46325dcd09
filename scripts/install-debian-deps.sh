#!/usr/bin/env bash
# Installs the Debian 12 packages deskphone's tests and demo need.
# Idempotent and quiet: when everything is present it prints nothing.
#   scripts/install-debian-deps.sh [--print]   (--print: only list what is missing)
set -euo pipefail

PACKAGES=(
  kamailio                    # the lab exchange
  kamailio-websocket-modules  # SIP over WebSocket for our phones (RFC 7118)
  kamailio-sqlite-modules     # the emergency routing table
  kamailio-tls-modules        # wss:// listener (TLS) for the lab exchange
  kamailio-postgres-modules   # db_postgres: the exchange on PostgreSQL (two nodes)
  postgresql                  # initdb/pg_ctl: tests start a private cluster
  sip-tester                  # sipp: third-party SIP peer in tests
  baresip-core                # third-party softphone in tests
  alsa-utils                  # aplay/arecord, ALSA file devices
  sqlite3                     # creates and edits the exchange database
  openssl                     # test certificates for wss://
  systemd                     # systemd-analyze verify, systemd-notify
  chromium                    # the bench page, tested headless
  libasound2-dev              # builds native/alsa-pcm (in-process ALSA)
)
# Installed without their recommends (qjackctl, a GUI, and the like).
BARE_PACKAGES=(
  jackd2                      # a real-time paced virtual sound card: paced-device test, benchmarks
  libasound2-plugins          # the ALSA jack plugin, to play into it
  mmdebstrap                  # npm run rig: builds the guest's root file system
  qemu-system-x86             # npm run rig: boots the guest (software emulation)
  qemu-utils                  # npm run rig: qemu-img, the guest's copy-on-write disk
  seabios                     # npm run rig: the guest's BIOS
)

missing=()
bare=()
for p in "${PACKAGES[@]}" "${BARE_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] && continue
  if [[ " ${BARE_PACKAGES[*]} " == *" $p "* ]]; then bare+=("$p"); else missing+=("$p"); fi
done
[ $((${#missing[@]} + ${#bare[@]})) -eq 0 ] && exit 0
if [ "${1:-}" = "--print" ]; then printf '%s\n' "${missing[@]}" "${bare[@]}"; exit 0; fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-debian-deps: need root or sudo to install: ${missing[*]} ${bare[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-debian-deps: installing ${missing[*]} ${bare[*]}"
export DEBIAN_FRONTEND=noninteractive
# A Debian host starts the system kamailio.service on install; our tests run
# their own instances and never use it. policy-rc.d keeps it from starting.
cleanup_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  cleanup_policy=1
fi
trap '[ -n "$cleanup_policy" ] && $sudo rm -f /usr/sbin/policy-rc.d' EXIT
$sudo apt-get update -qq >/dev/null
[ ${#missing[@]} -eq 0 ] || $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
[ ${#bare[@]} -eq 0 ] || $sudo apt-get install -y -qq --no-install-recommends "${bare[@]}" >/dev/null
