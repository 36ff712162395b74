"""The one place for version pins: requirements.txt. The release pairs' environments, the
calibration and the tests read them here; asv.conf.json's matrix and the histories' fixed
versions (history/releases.json), which are JSON and cannot read a file, are checked against
them by tests/test_layout.py."""
import os
import re

from .. import REPO_ROOT, ToolError

REQUIREMENTS = os.path.join(REPO_ROOT, "requirements.txt")


def pins(path=REQUIREMENTS):
    """{package: version} of every `name==version` line of requirements.txt."""
    out = {}
    if not os.path.isfile(path):
        raise ToolError(f"{path} not found: the pinned versions are read from it")
    with open(path) as f:
        for line in f:
            match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#;]+)", line)
            if match:
                out[match.group(1).lower()] = match.group(2)
    return out


def pair_pins():
    """What both environments of a release pair hold (asv matrix form; asv needs "pip+" to
    keep its own asv_runner from replacing the pinned one)."""
    p = pins()
    return {"numpy": p["numpy"], "numba": p["numba"], "torch": p["torch"],
            "pip+asv_runner": p["asv_runner"]}
