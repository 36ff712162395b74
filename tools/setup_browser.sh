#!/usr/bin/env bash
# Debian's Chromium, for the dashboard test (tests/test_dashboard.py). Without it that test is
# skipped, unless REQUIRE_BROWSER=1 (CI) makes a missing browser an error.
set -euo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== setup: installing Debian's chromium for the dashboard test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
    echo "== setup: chromium is not installed and this is not a root Debian shell;" \
         "the dashboard test will be skipped (install the 'chromium' package to run it)"
fi
