#!/usr/bin/env bash
# Install the web app's front-end libraries (web/package.json, pinned by web/package-lock.json) from
# the npm registry into web/node_modules, which the app serves under /assets.  Idempotent: `npm ci`
# runs only when the lock file changed since the last install.  Without npm the pages still work
# with a plain fallback (they say so), so a missing npm is a warning, not a failure.
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends npm >/dev/null
  else
    echo "warning: npm is missing; the web pages will use their plain fallback (no Leaflet map)" >&2
    exit 0
  fi
fi
stamp=node_modules/.caselink-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
