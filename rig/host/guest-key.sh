#!/usr/bin/env bash
# Prints the cache key of the rig's guest: a hash of what the guest is built
# from — the package lists, the image scripts, the Node version and the kernel
# the mirror offers now (linux-image-amd64's candidate on this host's apt).
#   guest-key.sh NODE_VERSION
set -euo pipefail
image=$(cd "$(dirname "$0")/../image" && pwd)
kernel=$(apt-cache policy linux-image-amd64 2>/dev/null | awk '/Candidate:/{print $2}')
{
  echo "node $1"
  echo "kernel ${kernel:-unknown}"
  (cd "$image" && sha256sum $(ls | sort))
} | sha256sum | cut -c1-16
