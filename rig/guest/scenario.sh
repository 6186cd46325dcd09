#!/bin/bash
# The scenario boot (rig.phase=scenario): rig/guest/scenario.ts on the phone
# systemd started at boot.
cd /rig/repo || exit 1
# The lab exchange writes its address once it answers (rig-exchange.service).
for _ in $(seq 120); do [ -s /run/rig/exchange.json ] && break; sleep 1; done
node node_modules/tsx/dist/cli.mjs rig/guest/scenario.ts
rc=$?
journalctl -b --no-pager -o short-monotonic > /dev/ttyS2 2>&1
exit $rc
