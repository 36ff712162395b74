"""What a history's verdicts can see, judged two ways on its stored rounds (nothing is timed):
each step's own paired t (what the reports use) against a pooled two-way model (each case's
noise estimated from every release and round at once), on the median or the minimum of each
round's batches, with Benjamini-Hochberg over every step of the whole history.

    python -m tools check history-power numba --machine epyc-2core
    python -m tools check history-power torch --machine epyc-avx2-2core
    python -m tools check history-power torch --machine NAME --passes   # a history with passes

Printed per variant: the canary's flags and its +5/10/20 % seen; the history's own flags; the
null comparisons among controls (every step of a case that does not run the library, whose
p-values must stay at or under nominal); +5/10/20 % injected at every unflagged step, one at a
time, the rest as measured. Groundwork for the histories' statistical model: the variant a
history adopts must pass all of these on its own data first.

--passes: the cost against what is seen. A history keeps every round and every pass, so it is
judged again, by the report's own model, on its first 3, 4, ... R rounds and its first 1, 2,
4, ... K passes: minutes of rounds (start-up and controls as measured, the own cases' passes
as timed), confirmed steps, canary flags, the own cases' median detectable change, +5/10/20 %
seen.

--null N: the report's pair and level tests on N null histories of the controls (each case's
residuals resampled, no release effect): their false-alarm rate under the real noise.
"""
import math
import sys

import numpy as np
from scipy import stats

from tools import add_machine, command_parser, run_main
from tools.history.model import two_way_residuals
from tools.history.steps import INJECTED, HistoryData
from tools.reports.verdicts import CaseResult, judge, result_of_logs


def logs_matrix(data, label, stat):
    sides = [s for s in data.tags + [data.canary] if data.medians.get(s, {}).get(label)]
    by = {}
    for rnd in data.rounds:
        for s in sides:
            e = rnd["values"].get(s, {}).get(label)
            if e:
                v = e["median"] if stat == "median" else min(e["samples"])
                by.setdefault(s, {})[rnd["round"]] = math.log(v)
    return sides, by

def pooled_sigma(sides, by):
    common = sorted(set.intersection(*(set(by[s]) for s in sides)))
    Y = np.array([[by[s][r] for r in common] for s in sides])
    S, R = Y.shape
    E = two_way_residuals(Y)
    df = (S - 1) * (R - 1)
    return math.sqrt((E ** 2).sum() / df), df

def pair_p(by, a, b, sigma, df, shift=0.0):
    rs = sorted(set(by.get(a, {})) & set(by.get(b, {})))
    d = np.array([by[b][r] - by[a][r] for r in rs]) + shift
    n = len(d)
    se = sigma * math.sqrt(2 / n)
    t = d.mean() / se
    return math.exp(d.mean()), 2 * stats.t.sf(abs(t), df), n

def pair_p_own(by, a, b, shift=0.0):
    """The reports' own test: the verdicts module's paired t on this pair's log ratios."""
    rs = sorted(set(by.get(a, {})) & set(by.get(b, {})))
    r = result_of_logs("", np.array([by[b][x] - by[a][x] for x in rs]) + shift)
    return r.ratio, r.p, len(rs)

def bh_flag(ps, ratios):
    """The verdicts module's BH and gate over (ratio, p) pairs: flagged or not, in order."""
    results = [CaseResult(str(i), 0, ratio=r, p=p) for i, (r, p) in enumerate(zip(ratios, ps))]
    return [r.verdict in ("REGRESSION", "improvement") for r in judge(results)]

def analyse(name, machine, stat, method, results_dir=None):
    data = HistoryData(name, machine, results_dir)
    steps = list(zip(data.tags, data.tags[1:]))
    fam = {c: [l for l in data.labels if data.controls[l] == c] for c in (False, True)}
    model = {}
    for l in data.labels:
        sides, by = logs_matrix(data, l, stat)
        sig, df = pooled_sigma(sides, by)
        model[l] = (by, sig, df)
    def test(l, a, b, shift=0.0):
        by, sig, df = model[l]
        if method == "pooled":
            return pair_p(by, a, b, sig, df, shift)[:2]
        return pair_p_own(by, a, b, shift)[:2]
    out = {}
    # canary: its own family per control-ness
    for c in (False, True):
        ls = fam[c]
        if not ls: continue
        res = [test(l, data.twin, data.canary) for l in ls]
        out[f"canary flagged ({'controls' if c else 'own'})"] = sum(bh_flag([p for _, p in res], [r for r, _ in res]))
        for f in (1.05, 1.10, 1.20):
            hits = 0
            for i, l in enumerate(ls):
                rr = list(res); rr[i] = test(l, data.twin, data.canary, math.log(f))
                hits += bh_flag([p for _, p in rr], [r for r, _ in rr])[i] and rr[i][0] > 1
            out[f"canary +{round((f-1)*100)}% ({'controls' if c else 'own'})"] = hits / len(ls)
    # whole-history family: every step of every case in the family
    for c in (False, True):
        ls = fam[c]
        if not ls: continue
        keys = [(l, a, b) for l in ls for a, b in steps if data.medians.get(a, {}).get(l) and data.medians.get(b, {}).get(l)]
        res = [test(*k) for k in keys]
        base = bh_flag([p for _, p in res], [r for r, _ in res])
        out[f"history steps flagged ({'controls' if c else 'own'})"] = f"{sum(base)}/{len(keys)}"
        if c:
            out["null control comparisons p<0.05/m"] = sum(p < 0.05 / len(keys) for _, p in res)
            out["null control comparisons p<0.05"] = f"{sum(p < 0.05 for _, p in res)}/{len(res)}"
        for f in (1.05, 1.10, 1.20):
            hits = tot = 0
            for i, k in enumerate(keys):
                if base[i]: continue
                rr = list(res); rr[i] = test(*k, shift=math.log(f))
                hits += bh_flag([p for _, p in rr], [r for r, _ in rr])[i] and rr[i][0] > 1
                tot += 1
            out[f"history step +{round((f-1)*100)}% ({'controls' if c else 'own'})"] = hits / tot if tot else float('nan')
    return out

def round_seconds(data, passes):
    """Mean seconds a round would take with the library's own cases timed `passes` times: the
    start-up and the controls as measured, the own cases' first `passes` passes (rounds from
    before `pass_seconds` was kept: their timings scaled, which undercounts the first pass,
    the one that compiles)."""
    stored = data.progress.get("passes", 1)
    out = []
    for rnd in data.rounds:
        total = rnd["seconds"]
        for values in rnd["values"].values():
            for label, entry in values.items():
                if data.controls[label]:
                    continue
                spent = entry.get("pass_seconds")
                total -= entry.get("seconds", 0)
                total += sum(spent[:passes]) if spent else entry.get("seconds", 0) * passes / stored
        out.append(total)
    return sum(out) / len(out)


def confirmed_set(data, steps):
    return {(step.before, step.after, label) for step in steps for label in data.labels
            if step.confirmed(label)}


def tradeoff(name, machine, results_dir=None):
    """[row] for every (first r rounds, first k passes) of the stored history, r from 3 up,
    k = 1, 2, 4, ... up to the stored passes: the same data judged by the report's own model
    (verdicts, canary, injected steps), what a history stopped there would have read. The
    minutes are the rounds' only (the preflight and the probe come on top). "not in all":
    steps a row confirms that the whole history (every round, every pass) does not."""
    stored = HistoryData(name, machine, results_dir)
    every = confirmed_set(stored, stored.steps())
    most = stored.progress.get("passes", 1)
    counts = sorted({min(2 ** i, most) for i in range(most.bit_length() + 1)})
    rows = []
    for r in range(3, len(stored.rounds) + 1):
        for k in counts:
            data = HistoryData(name, machine, results_dir, passes=k, rounds=r)
            steps = data.steps()
            flagged, _ = data.canary_power()
            confirmed = confirmed_set(data, steps)
            own = [res.detectable for step in steps for label, res in step.pair.items()
                   if not data.controls[label] and not math.isnan(res.detectable)]
            seen = {f: data.injected_power(f, steps) for f in INJECTED}
            rows.append({"rounds": r, "passes": k,
                         "minutes": r * round_seconds(data, k) / 60,
                         "confirmed": len(confirmed), "not in all": len(confirmed - every),
                         "canary": len(flagged),
                         "detectable own (median)": float(np.median(own)) if own else math.nan,
                         **{f"+{round((f - 1) * 100)} % {kind}": seen[f][kind]
                            for f in INJECTED for kind in ("own", "controls", "all")}})
    return rows


def tradeoff_table(rows):
    """The grid as a markdown table (docs and reports quote it)."""
    head = ["rounds", "passes", "minutes", "confirmed", "not in all", "canary",
            "detectable own (median)", "+5 % all", "+10 % own", "+10 % controls", "+10 % all",
            "+20 % all"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [f"{row['rounds']}", f"{row['passes']}", f"{row['minutes']:.0f}",
                 f"{row['confirmed']}", f"{row['not in all']}", f"{row['canary']}",
                 f"+{(row['detectable own (median)'] - 1) * 100:.0f} %"]
        cells += [f"{row[key] * 100:.0f} %" for key in head[7:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def null_controls(name, machine, histories, results_dir=None, seed=0):
    """The report's pair and level tests on controls where no release has an effect: each
    control case's two-way residuals (release and round effects removed, rescaled to the
    model's sigma) resampled, its round effects put back, `histories` times. Returns
    {kind: (p < 0.05, p < 0.01, tests)} and the control steps confirmed in all of them: the
    tests' own false-alarm rate under the real noise, apart from whatever real small shifts
    the measured controls have."""
    rng = np.random.default_rng(seed)
    data = HistoryData(name, machine, results_dir)
    measured = {label: {s: dict(data.medians[s][label]) for s in data.tags + [data.canary]
                        if data.medians.get(s, {}).get(label)}
                for label in data.labels if data.controls[label]}
    out, confirmed = {"pair": [0, 0, 0], "level": [0, 0, 0]}, 0
    for _ in range(histories):
        for label, by_side in measured.items():
            rounds = sorted(set.intersection(*(set(v) for v in by_side.values())))
            Y = np.array([[math.log(v[r]) for r in rounds] for v in by_side.values()])
            S, R = Y.shape
            E = two_way_residuals(Y).ravel() * math.sqrt(S * R / ((S - 1) * (R - 1)))
            Z = Y.mean(0, keepdims=True) + rng.choice(E, size=(S, R))
            data.replace_values(label, {side: dict(zip(rounds, np.exp(Z[i])))
                                        for i, side in enumerate(by_side)})
        steps = data.steps()
        for kind, tally in out.items():
            ps = [getattr(step, kind)[label].p for step in steps for label in measured]
            ps = [p for p in ps if not math.isnan(p)]
            tally[0] += sum(p < 0.05 for p in ps)
            tally[1] += sum(p < 0.01 for p in ps)
            tally[2] += len(ps)
        confirmed += sum(step.confirmed(label) is not None for step in steps
                         for label in measured)
    return {kind: tuple(tally) for kind, tally in out.items()}, confirmed


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("history", help="numba or torch")
    add_machine(parser)
    parser.add_argument("--passes", action="store_true",
                        help="the trade-off of rounds and passes: the history judged on its "
                             "first 3, 4, ... rounds and first 1, 2, 4, ... passes")
    parser.add_argument("--null", type=int, metavar="N",
                        help="the pair and level tests' false alarms on N null histories of "
                             "the controls (their residuals resampled, no release effect)")
    args = parser.parse_args(argv)
    machine = args.machine
    if args.null:
        rates, confirmed = null_controls(args.history, machine, args.null)
        print(f"== {args.history} on {machine}: the controls' tests on {args.null} null "
              f"histories")
        for kind, (p05, p01, n) in rates.items():
            print(f"   {kind}: p < 0.05 in {p05}/{n} ({p05 / n * 100:.1f} %), p < 0.01 in "
                  f"{p01}/{n} ({p01 / n * 100:.1f} %)")
        print(f"   control steps confirmed: {confirmed}")
        return 0
    if args.passes:
        data = HistoryData(args.history, machine)
        print(f"== {args.history} on {machine}: the stored rounds judged on their first r "
              f"rounds and first k passes")
        if not all("pass_seconds" in e for r in data.rounds for v in r["values"].values()
                   for lab, e in v.items() if not data.controls[lab]):
            print("   (minutes: these rounds predate per-pass seconds, so the own cases' time "
                  "is scaled by k/K, which undercounts the first pass, the one that compiles)")
        print(tradeoff_table(tradeoff(args.history, machine)))
        return 0
    for stat in ("median", "min"):
        for method in ("own", "pooled"):
            result = analyse(args.history, machine, stat, method)
            print(f"== {args.history} on {machine}: statistic {stat}, test {method}")
            for key, value in result.items():
                print(f"   {key}: " + (f"{value * 100:.0f} %" if isinstance(value, float) else str(value)))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m experiments.history_power"))
