#!/usr/bin/env bash
# Install Debian's Chromium when /usr/bin/chromium is missing: the web end-to-end tests launch it by
# path through Playwright (Playwright's own browser download is not used).  Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "Chromium is missing; install Debian's 'chromium' package (needs root)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
