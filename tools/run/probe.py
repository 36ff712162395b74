"""The bare-process probe: a confirmed step timed again outside the harness.

A step seen only by one harness is not a release's step. For a confirmed step whose case has
a bare form (tools/run/bare_case.py: the seed's sums, row/column sums and GELUs, written as a
user writes them), both releases time the case in fresh processes of their own environments
that import only numpy and the library (nothing of the suite, nothing timed before the case),
by the pair protocol: in each round every release a case needs runs once, in an order rotated
from case to case and round to round, and each step pairs its two releases by round (a
t-interval on the log ratios, tools/reports/verdicts.py). The step is published as confirmed
when the probe points the same way and its interval overlaps the harness's; otherwise the
report lists it as "harness only" with both ratios. Histories probe their confirmed steps
(tools/history/probe.py), release pairs their flagged cases (`probe_session`).
"""
import math
import os
import time

from benchmarks.cases import from_label

from .. import REPO_ROOT
from ..reports.compare_releases import FLAGS, compare
from ..reports.verdicts import result_of_logs
from .interleave import WORKER_ENV, round_order, time_bare
from .state_witness import is_slow

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


def probe_steps(steps, pythons, rounds, order, say=print, fast=None):
    """The probe of `steps` (dicts with label, before, after and the harness's ratio, low,
    high), each side run by pythons[side], the sides of a case rotated in `order`: the record
    a history or a session stores under "probe" ("steps": each step with its probe)."""
    needs = {}
    for step in steps:
        if bare_request(from_label(step["label"])) is not None:
            sides = needs.setdefault(step["label"], [])
            sides += [s for s in (step["before"], step["after"]) if s not in sides]
    for sides in needs.values():
        sides.sort(key=order.index)
    say(f"probe: {len(steps)} steps, {len(needs)} cases with a bare form, "
        f"{sum(map(len, needs.values()))} release-cases x {rounds} rounds")
    witness = {}
    values = measure(needs, pythons, rounds, say, witness, fast)
    return {"rounds": rounds, "allocator": WORKER_ENV, "values": values,
            "steps": judge_steps(steps, values, witness, fast), "witness": witness}


def probe_session(session, rounds=DEFAULT_ROUNDS, say=print):
    """Probe every case a release pair's session flags (tools/reports/compare_releases.py),
    B against A in the session's own two environments; stored in the session under "probe"
    (saved) and returned."""
    steps = [{"label": r.case, "before": "A", "after": "B", "ratio": r.ratio, "low": r.low,
              "high": r.high} for r in compare(session) if r.verdict in FLAGS]
    pythons = {side: os.path.join(REPO_ROOT, session.data["sides"][side]["python"])
               for side in "AB"}
    session.data["probe"] = probe_steps(steps, pythons, rounds, ["A", "B"], say)
    session.save()
    return session.data["probe"]["steps"]
