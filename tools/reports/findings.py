"""The findings report: each claim of the seed notebook, the ratio measured here, whether it
holds, and the mechanism, with the evidence the suite recorded (generated machine code,
kernel counts, bandwidth, threads, memory). Everything is computed from the results given.

    python -m tools report findings             # newest results -> report/machines/MACHINE/
    python -m tools report findings --numba 0.68.1 --torch 2.13.0 --out DIR
    python -m tools report findings --results DIR --machine NAME

Writes report/machines/MACHINE/findings.md and its PNG plots (each machine its own: a run on
a new machine never rewrites another's); tools/dashboard/publish.py renders report/ into the
dashboard (html/findings/) and lists every machine on its landing page. This module
renders; the parts are computed apart: claims.py (the seed's claims as data), bandwidth_report.py
(ceilings, likwid, residency), release_sections.py (stored paired sessions), plots.py. Nothing
is compiled or measured at report time.
"""
import math
import os
import sys

from benchmarks.impls import SUMS

from .. import REPO_ROOT, ToolError, command_parser, run_main
from ..results.atomic import write_text_atomic
from ..results.config import machine_report_dir
from ..results.releases import add_selection_args, selected_rows
from ..results.rows import RowIndex
from .bandwidth_report import (bandwidth_section, ceiling_of, ceiling_section, likwid_of,
                               residency_section)
from .claims import (claim_builtin, claim_gelu, claim_numba_loop, claim_numpy_neutral,
                     claim_sum_ranking, claim_torch_rows, verdict_word)
from .names import ACCURACY, AXIS_SUM, GELU, SUM, startup
from .plots import plots
from .release_sections import codegen_section, comparisons_section
from .tables import fmt_time, render


def sum_impls_section(r):
    """Every registered sum implementation at 10M, fastest first (unmeasured ones last)."""
    size = 10_000_000
    times = {name: r.get(SUM, size, name, "cpu") for name in SUMS}
    order = sorted(SUMS, key=lambda name: times[name] or math.inf)
    body = [[f"`{name}`", fmt_time(times[name]), ", ".join(SUMS[name].libraries),
             SUMS[name].accumulation, SUMS[name].seed_name or "-"] for name in order]
    return render(["impl", "time (10M, cpu)", "library", "accumulation", "seed name"], body,
                  markdown=True)


def compile_section(r):
    names = [("import_numba", "`import numba`"), ("import_torch", "`import torch`"),
             ("numba_first_call", "numba `@njit`, first call"),
             ("numba_cache_warm", "numba `cache=True`, warm cache"),
             ("torch_compile_cold", "`torch.compile` GELU, empty inductor cache"),
             ("torch_compile_warm", "`torch.compile` GELU, warm inductor cache")]
    body = [[label, fmt_time(r.get(startup(key)))] for key, label in names
            if r.get(startup(key)) is not None]
    return render(["what (fresh process)", "time"], body, markdown=True) if body else None


def accuracy_section(r):
    table = r.table(ACCURACY)
    if not table:
        return None
    impls = sorted({k[1] for k in table})
    body = [[impl] + [f"{table.get((d, impl), float('nan')):.1e}" for d in ("uniform", "all_0.1")]
            for impl in impls]
    return render(["impl", "uniform [0,1)", "every element 0.1"], body, markdown=True)


# ------------------------------------------------------------------------------------------
# Plots


def mechanisms_section(report_root, prefix):
    """A pointer to report/mechanisms.md, the experiments behind the questions the numbers of
    every machine raised; None where that report is absent (the tests' throw-away reports)."""
    if not os.path.exists(os.path.join(report_root, "mechanisms.md")):
        return None
    return ("Five questions our own numbers raised are answered, each by the experiment that "
            "decided it (command, figures, A/A spread), in "
            f"[mechanisms]({prefix}mechanisms.md): numba 0.67.0's `np.sum` step at 10M on one "
            "machine only, the torch 2.8.0 step of the old history, torch slowing code that "
            "does not use it, the read ceiling above likwid-bench, and warm-up that never "
            "settled.")


def build(rows, out_dir, rounds_dir=None, likwid=None, report_root=None, ceiling=None):
    """Write findings.md (+ PNGs) into out_dir from `rows`; return the markdown text.
    `likwid`: the likwid-bench anchor of the same run (tools/run/likwid_anchor.py), if any.
    `report_root`: where the shared reports are (calibration, release pairs; default out_dir)."""
    r = RowIndex(rows)
    os.makedirs(out_dir, exist_ok=True)
    env = r.env()
    claims = [claim_sum_ranking(r), claim_numba_loop(r), claim_torch_rows(r),
              claim_numpy_neutral(r), claim_gelu(r), claim_builtin(r)]
    md = [f"# Findings on {env.get('machine', '?')}: the seed notebook's claims, measured", "",
          f"Machine {env.get('machine', '?')} ({env.get('cpu_model') or env.get('cpu', '?')}"
          + (f", {env['cpu_isa']}" if env.get("cpu_isa") else "") +
          f", {env.get('num_cpu', '?')} cores); numpy {env.get('numpy', '?')}, numba "
          f"{env.get('numba', '?')}, torch {env.get('torch', '?')}; threads: torch "
          f"{env.get('torch_threads', '?')}, numba {env.get('numba_threads', '?')}. "
          "Built by `python -m tools report findings` from stored asv results; every figure below "
          "comes from them.", "",
          "| # | seed claim | verdict here |", "|---|---|---|"]
    md += [f"| {i} | {c['claim']} | {verdict_word(c['holds'])} |" for i, c in enumerate(claims, 1)]
    for i, c in enumerate(claims, 1):
        md += ["", f"## {i}. {c['claim']}", "", f"**Verdict: {verdict_word(c['holds'])}.**", "",
               c["measured"], "", "**Why.** " + c["mechanism"]]
    machine = env.get("machine", "?")
    shared = comparisons_section(report_root or out_dir, out_dir, machine)
    up = os.path.relpath(report_root or out_dir, out_dir).replace(os.sep, "/")
    prefix = "" if up == "." else up + "/"
    for title, section in (("Release comparisons", shared),
                           ("What our own numbers raised", mechanisms_section(
                               report_root or out_dir, prefix)),
                           ("Code generation or not", codegen_section(
                               rounds_dir or os.path.join(REPO_ROOT, "rounds"), prefix, machine)),
                           ("Every sum implementation", sum_impls_section(r)),
                           ("How close to the hardware", bandwidth_section(r, likwid)),
                           ("Why the suite's read ceiling is above likwid-bench's",
                            ceiling_section(ceiling)),
                           ("Cache or memory: the 10M sums", residency_section(r)),
                           ("What getting there costs", compile_section(r)),
                           ("Accuracy (relative error vs math.fsum, 10M elements)",
                            accuracy_section(r))):
        if section:
            md += ["", f"## {title}", "", section]
    made = plots(r, out_dir)
    if made:
        md += ["", "## Plots", ""]
        md += [f"### {title}\n\n![{title}]({name})\n" for name, title in made.items()]
    text = "\n".join(md) + "\n"
    write_text_atomic(os.path.join(out_dir, "findings.md"), text)
    return text


# The families every claim of the report rests on: without one of them the report would be
# partial, and it must never replace a complete one.
REQUIRED = (SUM, AXIS_SUM, GELU)


def check_complete(rows, path):
    measured = {r.benchmark for r in rows if r.value == r.value}
    missing = [name for name in REQUIRED
               if not any(b == name or b.endswith("." + name) for b in measured)]
    if missing:
        raise ToolError(f"{os.path.relpath(path)} has no values for {', '.join(missing)} "
                           "(a partial run?): the report is left as it was")


def main(argv=None):
    parser = command_parser(__doc__)
    add_selection_args(parser)
    parser.add_argument("--out", help="output folder (default: report/machines/MACHINE/)")
    args = parser.parse_args(argv)
    path, rows = selected_rows(args)
    check_complete(rows, path)
    machine = RowIndex(rows).env().get("machine") or args.machine
    out = args.out or machine_report_dir(machine)
    # Stored results only: nothing is compiled or measured at report time.
    build(rows, out, likwid=likwid_of(path, rows), report_root=os.path.join(REPO_ROOT, "report"),
          ceiling=ceiling_of(path))
    args.out = out
    print(f"wrote {os.path.join(args.out, 'findings.md')} from {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.reports.findings"))
