"""Calibrate the release comparison: its false-alarm rate and what it can detect, measured.

    python -m tools check calibrate                      # 3 sessions x 8 rounds, numba 0.68.1
    python -m tools check calibrate --sessions 3 --rounds 12 --families Sum
    python -m tools check calibrate --report-only        # re-read the stored sessions

Each session is a full `measure_pair` run of one release against itself in two separately
built environments (A/A). Within it the cases of B are split in three by a fixed hash: one
third untouched, one third slowed by 5 %, one by 10 % (real extra work inside the timed call,
benchmarks/slowdown.py; both environments wear the same wrapper, so only the extra work
differs). The split rotates from session to session, so after three sessions every case has
been measured untouched once and slowed by each amount once. Each third is judged on its own
(false-discovery control within the third, as a comparison with no other change would be):
flags among the untouched are false alarms, flags among the slowed are detections.
Sessions are stored under rounds/<machine>/calibration-*; the summary goes to
report/calibration.md.
"""
import glob
import math
import os
import re
import sys
import zlib

import numpy as np
from scipy import stats

from tools import REPO_ROOT, ToolError, add_bench, add_machine, add_rounds, command_parser, run_main
from tools.reports.compare_releases import compare
from tools.reports.tables import render
from tools.reports.verdicts import FDR, GATE, judge
from tools.results.pins import pins
from tools.results.atomic import write_text_atomic
from tools.results.sessions import Session, load_session
from tools.run.measure_pair import FAMILIES, measure_pair, select_cases, subset

TREATMENTS = (0.0, 0.05, 0.10)
LIBRARY, RELEASE = "numba", pins()["numba"]  # the pinned numba against itself
OLD_THRESHOLD = 1.1  # the former method: asv's Mann-Whitney on one run each, beyond 1.1x


def treatment(case, session_index):
    return TREATMENTS[(zlib.crc32(case.encode()) + session_index) % len(TREATMENTS)]


def injection(cases, session_index):
    """What benchmarks/base.py slows down: every case wrapped on both sides, a third of B's
    slowed by 5 % and a third by 10 %."""
    return {"A": {name: 0.0 for name in cases.values()},
            "B": {name: treatment(case, session_index) for case, name in cases.items()}}


def evaluate(session):
    """Per treatment: the judged results of that third of the cases alone."""
    results = compare(session)  # verdicts over all cases, replaced per third below
    injected = session.data["inject"]["B"]
    by_case = {r.case: r for r in results}
    groups = {}
    for case, result in by_case.items():
        name = re.sub(r"^(\w+)\.\w+\(", r"\1(", case)
        groups.setdefault(injected.get(name, 0.0), []).append(result)
    return {fraction: judge(group) for fraction, group in groups.items()}


def old_method_flag(session, case):
    """The former verdict on the same data: round 1's samples, asv's Mann-Whitney test."""
    from asv import _stats

    rnd = session.rounds[0]["values"]
    a, b = rnd["A"].get(case), rnd["B"].get(case)
    if not a or not b or len(a["samples"]) < 2 or len(b["samples"]) < 2:
        return None
    ratio = b["median"] / a["median"]
    different = _stats.is_different(a["samples"], b["samples"], None, None)
    return bool(different and (ratio > OLD_THRESHOLD or ratio < 1 / OLD_THRESHOLD))


def family(case):
    return case.split(".", 1)[0]


def mde(results, rounds, power=0.8):
    """Minimum detectable slowdown (as a ratio) of one case at `power`, from the spread of
    its per-round log ratios: (t_{1-a/2} + t_{power}) * sd / sqrt(n). (The gate, 1.03x, is a
    floor on top of it: nothing smaller is flagged.)"""
    out = []
    for r in results:
        if math.isnan(r.low) or r.rounds < 3:
            continue
        df = r.rounds - 1
        half = math.log(r.high) - math.log(r.ratio)
        se = half / stats.t.ppf(0.975, df)
        out.append(math.exp((stats.t.ppf(0.975, df) + stats.t.ppf(power, df)) * se))
    return out


def truncated(session, rounds):
    """The session as if it had stopped after `rounds` rounds."""
    return Session(session.path, {**session.data, "measured": session.rounds[:rounds]})


def tradeoff(sessions):
    """What more rounds buy: flags and detections from the first N rounds of each session."""
    body = []
    longest = min(len(s.rounds) for s in sessions)
    for n in sorted({4, 8, 12, longest} - {0}):
        if n > longest:
            continue
        flags = nulls = 0
        hits = {0.05: [0, 0], 0.10: [0, 0]}
        seconds = []
        for session in sessions:
            cut = truncated(session, n)
            seconds.append(sum(r.get("seconds", 0) for r in cut.rounds))
            for fraction, group in evaluate(cut).items():
                if fraction == 0.0:
                    flags += sum(r.verdict in ("REGRESSION", "improvement") for r in group)
                    nulls += len(group)
                else:
                    hits[fraction][0] += sum(r.verdict == "REGRESSION" for r in group)
                    hits[fraction][1] += len(group)
        body.append([str(n), f"{np.mean(seconds) / 60:.1f} min", f"{flags} of {nulls}",
                     *(f"{100 * d / max(t, 1):.0f} % ({d} of {t})" for d, t in hits.values())])
    return render(["rounds", "time per session", "A/A flags", "+5 % detected",
                   "+10 % detected"], body, markdown=True)


def summarize(sessions):
    lines = []
    aa_rows, sens = [], {0.05: [0, 0], 0.10: [0, 0]}
    by_family = {}
    total_flags = total_cases = old_flags = old_cases = 0
    for i, session in enumerate(sessions, 1):
        groups = evaluate(session)
        null = groups.get(0.0, [])
        flags = [r for r in null if r.verdict in ("REGRESSION", "improvement")]
        ratios = [r.ratio for r in null if not math.isnan(r.ratio)]
        olds = [old_method_flag(session, r.case) for r in null]
        olds = [o for o in olds if o is not None]
        total_flags += len(flags)
        total_cases += len(null)
        old_flags += sum(olds)
        old_cases += len(olds)
        spread = np.percentile(ratios, [5, 95]) if ratios else (math.nan, math.nan)
        aa_rows.append([str(i), session.data["session"], str(len(session.rounds)),
                        str(len(null)), f"{len(flags)}" + (f" ({flags[0].case})" if flags else ""),
                        f"{spread[0]:.3f}-{spread[1]:.3f}",
                        f"{sum(olds)} of {len(olds)}"])
        for fraction in (0.05, 0.10):
            group = groups.get(fraction, [])
            sens[fraction][0] += sum(r.verdict == "REGRESSION" for r in group)
            sens[fraction][1] += len(group)
            for r in group:
                fam = by_family.setdefault(family(r.case), {0.05: [0, 0], 0.10: [0, 0],
                                                             "mde": []})
                fam[fraction][0] += r.verdict == "REGRESSION"
                fam[fraction][1] += 1
        for r in null:
            by_family.setdefault(family(r.case), {0.05: [0, 0], 0.10: [0, 0], "mde": []})
            by_family[family(r.case)]["mde"] += mde([r], len(session.rounds))
    lines += ["## A/A: one release against itself, two separately built environments", "",
              render(["session", "id", "rounds", "untouched cases", "flagged",
                      "ratio 5-95 %", f"former method flags (>{OLD_THRESHOLD}x, asv test)"],
                     aa_rows, markdown=True), "",
              f"In total {total_flags} of {total_cases} untouched cases flagged "
              f"({100 * total_flags / max(total_cases, 1):.1f} %); the former method (asv's "
              f"Mann-Whitney on one process per side, beyond {OLD_THRESHOLD}x) flagged "
              f"{old_flags} of {old_cases} ({100 * old_flags / max(old_cases, 1):.1f} %) "
              "of the same cases.", "",
              "## Sensitivity: a known slowdown injected into B", "",
              render(["injected", "detected", "rate"],
                     [[f"+{int(f * 100)} %", f"{d} of {n}", f"{100 * d / max(n, 1):.0f} %"]
                      for f, (d, n) in sens.items()], markdown=True), "",
              "## What the rounds buy", "",
              "The same sessions judged on their first N rounds only:", "",
              tradeoff(sessions), "",
              "## Per family", "",
              render(["family", "+5 % detected", "+10 % detected",
                      "minimum detectable slowdown (median case, 80 % power; the gate "
                      f"flags nothing below {(GATE - 1) * 100:.0f} %)"],
                     [[fam, f"{v[0.05][0]} of {v[0.05][1]}", f"{v[0.10][0]} of {v[0.10][1]}",
                       f"{(np.median(v['mde']) - 1) * 100:.1f} %" if v["mde"] else "n/a"]
                      for fam, v in sorted(by_family.items())], markdown=True)]
    return lines, total_flags, total_cases


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--sessions", type=int, default=3)
    add_rounds(parser, 8)
    parser.add_argument("--families", default=",".join(FAMILIES))
    add_bench(parser, "the cases further")
    add_machine(parser)
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "rounds"))
    parser.add_argument("--report", default=os.path.join(REPO_ROOT, "report", "calibration.md"))
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: summarize the stored calibration sessions")
    args = parser.parse_args(argv)
    library_dir = os.path.join(args.out, args.machine, f"calibration-{LIBRARY}-{RELEASE}")
    if not args.report_only:
        selection = subset(args.families.split(","), args.bench)
        cases = {label: name for label, _, name in select_cases(selection)}
        if not cases:
            raise ToolError("no case matches the selection")
        start = len(glob.glob(os.path.join(library_dir, "*.json")))
        for k in range(start, start + args.sessions):
            print(f"== calibration session {k + 1 - start}/{args.sessions}", flush=True)
            session = measure_pair(LIBRARY, RELEASE, RELEASE, args.rounds, selection,
                                   args.machine, args.out, inject=injection(cases, k),
                                   kind="calibration")
            target = os.path.join(library_dir, os.path.basename(session.path))
            os.makedirs(library_dir, exist_ok=True)
            os.replace(session.path, target)
    paths = sorted(glob.glob(os.path.join(library_dir, "*.json")))
    if not paths:
        raise ToolError(f"no calibration session under {library_dir}")
    sessions = [load_session(p) for p in paths]
    lines, flags, cases = summarize(sessions)
    env = sessions[0].versions("A")
    head = ["# Calibration of the release comparison", "",
            f"{LIBRARY} {RELEASE} against itself on machine {sessions[0].data['machine']} "
            f"({env.get('cpu_model', '?')}), {len(sessions)} sessions of "
            f"{len(sessions[0].rounds)} rounds; verdict: q < {FDR} after Benjamini-Hochberg "
            f"and beyond {GATE}x. Made by `python -m tools check calibrate`.", ""]
    text = "\n".join(head + lines) + "\n"
    print(text)
    write_text_atomic(args.report, text)
    print(f"wrote {os.path.relpath(args.report)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m checks.calibration"))
