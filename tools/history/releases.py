"""The checked-in release lists (history/releases.json), read and checked.

A history varies one library over its releases and holds the others fixed. Every problem with
the list is reported as one line (ToolError), before anything is generated or installed.
"""
import json
import os
import re
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone

from packaging.version import InvalidVersion, Version

from .. import REPO_ROOT, ToolError

PYPI = "https://pypi.org/pypi/{}/json"
RELEASES_FILE = os.path.join(REPO_ROOT, "history", "releases.json")
VERSION = re.compile(r"^\d+(\.\d+)*$")  # a final release: no pre-, post- or local part
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PIP_CONFIG = {
    # the machine's pip configuration applies (its indexes, find-links and constraints)
    "machine",
    # none applies: every release comes from the public index in its default flavour, and a
    # constraints file that caps the library cannot refuse its newest release
    "ignore",
}


@dataclass(frozen=True)
class Release:
    library: str
    version: str
    date: str  # ISO 8601, UTC, seconds

    @property
    def tag(self):
        """The ledger's tag, drawn on every graph: 'numba-0.60.0'."""
        return f"{self.library}-{self.version}"

    @property
    def timestamp(self):
        return int(datetime.strptime(self.date, "%Y-%m-%dT%H:%M:%SZ")
                   .replace(tzinfo=timezone.utc).timestamp())


@dataclass(frozen=True)
class History:
    name: str
    library: str
    fixed: dict  # library -> version, installed beside every release
    pip_config: str
    releases: tuple

    def pins(self, release):
        """The requirements of one point, sorted: the release and everything held fixed.
        The release is pinned with '===' (that exact version string): '==2.13.0' would also
        take a local build such as 2.13.0+cpu where an index offers one, and one point of the
        history would be another build than its neighbours."""
        pins = {name: f"=={version}" for name, version in self.fixed.items()}
        pins[self.library] = f"==={release.version}"
        return [f"{name}{pin}" for name, pin in sorted(pins.items())]

    def release(self, tag):
        for r in self.releases:
            if r.tag == tag:
                return r
        raise ToolError(f"history {self.name!r} has no release tagged {tag!r}")


def has_cp311_wheel(files):
    """A package index release (PyPI's JSON: its files) installs here: a CPython 3.11 x86-64
    wheel."""
    return any("cp311" in f["filename"] and "x86_64" in f["filename"] for f in files)


def index_releases(library):
    """The package index's {version: [file, ...]} of a library (PyPI's JSON API): the one
    client of the index, for following new releases and narrowing a step."""
    with urllib.request.urlopen(PYPI.format(library), timeout=30) as f:
        return json.load(f)["releases"]


def installable(files_by_version):
    """[(Version, files)] of the index's versions with a cp311 x86-64 wheel, oldest first."""
    found = []
    for text, files in files_by_version.items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if has_cp311_wheel(files):
            found.append((version, files))
    return sorted(found, key=lambda pair: pair[0])


def _version_key(version):
    return tuple(int(part) for part in version.split("."))


def parse_history(name, entry):
    """One history from its JSON entry; ToolError names the first problem."""
    where = f"history {name!r}"
    if not isinstance(entry, dict):
        raise ToolError(f"{where}: expected an object, got {type(entry).__name__}")
    library = entry.get("library")
    if not isinstance(library, str) or not library:
        raise ToolError(f"{where}: 'library' must name the library that varies")
    fixed = entry.get("fixed", {})
    if not isinstance(fixed, dict) or library in fixed:
        raise ToolError(f"{where}: 'fixed' must map other libraries to versions")
    for lib, version in fixed.items():
        if not isinstance(version, str) or not VERSION.match(version):
            raise ToolError(f"{where}: fixed {lib} {version!r} is not a release number")
    pip_config = entry.get("pip_config", "machine")
    if pip_config not in PIP_CONFIG:
        raise ToolError(f"{where}: pip_config {pip_config!r} is not one of "
                               f"{sorted(PIP_CONFIG)}")
    items = entry.get("releases")
    if not isinstance(items, list) or not items:
        raise ToolError(f"{where}: 'releases' must be a non-empty list")
    releases = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"version", "date"}:
            raise ToolError(f"{where}: release #{i + 1} must have exactly 'version' "
                                   "and 'date'")
        version, date = item["version"], item["date"]
        if not isinstance(version, str) or not VERSION.match(version):
            raise ToolError(f"{where}: release #{i + 1}: {version!r} is not a "
                                   "final release number such as 0.60.0")
        if not isinstance(date, str) or not DATE.match(date):
            raise ToolError(f"{where}: {library} {version}: date {date!r} is not "
                                   "YYYY-MM-DDTHH:MM:SSZ")
        try:
            release = Release(library, version, date)
            release.timestamp
        except ValueError:
            raise ToolError(f"{where}: {library} {version}: {date!r} is not a date")
        if releases:
            previous = releases[-1]
            if _version_key(version) <= _version_key(previous.version):
                raise ToolError(f"{where}: {library} {version} comes after "
                                       f"{previous.version}: list releases oldest first, "
                                       "each once")
            if release.timestamp <= previous.timestamp:
                raise ToolError(f"{where}: {library} {version} is dated {date}, not "
                                       f"after {previous.version} ({previous.date})")
        releases.append(release)
    return History(name, library, dict(fixed), pip_config, tuple(releases))


def load_histories(path=RELEASES_FILE):
    """{name: History} from the release list file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        raise ToolError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})")
    histories = data.get("histories") if isinstance(data, dict) else None
    if not isinstance(histories, dict) or not histories:
        raise ToolError(f"{path}: expected {{\"histories\": {{NAME: ...}}}}")
    return {name: parse_history(name, entry) for name, entry in histories.items()}


def load_history(name, path=RELEASES_FILE):
    histories = load_histories(path)
    if name not in histories:
        raise ToolError(f"no history {name!r} in {os.path.relpath(path)} "
                               f"(there are: {', '.join(sorted(histories))})")
    return histories[name]
