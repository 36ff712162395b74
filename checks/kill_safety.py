"""Kill the main job at random moments and check that nothing measured is lost or truncated.

    python -m tools check kill                        # 20 kills, a small set of phases
    python -m tools check kill --kills 30 --slow-writes 2
    python -m tools check kill --at-writes            # each kill inside a file write

In a fresh clone (this checkout's commit, its .venv linked) with a private HOME, so the real
results and ~/.asv-machine.json are never touched: start `tools.main_job`, SIGKILL its
whole process group after a random delay, and check right away that
- every JSON file it or asv writes (result files, machine files, benchmarks.json, the
  provenance record, ~/.asv-machine.json, the dashboard's data) still parses,
- every value measured by a phase that had completed before the kill is still there;
then start it again (a rerun resumes). With --slow-writes S, every json.dump in every process
is spread over S seconds (a sitecustomize shim), so kills often land inside a write. After the
kills, one uninterrupted run must succeed and leave every selected phase measured.
"""
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from tools import REPO_ROOT, command_parser, run_main

# Two phases: each start has a few seconds of set-up (machine, provenance) before them, so
# random kills land in every part of the job, several of them after a phase completed.
PHASES = r"^(ThreadCounts|SumThreads)$"

SHIM = '''
import json, os, time
_seconds = float(os.environ.get("ARRAY_OP_SLOW_WRITES", "0"))
if _seconds:
    def _slow_dump(obj, fp, **kw):
        text = json.dumps(obj, **kw)
        step = max(1, len(text) // 8)
        for i in range(0, len(text), step):
            fp.write(text[i:i + step])
            fp.flush()
            time.sleep(_seconds / 8)
    json.dump = _slow_dump
'''


WATCHED = ("results", os.path.join(".asv", "progress"), "html", "report")


def json_files(repo, home):
    files = glob.glob(os.path.join(repo, "results", "**", "*.json"), recursive=True)
    files += glob.glob(os.path.join(repo, "html", "**", "*.json"), recursive=True)
    files += [os.path.join(home, ".asv-machine.json")]
    return [f for f in files if os.path.exists(f)]


def temp_files(repo, home):
    """Temporary files of atomic writes left by a kill: each one is a kill that landed inside
    a write (of asv's, the job's, or the dashboard's), whose target stayed whole. (os.walk,
    not glob: glob's ** skips hidden folders such as .asv/.)"""
    found = []
    for folder in [os.path.join(repo, w) for w in WATCHED] + [home]:
        for root, _, names in os.walk(folder):
            found += [os.path.join(root, n) for n in names
                      if ".tmp" in n and n.rsplit(".tmp", 1)[1].isdigit()]
    return found


def broken(files):
    bad = []
    for path in files:
        try:
            with open(path) as f:
                json.load(f)
        except ValueError:
            bad.append(path)
    return bad


def measured(repo):
    """{(file, benchmark, index)} of every non-null value in the result files."""
    values = set()
    for path in glob.glob(os.path.join(repo, "results", "*", "*.json")):
        if path.endswith("machine.json"):
            continue
        try:
            with open(path) as f:
                data = json.load(f)
        except ValueError:
            continue
        for name, entry in data.get("results", {}).items():
            first = entry[0] if isinstance(entry, list) and entry else None
            for i, value in enumerate(first if isinstance(first, list) else [first]):
                if value is not None:
                    values.add((os.path.basename(path), name, i))
    return values


def done_phases(repo):
    found = set()
    for path in glob.glob(os.path.join(repo, ".asv", "progress", "*", "*.json")):
        try:
            with open(path) as f:
                found |= set(json.load(f).get("done", []))
        except ValueError:
            pass
    return found


def wait_for_write(proc, repo, home, nth, timeout=120):
    """Poll for temporary files of atomic writes; return the path of the nth distinct one
    seen (the process is then inside that write), or None if the run ended first."""
    seen = set()
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        seen.update(temp_files(repo, home))
        if len(seen) >= nth:
            return sorted(seen)[-1]
        time.sleep(0.02)
    return None


def start(repo, env, phases):
    return subprocess.Popen([os.path.join(repo, ".venv", "bin", "python"), "-m",
                             "tools.main_job", "--phases", phases], cwd=repo, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill_check(kills, slow, phases, max_delay, seed, at_writes=False):
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="kill-check-")
    repo, home, shim = (os.path.join(work, d) for d in ("repo", "home", "shim"))
    subprocess.run(["git", "clone", "--quiet", REPO_ROOT, repo], check=True)
    os.symlink(os.path.join(REPO_ROOT, ".venv"), os.path.join(repo, ".venv"))
    os.makedirs(home)
    os.makedirs(shim)
    with open(os.path.join(shim, "sitecustomize.py"), "w") as f:
        f.write(SHIM)
    env = {**os.environ, "HOME": home, "ASV_MACHINE": "kill-check",
           "PYTHONPATH": shim, "ARRAY_OP_SLOW_WRITES": str(slow)}
    stats = {"kills": 0, "files_checked": 0, "broken": [], "lost": 0, "completed_early": 0,
             "phases_done_at_kill": [], "kills_inside_a_write": 0}
    try:
        while stats["kills"] < kills:
            before = measured(repo)
            safe = {v for v in before}  # everything stored before this start must survive
            proc = start(repo, env, phases)
            t0 = time.monotonic()
            if at_writes:  # kill inside the nth write of this start, n at random
                target = wait_for_write(proc, repo, home, rng.randint(1, 12))
                if target is None:
                    proc.wait()
                    stats["completed_early"] += 1
                    shutil.rmtree(os.path.join(repo, ".asv", "progress"), ignore_errors=True)
                    continue
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                delay = time.monotonic() - t0
            else:
                delay = rng.uniform(0.5, max_delay)
                try:
                    proc.wait(timeout=delay)
                    stats["completed_early"] += 1  # it finished first: start a fresh run
                    shutil.rmtree(os.path.join(repo, ".asv", "progress"), ignore_errors=True)
                    continue
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            stats["kills"] += 1
            leftovers = temp_files(repo, home)
            if leftovers:
                stats["kills_inside_a_write"] += 1
                stats.setdefault("killed_writing", []).extend(
                    os.path.relpath(p, work).split(".tmp")[0] for p in leftovers)
                for path in leftovers:  # as a later run would: they are never read
                    os.remove(path)
            files = json_files(repo, home)
            stats["files_checked"] += len(files)
            stats["broken"] += broken(files)
            stats["lost"] += len(safe - measured(repo))
            stats["phases_done_at_kill"].append(len(done_phases(repo)))
            print(f"kill {stats['kills']}/{kills} after {delay:.1f} s"
                  f"{' (inside a write)' if leftovers else ''}: {len(files)} files, "
                  f"{len(broken(files))} broken, {len(safe - measured(repo))} values lost, "
                  f"{len(done_phases(repo))} phases done", flush=True)
        final = subprocess.run([os.path.join(repo, ".venv", "bin", "python"), "-m",
                                "tools.main_job", "--phases", phases], cwd=repo, env=env,
                               capture_output=True, text=True)
        stats["final_rc"] = final.returncode
        stats["final_skipped"] = [line for line in final.stdout.splitlines()
                                  if "skipped, already measured" in line]
        stats["final_broken"] = broken(json_files(repo, home))
        stats["final_values"] = len(measured(repo))
        stats["final_phases"] = sorted(done_phases(repo))
        if final.returncode:
            stats["final_tail"] = (final.stdout + final.stderr)[-1500:]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return stats


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--slow-writes", type=float, default=0.5,
                        help="seconds over which every json.dump is spread (default 0.5)")
    parser.add_argument("--phases", default=PHASES, help="main_job --phases selection")
    parser.add_argument("--max-delay", type=float, default=30.0,
                        help="kill at a uniform random time up to this many seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--at-writes", action="store_true",
                        help="kill inside the nth write of each start (n random in 1..12) "
                             "instead of at a random time")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stats = kill_check(args.kills, args.slow_writes, args.phases, args.max_delay, args.seed,
                       args.at_writes)
    print(json.dumps(stats, indent=1))
    print(f"{stats['kills']} kills ({stats['kills_inside_a_write']} inside a write), "
          f"{stats['files_checked']} file checks, "
          f"{len(stats['broken'])} unparsable, {stats['lost']} measured values lost; final run "
          f"exit {stats['final_rc']}, {len(stats['final_broken'])} unparsable, "
          f"{stats['final_values']} values, phases {stats['final_phases']}; "
          f"{time.perf_counter() - started:.0f} s")
    ok = not stats["broken"] and not stats["lost"] and stats["final_rc"] == 0 \
        and not stats["final_broken"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m checks.kill_safety"))
