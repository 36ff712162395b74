#!/usr/bin/env bash
# The main job: set up, run the whole suite on the installed numba/torch, stamp provenance,
# publish the dashboard into html/.
#   bash tools/run_benchmarks.sh                  # everything, in .venv's numba/torch
#   bash tools/run_benchmarks.sh --matrix         # everything, in every release of asv.conf.json
#   bash tools/run_benchmarks.sh --bench Gelu     # one selection (no report rebuilt)
#   bash tools/run_benchmarks.sh --fresh          # re-measure phases already measured here
# Results are merged into results/<machine>/ (set ASV_MACHINE to name the machine; default:
# this host's name); benchmarks not re-run keep their stored results. An interrupted run
# resumes where it stopped (tools/run/main_job.py).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
PY=.venv/bin/python
matrix=0
if [ "${1:-}" = "--matrix" ]; then matrix=1; shift; fi
for arg in "$@"; do
    case "$arg" in
        --quick|-q) echo "error: --quick writes one-call timings over stored results;" \
                         "use '.venv/bin/python -m tools.run.smoke' for a quick run" >&2; exit 2 ;;
        --matrix) echo "error: --matrix must come first" >&2; exit 2 ;;
    esac
done
bash tools/setup_env.sh
bash tools/setup_valgrind.sh
bash tools/setup_likwid.sh
if [ "$matrix" = 0 ]; then
    # Resumable, guarded, provenance recorded at run time: see tools/run/main_job.py.
    # --bench REGEX selects benchmarks (no report rebuilt); other flags: --help there.
    exec $PY -m tools.run.main_job "$@"
fi
echo "== setup: release matrix environments (created once, then reused)"
$PY -m tools.run.matrix_envs
MACHINE=${ASV_MACHINE:-$(hostname)}
COMMIT=$(git rev-parse HEAD)
ASV=(.venv/bin/python -m tools.run.asv_atomic)   # asv with atomic JSON writes
echo "== machine: registering '$MACHINE' (asv machine --yes)"
"${ASV[@]}" machine --yes --machine "$MACHINE"

# The matrix: one asv invocation per phase (tools/run/phases.py) over every matrix environment.
if [ $# -gt 0 ]; then
    phases=("your selection"$'\t')
else
    mapfile -t phases < <($PY -m tools.run.phases)
    [ ${#phases[@]} -gt 0 ] || { echo "error: tools/run/phases.py listed no benchmarks" >&2; exit 1; }
fi
failed=0
i=0
for phase in "${phases[@]}"; do
    i=$((i + 1))
    label=${phase%%$'\t'*}
    regex=${phase#*$'\t'}
    echo "== benchmarks [$i/${#phases[@]}, $((SECONDS - start)) s]: $label"
    args=(run "$COMMIT^!" --machine "$MACHINE" --record-samples)
    [ -n "$regex" ] && args+=(--bench "$regex")
    "${ASV[@]}" "${args[@]}" "$@" || failed=1   # keep going: publish what did run
done

echo "== provenance: stamping each matrix environment's versions, threads and hardware"
$PY -m tools.run.provenance --stamp results --commit "$COMMIT"
echo "== publish: writing html/ (self-contained, works offline, findings linked)"
$PY -m tools.dashboard.publish
echo "== done in $((SECONDS - start)) s"
if [ "$failed" != 0 ]; then
    echo "some benchmarks failed: see the asv output above" >&2
    exit 1
fi
