"""Does importing torch slow code that does not use it? Paired, per torch release.

    python -m tools check import-cost                      # torch 2.5.1, 2.8.0, 2.15.0
    python -m tools check import-cost --releases 2.7.1,2.8.0 --rounds 8

In each torch release's kept history environment (.asv/history-envs/torch/; build them with
`python -m tools history envs torch`), two workers per round, the histories' own protocol
(tools/run/interleave.py: fresh processes, every case timed by both back to back, the order
rotated): one with torch imported before anything is timed (benchmarks/__init__.py, as every
timing process of the suite does), one without (ARRAY_OP_BENCH_PRELOAD=0). The cases use no
torch: Python loops and NumPy sums. Each case's ratio (imported / not) is judged by the release
verdicts' statistics, with its interval and the smallest change the rounds could detect.
Writes report/import-cost/MACHINE.json and prints the table.
"""
import os
import sys

import numpy as np

from benchmarks.cases import all_cases

from tools import REPO_ROOT, add_machine, add_rounds, command_parser, run_main
from tools.run.environments import kept_python
from tools.reports.tables import render
from tools.reports.verdicts import judge, result_of_logs
from tools.results.atomic import write_json_atomic
from tools.run.interleave import case_requests, measure_round, round_logs

SIDES = {"imported": {"ARRAY_OP_BENCH_PRELOAD": "1"}, "not": {"ARRAY_OP_BENCH_PRELOAD": "0"}}
# The A/A: both workers without torch, judged the same way (what the method flags by itself).
AA_SIDES = {"imported": {"ARRAY_OP_BENCH_PRELOAD": "0"}, "not": {"ARRAY_OP_BENCH_PRELOAD": "0"}}


def chosen_cases():
    """Python loops and NumPy reductions, no torch: what the old history saw drift."""
    def wanted(c):
        v = c.values
        if c.cls == "Sum":
            return v["device"] == "cpu" and (
                (v["impl"] == "python_loop" and v["size"] in (10_000, 1_000_000))
                or (v["impl"] == "numpy_sum" and v["size"] in (10_000, 10_000_000)))
        return (c.cls == "AxisSum" and v["library"] == "numpy" and v["device"] == "cpu"
                and v["shape"] == "10000x10000" and v["layout"] == "C")
    return [c for c in all_cases() if wanted(c)]


def measure(release, rounds, cases, sides=SIDES, say=print):
    python = kept_python("torch", f"torch-{release}")
    pythons = {side: python for side in sides}
    out = []
    for r in range(1, rounds + 1):
        rnd = measure_round(r, pythons, case_requests(cases), envs=sides)
        out.append(rnd)
        say(f"torch {release}: round {r}/{rounds} ({rnd['seconds']:.0f} s)")
    return out


def verdicts(rounds_data, cases):
    results = []
    for case in cases:
        d = round_logs(rounds_data, "not", "imported", case.label)
        results.append(result_of_logs(case.label, d))
    return judge(results)


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--releases", default="2.5.1,2.8.0,2.15.0")
    add_rounds(parser, 6)
    add_machine(parser)
    parser.add_argument("--aa", action="store_true",
                        help="also an A/A in the first release: both workers without torch")
    args = parser.parse_args(argv)
    cases, machine = chosen_cases(), args.machine
    data, rows = {}, []
    runs = [(release, release, SIDES) for release in args.releases.split(",")]
    if args.aa:
        first = runs[0][0]
        runs.append((f"{first} A/A", first, AA_SIDES))
    for name, release, sides in runs:
        data[name] = measure(release, args.rounds, cases, sides)
        for r in verdicts(data[name], cases):
            medians = [rnd["values"]["not"][r.case]["median"] for rnd in data[name]]
            rows.append([name, r.case, f"{np.median(medians) * 1e3:.3g} ms",
                         f"{r.ratio:.3f}x [{r.low:.3f}, {r.high:.3f}]", f"{r.q:.2g}",
                         r.verdict, f"±{(r.detectable - 1) * 100:.0f} %"])
    path = os.path.join(REPO_ROOT, "report", "import-cost", f"{machine}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json_atomic(path, {"machine": machine, "rounds": data})
    print(render(["torch", "case (no torch in it)", "time, not imported",
                  "imported / not [95 % CI]", "q", "verdict (slower = REGRESSION)",
                  "detectable"], rows,
                 markdown=True))
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m experiments.import_cost"))
