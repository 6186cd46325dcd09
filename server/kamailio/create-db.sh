#!/usr/bin/env bash
# Creates (or brings up to date) the lab exchange database from schema.sql.
# Usage: server/kamailio/create-db.sh PATH.db
set -euo pipefail
db=${1:?usage: create-db.sh PATH.db}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v sqlite3 >/dev/null || { echo "create-db.sh: sqlite3 is not installed (apt-get install sqlite3)" >&2; exit 1; }
mkdir -p "$(dirname "$db")"
sqlite3 "$db" < "$here/schema.sql"
