"""Run a release history: the ledger's releases in interleaved rounds, resumable step by step.

    python -m tools history numba                # seed subset, 3 rounds, resumes if stopped
    python -m tools history torch
    python -m tools history numba --fresh        # measure everything again from round 1
    python -m tools history numba --subset tiny --rounds 2 --scratch DIR \\
        --releases-file FILE                         # a throw-away history (the tests)

A step is one release in one round: install its pins into the history environment (only one
release is installed at a time), then one asv round of every case of the subset. Round 1 runs
the releases oldest first, round 2 newest first, and so on, so each release's rounds are spread
over the whole run and consecutive releases are measured minutes apart in every round: drift
of the machine lands in all releases alike instead of drawing a step. asv appends each round's
samples to the release's result file; the median of every case in every round is also kept in
rounds.json beside the results, which is what the step verdicts pair (tools.history.steps).

Resumable: each finished step is recorded in rounds.json; a rerun skips finished steps and
starts an unfinished one again from the result file as it was before that step began.
Results go to history/results/NAME/MACHINE/ (and the install record of every release to
installed/TAG.json there); 3 rounds is the least that the paired verdicts accept.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import sys
import time
from datetime import datetime, timezone

from benchmarks.cases import subset

from .. import REPO_ROOT
from ..results.asv_launcher import run_asv as launch
from ..results.config import load_config, machine_name
from ..results.atomic import write_json_atomic
from ..run.provenance import collect_from
from . import ledger
from .releases import RELEASES_FILE, ReleaseListError, load_history
from .paths import HISTORY_DIR, ROUNDS_FILE, config_path, resolved, result_file, samples_by_case
from .subset import SUBSET_NAMES, bench_regexes, short_name, subset_cases

# Samples per case and round: at least 2, at most 6 or 12 s (asv's default for one round is
# up to 10 or 20 s). Three rounds give 18 samples per release and case; a torch history of
# 11 releases x 3 rounds stays within an hour, installs included.
REPEAT = "(2,6,12.0)"


def say(message):
    print(f"== {message}", flush=True)


def scratch_config(name, out_dir):
    """The history's asv config with every path absolute, writing only under out_dir (its
    ledger, environment, results and html there)."""
    conf = load_config(config_path(name))
    for key in ("benchmark_dir",):
        conf[key] = os.path.normpath(os.path.join(HISTORY_DIR, conf[key]))
    conf.update(repo=os.path.join(out_dir, "ledger", name), env_dir=os.path.join(out_dir, "env"),
                results_dir=os.path.join(out_dir, "results"),
                html_dir=os.path.join(out_dir, "html"))
    conf["install_command"] = [c.replace("{conf_dir}/..", REPO_ROOT)
                               for c in conf["install_command"]]
    path = os.path.join(out_dir, f"{name}.asv.conf.json")
    os.makedirs(out_dir, exist_ok=True)
    with open(path, "w") as f:
        json.dump(conf, f, indent=2)
    return path


def plan(commits, rounds):
    """[(round, tag, commit)]: odd rounds oldest release first, even rounds newest first."""
    steps = []
    for r in range(1, rounds + 1):
        order = commits if r % 2 else commits[::-1]
        steps += [(r, tag, commit) for tag, commit in order]
    return steps


def round_medians(before, after):
    """Median of the samples this step added, per case."""
    medians = {}
    for case, samples in after.items():
        new = samples[len(before.get(case, [])):]
        if new:
            medians[case] = statistics.median(new)
    return medians


def env_python(env_dir):
    pythons = glob.glob(os.path.join(env_dir, "*", "bin", "python"))
    return pythons[0] if len(pythons) == 1 else None


def run_asv(config, args):
    return launch(args, config).returncode


def load_progress(path, expected):
    """The stored progress if it belongs to this very history run (same ledger, subset,
    rounds), else a fresh one."""
    if os.path.isfile(path):
        with open(path) as f:
            data = json.load(f)
        # the same cases in another order are the same run (the stored order is kept)
        same = {k: sorted(v) if k == "cases" else v for k, v in expected.items()}
        if all((sorted(data.get(k) or []) if k == "cases" else data.get(k)) == v
               for k, v in same.items()):
            return data
        if data.get("subset") != expected["subset"] and data.get("steps"):
            # another subset's rounds live here: starting afresh would replace its results
            raise ReleaseListError(
                f"{os.path.relpath(path, REPO_ROOT)} holds the {data.get('subset')!r} subset's "
                f"rounds; measure {expected['subset']!r} with --scratch DIR (or --machine NAME)")
    return dict(expected, steps=[])


def run_history(name, rounds=3, subset="seed", fresh=False, scratch=None,
                releases_file=RELEASES_FILE, machine=None):
    history = load_history(name, releases_file)
    machine = machine or machine_name()
    if scratch:
        config = scratch_config(name, scratch)
        commits = ledger.generate(name, releases_file, root=os.path.join(scratch, "ledger"))
    else:
        if releases_file != RELEASES_FILE:
            raise ReleaseListError("another release list needs --scratch: the committed "
                                   "history is made from history/releases.json")
        config = config_path(name)
        commits = ledger.generate(name)
    if rounds < 1:
        raise ReleaseListError("--rounds must be at least 1")
    cases = subset_cases(subset)
    results_dir, env_dir = resolved(config, "results_dir"), resolved(config, "env_dir")
    out_dir = os.path.join(results_dir, machine)
    os.makedirs(out_dir, exist_ok=True)
    progress_path = os.path.join(out_dir, ROUNDS_FILE)
    expected = {"history": name, "machine": machine, "subset": subset, "rounds": rounds,
                "repeat": REPEAT,
                "ledger": dict(commits), "cases": [short_name(b, p) for b, p in cases]}
    progress = dict(expected, steps=[]) if fresh else load_progress(progress_path, expected)
    done = {(s["round"], s["tag"]) for s in progress["steps"]}
    steps = plan(commits, rounds)
    snapshots = os.path.join(REPO_ROOT, ".asv", "history-snapshots", name)
    os.makedirs(snapshots, exist_ok=True)

    say(f"{name} history on {machine}: {len(commits)} releases x {rounds} rounds = "
        f"{len(steps)} steps, {len(cases)} cases ({subset}); {len(done)} steps done before")
    if run_asv(config, ["machine", "--yes", "--machine", machine]) != 0:
        raise RuntimeError("asv machine failed")
    start = time.monotonic()
    failed = []
    last_install = None
    for i, (r, tag, commit) in enumerate(steps, 1):
        if (r, tag) in done:
            continue
        if r == 1:
            # round 1 starts the release's result file afresh: later rounds of it recorded
            # before (an earlier attempt) no longer have their samples there, so run them again
            progress["steps"] = [s for s in progress["steps"] if s["tag"] != tag]
            done = {(s["round"], s["tag"]) for s in progress["steps"]}
        path = result_file(results_dir, machine, commit)
        snapshot = os.path.join(snapshots, f"{commit}.json")
        if r == 1:
            before = {}
        else:
            # an unfinished step left samples behind: start again from before it
            if os.path.isfile(snapshot) and path:
                shutil.copyfile(snapshot, path)
            before = samples_by_case(path, cases)
            if path:
                shutil.copyfile(path, snapshot)
        say(f"step {i}/{len(steps)}: round {r}/{rounds}, {tag} "
            f"({time.monotonic() - start:.0f} s into this run)")
        t0 = time.monotonic()
        args = ["run", f"{commit}^!", "--machine", machine, "--record-samples",
                "--attribute", "rounds=1", "--attribute", f"repeat={REPEAT}", "--show-stderr"]
        if r > 1:
            args.append("--append-samples")
        for regex in bench_regexes(cases):
            args += ["--bench", regex]
        code = run_asv(config, args)
        path = result_file(results_dir, machine, commit)
        medians = round_medians(before, samples_by_case(path, cases))
        python = env_python(env_dir)
        info = {}
        if python:
            with open(os.path.join(os.path.dirname(os.path.dirname(python)),
                                   "installed.json")) as f:
                info = json.load(f)
        if info.get("release", "").replace(" ", "-") != tag:
            code = code or 1  # its install failed: what is installed is another release
        if code != 0 or len(medians) < len(cases):
            # not recorded as done: a rerun tries this step again
            failed.append(f"round {r} {tag}")
            say(f"step {i}: asv exited {code}, {len(medians)} of {len(cases)} cases measured; "
                "not recorded, a rerun tries it again")
            continue
        record = {"round": r, "tag": tag, "commit": commit,
                  "seconds": round(time.monotonic() - t0, 1),
                  "finished": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "asv_exit": code, "medians": medians}
        if info.get("finished") != last_install:  # this step installed its release
            last_install = info.get("finished")
            record["install_seconds"] = info.get("install_seconds")
            record["downloaded"] = info.get("downloaded")
        installed = os.path.join(out_dir, "installed", f"{tag}.json")
        if os.path.isfile(installed):
            with open(installed) as f:
                first = json.load(f).get("packages", {})
            differs = {n: v for n, v in info.get("packages", {}).items() if first.get(n) != v}
            if differs:  # recorded, not hidden: this round ran beside other packages
                record["installed_differs"] = differs
        else:
            info["interpreter"] = collect_from(python)
            os.makedirs(os.path.dirname(installed), exist_ok=True)
            write_json_atomic(installed, info)
        progress["steps"].append(record)
        write_json_atomic(progress_path, progress)
        if os.path.isfile(snapshot):
            os.remove(snapshot)
    total = time.monotonic() - start
    say(f"{name} history: {len(steps) - len(done)} steps in {total:.0f} s"
        + (f"; failed: {', '.join(failed)}" if failed else ""))
    return not failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("history", help="numba or torch (history/releases.json)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--subset", default="seed",
                        help=f"the cases: one of {', '.join(SUBSET_NAMES)} (default: seed)")
    parser.add_argument("--kernel", help="the cases of one kernel file (= --subset kernel:NAME)")
    parser.add_argument("--fresh", action="store_true", help="start again from round 1")
    parser.add_argument("--scratch", help="write ledger, environment and results here only")
    parser.add_argument("--releases-file", default=RELEASES_FILE)
    parser.add_argument("--machine", help="asv machine name (default: $ASV_MACHINE or host)")
    args = parser.parse_args(argv)
    if args.kernel:
        args.subset = f"kernel:{args.kernel}"
    try:
        subset(args.subset)  # an unknown kernel: one line, before anything is generated
    except ValueError as exc:
        print(f"history: {exc}", file=sys.stderr)
        return 2
    try:
        ok = run_history(args.history, args.rounds, args.subset, args.fresh, args.scratch,
                         args.releases_file, args.machine)
    except (ReleaseListError, ValueError) as exc:
        print(f"history: {exc}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
