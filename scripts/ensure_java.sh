#!/usr/bin/env bash
# Install a Java runtime (17 or later) when missing: `caselink link --engine spark` runs Splink on
# PySpark, whose engine is a JVM, and tests/linkage/test_spark_engine.py compares it with DuckDB.
# Idempotent.
set -euo pipefail
if command -v java >/dev/null 2>&1; then
  version=$(java -version 2>&1 | head -1 | sed -E 's/.*version "([0-9]+).*/\1/')
  if [ "${version:-0}" -ge 17 ] 2>/dev/null; then
    exit 0
  fi
fi
if [ "$(id -u)" != "0" ]; then
  echo "Java 17 or later is missing; install Debian's 'openjdk-17-jre-headless' package (needs root)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
