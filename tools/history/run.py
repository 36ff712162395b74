"""Run a release history: every release in its own kept environment, all releases interleaved
case by case, round after round; resumable, and more rounds can be added later.

    python -m tools history numba                # seed subset, 5 rounds, resumes if stopped
    python -m tools history torch --rounds 10    # add rounds to a finished history
    python -m tools history numba --fresh        # measure everything again from round 1
    python -m tools history numba --subset tiny --rounds 3 --scratch DIR \\
        --releases-file FILE                     # a throw-away history (the tests)

The protocol is the release pairs' (tools/run/interleave.py), generalised from 2 environments
to N: each round starts one fresh worker per release, and every case is timed in every release
back to back, in an order rotated from case to case and round to round, so any two releases
of a case, consecutive or not, were measured seconds apart in every round. One release (the
canary, default the newest) is also built a second time, separately, and measured as if it
were one more release: its pair with itself is an A/A comparison inside every run, and must
flag nothing (tools/history/steps.py reports it).

Environments are built once with uv and kept (tools/run/environments.py); rounds never install.
rounds.json beside the results holds every round's samples of every release (saved after
each round, atomically); a stopped run resumes at the first unfinished round. asv's result
files (one per release on the ledger's commit axis) are written from it after every round.
"""
import json
import os
import sys
import time
from datetime import datetime, timezone

from benchmarks.cases import all_cases, subset

from .. import REPO_ROOT, ToolError, add_machine, add_rounds, at_least, command_parser, machine_name, run_main, say
from ..results.asv_launcher import run_asv
from ..results.atomic import write_json_atomic
from ..results.config import write_derived_config
from ..run.asv_config import head_commit
from ..run.interleave import case_requests, measure_round, with_passes
from ..run.measure_pair import check_pair
from ..run.preflight import refusal, skipped_everywhere, uneven
from ..run import preflight
from ..run.provenance import collect_from
from . import asv_results, ledger
from .asv_results import write_asv_results
from ..run.environments import CANARY_SUFFIX, ENV_ROOT
from .envs import build_all
from .paths import ROUNDS_FILE, config_path, resolved
from .releases import RELEASES_FILE, load_history
from .subset import SUBSET_NAMES

FORMAT = 2  # rounds.json of interleaved histories (format 1: one asv step per release)
# What fits the time budget on 2 cores (numba's history: 5 rounds in 45.6 min, torch's: 4 in
# 52 min); the reports measure what it detects and extrapolate what more rounds would (docs/releases.md).
DEFAULT_ROUNDS = 5
# Passes of each of the history library's own cases per worker and round (controls: one), for
# a new history; a stored one keeps its own. Passes are nearly as independent as workers
# (report/replicates/) and cost a fraction of a worker's start-up. In the GELU history on
# epyc-avx512-2core, 4 passes took most of the spread's fall (median of torch's cases 22 %
# at 1 pass, 11 % at 4, 9 % at 8) for 1.5x a round's time, 8 passes 2.2x (docs/methodology.md).
DEFAULT_PASSES = 4


def case_passes(cases, library, passes):
    """{label: passes per worker and round}: `passes` for the cases that run `library`'s
    code, one for the controls (quiet, and only there to watch the machine)."""
    return {case.label: 1 if case.is_control(library) else passes for case in cases}


def load_progress(path, expected, fresh):
    """The stored run if it is this very history (same releases, canary, subset, cases),
    else a fresh one. Another subset's rounds are never overwritten."""
    data = None
    if os.path.isfile(path) and not fresh:
        with open(path) as f:
            data = json.load(f)
        data.setdefault("passes", 1)  # histories from before --passes timed each case once
        if expected["passes"] is None and data.get("measured"):
            expected = dict(expected, passes=data["passes"])  # a stored history keeps its own
        if data["passes"] != expected["passes"] and data.get("measured"):
            raise ToolError(f"{os.path.relpath(path, REPO_ROOT)} was measured with "
                            f"{data['passes']} passes a round: add rounds with --passes "
                            f"{data['passes']}, or measure again with --fresh")
        same = all(data.get(k) == v for k, v in expected.items() if k != "rounds")
        if same and data.get("format") == FORMAT:
            data["rounds"] = expected["rounds"]  # a larger target adds rounds
            return data
        if data.get("subset") != expected["subset"] and data.get("measured"):
            raise ToolError(
                f"{os.path.relpath(path, REPO_ROOT)} holds the {data.get('subset')!r} subset's "
                f"rounds; measure {expected['subset']!r} with --scratch DIR (or --machine NAME)")
    fresh_run = dict(expected, format=FORMAT, measured=[],
                     passes=expected["passes"] or DEFAULT_PASSES)
    if data is not None and not data.get("measured") and "preflight" in data and all(
            data.get(k) == v for k, v in expected.items() if k not in ("rounds", "passes")):
        # passes changed before round 1: preparing a case does not depend on its passes,
        # so the same environments' preflight stands (it takes 15 min for torch)
        fresh_run["preflight"] = data["preflight"]
    return fresh_run


def installed_record(side, record, versions):
    """installed/TAG.json: what the release's environment holds, how it was built, and what
    its interpreter reports (threads, CPU, the torch build)."""
    build = {"version": versions.get("torch"), "cuda": versions.get("torch_cuda")}
    return {"release": side, "requirements": record["requirements"],
            "pip_config": record["pip_config"], "installer": record["installer"],
            "packages": record["packages"], "install_seconds": record["install_seconds"],
            "own_bytes": record["own_bytes"], "shared_bytes": record["shared_bytes"],
            "reused": record["reused"], "built": record["finished"],
            "torch_build": build, "interpreter": versions}


def run_history(name, rounds=DEFAULT_ROUNDS, subset_name="seed", fresh=False, scratch=None,
                releases_file=RELEASES_FILE, machine=None, canary=None, allow_gaps=False,
                probe_rounds=3, passes=None):
    history = load_history(name, releases_file)
    machine = machine or machine_name()
    canary = canary or history.releases[-1].tag
    history.release(canary)  # an unknown canary: one line, before anything is built
    if scratch:
        commits = ledger.generate(name, releases_file, root=os.path.join(scratch, "ledger"))
        results_dir = os.path.join(scratch, "results")
        env_root = os.path.join(scratch, "env")
    else:
        if releases_file != RELEASES_FILE:
            raise ToolError("another release list needs --scratch: the committed "
                                   "history is made from history/releases.json")
        commits = ledger.generate(name)
        results_dir = resolved(config_path(name), "results_dir")
        env_root = ENV_ROOT
    cases = all_cases(subset(subset_name))
    out_dir = os.path.join(results_dir, machine)
    os.makedirs(os.path.join(out_dir, "installed"), exist_ok=True)
    progress_path = os.path.join(out_dir, ROUNDS_FILE)
    expected = {"history": name, "machine": machine, "subset": subset_name, "rounds": rounds,
                "library": history.library, "ledger": dict(commits),
                "canary": canary + CANARY_SUFFIX, "cases": [c.label for c in cases],
                "passes": passes}
    progress = load_progress(progress_path, expected, fresh)
    passes = progress["passes"]

    t_build = time.monotonic()
    records = build_all(history, canary, env_root, say)
    versions = {side: collect_from(record["python"]) for side, record in records.items()}
    reference = versions[history.releases[-1].tag]
    for side, v in versions.items():  # only the history's library may differ
        check_pair(history.library, {"A": reference, "B": v})
    progress["sides"] = {side: {"tag": record["tag"], "commit": dict(commits)[record["tag"]],
                                "python": os.path.relpath(record["python"], REPO_ROOT),
                                "versions": versions[side]}
                         for side, record in records.items()}
    progress["environments"] = {"seconds": round(time.monotonic() - t_build, 1),
                                "records": {side: {k: r[k] for k in (
                                    "install_seconds", "own_bytes", "shared_bytes", "reused")}
                                    for side, r in records.items()}}
    for side, record in records.items():
        if not side.endswith(CANARY_SUFFIX):
            write_json_atomic(os.path.join(out_dir, "installed", f"{side}.json"),
                              installed_record(side, record, versions[side]))

    if run_asv(["machine", "--yes", "--machine", machine],
               _asv_config(name, scratch, results_dir)).returncode != 0:
        raise RuntimeError("asv machine failed")
    from asv.machine import Machine

    Machine.load(machine_name=machine).save(results_dir)  # results/MACHINE/machine.json
    benchmarks = asv_results.discover(results_dir)
    pythons = {side: record["python"] for side, record in records.items()}
    work = case_requests(cases)
    timed = with_passes(work, case_passes(cases, history.library, passes))
    done = len(progress["measured"])
    if "preflight" not in progress:  # a stored one is of these very environments
        run_preflight(progress, pythons, work, allow_gaps)
        write_json_atomic(progress_path, progress)
    say(f"{name} history on {machine}: {len(history.releases)} releases + canary "
        f"{canary}, {len(cases)} cases ({subset_name}), {len(timed)} timings a worker, rounds "
        f"{done + 1}..{rounds}")
    start = time.monotonic()
    for number in range(done + 1, rounds + 1):
        t0 = time.monotonic()

        def progress_line(i, n, number=number, t0=t0):
            if i % 8 == 0 or i == n:
                print(f"   round {number}: {i}/{n} timings, {time.monotonic() - t0:.0f} s",
                      flush=True)

        rnd = measure_round(number, pythons, timed, progress=progress_line)
        rnd["commit"] = head_commit()
        rnd["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        progress["measured"].append(rnd)
        write_json_atomic(progress_path, progress)
        write_asv_results(history, progress, results_dir, machine, benchmarks)
        elapsed = time.monotonic() - start
        left = (rounds - number) * elapsed / (number - done)
        say(f"round {number}/{rounds} in {rnd['seconds']:.0f} s; {elapsed / 60:.1f} min so "
            f"far, about {left / 60:.0f} min to go")
    write_asv_results(history, progress, results_dir, machine, benchmarks)
    asv_results.keep_measured(results_dir)  # the dashboard's grid: the history's cases only
    if probe_rounds and done < rounds:
        from .probe import probe_history

        probe_history(name, machine, probe_rounds, results_dir, say)
    say(f"{name} history: {rounds - done} rounds in {(time.monotonic() - start) / 60:.1f} min "
        f"(environments {progress['environments']['seconds']:.0f} s)")
    return True


def run_preflight(progress, pythons, work, allow_gaps):
    """Every case prepared once in every release before round 1 (tools/run/preflight.py).
    The outcome is stored: {"skipped": {label: reason}} for a case no release can prepare
    (no GPU), {"gaps": {label: {side: reason}}} where --allow-gaps measured around them."""
    t0 = time.monotonic()

    def line(side, outcome):
        bad = sum(why is not None for why in outcome.values())
        print(f"   preflight {side}: {len(outcome) - bad} prepared, {bad} not "
              f"({time.monotonic() - t0:.0f} s)", flush=True)

    say(f"preflight: every case prepared once in each of {len(pythons)} environments")
    outcome = preflight.prepare_all(pythons, work, line)
    gaps = uneven(outcome)
    if gaps and not allow_gaps:
        raise ToolError(refusal(gaps) + "\n(--allow-gaps measures anyway, with each "
                             "gap's reason stored and shown)")
    progress["preflight"] = {"seconds": round(time.monotonic() - t0, 1),
                             "skipped": skipped_everywhere(outcome), "gaps": gaps}


def _asv_config(name, scratch, results_dir):
    """The history's asv config (only `asv machine` runs through it here)."""
    if not scratch:
        return config_path(name)
    return write_derived_config(
        os.path.join(scratch, f"{name}.asv.conf.json"), config_path(name),
        repo=os.path.join(scratch, "ledger", name), results_dir=results_dir,
        env_dir=os.path.join(scratch, "asv-env"), html_dir=os.path.join(scratch, "html"),
        benchmark_dir=os.path.join(REPO_ROOT, "benchmarks"))


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("history", help="numba or torch (history/releases.json)")
    add_rounds(parser, DEFAULT_ROUNDS, more="; more than a stored run has adds rounds to it")
    parser.add_argument("--subset", default="seed",
                        help=f"the cases: one of {', '.join(SUBSET_NAMES)} (default: seed)")
    parser.add_argument("--kernel", help="the cases of one kernel file (= --subset kernel:NAME)")
    parser.add_argument("--canary", help="the release measured twice, in two separately "
                                         "built environments (default: the newest)")
    parser.add_argument("--passes", type=at_least(1),
                        help="timings of each of the library's own cases per worker and round, "
                             "the fastest half the round's value (default: a stored "
                             f"history's own, {DEFAULT_PASSES} for a new one; controls: 1)")
    parser.add_argument("--fresh", action="store_true", help="start again from round 1")
    parser.add_argument("--probe-rounds", type=int, default=3,
                        help="rounds of the bare probe of every confirmed step after the "
                             "last round (default 3; 0: none)")
    parser.add_argument("--allow-gaps", action="store_true",
                        help="measure even where the preflight finds a case that prepares in "
                             "some releases and not in others (each gap's reason is stored "
                             "and shown)")
    parser.add_argument("--scratch", help="write ledger, environments and results here only")
    parser.add_argument("--releases-file", default=RELEASES_FILE)
    add_machine(parser)
    args = parser.parse_args(argv)
    if args.kernel:
        args.subset = f"kernel:{args.kernel}"
    try:
        subset(args.subset)  # an unknown kernel: one line, before anything is generated
        ok = run_history(args.history, args.rounds, args.subset, args.fresh, args.scratch,
                         args.releases_file, args.machine, args.canary, args.allow_gaps,
                         args.probe_rounds, args.passes)
    except ValueError as exc:
        raise ToolError(str(exc))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.history.run"))
