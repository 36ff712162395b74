"""Measure two releases of one library for comparison: interleaved rounds in one session.

    python -m tools.run.measure_pair numba 0.67.0 0.68.1            # 8 rounds, Sum/AxisSum/Gelu
    python -m tools.run.measure_pair torch 2.13.0 2.14.1 --rounds 12 --families Sum
    python -m tools.run.measure_pair numba 0.68.1 0.68.1            # A/A: two separate builds

Both environments are built from the same pins except the library under test (asv
virtualenvs, reused when they exist); what each really has installed is read inside it, and a
pair that differs in anything else (numpy, asv_runner, a CPU vs a CUDA build of torch,
llvmlite unless numba is compared) is refused. Each round runs every case of the subset in a
fresh asv process per case, A then B in odd rounds and B then A in even ones (asv's own
--interleave-rounds alternates commits, not environments, and refuses existing
environments), and the round's samples are kept with their round number. The session is
saved after every round (atomically) under rounds/; `python -m tools.reports.compare_releases`
reads it.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time

from .. import REPO_ROOT
from ..reports.verdicts import GATE
from ..results.rows import ResultsError, load_rows, result_files
from ..results.sessions import FORMAT, Session, session_dir
from .asv_config import head_commit, run_asv, scratch_config

LIBRARIES = ("numba", "torch")
# Everything but the library under test stays at these pins (requirements.txt's versions).
BASE_PINS = {"numpy": "2.4.6", "numba": "0.68.1", "torch": "2.13.0", "pip+asv_runner": "0.2.5"}
# What must be identical in both environments, besides the library under test.
MUST_AGREE = ("numpy", "numba", "llvmlite", "torch", "asv_runner", "python_version")

# The cases a release comparison measures: every cpu case of the seed's three families at the
# sizes where they differ in kind (cache-resident, memory-resident), without the pure-Python
# sums at 10M (0.5-1 s per call, and controls for both libraries at the smaller size).
FAMILIES = {
    "Sum": r"^bench_sum\.Sum\.time_sum\((10000|1000000|10000000), "
           r"(?!'python_)'\w+', 'cpu'\)$|^bench_sum\.Sum\.time_sum\((100|10000), "
           r"'python_\w+', 'cpu'\)$",
    "AxisSum": r"^bench_axis_sum\.AxisSum\.time_axis_sum\('(1000x1000|10000x10000)', "
               r"'[CF]', '\w+', '\w+', 'cpu'\)$",
    "Gelu": r"^bench_gelu\.Gelu\.time_gelu\((100000|10000000), '\w+', 'cpu'\)$",
}
REPEAT = 7  # samples per case and round; the round's median is the unit of analysis


def subset(families, bench=None):
    regex = "|".join(f"(?:{FAMILIES[f]})" for f in families)
    if bench:
        regex = f"(?=.*(?:{bench}))(?:{regex})"
    return regex


def env_pins(library, release):
    return {**BASE_PINS, library: release}


def build_env(pins, env_dir, scratch):
    """Create (or reuse) an asv virtualenv with `pins`; return its python."""
    from asv import environment
    from asv.config import Config

    matrix = {"req": {name: [version] for name, version in pins.items()}}
    config = scratch_config(scratch, matrix=matrix, exclude=[], env_dir=env_dir)
    (env,) = environment.get_environments(Config.load(config), None)
    start = time.perf_counter()
    existed = os.path.isfile(os.path.join(env._path, "asv-env-info.json"))
    env.create()
    print(f"== env {env.name} in {env_dir}: {'reused' if existed else 'built'} "
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    return os.path.join(env._path, "bin", "python")


def check_pair(library, versions):
    """Refuse a pair whose environments differ in more than the library under test."""
    a, b = versions["A"], versions["B"]
    for name in MUST_AGREE:
        if name == library or (library == "numba" and name == "llvmlite"):
            continue  # the library under test, and the llvmlite that numba release requires
        if a.get(name) != b.get(name):
            raise ResultsError(f"the two environments differ in {name} ({a.get(name)} vs "
                               f"{b.get(name)}), not only in {library}: refused")
    flavour = [v.get(library, "").partition("+")[2] or "default" for v in (a, b)]
    if flavour[0] != flavour[1]:
        raise ResultsError(f"{library} {a.get(library)} and {b.get(library)} are different "
                           f"builds ({flavour[0]} vs {flavour[1]}): compare the same flavour")


def measure_side(python, commit, machine, regex, scratch, inject=None):
    """One asv invocation: every case in a fresh process. Returns (values, versions)."""
    results_dir = os.path.join(scratch, "results")
    shutil.rmtree(results_dir, ignore_errors=True)
    config = scratch_config(scratch)
    env = dict(os.environ)
    env.pop("ARRAY_OP_BENCH_INJECT", None)
    if inject is not None:
        env["ARRAY_OP_BENCH_INJECT"] = json.dumps(inject)
    run_asv(["run", "-E", f"existing:{python}", "--set-commit-hash", commit, "--machine",
             machine, "--record-samples", "--bench", regex, "-a", "rounds=1",
             "-a", f"repeat={REPEAT}"], config, env=env)
    rows = load_rows(result_files(results_dir)[0], results_dir)
    with open(os.path.join(results_dir, "benchmarks.json")) as f:
        info = json.load(f)
    values, versions = {}, {}
    for row in rows:
        if row.unit != "seconds" or row.value != row.value:  # nan: not selected, or skipped
            continue
        values[row.label] = {"median": row.value, "samples": list(row.samples or ()),
                             "params": row.values}
        versions[row.benchmark] = info[row.benchmark]["version"]
    return values, versions


def new_session(root, machine, library, releases, pythons, versions, regex, commit, kind,
                inject=None):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    session_id = f"{stamp}-{commit[:8]}"
    path = os.path.join(session_dir(root, machine, library, *releases), f"{session_id}.json")
    data = {"format": FORMAT, "kind": kind, "library": library, "machine": machine,
            "commit": commit, "session": session_id, "bench": regex, "repeat": REPEAT,
            "gate": GATE, "inject": inject or {},
            "envs": {side: {"release": rel, "python": os.path.relpath(py, REPO_ROOT),
                            "versions": versions[side]}
                     for side, rel, py in zip("AB", releases, pythons)},
            "rounds": []}
    return Session(path, data)


def run_rounds(session, pythons, rounds, scratch, inject=None):
    """Measure `rounds` rounds, A B / B A alternating, saving the session after each."""
    data = session.data
    start = time.perf_counter()
    for number in range(len(data["rounds"]) + 1, rounds + 1):
        order = ["A", "B"] if number % 2 else ["B", "A"]
        rnd = {"round": number, "order": order, "commit": data["commit"],
               "session": data["session"], "values": {}, "benchmark_versions": {}}
        t0 = time.perf_counter()
        for side in order:
            values, versions = measure_side(
                pythons[side], data["commit"], data["machine"], data["bench"],
                os.path.join(scratch, side), (inject or {}).get(side))
            rnd["values"][side], rnd["benchmark_versions"][side] = values, versions
        rnd["seconds"] = round(time.perf_counter() - t0, 1)
        data["rounds"].append(rnd)
        session.save()
        cases = len(rnd["values"]["A"])
        elapsed = time.perf_counter() - start
        print(f"== round {number}/{rounds} ({'-'.join(order)}): {cases} cases per "
              f"environment in {rnd['seconds']:.0f} s; {elapsed:.0f} s so far", flush=True)
    return session


def prepare_pair(library, release_a, release_b, scratch):
    """Build both environments, read what they have, refuse unlike pairs: (pythons, versions)."""
    from .provenance import collect_from

    same = release_a == release_b
    env_dirs = {"A": os.path.join(REPO_ROOT, ".asv", "env"),
                # an A/A pair needs a second, separately built environment
                "B": os.path.join(REPO_ROOT, ".asv", "env-aa" if same else "env")}
    pythons, versions = {}, {}
    for side, release in (("A", release_a), ("B", release_b)):
        pythons[side] = build_env(env_pins(library, release), env_dirs[side],
                                  os.path.join(scratch, f"env-{side}"))
        versions[side] = collect_from(pythons[side])
    check_pair(library, versions)
    return pythons, versions


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("library", help=f"one of {', '.join(LIBRARIES)}")
    parser.add_argument("release_a", help="the reference release, e.g. 0.67.0")
    parser.add_argument("release_b", help="the release compared with it (same: an A/A run)")
    parser.add_argument("--rounds", type=int, default=8, help="rounds (default 8, at least 3)")
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated, of {', '.join(FAMILIES)}")
    parser.add_argument("--bench", help="regular expression narrowing the cases further")
    parser.add_argument("--machine", default=os.environ.get("ASV_MACHINE") or os.uname()[1])
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "rounds"),
                        help="where sessions are stored (default: rounds/)")
    args = parser.parse_args(argv)
    try:
        if args.library not in LIBRARIES:
            raise ResultsError(f"unknown library {args.library!r}: choose one of "
                               f"{', '.join(LIBRARIES)}")
        if args.rounds < 3:
            raise ResultsError("--rounds must be at least 3 (a t-interval needs them)")
        families = args.families.split(",")
        unknown = set(families) - set(FAMILIES)
        if unknown:
            raise ResultsError(f"unknown family {', '.join(sorted(unknown))}: choose from "
                               f"{', '.join(FAMILIES)}")
        if args.bench:
            try:
                re.compile(args.bench)
            except re.error as exc:
                raise ResultsError(f"--bench is not a valid regular expression: {exc}")
        session = measure_pair(args.library, args.release_a, args.release_b, args.rounds,
                               subset(families, args.bench), args.machine, args.out)
    except ResultsError as exc:
        print(f"measure_pair: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # asv or pip failed: its own output says why
        print(f"measure_pair: {str(exc)[-3000:]}", file=sys.stderr)
        return 1
    print(f"wrote {os.path.relpath(session.path)}\ncompare with: python -m "
          f"tools.reports.compare_releases {args.library} {args.release_a} {args.release_b}")
    return 0


def measure_pair(library, release_a, release_b, rounds, regex, machine, out, inject=None,
                 kind=None):
    scratch = tempfile.mkdtemp(prefix="measure-pair-")
    try:
        pythons, versions = prepare_pair(library, release_a, release_b, scratch)
        commit = head_commit()
        run_asv(["machine", "--yes", "--machine", machine], scratch_config(scratch))
        session = new_session(out, machine, library, (release_a, release_b),
                              (pythons["A"], pythons["B"]), versions, regex, commit,
                              kind or ("A/A" if release_a == release_b else "release"),
                              inject)
        print(f"== {library} {release_a} vs {release_b}: {rounds} rounds, session "
              f"{session.data['session']}", flush=True)
        return run_rounds(session, pythons, rounds, scratch, inject)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
