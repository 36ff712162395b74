#!/usr/bin/env bash
# The main job: set up, run the whole suite on the installed numba/torch, stamp provenance,
# publish the dashboard into html/.
#   bash tools/run_benchmarks.sh                  # everything, in .venv's numba/torch
#   bash tools/run_benchmarks.sh --matrix         # everything, in every release of asv.conf.json
#   bash tools/run_benchmarks.sh --bench Gelu     # extra arguments go to `asv run`
# Results are merged into results/<machine>/ (set ASV_MACHINE to name the machine; default:
# this host's name); benchmarks not re-run keep their stored results.
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
if [ "$matrix" = 1 ]; then
    echo "== setup: release matrix environments (created once, then reused)"
    $PY -m tools.run.matrix_envs
fi

MACHINE=${ASV_MACHINE:-$(hostname)}
COMMIT=$(git rev-parse HEAD)
echo "== machine: registering '$MACHINE' (asv machine --yes)"
$PY -m asv machine --yes --machine "$MACHINE" >/dev/null

# One asv invocation per benchmark class and value of its first parameter (tools/run/phases.py),
# so the log says which phase is running; asv prints each benchmark's table as it finishes.
# With explicit arguments (--bench ...), one invocation with the user's arguments instead.
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
    if [ "$matrix" = 1 ]; then
        args=(run "$COMMIT^!" --machine "$MACHINE" --record-samples)   # all matrix environments
    else
        args=(run -E "existing:$PY" --set-commit-hash "$COMMIT" --machine "$MACHINE" --record-samples)
    fi
    [ -n "$regex" ] && args+=(--bench "$regex")
    $PY -m asv "${args[@]}" "$@" || failed=1   # keep going: publish what did run
done

echo "== provenance: stamping library versions, threads and hardware into the results"
$PY -m tools.run.provenance --stamp results --commit "$COMMIT" || echo "(nothing was saved to stamp)"
if [ "$matrix" = 0 ]; then
    echo "== findings: report/findings.md and its plots, from this run's results"
    $PY -m tools.reports.findings || echo "(no findings report: see the message above)"
fi
echo "== publish: writing html/ (self-contained, works offline, findings linked)"
$PY -m tools.dashboard.publish
echo "== done in $((SECONDS - start)) s. Browse the dashboard with:"
echo "     $PY -m asv preview          # serves html/ on http://127.0.0.1:8080"
echo "   Headline tables: $PY -m tools.reports.headline"
if [ "$failed" != 0 ]; then
    echo "some benchmarks failed: see the asv output above" >&2
    exit 1
fi
