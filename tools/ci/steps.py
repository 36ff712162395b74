"""One machine's job of the benchmarks workflow: its measurements.

    python -m tools ci measure NAME               # what machines.json says NAME runs, here
    python -m tools ci measure --entry JSON       # a matrix entry of `ci plan` (the workflow)

`measure` runs the project's own commands, as one would by hand, with ASV_MACHINE=NAME: the
main job (`python -m tools run`, or `--bench` a selection), each history (`python -m tools
history NAME --rounds N` and its report) and each release pair (`python -m tools pair`, then
its verdicts with `python -m tools compare --markdown report/releases/NAME/...`). A step that
fails does not stop the others; the exit status says whether any failed.
"""
import json
import os
import subprocess
import sys
import time

from .. import REPO_ROOT, ToolError, command_parser
from .machines import DEFAULTS, MACHINES_FILE, machine_entry


def commands(machine):
    """[(label, argv)] of one machine's job, in order."""
    name, tools = machine["name"], [sys.executable, "-m", "tools"]
    out = []
    if machine["main"]:
        out.append(("main job", tools + ["run"] + (["--bench", machine["bench"]]
                                                   if machine.get("bench") else [])))
    for history in machine["histories"]:
        out.append((f"{history} history", tools + [
            "history", history, "--rounds", str(machine["history_rounds"]), "--machine", name]))
        out.append((f"{history} history report", tools + [
            "history", "report", history, "--machine", name]))
    for library, a, b in machine["pairs"]:
        out.append((f"pair {library} {a} {b}", tools + [
            "pair", library, a, b, "--rounds", str(machine["pair_rounds"]), "--machine", name,
            *machine["pair_options"]]))
        out.append((f"verdicts {library} {a} {b}", tools + [
            "compare", library, a, b, "--machine", name, "--markdown",
            verdict_path(name, library, a, b)]))
    return out


def verdict_path(machine, library, a, b, root=REPO_ROOT):
    return os.path.join(root, "report", "releases", machine, f"{library}-{a}-vs-{b}.md")


def measure(machine, say=print):
    """Run the machine's job here; return the labels of the steps that failed."""
    env = {**os.environ, "ASV_MACHINE": machine["name"]}
    failed = []
    steps = commands(machine)
    started = time.perf_counter()
    for i, (label, argv) in enumerate(steps, 1):
        say(f"== ci [{machine['name']} {i}/{len(steps)}, "
            f"{time.perf_counter() - started:.0f} s]: {label}: {' '.join(argv[2:])}")
        if subprocess.run(argv, cwd=REPO_ROOT, env=env).returncode != 0:
            failed.append(label)
    say(f"== ci [{machine['name']}]: done in {time.perf_counter() - started:.0f} s"
        + (f"; failed: {', '.join(failed)}" if failed else ""))
    return failed


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("name", nargs="?", help="a machine of the machines file")
    parser.add_argument("--file", default=MACHINES_FILE)
    parser.add_argument("--entry", help="a matrix entry of `ci plan` (JSON) instead of NAME")
    args = parser.parse_args(argv)
    if args.entry:
        try:
            machine = {**DEFAULTS, **json.loads(args.entry)}
        except ValueError as exc:
            raise ToolError(f"--entry is not JSON: {exc}")
    elif args.name:
        machine = machine_entry(args.name, args.file)
    else:
        raise ToolError("name a machine, or give --entry")
    return 1 if measure(machine) else 0
