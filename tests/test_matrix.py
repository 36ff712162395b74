"""The release-matrix path for real: two virtualenvs with different numba releases, a small
benchmark subset in each, results written, stamped, read back and compared.

The environments are the matrix's own (same requirements, same env_dir), so a machine that
has run the matrix reuses them; a fresh machine builds two (~30 s each)."""
import json
import os
import re
import tempfile

import pytest

from tools.reports import compare_releases, release_timeline
from tools.run import provenance
from tools.run.asv_config import head_commit, run_asv, scratch_config
from tools.results.rows import load_rows, result_files, unquote

NUMBA_RELEASES = ["0.67.0", "0.68.1"]
MATRIX = {"req": {"numpy": ["2.4.6"], "numba": NUMBA_RELEASES, "torch": ["2.13.0"],
                  "pip+asv_runner": ["0.2.5"]}}
SUBSET = (r"^bench_sum\.Sum\.time_sum\((100|10000), '(numba_loop|numba_loop_fastmath)', 'cpu'\)$"
          r"|^bench_provenance\.")
LLVMLITE = {"0.67.0": "0.49.0", "0.68.1": "0.50.0"}  # the one llvmlite each numba accepts


@pytest.fixture(scope="module")
def matrix_run():
    with tempfile.TemporaryDirectory() as out:
        config = scratch_config(out, matrix=MATRIX, exclude=[])
        run_asv(["machine", "--yes", "--machine", "matrix-test"], config)
        run_asv(["run", f"{head_commit()}^!", "--machine", "matrix-test", "--record-samples",
                 "--bench", SUBSET, "--show-stderr"], config, timeout=1200)
        results = os.path.join(out, "results")
        assert provenance.main(["--stamp", results, "--config", config]) == 0
        yield out, results


def _files_by_numba(results):
    files = {}
    for path in result_files(results):
        with open(path) as f:
            data = json.load(f)
        files[data["params"]["numba"]] = (path, data)
    return files


def test_each_release_wrote_its_own_stamped_results(matrix_run):
    _, results = matrix_run
    files = _files_by_numba(results)
    assert sorted(files) == NUMBA_RELEASES
    for numba, (path, data) in files.items():
        assert "-numba" + numba in os.path.basename(path)
        # read back: versions stamped from inside that environment, not from the config
        assert data["params"]["llvmlite"] == LLVMLITE[numba]
        assert data["requirements"]["llvmlite"] == LLVMLITE[numba]
        assert data["params"]["torch"].startswith("2.13.0")
        assert data["params"]["torch_threads"] == data["params"]["numba_threads"] != ""
        assert data["params"]["cpu_model"] and data["params"]["gpu"] == "none"
        assert data["params"]["asv_runner"] == "0.2.5"  # the pin held inside the environment
        rows = load_rows(path, results)
        timed = {(unquote(r.params["impl"]), r.params["size"]): r for r in rows
                 if r.benchmark == "bench_sum.Sum.time_sum" and r.value == r.value}
        assert set(timed) == {(impl, size) for impl in ("numba_loop", "numba_loop_fastmath")
                              for size in ("100", "10000")}
        for row in timed.values():
            assert 0 < row.value < 1e-3 and row.samples and len(row.samples) >= 2


def test_compare_releases_reads_both_files(matrix_run, capsys, tmp_path):
    _, results = matrix_run
    files = _files_by_numba(results)
    report = tmp_path / "compare.md"
    assert compare_releases.main(["numba", *NUMBA_RELEASES, "--results", results,
                                  "--markdown", str(report)]) == 0
    text = capsys.readouterr().out
    # the ratio printed is the ratio of the two stored medians
    value = {}
    for numba, (path, _) in files.items():
        row = next(r for r in load_rows(path, results) if r.benchmark.endswith("time_sum")
                   and r.params["size"] == "10000" and r.params["impl"] == "'numba_loop'")
        value[numba] = row.value
    ratio = value["0.68.1"] / value["0.67.0"]
    line = next(ln for ln in text.splitlines() if ln.startswith("Sum.time_sum(10000, numba_loop,"))
    assert f"{ratio:.3f}" in line
    assert re.search(r"\b(yes|no)\b", line)  # samples were recorded, so asv's test ran
    assert "| Sum.time_sum(10000, numba_loop, cpu) |" in report.read_text()


def test_compare_releases_flags_regressions_for_ci(matrix_run, capsys):
    _, results = matrix_run
    # A threshold just above 1 flags every significant difference; with --fail-on-regression
    # the exit status says whether one of them was a slowdown.
    code = compare_releases.main(["numba", *NUMBA_RELEASES, "--results", results,
                                  "--threshold", "1.0001", "--fail-on-regression"])
    text = capsys.readouterr().out
    assert code == (1 if "REGRESSION" in text else 0)


def test_release_timeline_plots(matrix_run, tmp_path, capsys):
    _, results = matrix_run
    png = tmp_path / "timeline.png"
    assert release_timeline.main(["numba", "Sum.time_sum", "--where", "device=cpu",
                                  "--where", "size=10000", "--results", results,
                                  "--png", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = capsys.readouterr().out
    assert re.search(r"impl=numba_loop_fastmath\s+\S+ [nµm]?s\s+\S+ [nµm]?s", text)


@pytest.mark.parametrize("argv, message", [
    (["numba", "0.60.0", "0.68.1"], "no stored results for numba 0.60.0; stored releases: "
                                    "0.67.0, 0.68.1"),
    (["scipy", "1.0", "1.1"], "unknown library 'scipy'"),
    (["numba", "0.67.0", "0.68.1", "--bench", "Gelu"],
     "no case matching 'Gelu' was measured for both releases"),
    (["torch", "2.13.0", "2.14.1"], "no stored results for torch 2.14.1"),
])
def test_compare_releases_bad_input_is_one_line(matrix_run, capsys, argv, message):
    _, results = matrix_run
    assert compare_releases.main([*argv, "--results", results]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_compare_reports_a_benchmark_missing_in_one_release(matrix_run, capsys, tmp_path):
    _, results = matrix_run
    # Drop one benchmark from the newer release's file: the comparison says so in one line.
    files = _files_by_numba(results)
    copy = tmp_path / "results"
    os.makedirs(copy / "matrix-test")
    for numba, (src, src_data) in files.items():
        if numba == "0.68.1":
            src_data = json.loads(json.dumps(src_data))
            del src_data["results"]["bench_provenance.ThreadCounts.track_cpu_count"]
        (copy / "matrix-test" / os.path.basename(src)).write_text(json.dumps(src_data))
    (copy / "benchmarks.json").write_text(open(os.path.join(results, "benchmarks.json")).read())
    assert compare_releases.main(["numba", *NUMBA_RELEASES, "--results", str(copy),
                                  "--bench", "track_cpu_count"]) == 2
    assert "only numba 0.67.0 has them" in capsys.readouterr().err
