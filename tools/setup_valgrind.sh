#!/usr/bin/env bash
# Debian's valgrind (callgrind and its callgrind.h), for the instruction-count family
# (benchmarks/instructions.py). Without it that family and its tests skip with the reason,
# unless REQUIRE_VALGRIND=1 (CI) makes a missing valgrind an error.
set -euo pipefail
if command -v valgrind >/dev/null && [ -f /usr/include/valgrind/callgrind.h ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== setup: installing Debian's valgrind for the instruction counts"
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; then
        exit 0
    fi
    why="apt-get could not install the 'valgrind' package"
else
    why="valgrind is not installed and this is not a root Debian shell"
fi
if [ "${REQUIRE_VALGRIND:-0}" = 1 ]; then
    echo "error: the instruction counts need valgrind (REQUIRE_VALGRIND=1): $why" >&2
    exit 1
fi
echo "== setup: $why; the instruction-count family will be skipped"
