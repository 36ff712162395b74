#!/usr/bin/env bash
# Set up the pinned environment (the browser for the dashboard test, valgrind for the
# instruction counts) and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
bash tools/setup_browser.sh
bash tools/setup_valgrind.sh
bash tools/setup_likwid.sh
exec .venv/bin/python -m pytest -q "$@"
