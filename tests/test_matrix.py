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
from tools.run.asv_config import asv_checked, head_commit, scratch_config
from tools.results.pins import pair_pins, pins
from tools.results.rows import load_rows, result_files, unquote
from tools.__main__ import main as tools_main

pytestmark = pytest.mark.integration  # real commands, environments or a browser

PINS = pins()
NUMBA_RELEASES = ["0.67.0", PINS["numba"]]
MATRIX = {"req": {**{name: [version] for name, version in pair_pins().items()},
                  "numba": NUMBA_RELEASES}}
SUBSET = (r"^bench_sum\.Sum\.time_sum\((100|10000), '(numba_loop|numba_loop_fastmath)', 'cpu'\)$"
          r"|^bench_provenance\.")
LLVMLITE = {"0.67.0": "0.49.0", PINS["numba"]: PINS["llvmlite"]}  # the one llvmlite each numba accepts


@pytest.fixture(scope="module")
def matrix_run():
    with tempfile.TemporaryDirectory() as out:
        config = scratch_config(out, matrix=MATRIX, exclude=[])
        asv_checked(["machine", "--yes", "--machine", "matrix-test"], config)
        asv_checked(["run", f"{head_commit()}^!", "--machine", "matrix-test", "--record-samples",
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
        assert data["params"]["torch"].startswith(PINS["torch"])
        assert data["params"]["torch_threads"] == data["params"]["numba_threads"] != ""
        assert data["params"]["cpu_model"] and data["params"]["gpu"] == "none"
        assert data["params"]["asv_runner"] == PINS["asv_runner"]  # the pin held inside the environment
        rows = load_rows(path, results)
        timed = {(unquote(r.params["impl"]), r.params["size"]): r for r in rows
                 if r.benchmark == "bench_sum.Sum.time_sum" and r.value == r.value}
        assert set(timed) == {(impl, size) for impl in ("numba_loop", "numba_loop_fastmath")
                              for size in ("100", "10000")}
        for row in timed.values():
            assert 0 < row.value < 1e-3 and row.samples and len(row.samples) >= 2


# The comparison protocol for real: two environments, interleaved rounds, the session stored
# and read back. numpy_sum runs no numba code: it is the control of this pair.
PAIR_BENCH = r"Sum\.time_sum\(10000, '(numba_loop|numpy_sum)', 'cpu'\)"


@pytest.fixture(scope="module")
def pair_session():
    from tools.results.sessions import find_sessions
    from tools.run import measure_pair

    with tempfile.TemporaryDirectory() as out:
        assert measure_pair.main(["numba", *NUMBA_RELEASES, "--rounds", "3", "--families",
                                  "Sum", "--bench", PAIR_BENCH, "--machine", "pair-test",
                                  "--out", out]) == 0
        (path,) = find_sessions(out, "numba", *NUMBA_RELEASES)
        yield out, path


def test_a_session_keeps_every_round_in_alternating_order(pair_session):
    from tools.results.sessions import load_session

    _, path = pair_session
    session = load_session(path)
    # Each case is timed by both sides back to back, A first and B first in turn.
    for case in session.medians():
        firsts = [r["values"]["A"][case]["first"] for r in session.rounds]
        assert firsts in ([True, False, True], [False, True, False])
        assert all(r["values"]["B"][case]["first"] != r["values"]["A"][case]["first"]
                   for r in session.rounds)
    assert session.versions("A")["numba"] == "0.67.0"
    assert session.versions("B")["numba"] == PINS["numba"]
    assert session.versions("A")["llvmlite"] == LLVMLITE["0.67.0"]
    for rnd in session.rounds:
        for side in "AB":
            values = rnd["values"][side]
            assert set(values) == {"Sum.time_sum(10000, numba_loop, cpu)",
                                   "Sum.time_sum(10000, numpy_sum, cpu)"}
            for value in values.values():
                assert len(value["samples"]) >= 5 and 0 < value["median"] < 1e-3


def test_a_flagged_case_is_probed_outside_the_harness(pair_session, tmp_path):
    """A slowdown injected into B's harness (benchmarks/slowdown.py) is flagged by the pair and
    read by the bare probe, which the injection never reaches, as the harness's only."""
    from tools.results.sessions import load_session
    from tools.run import measure_pair as mp

    selection = mp.subset(["Sum"], PAIR_BENCH)
    names = {label: name for label, _, name in mp.select_cases(selection)}
    loop = "Sum.time_sum(10000, numba_loop, cpu)"
    inject = {"A": {name: 0.0 for name in names.values()},
              "B": {name: 0.5 if label == loop else 0.0 for label, name in names.items()}}
    session = mp.measure_pair("numba", *NUMBA_RELEASES, 3, selection, "pair-test",
                              str(tmp_path), inject=inject, probe_rounds=3)
    (step,) = session.data["probe"]["steps"]
    assert step["label"] == loop and step["ratio"] > 1.3
    probe = step["probe"]
    assert probe["rounds"] == 3 and probe["ratio"] < 1.2 and not probe["agrees"]
    stored = load_session(session.path)
    lines = compare_releases.probe_lines(stored, compare_releases.compare(stored))
    assert len(lines) == 2 and lines[1].startswith(f"- {loop}: ")
    assert lines[1].endswith("harness only")


def test_compare_releases_reads_the_session(pair_session, capsys, tmp_path):
    import math

    from tools.results.sessions import load_session

    out, path = pair_session
    report = tmp_path / "compare.md"
    assert compare_releases.main(["numba", *NUMBA_RELEASES, "--rounds-dir", out,
                                  "--markdown", str(report)]) == 0
    text = capsys.readouterr().out
    # the ratio printed is the geometric mean of the per-round ratios of the stored medians
    rounds = load_session(path).rounds
    case = "Sum.time_sum(10000, numba_loop, cpu)"
    logs = [math.log(r["values"]["B"][case]["median"] / r["values"]["A"][case]["median"])
            for r in rounds]
    line = next(ln for ln in text.splitlines() if ln.startswith(case))
    assert f"{math.exp(sum(logs) / len(logs)):.3f}x [" in line
    assert re.search(r"\b(REGRESSION|improvement|unchanged)\b", line)
    control = next(ln for ln in text.splitlines() if "numpy_sum" in ln)
    assert "(control)" in control
    assert "Controls (cases not running the library compared): 1" in text
    assert f"| {case} |" in report.read_text()


def test_compare_releases_fails_on_regression_for_ci(pair_session, capsys):
    out, _ = pair_session
    code = compare_releases.main(["numba", *NUMBA_RELEASES, "--rounds-dir", out,
                                  "--gate", "1.0001", "--fail-on-regression"])
    text = capsys.readouterr().out
    flagged = [ln for ln in text.splitlines() if "REGRESSION" in ln and "(control)" not in ln]
    assert code == (1 if flagged else 0)


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
    (["numba", "0.60.0", "0.68.1"], "no comparison session for numba 0.60.0 vs 0.68.1"),
    (["numba", "0.67.0", "0.68.1", "--bench", "Gelu"], "no case matches --bench 'Gelu'"),
    (["numba", "0.67.0", "0.68.1", "--bench", "("], "not a valid regular expression"),
    (["numba", "0.67.0", "0.68.1", "--gate", "0.9"], "--gate must be above 1"),
    (["torch", "2.13.0", "2.14.1"], "no comparison session for torch 2.13.0 vs 2.14.1"),
])
def test_compare_releases_bad_input_is_one_line(pair_session, capsys, argv, message):
    out, _ = pair_session
    assert tools_main(["compare", *argv, "--rounds-dir", out]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_session_cut_short_or_mixed_is_refused_in_one_line(pair_session, capsys, tmp_path):
    _, path = pair_session
    with open(path) as f:
        data = json.load(f)
    mixed = tmp_path / "mixed.json"
    data["measured"][1]["session"] = "another"
    mixed.write_text(json.dumps(data))
    cut = tmp_path / "cut.json"
    cut.write_text(open(path).read()[:500])
    for bad, message in ((mixed, "more than one session"), (cut, "not valid JSON")):
        assert tools_main(["compare", "numba", *NUMBA_RELEASES, "--session", str(bad)]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["scipy", "1.0", "1.1"], "unknown library 'scipy'"),
    (["numba", "0.67.0", "0.68.1", "--rounds", "2"], "at least 3"),
    (["numba", "0.67.0", "0.68.1", "--families", "Nope"], "unknown family Nope"),
])
def test_measure_pair_bad_input_is_one_line(capsys, argv, message):
    assert tools_main(["pair", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
