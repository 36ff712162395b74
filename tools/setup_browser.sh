#!/usr/bin/env bash
# Debian's Chromium, for the dashboard test (tests/test_dashboard.py). Without it that test is
# skipped with one line, unless REQUIRE_BROWSER=1 (CI) makes a missing browser an error.
set -euo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== setup: installing Debian's chromium for the dashboard test"
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
        exit 0
    fi
    why="apt-get could not install the 'chromium' package"
else
    why="chromium is not installed and this is not a root Debian shell"
fi
if [ "${REQUIRE_BROWSER:-0}" = 1 ]; then
    echo "error: the dashboard test needs a browser (REQUIRE_BROWSER=1): $why" >&2
    exit 1
fi
echo "== setup: $why; the dashboard test will be skipped"
