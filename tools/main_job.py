"""The main job: every phase of the suite at this commit, then provenance, findings and the
dashboard. Resumable, and nothing already measured is lost to an interruption.

    python -m tools run                  # what bash tools/run_benchmarks.sh runs
    python -m tools run --bench Gelu     # one selection (asv's --bench), no report
    python -m tools run --fresh          # measure every phase again at this commit
    python -m tools run --phases 'Sum'   # only phases whose label matches
    python -m tools run --allow-dirty    # measure uncommitted code, recorded as dirty
    python -m tools run --matrix         # every release of asv.conf.json's matrix

`python -m tools run` is the same command (`bash tools/run_benchmarks.sh` sets up first).

- Resumable: after each phase completes, its label is recorded under .asv/progress/; a rerun
  at the same commit skips the phases whose results are in the result file and says so.
- Guarded: asv runs with atomic JSON writes (tools/results/asv_launcher.py), so a kill at any
  moment leaves every file it keeps whole (`python -m tools check kill` kills it at random to
  show it). A file that does not parse at the start of a run (damaged by something else) is
  moved aside with a message, never deleted; an unreadable ~/.asv-machine.json is moved aside
  and written anew.
- Provenance is recorded at run time by the interpreter that measures (versions, wheel
  flavour, threads, CPU, ISA, GPU), stored as provenance/<machine>/<commit>-<env>.json,
  read again when the run ends; the stamp copies that record into the result file, and a run
  whose interpreter changed in between, or differs from an earlier record of the same commit,
  is refused.
- Results do not depend on the checkout's path: asv is given the virtualenv through a fixed
  link (~/.cache/array-op-benchmarks/venv), so the environment's name, and with it the result
  file, is the same from every clone on this machine.
- The release matrix (--matrix) goes through the same phases, guards and resume: asv builds
  (or reuses) the matrix's virtualenvs, runs each phase in every one of them, and provenance is
  stamped from inside each environment at the end.
- A dirty working tree is refused (the results would be filed under a commit that does not
  contain the code measured) unless --allow-dirty, which records it.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

from . import REPO_ROOT, ToolError, add_bench, command_parser, machine_name, regex, run_main, say
from .results.asv_launcher import run_asv
from .results.config import load_config, record_of
from .results.rows import read_json
from .results.atomic import write_json_atomic
from .reports import findings, headline
from .dashboard import publish
from .run import likwid_anchor, matrix_envs, provenance
from .run.asv_config import head_commit
from .run.phases import Phase, phases

LINK = os.path.join(os.path.expanduser("~"), ".cache", "array-op-benchmarks", "venv")
MACHINE_FILE = os.path.join(os.path.expanduser("~"), ".asv-machine.json")


# ---------------------------------------------------------------------------------------------
# Where things are

def stable_python(venv=None):
    """The venv's python through a link whose path is the same for every clone, so asv's
    name for the environment (derived from the interpreter's path) is too. The link is to the
    venv folder, not the interpreter: Python finds pyvenv.cfg beside the path it was run as."""
    venv = venv or os.path.join(REPO_ROOT, ".venv")
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    if os.path.realpath(LINK) != os.path.realpath(venv):
        tmp = f"{LINK}.tmp{os.getpid()}"
        os.symlink(os.path.realpath(venv), tmp)
        os.replace(tmp, LINK)  # atomic: a concurrent run sees the old link or the new one
    return os.path.join(LINK, "bin", "python")


def env_name(python):
    from asv.environment import get_env_name

    return get_env_name("existing", python.replace(os.path.sep, "_"), {}, {})


def result_path(results_dir, machine, commit, env):
    return os.path.join(results_dir, machine, f"{commit[:8]}-{env}.json")


def record_path(results_dir, machine, commit, env):
    return record_of(result_path(results_dir, machine, commit, env))


def progress_path(machine, commit, env):
    return os.path.join(REPO_ROOT, ".asv", "progress", machine, f"{commit[:8]}-{env}.json")


# ---------------------------------------------------------------------------------------------
# Guards

def parses(path):
    try:
        with open(path) as f:
            json.load(f)
        return True
    except (OSError, ValueError):
        return False


def move_aside_broken(paths):
    """Move each file of `paths` that does not parse aside (never deleted); the messages."""
    messages = []
    for path in paths:
        if os.path.exists(path) and not parses(path):
            aside = f"{path}.broken-{time.strftime('%Y%m%dT%H%M%S')}"
            os.replace(path, aside)
            where = os.path.relpath(path, REPO_ROOT) if path.startswith(REPO_ROOT) else path
            messages.append(f"{where} did not parse: moved aside to {os.path.basename(aside)}")
    return messages


def guarded_files(results_dir):
    """Every JSON file asv may rewrite under results/ (result files, machine files,
    benchmarks.json): results/ holds asv's files only."""
    return glob.glob(os.path.join(results_dir, "**", "*.json"), recursive=True)


def dirty_files():
    out = subprocess.run(["git", "status", "--porcelain", "--", "benchmarks", "asv.conf.json",
                          "requirements.txt"], cwd=REPO_ROOT, capture_output=True, text=True)
    return [line[3:] for line in out.stdout.splitlines()]


# ---------------------------------------------------------------------------------------------
# Provenance, recorded by the measuring interpreter at run time

def record_provenance(python, path, dirty):
    """Collect in `python` now; compare with an earlier record of this commit and env, if any;
    write the record atomically. Returns it."""
    info = provenance.collect_from(python)
    info["recorded_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    info["dirty"] = ",".join(dirty) or "no"
    if os.path.exists(path):
        old = read_json(path)
        changed = {k: (old.get(k), v) for k, v in info.items()
                   if k not in ("recorded_at", "dirty") and old.get(k) != v}
        if changed:
            what = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in sorted(changed.items()))
            raise ToolError(f"this commit's results in this environment were measured with "
                               f"other software or hardware ({what}): asv would merge both "
                               "into one file. Commit, or set ASV_MACHINE to another name")
        info["recorded_at"] = old.get("recorded_at", info["recorded_at"])
    write_json_atomic(path, info)
    return info


def stamp_from_record(result, record):
    """Copy the run-time record into the result file's params (atomically)."""
    data = read_json(result)
    data["params"].update({k: v for k, v in record.items() if k != "recorded_at"})
    data["python"] = record["python"]
    data["requirements"].update({lib: record[lib] for lib in provenance.RECORDED_PACKAGES
                                 if lib in record})
    write_json_atomic(result, data)


# ---------------------------------------------------------------------------------------------
# Phases

def phase_in_results(result, classes):
    """The result file holds every class of the phase: a recorded phase whose values are gone
    (the file replaced or deleted since) is measured again."""
    if not os.path.exists(result) or not parses(result):
        return False
    names = list(read_json(result).get("results", {}))
    return all(any(name.startswith(prefix) for name in names) for prefix in classes)


def likwid_step(machine, commit, fresh):
    """likwid-bench's load and copy beside the suite's ceiling (tools/run/likwid_anchor.py);
    resumable like a phase, and a missing likwid-bench is a note, not a failure."""
    if os.path.exists(likwid_anchor.anchor_path(machine, commit)) and not fresh:
        say(f"likwid-bench: skipped, already measured at {commit[:8]}")
        return
    if shutil.which("likwid-bench") is None:
        say("likwid-bench: not installed (Debian: apt-get install likwid); no anchor this run")
        return
    say("likwid-bench: load and copy at the bandwidth sizes (the independent anchor)")
    run_main(likwid_anchor.main, "likwid", ["--machine", machine])


def start(args):
    """What every run needs first: config, commit (a dirty tree refused), machine registered,
    files an earlier kill broke repaired."""
    conf = load_config()
    results_dir = os.path.join(REPO_ROOT, conf["results_dir"])
    config = os.path.join(REPO_ROOT, "asv.conf.json")
    commit = head_commit()
    dirty = dirty_files()
    if dirty and not args.allow_dirty:
        raise ToolError(f"uncommitted changes in {', '.join(dirty[:5])}: the results would "
                           "be filed under a commit that does not hold the code measured. "
                           "Commit first, or pass --allow-dirty (recorded in the results)")
    machine = machine_name()
    # an unreadable ~/.asv-machine.json stops every later asv command with no reason given:
    # moved aside too, and `asv machine --yes` writes a new one
    for message in move_aside_broken(guarded_files(results_dir) + [MACHINE_FILE]):
        say(message)
    say(f"machine: registering {machine!r} (asv machine --yes)")
    if run_asv(["machine", "--yes", "--machine", machine], config).returncode != 0:
        raise ToolError("asv machine failed: see its output above")
    return results_dir, config, commit, dirty, machine


def run_phases(args, results_dir, config, progress_file, asv_args, results):
    """Every selected phase, one guarded asv invocation each, resumable: a phase recorded in
    `progress_file` whose class is in every one of `results()` is skipped. Returns the labels
    of the phases that failed."""
    if args.bench:
        selected = [Phase("your selection", args.bench, ())]
    else:
        selected = [phase for phase in phases()
                    if not args.phases or re.search(args.phases, phase.label)]
    done = set()
    if os.path.exists(progress_file) and not args.fresh and parses(progress_file):
        done = set(read_json(progress_file).get("done", []))
    failed, skipped = [], []
    started = time.perf_counter()
    for i, phase in enumerate(selected, 1):
        label = phase.label
        head = f"benchmarks [{i}/{len(selected)}, {time.perf_counter() - started:.0f} s]: {label}"
        files = results()
        if label in done and args.bench is None and files and \
                all(phase_in_results(path, phase.classes) for path in files):
            skipped.append(label)
            say(f"{head}: skipped, already measured at this commit (--fresh re-measures)")
            continue
        say(head)
        phase_start = time.perf_counter()
        code = run_asv([*asv_args, "--record-samples", "--bench", phase.regex],
                       config).returncode
        say(f"{label}: {time.perf_counter() - phase_start:.0f} s")
        if code != 0:
            failed.append(label)
            continue
        done.add(label)
        write_json_atomic(progress_file, {"done": sorted(done)})
    if skipped:
        say(f"resumed: {len(skipped)} phases measured before were skipped: "
            f"{', '.join(skipped)}")
    return failed


def finish(args, results_dir, machine, failed, started, with_findings=True):
    """Findings (after a complete run only) and the dashboard; the exit status."""
    complete = not args.bench and not args.phases and not failed
    if complete and with_findings:
        say(f"findings: report/machines/{machine}/findings.md and its plots, from this run")
        run_main(findings.main, "findings", ["--results", results_dir, "--machine", machine])
    elif with_findings:
        say("findings: not rebuilt from a partial run (" +
            ("selection only" if args.bench or args.phases else
             f"phases that failed: {', '.join(failed)}") + "); report/ is unchanged")
    if with_findings:  # the headline tables show what there is, also after a selection
        run_main(headline.main, "headline",
                 ["--results", results_dir, "--machine", machine, "--write"])
    say("publish: writing html/ (self-contained, works offline, findings linked)")
    published = run_main(publish.main, "publish", [])
    say(f"done in {time.perf_counter() - started:.0f} s")
    if failed:
        print(f"main_job: phases with failures: {', '.join(failed)} (see asv's output above;"
              " a rerun measures them again)", file=sys.stderr)
        return 1
    return 0 if published == 0 else 1


def run(args):
    started = time.perf_counter()
    results_dir, config, commit, dirty, machine = start(args)
    python = stable_python()
    env = env_name(python)
    result = result_path(results_dir, machine, commit, env)
    record = record_path(results_dir, machine, commit, env)
    before = record_provenance(python, record, dirty)
    say(f"provenance recorded by {python}: numpy {before['numpy']}, numba {before['numba']}, "
        f"torch {before['torch']}, threads {before['torch_threads']}/"
        f"{before['numba_threads']}, {before['cpu_model']} ({before['cpu_isa']})")
    failed = run_phases(args, results_dir, config, progress_path(machine, commit, env),
                        ["run", "-E", f"existing:{python}", "--set-commit-hash", commit,
                         "--machine", machine],
                        lambda: [result] if os.path.exists(result) else [])
    if not args.bench and (not args.phases or re.search(args.phases, "likwid")):
        likwid_step(machine, commit, args.fresh)
    after = record_provenance(python, record, dirty)  # refuses if the interpreter changed
    if os.path.exists(result):
        stamp_from_record(result, after)
        say(f"provenance: {os.path.relpath(result, REPO_ROOT)} stamped from "
            f"{os.path.relpath(record, REPO_ROOT)}")
    return finish(args, results_dir, machine, failed, started)


def run_matrix(args):
    """The release matrix of asv.conf.json: the same phases, guards and resume, in every
    matrix environment (asv creates the missing ones and reuses the others)."""
    started = time.perf_counter()
    results_dir, config, commit, _, machine = start(args)
    say("setup: release matrix environments (created once, then reused)")
    if run_main(matrix_envs.main, "envs", []):
        raise ToolError("the matrix environments could not be built: see above")

    def results():
        return [path for path in glob.glob(os.path.join(results_dir, machine,
                                                        f"{commit[:8]}-virtualenv-*.json"))]

    failed = run_phases(args, results_dir, config, progress_path(machine, commit, "matrix"),
                        ["run", f"{commit}^!", "--machine", machine], results)
    say("provenance: stamping each matrix environment's versions, threads and hardware")
    run_main(provenance.main, "provenance", ["--stamp", results_dir, "--commit", commit])
    # the findings describe one environment's complete run (the main job's), not the matrix
    return finish(args, results_dir, machine, failed, started, with_findings=False)


def main(argv=None):
    parser = command_parser(__doc__)
    add_bench(parser, "the run to one selection (asv's --bench)")
    parser.add_argument("--phases", type=regex, help="regular expression on phase labels")
    parser.add_argument("--fresh", action="store_true", help="measure every phase again")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="measure uncommitted changes (recorded as dirty)")
    parser.add_argument("--matrix", action="store_true",
                        help="every release of asv.conf.json's matrix instead of .venv's")
    args = parser.parse_args(argv)
    return run_matrix(args) if args.matrix else run(args)


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.main_job"))
