"""One benchmark's time against the releases of one library: a table and a PNG plot.

    python -m tools report timeline numba Sum.time_sum --where size=10000000 --where device=cpu
    python -m tools report timeline torch Gelu.time_gelu --where device=cpu --png gelu.png

Each remaining parameter combination is one line (e.g. one per implementation); --where pins
parameters to keep the plot readable. Runs are taken on one machine with every other library
equal (the combination with the most releases, or the one --machine picks). Error bars span
the samples' interquartile range (asv's q_25 to q_75).
"""
import sys

from .. import ToolError, command_parser, run_main
from ..results.rows import load_rows
from ..results.releases import MATRIX_LIBRARIES, describe_context, load_run_files, releases_of
from .tables import fmt_time, render

MAX_LINES = 12


def parse_where(items):
    where = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ToolError(f"--where {item!r}: expected NAME=VALUE, e.g. size=10000000")
        where[name] = value
    return where


def series(runs, library, results_dir, benchmark, where):
    """{combination label: {release: Row}} for one benchmark; newest run per release wins."""
    by_release = {}
    for run in runs:  # newest first
        by_release.setdefault(run.version(library), []).append(run)
    lines = {}
    full_name = None
    param_names = None
    for release, rel_runs in by_release.items():
        for run in rel_runs:
            for row in load_rows(run.path, results_dir):
                if not (row.benchmark == benchmark or row.benchmark.endswith("." + benchmark)):
                    continue
                full_name, param_names = row.benchmark, list(row.params)
                values = row.values
                unknown = set(where) - set(values)
                if unknown:
                    raise ToolError(f"{row.benchmark} has no parameter "
                                       f"{', '.join(sorted(unknown))}; it has "
                                       f"{', '.join(values) or 'none'}")
                if any(values[k] != v for k, v in where.items()) or row.value != row.value:
                    continue
                label = ", ".join(f"{k}={v}" for k, v in values.items() if k not in where)
                lines.setdefault(label or benchmark, {}).setdefault(release, row)
    if full_name is None:
        raise ToolError(f"no stored result for a benchmark named {benchmark!r} "
                           "(e.g. Sum.time_sum, Gelu.time_gelu)")
    if not lines:
        raise ToolError(f"{full_name} has no measured value where "
                           + ", ".join(f"{k}={v}" for k, v in where.items())
                           + f" (parameters: {', '.join(param_names)})")
    return full_name, lines


def plot(path, title, releases, lines, library, unit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.8))
    x = list(range(len(releases)))
    for label, by_release in sorted(lines.items()):
        xs, ys, lo, hi = [], [], [], []
        for i, release in enumerate(releases):
            row = by_release.get(release)
            if row is None:
                continue
            stats = row.stats or {}
            xs.append(i)
            ys.append(row.value)
            lo.append(row.value - stats.get("q_25", row.value))
            hi.append(stats.get("q_75", row.value) - row.value)
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=label)
    ax.set_xticks(x, [f"{library} {r}" for r in releases])
    ax.set_yscale("log")
    ax.set_ylabel("time (s)" if unit == "seconds" else unit)
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("library", help=f"one of {', '.join(MATRIX_LIBRARIES)}")
    parser.add_argument("benchmark", help="e.g. Sum.time_sum or bench_sum.Sum.time_sum")
    parser.add_argument("--where", action="append", default=[], metavar="NAME=VALUE",
                        help="pin a parameter (repeatable)")
    parser.add_argument("--results", default="results", help="asv results folder")
    parser.add_argument("--machine", help="only this machine's results")
    parser.add_argument("--png", help="write the plot here")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args(argv)
    if args.library not in MATRIX_LIBRARIES:
        raise ToolError(f"unknown library {args.library!r}: choose one of "
                           f"{', '.join(MATRIX_LIBRARIES)}")
    where = parse_where(args.where)
    runs = load_run_files(args.results, args.machine)
    groups = {}
    for run in runs:
        groups.setdefault(run.context(args.library), []).append(run)
    # the machine and fixed libraries under which the most releases were measured
    context, ctx_runs = max(groups.items(),
                            key=lambda kv: len(releases_of(kv[1], args.library)))
    releases = releases_of(ctx_runs, args.library)
    name, lines = series(ctx_runs, args.library, args.results, args.benchmark, where)
    if len(lines) > MAX_LINES and args.png:
        raise ToolError(f"{len(lines)} parameter combinations are too many lines for one "
                        f"plot (at most {MAX_LINES}); pin some with --where NAME=VALUE")
    unit = next(iter(next(iter(lines.values())).values())).unit
    title = f"{name} " + " ".join(f"{k}={v}" for k, v in where.items())
    subtitle = describe_context(context, args.library)
    header = ["parameters", *(f"{args.library} {r}" for r in releases)]
    body = []
    for label in sorted(lines):
        cells = []
        for release in releases:
            row = lines[label].get(release)
            cells.append("n/a" if row is None else
                         fmt_time(row.value) if unit == "seconds" else f"{row.value:.4g}")
        body.append([label, *cells])
    print(f"{title}\n{subtitle}\n")
    print(render(header, body, args.markdown))
    if args.png:
        plot(args.png, f"{title}\n{subtitle}", releases, lines, args.library, unit)
        print(f"\nwrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.reports.release_timeline"))
