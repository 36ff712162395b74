"""Release verdicts from paired rounds, with a false-alarm rate that calibration measured.

The unit of analysis is one value per round and environment (the median of that round's
samples), paired by round: d_r = log(B_r / A_r). Both environments of a round ran minutes
apart in alternating order, so what drifts between rounds cancels in d_r, and what is left
varies from round to round: the t-interval on the mean of d_r is honest about it, where a
test on pooled samples (asv's Mann-Whitney) counts every sample of one process as
independent evidence.

A case is flagged when, after Benjamini-Hochberg control of the false discovery rate over all
cases (q < `fdr`), its ratio is also beyond the effect gate. Controls are cases that do not
run the library under comparison: they can only move with the machine, so when one is
flagged, or their geometric mean moves beyond the gate, the run is marked untrustworthy.
"""
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

CONFIDENCE = 0.95
FDR = 0.05
GATE = 1.03  # smallest ratio (either way) that is flagged; see docs/releases.md, calibration
# Instruction counts repeat exactly in fresh processes (report/instructions.md): a count ratio
# beyond 0.1 % either way is a change of the code that ran.
COUNT_GATE = 1.001
MIN_ROUNDS = 3
POWER = 0.8  # of the minimum detectable change printed beside each verdict


@dataclass
class CaseResult:
    case: str
    rounds: int
    ratio: float = math.nan  # geometric mean of B/A over rounds
    low: float = math.nan  # confidence interval of that ratio
    high: float = math.nan
    p: float = math.nan  # two-sided one-sample t-test of log ratios against 0
    q: float = math.nan  # Benjamini-Hochberg adjusted p
    control: bool = False
    verdict: str = "no test"  # REGRESSION, improvement, unchanged, no test
    sd: float = math.nan  # spread of the paired log ratios
    df: int = None  # degrees of freedom of that spread (None: its own rounds - 1)
    # smallest slowdown found with POWER at this spread, at the threshold of the verdict's
    # Benjamini-Hochberg family (set by judge(); one tested case before it)
    detectable: float = math.nan
    # A history's step across a gap: the release the comparison starts from (the nearest
    # earlier one that measured the case) and the unmeasured releases it spans.
    since: str = None
    spans: tuple = ()

    @property
    def tested(self):
        return not math.isnan(self.p)

    def interval(self):
        if math.isnan(self.ratio):
            return "n/a"
        if math.isnan(self.low):
            return f"{self.ratio:.3f}x"
        return f"{self.ratio:.3f}x [{self.low:.3f}, {self.high:.3f}]"


def paired_log_ratios(by_round):
    """log(B/A) of every round that measured both sides: {round: {'A': a, 'B': b}}."""
    return np.array([math.log(v["B"] / v["A"]) for _, v in sorted(by_round.items())
                     if v.get("A") and v.get("B")])


def detectable_ratio(sd, rounds, family=1, fdr=FDR, power=POWER, gate=GATE, df=None):
    """The smallest slowdown a verdict finds with probability `power`, from the threshold the
    verdict actually uses: the t-test on `rounds` paired log ratios with this spread (a
    variance of `df` degrees of freedom, default rounds - 1) must reach p < fdr / family,
    which is what Benjamini-Hochberg asks of one change among `family` tested cases. Never
    less than the effect gate. The inverse of power_at()."""
    if rounds < MIN_ROUNDS or math.isnan(sd):
        return math.nan
    if sd == 0:
        return gate
    df = df or rounds - 1
    crit = stats.t.ppf(1 - fdr / family / 2, df)
    # the noncentrality at which the noncentral t passes crit with probability `power`
    delta = optimize.brentq(lambda nc: stats.nct.sf(crit, df, nc) - power, 0.0, 1e4)
    return max(gate, math.exp(delta * sd / math.sqrt(rounds)))


DETECTABLE_CAP = 10.0  # beyond this a detectable change is "not detectable", not a number


def detectable_text(ratio, sign="+", unit=" %"):
    """A minimum detectable change as a percentage. Past DETECTABLE_CAP (a pair tested on
    its own 2 degrees of freedom at a whole history's threshold reads 10^40 %) it says so
    instead of printing forty digits."""
    if ratio is None or math.isnan(ratio):
        return "n/a"
    if ratio > DETECTABLE_CAP:
        return f">{sign}{(DETECTABLE_CAP - 1) * 100:.0f}{unit}"
    return f"{sign}{(ratio - 1) * 100:.0f}{unit}"


def case_result(case, by_round, control=False, confidence=CONFIDENCE):
    d = paired_log_ratios(by_round)
    return result_of_logs(case, d, control, confidence)


def result_of_logs(case, d, control=False, confidence=CONFIDENCE, sd=None, df=None):
    """case_result from the paired log ratios themselves (one per round). sd, df: a spread
    known from more than these rounds (a history's pooled model, tools/history/model.py) and
    its degrees of freedom, used for the test and the interval instead of d's own."""
    d = np.asarray(d, dtype=float)
    result = CaseResult(case, len(d), control=control)
    if len(d) == 0:
        return result
    result.ratio = math.exp(d.mean())
    if len(d) < MIN_ROUNDS:
        return result
    if sd is not None:
        return _known_spread(result, d, sd, df, confidence)
    sd = result.sd = float(d.std(ddof=1))
    result.detectable = detectable_ratio(sd, len(d))
    if sd == 0:  # identical rounds: the interval is the point, the test undefined
        result.low = result.high = result.ratio
        result.p = 0.0 if d.mean() != 0 else 1.0
        return result
    half = stats.t.ppf(0.5 + confidence / 2, len(d) - 1) * sd / math.sqrt(len(d))
    result.low, result.high = math.exp(d.mean() - half), math.exp(d.mean() + half)
    result.p = float(stats.ttest_1samp(d, 0.0).pvalue)
    return result


def _known_spread(result, d, sd, df, confidence):
    result.sd, result.df = float(sd), int(df)
    se = sd / math.sqrt(len(d))
    half = stats.t.ppf(0.5 + confidence / 2, df) * se
    result.low, result.high = math.exp(d.mean() - half), math.exp(d.mean() + half)
    result.p = float(2 * stats.t.sf(abs(d.mean()) / se, df)) if se > 0 else \
        (0.0 if d.mean() != 0 else 1.0)
    result.detectable = detectable_ratio(sd, len(d), df=df)
    return result


def verdict_of(ratio, q, fdr=FDR, gate=GATE):
    if q < fdr and (ratio >= gate or ratio <= 1 / gate):
        return "REGRESSION" if ratio > 1 else "improvement"
    return "unchanged"


def verdict_among(result, family_ps, fdr=FDR, gate=GATE):
    """The verdict judge() gives `result` when the rest of its family has the p-values
    `family_ps` (the power checks: one injected change among the measured ones)."""
    if not result.tested:
        return "no test"
    qs = stats.false_discovery_control(np.append(np.asarray(family_ps, float), result.p),
                                       method="bh")
    return verdict_of(result.ratio, float(qs[-1]), fdr, gate)


def judge(results, fdr=FDR, gate=GATE):
    """Fill q and verdict of every result in place (BH over the tested ones); return them."""
    tested = [r for r in results if r.tested]
    if tested:
        qs = stats.false_discovery_control([r.p for r in tested], method="bh")
        for r, q in zip(tested, qs):
            r.q = float(q)
            r.detectable = detectable_ratio(r.sd, r.rounds, family=len(tested), fdr=fdr,
                                            gate=gate, df=r.df)
    for r in results:
        r.verdict = verdict_of(r.ratio, r.q, fdr, gate) if r.tested else "no test"
    return results


def judge_families(results, fdr=FDR, gate=GATE):
    """judge() with the library's own cases and the controls as two families: a history asks
    of each step "what did the release change in its library's cases" and, apart, "did
    anything move that does not run it"; one BH family over both would make a library step
    wait on the controls' count. Returns the results."""
    judge([r for r in results if not r.control], fdr, gate)
    judge([r for r in results if r.control], fdr, gate)
    return results


def power_at(sd, rounds, factor, family, confidence=CONFIDENCE, fdr=FDR, df=None):
    """The probability that a change by `factor` in one case is flagged with `rounds` rounds
    at this spread of log ratios, when it is the only change among `family` cases: BH then
    asks p < fdr / family of it (and the t-interval's confidence does not enter). A
    noncentral t; an extrapolation from a measured spread, not a measurement."""
    if rounds < MIN_ROUNDS or not sd > 0:
        return math.nan
    df = df or rounds - 1
    crit = stats.t.ppf(1 - fdr / family / 2, df)
    delta = abs(math.log(factor)) / (sd / math.sqrt(rounds))
    return float(stats.nct.sf(crit, df, delta))


@dataclass
class DriftReport:
    controls: int
    flagged: int
    geomean: float  # of the controls' ratios
    spread: tuple  # 5th and 95th percentile of the controls' ratios
    trustworthy: bool
    why: str


def drift(results, gate=GATE):
    """What the controls say about the run: they measure the machine, not the release."""
    controls = [r for r in results if r.control and not math.isnan(r.ratio)]
    if not controls:
        return DriftReport(0, 0, math.nan, (math.nan, math.nan), True,
                           "no control cases: drift cannot be checked")
    logs = np.log([r.ratio for r in controls])
    geomean = float(math.exp(logs.mean()))
    spread = tuple(float(math.exp(v)) for v in np.percentile(logs, [5, 95]))
    flagged = [r for r in controls if r.verdict in ("REGRESSION", "improvement")]
    problems = []
    if flagged:
        problems.append(f"{len(flagged)} control case(s) flagged (e.g. {flagged[0].case})")
    if geomean >= gate or geomean <= 1 / gate:
        problems.append(f"the controls moved together by {geomean:.3f}x")
    why = ("; ".join(problems) + ": the machine changed during the run, do not trust its "
           "verdicts") if problems else "controls steady"
    return DriftReport(len(controls), len(flagged), geomean, spread, not problems, why)


def count_change(a, b, gate=COUNT_GATE):
    """'more' / 'fewer' instructions in B than in A, or 'same' within the count gate."""
    ratio = b / a
    return "more" if ratio > gate else "fewer" if ratio < 1 / gate else "same"


def codegen_reading(time_verdict, change):
    """What a time verdict and an instruction-count change say together about one case."""
    if time_verdict in ("REGRESSION", "improvement"):
        if change == "same":
            return "time moved, instructions did not: not code generation (memory, " \
                   "threads, allocator or machine)"
        slower = time_verdict == "REGRESSION"
        agrees = (change == "more") == slower
        return ("code change: " + ("more" if change == "more" else "fewer") +
                " instructions" + ("" if agrees else ", although time moved the other way"))
    if time_verdict == "unchanged" and change != "same":
        return f"{change} instructions; the time change, if any, is not flagged"
    return ""


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
