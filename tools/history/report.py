"""The history report: its verdicts, the canary and the power beside them, the pictures.

    python -m tools history report numba        # report/machines/MACHINE/history-numba.md
    python -m tools history report torch --print

Judged by tools/history/steps.py; written with the step map and the plots of the confirmed
steps (tools/history/pictures.py), and the history's asv result files (the dashboard's
points, judged as the report judges them).
"""
import json
import math
import os
import statistics
import sys

from benchmarks.cases import from_label

from .. import REPO_ROOT, add_machine, command_parser, run_main
from ..reports.tables import fmt_time, render
from ..reports.verdicts import GATE, detectable_text, probe_text
from ..results.atomic import write_text_atomic
from ..run.state_witness import SLOW_FACTOR, is_slow
from .asv_results import write_asv_results
from .passes import MIN_STATE_ROUNDS, witness_readings
from .pictures import cell_text, confirmed_plots, step_map, version
from .steps import (INJECTED, LEVEL_WINDOW, HistoryData, confirmed_steps,
                    state_unknown, verdict_text)

REPORT_DIR = os.path.join(REPO_ROOT, "report")


def md_table(header, rows):
    return render(header, rows, True).split("\n")


def short(label):
    return from_label(label).short


def _installed_rows(data):
    rows = []
    for tag in data.tags:
        info = data.installed(tag)
        packages = info.get("packages", {})
        interp = info.get("interpreter", {})
        rows.append([tag, packages.get("numpy", "?"), packages.get("numba", "?"),
                     packages.get("llvmlite", "?"), interp.get("torch", "?"),
                     f"{interp.get('torch_threads', '?')}/{interp.get('numba_threads', '?')}",
                     f"{info.get('install_seconds', '?')} s",
                     f"{info.get('shared_bytes', 0) / 2**30:.2f} GiB"])
    return rows


def _cost_lines(data):
    rounds = data.rounds
    total = sum(r["seconds"] for r in rounds)
    per = [r["seconds"] for r in rounds]
    envs = data.progress.get("environments", {})
    return [f"- {len(rounds)} rounds x {len(data.tags) + 1} environments x "
            f"{len(data.labels)} cases took {total / 60:.1f} min (a round "
            f"{min(per) / 60:.1f}-{max(per) / 60:.1f} min); nothing was installed during the "
            f"rounds. Finding or building the environments took {envs.get('seconds', 0):.0f} s "
            "in this run (first builds and their downloads: see docs/releases.md)."]


def power_lines(data, steps=None):
    n = len(data.rounds)
    lines = ["## The A/A canary and what the rounds can detect", "",
             f"{data.twin} was built twice (two environments, {data.twin} and {data.canary}) "
             f"and measured as two releases in every round. Its pair, judged exactly as the "
             "steps below:", ""]
    rows = []
    choices = sorted({k for k in (3, 4, 6, 8, 12, 16) if k <= n} | {n})
    for k in choices:
        flagged, seen = data.canary_power(set(range(1, k + 1)))
        rows.append([f"first {k}" if k < n else f"all {n}", str(len(flagged)),
                     *[f"{seen[f] * 100:.0f} %" for f in INJECTED]])
    lines += md_table(["rounds", "A/A cases flagged", *[f"+{(f - 1) * 100:.0f} % seen"
                                                         for f in INJECTED]], rows)
    own = sum(not c for c in data.controls.values())
    lines += ["", f"(+x % seen: that slowdown added to one case of the canary's pair at a time, "
              f"the other cases as measured, judged with BH (the {own} {data.history.library} "
              f"cases and the {len(data.labels) - own} controls are two families) and the "
              f"{GATE}x gate; over all {len(data.labels)} cases.) Each step's table gives each "
              "case's minimum detectable change: 80 % power at the threshold its verdict uses "
              "(BH's for one change among every step of its family), from the case's pooled "
              "spread and its degrees of freedom (tools/history/model.py).", ""]
    if steps is not None:
        seen = {f: data.injected_power(f, steps) for f in INJECTED}
        lines += ["A step injected into the history itself (every release from one on slowed "
                  "by the factor, in every round, one case at a time, at every step where that "
                  "case has no confirmed step), judged by the pair and the levels together, "
                  "among every other step of the history:", ""]
        lines += md_table(["cases", *[f"+{(f - 1) * 100:.0f} % confirmed" for f in INJECTED]],
                          [[f"{data.history.library}'s own", *[f"{seen[f]['own'] * 100:.0f} %"
                                                               for f in INJECTED]],
                           ["controls", *[f"{seen[f]['controls'] * 100:.0f} %"
                                          for f in INJECTED]],
                           ["all", *[f"{seen[f]['all'] * 100:.0f} %" for f in INJECTED]]]) + [""]
    lines += ["More rounds, extrapolated from each case's pooled spread (a noncentral t at the "
              "whole history's BH threshold for one change; the injected rows above check the "
              "model at the rounds measured):", ""]
    per_round = statistics.median(r["seconds"] for r in data.rounds) / 60
    rows = [[str(k), *[f"{data.expected_seen(k, f, c) * 100:.0f} %"
                       for c in (False, True) for f in (1.10, 1.05)], f"{k * per_round:.0f} min"]
            for k in (3, 4, 5, 6, 8, 10, 12, 16, 24)]
    lines += md_table(["rounds", "own +10 %", "own +5 %", "controls +10 %", "controls +5 %",
                       f"time at {per_round:.1f} min a round"], rows) + [""]
    return lines


def build_report(name, machine, results_dir=None, data=None, steps=None):
    """The report's markdown; `data` and `steps` when the caller already has them."""
    data = data or HistoryData(name, machine, results_dir)
    history = data.history
    steps = steps if steps is not None else data.steps()
    info = next((data.installed(t) for t in data.tags if data.installed(t)), {})
    interp = info.get("interpreter", {})
    fixed = ", ".join(f"{lib} {v}" for lib, v in sorted(history.fixed.items()))
    n = len(data.rounds)
    out = [f"# The {name} history on {machine}", "",
           f"{len(data.tags)} {history.library} releases ({data.tags[0]} … {data.tags[-1]}), "
           f"{fixed} held fixed; machine {machine}: {interp.get('cpu_model', '?')}, "
           f"{interp.get('cpu_isa', '?')}, {interp.get('cpu_affinity', '?')} cores, caches "
           f"{interp.get('cpu_caches', '?')}. Subset `{data.progress['subset']}` "
           f"({len(data.labels)} cases), {n} rounds; in every round each release ran in its "
           "own fresh worker and every case was timed in all releases back to back, in an "
           "order rotated from case to case and round to round. Made by "
           f"`python -m tools history {name}` and `python -m tools history report {name}`.", ""]
    out += [f"![Every step of every case: colour the paired ratio, framed where confirmed, "
            f"hatched where not measured](history-{name}-steps.svg)", ""]
    out += power_lines(data, steps)
    confirmed = confirmed_steps(data, steps)
    own = [c for c in confirmed if not c["control"]]
    out += ["## Confirmed steps", "",
            f"A case's step is confirmed when its adjacent pair is flagged (q < 0.05 after "
            f"Benjamini-Hochberg over every step of the history's {history.library} cases, the "
            f"controls apart; on each case's spread pooled over all releases and rounds; beyond "
            f"{GATE}x), or "
            f"when the levels around it (up to {LEVEL_WINDOW} releases each side) are flagged "
            "in the direction the pair points. Controls (cases that do not run "
            f"{history.library}) are listed apart: they move with what the release does to the "
            "process, not with its kernels.", ""]
    for title, chosen in ((f"{history.library} cases", own),
                          ("controls", [c for c in confirmed if c["control"]])):
        rows = [[short(c["label"]), _step_name(c),
                 verdict_text(c), _interval(c), f"{c['q']:.2g}", c["test"],
                 detectable_text(c["detectable"]), probe_text(c["probe"]),
                 c["instructions"] or "not counted"]
                for c in chosen]
        out += [f"### {title}: {len(chosen)}", ""]
        if rows:
            out += md_table(["case", "step", "verdict", "ratio [95 % CI]", "q", "by",
                             "detectable", "bare probe", "instructions"], rows)
        out += [""]
    if confirmed:
        out += [f"![Each confirmed step: the case's time at every release, 95 % intervals, "
                f"the step's two releases coloured](history-{name}-confirmed.svg)", ""]
    probed = [c for c in confirmed if c["probe"] is not None]
    agreed = [c for c in probed if c["probe"]["agrees"]]
    out += ["The bare probe (`python -m tools history probe "
            f"{name}`): each confirmed step's case timed again in both releases in fresh "
            "processes that import only numpy and the library (tools/run/bare_case.py), paired "
            "by round. A step is a release's when the probe points the same way and its "
            "interval overlaps; otherwise it is the harness's (\"harness only\"). "
            f"Of {len(confirmed)} confirmed steps, {len(probed)} were probed and "
            f"{len(agreed)} confirmed by the probe"
            + (f"; {len(probed) - len(agreed)} are harness only." if probed else ".")
            + (f" {len(confirmed) - len(probed)} have no bare form or were not probed yet."
               if len(confirmed) > len(probed) else ""), ""]
    out += state_lines(data, confirmed)
    out += ["## Every step", ""]
    rows = []
    for step in steps:
        flags = [lab for lab in data.labels if step.confirmed(lab) and not data.controls[lab]]
        ctl = [lab for lab in data.labels if step.confirmed(lab) and data.controls[lab]]
        mdc = [r.detectable for r in step.pair.values() if not math.isnan(r.detectable)]
        rows.append([f"{version(step.before)} → {version(step.after)}", str(len(flags)),
                     str(len(ctl)),
                     f"{step.drift.geomean:.3f}x ({step.drift.spread[0]:.3f}-"
                     f"{step.drift.spread[1]:.3f})",
                     f"+{(statistics.median(mdc) - 1) * 100:.1f} %" if mdc else "n/a",
                     f"{sum(m <= 1.10 for m in mdc)}/{len(mdc)}"])
    out += md_table(["step", f"{history.library} cases confirmed", "controls confirmed",
                     "controls: geomean (5-95 %)", "median detectable",
                     "cases detecting +10 %"], rows) + [""]
    out += ["## Time per release (median of the round medians) and each step's ratio", "",
            "Each cell: the time, then the ratio to the release before (▲ slower, ▼ faster: "
            "confirmed; · not confirmed), its 95 % interval and the minimum detectable change "
            "(±, 80 % power).",
            ""]
    values = {tag: data.value(tag) for tag in data.tags}
    rows = []
    for label in data.labels:
        cells = []
        for i, tag in enumerate(data.tags):
            v = values[tag].get(label)
            why = None if v else data.skip_reason(tag, label)
            text = fmt_time(v) if v else "n/a" + (f" ({cell_text(why)})" if why else "")
            if i and v and not math.isnan(steps[i - 1].pair[label].ratio):
                r = steps[i - 1].pair[label]
                how = steps[i - 1].confirmed(label)
                mark = ("▲" if r.ratio > 1 else "▼") if how else "·"
                ci = f" [{r.low:.2f}, {r.high:.2f}]" if not math.isnan(r.low) else ""
                since = f" since {version(r.since)}" if r.since else ""
                mdc = detectable_text(r.detectable, "±", "%")
                text += f" {mark}{r.ratio:.2f}{ci} {mdc}{since}"
            cells.append(text)
        rows.append([short(label) + (" (control)" if data.controls[label] else ""), *cells])
    out += md_table(["case", *[version(t) for t in data.tags]], rows) + [""]
    out += ["## What each point installed", "",
            *md_table(["release", "numpy", "numba", "llvmlite", "torch", "threads torch/numba",
                       "install", "shared on disk"], _installed_rows(data)),
            "", "## Cost of this run", "", *_cost_lines(data), ""]
    return "\n".join(out)


def state_lines(data, confirmed):
    """The state of each witnessed case's passes (compiled GELU on CPU) by release, what was
    set aside, and the bare probe's processes of each confirmed step of those cases."""
    witness = data.witness()
    if not witness:
        unread = [c for c in confirmed if state_unknown(c)]
        if not data.state_unread:
            return []
        return ["## The state of the compiled cases", "",
                "Compiled GELU has two levels on AVX-512 machines: a state that slows the "
                "calls into libtorch's Sleef exp 3-10x, not chosen by the release; what sets "
                "it is not known (report/mechanisms.md, section 7). These rounds are "
                "from before the workers read it, so the compiled cases' values mix the two "
                "states unseen" + (f", and their {len(unread)} confirmed steps (marked "
                                   "\"Sleef state unknown\") may be the state, not the "
                                   "release. " if unread else " (no step of theirs is "
                                   "confirmed). ")
                + f"{MIN_STATE_ROUNDS} more rounds (`python -m tools history "
                f"{data.history.name} --rounds {len(data.rounds) + MIN_STATE_ROUNDS} --machine "
                f"{data.machine}`) read it and judge these cases on those rounds alone.", ""]
    fast = data.fast
    readings = witness_readings(data.rounds)
    seen = set().union(*data.state_rounds.values())
    slow = sum(is_slow(r, fast) for r in readings)
    lost = sum(1 for label, by_side in witness.items() for side, by_round in by_side.items()
               for n in by_round if n not in data.medians.get(side, {}).get(label, {}))
    out = ["## The state of the compiled cases", "",
           "Compiled GELU has two levels on AVX-512 machines: a state that slows the calls "
           "into libtorch's Sleef exp (and erf, which GELU's loop inlines) 3-10x, not chosen "
           "by the release; what sets it is not known (report/mechanisms.md, "
           "section 7). Every worker read it right after each timing of "
           "these cases: compiled exp over compiled polynomial (tools/run/state_witness.py), "
           f"slow where over {SLOW_FACTOR}x the fast level ({fast:.2f}). {slow} of "
           f"{len(readings)} passes read slow and are set aside: a round's value is the "
           f"mean of the fastest half of its fast passes, as many in every release ({lost} "
           "points had none and are missing). "
           + (f"These cases are judged on the {len(seen)} rounds that read the state only "
              "(rounds from before the witness mix the two states unseen). "
              if len(seen) >= MIN_STATE_ROUNDS else
              f"Only {len(seen)} rounds read the state ({MIN_STATE_ROUNDS} are needed to judge "
              "on them alone): these cases are judged on every round, and their confirmed "
              "steps rest partly on rounds whose state is unknown. ")
           + "Cells: passes read slow, of those read.", ""]
    rows = []
    for label in [lab for lab in data.labels if lab in witness]:
        by = witness[label]
        rows.append([short(label)] + [
            f"{sum(is_slow(r, fast) for rs in by[t].values() for r in rs)}/"
            f"{sum(len(rs) for rs in by[t].values())}" if t in by else "-"
            for t in data.tags])
    out += md_table(["case", *[version(t) for t in data.tags]], rows) + [""]
    bare = data.progress.get("probe", {}).get("witness", {})
    lines = []
    for c in confirmed:
        if c["label"] in bare:
            by = bare[c["label"]]
            states = [f"{version(t)} slow in {sum(is_slow(r, fast) for r in by[t].values())}"
                      f"/{len(by[t])}" for t in (c["before"], c["after"]) if t in by]
            if states:
                lines.append(f"- {short(c['label'])}, {_step_name(c)}: " + ", ".join(states))
    if lines:
        out += ["The bare probe's processes of these cases' confirmed steps, by state (a slow "
                "process is timed again, up to twice, and a round left slow is not paired):",
                "", *lines, ""]
    return out


def _step_name(c):
    """'2.8.0 → 2.11.0 (spans 2.9.1, 2.10.0)': a step across a gap names what it spans."""
    name = f"{version(c['before'])} → {version(c['after'])}"
    if c.get("spans"):
        name += f" (spans {', '.join(version(t) for t in c['spans'])})"
    return name


def _interval(c):
    if math.isnan(c["low"]):
        return f"{c['ratio']:.3f}x"
    return f"{c['ratio']:.3f}x [{c['low']:.3f}, {c['high']:.3f}]"



def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("history", help="numba or torch")
    add_machine(parser)
    parser.add_argument("--print", action="store_true", help="print instead of writing")
    args = parser.parse_args(argv)
    data = HistoryData(args.history, args.machine)
    steps = data.steps()
    text = build_report(args.history, data.machine, data=data, steps=steps)
    if args.print:
        print(text)
        return 0
    path = os.path.join(REPORT_DIR, "machines", args.machine,
                        f"history-{args.history}.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_text_atomic(path, text + "\n")
    write_text_atomic(path[:-len(".md")] + "-steps.svg", step_map(data, steps) + "\n")
    plots = confirmed_plots(data, confirmed_steps(data, steps))
    if plots:
        write_text_atomic(path[:-len(".md")] + "-confirmed.svg", plots + "\n")
    with open(os.path.join(data.results_dir, "benchmarks.json")) as f:
        benchmarks = json.load(f)  # the dashboard's points, judged as the report judges them
    write_asv_results(data.history, data.progress, data.results_dir, args.machine, benchmarks)
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}, its pictures and the history's asv "
          f"results")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.history.report"))
