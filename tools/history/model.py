"""The noise model of a history, per case: how much one release's value of a round scatters,
estimated from every release and every round at once.

In a history every release of a case is timed in every round, so the round values form a
table, releases x rounds. A two-way model, log time = release + round + noise, leaves
(releases - 1)(rounds - 1) degrees of freedom for the noise (33 for 12 environments and 4
rounds) where one step's own paired t has rounds - 1 (3). Steps are then tested on that
pooled spread: the pair of adjacent releases (the difference of two values: sigma sqrt 2) and
the levels around a step (means of na and nb releases: sigma sqrt(1/na + 1/nb)).

The model assumes every release scatters alike. Where a pair's own rounds scatter more than
the pooled spread allows (chi-square, p < HETEROGENEITY_P: a release with two levels, say), the
step is tested on its own spread and rounds - 1 degrees of freedom, as before.

Calibrated on the committed histories (python -m tools check history-power NAME --machine M):
the canary flags nothing, and among the controls' steps, which no release can move, p < 0.05
in 3.1 % (numba, epyc-2core), 4.7 % (torch, epyc-2core), 4.1 % (torch, xeon-avx512-2core) and
0 of 30 (torch, epyc-avx2-2core): at or under nominal. The minimum of the batches instead of
their median sees more but reached 6.3 % on torch: the median stays.
"""
import math
from collections import namedtuple

import numpy as np
from scipy import stats

HETEROGENEITY_P = 0.01
MIN_RELEASES = 3  # fewer: the model has nothing to pool beyond the pair itself

# sigma: sd of one release's log value in a round; df: its degrees of freedom; from `releases`
# environments (the canary's second build included) and `rounds` rounds
Spread = namedtuple("Spread", "sigma df releases rounds")


def two_way_residuals(y):
    """The noise of a releases x rounds table of log times: what is left once each release's
    and each round's mean are taken out."""
    return y - y.mean(1, keepdims=True) - y.mean(0, keepdims=True) + y.mean()


def pooled_spread(logs):
    """The Spread of the two-way model over {side: {round: log time}}, on the rounds every
    side measured (or, where some sides lost rounds, on every round of the sides that
    measured all of them); None where fewer than MIN_RELEASES sides or 3 such rounds."""
    sides = [s for s, by in logs.items() if by]
    if len(sides) < MIN_RELEASES:
        return None
    common = sorted(set.intersection(*(set(logs[s]) for s in sides)))
    every = set().union(*(set(logs[s]) for s in sides))
    full = [s for s in sides if set(logs[s]) == every]
    if len(common) < len(every) and len(full) >= MIN_RELEASES and len(every) >= 3:
        # a side that lost a round (compiled GELU's slow passes set aside) leaves the
        # model rather than taking that round from every side
        sides, common = full, sorted(every)
    if len(common) < 3:
        return None
    y = np.array([[logs[s][r] for r in common] for s in sides])
    e = two_way_residuals(y)
    df = (y.shape[0] - 1) * (y.shape[1] - 1)
    return Spread(math.sqrt(float((e ** 2).sum()) / df), df, y.shape[0], y.shape[1])


def test_spread(model, d, scale):
    """(sd, df) to test the per-round differences `d` with: the pooled sigma x `scale` (sqrt 2
    for a pair of releases), or None (the differences' own spread) where there is no model or
    d scatters beyond it."""
    if model is None or len(d) < 3:
        return None
    sd, df = model.sigma * scale, model.df
    own = float(np.var(d, ddof=1))
    if sd == 0 or stats.chi2.sf((len(d) - 1) * own / sd ** 2, len(d) - 1) < HETEROGENEITY_P:
        return None
    return sd, df
