#!/usr/bin/env bash
# Set up the pinned environment and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
exec .venv/bin/python -m pytest -q "$@"
