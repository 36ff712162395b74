"""The seed notebook's headline tables, rebuilt from stored asv results.

    python -m tools report headline [--results results] [--machine NAME] [--markdown]
    python -m tools report headline --numba 0.66.0 --torch 2.13.0   # one release of the matrix

Prints, from the newest result file of a machine (of the given releases, if any): the
10M-element sum per implementation, the seed's "rows faster by" ratio (time of the column sum /
time of the row sum) for every shape, layout and library, and GELU eager vs compiled vs
functional. The seed's own figures stand beside them for comparison.
"""
import argparse
import sys

from benchmarks import seed

from ..results.releases import add_selection_args, selected_rows
from ..results.rows import ResultsError, RowIndex
from .measures import axis_layouts, compiled_speedup, gelu_times, rows_faster
from .names import AXIS_SUM, GELU, SUM
from .tables import fmt_ratio, fmt_time, render



def sum_table(index, device):
    table = [(key[1], t) for key, t in index.table(SUM).items()
             if key[0] == "10000000" and key[2] == device]
    table.sort(key=lambda r: r[1])
    return (["impl", "this machine", "seed notebook"],
            [[impl, fmt_time(t), fmt_time(seed.SUM_10M.get(impl))] for impl, t in table])


def axis_table(index, device):
    out = []
    for library, layout in axis_layouts(index, device):
        for shape, value in rows_faster(index, library, layout, device).items():
            t_rows = index.get(AXIS_SUM, shape, layout, "rows", library, device)
            t_cols = index.get(AXIS_SUM, shape, layout, "cols", library, device)
            quoted = seed.ROWS_FASTER.get((library, shape)) if layout == "C" else None
            out.append([library, shape, layout, fmt_time(t_rows), fmt_time(t_cols),
                        fmt_ratio(value), fmt_ratio(quoted) if quoted else "-"])
    return (["library", "shape", "layout", "rows", "cols", "rows faster by", "seed"], out)


def gelu_table(index, device):
    out = []
    sizes = sorted({int(k[0]) for k in index.table(GELU) if k[2] == device
                    and k[3:] in ((), ("default",))})
    for size in sizes:
        t = gelu_times(index, size, device)
        out.append([str(size), fmt_time(t["eager"]), fmt_time(t["compiled"]),
                    fmt_time(t["functional"]), fmt_ratio(compiled_speedup(index, size, device))])
    quoted = seed.GELU_10M
    out.append(["seed 10M", fmt_time(quoted["eager"]), fmt_time(quoted["compiled"]), "-",
                fmt_ratio(quoted["eager"] / quoted["compiled"])])
    return (["size", "eager", "compiled", "functional", "compiled faster by"], out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_selection_args(parser)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--markdown", action="store_true", help="markdown tables")
    args = parser.parse_args(argv)
    try:
        path, rows = selected_rows(args)
    except ResultsError as exc:
        print(f"headline: {exc}", file=sys.stderr)
        return 2
    index = RowIndex(rows)
    env = index.env()
    print(f"{path}\nmachine {env.get('machine')}, cpu {env.get('cpu')}, "
          f"numba {env.get('numba', '?')}, torch {env.get('torch', '?')}, "
          f"numpy {env.get('numpy', '?')}, threads torch {env.get('torch_threads', '?')} / "
          f"numba {env.get('numba_threads', '?')}, device {args.device}\n")
    for title, (header, body) in (
        ("Sum of 10M float32", sum_table(index, args.device)),
        ("Row vs column sums (rows faster by = time(cols) / time(rows))",
         axis_table(index, args.device)),
        ("GELU", gelu_table(index, args.device)),
    ):
        print(("### " if args.markdown else "") + title)
        print(render(header, body, args.markdown) if body else "(no results)")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
