#!/usr/bin/env bash
# The main job: set up, run the whole suite on the installed numba/torch, stamp provenance,
# publish the dashboard into html/.
#   bash tools/run_benchmarks.sh                  # everything
#   bash tools/run_benchmarks.sh --bench Gelu     # extra arguments go to `asv run`
# Results are merged into results/<machine>/ (set ASV_MACHINE to name the machine; default:
# this host's name); benchmarks not re-run keep their stored results.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash tools/setup_env.sh
PY=.venv/bin/python
for arg in "$@"; do
    case "$arg" in
        --quick|-q) echo "error: --quick writes one-call timings over stored results;" \
                         "use '$PY -m tools.smoke' for a quick run" >&2; exit 2 ;;
    esac
done

MACHINE=${ASV_MACHINE:-$(hostname)}
COMMIT=$(git rev-parse HEAD)
echo "== machine: registering '$MACHINE' (asv machine --yes)"
$PY -m asv machine --yes --machine "$MACHINE" >/dev/null

# One asv invocation per benchmark family, so the log says which phase is running; asv itself
# prints a line per benchmark as it finishes.
families=(Threads Sum AxisSum Gelu)
[ $# -gt 0 ] && families=("")   # explicit --bench etc.: one invocation with the user's arguments
i=0
failed=0
for family in "${families[@]}"; do
    i=$((i + 1))
    args=(run -E "existing:$PY" --set-commit-hash "$COMMIT" --machine "$MACHINE"
          --record-samples)
    if [ -n "$family" ]; then
        echo "== benchmarks [$i/${#families[@]}]: $family"
        args+=(--bench "^bench_[a-z_]+\.${family}\.")
    fi
    $PY -m asv "${args[@]}" "$@" || failed=1   # keep going: publish what did run
done

echo "== provenance: stamping library versions, threads and hardware into the results"
$PY -m tools.provenance --stamp results --commit "$COMMIT"
echo "== publish: writing html/"
$PY -m asv publish >/dev/null
echo "== done in $((SECONDS - start)) s. Browse the dashboard with:"
echo "     $PY -m asv preview          # serves html/ on http://127.0.0.1:8080"
echo "   Headline tables: $PY -m tools.headline"
if [ "$failed" != 0 ]; then
    echo "some benchmarks failed: see the asv output above" >&2
    exit 1
fi
