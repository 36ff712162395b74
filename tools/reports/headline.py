"""The seed notebook's headline tables, rebuilt from stored asv results.

    python -m tools report headline [--results results] [--machine NAME] [--markdown]
    python -m tools report headline --numba 0.66.0 --torch 2.13.0   # one release of the matrix
    python -m tools report headline --machine NAME --write   # report/machines/NAME/headline.md

Prints, from the newest result file of a machine (of the given releases, if any): the
10M-element sum per implementation, the seed's "rows faster by" ratio (time of the column sum /
time of the row sum) for every shape, layout and library, and GELU eager vs compiled vs
functional. The seed's own figures stand beside them for comparison.
"""
import os
import sys

from benchmarks import seed

from .. import command_parser, run_main
from ..results.atomic import write_text_atomic
from ..results.config import machine_report_dir
from ..results.releases import add_selection_args, selected_rows
from ..results.rows import RowIndex
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
    parser = command_parser(__doc__)
    add_selection_args(parser)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--markdown", action="store_true", help="markdown tables")
    parser.add_argument("--write", action="store_true",
                        help="write the markdown to report/machines/MACHINE/headline.md")
    args = parser.parse_args(argv)
    path, rows = selected_rows(args)
    text = headline(path, RowIndex(rows), args.device, args.markdown or args.write)
    if not args.write:
        print(text)
        return 0
    machine = RowIndex(rows).env().get("machine") or args.machine
    out = os.path.join(machine_report_dir(machine), "headline.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_text_atomic(out, f"# Headline tables on {machine}\n\n{text}")
    print(f"wrote {os.path.relpath(out)}")
    return 0


def headline(path, index, device, markdown):
    env = index.env()
    out = [f"{os.path.relpath(path)}: machine {env.get('machine')}, cpu "
           f"{env.get('cpu_model') or env.get('cpu')}, numba {env.get('numba', '?')}, torch "
           f"{env.get('torch', '?')}, numpy {env.get('numpy', '?')}, threads torch "
           f"{env.get('torch_threads', '?')} / numba {env.get('numba_threads', '?')}, "
           f"device {device}", ""]
    for title, (header, body) in (
        ("Sum of 10M float32", sum_table(index, device)),
        ("Row vs column sums (rows faster by = time(cols) / time(rows))",
         axis_table(index, device)),
        ("GELU", gelu_table(index, device)),
    ):
        out += [("### " if markdown else "") + title, "",
                render(header, body, markdown) if body else "(no results)", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.reports.headline"))
