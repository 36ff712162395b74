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


def test_python_m_tools_lists_every_verb_and_each_runs_a_command():
    import importlib

    from tools.__main__ import VERBS, resolve

    out = subprocess.run([sys.executable, "-m", "tools"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    for verb, (target, about) in VERBS.items():
        line = next(line for line in out.splitlines() if line.split()[:1] == [verb])
        assert about in line and len(about) > 10, line  # with its one-line summary
        topics = [None] if isinstance(target, str) else [None, *target]
        for topic in topics:
            module, prog, rest = resolve([verb, *([topic] if topic else []), "--x"])
            assert rest == ["--x"] and prog.startswith(f"python -m tools {verb}")
            name, _, function = module.partition(":")  # "module" or "module:function"
            assert callable(getattr(importlib.import_module(name), function or "main")), module
    help_text = subprocess.run([sys.executable, "-m", "tools", "report", "headline", "--help"],
                               cwd=REPO_ROOT, capture_output=True, text=True)
    assert help_text.returncode == 0 and "python -m tools report headline" in help_text.stdout
    bad = subprocess.run([sys.executable, "-m", "tools", "frobnicate"], cwd=REPO_ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown verb" in bad.stderr


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
    # the tiers the findings judge are the seed's own ranking, cut into near-ties
    assert [impl for tier in seed.SUM_10M_TIERS for impl in tier] == seed.sum_ranking()


# ---------------------------------------------------------------------------------------------
# The import graph of benchmarks/ and tools/, every import (also those inside functions).

def _modules():
    for top in ("benchmarks", "tools", "checks", "experiments"):
        for folder, _, names in os.walk(os.path.join(REPO_ROOT, top)):
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    module = os.path.relpath(path, REPO_ROOT)[:-3].replace(os.sep, ".")
                    yield module.removesuffix(".__init__"), path


def import_graph():
    """{module: {modules of this repository it imports}}."""
    modules = dict(_modules())
    graph = {}
    for module, path in modules.items():
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        with open(path) as f:
            tree = ast.parse(f.read())
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                names = [f"{base}.{alias.name}" for alias in node.names] + [base]
            else:
                continue
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    targets.add(name)
        graph[module] = targets
    return graph


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_anywhere():
    graph = import_graph()
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100  # the walk saw the code
    assert _cycles(graph) == []
    # the detector itself finds a cycle where there is one
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_the_dashboard_imports_no_runner_and_benchmarks_no_tools():
    graph = import_graph()
    runners = [m for m in graph if m.startswith("tools.run.") or m == "tools.history.run"]
    for module, targets in graph.items():
        if module.startswith("tools.dashboard"):
            assert not targets & set(runners), (module, targets & set(runners))
        if module.startswith("benchmarks"):
            assert not any(t.startswith("tools") for t in targets), module


def test_checks_and_experiments_use_the_engine_never_the_other_way():
    """checks/ (the instruments) and experiments/ (report/mechanisms.md) stand on tools/;
    nothing in tools/ or benchmarks/ imports them, and a check never needs an experiment."""
    graph = import_graph()
    apart = [m for m in graph if m.split(".")[0] in ("checks", "experiments")]
    assert len(apart) >= 9
    for module, targets in graph.items():
        top = module.split(".")[0]
        if top in ("tools", "benchmarks"):
            assert not {t.split(".")[0] for t in targets} & {"checks", "experiments"}, module
        if top == "checks":
            assert not any(t.startswith("experiments") for t in targets), module
    # a bare script (run as a file in a kept environment, like tools/run/bare_case.py) imports
    # nothing of the suite; every other check and experiment stands on the engine
    bare = {"experiments.gelu_state_probe"}
    assert all(not graph[m] for m in bare)
    assert all(any(t.split(".")[0] == "tools" for t in graph[m]) for m in apart
               if m not in ("checks", "experiments") and m not in bare), \
        [m for m in apart if m not in bare and not any(t.startswith("tools") for t in graph[m])]


def test_every_pin_is_requirements_txt():
    """asv.conf.json and history/releases.json are JSON and cannot read requirements.txt:
    what they hold of the pinned versions must be what it pins."""
    from tools.history.releases import load_histories
    from tools.results.config import load_config
    from tools.results.pins import pair_pins, pins

    p = pins()
    assert {"numpy", "numba", "llvmlite", "torch", "asv", "asv_runner"} <= set(p)
    matrix = load_config()["matrix"]["req"]
    for name, version in pair_pins().items():
        assert version in matrix[name], (name, version, matrix[name])
    assert matrix["numpy"] == [p["numpy"]] and matrix["pip+asv_runner"] == [p["asv_runner"]]
    histories = load_histories()
    assert histories["numba"].fixed["torch"] == p["torch"]
    assert histories["torch"].fixed["numba"] == p["numba"]


def test_the_results_tree_holds_asv_files_only():
    """A plain `asv publish` reads every folder of results/: one without a machine file (the
    project's own records) would print 'Skipping results: could not load .../machine.json'."""
    results = os.path.join(REPO_ROOT, "results")
    folders = 0
    for folder, subfolders, files in os.walk(results):
        if folder == results:
            # asv reads *.json only: a README beside the machine folders is not a result
            assert set(files) <= {"benchmarks.json", "README.md"}, files
            continue
        folders += 1
        assert "machine.json" in files and not subfolders, folder
        assert all(f.endswith(".json") for f in files), folder
    assert folders >= 2


def test_asv_finds_benchmarks_in_bench_modules_only():
    """asv takes any module-level function named time_*, track_*, ... in benchmarks/ for a
    benchmark: a helper so named (or imported) would add a bogus one."""
    from asv_runner.discovery import disc_benchmarks

    names = [b.name for b in disc_benchmarks(os.path.join(REPO_ROOT, "benchmarks"))]
    assert len(names) > 20
    assert [n for n in names if not n.startswith("bench_")] == []
