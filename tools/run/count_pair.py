"""Count instructions per call in both environments of a release comparison session.

    python -m tools count numba 0.66.0 0.67.0     # the newest session of the pair
    python -m tools count torch 2.13.0 2.14.1 --session rounds/.../<id>.json

Runs the instruction-count family (benchmarks/instructions.py: every single-threaded case
under valgrind, ~2.5 min per environment) with the interpreter of each environment that the
session measured, after checking that the environment still has what the session recorded.
Counts are exact, so one count per environment is the whole measurement. They are stored
beside the session (<pair>/instructions/<session id>.json);
`python -m tools compare` prints them next to the time ratios.
"""
import datetime
import os
import sys
import time

from benchmarks.instructions import count_cases, family_cases

from .. import REPO_ROOT, ToolError, command_parser, run_main
from ..results.sessions import (SIDES, find_sessions, instructions_path, load_session,
                                write_json_atomic)
from .provenance import collect_from

# What must still be installed as the session recorded it for the counts to belong to it.
CHECKED = ("numpy", "numba", "llvmlite", "torch", "python_version")


def session_python(session, side):
    python = os.path.join(REPO_ROOT, session.python(side))
    if not os.path.exists(python):
        raise ToolError(f"the environment of {session.release(side)} ({python}) is gone: "
                           f"measure the pair again with python -m tools pair")
    have = collect_from(python)
    recorded = session.versions(side)
    for name in CHECKED:
        if have.get(name) != recorded.get(name):
            raise ToolError(f"the environment of {session.release(side)} now has {name} "
                               f"{have.get(name)}, the session measured {recorded.get(name)}: "
                               "measure the pair again")
    return python


def count_pair(session):
    cases = family_cases()
    out = {"format": 1, "session": session.data["session"], "library": session.library,
           "releases": {side: session.release(side) for side in SIDES},
           "counted": datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
           "counts": {}, "errors": {}, "isa": {}, "seconds": {}}
    for side in SIDES:
        python = session_python(session, side)
        start = time.perf_counter()
        result = count_cases(cases, python=python)
        out["counts"][side] = result["counts"]
        out["errors"][side] = result["errors"]
        out["isa"][side] = result["isa"]
        out["seconds"][side] = round(time.perf_counter() - start, 1)
        print(f"== {session.library} {session.release(side)}: {len(result['counts'])} cases "
              f"counted, {len(result['errors'])} not, in {out['seconds'][side]:.0f} s",
              flush=True)
    path = instructions_path(session)
    write_json_atomic(path, out)
    return path


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("library", help="numba or torch")
    parser.add_argument("old", help="release A of the session")
    parser.add_argument("new", help="release B of the session")
    parser.add_argument("--rounds-dir", default=os.path.join(REPO_ROOT, "rounds"))
    parser.add_argument("--session", help="this session file instead of the newest")
    args = parser.parse_args(argv)
    try:
        path = args.session or find_sessions(args.rounds_dir, args.library, args.old,
                                             args.new)[0]
        session = load_session(path)
        written = count_pair(session)
    except NotImplementedError as exc:  # no valgrind
        raise RuntimeError(str(exc))
    print(f"wrote {os.path.relpath(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.run.count_pair"))
