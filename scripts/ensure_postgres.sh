#!/usr/bin/env bash
# Install Debian's PostgreSQL server when it is missing, so the store tests can start their own.
# The tests start and stop the server themselves (tests/pg_server.py); nothing runs in the background.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "PostgreSQL server binaries are missing; install Debian's 'postgresql' package (needs root)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
