"""Is a step a release's, or one harness's? The same cases, two torch releases, three launchers.

    python -m tools check harness                              # torch 2.7.1 vs 2.8.0
    python -m tools check harness --releases 2.5.1,2.15.0 --rounds 6

The old histories ran asv with its forkserver (one process imports the suite, torch with it,
and forks one child per case); the release pairs and today's histories time in fresh worker
processes (tools/run/pair_worker.py). A step seen under one and not the other belongs to the
harness. Each round runs, for every release in rotated order, every launcher in rotated order:

- `asv forkserver`: `asv run --launch-method forkserver` (what the main job uses),
- `asv spawn`: `asv run --launch-method spawn` (one fresh process per case),
- `fresh worker`: the histories' worker, one process for all cases of the round.

All three use one interpreter per release: an overlay of its kept history environment
(.asv/history-envs/torch/) with asv_runner 0.2.5 added, the suite's pin (.asv/harness-overlay/).
Per launcher, each case's later/earlier release ratio is judged by the release verdicts'
statistics; per release, each asv launcher is set against the fresh worker the same way.
asv's results go to a scratch folder. Writes report/harness/MACHINE.json and prints the tables.
"""
import math
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np

from benchmarks.cases import all_cases
from benchmarks.common import DATA_CACHE_VAR

from tools import REPO_ROOT, ToolError, add_machine, add_rounds, at_least, command_parser, run_main
from tools.run.environments import kept_python, overlay, pip_into
from tools.reports.tables import render
from tools.reports.verdicts import judge, result_of_logs
from tools.results.atomic import write_json_atomic
from tools.results.rows import load_rows, result_files
from tools.run.asv_config import asv_checked, head_commit, scratch_config
from tools.run.interleave import DATA_CACHE, case_requests, measure_round, round_order

OVERLAY_ROOT = os.path.join(REPO_ROOT, ".asv", "harness-overlay")
RUNNER = "0.2.5"  # asv.conf.json's pin
LAUNCHERS = ("asv forkserver", "asv spawn", "fresh worker")


def chosen_cases():
    """The old history's two puzzles: torch.from_numpy(x).sum() at 1M (question 2), and code
    that uses no torch (question 3): a Python loop and NumPy row sums."""
    def wanted(c):
        v = c.values
        if c.cls == "Sum":
            return v["device"] == "cpu" and v["size"] == 1_000_000 and v["impl"] in (
                "torch_from_numpy", "torch_tensor", "python_loop")
        return (c.cls == "AxisSum" and v["library"] == "numpy" and v["device"] == "cpu"
                and v["shape"] == "10000x10000" and v["layout"] == "C" and v["axis"] == "rows")
    return [c for c in all_cases() if wanted(c)]


def overlay_python(release):
    """A venv whose site-packages hold asv_runner only and read the kept environment's
    packages after it: asv can run there, and the kept environment is not touched."""
    kept = kept_python("torch", f"torch-{release}")
    return overlay(os.path.join(OVERLAY_ROOT, f"torch-{release}"), kept,
                   lambda site: pip_into(site, f"asv_runner=={RUNNER}"))


def asv_round(python, launcher, cases, scratch, extra_env=None):
    """{label: {"median", "samples"}} from one `asv run` of every case in `python`."""
    config = scratch_config(scratch)
    asv_checked(["machine", "--yes"], config)
    regex = "|".join(case.regex for case in cases)
    asv_checked(["run", "-E", f"existing:{python}", "--set-commit-hash", head_commit(),
             "--launch-method", launcher, "--record-samples", "--bench", regex], config,
            env={**os.environ, DATA_CACHE_VAR: DATA_CACHE, **(extra_env or {})})
    results_dir = os.path.join(scratch, "results")
    labels = {case.label for case in cases}
    out = {row.label: {"median": row.value, "samples": list(row.samples or ())}
           for row in load_rows(result_files(results_dir)[0], results_dir)
           if row.label in labels and not math.isnan(row.value)}
    shutil.rmtree(results_dir, ignore_errors=True)
    return out


def worker_round(number, python, cases, extra_env=None):
    rnd = measure_round(number, {"one": python}, case_requests(cases),
                        envs={"one": extra_env or {}})
    return {label: {"median": v["median"], "samples": v["samples"]}
            for label, v in rnd["values"]["one"].items()}


def measure(releases, rounds, cases, extra_env=None, say=print):
    pythons = {r: overlay_python(r) for r in releases}
    data = []
    with tempfile.TemporaryDirectory(prefix="harness-") as scratch:
        for number in range(1, rounds + 1):
            rnd = {"round": number, "values": {r: {} for r in releases}}
            for i, release in enumerate(round_order(releases, 0, number)):
                for launcher in round_order(LAUNCHERS, i, number):
                    if launcher == "fresh worker":
                        got = worker_round(number, pythons[release], cases, extra_env)
                    else:
                        got = asv_round(pythons[release], launcher.split()[1], cases,
                                        os.path.join(scratch, "asv"), extra_env)
                    rnd["values"][release][launcher] = got
            data.append(rnd)
            say(f"harness: round {number}/{rounds} done")
    return data


def paired(data, case, a, b):
    """Judge b/a of one case over the rounds; a and b are (release, launcher)."""
    logs = []
    for rnd in data:
        va = rnd["values"][a[0]].get(a[1], {}).get(case.label)
        vb = rnd["values"][b[0]].get(b[1], {}).get(case.label)
        if va and vb:
            logs.append(math.log(vb["median"] / va["median"]))
    return result_of_logs(case.label, logs)


def level(data, case, release, launcher):
    values = [rnd["values"][release][launcher][case.label]["median"] for rnd in data
              if case.label in rnd["values"][release].get(launcher, {})]
    return float(np.median(values)) if values else float("nan")


def tables(data, releases, cases):
    """(release steps per launcher, launcher vs fresh worker per release) as table rows."""
    first, last = releases[0], releases[-1]
    steps = []
    for launcher in LAUNCHERS:
        judged = judge([paired(data, c, (first, launcher), (last, launcher)) for c in cases])
        for case, r in zip(cases, judged):
            steps.append([launcher, case.label, _us(level(data, case, first, launcher)),
                          _us(level(data, case, last, launcher)),
                          f"{r.ratio:.3f}x [{r.low:.3f}, {r.high:.3f}]", r.verdict,
                          f"±{(r.detectable - 1) * 100:.0f} %"])
    versus = []
    for release in releases:
        for launcher in LAUNCHERS[:2]:
            judged = judge([paired(data, c, (release, "fresh worker"), (release, launcher))
                            for c in cases])
            for case, r in zip(cases, judged):
                versus.append([release, launcher, case.label,
                               f"{r.ratio:.3f}x [{r.low:.3f}, {r.high:.3f}]", r.verdict])
    return steps, versus


def _us(seconds):
    return f"{seconds * 1e6:.4g} µs" if seconds < 1e-3 else f"{seconds * 1e3:.4g} ms"


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--releases", default="2.7.1,2.8.0",
                        help="two torch releases with kept history environments")
    add_rounds(parser, 6)
    parser.add_argument("--threads", type=at_least(1),
                        help="OMP_NUM_THREADS for every timing process (default: unset, torch "
                             "takes every core); the file is then MACHINE-threads-N.json")
    add_machine(parser)
    args = parser.parse_args(argv)
    releases = args.releases.split(",")
    if len(releases) != 2 or releases[0] == releases[1]:
        raise ToolError("--releases takes two different torch releases, e.g. 2.7.1,2.8.0")
    cases, machine = chosen_cases(), args.machine
    threads = {"OMP_NUM_THREADS": str(args.threads)} if args.threads else None
    try:
        data = measure(releases, args.rounds, cases, threads)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(str(exc))
    steps, versus = tables(data, releases, cases)
    name = machine + (f"-threads-{args.threads}" if args.threads else "")
    path = os.path.join(REPO_ROOT, "report", "harness", f"{name}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json_atomic(path, {"machine": machine, "releases": releases,
                             "python": sysconfig.get_python_version(), "rounds": data})
    print(render(["launcher", "case", f"torch {releases[0]}", f"torch {releases[1]}",
                  "later / earlier [95 % CI]", "verdict", "detectable"], steps, markdown=True))
    print()
    print(render(["torch", "launcher", "case", "launcher / fresh worker [95 % CI]", "verdict"],
                 versus, markdown=True))
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m experiments.harness"))
