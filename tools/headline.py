"""The seed notebook's headline tables, rebuilt from stored asv results.

    python -m tools.headline [--results results] [--machine NAME] [--markdown]
    python -m tools.headline --numba 0.66.0 --torch 2.13.0      # one release of the matrix

Prints, from the newest result file of a machine (of the given releases, if any): the 10M-element sum per implementation, the
seed's "rows faster by" ratio (time of the column sum / time of the row sum) for every shape,
layout and library, and GELU eager vs compiled vs functional. The seed's own figures stand
beside them for comparison.
"""
import argparse
import math
import sys

from .asv_results import ResultsError, load_rows, unquote
from .releases import LIBRARIES, newest_result_file
from .tables import fmt_ratio, fmt_time, render

# The seed notebook's measurements (its own machine), quoted for comparison only.
SEED_SUM_10M = {
    "torch_from_numpy": 1.257e-3, "numpy_sum": 2.404e-3, "numba_loop": 7.988e-3,
    "numba_np_sum": 8.021e-3, "python_builtin": 0.826637, "python_loop": 1.135897,
}
SEED_ROWS_FASTER = {  # (library, shape) -> seed's time(cols)/time(rows), C layout
    ("torch", "25000x25000"): 3.58, ("torch", "10000x10000"): 1.79,
    ("torch", "1000x1000"): 1.13, ("torch", "100x100"): 0.92,
    ("torch", "100000x100"): 2.18, ("torch", "100x100000"): 1.60,
    ("numpy", "25000x25000"): 1.02, ("numpy", "10000x10000"): 0.99,
    ("numpy", "1000x1000"): 0.73, ("numpy", "100x100"): 1.01,
    ("numpy", "100000x100"): 1.04, ("numpy", "100x100000"): 0.94,
}
SEED_GELU_10M = {"compiled": 0.016426, "eager": 0.055672}


def _index(rows, benchmark):
    """{tuple of unquoted param values: value} for one benchmark."""
    return {
        tuple(unquote(v) for v in row.params.values()): row.value
        for row in rows
        if row.benchmark == benchmark
    }


def sum_table(rows, device):
    sums = _index(rows, "bench_sum.Sum.time_sum")
    table = [
        (impl, t, SEED_SUM_10M.get(impl))
        for (size, impl, dev), t in sums.items()
        if size == "10000000" and dev == device and not math.isnan(t)
    ]
    table.sort(key=lambda r: r[1])
    return (["impl", "this machine", "seed notebook"],
            [[impl, fmt_time(t), fmt_time(seed)] for impl, t, seed in table])


def axis_table(rows, device):
    axis = _index(rows, "bench_axis_sum.AxisSum.time_axis_sum")
    out = []
    for (shape, layout, ax, library, dev), t_rows in axis.items():
        if ax != "rows" or dev != device:
            continue
        t_cols = axis.get((shape, layout, "cols", library, dev), float("nan"))
        ratio = t_cols / t_rows
        seed = SEED_ROWS_FASTER.get((library, shape)) if layout == "C" else None
        out.append([library, shape, layout, fmt_time(t_rows), fmt_time(t_cols),
                    fmt_ratio(ratio), fmt_ratio(seed) if seed else "-"])
    return (["library", "shape", "layout", "rows", "cols", "rows faster by", "seed"], out)


def gelu_table(rows, device):
    gelu = _index(rows, "bench_gelu.Gelu.time_gelu")
    out = []
    for size in sorted({int(k[0]) for k in gelu if k[2] == device}):
        t = {mode: gelu.get((str(size), mode, device), float("nan"))
             for mode in ("eager", "compiled", "functional")}
        out.append([str(size), fmt_time(t["eager"]), fmt_time(t["compiled"]),
                    fmt_time(t["functional"]), fmt_ratio(t["eager"] / t["compiled"])])
    seed = SEED_GELU_10M
    out.append(["seed 10M", fmt_time(seed["eager"]), fmt_time(seed["compiled"]), "-",
                fmt_ratio(seed["eager"] / seed["compiled"])])
    return (["size", "eager", "compiled", "functional", "compiled faster by"], out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default="results", help="asv results folder")
    parser.add_argument("--machine", help="machine name (default: newest results)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--markdown", action="store_true", help="markdown tables")
    for lib in LIBRARIES:
        parser.add_argument(f"--{lib}", metavar="VERSION", help=f"only results of this {lib}")
    args = parser.parse_args(argv)
    wanted = {lib: getattr(args, lib) for lib in LIBRARIES if getattr(args, lib)}
    try:
        path = newest_result_file(args.results, args.machine, wanted)
        rows = load_rows(path, args.results)
    except ResultsError as exc:
        print(f"headline: {exc}", file=sys.stderr)
        return 2
    env = rows[0].env_params if rows else {}
    print(f"{path}\nmachine {env.get('machine')}, cpu {env.get('cpu')}, "
          f"numba {env.get('numba', '?')}, torch {env.get('torch', '?')}, "
          f"numpy {env.get('numpy', '?')}, threads torch {env.get('torch_threads', '?')} / "
          f"numba {env.get('numba_threads', '?')}, device {args.device}\n")
    for title, (header, body) in (
        ("Sum of 10M float32", sum_table(rows, args.device)),
        ("Row vs column sums (rows faster by = time(cols) / time(rows))",
         axis_table(rows, args.device)),
        ("GELU", gelu_table(rows, args.device)),
    ):
        print(("### " if args.markdown else "") + title)
        print(render(header, body, args.markdown) if body else "(no results)")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
