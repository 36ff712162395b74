"""The suite as asv sees it: shape of every benchmark class, `asv check`, and a real smoke run
that publishes a dashboard without touching the committed results."""
import os
import re
import sys
import tempfile

import pytest
from asv.util import load_json

from benchmarks.bench_sum import Sum
from benchmarks.impls import SUMS
from tools.reports import headline
from tools.run import provenance
from tools.run.asv_config import asv_checked, scratch_config
from tools import REPO_ROOT
from tools.results.rows import unquote
from benchmarks.cases import benchmark_classes
from tools.run.smoke import smoke

PREFIXES = ("time_", "timeraw_", "track_", "mem_", "peakmem_")


def _benchmark_classes():
    return [cls for _, cls in benchmark_classes()]


def test_every_class_is_a_well_formed_asv_benchmark():
    classes = list(_benchmark_classes())
    assert {c.__name__ for c in classes} >= {"Sum", "AxisSum", "Gelu", "ThreadCounts"}
    for cls in classes:
        methods = [m for m in vars(cls) if callable(getattr(cls, m)) and not m.startswith("_")]
        timed = [m for m in methods if m.startswith(PREFIXES)]
        assert timed, f"{cls.__name__} has no benchmark method"
        assert set(methods) - set(timed) <= {"setup", "setup_cache", "teardown", "prepare"}, \
            f"{cls.__name__}: {methods}"
        params = getattr(cls, "params", [])
        assert len(params) == len(getattr(cls, "param_names", [])), cls.__name__
        for values in params:
            assert all(isinstance(v, (int, str)) for v in values), cls.__name__


def test_every_sum_impl_is_benchmarked():
    assert Sum.params[1] == list(SUMS)


def test_asv_runner_pin_is_the_installed_one():
    # The timing design depends on asv_runner batching calls with a setup hook (0.2.x).
    import asv_runner
    from importlib.metadata import version

    conf = load_json(os.path.join(REPO_ROOT, "asv.conf.json"), js_comments=True)
    pinned = conf["matrix"]["req"]["pip+asv_runner"]
    with open(os.path.join(REPO_ROOT, "requirements.txt")) as f:
        required = re.search(r"^asv_runner==(\S+)", f.read(), re.M).group(1)
    assert pinned == [required] and version("asv_runner") == required
    assert asv_runner  # imported from this environment


@pytest.mark.integration
def test_asv_check_passes(tmp_path):
    out = asv_checked(["check", "-E", f"existing:{sys.executable}"], scratch_config(str(tmp_path)))
    assert "No problems found" in out


def _snapshot(folder):
    return sorted(
        (os.path.relpath(os.path.join(d, f), folder), os.path.getmtime(os.path.join(d, f)))
        for d, _, files in os.walk(folder)
        for f in files
    )


SMOKE_SUBSET = (
    r"^bench_sum\.Sum\.time_sum\((100|10000000), '(numpy_sum|numba_loop)', '(cpu|cuda)'\)$"
    r"|^bench_axis_sum\.AxisSum\.time_axis_sum\('100x100', 'C', '(rows|cols)', 'torch', 'cpu'\)$"
    r"|^bench_gelu\.Gelu\.time_gelu\(1000, '(eager|compiled)', 'cpu', 'default'\)$"
    r"|^bench_provenance\."
)


@pytest.fixture(scope="module")
def smoke_run():
    committed = os.path.join(REPO_ROOT, "results")
    before = _snapshot(committed)
    with tempfile.TemporaryDirectory() as out:
        rows = smoke(out, SMOKE_SUBSET)
        yield out, rows
    assert _snapshot(committed) == before, "the smoke run touched results/"


@pytest.mark.integration
def test_smoke_run_measures_the_subset_and_publishes(smoke_run):
    out, rows = smoke_run
    measured = {
        (r.benchmark.split(".")[-1], *map(unquote, r.params.values()))
        for r in rows
        if r.value == r.value and r.value > 0
    }
    assert ("time_sum", "100", "numpy_sum", "cpu") in measured
    assert ("time_sum", "10000000", "numba_loop", "cpu") in measured
    assert ("time_gelu", "1000", "compiled", "cpu", "default") in measured
    assert ("time_axis_sum", "100x100", "C", "cols", "torch", "cpu") in measured
    assert ("track_torch_threads",) in measured
    # cpu-only impls on cuda are skipped (nan), not failed.
    skipped = [r for r in rows if unquote(r.params.get("device", "")) == "cuda"
               and r.params.get("impl") == "'numpy_sum'"]
    assert skipped and all(r.value != r.value for r in skipped)
    index = os.path.join(out, "html", "index.html")
    assert os.path.getsize(index) > 0


@pytest.mark.integration
def test_provenance_stamps_this_interpreter(smoke_run):
    out, _ = smoke_run
    results_dir = os.path.join(out, "results")
    files = provenance.own_result_files(results_dir)
    assert len(files) == 1
    info = provenance.collect()
    provenance.stamp(files[0], info)
    data = load_json(files[0])
    import numba
    import torch

    assert data["params"]["numba"] == numba.__version__
    assert data["requirements"]["torch"] == torch.__version__
    assert data["params"]["torch_threads"] == str(torch.get_num_threads())
    # The interpreter's version replaces asv's path to it (which depends on the checkout).
    assert data["params"]["python"] == data["python"] == "{}.{}".format(*sys.version_info[:2])


@pytest.mark.integration
def test_headline_reads_the_smoke_results(smoke_run, capsys):
    out, rows = smoke_run
    assert headline.main(["--results", os.path.join(out, "results")]) == 0
    text = capsys.readouterr().out
    # The 10M numba loop measured above appears with its own timing.
    numba_10m = next(r.value for r in rows if r.benchmark.endswith("time_sum")
                     and r.params["size"] == "10000000" and r.params["impl"] == "'numba_loop'"
                     and r.params["device"] == "'cpu'")
    assert re.search(rf"numba_loop\s+{re.escape(headline.fmt_time(numba_10m))}", text)
    assert "100x100" in text and "rows faster by" in text


def test_tools_explain_bad_input_in_one_line(tmp_path, capsys):
    from tools.__main__ import main as tools_main

    assert tools_main(["report", "headline", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m tools report headline: no asv results") and "\n" not in err


def _asv_names():
    """Every 'module.Class.method(params)' name asv matches --bench against."""
    import itertools

    for cls in _benchmark_classes():
        module = cls.__module__.split(".", 1)[1]
        for method in (m for m in vars(cls) if m.startswith(PREFIXES)):
            params = getattr(cls, "params", None)
            if not params:
                yield f"{module}.{cls.__name__}.{method}"
                continue
            for combo in itertools.product(*params):
                yield f"{module}.{cls.__name__}.{method}({', '.join(map(repr, combo))})"


def test_the_main_run_phases_cover_every_case_exactly_once():
    from tools.run.phases import phases

    regexes = [re.compile(phase.regex) for phase in phases()]
    names = list(_asv_names())
    assert len(names) > 150
    for name in names:
        assert sum(bool(r.search(name)) for r in regexes) == 1, name


def test_main_command_refuses_quick_runs_over_stored_results():
    import subprocess

    proc = subprocess.run(["bash", "tools/run_benchmarks.sh", "--quick"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "python -m tools smoke" in proc.stderr
