"""Instruction counts per release of a history: a step in counts is exact.

    python -m tools history counts torch --machine NAME    # every release, then the canary
    python -m tools history counts torch --machine NAME --releases torch-2.12.1 torch-2.13.0

Counts every single-threaded case of the history that the instruction-count family covers
(benchmarks/instructions.py: numba, NumPy, the Python loops, torch eager on one thread; ~2.5 min an
environment, two valgrind workers at a time) in each release's kept environment, once: counts
repeat exactly, so one is the whole measurement. The canary's second build is counted too,
and must match its twin: the A/A of the counts. Stored as counts.json beside rounds.json
(saved after every release; a rerun counts only the releases missing). The history report
sets each confirmed step's instruction ratio beside its time ratio.
"""
import os
import subprocess
import sys
import time

from benchmarks.instructions import count_cases, counted_cases, family_cases

from .. import ToolError, add_machine, command_parser, run_main, say
from ..reports.verdicts import COUNT_GATE, count_change
from ..results.atomic import write_json_atomic
from ..results.rows import read_json
from ..run.environments import CANARY_SUFFIX, ENV_ROOT, env_python
from .paths import ROUNDS_FILE, config_path, resolved
from .releases import load_history

COUNTS_FILE = "counts.json"


def counted_in_histories(case):
    """Whether a history counts `case`. Not torch.compile: under valgrind in a release's fresh
    environment (a cold inductor cache) the worker of torch 2.5.1 with Gelu(100000, compiled)
    ran past the 900 s limit, and 12 such environments would take hours on 2 cores. The main
    job counts compiled GELU; histories don't."""
    return case.values.get("mode") != "compiled"


def history_family(labels):
    """[(count label, cls, params)] of the family whose timed case is one of `labels` (not
    the compiled ones), and {timed label: count label}."""
    cases = counted_cases()
    chosen = [spec for spec in family_cases() if cases[spec[0]].label in labels
              and counted_in_histories(cases[spec[0]])]
    return chosen, {cases[spec[0]].label: spec[0] for spec in chosen}


def count_history(name, machine, results_dir=None, env_root=None, say=print, only=None):
    """Count every release (and the canary) not yet in counts.json, or only the tags in
    `only` (the two releases of a confirmed step first: a full history takes hours); returns
    its path."""
    history = load_history(name)
    results_dir = results_dir or resolved(config_path(name), "results_dir")
    rounds_path = os.path.join(results_dir, machine, ROUNDS_FILE)
    if not os.path.isfile(rounds_path):
        raise ToolError(f"no {name} history measured on {machine} ({rounds_path}): the counts "
                        "are taken for the cases a history times")
    progress = read_json(rounds_path)
    cases, by_timed = history_family(set(progress["cases"]))
    if not cases:
        raise ToolError(f"no case of the {progress['subset']!r} subset is in the "
                        "instruction-count family")
    path = os.path.join(results_dir, machine, COUNTS_FILE)
    out = read_json(path) if os.path.isfile(path) else {"format": 1, "releases": {}}
    out["cases"] = by_timed
    env_dir = os.path.join(env_root or ENV_ROOT, name)
    sides = [r.tag for r in history.releases] + [progress["canary"]]
    if only:
        unknown = sorted(set(only) - set(sides))
        if unknown:
            raise ToolError(f"not a release of the {name} history: {', '.join(unknown)} "
                            f"(choose from {', '.join(sides)})")
        sides = [side for side in sides if side in only]
    for side in sides:
        if side in out["releases"]:
            continue
        python = env_python(os.path.join(env_dir, side))
        if not os.path.isfile(python):
            raise ToolError(f"no kept environment {python}: python -m tools history envs {name}")
        start = time.perf_counter()
        try:
            found = count_cases(cases, python=python)
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"{side}: a valgrind worker ran past {exc.timeout:.0f} s; the "
                            f"releases counted so far are in {path}") from None
        out["releases"][side] = {"counts": {label: found["counts"][count]
                                            for label, count in by_timed.items()
                                            if count in found["counts"]},
                                 "errors": found["errors"], "isa": found["isa"],
                                 "seconds": round(time.perf_counter() - start, 1)}
        write_json_atomic(path, out)
        say(f"{side}: {len(out['releases'][side]['counts'])} cases counted, "
            f"{len(found['errors'])} not, in {out['releases'][side]['seconds']:.0f} s")
    twin = progress["canary"][:-len(CANARY_SUFFIX)]
    a, b = (out["releases"].get(s, {}).get("counts", {}) for s in (twin, progress["canary"]))
    differ = [label for label in a if label in b and count_change(a[label], b[label]) != "same"]
    say(f"canary: {len(a) - len(differ)} of {len(a)} counts of {twin} repeat in its second "
        f"build" + (f"; differ: {', '.join(differ[:3])}" if differ else ""))
    return path


def load_counts(results_dir, machine):
    """{release: {timed label: instructions per call}} of a history, or {} if never counted."""
    path = os.path.join(results_dir, machine, COUNTS_FILE)
    if not os.path.isfile(path):
        return {}
    return {side: entry["counts"] for side, entry in read_json(path)["releases"].items()}


def counts_text(counts, label, before, after, canary=()):
    """'+0.00 %: not the code' beside a confirmed step's time ratio ('' if uncounted): counts
    are exact within one build, so a count beyond the count gate is a change of the code that
    ran; where the canary's two builds of one release (`canary`: its two tags) differ on the
    case (CPython's caches, dispatch), a step must also go beyond that difference."""
    a, b = counts.get(before, {}).get(label), counts.get(after, {}).get(label)
    if not a or not b:
        return ""
    twins = [counts.get(tag, {}).get(label) for tag in canary]
    aa = max(twins) / min(twins) if len(twins) == 2 and all(twins) else 1.0
    same = count_change(a, b, max(COUNT_GATE, aa)) == "same"
    text = f"{(b / a - 1) * 100:+.2f} %: " + ("not the code" if same else "codegen changed")
    return text + (f" (the canary's builds differ by {(aa - 1) * 100:.2f} %)"
                   if aa > COUNT_GATE else "")


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("history", help="numba or torch")
    add_machine(parser)
    parser.add_argument("--releases", nargs="+", metavar="TAG",
                        help="count only these (e.g. torch-2.12.1 torch-2.13.0, the two sides of "
                             "a confirmed step); default: every release not yet counted")
    args = parser.parse_args(argv)
    try:
        path = count_history(args.history, args.machine, say=say, only=args.releases)
    except NotImplementedError as exc:  # no valgrind or no compiler here
        raise RuntimeError(str(exc))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.history.counts"))
