"""Measure two releases of one library for comparison: interleaved rounds in one session.

    python -m tools pair numba 0.67.0 0.68.1            # 16 rounds, Sum/AxisSum/Gelu
    python -m tools pair torch 2.13.0 2.14.1 --rounds 12 --families Sum
    python -m tools pair numba 0.68.1 0.68.1            # A/A: two separate builds
    python -m tools pair numba 0.66.0 0.67.0 --kernel dot  # one kernel file's cases

Both environments are built from the same pins except the library under test (kept uv
environments under .asv/pair-envs/, reused when their pins match:
tools/run/environments.py); what each really has installed is read inside it, and a
pair that differs in anything else (numpy, asv_runner, a CPU vs a CUDA build of torch,
llvmlite unless numba is compared) is refused.

Each round starts a fresh worker process in each environment (tools/run/pair_worker.py) and
takes the cases one by one: the same case is prepared and timed by one side and right after
by the other, A first or B first alternating from case to case and from round to round, so
the two halves of a pair are seconds apart. (asv's own --interleave-rounds alternates
commits, not environments, and refuses existing environments. One asv invocation per round
and environment left the halves a minute apart, and the per-round noise that followed hid a
+10 % slowdown in a quarter of the cases: see report/calibration.md.) Every round's samples
are kept with their round number, and the session is saved after every round (atomically)
under rounds/; `python -m tools compare` reads it. After the last round every flagged case is
timed again in both environments in bare processes (tools/run/probe.py), and the comparison
says whether that probe confirms it or the step is the harness's only.
"""
import datetime
import os
import re
import sys
import time
from dataclasses import dataclass

from benchmarks import cases
from benchmarks.kernels import kernel_names

from .. import (REPO_ROOT, ToolError, add_bench, add_machine, add_rounds, at_least,
               command_parser, run_main, say)
from ..reports.verdicts import GATE
from ..results.pins import pair_pins
from ..results.releases import COMPARED_LIBRARIES
from ..results.sessions import FORMAT, SIDES, Session, session_dir
from .asv_config import head_commit
from .environments import CANARY_SUFFIX, PAIR_ROOT, build_env, env_python
from . import preflight
from .interleave import REPEAT, case_requests, measure_round
from .probe import DEFAULT_ROUNDS, probe_session

# What must be identical in both environments, besides the library under test.
MUST_AGREE = ("numpy", "numba", "llvmlite", "torch", "asv_runner", "python_version")

# The cases a release comparison measures: every cpu case of the seed's three families at the
# sizes where they differ in kind (cache-resident, memory-resident), without the pure-Python
# sums at 10M (0.5-1 s per call, and controls for both libraries at the smaller size).
def _cpu(case):
    return case.values.get("device") == "cpu"


def _sum_case(case):
    size, impl = case.values["size"], case.values["impl"]
    return size in ((100, 10_000) if impl.startswith("python_") else (10_000, 1_000_000, 10_000_000))


FAMILIES = {  # family -> predicate over benchmarks.cases.Case
    "Sum": lambda c: c.cls == "Sum" and _cpu(c) and _sum_case(c),
    "AxisSum": lambda c: c.cls == "AxisSum" and _cpu(c) and
    c.values["shape"] in ("1000x1000", "10000x10000"),
    "Gelu": lambda c: c.cls == "Gelu" and _cpu(c) and c.values["size"] in (100_000, 10_000_000)
    and c.values["malloc"] == "default",
}


@dataclass(frozen=True)
class Selection:
    """The cases of a comparison: families (or one kernel file's cpu cases), narrowed by an
    optional regular expression on asv's name; `description` is what the session records."""
    families: tuple = tuple(FAMILIES)
    bench: str = None
    kernel: str = None

    def __call__(self, case):
        if self.kernel:
            chosen = cases.kernel(self.kernel)(case)
        else:
            chosen = any(FAMILIES[f](case) for f in self.families)
        return chosen and (not self.bench or re.search(self.bench, case.asv_name) is not None)

    @property
    def description(self):
        what = f"kernel {self.kernel}" if self.kernel else f"families {','.join(self.families)}"
        return what + (f"; --bench {self.bench}" if self.bench else "")


def subset(families, bench=None, kernel=None):
    return Selection(tuple(families), bench, kernel)


def pair_requirements(library, release):
    """Everything but the library under test stays at requirements.txt's versions (numba's
    llvmlite follows the numba release)."""
    held = {name.removeprefix("pip+"): version for name, version in pair_pins().items()}
    return [f"{name}=={version}" for name, version in {**held, library: release}.items()]


def check_pair(library, versions):
    """Refuse a pair whose environments differ in more than the library under test."""
    a, b = versions["A"], versions["B"]
    for name in MUST_AGREE:
        if name == library or (library == "numba" and name == "llvmlite"):
            continue  # the library under test, and the llvmlite that numba release requires
        if a.get(name) != b.get(name):
            raise ToolError(f"the two environments differ in {name} ({a.get(name)} vs "
                               f"{b.get(name)}), not only in {library}: refused")
    flavour = [v.get(library, "").partition("+")[2] or "default" for v in (a, b)]
    if flavour[0] != flavour[1]:
        raise ToolError(f"{library} {a.get(library)} and {b.get(library)} are different "
                           f"builds ({flavour[0]} vs {flavour[1]}): compare the same flavour")


def select_cases(selection):
    """Every case of `selection`, in asv's order: (label, request, name), the label as reports
    write it, the request a worker takes, the name benchmarks/base.py gives the case (what a
    calibration slows down)."""
    chosen = cases.all_cases(selection)
    return [(label, request, case.short)
            for (label, request), case in zip(case_requests(chosen), chosen)]


def new_session(root, machine, library, releases, pythons, versions, selection, commit, kind,
                inject=None):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    session_id = f"{stamp}-{commit[:8]}"
    path = os.path.join(session_dir(root, machine, library, *releases), f"{session_id}.json")
    data = {"format": FORMAT, "kind": kind, "library": library, "machine": machine,
            "commit": commit, "session": session_id, "bench": selection.description,
            "repeat": REPEAT,
            "method": "paired workers",
            "gate": GATE, "inject": inject or {},
            "sides": {side: {"release": rel, "python": os.path.relpath(py, REPO_ROOT),
                            "versions": versions[side]}
                     for side, rel, py in zip("AB", releases, pythons)},
            "measured": []}
    return Session(path, data)


def run_rounds(session, pythons, rounds, cases, inject=None):
    """Measure `rounds` rounds of paired cases (tools.run.interleave, N = 2), saving the
    session after each."""
    data = session.data
    start = time.perf_counter()
    requests = [(label, request) for label, request, _ in cases]
    for number in range(len(data["measured"]) + 1, rounds + 1):
        rnd = measure_round(number, {side: pythons[side] for side in SIDES}, requests, inject)
        rnd.update(commit=data["commit"], session=data["session"])
        data["measured"].append(rnd)
        session.save()
        print(f"== round {number}/{rounds}: {len(rnd['values']['A'])} cases paired in "
              f"{rnd['seconds']:.0f} s; {time.perf_counter() - start:.0f} s so far",
              flush=True)
    return session


def prepare_pair(library, release_a, release_b, pypi_torch=False):
    """Build (or reuse) both environments (tools/run/environments.py), read what they have,
    refuse unlike pairs: (pythons, versions). An A/A pair's B is the same pins built a second
    time, separately (NAME-aa).

    pypi_torch: every package from the public index only, never pip's configured local wheel
    folders, so that every torch release is PyPI's CUDA build; a local CPU build against a
    CUDA build is no release comparison."""
    from .provenance import collect_from

    policy = "ignore" if pypi_torch else "machine"
    root = os.path.join(PAIR_ROOT, "pypi-only" if pypi_torch else "default")
    pythons, versions = {}, {}
    for side, release in (("A", release_a), ("B", release_b)):
        name = f"{library}-{release}"
        env_dir = os.path.join(root, name + (CANARY_SUFFIX if side == "B" and
                                             release_a == release_b else ""))
        t0 = time.perf_counter()
        record = build_env(env_dir, pair_requirements(library, release), policy, say)
        say(f"env {side} {os.path.relpath(env_dir, REPO_ROOT)}: "
            f"{'reused' if record['reused'] else 'built'} ({time.perf_counter() - t0:.0f} s)")
        pythons[side] = env_python(env_dir)
        versions[side] = collect_from(pythons[side])
    check_pair(library, versions)
    return pythons, versions


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("library", help=f"one of {', '.join(COMPARED_LIBRARIES)}")
    parser.add_argument("release_a", help="the reference release, e.g. 0.67.0")
    parser.add_argument("release_b", help="the release compared with it (same: an A/A run)")
    add_rounds(parser, 16)
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated, of {', '.join(FAMILIES)}")
    add_bench(parser, "the cases further")
    parser.add_argument("--kernel", help="every cpu case of benchmarks/kernels/NAME.py "
                                         "(instead of --families)")
    add_machine(parser)
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "rounds"),
                        help="where sessions are stored (default: rounds/)")
    parser.add_argument("--probe-rounds", type=at_least(0), default=DEFAULT_ROUNDS,
                        help=f"rounds of the bare probe of every flagged case after the last "
                             f"round (default {DEFAULT_ROUNDS}; 0: none)")
    parser.add_argument("--pypi-torch", action="store_true",
                        help="every package from the public index only (torch's CUDA builds), "
                             "in .asv/pair-envs/pypi-only: the same flavour for every torch "
                             "release")
    args = parser.parse_args(argv)
    if args.library not in COMPARED_LIBRARIES:
        raise ToolError(f"unknown library {args.library!r}: choose one of "
                        f"{', '.join(COMPARED_LIBRARIES)}")
    families = args.families.split(",")
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ToolError(f"unknown family {', '.join(sorted(unknown))}: choose from "
                        f"{', '.join(FAMILIES)}")
    if args.kernel and args.kernel not in kernel_names():
        raise ToolError(f"unknown kernel {args.kernel!r}: benchmarks/kernels/ has "
                        f"{', '.join(kernel_names()) or 'none'}")
    session = measure_pair(args.library, args.release_a, args.release_b, args.rounds,
                           subset(families, args.bench, args.kernel), args.machine,
                           args.out, pypi_torch=args.pypi_torch,
                           probe_rounds=args.probe_rounds)
    print(f"wrote {os.path.relpath(session.path)}\ncompare with: python -m tools compare "
          f"{args.library} {args.release_a} {args.release_b}")
    return 0


def measure_pair(library, release_a, release_b, rounds, selection, machine, out, inject=None,
                 kind=None, pypi_torch=False, probe_rounds=0):
    cases = select_cases(selection)
    if not cases:
        raise ToolError("no case matches the selection")
    pythons, versions = prepare_pair(library, release_a, release_b, pypi_torch)
    session = new_session(out, machine, library, (release_a, release_b),
                          (pythons["A"], pythons["B"]), versions, selection, head_commit(),
                          kind or ("A/A" if release_a == release_b else "release"), inject)
    say(f"{library} {release_a} vs {release_b}: {len(cases)} cases, {rounds} rounds, session "
        f"{session.data['session']}")
    # nothing is timed until every case prepares in both environments, or in neither
    preflight.check(pythons, [(label, request) for label, request, *_ in cases])
    run_rounds(session, pythons, rounds, cases, inject)
    if probe_rounds > 0:  # a flagged case is published with what a bare process reads
        probe_session(session, probe_rounds, say)
    return session


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.run.measure_pair"))
