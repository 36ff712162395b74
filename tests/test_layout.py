"""The code's own structure: tools/ in layers, one registry per kind of implementation, the
seed's code defined once."""
import ast
import inspect
import os
import subprocess
import sys

import pytest

from tools import LAYERS, REPO_ROOT


def _tools_imports():
    """(layer of the importing module, module path, imported tools layer) for every import."""
    for layer in LAYERS:
        folder = os.path.join(REPO_ROOT, "tools", layer)
        for name in os.listdir(folder):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path) as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    if node.level == 2 and node.module:  # from ..results.rows import ...
                        yield layer, path, node.module.split(".")[0]
                    elif node.level == 0 and (node.module or "").startswith("tools."):
                        yield layer, path, node.module.split(".")[1]


def test_lower_layers_never_import_higher_ones():
    seen = 0
    for layer, path, imported in _tools_imports():
        seen += 1
        assert imported in LAYERS, (path, imported)
        assert LAYERS.index(imported) <= LAYERS.index(layer), \
            f"{os.path.relpath(path, REPO_ROOT)} ({layer}) imports tools.{imported}"
    assert seen > 10  # the walk found the cross-layer imports it is meant to check


def test_python_m_tools_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "tools"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    for command in ("tools.reports.headline", "tools.reports.findings",
                    "tools.reports.compare_releases", "tools.run.smoke",
                    "tools.run.provenance", "tools.dashboard.publish"):
        line = next(line for line in out.splitlines() if command in line)
        assert len(line.split(command, 1)[1].strip()) > 10, line  # with its one-line summary
    assert "tools.reports.tables" not in out  # a library module, not a command


# A new implementation registered in one place, the way a contributor would add it: the suite,
# the tests' tolerance table and the findings report all pick it up. Run in a fresh interpreter
# so that the registry is extended before the benchmark modules are imported.
NEW_IMPL_SCRIPT = r"""
import json, numpy as np
from benchmarks import impls
impls.SUMS["numpy_add_reduce"] = impls.SumImpl(
    lambda x, device: (lambda: np.add.reduce(x)), ("numpy",), "float32 blocked")
from benchmarks.bench_sum import Sum
from benchmarks.bench_accuracy import Accuracy
from benchmarks.bench_memory import SumMemory
from tests.test_impls import sum_tolerance
from tools.reports import findings
from tools.results.rows import Row
x = np.ones(1000, dtype=np.float32)
row = Row("bench_sum.Sum.time_sum", {"size": "10000000", "impl": "'numpy_add_reduce'",
          "device": "'cpu'"}, 1.5e-3, "seconds", "env", {})
text = findings.build([row], {out!r})
print(json.dumps({
    "in_sum": "numpy_add_reduce" in Sum.params[1],
    "in_accuracy": "numpy_add_reduce" in Accuracy.params[1],
    "in_memory": "numpy_add_reduce" in SumMemory.params[0],
    "value": float(impls.prepare_sum("numpy_add_reduce", x)()),
    "bound": sum_tolerance()["numpy_add_reduce"](1000),
    "in_report": "`numpy_add_reduce` | 1.5 ms" in text,
}))
"""


def test_a_new_impl_registered_once_appears_everywhere(tmp_path):
    import json

    script = NEW_IMPL_SCRIPT.replace("{out!r}", repr(str(tmp_path)))
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["in_sum"] and got["in_accuracy"] and got["in_memory"] and got["in_report"]
    assert got["value"] == 1000.0 and 0 < got["bound"] < 1e-4


def test_the_compile_costs_time_the_seeds_own_code():
    from benchmarks import bench_compile, seed_code as kernels

    assert inspect.getsource(kernels.seed_loop) in bench_compile.NUMBA_MODULE
    assert inspect.getsource(kernels.gelu_composed) in bench_compile._gelu_setup("/tmp/x")
    _, setup = bench_compile.StartupCosts().timeraw_numba_first_call({})
    assert inspect.getsource(kernels.seed_loop) in setup


@pytest.mark.parametrize("name", ["numba_loop", "numba_loop_fastmath"])
def test_the_numba_loops_compile_the_seed_loop(name):
    from benchmarks import impls, seed_code as kernels

    assert getattr(impls, f"_{name}").py_func is kernels.seed_loop


def test_seed_figures_name_registered_implementations():
    from benchmarks import impls, seed

    assert set(seed.SUM_10M) <= set(impls.SUMS)
    assert {name for name, impl in impls.SUMS.items() if impl.seed_name} == set(seed.SUM_10M)
    assert set(seed.GELU_10M) <= set(impls.GELU_MODES)
