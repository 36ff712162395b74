"""The verdicts of a history: every consecutive release step of every case judged at full
power, the A/A canary beside them, and what the rounds can detect (tools/history/report.py
writes them out).

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
from dataclasses import dataclass, field

import numpy as np

from benchmarks.cases import from_label

from .. import ToolError
from ..reports.verdicts import GATE, drift, judge_families, power_at, result_of_logs, verdict_among
from ..run.interleave import witnessed
from ..run.environments import CANARY_SUFFIX
from .counts import counts_text, load_counts
from .model import pooled_spread, test_spread
from .passes import MIN_STATE_ROUNDS, judged_entries, state_rounds_of, witness_of
from .paths import ROUNDS_FILE, config_path, resolved
from .releases import load_history

FLAGS = ("REGRESSION", "improvement")
LEVEL_WINDOW = 3
INJECTED = (1.05, 1.10, 1.20)


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


def place_level(level, pair, neighbours):
    """Whether flagged levels around a step are that step's shift (else the level's verdict
    becomes "unchanged"). Windows next to a shift see part of it: the shift is placed where
    the levels differ most clearly (the smallest p among the step and its `neighbours`' p).
    And the step's own pair must hold the levels' size: where its interval excludes it, the
    shift lies at least partly at a neighbouring release that a noisy round hid; the step
    keeps a verdict only where the pair itself excludes 1, beyond the gate, and then at the
    pair's size (a shift spread over neighbouring releases)."""
    if level.verdict not in FLAGS:
        return
    if any(p < level.p for p in neighbours):
        level.verdict = "unchanged"
    elif not math.isnan(pair.low) and not pair.low <= level.ratio <= pair.high:
        if pair.low <= 1 <= pair.high or abs(math.log(pair.ratio)) < math.log(GATE):
            level.verdict = "unchanged"
        else:
            level.ratio, level.low, level.high = pair.ratio, pair.low, pair.high


def state_unknown(step):
    """Whether a confirmed step is of a compiled case whose state too few rounds read."""
    return step.get("state") == "not read"


class HistoryData:
    """One history's interleaved rounds on one machine."""

    def __init__(self, name, machine, results_dir=None, passes=None, rounds=None):
        """passes: judge the rounds on each round's first `passes` passes only (default: all
        of them), what a history timed with fewer passes would have read; rounds: on its
        first `rounds` rounds only (default: all), what stopping there would have read."""
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
        self.rounds = self.progress["measured"][:rounds]
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

    def replace_values(self, label, by_side):
        """Put {side: {round: value}} in place of `label`'s values (the null histories of
        check history-power), its pooled model estimated again from them."""
        for side, by_round in by_side.items():
            self.medians[side][label] = by_round
        self._models = {key: m for key, m in self._models.items() if key[0] != label}

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
            for label, r in step.level.items():
                place_level(r, step.pair[label], [steps[j].level[label].p for j in (i - 1, i + 1)
                                                  if 0 <= j < len(steps)])
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
                    place_level(near[i], pair, [r.p for j, r in near.items() if j != i])
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


def verdict_text(step):
    """'REGRESSION', or 'REGRESSION (Sleef state unknown)' where the step may be the state."""
    return step["verdict"] + (" (Sleef state unknown)" if state_unknown(step) else "")
