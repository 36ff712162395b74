"""Narrow a confirmed step: which version between two releases introduced it.

    python -m tools history narrow numba 0.66.0 0.67.0 "Sum.time_sum(10000000, numba_np_sum, cpu)"
    python -m tools history narrow torch 2.7.1 2.8.0 "Sum.time_sum(1000000, torch_from_numpy, cpu)"

Every version the package index has between A and B (release candidates, betas, patch
releases; with a CPython 3.11 x86-64 wheel) gets its own kept environment beside A and B, with
what the library's history holds fixed (history/releases.json), and all are measured by the
histories' protocol (tools/run/interleave.py: fresh workers each round, the case timed in every
version back to back, rotated order) on the case and two controls. Each consecutive pair is
judged by tools/reports/verdicts.py; the step is placed at the first confirmed pair in its
direction. Writes report/narrow-LIB-A-B.md and the rounds beside it (JSON).
"""
import math
import os
import sys

from packaging.version import InvalidVersion, Version

from benchmarks.cases import all_cases, from_label

from .. import REPO_ROOT, ToolError, add_rounds, command_parser, run_main, say
from ..reports.verdicts import judge_families, result_of_logs
from ..results.atomic import write_json_atomic, write_text_atomic
from ..run.interleave import case_requests, measure_round, round_logs
from ..run.environments import ENV_ROOT, build_env, env_python
from .releases import index_releases, installable, load_histories

def versions_between(library, a, b, index=None):
    """Versions strictly between a and b with a cp311 x86-64 wheel, oldest first."""
    lo, hi = Version(a), Version(b)
    return [str(v) for v, _ in installable(index or index_releases(library)) if lo < v < hi]


def controls(library, case):
    """Two cases that do not run the library, of the same family where there is one."""
    chosen = [c for c in all_cases() if c.cls == case.cls and c.is_control(library)
              and c.values.get("device") == "cpu" and c.size == case.size and c != case]
    return chosen[:2]


def narrow(library, a, b, label, rounds, say=print):
    history = next((h for h in load_histories().values() if h.library == library), None)
    if history is None:
        raise ToolError(f"no history varies {library!r} (history/releases.json)")
    case = from_label(label)
    if case is None:
        raise ToolError(f"unknown case {label!r}: write it as the reports do, e.g. "
                               "'Sum.time_sum(10000000, numba_np_sum, cpu)'")
    between = versions_between(library, a, b)
    versions = [a, *between, b]
    say(f"{library} {a} -> {b}: {len(between)} version(s) between ({', '.join(between) or 'none'})")
    if not between:
        return versions, None
    pythons = {}
    for v in versions:
        pins = {name: f"=={ver}" for name, ver in history.fixed.items()}
        pins[library] = f"==={v}"
        env_dir = os.path.join(ENV_ROOT, "narrow", library, v)
        build_env(env_dir, [f"{n}{p}" for n, p in sorted(pins.items())], history.pip_config,
                  say)
        pythons[v] = env_python(env_dir)
    chosen = [case, *controls(library, case)]
    work = case_requests(chosen)
    measured = []
    for number in range(1, rounds + 1):
        rnd = measure_round(number, pythons, work)
        measured.append(rnd)
        say(f"round {number}/{rounds} in {rnd['seconds']:.0f} s")
    return versions, {"library": library, "case": label, "versions": versions,
                      "cases": [c.label for c in chosen], "measured": measured}


def judge_steps(data):
    """[(version before, version after, {label: CaseResult})] of every consecutive pair."""
    out = []
    for va, vb in zip(data["versions"], data["versions"][1:]):
        results = []
        for label in data["cases"]:
            d = round_logs(data["measured"], va, vb, label)
            results.append(result_of_logs(label, d, label != data["case"]))
        judge_families(results)
        out.append((va, vb, {r.case: r for r in results}))
    return out


def render(data):
    steps = judge_steps(data)
    label = data["case"]
    found = next(((va, vb) for va, vb, res in steps
                  if res[label].verdict in ("REGRESSION", "improvement")), None)
    lines = [f"# Narrowing {data['library']} {data['versions'][0]} → {data['versions'][-1]}: "
             f"{label}", "",
             f"{len(data['measured'])} interleaved rounds over {len(data['versions'])} versions "
             f"({', '.join(data['versions'])}); controls: "
             f"{', '.join(c for c in data['cases'] if c != label)}.", "",
             "| pair | case | verdict | ratio [95 % CI] | q |", "|---|---|---|---|---|"]
    for va, vb, res in steps:
        for lab, r in res.items():
            q = "n/a" if math.isnan(r.q) else f"{r.q:.2g}"
            lines.append(f"| {va} → {vb} | {lab}{' (control)' if r.control else ''} | "
                         f"{r.verdict} | {r.interval()} | {q} |")
    lines += ["", f"**The step came with {found[1]}** (first confirmed pair: {found[0]} → "
              f"{found[1]})." if found else "**No single pair is confirmed**: the step, if "
              "any, is spread over the versions or below what these rounds detect.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("library", help="numba or torch")
    parser.add_argument("release_a")
    parser.add_argument("release_b")
    parser.add_argument("case", help="as the reports write it: "
                                     "'Sum.time_sum(10000000, numba_np_sum, cpu)'")
    add_rounds(parser, 8)
    args = parser.parse_args(argv)
    for v in (args.release_a, args.release_b):
        try:
            Version(v)
        except InvalidVersion as exc:
            raise ToolError(str(exc))
    versions, data = narrow(args.library, args.release_a, args.release_b, args.case,
                            args.rounds, say=say)
    if data is None:
        print(f"narrow: the index has no {args.library} version between {args.release_a} and "
              f"{args.release_b}: the step cannot be narrowed further by versions")
        return 0
    stem = f"narrow-{args.library}-{args.release_a}-{args.release_b}"
    write_json_atomic(os.path.join(REPO_ROOT, "report", "narrow", f"{stem}.json"), data)
    text = render(data)
    write_text_atomic(os.path.join(REPO_ROOT, "report", f"{stem}.md"), text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.history.narrow"))
