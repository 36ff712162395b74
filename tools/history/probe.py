"""The bare-process probe: every confirmed step timed again outside the harness.

    python -m tools history probe torch            # the confirmed steps of the stored run
    python -m tools history probe torch --rounds 4

A step seen only by one harness is not a release's step. For every confirmed step of a
history whose case has a bare form (tools/run/bare_case.py: the seed's sums, row/column sums
and GELUs, written as a user writes them), both releases time the case in fresh processes of
their own kept environments that import only numpy and the library (nothing of the suite,
nothing timed before the case), by the pair protocol: in each round every release a case
needs runs once, in an order rotated from case to case and round to round, and each step
pairs its two releases by round (a t-interval on the log ratios, tools/reports/verdicts.py).
The step is published as confirmed when the probe points the same way and its interval
overlaps the harness's; otherwise the report lists it as "harness only" with both ratios.
The outcome is stored in rounds.json under "probe".
"""
import math
import os
import sys
import time

from benchmarks.cases import from_label

from .. import REPO_ROOT, add_machine, add_rounds, command_parser, run_main, say
from ..reports.verdicts import result_of_logs
from ..results.atomic import write_json_atomic
from ..run.interleave import WORKER_ENV, round_order, time_bare
from ..run.state_witness import is_slow
from .paths import ROUNDS_FILE
from .steps import HistoryData, confirmed_steps

DEFAULT_ROUNDS = 3
RETRIES = 2  # fresh processes after one read in the slow state of compiled GELU
BARE_SUMS = ("numba_loop", "numba_np_sum", "numpy_sum", "torch_from_numpy", "python_loop",
             "python_builtin")


def bare_request(case):
    """The bare_case.py request of a suite case, or None where it has no bare form."""
    v = case.values
    if v.get("device") != "cpu":
        return None
    if case.cls == "Sum" and v["impl"] in BARE_SUMS:
        return {"family": "Sum", "size": int(v["size"]), "impl": v["impl"]}
    if case.cls == "AxisSum" and v["layout"] == "C":
        return {"family": "AxisSum", "shape": v["shape"], "axis": v["axis"],
                "library": v["library"]}
    if case.cls == "Gelu" and v["mode"] in ("eager", "compiled") and v["malloc"] == "default":
        return {"family": "Gelu", "size": int(v["size"]), "mode": v["mode"],
                "witness": v["mode"] == "compiled"}
    return None


def measure(needs, pythons, rounds, say=print, witness=None, fast=None):
    """{label: {side: {round: median}}}: `needs` {label: [side, ...]} timed in fresh bare
    processes, rotated per case and round. `witness` ({} to fill) gets the same shape of the
    state read after each compiled case (tools/run/state_witness.py); with `fast` (the
    history's fast level), a process read slow is replaced by a fresh one, up to RETRIES
    times, as the history sets its slow passes aside."""
    values = {label: {side: {} for side in sides} for label, sides in needs.items()}
    for number in range(1, rounds + 1 if needs else 1):  # nothing to probe: no rounds
        t0 = time.monotonic()
        for i, (label, sides) in enumerate(needs.items()):
            request = bare_request(from_label(label))
            for side in round_order(sides, i, number):
                for _ in range(RETRIES + 1):
                    answer = time_bare(pythons[side], request)
                    if fast is None or not is_slow(answer.get("witness", 0), fast):
                        break
                values[label][side][str(number)] = answer["median"]
                if witness is not None and "witness" in answer:
                    witness.setdefault(label, {}).setdefault(side, {})[str(number)] = \
                        answer["witness"]
        say(f"probe round {number}/{rounds}: {len(needs)} cases in "
            f"{time.monotonic() - t0:.0f} s")
    return values


def agreement(harness, probe):
    """True when the probe's ratio points the harness's way and the intervals overlap."""
    if any(math.isnan(x) for x in (probe.ratio, probe.low, probe.high)):
        return False
    same_way = (probe.ratio > 1) == (harness["ratio"] > 1)
    overlap = probe.low <= harness["high"] and harness["low"] <= probe.high
    return same_way and overlap


def judge_steps(steps, values, witness=None, fast=None):
    """[dict] of each confirmed step with its probe ratio, interval and agreement; a round
    whose process of either release stayed slow (`witness`, `fast`) is not paired."""
    out = []
    for step in steps:
        label, a, b = step["label"], step["before"], step["after"]
        if label not in values:
            out.append(dict(step, probe=None))
            continue
        va, vb = values[label][a], values[label][b]
        states = (witness or {}).get(label, {})

        def slow(side, r, states=states):
            return fast is not None and is_slow(states.get(side, {}).get(r, 0), fast)

        d = [math.log(vb[r] / va[r]) for r in sorted(va)
             if r in vb and not slow(a, r) and not slow(b, r)]
        r = result_of_logs(label, d)
        out.append(dict(step, probe={"ratio": r.ratio, "low": r.low, "high": r.high,
                                     "rounds": len(d), "agrees": agreement(step, r)}))
    return out


def probe_history(name, machine, rounds=DEFAULT_ROUNDS, results_dir=None, say=print):
    """Probe every confirmed step of the stored run; store and return the judged steps."""
    data = HistoryData(name, machine, results_dir)
    steps = confirmed_steps(data)
    pythons = {side: os.path.join(REPO_ROOT, s["python"])
               for side, s in data.progress["sides"].items()}
    needs = {}
    for step in steps:
        if bare_request(from_label(step["label"])) is not None:
            sides = needs.setdefault(step["label"], [])
            sides += [t for t in (step["before"], step["after"]) if t not in sides]
    for label in needs:  # release order, so the rotation is the rounds'
        needs[label].sort(key=data.tags.index)
    say(f"probe: {len(steps)} confirmed steps, {len(needs)} cases with a bare form, "
        f"{sum(map(len, needs.values()))} release-cases x {rounds} rounds")
    witness = {}
    values = measure(needs, pythons, rounds, say, witness, data.fast)
    judged = judge_steps(steps, values, witness, data.fast)
    if "probe" in data.progress:  # an earlier probe (of other confirmed steps) is kept
        data.progress.setdefault("earlier_probes", []).append(data.progress["probe"])
    data.progress["probe"] = {"rounds": rounds, "allocator": WORKER_ENV,
                              "values": values, "steps": judged, "witness": witness,
                              "rounds_measured": len(data.rounds)}
    write_json_atomic(os.path.join(data.results_dir, machine, ROUNDS_FILE), data.progress)
    return judged


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("history", help="numba or torch")
    add_rounds(parser, DEFAULT_ROUNDS, more="; bare rounds per release and case")
    add_machine(parser)
    args = parser.parse_args(argv)
    judged = probe_history(args.history, args.machine, args.rounds, say=say)
    for s in judged:
        p = s["probe"]
        what = "no bare form" if p is None else (
            f"probe {p['ratio']:.3f}x [{p['low']:.3f}, {p['high']:.3f}] "
            f"{'agrees' if p['agrees'] else 'HARNESS ONLY'}")
        print(f"{s['label']}: {s['before']} -> {s['after']} {s['ratio']:.3f}x; {what}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.history.probe"))
