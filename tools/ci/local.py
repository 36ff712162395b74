"""The benchmarks workflow on this machine: the plan, each machine's job in its own fresh
clone (as a runner checks the repository out), the artifacts, and the merge into this
checkout, by the same commands the workflow runs.

    python -m tools ci local --machines a,b                 # machines of machines.json
    python -m tools ci local --file FILE --machines a,b     # another machines file
    python -m tools ci local ... --follow-index FILE        # with a stored release list
    python -m tools ci local ... --no-publish               # merge only

Two machine names on one machine are two machines with the same hardware, which the merge
allows; the same name on two different machines it refuses. Clones and artifacts go under
.asv/ci-local/ (--work elsewhere); the merge writes into this checkout, then
`python -m tools publish` draws the dashboard with every machine.
"""
import json
import os
import shutil
import subprocess
import sys
import time

from .. import REPO_ROOT, command_parser, run_main, say
from ..results.rows import read_json
from .machines import MACHINES_FILE, plan

WORK = os.path.join(REPO_ROOT, ".asv", "ci-local")


def tools(*args, cwd=REPO_ROOT, env=None):
    """`python -m tools ARGS` in `cwd` (a checkout), its exit status."""
    return subprocess.run([sys.executable, "-m", "tools", *args], cwd=cwd,
                          env=env).returncode


# What a self-hosted runner keeps between runs (the workflow checks out with clean: false):
# built environments and the data cache, shared here with this checkout's.
KEPT = (".asv/env", ".asv/pair-envs", ".asv/history-envs", ".asv/data-cache")


def fresh_clone(path):
    """A clone of this checkout's HEAD at `path`, as actions/checkout gives a runner, using
    this checkout's .venv (a runner's `bash tools/setup_env.sh` would build the same) and
    its kept environments."""
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", REPO_ROOT, path], check=True)
    os.symlink(os.path.realpath(os.path.join(REPO_ROOT, ".venv")), os.path.join(path, ".venv"))
    for kept in KEPT:
        source = os.path.join(REPO_ROOT, kept)
        os.makedirs(source, exist_ok=True)
        os.makedirs(os.path.dirname(os.path.join(path, kept)), exist_ok=True)
        os.symlink(os.path.realpath(source), os.path.join(path, kept))
    return path


def run_local(machines_file, names, work=WORK, follow_index=None, publish=True):
    """The workflow's jobs here; returns {step: exit status}."""
    os.makedirs(work, exist_ok=True)
    status = {}
    steps_file = None
    if follow_index:  # the plan job's follow step, in a clone: this checkout is merged into
        clone = fresh_clone(os.path.join(work, "follow"))
        steps_file = os.path.join(work, "follow-artifact", "steps.json")
        shutil.rmtree(os.path.dirname(steps_file), ignore_errors=True)
        os.makedirs(os.path.dirname(steps_file))
        status["follow"] = tools("ci", "follow", "--index", follow_index, "--json", steps_file,
                                 cwd=clone)
        os.makedirs(os.path.join(work, "follow-artifact", "history"))
        shutil.copy2(os.path.join(clone, "history", "releases.json"),
                     os.path.join(work, "follow-artifact", "history", "releases.json"))
    steps = read_json(steps_file)["steps"] if steps_file else []
    matrix = plan(machines_file, names, [[s["library"], s["old"], s["new"]] for s in steps])
    artifacts = []
    for entry in matrix["include"]:
        name = entry["name"]
        started = time.perf_counter()
        say(f"ci local: job {name}: a fresh clone, then `python -m tools ci measure --entry ...`")
        clone = fresh_clone(os.path.join(work, "runner", name))
        status[f"measure {name}"] = tools("ci", "measure", "--entry", json.dumps(entry),
                                          cwd=clone)
        artifact = os.path.join(work, "artifacts", name)
        shutil.rmtree(artifact, ignore_errors=True)
        status[f"pack {name}"] = tools("ci", "pack", name, "--out", artifact, cwd=clone)
        artifacts.append(artifact)
        say(f"ci local: job {name}: {time.perf_counter() - started:.0f} s")
    merge_args = ["ci", "merge", *artifacts, "--body", os.path.join(work, "pr-body.md")]
    if steps_file:
        merge_args += ["--follow", os.path.dirname(steps_file)]
    status["merge"] = tools(*merge_args)
    if publish and status["merge"] == 0:
        status["publish"] = tools("publish")
    return status


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--file", default=MACHINES_FILE, help="the machines file")
    parser.add_argument("--machines", required=True, help="comma-separated machine names")
    parser.add_argument("--work", default=WORK, help="clones and artifacts go here")
    parser.add_argument("--follow-index", help="run the follow step on this stored release "
                                               "list (PyPI's JSON per library) first")
    parser.add_argument("--no-publish", action="store_true")
    args = parser.parse_args(argv)
    status = run_local(args.file, args.machines.split(","), args.work, args.follow_index,
                       not args.no_publish)
    for step, code in status.items():
        say(f"ci local: {step}: {'ok' if code == 0 else f'exit {code}'}")
    return 0 if all(code == 0 for code in status.values()) else 1


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.ci.local"))
