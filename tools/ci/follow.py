"""Follow new releases: ask the package index for numba's and torch's releases, append each new
one to history/releases.json, and name the steps to measure.

    python -m tools ci follow                       # PyPI; writes history/releases.json
    python -m tools ci follow --json steps.json     # also the steps, for `ci plan --steps`
    python -m tools ci follow --index FILE          # a stored release list instead of PyPI

A new release is a final release (no rc, beta or dev) newer than the newest of its history,
with a CPython 3.11 x86-64 wheel. It is appended with the date of its first upload, so the
release ledger grows by one commit and every earlier commit keeps its hash (checked: the
command refuses a list whose ledger would rewrite history). Each new release is one step
against the release before it; the workflow measures it on every machine with the paired
protocol (`python -m tools pair`) and posts the verdicts (`python -m tools compare
--markdown`) as the description of a pull request with the new results.
"""
import json
import os
import re
import sys
import tempfile

from packaging.version import Version

from .. import ToolError, command_parser, run_main
from ..history.ledger import generate
from ..history.releases import RELEASES_FILE, index_releases, installable, load_histories
from ..results.atomic import write_json_atomic, write_text_atomic

def final_releases(files_by_version):
    """[(version, first upload date)] of final releases with a cp311 x86-64 wheel, oldest
    first, from PyPI's {version: [file, ...]} (each file: filename, upload_time_iso_8601)."""
    out = []
    for version, files in installable(files_by_version):
        dates = sorted(f["upload_time_iso_8601"] for f in files if f.get("upload_time_iso_8601"))
        if dates and not (version.is_prerelease or version.is_devrelease):
            out.append((str(version), re.sub(r"\.\d+Z$", "Z", dates[0])))
    return out


def new_steps(histories, index):
    """[{history, library, old, new, date}] for every release newer than its history's newest;
    `index(library)` gives the package index's {version: files}."""
    steps = []
    for name, history in histories.items():
        newest = history.releases[-1].version
        previous = newest
        for version, date in final_releases(index(history.library)):
            if Version(version) > Version(newest):
                steps.append({"history": name, "library": history.library, "old": previous,
                              "new": version, "date": date})
                previous = version
    return steps


def append_releases(path, steps):
    """Append each step's release to its history in the release list, keeping the file's own
    layout (one line per release)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for step in steps:
        last = f'{{"version": "{step["old"]}", '
        at = next((i for i, line in enumerate(lines) if line.strip().startswith(last)), None)
        if at is None:
            raise ToolError(f"{path}: no release {step['old']} line to append after")
        indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
        lines[at] = lines[at].rstrip(",") + ","
        entry = json.dumps({"version": step["new"], "date": step["date"]})
        lines.insert(at + 1, indent + entry)
    text = "\n".join(lines)
    json.loads(text)  # still the same JSON document, one release longer
    write_text_atomic(path, text)


def follow(releases_file, index):
    """Append the new releases; check that every ledger keeps its earlier commits; return the
    steps."""
    histories = load_histories(releases_file)
    steps = new_steps(histories, index)
    if not steps:
        return steps
    with tempfile.TemporaryDirectory() as scratch:
        before = {name: generate(name, releases_file, os.path.join(scratch, "before"))
                  for name in histories}
        append_releases(releases_file, steps)
        load_histories(releases_file)  # the list still passes every check
        for name in histories:
            after = generate(name, releases_file, os.path.join(scratch, "after"))
            if after[:len(before[name])] != before[name]:
                raise ToolError(f"appending to {name} would change earlier ledger "
                                       "commits: the committed results would lose theirs")
    return steps


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--releases-file", default=RELEASES_FILE)
    parser.add_argument("--index", help="a stored release list: {library: {version: [files]}} "
                                        "as PyPI's JSON API gives them (default: ask PyPI)")
    parser.add_argument("--json", help="write {\"steps\": [...]} here")
    parser.add_argument("--github-output", action="store_true",
                        help="append steps=JSON and found=true|false to $GITHUB_OUTPUT")
    args = parser.parse_args(argv)
    try:
        if args.index:
            with open(args.index) as f:
                stored = json.load(f)
            index = lambda library: stored.get(library, {})  # noqa: E731
        else:
            index = index_releases
        steps = follow(args.releases_file, index)
    except (OSError, ValueError) as exc:
        raise ToolError(str(exc))
    for step in steps:
        print(f"new release: {step['library']} {step['new']} ({step['date']}): step "
              f"{step['old']} -> {step['new']} appended to {os.path.relpath(args.releases_file)}")
    if not steps:
        print("no new release of numba or torch")
    if args.json:
        write_json_atomic(args.json, {"steps": steps})
    if args.github_output and os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as f:
            f.write(f"steps={json.dumps(steps, separators=(',', ':'))}\n"
                    f"found={'true' if steps else 'false'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.ci.follow"))
