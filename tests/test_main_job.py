"""The main job's guards: interrupted writes are repaired, a changed interpreter is refused,
results do not depend on the checkout's path, a dirty tree is refused."""
import json
import os

import pytest

from tools import ToolError
from tools.results import asv_launcher as asv_atomic
from tools import main_job
from tools.__main__ import main as tools_main


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setattr(main_job, "REPO_ROOT", str(tmp_path))
    return tmp_path


def test_a_broken_file_is_moved_aside_never_deleted(repo):
    result = repo / "results" / "m" / "new.json"
    result.parent.mkdir(parents=True)
    result.write_text("{trunc")
    messages = main_job.move_aside_broken([str(result)])
    assert not result.exists() and "moved aside" in messages[0]
    (aside,) = [p for p in result.parent.iterdir() if p.name.startswith("new.json.broken-")]
    assert aside.read_text() == "{trunc"


def test_an_unreadable_machine_file_is_moved_aside(tmp_path, monkeypatch):
    machine = tmp_path / ".asv-machine.json"
    machine.write_text('{"version": 1, "vm": {"arch')
    monkeypatch.setattr(main_job, "MACHINE_FILE", str(machine))
    (message,) = main_job.move_aside_broken([main_job.MACHINE_FILE])
    assert not machine.exists() and message.startswith(f"{machine} did not parse: moved aside")


def test_asv_writes_become_atomic(tmp_path):
    calls = []

    def write_json(path, data, api_version=None, compact=False):
        calls.append(path)
        with open(path, "w") as f:
            json.dump(data, f)

    target = tmp_path / "r.json"
    target.write_text('{"old": 1}')
    asv_atomic.atomic(write_json)(str(target), {"new": 2})
    assert json.loads(target.read_text()) == {"new": 2}
    assert calls[0] != str(target) and not os.path.exists(calls[0])  # via a renamed temp file


def test_the_environment_name_does_not_depend_on_the_checkout(tmp_path, monkeypatch):
    monkeypatch.setattr(main_job, "LINK", str(tmp_path / "cache" / "venv"))
    names = set()
    for clone in ("a", "b"):
        venv = tmp_path / clone / ".venv"
        (venv / "bin").mkdir(parents=True)
        python = main_job.stable_python(str(venv))
        assert os.path.realpath(os.path.dirname(os.path.dirname(python))) == str(venv)
        names.add(main_job.env_name(python))
    assert len(names) == 1 and "cache_venv" in names.pop()


def test_a_record_that_disagrees_with_an_earlier_one_is_refused(tmp_path, monkeypatch):
    from tools.run import provenance

    info = {"numpy": "2.4.6", "numba": "0.68.1", "torch": "2.13.0+cpu", "python": "3.11"}
    monkeypatch.setattr(provenance, "collect_from", lambda python: dict(info))
    path = str(tmp_path / "provenance" / "abc-env.json")
    first = main_job.record_provenance("python", path, [])
    assert first["numba"] == "0.68.1" and first["dirty"] == "no"
    main_job.record_provenance("python", path, [])  # the same: fine
    info["numba"] = "0.67.0"
    with pytest.raises(ToolError, match="numba 0.68.1 -> 0.67.0"):
        main_job.record_provenance("python", path, [])


def test_the_stamp_copies_the_record(tmp_path):
    result = tmp_path / "r.json"
    result.write_text(json.dumps({"params": {"machine": "m"}, "requirements": {},
                                  "python": "/some/path"}))
    main_job.stamp_from_record(str(result), {"numba": "0.68.1", "python": "3.11",
                                             "recorded_at": "t", "cpu_isa": "avx2"})
    data = json.loads(result.read_text())
    assert data["params"] == {"machine": "m", "numba": "0.68.1", "python": "3.11",
                              "cpu_isa": "avx2"}
    assert data["requirements"] == {"numba": "0.68.1"} and data["python"] == "3.11"


def test_a_dirty_tree_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(main_job, "dirty_files", lambda: ["benchmarks/bench_sum.py"])
    monkeypatch.setattr(main_job, "head_commit", lambda: "c" * 40)
    assert tools_main(["run"]) == 2
    err = capsys.readouterr().err
    assert "uncommitted changes in benchmarks/bench_sum.py" in err
    assert len(err.strip().splitlines()) == 1


def test_every_phase_names_the_classes_its_regex_runs():
    import re

    from tools.run.phases import phases

    for phase in phases():
        assert phase.classes
        for prefix in phase.classes:
            assert prefix.startswith("bench_") and prefix.endswith(".")
            assert re.match(phase.regex, prefix + "x(") or "(" in phase.regex, phase


def test_a_phase_is_in_the_results_only_with_every_class_of_it(tmp_path):
    result = tmp_path / "r.json"
    result.write_text(json.dumps({"results": {"bench_sum.Sum.time_sum": [], "bench_a.B.t": []}}))
    assert main_job.phase_in_results(str(result), ("bench_sum.Sum.", "bench_a.B."))
    assert not main_job.phase_in_results(str(result), ("bench_sum.Sum.", "bench_c.D."))


def test_the_smoke_selection_touches_every_class_once():
    import re

    from benchmarks.cases import benchmark_classes
    from tools.run.smoke import one_case_per_method

    pattern = re.compile(one_case_per_method())
    for module, cls in benchmark_classes():
        params = getattr(cls, "params", None) or []
        methods = [m for m in vars(cls) if m.split("_")[0] in ("time", "timeraw", "track")]
        assert methods, cls
        first = "(" + ", ".join(repr(p[0]) for p in params) + ")" if params else ""
        for method in methods:
            assert pattern.search(f"{module}.{cls.__name__}.{method}{first}")
            if params and len(params[0]) > 1:  # never a second value of the first parameter
                second = "(" + ", ".join(repr(p[1 if i == 0 else 0])
                                         for i, p in enumerate(params)) + ")"
                assert not pattern.search(f"{module}.{cls.__name__}.{method}{second}")


def test_the_suite_discovers_without_linux_only_probes():
    """As on macOS or musl: no sched_getaffinity, no libc.so.6. Every module imports, and the
    glibc-only malloc mode skips (NotImplementedError) instead of failing."""
    import subprocess
    import sys

    code = (
        "import ctypes, os, pkgutil, importlib\n"
        "del os.sched_getaffinity\n"
        "real = ctypes.CDLL\n"
        "def fake(name, *a, **k):\n"
        "    if 'libc' in str(name): raise OSError('no glibc here')\n"
        "    return real(name, *a, **k)\n"
        "ctypes.CDLL = fake\n"
        "import benchmarks\n"
        "for info in pkgutil.iter_modules(benchmarks.__path__):\n"
        "    importlib.import_module('benchmarks.' + info.name)\n"
        "from benchmarks.bandwidth import set_malloc_mode\n"
        "try:\n"
        "    set_malloc_mode('keep_heap')\n"
        "except NotImplementedError as exc:\n"
        "    print('skip:', exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=main_job.REPO_ROOT)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "skip: keep_heap needs glibc's mallopt" in done.stdout


def test_a_dropped_stamp_is_read_back_from_the_record(tmp_path):
    from tools.results.releases import recorded_params

    folder = tmp_path / "results" / "m"
    records = tmp_path / "provenance" / "m"  # beside results/, not in asv's tree
    folder.mkdir(parents=True)
    records.mkdir(parents=True)
    name = "abcd1234-existing-env.json"
    (folder / name).write_text(json.dumps({"params": {"machine": "m"}}))  # stamp dropped
    (records / name).write_text(json.dumps({"numba": "0.68.1", "machine": "x"}))
    assert recorded_params(str(folder / name)) == {"numba": "0.68.1", "machine": "m"}


@pytest.mark.integration
def test_asv_skip_existing_would_drop_a_split_phase_so_resume_keeps_its_own_record(tmp_path):
    """Why the main job records its phases (.asv/progress) instead of passing asv's
    --skip-existing-successful: asv stores the parameters a --bench selection did not run as
    NaN (a skip), counts the benchmark successful, and would skip the split phases still to
    measure (AxisSum runs one asv call per shape)."""
    import glob
    import sys

    from tools.run.asv_config import asv_checked, head_commit, scratch_config
    from tools.run.phases import phases

    split = [p for p in phases() if p.label.startswith("AxisSum shape=")][:2]
    assert len(split) == 2
    config = scratch_config(str(tmp_path))
    asv_checked(["machine", "--yes"], config)
    base = ["run", "--quick", "-E", f"existing:{sys.executable}", "--set-commit-hash",
            head_commit()]

    def measured():
        path, = [p for p in glob.glob(str(tmp_path / "results" / "*" / "*.json"))
                 if not p.endswith("machine.json")]
        values = json.load(open(path))["results"]["bench_axis_sum.AxisSum.time_axis_sum"][0]
        return sum(v is not None and v == v for v in values)

    asv_checked([*base, "--bench", split[0].regex], config)
    first = measured()
    assert first > 0
    asv_checked([*base, "--skip-existing-successful", "--bench", split[1].regex], config)
    assert measured() == first  # the second shape was skipped, not measured
    asv_checked([*base, "--bench", split[1].regex], config)
    assert measured() == 2 * first  # without the flag it is
