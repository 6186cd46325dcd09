#!/usr/bin/env bash
# Debian packages the benchmarks need beyond the tests': a JACK server and
# the ALSA jack plugin (a real-time paced virtual sound card); tcpdump (npm run
# bench times SIP on loopback from a packet capture). Idempotent.
set -euo pipefail
missing=()
for p in jackd2 libasound2-plugins tcpdump; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-bench-deps: installing ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
