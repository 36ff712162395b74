#!/usr/bin/env bash
# The main job: set up, run the whole suite on the installed numba/torch, stamp provenance,
# publish the dashboard into html/.
#   bash tools/run_benchmarks.sh                  # everything, in .venv's numba/torch
#   bash tools/run_benchmarks.sh --matrix         # everything, in every release of asv.conf.json
#   bash tools/run_benchmarks.sh --bench Gelu     # one selection (no report rebuilt)
#   bash tools/run_benchmarks.sh --fresh          # re-measure phases already measured here
# Results are merged into results/<machine>/ (set ASV_MACHINE to name the machine; default:
# this host's name); benchmarks not re-run keep their stored results. An interrupted run
# resumes where it stopped. Both paths are one command: python -m tools run [--matrix]
# (tools/main_job.py: resumable, guarded, provenance recorded at run time).
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
    case "$arg" in
        --quick|-q) echo "error: --quick writes one-call timings over stored results;" \
                         "use '.venv/bin/python -m tools smoke' for a quick run" >&2; exit 2 ;;
    esac
done
bash tools/setup_env.sh
bash tools/setup_valgrind.sh
bash tools/setup_likwid.sh
exec .venv/bin/python -m tools run "$@"
