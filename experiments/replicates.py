"""Is a second pass of a case inside one worker as independent as a new worker?

    python -m tools check replicates                    # torch 2.15.0 A/A, 4 rounds x 8 passes
    python -m tools check replicates --rounds 4 --passes 8 --cases 'Gelu'

The torch history's canary pair (the newest release and its second, separately built
environment) is timed by the histories' protocol (tools/run/interleave.py: one fresh worker per
environment per round, the order rotated from case to case), except that a round holds every
case `passes` times, pass after pass; the worker drops a case's data and callable after every
timing, so each pass prepares it again. Per case and environment, a one-way analysis of
variance of the log medians splits the spread into passes inside a worker and workers:

- `sd pass`: between passes of one worker;
- `sd worker`: between workers' means of their passes; were passes as independent as workers,
  it would be sd pass / sqrt(passes) (`if independent`);
- `ICC`: the share of a single pass's variance that belongs to its worker (0: passes are as good
  as new workers; 1: a second pass adds nothing);
- `effective`: the replicates rounds x passes are worth, rounds x passes / (1 + (passes-1) ICC).

Then the A/A pair itself, each round one value per environment (the mean of its passes), by
the release verdicts' paired t: it must flag nothing, and its detectable change (one case
tested, 80 % power) is set beside the one of a single pass per round.

Writes report/replicates/MACHINE.json (MACHINE: --machine, $ASV_MACHINE or the host's name).
"""
import json
import math
import os
import re
import sys

import numpy as np

from benchmarks.cases import all_cases, subset
from tools import REPO_ROOT, ToolError, add_machine, add_rounds, at_least, command_parser, run_main, say
from tools.run.environments import CANARY_SUFFIX, kept_python
from tools.history.releases import load_history
from tools.run.interleave import case_requests
from tools.reports.tables import render
from tools.reports.verdicts import detectable_ratio, result_of_logs
from tools.results.atomic import write_json_atomic
from tools.run.interleave import measure_round

DEFAULT_CASES = (r"Gelu\.time_gelu\((100000|1000000), |Sum\.time_sum\((10000|1000000), torch|"
                 r"AxisSum\.time_axis_sum\(1000x1000, C, (rows|cols), torch")
PASS = "#pass"
HISTORY_FAMILY = 24  # torch's own cases in the seed subset: one BH family of a history step


def variance_split(logs):
    """(sd pass, sd of worker means, ICC) of {worker: [log median of each pass]}."""
    groups = [np.asarray(v, dtype=float) for v in logs.values() if len(v) > 1]
    k, p = len(groups), min(len(g) for g in groups)
    groups = [g[:p] for g in groups]
    means = np.array([g.mean() for g in groups])
    within = sum(((g - g.mean()) ** 2).sum() for g in groups) / (k * (p - 1))
    between = p * means.var(ddof=1)  # the mean square between workers
    sigma_worker = max(0.0, (between - within) / p)
    icc = sigma_worker / (sigma_worker + within) if sigma_worker + within > 0 else 0.0
    return math.sqrt(within), float(means.std(ddof=1)), icc


def measure(pythons, cases, rounds, passes, say):
    """[round] as measure_round returns them, each case timed `passes` times per worker."""
    repeated = [(f"{label}{PASS}{p}", request) for p in range(passes) for label, request in cases]
    measured = []
    for number in range(1, rounds + 1):
        say(f"round {number}/{rounds}: {len(cases)} cases x {passes} passes x "
            f"{len(pythons)} environments")
        measured.append(measure_round(number, pythons, repeated))
    return measured


def analyse(measured, labels, sides, passes):
    """{label: figures} from the rounds."""
    out = {}
    for label in labels:
        per_side, round_means = {}, {side: [] for side in sides}
        round_fastest = {side: [] for side in sides}
        for side in sides:
            logs = {}
            for rnd in measured:
                values = [rnd["values"][side].get(f"{label}{PASS}{p}") for p in range(passes)]
                logs[rnd["round"]] = [math.log(v["median"]) for v in values if v]
                if logs[rnd["round"]]:
                    round_means[side].append(float(np.mean(logs[rnd["round"]])))
                    round_fastest[side].append(min(logs[rnd["round"]]))
            per_side[side] = variance_split(logs)
        a, b = sides
        pairs = list(zip(round_means[a], round_means[b]))
        mean_pair = result_of_logs(label, [y - x for x, y in pairs])
        fastest_pair = result_of_logs(label, [y - x for x, y in zip(round_fastest[a],
                                                                    round_fastest[b])])
        first_pair = result_of_logs(label, [
            math.log(rnd["values"][b][f"{label}{PASS}0"]["median"] /
                     rnd["values"][a][f"{label}{PASS}0"]["median"]) for rnd in measured])
        sd_pass = float(np.mean([s[0] for s in per_side.values()]))
        sd_worker = float(np.mean([s[1] for s in per_side.values()]))
        icc = float(np.mean([s[2] for s in per_side.values()]))
        rounds = len(measured)
        out[label] = {
            "sd_pass": sd_pass, "sd_worker": sd_worker,
            "sd_worker_if_independent": sd_pass / math.sqrt(passes), "icc": icc,
            "effective_replicates": rounds * passes / (1 + (passes - 1) * icc),
            "aa_ratio": mean_pair.ratio, "aa_low": mean_pair.low, "aa_high": mean_pair.high,
            "aa_p": mean_pair.p, "aa_detectable": detectable_ratio(mean_pair.sd, rounds),
            "one_pass_detectable": detectable_ratio(first_pair.sd, rounds),
            "aa_fastest_ratio": fastest_pair.ratio, "aa_fastest_p": fastest_pair.p,
            "aa_fastest_detectable": detectable_ratio(fastest_pair.sd, rounds)}
    return out


def passes_tradeoff(measured, labels, sides, passes, family):
    """[{"passes", "seconds", "detectable": {label: ratio}, "fastest": {label: ratio}}] for 1,
    2, 4, ... passes: the A/A on the mean (and on the single fastest pass, the statistic tried
    before a history's fastest half) of each worker's first k passes, its detectable change at the threshold of a
    history step (BH over `family` cases), and the round's cost at k passes of every case,
    scaled from the measured seconds per timing."""
    timings = sum(len(v) for rnd in measured for v in rnd["values"].values())
    per_timing = sum(rnd["seconds"] for rnd in measured) / timings
    a, b = sides
    out, k = [], 1
    while k <= passes:
        detectable, fastest = {}, {}
        for label in labels:
            d, f = [], []
            for rnd in measured:
                logs = [[math.log(rnd["values"][side][f"{label}{PASS}{p}"]["median"])
                         for p in range(k)] for side in (a, b)]
                d.append(np.mean(logs[1]) - np.mean(logs[0]))
                f.append(min(logs[1]) - min(logs[0]))
            detectable[label] = detectable_ratio(result_of_logs(label, d).sd, len(measured),
                                                 family)
            fastest[label] = detectable_ratio(result_of_logs(label, f).sd, len(measured),
                                              family)
        out.append({"passes": k, "seconds": per_timing * k * len(labels) * len(sides),
                    "detectable": detectable, "fastest": fastest})
        k *= 2
    return out


def tradeoff_table(tradeoff):
    """Each cell: detectable on the mean of the passes / on the fastest pass."""
    labels = list(tradeoff[0]["detectable"])

    def cell(t, key, label=None):
        v = [t[key].get(label, math.nan)] if label else list(t.get(key, {}).values())
        return f"+{(float(np.median(v)) - 1) * 100:.0f} %" if v else "-"

    rows = [[label] + [f"{cell(t, 'detectable', label)} / {cell(t, 'fastest', label)}"
                       for t in tradeoff] for label in labels]
    rows.append(["median over the cases"] + [
        f"{cell(t, 'detectable')} / {cell(t, 'fastest')}" for t in tradeoff])
    rows.append(["seconds a round (these cases)"] + [f"{t['seconds']:.0f}" for t in tradeoff])
    return render(["case"] + [f"{t['passes']} pass{'es' if t['passes'] > 1 else ''}"
                              for t in tradeoff], rows, False)


def table(figures):
    def pct(x):
        return f"{x * 100:.1f} %"

    rows = [[label, pct(f["sd_pass"]), pct(f["sd_worker"]), pct(f["sd_worker_if_independent"]),
             f"{f['icc']:.2f}", f"{f['effective_replicates']:.0f}",
             f"{f['aa_ratio']:.3f} [{f['aa_low']:.3f}, {f['aa_high']:.3f}]",
             f"+{(f['aa_detectable'] - 1) * 100:.0f} %",
             f"+{(f['one_pass_detectable'] - 1) * 100:.0f} %",
             f"{f['aa_fastest_ratio']:.3f} (p {f['aa_fastest_p']:.2f})",
             f"+{(f['aa_fastest_detectable'] - 1) * 100:.0f} %"] for label, f in figures.items()]
    return render(["case", "sd pass", "sd worker", "if independent", "ICC", "effective",
                   "A/A (mean of passes)", "detectable", "one pass: detectable",
                   "A/A (fastest pass)", "detectable"], rows, False)


def main(argv=None):
    parser = command_parser(__doc__)
    add_rounds(parser, 4)
    parser.add_argument("--passes", type=at_least(2), default=8)
    parser.add_argument("--cases", default=DEFAULT_CASES,
                        help="regular expression on the seed subset's case labels")
    add_machine(parser)
    parser.add_argument("--stored", action="store_true",
                        help="time nothing: analyse report/replicates/MACHINE.json again")
    args = parser.parse_args(argv)
    machine = args.machine
    path = os.path.join(REPO_ROOT, "report", "replicates", f"{machine}.json")
    if args.stored:
        if not os.path.isfile(path):
            raise ToolError(f"no replicates measured on {machine}: {path} is missing")
        with open(path) as f:
            stored = json.load(f)
        report(stored, path)
        return 0
    history = load_history("torch")
    release = history.releases[-1].tag
    sides = [release, release + CANARY_SUFFIX]
    pythons = {side: kept_python("torch", side) for side in sides}
    pattern = re.compile(args.cases)
    cases = [(label, request) for label, request in case_requests(all_cases(subset("seed")))
             if pattern.search(label)]
    if not cases:
        raise ToolError(f"no case of the seed subset matches {args.cases!r}")
    measured = measure(pythons, cases, args.rounds, args.passes, say)
    stored = {"machine": machine, "pair": sides, "rounds": args.rounds, "passes": args.passes,
              "cases": [label for label, _ in cases], "measured": measured}
    write_json_atomic(path, stored)  # first: nothing measured is lost to the analysis
    report(stored, path)
    return 0


def report(stored, path):
    """Analyse the stored rounds, save the figures beside them, print both tables."""
    measured, sides, passes = stored["measured"], stored["pair"], stored["passes"]
    labels = stored.get("cases") or sorted({k.split(PASS)[0] for k in
                                            measured[0]["values"][sides[0]]})
    stored["figures"] = analyse(measured, labels, sides, passes)
    stored["tradeoff"] = passes_tradeoff(measured, labels, sides, passes, HISTORY_FAMILY)
    write_json_atomic(path, stored)
    print(table(stored["figures"]))
    print(f"\nDetectable change of one history step (BH over {HISTORY_FAMILY} cases, "
          f"{len(measured)} rounds) on the mean / the fastest of each worker's first k passes:")
    print(tradeoff_table(stored["tradeoff"]))
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m experiments.replicates"))
