#!/usr/bin/env bash
# Debian's likwid (likwid-bench), the independent anchor of the bandwidth ceiling
# (tools/run/likwid_anchor.py). Without it the main job notes that the anchor is missing and
# its test skips with the reason, unless REQUIRE_LIKWID=1 (CI) makes a missing one an error.
set -euo pipefail
if command -v likwid-bench >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== setup: installing Debian's likwid for the bandwidth anchor"
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq likwid >/dev/null; then
        exit 0
    fi
    why="apt-get could not install the 'likwid' package"
else
    why="likwid-bench is not installed and this is not a root Debian shell"
fi
if [ "${REQUIRE_LIKWID:-0}" = 1 ]; then
    echo "error: the bandwidth anchor needs likwid-bench (REQUIRE_LIKWID=1): $why" >&2
    exit 1
fi
echo "== setup: $why; the likwid-bench anchor will be skipped"
