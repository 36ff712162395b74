"""What a graph's series are: the machine and the library releases, nothing else.

asv draws one series per distinct set of a result file's params. The main job stamps every
provenance field into those params (CPU model, ISA, caches, threads, asv_runner, llvmlite,
dirty, ...), so the same configuration measured before and after a field was added split into
two lines ("[none]" for the older), and a graph of one case held ten series with two-row
legends. The dashboard is therefore published from a staged copy of results/ whose params
keep only SERIES_PARAMS; the result files themselves and the provenance records
(provenance/MACHINE/) keep every field, and the machines page shows them beside the graphs.
"""
import os
import shutil

from ..results.atomic import write_json_atomic
from ..results.rows import read_json

# asv's machine.json fields (one machine, one value each: no extra series), the Python and
# the libraries a user compares. llvmlite follows numba, asv_runner is the harness's.
MACHINE_PARAMS = ("machine", "arch", "cpu", "num_cpu", "os", "ram")
SERIES_PARAMS = MACHINE_PARAMS + ("python", "numpy", "numba", "torch")


def trimmed(data):
    """A result file's data with params and requirements cut to SERIES_PARAMS."""
    out = dict(data)
    out["params"] = {k: v for k, v in data.get("params", {}).items() if k in SERIES_PARAMS}
    out["requirements"] = {k: v for k, v in data.get("requirements", {}).items()
                           if k in SERIES_PARAMS}
    return out


def stage_results(results_dir, staging):
    """Copy results_dir into `staging` (emptied first) with every result file trimmed."""
    shutil.rmtree(staging, ignore_errors=True)
    for folder, _, files in os.walk(results_dir):
        target = os.path.join(staging, os.path.relpath(folder, results_dir))
        os.makedirs(target, exist_ok=True)
        for name in files:
            source = os.path.join(folder, name)
            if not name.endswith(".json") or name in ("machine.json", "benchmarks.json") \
                    or folder == results_dir:
                shutil.copy2(source, os.path.join(target, name))
                continue
            write_json_atomic(os.path.join(target, name), trimmed(read_json(source)))
    return staging
