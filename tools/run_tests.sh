#!/usr/bin/env bash
# Set up the pinned environment (and the browser for the dashboard test) and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
bash tools/setup_browser.sh
exec .venv/bin/python -m pytest -q "$@"
