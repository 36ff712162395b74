"""Stored results indexed by library release: the data behind release-vs-release comparisons.

asv keys results by environment name, which contains every library version, so two releases
of one library never pair up in `asv compare`. Here a result file is described by the versions
it records (asv's matrix values, or those stamped by tools/run/provenance.py), and two files are
comparable for a library when the machine and every *other* library agree.
"""
import os
import re
from dataclasses import dataclass

from .config import record_of
from .rows import load_rows, read_json, result_files
from .. import ToolError

MATRIX_LIBRARIES = ("numpy", "numba", "torch")  # the matrix's axes; llvmlite follows numba
# The libraries whose releases are compared (pairs, histories, the machines file).
COMPARED_LIBRARIES = ("numba", "torch")


def public_version(version):
    """'2.13.0+cpu' -> '2.13.0': the same release, whichever build (CPU or CUDA) was installed."""
    return version.split("+", 1)[0]


def version_key(version):
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.+-]", version))


@dataclass(frozen=True)
class RunFile:
    path: str
    machine: str
    versions: tuple  # ((library, public version), ...)
    builds: tuple  # ((library, version as installed), ...)
    runner: str  # asv_runner version: 0.2.x and 0.3.x time small benchmarks differently

    def version(self, library):
        return dict(self.versions).get(library)

    def context(self, library):
        """What must agree for two runs to compare releases of `library`."""
        return ((self.machine,) + tuple((lib, v) for lib, v in self.versions if lib != library)
                + (("asv_runner", self.runner),))


def load_run_files(results_dir, machine=None):
    """Every result file that says which numpy/numba/torch produced it, newest first."""
    runs = []
    for path in result_files(results_dir, machine):
        params = recorded_params(path)
        if not all(lib in params for lib in MATRIX_LIBRARIES):
            continue  # an existing-env run that was never stamped: versions unknown
        runs.append(RunFile(
            path=path,
            machine=params.get("machine", "?"),
            versions=tuple((lib, public_version(params[lib])) for lib in MATRIX_LIBRARIES),
            builds=tuple((lib, params[lib]) for lib in MATRIX_LIBRARIES),
            runner=params.get("asv_runner", "?"),
        ))
    if not runs:
        raise ToolError(f"no result under {results_dir} records its numpy, numba and torch "
                           "versions (run tools/run/provenance.py --stamp after -E existing runs)")
    return runs


def newest_result_file(results_dir, machine=None, wanted=None):
    """The newest result file, of the given {library: public version} if any."""
    files = result_files(results_dir, machine)
    if wanted:
        files = [f for f in files if _has_versions(f, wanted)]
        if not files:
            raise ToolError("no result file matches "
                               + ", ".join(f"{lib} {v}" for lib, v in wanted.items()))
    return files[0]


def recorded_params(path):
    """A result file's environment params, completed from the provenance record the main job
    stored for it (provenance/MACHINE/<same name>) where a later plain `asv run` dropped the
    stamp (asv keeps results across runs, not params)."""
    params = read_json(path).get("params", {})
    record = record_of(path)
    if os.path.exists(record):
        params = {**read_json(record), **params}
    return params


def _has_versions(path, wanted):
    params = recorded_params(path)
    return all(public_version(params.get(lib, "")) == v for lib, v in wanted.items())


def releases_of(runs, library):
    return sorted({r.version(library) for r in runs}, key=version_key)


def describe_context(context, library):
    machine, *others = context
    return f"machine {machine}, " + ", ".join(f"{lib} {v}" for lib, v in others) + \
        f" (varying {library})"


def cases(runs, results_dir):
    """{case label: Row} over the runs of one release; the newest run with a value wins."""
    found = {}
    for run in runs:
        for row in load_rows(run.path, results_dir):
            label = row.label
            if label not in found and row.value == row.value:  # skip n/a (nan)
                found[label] = row
    return found


def add_selection_args(parser):
    """--results, --machine and one --<library> VERSION per library: which run to read."""
    parser.add_argument("--results", default="results", help="asv results folder")
    parser.add_argument("--machine", help="machine name (default: newest results)")
    for lib in MATRIX_LIBRARIES:
        parser.add_argument(f"--{lib}", metavar="VERSION", help=f"only results of this {lib}")


def selected_rows(args):
    """(path, rows) of the newest result file that the selection arguments allow."""
    wanted = {lib: getattr(args, lib) for lib in MATRIX_LIBRARIES if getattr(args, lib)}
    path = newest_result_file(args.results, args.machine, wanted)
    return path, load_rows(path, args.results)
