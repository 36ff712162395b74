"""The kept environments of a history, one per release and the canary's twin.

    python -m tools history envs torch         # build (or find) every release's environment

Each release's environment holds exactly its ledger commit's pins (the release and what the
history holds fixed), built by tools/run/environments.py with the release list's index policy
("pip_config" in history/releases.json).
"""
import os
import sys

from .. import command_parser, run_main, say
from ..run.environments import CANARY_SUFFIX, ENV_ROOT, build_env, env_python
from .releases import load_history


def side_dirs(history, canary, root=ENV_ROOT):
    """{side: (release, env dir)}: one side per release, plus the canary's second build."""
    sides = {}
    for release in history.releases:
        sides[release.tag] = (release, os.path.join(root, history.name, release.tag))
    if canary:
        release = history.release(canary)
        sides[canary + CANARY_SUFFIX] = (release, os.path.join(root, history.name,
                                                               canary + CANARY_SUFFIX))
    return sides


def build_all(history, canary, root=ENV_ROOT, say=print):
    """{side: install record with 'python'} for every side, built in release order."""
    out = {}
    for side, (release, env_dir) in side_dirs(history, canary, root).items():
        record = build_env(env_dir, history.pins(release), history.pip_config, say)
        out[side] = dict(record, python=env_python(env_dir), tag=release.tag)
    return out


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("history", help="numba or torch (history/releases.json)")
    parser.add_argument("--canary", help="the release built twice (default: the newest)")
    args = parser.parse_args(argv)
    history = load_history(args.history)
    records = build_all(history, args.canary or history.releases[-1].tag, say=say)
    for side, record in records.items():
        print(f"{side:<20} {'reused' if record['reused'] else 'built'}  "
              f"{record['install_seconds']:>6.1f} s  {record['own_bytes'] / 2**20:>6.0f} MiB own  "
              f"{record['shared_bytes'] / 2**30:.2f} GiB shared")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.history.envs"))
