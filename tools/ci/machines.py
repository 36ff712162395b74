"""The machines file (machines.json): which machine runs what, and the workflow's matrix.

    python -m tools ci plan                        # the matrix of every machine (JSON)
    python -m tools ci plan --machines epyc-2core  # a selection (the workflow's input)
    python -m tools ci plan --steps steps.json     # with the new releases' pairs added

Each entry: name (the asv machine name), runs-on (the self-hosted runner's labels), main
(run the main job), histories, history_rounds, pairs ([library, A, B]), pair_rounds,
pair_options, and optionally bench (an asv --bench selection instead of the whole main job:
for trying a machine out, and for the tests).
"""
import json
import os
import re
import sys

from .. import REPO_ROOT, ToolError, command_parser, run_main
from ..results.releases import COMPARED_LIBRARIES
from ..results.rows import read_json

MACHINES_FILE = os.path.join(REPO_ROOT, "machines.json")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # a folder name under results/
DEFAULTS = {"main": True, "histories": [], "history_rounds": 5, "pairs": [], "pair_rounds": 8,
            "pair_options": [], "bench": None}


def load_machines(path=MACHINES_FILE):
    """[machine entry] with defaults filled in; ToolError (one line) on a bad file."""
    data = read_json(path)
    entries = data.get("machines") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ToolError(f"{path}: needs a non-empty list under \"machines\"")
    seen, out = set(), []
    for i, entry in enumerate(entries):
        where = f"{path}: machine {i + 1}"
        if not isinstance(entry, dict):
            raise ToolError(f"{where} is not an object")
        unknown = set(entry) - set(DEFAULTS) - {"name", "runs-on"}
        if unknown:
            raise ToolError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        name = entry.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ToolError(f"{where}: name {name!r} must be letters, digits, . _ - "
                               "(it names the folder results/NAME/)")
        if name in seen:
            raise ToolError(f"{path}: machine {name!r} is listed twice")
        seen.add(name)
        labels = entry.get("runs-on")
        if not (isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)):
            raise ToolError(f"{where} ({name}): runs-on must be a list of runner labels")
        machine = {**DEFAULTS, **entry}
        for pair in machine["pairs"]:
            pair_entry(pair, f"{where} ({name})")
        for history in machine["histories"]:
            if history not in COMPARED_LIBRARIES:
                raise ToolError(f"{where} ({name}): unknown history {history!r}: "
                                   f"choose from {', '.join(COMPARED_LIBRARIES)}")
        if not machine["main"] and not machine["histories"] and not machine["pairs"]:
            raise ToolError(f"{where} ({name}) runs nothing: set main, histories or pairs")
        out.append(machine)
    return out


def pair_entry(pair, where):
    if not (isinstance(pair, list) and len(pair) == 3 and all(isinstance(x, str) for x in pair)):
        raise ToolError(f"{where}: a pair is [library, A, B], not {pair!r}")
    if pair[0] not in COMPARED_LIBRARIES:
        raise ToolError(f"{where}: unknown library {pair[0]!r} in a pair: "
                           f"choose from {', '.join(COMPARED_LIBRARIES)}")
    return tuple(pair)


def machine_entry(name, path=MACHINES_FILE):
    for machine in load_machines(path):
        if machine["name"] == name:
            return machine
    known = ", ".join(m["name"] for m in load_machines(path))
    raise ToolError(f"no machine {name!r} in {path}: listed are {known}")


def plan(path=MACHINES_FILE, selected=None, new_pairs=(), histories=True):
    """The workflow's matrix: the selected machines (all if none), each with the new releases'
    pairs added to its own; `histories=False` drops the histories (a quicker on-demand run)."""
    machines = load_machines(path)
    names = [m["name"] for m in machines]
    wanted = [s for s in (selected or []) if s]
    unknown = [s for s in wanted if s not in names]
    if unknown:
        raise ToolError(f"no machine {', '.join(map(repr, unknown))} in {path}: "
                           f"listed are {', '.join(names)}")
    out = []
    for machine in machines:
        if wanted and machine["name"] not in wanted:
            continue
        pairs = [list(p) for p in machine["pairs"]]
        pairs += [list(p) for p in new_pairs if list(p) not in pairs]
        out.append({**machine, "pairs": pairs,
                    "histories": machine["histories"] if histories else []})
    return {"include": out}


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--file", default=MACHINES_FILE, help="the machines file")
    parser.add_argument("--machines", default="",
                        help="comma-separated machine names (default: every machine)")
    parser.add_argument("--steps", help="the new releases' steps (python -m tools ci follow "
                                        "--json FILE): measured as pairs on every machine; "
                                        "a missing file means none")
    parser.add_argument("--no-histories", action="store_true", help="leave the histories out")
    parser.add_argument("--github-output", action="store_true",
                        help="append matrix=JSON to $GITHUB_OUTPUT as well")
    args = parser.parse_args(argv)
    # a steps file that is not there: the follow step did not run, no new pairs
    steps = read_json(args.steps)["steps"] if args.steps and os.path.isfile(args.steps) \
        else []
    pairs = [[s["library"], s["old"], s["new"]] for s in steps]
    matrix = plan(args.file, args.machines.split(","), pairs, not args.no_histories)
    text = json.dumps(matrix, separators=(",", ":"))
    print(text)
    if args.github_output and os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as f:
            f.write(f"matrix={text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.ci.machines"))
