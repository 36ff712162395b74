"""The history report: every consecutive release step judged at full power, the A/A canary
beside it, and what the rounds can detect.

    python -m tools history report numba        # report/machines/MACHINE/history-numba.md
    python -m tools history report torch --print

Reads rounds.json (tools/history/run.py): every release of every case was timed seconds apart
in every round, so any two releases pair by round exactly as a release comparison does, and
are judged by the same module (tools/reports/verdicts.py): d_r = log(B_r / A_r), a t-interval
over rounds on the case's spread pooled over every release and round (tools/history/model.py),
Benjamini-Hochberg over every step of the whole history, the effect gate, controls (cases that
do not run the history's library) as their own family and the drift check.

A step is also judged by the levels around it (a change-point test): per round, the mean log
time of up to LEVEL_WINDOW releases after the step minus that of up to LEVEL_WINDOW before it
(never reaching across another step the pairs confirm for that case), judged the same way. A
sustained shift is confirmed by it even when the adjacent pair alone is noisy. A case's step
is confirmed when the adjacent pair flags it, or when the level test flags it in the direction
the adjacent pair points and no neighbouring step's levels differ more clearly (a window next to
a shift sees part of it).

The canary: one release measured twice, in two separately built environments, inside every
run. Its pair must flag nothing; +5/10/20 % slowdowns added to one of its cases at a time (with
the others' real values beside it, as BH sees them) say what the rounds detect, and the same
with only the first n rounds says what fewer rounds would have detected.
"""
import json
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from benchmarks.cases import from_label

from .. import REPO_ROOT, ToolError, add_machine, command_parser, run_main
from ..reports.tables import fmt_time, render
from ..reports.verdicts import (GATE, detectable_text, drift, judge_families, power_at,
                                result_of_logs, verdict_among)
from ..results.atomic import write_text_atomic
from ..run.interleave import fold_passes, witnessed
from ..run.state_witness import SLOW_FACTOR, fast_level, is_slow
from .counts import counts_text, load_counts
from ..run.environments import CANARY_SUFFIX
from . import asv_results
from .model import pooled_spread, test_spread
from .pictures import cell_text, confirmed_plots, step_map, version
from .paths import ROUNDS_FILE, config_path, resolved
from .releases import load_history

REPORT_DIR = os.path.join(REPO_ROOT, "report")
FLAGS = ("REGRESSION", "improvement")
LEVEL_WINDOW = 3
MIN_STATE_ROUNDS = 3  # rounds that read the Sleef state, to judge a compiled case on them only
INJECTED = (1.05, 1.10, 1.20)


def md_table(header, rows):
    return render(header, rows, True).split("\n")


@dataclass
class Step:
    """One consecutive pair of releases: each case's pair verdict and level verdict."""
    before: str
    after: str
    pair: dict  # label -> CaseResult (adjacent pair)
    drift: object
    level: dict = field(default_factory=dict)  # label -> CaseResult (levels around it)

    def confirmed(self, label):
        """'pair', 'level' or None: what confirms this case's step."""
        p = self.pair.get(label)
        if p is not None and p.verdict in FLAGS:
            return "pair"
        lv = self.level.get(label)
        if lv is not None and lv.verdict in FLAGS and p is not None and \
                not math.isnan(p.ratio) and (p.ratio > 1) == (lv.ratio > 1):
            return "level"
        return None


def first_passes(entry, passes=None, fast=None):
    """The pass medians a history judges of one round's entry: its first `passes` passes
    (None: every pass), less those read in the slow Sleef state where `fast` (the state
    witness's fast level) is given; [] where every one was slow."""
    values = entry.get("passes", [entry["median"]])[:passes]
    if fast is not None and len(entry.get("witness", [])) >= len(values):
        values = [v for v, w in zip(values, entry["witness"]) if not is_slow(w, fast)]
    return values


def fastest_of(values, count):
    """A round's value of a case timed in several passes: the geometric mean of the fastest
    half of its first `count` passes (the fastest of 2, the 2 fastest of 4, 4 of 8), `count`
    the same for every release of that round. Within a pass the batches agree; between
    passes the level moves. Where it moves only up (another tenant, a worse placement), the
    fastest passes hold the release's level; where it scatters both ways, the mean of half
    of them keeps most of the mean's precision, where the single fastest loses it. Every
    release of a round takes as many passes, since the fastest of 8 reads lower than the
    fastest of 3 of the same spread (compiled GELU's slow passes are set aside, so its
    counts differ). docs/methodology.md, "The fastest half of the passes"."""
    return fold_passes(sorted(values[:count])[:(count + 1) // 2])


def witness_readings(rounds):
    """Every state reading of the rounds (tools/run/state_witness.py)."""
    return [w for rnd in rounds for values in rnd["values"].values()
            for entry in values.values() for w in entry.get("witness", [])]


def witness_of(rounds):
    """{label: {side: {round: [readings]}}} of the Sleef state read after each timing of a
    witnessed case; {} for rounds from before the witness."""
    out = {}
    for rnd in rounds:
        for side, values in rnd["values"].items():
            for label, entry in values.items():
                if entry.get("witness"):
                    out.setdefault(label, {}).setdefault(side, {})[rnd["round"]] = \
                        entry["witness"]
    return out


def state_rounds_of(rounds):
    """{label: {round numbers whose workers read the case's state}}."""
    return {label: set().union(*by_side.values())
            for label, by_side in witness_of(rounds).items()}


def state_unknown(step):
    """Whether a confirmed step is of a compiled case whose state too few rounds read."""
    return step.get("state") == "not read"


def judged_entries(rounds, passes=None):
    """Each round's entry of each case as the history judges it: (fast level or None,
    {side: {label: {round: entry}}}), the entry's median the round's value (fastest_of).
    Compiled GELU's passes read in the slow state of its
    Sleef calls are set aside (entry's median and samples from its fast passes only): the
    state is not the release's (report/mechanisms.md, section 7).
    A case whose state the workers read is judged on the rounds that read it once there are
    MIN_STATE_ROUNDS of them: its earlier rounds mix the two states unseen."""
    readings = witness_readings(rounds)
    fast = fast_level(readings) if readings else None
    seen = state_rounds_of(rounds)
    out = {}
    for rnd in rounds:
        kept = {}  # label -> {side: the pass medians judged}
        for side, values in rnd["values"].items():
            for label, entry in values.items():
                if len(seen.get(label, ())) >= MIN_STATE_ROUNDS and \
                        rnd["round"] not in seen[label]:
                    continue
                judged = first_passes(entry, passes, fast)
                if judged:  # else every pass slow
                    kept.setdefault(label, {})[side] = judged
        for label, by_side in kept.items():
            count = min(map(len, by_side.values()))
            for side, judged in by_side.items():
                entry = rnd["values"][side][label]
                if entry.get("witness"):
                    entry = dict(entry, samples=judged)
                out.setdefault(side, {}).setdefault(label, {})[rnd["round"]] = \
                    dict(entry, median=fastest_of(judged, count))
    return fast, out


def write_asv_results(history, progress, results_dir, machine, benchmarks):
    """One asv result file per release (not the canary's second build), from every round,
    each point as the report judges it (judged_entries): the dashboard and the report read
    the same values. benchmarks: asv's discovery (results_dir/benchmarks.json)."""
    _, judged = judged_entries(progress["measured"])
    for release in history.releases:
        by_label = judged.get(release.tag, {})
        values = {label: [by_round[n] for n in sorted(by_round)]
                  for label, by_round in by_label.items()}
        started = int(time.time() * 1000)
        asv_results.write(results_dir, machine, benchmarks, progress["ledger"][release.tag],
                          release.timestamp * 1000, values, started)


class HistoryData:
    """One history's interleaved rounds on one machine."""

    def __init__(self, name, machine, results_dir=None, passes=None):
        """passes: judge the rounds on each round's first `passes` passes only (default: all
        of them), what a history timed with fewer passes would have read."""
        self.history = load_history(name)
        self.machine = machine
        self.results_dir = results_dir or resolved(config_path(name), "results_dir")
        path = os.path.join(self.results_dir, machine, ROUNDS_FILE)
        if not os.path.isfile(path):
            raise ToolError(f"no {name} history measured on {machine}: {path} is "
                                   f"missing (python -m tools history {name})")
        with open(path) as f:
            self.progress = json.load(f)
        if self.progress.get("format") != 2:
            raise ToolError(f"{path} is a history of the old protocol (one asv step "
                                   f"per release): measure it again (python -m tools history "
                                   f"{name} --fresh)")
        self.tags = [r.tag for r in self.history.releases if r.tag in self.progress["ledger"]]
        self.canary = self.progress["canary"]
        self.twin = self.canary[:-len(CANARY_SUFFIX)]
        self.labels = self.progress["cases"]
        self.rounds = self.progress["measured"]
        self.controls = {label: from_label(label).is_control(self.history.library)
                         for label in self.labels}
        self.counts = load_counts(self.results_dir, machine)  # {release: {label: per call}}
        self._models = {}
        self.fast, judged = judged_entries(self.rounds, passes)
        # {side: {label: {round: median}}}
        self.medians = {side: {label: {n: e["median"] for n, e in by_round.items()}
                               for label, by_round in by_label.items()}
                        for side, by_label in judged.items()}
        # (side, label) timed but with no value left: every pass read slow
        self.all_slow = {(side, label) for rnd in self.rounds
                         for side, values in rnd["values"].items() for label in values
                         if label not in self.medians.get(side, {})}

    @property
    def state_unread(self):
        """The compiled cases whose state too few rounds read on an AVX-512 machine (where
        the state has two levels): their steps may be the state, not the release."""
        isa = next((self.installed(t).get("interpreter", {}).get("cpu_isa", "")
                    for t in self.tags if self.installed(t)), "")
        seen = self.state_rounds
        return {label for label in self.labels if "avx512" in isa
                and witnessed(from_label(label)) and len(seen.get(label, ())) < MIN_STATE_ROUNDS}

    def witness(self):
        """{label: {side: {round: [readings]}}} (witness_of)."""
        return witness_of(self.rounds)

    @property
    def state_rounds(self):
        """{label: {round numbers that read the state}}."""
        return state_rounds_of(self.rounds)

    def probe_of(self, label, before, after):
        """The bare probe of one step ({"ratio", "low", "high", "agrees"}), or None."""
        for step in self.progress.get("probe", {}).get("steps", []):
            if (step["label"], step["before"], step["after"]) == (label, before, after):
                return step.get("probe")
        return None

    def skip_reason(self, side, label):
        """Why `side` has no value of `label` (a round's or the preflight's word), or None."""
        if (side, label) in self.all_slow:
            return "every pass read in the slow Sleef state"
        for rnd in reversed(self.rounds):
            why = rnd.get("skipped", {}).get(side, {}).get(label)
            if why:
                return why
        pre = self.progress.get("preflight", {})
        return pre.get("gaps", {}).get(label, {}).get(side) or pre.get("skipped", {}).get(label)

    def value(self, side):
        """{label: median over rounds of the round medians}: the point asv draws."""
        return {label: statistics.median(by_round.values())
                for label, by_round in self.medians.get(side, {}).items()}

    def logs(self, side, label, rounds=None):
        by_round = self.medians.get(side, {}).get(label, {})
        return {r: math.log(v) for r, v in by_round.items()
                if v > 0 and (rounds is None or r in rounds)}

    def pair_logs(self, a, b, label, rounds=None):
        la, lb = self.logs(a, label, rounds), self.logs(b, label, rounds)
        return [lb[r] - la[r] for r in sorted(la) if r in lb]

    def measured(self, side, label):
        return bool(self.medians.get(side, {}).get(label))

    def since(self, a, label):
        """The release a step ending after `a` starts from for `label`: `a` itself, or across
        a gap the nearest earlier release that measured the case (None: none did)."""
        if a not in self.tags:
            return a  # the canary's twin: never a gap
        for tag in reversed(self.tags[:self.tags.index(a) + 1]):
            if self.measured(tag, label):
                return tag
        return None

    def model(self, label, rounds=None):
        """The Spread of the case's pooled model over every release and the canary (on
        `rounds`, default all), or None: tools/history/model.py."""
        key = (label, tuple(sorted(rounds)) if rounds else None)
        if key not in self._models:
            self._models[key] = pooled_spread(
                {s: self.logs(s, label, rounds) for s in self.tags + [self.canary]})
        return self._models[key]

    def tested(self, label, d, scale, rounds=None):
        """The unjudged CaseResult of per-round log differences d, on the pooled spread where
        the model holds for them."""
        known = test_spread(self.model(label, rounds), d, scale)
        sd, df = known if known else (None, None)
        return result_of_logs(label, d, self.controls[label], sd=sd, df=df)

    def pair_result(self, a, b, label, rounds=None, shift=0.0):
        """The unjudged CaseResult of B vs A for one case; `shift` (a log factor) is added to
        B in every round (the power checks). Where A did not measure a case that B did, B is
        judged against the nearest earlier release that did (every pair of releases was timed
        in every round, so it pairs like any other), and the result names the releases it
        spans."""
        start = self.since(a, label) if self.measured(b, label) else a
        d = np.array(self.pair_logs(start, b, label, rounds) if start else []) + shift
        result = self.tested(label, d, math.sqrt(2), rounds)
        if start and start != a:
            result.since = start
            result.spans = tuple(self.tags[self.tags.index(start) + 1:self.tags.index(b)])
        return result

    def compare(self, a, b, rounds=None, inject=None):
        """Judged results {label: CaseResult} of B vs A, the pair one family (the canary),
        and the drift report. inject: (label, factor) multiplies B of that case."""
        results = [self.pair_result(a, b, label, rounds,
                                    math.log(inject[1]) if inject and inject[0] == label else 0)
                   for label in self.labels]
        judge_families(results)
        return {r.case: r for r in results}, drift(results)

    def level_logs(self, before, after, label):
        """Per round: mean log time of the releases `after` minus of those `before`, and the
        scale of its spread in the pooled model's sigma, sqrt(1/na + 1/nb)."""
        before = [s for s in before if self.measured(s, label)]  # a gap is no level
        after = [s for s in after if self.measured(s, label)]
        if not before or not after:
            return [], 1.0
        sides = {s: self.logs(s, label) for s in before + after}
        common = set.intersection(*(set(v) for v in sides.values()))
        return ([np.mean([sides[s][r] for s in after]) - np.mean([sides[s][r] for s in before])
                 for r in sorted(common)], math.sqrt(1 / len(before) + 1 / len(after)))

    def steps(self):
        """Every step of every case, judged over the whole history: the pairs of all steps
        are one Benjamini-Hochberg family (the library's own cases; the controls another),
        the levels of all steps another, so false discoveries are controlled over the
        history, not per step."""
        pairs = [[self.pair_result(a, b, label) for label in self.labels]
                 for a, b in zip(self.tags, self.tags[1:])]
        judge_families([r for step in pairs for r in step])
        steps = [Step(a, b, {r.case: r for r in results}, drift(results))
                 for (a, b), results in zip(zip(self.tags, self.tags[1:]), pairs)]
        flagged = self._flagged(steps)
        levels = [self.levels(i, flagged) for i in range(len(steps))]
        judge_families([r for level in levels for r in level])
        for step, level in zip(steps, levels):
            step.level = {r.case: r for r in level}
        for i, step in enumerate(steps):
            # windows next to a shift see part of it: the shift is placed where the levels
            # differ most clearly (the smallest p among the neighbouring steps)
            for label, r in step.level.items():
                if r.verdict in FLAGS and any(
                        steps[j].level[label].p < r.p for j in (i - 1, i + 1)
                        if 0 <= j < len(steps)):
                    r.verdict = "unchanged"
        return steps

    def _flagged(self, steps):
        return {(i, label) for i, s in enumerate(steps) for label in self.labels
                if s.pair[label].verdict in FLAGS}

    def levels(self, i, flagged):
        """[unjudged CaseResult] of the levels around step i (tags[i] -> tags[i + 1])."""
        return [self.level_result(i, label, flagged) for label in self.labels]

    def level_result(self, i, label, flagged):
        lo, hi = i, i + 2  # tags[lo..i] before, tags[i+1..hi-1] after
        while lo > 0 and i - lo + 1 < LEVEL_WINDOW and (lo - 1, label) not in flagged:
            lo -= 1
        while hi <= len(self.tags) - 1 and hi - i - 1 < LEVEL_WINDOW and \
                (hi - 1, label) not in flagged:
            hi += 1
        d, scale = self.level_logs(self.tags[lo:i + 1], self.tags[i + 1:hi], label)
        return self.tested(label, np.array(d), scale)

    def injected_power(self, factor, steps=None):
        """{"own", "controls", "all": fraction} of (step, case) pairs, over the cases with
        no confirmed step there, where a slowdown by `factor` injected at that release (every
        release from it on, in every round) is confirmed at that step: a history with a step
        at a known release, made from the measured rounds, judged among all the others."""
        steps = steps if steps is not None else self.steps()
        flagged = self._flagged(steps)
        # the measured p-values of each family, over the whole history, as steps() judged them
        family = {(kind, i, label): getattr(step, kind)[label].p
                  for i, step in enumerate(steps) for label in self.labels
                  for kind in ("pair", "level")}

        def among(kind, result, replaced):
            """result's verdict in its whole-history family, `replaced` ({(i, label): p})
            standing in for the measured values of those cells."""
            others = [p for (k, j, lab), p in family.items()
                      if k == kind and self.controls[lab] == result.control
                      and (j, lab) not in replaced and not math.isnan(p)]
            others += [p for p in replaced.values() if not math.isnan(p)]
            return verdict_among(result, others)

        hits, total = {True: 0, False: 0}, {True: 0, False: 0}
        for i, step in enumerate(steps):
            after = self.tags[i + 1:]
            for label in self.labels:
                if step.confirmed(label) or any(label not in self.medians.get(s, {})
                                                for s in self.tags):
                    continue  # a step there already, or a release that skips the case
                saved = {s: self.medians[s][label] for s in after}
                for s in after:
                    self.medians[s][label] = {r: v * factor for r, v in saved[s].items()}
                try:
                    pair = self.pair_result(step.before, step.after, label)
                    pair.verdict = among("pair", pair, {})
                    near = {j: self.level_result(j, label, flagged) for j in (i - 1, i, i + 1)
                            if 0 <= j < len(steps)}
                    near[i].verdict = among("level", near[i], {
                        (j, label): r.p for j, r in near.items() if j != i})
                    if any(r.p < near[i].p for j, r in near.items() if j != i):
                        near[i].verdict = "unchanged"  # as steps(): not the sharpest level
                    probe = Step(step.before, step.after, {label: pair}, None, {label: near[i]})
                    control = self.controls[label]
                    hits[control] += probe.confirmed(label) is not None and pair.ratio > 1
                    total[control] += 1
                finally:
                    for s in after:
                        self.medians[s][label] = saved[s]
        out = {name: hits[c] / total[c] if total[c] else math.nan
               for name, c in (("own", False), ("controls", True))}
        out["all"] = sum(hits.values()) / sum(total.values()) if sum(total.values()) else math.nan
        return out

    def canary_power(self, rounds=None):
        """(flagged cases of the A/A pair, {factor: fraction of cases seen when that slowdown
        is added to one case at a time}) with `rounds` (default all)."""
        base, _ = self.compare(self.twin, self.canary, rounds)
        flagged = [r for r in base.values() if r.verdict in FLAGS]
        seen = {}
        for factor in INJECTED:
            hits = 0
            for label in self.labels:
                result = self.pair_result(self.twin, self.canary, label, rounds,
                                          math.log(factor))
                others = [r.p for lab, r in base.items() if lab != label and r.tested
                          and r.control == result.control]
                hits += verdict_among(result, others) == "REGRESSION"
            seen[factor] = hits / len(self.labels)
        return flagged, seen

    def expected_seen(self, rounds, factor=1.10, control=False):
        """Mean over the library's own cases (control=True: the controls) of power_at(): one
        change by `factor` in an adjacent pair of releases, tested on the case's pooled
        spread with the degrees of freedom `rounds` rounds would give it, at BH's threshold
        for one change among every step of every case of its family. The extrapolation
        beyond the rounds measured."""
        labels = [lab for lab in self.labels if self.controls[lab] == control]
        family = len(labels) * (len(self.tags) - 1)
        powers = []
        for label in labels:
            model = self.model(label)
            if model:
                powers.append(power_at(model.sigma * math.sqrt(2), rounds, factor, family,
                                       df=(model.releases - 1) * (rounds - 1)))
        return float(np.nanmean(powers)) if powers else math.nan

    def installed(self, tag):
        path = os.path.join(self.results_dir, self.machine, "installed", f"{tag}.json")
        if not os.path.isfile(path):
            return {}
        with open(path) as f:
            return json.load(f)


def confirmed_steps(data, steps=None):
    """[dict] of every confirmed step of every case: what the dashboard and the landing page
    list."""
    out = []
    unread = data.state_unread
    for step in steps if steps is not None else data.steps():
        for label in data.labels:
            how = step.confirmed(label)
            if how:
                r = step.pair[label] if how == "pair" else step.level[label]
                spans = step.pair[label].spans
                probe = data.probe_of(label, step.pair[label].since or step.before,
                                      step.after)
                out.append({"probe": probe,"history": data.history.name, "label": label,
                            "control": data.controls[label],
                            "before": step.pair[label].since or step.before,
                            "spans": list(spans),
                            "after": step.after, "test": how, "ratio": r.ratio,
                            "low": r.low, "high": r.high, "q": r.q,
                            "detectable": step.pair[label].detectable,
                            "instructions": counts_text(data.counts, label,
                                                        step.pair[label].since or step.before,
                                                        step.after, (data.twin, data.canary)),
                            "verdict": r.verdict,
                            "state": "not read" if label in unread else None})
    return out


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


def verdict_text(step):
    """'REGRESSION', or 'REGRESSION (Sleef state unknown)' where the step may be the state."""
    return step["verdict"] + (" (Sleef state unknown)" if state_unknown(step) else "")


def probe_text(probe):
    """'0.98x [0.91, 1.06]: harness only' for a report cell."""
    if probe is None:
        return "not probed"
    if math.isnan(probe["ratio"]):
        return "no round to pair (slow state)" if probe.get("rounds") == 0 else "not probed"
    if math.isnan(probe["low"]):
        return f"{probe['ratio']:.3f}x: too few rounds"
    return (f"{probe['ratio']:.3f}x [{probe['low']:.3f}, {probe['high']:.3f}]: "
            f"{'confirms' if probe['agrees'] else 'harness only'}")


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
    sys.exit(run_main(main, "python -m tools.history.steps"))
