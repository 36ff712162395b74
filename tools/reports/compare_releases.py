"""Compare two releases of one library from one interleaved session of paired rounds.

    python -m tools compare numba 0.67.0 0.68.1
    python -m tools compare numba 0.67.0 0.68.1 --only-changed --bench Sum
    python -m tools compare torch 2.13.0 2.14.1 --markdown report/releases/MACHINE/t.md
    python -m tools compare numba 0.67.0 0.68.1 --fail-on-regression  # exit 1

Reads the newest session that `python -m tools pair` stored for the pair (or the
one --session names): every round of it, and nothing else, so no comparison mixes runs of
two sessions. Each case is printed as the geometric mean of its per-round ratios B/A with its
95 % confidence interval, `1.12x [1.07, 1.18]`, and a verdict (tools/reports/verdicts.py):
REGRESSION / improvement when significant after false-discovery-rate control over all cases
and beyond the gate, "no test" where fewer than 3 rounds measured it. Control cases (which do
not run the library compared) measure the machine's drift; the summary says when they moved
so much that the run cannot be trusted.
"""
import math
import os
import re
import sys

from benchmarks.cases import from_label
from benchmarks.instructions import counted_cases

from .. import REPO_ROOT, ToolError, add_bench, command_parser, run_main
from ..results.atomic import write_text_atomic
from ..results.sessions import find_sessions, load_instructions, load_session
from .tables import render
from .verdicts import (COUNT_GATE, FDR, GATE, case_result, codegen_reading, count_change,
                       drift, judge, probe_text)

FLAGS = ("REGRESSION", "improvement")


def is_control(label, library):
    """A case that does not run `library`: it can only move with the machine. numpy is in
    every environment, so nothing is a control for it."""
    case = from_label(label)
    return library != "numpy" and case is not None and case.is_control(library)


def compare(session, bench=None, gate=GATE, fdr=FDR):
    medians = session.medians()
    pattern = re.compile(bench) if bench else None
    results = [case_result(case, by_round, is_control(case, session.library))
               for case, by_round in sorted(medians.items())
               if pattern is None or pattern.search(case)]
    if not results:
        raise ToolError(f"no case matches --bench {bench!r} in {session.path}")
    return judge(results, fdr=fdr, gate=gate)


def describe(session):
    a, b = session.versions("A"), session.versions("B")
    fixed = ", ".join(f"{name} {a[name]}" for name in ("numpy", "numba", "llvmlite", "torch")
                      if name != session.library and a.get(name) == b.get(name))
    return (f"{session.library} {a.get(session.library)} (A) vs {b.get(session.library)} (B); "
            f"{fixed}; machine {session.data['machine']}, cpu "
            f"{a.get('cpu_model', '?')}, threads torch {a.get('torch_threads', '?')} / "
            f"numba {a.get('numba_threads', '?')}; session {session.data['session']}, "
            f"{len(session.rounds)} rounds")


def summary_lines(results, report, gate, fdr):
    count = {v: sum(r.verdict == v for r in results) for v in (*FLAGS, "unchanged", "no test")}
    lines = [f"{len(results)} cases: {count['REGRESSION']} regressions, "
             f"{count['improvement']} improvements, {count['unchanged']} unchanged, "
             f"{count['no test']} without a test (fewer than 3 rounds). Flagged: q < {fdr} "
             f"(Benjamini-Hochberg) and beyond {gate}x either way."]
    if report.controls:
        lines.append(f"Controls (cases not running the library compared): {report.controls}, "
                     f"geometric mean {report.geomean:.3f}x, 5-95 % of ratios "
                     f"{report.spread[0]:.3f}-{report.spread[1]:.3f}x, {report.flagged} "
                     f"flagged: {report.why}.")
    else:
        lines.append(report.why + ".")
    return lines


def table(results, only_changed):
    shown = [r for r in results if r.verdict in FLAGS] if only_changed else results
    body = [[r.case + (" (control)" if r.control else ""), r.interval(),
             "n/a" if math.isnan(r.q) else f"{r.q:.2g}", str(r.rounds), r.verdict]
            for r in shown]
    return ["case", "B/A [95 % CI]", "q", "rounds", "verdict"], body


def probe_lines(session, results):
    """One line per flagged case: what the bare probe (tools/run/probe.py) read of it."""
    flagged = [r for r in results if r.verdict in FLAGS]
    if not flagged:
        return []
    if "probe" not in session.data:
        return [f"Bare probe: not run for this session ({len(flagged)} flagged; `python -m "
                f"tools pair` probes its flagged cases after the last round)."]
    probed = {s["label"]: s["probe"] for s in session.data["probe"]["steps"]}
    lines = [f"Bare probe (each flagged case timed again in both environments, in fresh "
             f"processes that import only numpy and the library; "
             f"{session.data['probe']['rounds']} rounds):"]
    for r in flagged:
        what = probe_text(probed[r.case]) if probed.get(r.case) else "no bare form"
        lines.append(f"- {r.case}: {r.interval()}; probe {what}")
    return lines


def timed_label(count_label, timed):
    """The session's label of the timed case that an instruction-count case counts, if the
    session timed it: 'Sum(10000, numba_loop)' -> 'Sum.time_sum(10000, numba_loop, cpu)'."""
    family, _, rest = count_label.partition("(")
    for label in timed:
        if label.startswith(f"{family}.time_") and label.endswith(f"({rest[:-1]}, cpu)"):
            return label
    return None


def count_controls(instructions, library):
    """{case: B/A count ratio} of the counted cases that do not run `library`."""
    cases = counted_cases()
    a, b = instructions["counts"]["A"], instructions["counts"]["B"]
    return {label: b[label] / a[label] for label in a if label in b and label in cases
            and cases[label].is_control(library)}


def count_gate(instructions, library):
    """The smallest count ratio (either way) called a code change in this pair: beyond
    COUNT_GATE and beyond every control. Controls run identical code in both environments,
    yet interpreter-heavy ones move by up to ~1 %: CPython's caches (the type attribute
    cache, dict layouts) depend on what else was imported, and that differs by release."""
    ratios = count_controls(instructions, library).values()
    return max([COUNT_GATE, *(max(r, 1 / r) for r in ratios)])


def count_table(instructions, results, library, bench=None):
    """Rows of instruction counts per call in A and B beside the time ratio of the same case
    (times: default threads; counts: one thread, so they match where the case is serial)."""
    by_case = {r.case: r for r in results}
    pattern = re.compile(bench) if bench else None
    a, b = instructions["counts"]["A"], instructions["counts"]["B"]
    controls = count_controls(instructions, library)
    gate = count_gate(instructions, library)
    body = []
    for label in a:
        if label not in b or (pattern and not pattern.search(label)):
            continue
        timed = by_case.get(timed_label(label, by_case))
        change = "same" if label in controls else count_change(a[label], b[label], gate)
        body.append([label + (" (control)" if label in controls else ""), f"{a[label]:,.0f}",
                     f"{b[label]:,.0f}", f"{b[label] / a[label]:.4f}",
                     timed.interval() if timed else "not timed",
                     codegen_reading(timed.verdict, change) if timed else
                     ("" if change == "same" else f"{change} instructions")])
    header = ["case", "instructions A", "instructions B", "B/A", "time B/A [95 % CI]",
              "reading"]
    return header, body


def count_lines(instructions, library):
    isa = instructions["isa"]["A"].get("numba", {}).get("pinned", "?")
    a, b = instructions["counts"]["A"], instructions["counts"]["B"]
    gate = count_gate(instructions, library)
    controls = count_controls(instructions, library)
    changed = [c for c in a if c in b and c not in controls
               and count_change(a[c], b[c], gate) != "same"]
    return [f"Instruction counts per call (python -m tools count; valgrind, one "
            f"thread, {isa}): {len(changed)} of {len(a) - len(controls)} cases that run "
            f"{library} changed beyond {100 * (gate - 1):.2f} %, the largest change among "
            f"the {len(controls)} controls (at least {100 * (COUNT_GATE - 1):.1f} %)."]


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("library", help="numba or torch")
    parser.add_argument("old", help="the reference release (A), e.g. 0.67.0")
    parser.add_argument("new", help="the release compared with it (B), e.g. 0.68.1")
    parser.add_argument("--rounds-dir", default=os.path.join(REPO_ROOT, "rounds"),
                        help="where sessions are stored (default: rounds/)")
    parser.add_argument("--session", help="this session file instead of the newest")
    parser.add_argument("--machine", help="only this machine's sessions")
    add_bench(parser, "the cases, e.g. 'Sum.*numba'")
    parser.add_argument("--gate", type=float, default=GATE,
                        help=f"smallest ratio either way that is flagged (default {GATE})")
    parser.add_argument("--only-changed", action="store_true", help="list flagged cases only")
    parser.add_argument("--markdown", metavar="FILE", help="also write a markdown report")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit with status 1 when any regression is flagged")
    args = parser.parse_args(argv)
    if args.gate <= 1:
        raise ToolError("--gate must be above 1 (e.g. 1.05 for 5 %)")
    path = args.session or find_sessions(args.rounds_dir, args.library, args.old,
                                         args.new, args.machine)[0]
    session = load_session(path)
    if (session.library, session.release("A"), session.release("B")) != \
            (args.library, args.old, args.new):
        raise ToolError(f"{path} compares {session.library} {session.release('A')} "
                           f"and {session.release('B')}, not {args.library} {args.old} "
                           f"and {args.new}")
    results = compare(session, args.bench, args.gate)
    instructions = load_instructions(session)
    report = drift(results, args.gate)
    title = describe(session)
    lines = summary_lines(results, report, args.gate, FDR)
    header, body = table(results, args.only_changed)
    print(f"== {title}")
    print("\n".join(lines))
    if not report.trustworthy:
        print("UNTRUSTWORTHY RUN: " + report.why)
    print(render(header, body, markdown=False) if body else "(nothing flagged)")
    probed = probe_lines(session, results)
    if probed:
        print("\n".join(probed))
    counts = count_table(instructions, results, args.library, args.bench) \
        if instructions else None
    if counts:
        print("\n".join(count_lines(instructions, args.library)))
        print(render(*counts, markdown=False))
    if args.markdown:
        md = [f"# {args.library} {args.old} vs {args.new} on {session.data['machine']}", "",
              title, "",
              *(f"{line}\n" for line in lines),
              *([f"**Untrustworthy run: {report.why}.**", ""] if not report.trustworthy
                else []),
              f"Measured by `python -m tools pair {args.library} {args.old} "
              f"{args.new}`: {len(session.rounds)} rounds, each with a fresh worker process "
              "per environment; every case timed by both sides back to back, A or B first in "
              "turn; the unit is each round's median. "
              f"Session file: `{os.path.relpath(path, REPO_ROOT)}`.", "",
              render(header, body, markdown=True) if body else "(nothing flagged)",
              *(["", *probed] if probed else [])]
        if counts:
            md += ["", "## Instruction counts", "", *count_lines(instructions, args.library), "",
                   "A count that moves with the time is a change of the code that ran; a time "
                   "that moves without its count is not code generation. Times ran at the "
                   "default threads, counts at one thread: they describe the same work for "
                   "the serial cases.", "", render(*counts, markdown=True)]
        mechanisms = os.path.join(REPO_ROOT, "report", "mechanisms.md")
        if any(r.verdict in ("REGRESSION", "improvement") for r in results) and \
                os.path.exists(mechanisms):
            link = os.path.relpath(mechanisms, os.path.dirname(os.path.abspath(args.markdown)))
            md += ["", "## Why", "", "Where an experiment decided why a flagged step happened "
                   "(the code, the machine, the harness), it is in "
                   f"[mechanisms]({link.replace(os.sep, '/')})."]
        write_text_atomic(args.markdown, "\n".join(md) + "\n")
        print(f"wrote {args.markdown}")
    regressions = [r for r in results if r.verdict == "REGRESSION" and not r.control]
    if args.fail_on_regression and regressions:
        print(f"compare_releases: {len(regressions)} regressions", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.reports.compare_releases"))
