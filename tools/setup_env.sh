#!/usr/bin/env bash
# Create (or reuse) .venv with the pinned versions of requirements.txt. Idempotent: a second
# call with unchanged requirements installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    echo "== setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
    echo "== setup: installing pinned requirements (numpy, numba, torch, asv, ...)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    sha256sum requirements.txt > "$stamp"
fi
echo "== setup: $(.venv/bin/python -c 'import numpy, numba, torch, asv_runner; print(f"numpy {numpy.__version__}, numba {numba.__version__}, torch {torch.__version__}")')"
