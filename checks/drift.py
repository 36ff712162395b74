"""How far each case moves between full runs of the same machine and environment: the A/A
spread that sets the Regressions page's thresholds (asv.conf.json `regressions_thresholds`).

    python -m tools check drift --machine xeon-2core [--env existing]

For every pair of result files of the machine whose environment name contains --env, the
ratio of each case measured in both; prints, per kind of benchmark, the quantiles of
|ratio - 1| (taken on the log scale, so up and down count alike).
"""
import glob
import itertools
import math
import os
import sys

from tools import REPO_ROOT, ToolError, command_parser, run_main
from tools.results.rows import load_rows

KINDS = ("time_", "timeraw_", "track_instructions", "track_gbps", "track_percent")


def drift(runs, kind):
    """Sorted |log ratio| of every case of `kind` over every pair of runs."""
    out = []
    for a, b in itertools.combinations(runs, 2):
        out += [abs(math.log(a[k] / b[k])) for k in a if k in b and kind in k[0]]
    return sorted(out)


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--machine", required=True)
    parser.add_argument("--env", default="existing", help="substring of the environment name")
    parser.add_argument("--results", default=os.path.join(REPO_ROOT, "results"))
    args = parser.parse_args(argv)
    files = sorted(f for f in glob.glob(os.path.join(args.results, args.machine, "*.json"))
                   if args.env in os.path.basename(f) and not f.endswith("machine.json"))
    if len(files) < 2:
        raise ToolError(f"fewer than two result files of {args.machine!r} with {args.env!r} "
                        "in their environment name")
    runs = [{(r.benchmark, tuple(r.params.items())): r.value
             for r in load_rows(f, args.results) if r.value == r.value and r.value > 0}
            for f in files]
    print(f"{len(files)} runs of {args.machine}; |ratio - 1| over every pair of runs:")
    for kind in KINDS:
        d = drift(runs, kind)
        if not d:
            continue
        q = {p: math.exp(d[int(p * (len(d) - 1))]) - 1 for p in (0.5, 0.9, 0.95, 0.99, 1.0)}
        print(f"  {kind:<20} {len(d):>5} pairs  p50 {q[0.5]:6.1%}  p90 {q[0.9]:6.1%}  "
              f"p95 {q[0.95]:6.1%}  p99 {q[0.99]:6.1%}  max {q[1.0]:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m checks.drift"))
