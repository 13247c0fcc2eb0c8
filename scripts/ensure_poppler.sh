#!/usr/bin/env bash
# Install Debian's poppler-utils (pdftoppm, pdfinfo, pdftotext) when missing: the oversight tests turn
# the inspection report's PDF into page images and text to check what a reader would see.  Idempotent.
set -euo pipefail
if command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "pdftoppm is missing; install Debian's 'poppler-utils' package (needs root)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null
