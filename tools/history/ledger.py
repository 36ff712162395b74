"""The release ledger: a git repository with one commit per release, for asv's commit axis.

    python -m tools history ledger numba      # (re)generate .asv/ledger/numba, print its commits

Each commit holds only `pins.json` (the requirements of that point and how pip may find them),
its author and committer date are the release's upload date, its message names the release,
and it is tagged `LIBRARY-VERSION` (asv draws tags as labelled lines on every graph). Names,
e-mails, dates and content are all fixed, so generating the ledger again, anywhere, gives the
same commit hashes: committed results keep their commits.

It is generated under .asv/, not committed as a branch of this repository: a branch with
unrelated history would sit beside main in every clone, and asv would have to be kept off it;
a generated ledger needs only the release list, which is checked in, and the tests check that
two generations agree hash for hash.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from .. import REPO_ROOT, command_parser, run_main
from .releases import RELEASES_FILE, load_history

LEDGER_ROOT = os.path.join(REPO_ROOT, ".asv", "ledger")
BRANCH = "main"
AUTHOR = ("array-op-benchmarks release ledger", "ledger@array-op-benchmarks.invalid")
PINS_FILE = "pins.json"


def ledger_path(name):
    return os.path.join(LEDGER_ROOT, name)


def _git(path, *args, env=None):
    # No user or system configuration: hooks, signing and templates cannot change a commit.
    base = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": path,
            "PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "TZ": "UTC"}
    proc = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
                           "-c", "core.hooksPath=" + os.devnull, *args],
                          cwd=path, env=dict(base, **(env or {})), capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def pins_document(history, release):
    return {
        "history": history.name,
        "library": history.library,
        "release": release.version,
        "date": release.date,
        "requirements": history.pins(release),
        "pip_config": history.pip_config,
    }


def build(history, path):
    """Write the ledger of `history` into the empty folder `path`; return [(tag, hash)]."""
    _git(path, "init", "-q", "--initial-branch", BRANCH)
    commits = []
    for release in history.releases:
        with open(os.path.join(path, PINS_FILE), "w", encoding="utf-8", newline="\n") as f:
            json.dump(pins_document(history, release), f, indent=1, sort_keys=True)
            f.write("\n")
        _git(path, "add", PINS_FILE)
        date = f"{release.timestamp} +0000"
        env = {"GIT_AUTHOR_NAME": AUTHOR[0], "GIT_AUTHOR_EMAIL": AUTHOR[1],
               "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_NAME": AUTHOR[0],
               "GIT_COMMITTER_EMAIL": AUTHOR[1], "GIT_COMMITTER_DATE": date}
        message = f"{history.library} {release.version}\n\n" + "\n".join(history.pins(release))
        _git(path, "commit", "-q", "--no-verify", "--allow-empty", "-m", message, env=env)
        _git(path, "tag", release.tag)  # lightweight: no tagger date to vary
        commits.append((release.tag, _git(path, "rev-parse", "HEAD")))
    return commits


def read_ledger(path):
    """[(tag, hash)] of an existing ledger, oldest first; [] if there is none."""
    if not os.path.isdir(os.path.join(path, ".git")):
        return []
    try:
        hashes = _git(path, "rev-list", "--reverse", BRANCH).split()
        tags = {}
        for line in _git(path, "show-ref", "--tags").splitlines():
            commit, ref = line.split()
            tags[commit] = ref.rsplit("/", 1)[1]
    except RuntimeError:
        return []
    return [(tags.get(h), h) for h in hashes]


def generate(name, releases_file=RELEASES_FILE, root=None):
    """The ledger of history `name` under `root` (default .asv/ledger/), generated afresh unless
    an identical one is there; return [(tag, hash)], oldest first."""
    history = load_history(name, releases_file)
    path = os.path.join(root or LEDGER_ROOT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as tmp:
        fresh = build(history, tmp)
        if read_ledger(path) != fresh:
            shutil.rmtree(path, ignore_errors=True)
            shutil.copytree(tmp, path, symlinks=True)
    return fresh


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("history", help="a history of history/releases.json (numba, torch)")
    parser.add_argument("--releases", default=RELEASES_FILE, help="the release list file")
    args = parser.parse_args(argv)
    commits = generate(args.history, args.releases)
    history = load_history(args.history, args.releases)
    print(f"{os.path.relpath(ledger_path(args.history), REPO_ROOT)}: {len(commits)} releases")
    for (tag, commit), release in zip(commits, history.releases):
        print(f"  {commit[:8]}  {release.date}  {tag:<16} {' '.join(history.pins(release))}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.history.ledger"))
