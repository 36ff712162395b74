"""Interleaved comparison sessions: two environments measured round by round, stored whole.

A session file holds what both environments had installed (read inside each of them), the
commit and benchmark versions measured, and for every round its order (A first or B first)
and every case's samples and median in each environment. One file is one session: a
comparison never mixes rounds of two sessions, and a file that fails these checks is refused
in one line. The words are a history's (rounds.json): `sides` are the environments, `measured`
the list of rounds (tools/run/interleave.py's schema, keyed by the case's label).

    rounds/<machine>/<library>-<A release>-vs-<B release>/<session id>.json
"""
import glob
import json
import os
from dataclasses import dataclass

from .atomic import write_json_atomic
from .. import ToolError

FORMAT = 2  # every committed session is of this format (format 1 said `envs`, `rounds`)
SIDES = ("A", "B")


@dataclass
class Session:
    path: str
    data: dict

    @property
    def library(self):
        return self.data["library"]

    def release(self, side):
        return self.data["sides"][side]["release"]

    def versions(self, side):
        return self.data["sides"][side]["versions"]

    def python(self, side):
        return self.data["sides"][side]["python"]

    @property
    def rounds(self):
        return self.data["measured"]

    def medians(self):
        """{case: {round number: {side: median seconds}}} over the complete rounds."""
        out = {}
        for rnd in self.rounds:
            for side in SIDES:
                for case, value in rnd["values"].get(side, {}).items():
                    if value.get("median") is not None:
                        out.setdefault(case, {}).setdefault(rnd["round"], {})[side] = \
                            value["median"]
        return out

    def save(self):
        write_json_atomic(self.path, self.data)


def session_dir(root, machine, library, release_a, release_b):
    return os.path.join(root, machine, f"{library}-{release_a}-vs-{release_b}")


def load_session(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ToolError(f"{path} is not valid JSON (truncated?): {exc}") from exc
    check_session(data, path)
    return Session(path, data)


def check_session(data, path="session"):
    """Refuse what cannot be compared: another format, one environment only, rounds without
    both sides, benchmark versions that differ between the sides."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ToolError(f"{path}: not a comparison session of format {FORMAT}")
    sides = data.get("sides", {})
    if set(sides) != set(SIDES):
        raise ToolError(f"{path}: a session needs two environments (A and B), "
                        f"it has {', '.join(sorted(sides)) or 'none'}")
    measured = data.get("measured", [])
    complete = [r for r in measured if set(r.get("values", {})) == set(SIDES)]
    if not complete:
        raise ToolError(f"{path}: no round measured both environments")
    if measured != complete:
        raise ToolError(f"{path}: round {measured[len(complete)]['round']} measured "
                        "one environment only")
    versions = [r.get("benchmark_versions", {}) for r in complete]
    for rnd in complete:
        a, b = rnd["benchmark_versions"]["A"], rnd["benchmark_versions"]["B"]
        if a != b or a != versions[0]["A"]:
            raise ToolError(f"{path}: benchmark versions differ between environments or "
                               f"rounds (round {rnd['round']}): the code measured changed")
    if len({(r.get("commit"), r.get("session")) for r in complete}) != 1:
        raise ToolError(f"{path}: rounds from more than one session or commit")


def find_sessions(root, library, release_a, release_b, machine=None):
    """Session files for this pair, newest first."""
    pattern = os.path.join(root, machine or "*", f"{library}-{release_a}-vs-{release_b}",
                           "*.json")
    files = sorted(glob.glob(pattern), reverse=True)  # ids start with a UTC time stamp
    if not files:
        raise ToolError(f"no comparison session for {library} {release_a} vs {release_b} "
                           f"under {root}: measure one with python -m tools pair "
                           f"{library} {release_a} {release_b}")
    return files


def instructions_path(session):
    """Where the instruction counts of a session's two environments are stored: beside the
    session, under its id, so that counts and times always come from the same environments."""
    folder = os.path.join(os.path.dirname(session.path), "instructions")
    return os.path.join(folder, f"{session.data['session']}.json")


def load_instructions(session):
    """{"counts": {"A": {case: n}, "B": {...}}, ...} for `session`, or None if not counted."""
    path = instructions_path(session)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            data = json.load(f)
    except ValueError as exc:
        raise ToolError(f"{path} is not valid JSON (truncated?): {exc}") from exc
    if data.get("session") != session.data["session"] or set(data.get("counts", {})) != \
            set(SIDES):
        raise ToolError(f"{path}: not the instruction counts of both sides of "
                           f"{session.data['session']}")
    return data
