#!/usr/bin/env bash
# The README's demo command: installs what the demo needs (Debian packages,
# npm packages) and starts it. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-debian-deps.sh
[ -d node_modules/sip.js ] || npm ci --no-audit --no-fund
node scripts/build.mjs >/dev/null # build/ as the sources are now (docs/build.md)
exec node bin/deskphone-demo.mjs "$@"
