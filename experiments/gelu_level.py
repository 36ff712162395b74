"""What chooses the compiled GELU's level? One variable at a time, each arm paired with the
plain bare process by round.

    python -m tools check gelu-level                     # torch 2.13.0, 1M elements, 4 rounds
    python -m tools check gelu-level --release 2.11.0 --rounds 6 --mode eager

Every timing is one fresh bare process (tools/run/bare_case.py: numpy and torch imported,
nothing of the suite, nothing timed before the case) in the torch history's kept environment
of the release. The arms change one thing each:

- `plain`: as a user runs it (the shared inductor cache in its default folder);
- `fresh cache`: TORCHINDUCTOR_CACHE_DIR a new empty folder (first compile, not a cached load);
- `compile threads 1`: TORCHINDUCTOR_COMPILE_THREADS=1 (no pool of compile workers);
- `one thread`: OMP_NUM_THREADS=1 (the kernel's `#pragma omp parallel` on one thread);
- `busy neighbour`: a Python busy loop runs on the other core while the case is timed;
- `fixed malloc`: glibc's mmap and trim thresholds fixed (as the workers' WORKER_ENV).

In every round the arms run in an order rotated from round to round; each arm's round is
paired with the plain arm's of the same round (log ratio, t-interval: the release verdicts'
statistics). Writes report/gelu-level/MACHINE-RELEASE-MODE.json (MACHINE: $ASV_MACHINE or the
host's name) and prints the table.
"""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

from tools import (REPO_ROOT, ToolError, add_rounds, at_least, command_parser, machine_name,
                   run_main)
from tools.run.environments import kept_python
from tools.reports.tables import render
from tools.reports.verdicts import result_of_logs
from tools.results.atomic import write_json_atomic
from tools.run.interleave import WORKER_ENV, round_order, time_bare

ARMS = {"plain": {}, "fresh cache": {"TORCHINDUCTOR_CACHE_DIR": None},
        "compile threads 1": {"TORCHINDUCTOR_COMPILE_THREADS": "1"},
        "one thread": {"OMP_NUM_THREADS": "1"}, "busy neighbour": {},
        "fixed malloc": {k: v for k, v in WORKER_ENV.items() if k.startswith("MALLOC")}}
BUSY = "while True: pass"
STATE_PROBE = os.path.join(REPO_ROOT, "experiments", "gelu_state_probe.py")
WITNESS, BASE = "compiled exp", "compiled polynomial"
SLOW_FACTOR = 1.5


def run_arm(python, arm, request):
    """(median seconds, faults per call) of one fresh bare process under `arm`."""
    env = dict(os.environ)
    for var in ("TORCHINDUCTOR_CACHE_DIR", "TORCHINDUCTOR_COMPILE_THREADS", "OMP_NUM_THREADS",
                *WORKER_ENV):
        env.pop(var, None)
    with tempfile.TemporaryDirectory() as cwd:
        for var, value in ARMS[arm].items():
            env[var] = value if value is not None else os.path.join(cwd, "inductor-cache")
        busy = subprocess.Popen([sys.executable, "-c", BUSY]) if arm == "busy neighbour" \
            else None
        try:
            answer = time_bare(python, request, env, cwd)
        finally:
            if busy:
                busy.kill()
                busy.wait()
    return answer["median"], answer["faults_per_call"]


def one_second_bins(rows):
    """[second, median of each series...] per whole second of a probe's rows."""
    by_second = {}
    for row in rows:
        by_second.setdefault(int(row[0]), []).append(row[1:])
    return [[second] + [statistics.median(col) for col in zip(*values)]
            for second, values in sorted(by_second.items())]


def split_states(processes, series):
    """{"fast_level", "slow_bins", "bins", "per series": {name: (fast, slow median)},
    "processes": [(starts slow, changes of state)]} from {round: bins}. A bin is slow where
    witness / base reads over SLOW_FACTOR x its 10th percentile over all bins."""
    w, b0 = series.index(WITNESS) + 1, series.index(BASE) + 1
    ratio = {r: [b[w] / b[b0] for b in bins] for r, bins in processes.items()}
    level = statistics.quantiles([v for vs in ratio.values() for v in vs], n=10)[0]
    slow = {r: [v > SLOW_FACTOR * level for v in vs] for r, vs in ratio.items()}
    per = {}
    for i, name in enumerate(series, 1):
        cells = [(b[i], s) for r, bins in processes.items() for b, s in zip(bins, slow[r])]
        fast_v = [v for v, s in cells if not s]
        slow_v = [v for v, s in cells if s]
        per[name] = (statistics.median(fast_v) if fast_v else math.nan,
                     statistics.median(slow_v) if slow_v else math.nan)
    return {"fast_level": level, "bins": sum(len(v) for v in slow.values()),
            "slow_bins": sum(sum(v) for v in slow.values()), "per_series": per,
            "processes": [(v[0], sum(a != b for a, b in zip(v, v[1:])))
                          for v in slow.values() if v]}


def run_state(args, python):
    processes, series, errors = {}, None, []
    for number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as cwd:
            proc = subprocess.run(
                [python, STATE_PROBE, json.dumps({"seconds": args.state, "size": args.size})],
                cwd=cwd, text=True, capture_output=True, env={**os.environ, **WORKER_ENV})
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"the state probe failed in {python}: {tail}")
        answer = json.loads(lines[-1])
        series = answer["series"]
        errors.append(answer["gelu_max_relative_error"])
        processes[number] = one_second_bins(answer["rows"])
        print(f"round {number}/{args.rounds}: {len(processes[number])} s", flush=True)
    found = split_states(processes, series)
    rows = [[name, f"{fast:.1f}", f"{slow:.1f}", f"{slow / fast:.2f}x"]
            for name, (fast, slow) in found["per_series"].items()]
    print(render(["series", "fast bins: median µs", "slow bins: median µs", "slow / fast"],
                 rows, True))
    starts = sum(s for s, _ in found["processes"])
    changes = sum(c for _, c in found["processes"])
    print(f"slow bins: {found['slow_bins']} of {found['bins']} (witness over "
          f"{SLOW_FACTOR} x {found['fast_level']:.2f} {BASE}); processes starting slow: "
          f"{starts} of {len(found['processes'])}; changes of state inside them: {changes}; "
          f"compiled GELU's largest relative error vs float64: {max(errors):.1e}")
    path = os.path.join(REPO_ROOT, "report", "gelu-level",
                        f"{machine_name()}-{args.release}-state.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json_atomic(path, {"release": args.release, "size": args.size,
                             "seconds": args.state, "series": series, "witness": WITNESS,
                             "slow_factor": SLOW_FACTOR, **found, "bins_by_round": processes})
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    return 0


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--release", default="2.13.0", help="torch release (default 2.13.0)")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--mode", default="compiled", choices=("compiled", "eager"))
    add_rounds(parser, 4)
    parser.add_argument("--arms", default=",".join(ARMS),
                        help="comma-separated, 'plain' always included (default: all)")
    parser.add_argument("--state", type=at_least(10, " seconds: one probe process runs that long"),
                        metavar="SECONDS", help="time the state probe instead of the arms")
    args = parser.parse_args(argv)
    if args.state:
        return run_state(args, kept_python("torch", f"torch-{args.release}"))
    arms = ["plain"] + [a for a in args.arms.split(",") if a and a != "plain"]
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise ToolError(f"unknown arm(s) {', '.join(unknown)}: choose from {', '.join(ARMS)}")
    python = kept_python("torch", f"torch-{args.release}")
    request = {"family": "Gelu", "size": args.size, "mode": args.mode}
    values = {arm: {} for arm in arms}
    faults = {arm: [] for arm in arms}
    for number in range(1, args.rounds + 1):
        for arm in round_order(arms, 0, number):
            values[arm][number], f = run_arm(python, arm, request)
            faults[arm].append(f)
        print(f"round {number}/{args.rounds}: " + ", ".join(
            f"{a} {values[a][number] * 1e3:.3f} ms" for a in arms), flush=True)
    rows, out = [], {}
    for arm in arms:
        d = [math.log(values[arm][r] / values["plain"][r]) for r in values["plain"]]
        res = result_of_logs(arm, d)
        ms = [v * 1e3 for v in values[arm].values()]
        out[arm] = {"ms": ms, "faults_per_call": faults[arm], "ratio": res.ratio,
                    "low": res.low, "high": res.high, "p": res.p}
        rows.append([arm, f"{statistics.median(ms):.3f}", f"{min(ms):.3f}-{max(ms):.3f}",
                     f"{statistics.median(faults[arm]):.0f}",
                     "1" if arm == "plain" else f"{res.ratio:.2f} [{res.low:.2f}, {res.high:.2f}]"])
    table = render(["arm", "median ms", "range ms", "faults/call", "vs plain [95 % CI]"],
                   rows, True)
    print(table)
    path = os.path.join(REPO_ROOT, "report", "gelu-level",
                        f"{machine_name()}-{args.release}-{args.mode}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json_atomic(path, {"release": args.release, "size": args.size, "mode": args.mode,
                             "rounds": args.rounds, "arms": out})
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m experiments.gelu_level"))
