"""Histories that tell the truth: kept environments hold what `python -m venv` + pip hold, the
preflight refuses an environment that cannot prepare what the others can (a real tiny
environment), a step across a gap is judged between the nearest measured releases and names
what it spans, a skip's reason reaches the report, and the bare probe times a real tiny pair
in processes that import nothing of the suite."""
import json
import math
import os
import subprocess
import sys

import numpy
import pytest

from test_history import LABELS, _synthetic, tags_of
from tools import ToolError
from tools.run.environments import build_env, env_python, installed_packages, seed_pins
from tools.run.probe import agreement, bare_request, judge_steps, measure
from tools.history.report import build_report, short
from tools.history.steps import HistoryData, confirmed_steps
from tools.reports.verdicts import CaseResult
from tools.run import preflight
from tools.run.interleave import case_requests
from benchmarks.cases import from_label

NUMPY = f"numpy=={numpy.__version__}"


@pytest.fixture(scope="module")
def numpy_only(tmp_path_factory):
    """A real environment of numpy alone (no numba, no torch), built as the histories build
    theirs."""
    env_dir = str(tmp_path_factory.mktemp("envs") / "numpy-only")
    record = build_env(env_dir, [NUMPY], "machine", say=lambda m: None)
    return env_dir, record


def test_a_kept_environment_holds_what_python_m_venv_and_pip_hold(numpy_only, tmp_path):
    env_dir, record = numpy_only
    user = tmp_path / "user"
    subprocess.run([sys.executable, "-m", "venv", str(user)], check=True)
    subprocess.run([str(user / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", NUMPY], check=True)
    listed = subprocess.run([str(user / "bin" / "python"), "-m", "pip", "list", "--format",
                             "json", "--disable-pip-version-check"], capture_output=True,
                            text=True, check=True).stdout
    users = {p["name"].lower(): p["version"] for p in json.loads(listed)}
    ours = installed_packages(env_dir)
    assert set(ours) == set(users), (ours, users)  # pip and setuptools included
    assert all(ours[name] == users[name] for name in ours)
    assert {"pip", "setuptools"} <= set(record["packages"])  # the record says so
    assert record["seeded_as"] == {"python -m venv": seed_pins()}


def test_the_preflight_refuses_an_environment_that_lacks_a_module_the_others_have(numpy_only):
    env_dir, _ = numpy_only
    cases = case_requests([from_label(label) for label in LABELS[:1]])  # numba_loop: needs numba
    pythons = {"full": sys.executable, "numpy-only": env_python(env_dir)}
    with pytest.raises(ToolError) as info:
        preflight.check(pythons, cases)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("1 case(s) prepare in some environments and not in others")
    assert len(lines) == 2 and lines[1].startswith("  numpy-only: error: ModuleNotFoundError:")
    assert "numba" in lines[1] and "Traceback" not in str(info.value)


def test_a_skip_everywhere_is_no_refusal():
    cuda = [c for c in map(from_label, ["Sum.time_sum(100, numpy_sum, cuda)"])]
    outcome = preflight.check({"a": sys.executable, "b": sys.executable}, case_requests(cuda))
    skipped = preflight.skipped_everywhere(outcome)
    assert list(skipped) == [cuda[0].label] and not skipped[cuda[0].label].startswith("error")
    assert preflight.uneven(outcome) == {}


def _with_gap(tmp_path, label, gap, reason):
    """A synthetic history whose `label` has no value at the releases `gap`, with a reason."""
    data, tags = _synthetic(tmp_path, {(label, tags_of(3)): 1.4})
    path = os.path.join(data.results_dir, "box", "rounds.json")
    with open(path) as f:
        progress = json.load(f)
    for rnd in progress["measured"]:
        for tag in gap:
            del rnd["values"][tag][label]
            rnd.setdefault("skipped", {}).setdefault(tag, {})[label] = reason
    with open(path, "w") as f:
        json.dump(progress, f)
    return HistoryData("numba", "box", str(tmp_path)), tags


def test_a_step_across_a_gap_is_judged_and_names_what_it_spans(tmp_path):
    reason = "torch.compile cannot compile here: ModuleNotFoundError: No module named 'x'"
    gap = [tags_of(1), tags_of(2)]
    data, tags = _with_gap(tmp_path, LABELS[0], gap, reason)
    found = [c for c in confirmed_steps(data) if c["label"] == LABELS[0]]
    assert [(c["before"], c["after"], c["spans"], c["verdict"]) for c in found] == \
        [(tags_of(0), tags_of(3), gap, "REGRESSION")]
    assert 1.35 < found[0]["ratio"] < 1.45
    text = build_report("numba", "box", str(tmp_path))
    assert f"spans {gap[0].split('-')[1]}, {gap[1].split('-')[1]}" in text
    assert f"n/a ({reason})" in text  # the gap's reason, in the time table
    assert data.skip_reason(gap[0], LABELS[0]) == reason


def test_the_bare_probe_times_a_real_tiny_pair_outside_the_suite(numpy_only):
    env_dir, _ = numpy_only
    label = "Sum.time_sum(10000, numpy_sum, cpu)"
    assert bare_request(from_label(label)) == {"family": "Sum", "size": 10000,
                                               "impl": "numpy_sum"}
    pythons = {"A": sys.executable, "B": env_python(env_dir)}
    values = measure({label: ["A", "B"]}, pythons, 3, say=lambda m: None)
    assert all(len(values[label][side]) == 3 for side in "AB")
    assert all(1e-7 < v < 1e-2 for side in "AB" for v in values[label][side].values())
    step = {"label": label, "before": "A", "after": "B", "ratio": 1.0, "low": 0.5, "high": 2.0}
    (judged,) = judge_steps([step], values)
    probe = judged["probe"]
    assert probe["rounds"] == 3 and 0.5 < probe["ratio"] < 2.0
    assert probe["low"] <= probe["ratio"] <= probe["high"]


def test_agreement_needs_the_same_direction_and_overlapping_intervals():
    harness = {"ratio": 1.5, "low": 1.3, "high": 1.7}
    assert agreement(harness, CaseResult("c", 3, ratio=1.4, low=1.2, high=1.6))
    assert not agreement(harness, CaseResult("c", 3, ratio=1.0, low=0.95, high=1.05))
    assert not agreement(harness, CaseResult("c", 3, ratio=0.9, low=0.8, high=1.35))
    assert not agreement(harness, CaseResult("c", 3, ratio=1.4))  # no interval: no verdict
    assert math.isnan(CaseResult("c", 0).ratio)


def test_the_state_split_finds_the_bins_where_only_the_witness_and_gelu_slow_down():
    from experiments.gelu_level import SLOW_FACTOR, one_second_bins, split_states

    series = ["compiled GELU", "compiled exp", "compiled polynomial", "eager exp"]
    # one process fast for 4 s then slow for 2 s (GELU and the witness 3x), one slow throughout
    fast, slow = [400.0, 130.0, 260.0, 45.0], [1200.0, 390.0, 260.0, 45.0]
    rows = [[t + 0.5 * k] + (fast if t < 4 else slow) for t in range(6) for k in range(2)]
    bins = {1: one_second_bins(rows), 2: [[t] + slow for t in range(4)]}
    assert [b[0] for b in bins[1]] == list(range(6)) and bins[1][0][1:] == fast
    found = split_states(bins, series)
    assert found["bins"] == 10 and found["slow_bins"] == 6
    assert found["processes"] == [(False, 1), (True, 0)]
    assert found["per_series"]["compiled GELU"] == (400.0, 1200.0)
    assert found["per_series"]["eager exp"] == (45.0, 45.0)
    assert math.isclose(found["fast_level"], 0.5) and SLOW_FACTOR * 0.5 < 390 / 260


def test_the_state_probe_times_every_series_in_a_bare_process_and_checks_gelu():
    """The probe run as a user's script (in this interpreter: numpy and CPU torch), short."""
    pytest.importorskip("torch")
    from experiments.gelu_level import STATE_PROBE

    proc = subprocess.run([sys.executable, STATE_PROBE, json.dumps({"seconds": 1,
                                                                    "size": 10000})],
                          capture_output=True, text=True, timeout=600,
                          cwd=os.path.dirname(STATE_PROBE))
    if proc.returncode != 0 and ("InductorError" in proc.stderr or "CppCompileError" in proc.stderr):
        pytest.skip("torch.compile cannot compile here")
    assert proc.returncode == 0, proc.stderr[-2000:]
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert answer["gelu_max_relative_error"] < 1e-3  # against the float64 formula
    assert answer["series"][:2] == ["compiled GELU", "compiled exp"]
    assert answer["rows"] and all(len(r) == 1 + len(answer["series"]) for r in answer["rows"])
    assert all(0 < v < 1e6 for r in answer["rows"] for v in r[1:])


def test_passes_read_in_the_slow_state_are_set_aside_and_the_report_says_so(tmp_path):
    from tools.run.state_witness import fast_level, is_slow

    assert fast_level([0.5] * 9 + [2.0]) == 0.5 and is_slow(0.8, 0.5) and not is_slow(0.7, 0.5)
    data, tags = _synthetic(tmp_path, {})
    path = os.path.join(data.results_dir, "box", "rounds.json")
    with open(path) as f:
        progress = json.load(f)
    # LABELS[1] timed in 2 passes; release 2 read slow (and 3x slower) in its second pass in
    # rounds 1-3 and in both passes in round 4: a state, not the release
    for rnd in progress["measured"]:
        for side, values in rnd["values"].items():
            entry = values[LABELS[1]]
            slow = [False, side == tags_of(2) and rnd["round"] <= 4]
            slow[0] = side == tags_of(2) and rnd["round"] == 4
            entry["passes"] = [entry["median"] * (3 if s else 1) for s in slow]
            entry["witness"] = [4.0 if s else 0.5 for s in slow]
            entry["median"] = math.sqrt(entry["passes"][0] * entry["passes"][1])
    with open(path, "w") as f:
        json.dump(progress, f)
    data = HistoryData("numba", "box", str(tmp_path))
    assert data.fast == 0.5 and 4 not in data.medians[tags_of(2)][LABELS[1]]
    assert all(0.98e-3 < v < 1.02e-3 for v in data.medians[tags_of(2)][LABELS[1]].values())
    assert not [c for c in confirmed_steps(data) if c["label"] == LABELS[1]]
    kept = HistoryData("numba", "box", str(tmp_path), passes=1)  # the first pass only
    assert 4 not in kept.medians[tags_of(2)][LABELS[1]]
    assert len(kept.medians[tags_of(1)][LABELS[1]]) == 8
    text = build_report("numba", "box", str(tmp_path))
    section = text.split("## The state of the compiled cases")[1].split("## Every step")[0]
    assert "5 of 96 passes read slow and are set aside" in section
    assert "(1 points had none and are missing)" in section
    row = next(line for line in section.splitlines() if line.startswith(f"| {short(LABELS[1])}"))
    assert row.split("|")[2:6] == [" 0/16 ", " 0/16 ", " 5/16 ", " 0/16 "]


def test_the_probe_pairs_only_rounds_where_both_processes_read_fast():
    step = {"label": "c", "before": "A", "after": "B", "ratio": 2.0, "low": 1.8, "high": 2.2}
    values = {"c": {"A": {"1": 1.0, "2": 1.0, "3": 1.0, "4": 1.0},
                    "B": {"1": 1.0, "2": 1.02, "3": 0.98, "4": 5.0}}}
    witness = {"c": {"A": {r: 0.5 for r in "1234"}, "B": {"1": 0.5, "2": 0.5, "3": 0.5,
                                                          "4": 4.0}}}
    (all_rounds,) = judge_steps([step], values)
    (fast_only,) = judge_steps([step], values, witness, 0.5)
    assert all_rounds["probe"]["rounds"] == 4 and fast_only["probe"]["rounds"] == 3
    assert 0.95 < fast_only["probe"]["ratio"] < 1.05 and not fast_only["probe"]["agrees"]


def test_a_worker_and_the_bare_probe_read_the_state_after_a_compiled_case():
    pytest.importorskip("torch")
    from tools.run.interleave import measure_round, time_bare

    cases = [from_label("Gelu.time_gelu(1000, compiled, cpu, default)"),
             from_label("Gelu.time_gelu(1000, eager, cpu, default)")]
    rnd = measure_round(1, {"A": sys.executable}, case_requests(cases))
    if rnd.get("skipped"):
        pytest.skip(f"torch.compile cannot compile here: {rnd['skipped']}")
    compiled, eager = (rnd["values"]["A"][c.label] for c in cases)
    assert len(compiled["witness"]) == 1 and 0.01 < compiled["witness"][0] < 100
    assert "witness" not in eager
    request = bare_request(cases[0])
    assert request["witness"] is True
    answer = time_bare(sys.executable, request)
    assert 0.01 < answer["witness"] < 100 and answer["suite_modules"] == []


def test_a_witnessed_case_is_judged_on_the_rounds_that_read_the_state(tmp_path):
    data, tags = _synthetic(tmp_path, {})
    path = os.path.join(data.results_dir, "box", "rounds.json")
    with open(path) as f:
        progress = json.load(f)
    for rnd in progress["measured"]:  # the witness from round 6 on; release 2 slow in 7
        for side, values in rnd["values"].items():
            if rnd["round"] >= 6:
                slow = side == tags_of(2) and rnd["round"] == 7
                values[LABELS[1]]["witness"] = [4.0 if slow else 0.5]
    with open(path, "w") as f:
        json.dump(progress, f)
    data = HistoryData("numba", "box", str(tmp_path))
    assert data.state_rounds[LABELS[1]] == {6, 7, 8}
    assert set(data.medians[tags_of(2)][LABELS[1]]) == {6, 8}
    assert set(data.medians[tags_of(1)][LABELS[1]]) == {6, 7, 8}
    assert set(data.medians[tags_of(1)][LABELS[0]]) == set(range(1, 9))  # unwitnessed: all
    # release 2 lost round 7: the model keeps the three rounds on the other five sides
    model = data.model(LABELS[1])
    assert (model.releases, model.rounds, model.df) == (5, 3, 8)
    text = build_report("numba", "box", str(tmp_path))
    assert "judged on the 3 rounds that read the state only" in text


def test_with_fewer_rounds_read_the_report_says_the_steps_rest_on_unknown_state(tmp_path):
    data, tags = _synthetic(tmp_path, {})
    path = os.path.join(data.results_dir, "box", "rounds.json")
    with open(path) as f:
        progress = json.load(f)
    for rnd in progress["measured"][-2:]:
        for values in rnd["values"].values():
            values[LABELS[1]]["witness"] = [0.5]
    with open(path, "w") as f:
        json.dump(progress, f)
    data = HistoryData("numba", "box", str(tmp_path))
    assert set(data.medians[tags_of(2)][LABELS[1]]) == set(range(1, 9))
    assert "Only 2 rounds read the state" in build_report("numba", "box", str(tmp_path))


def test_steps_of_compiled_cases_whose_state_no_round_read_are_marked_on_avx512(tmp_path):
    compiled = "Gelu.time_gelu(1000, compiled, cpu, default)"
    for isa, marked in (("avx2", False), ("avx2 avx512f", True)):
        data, tags = _synthetic(tmp_path / isa.replace(" ", "-"), {(LABELS[1], tags_of(2)): 1.4})
        path = os.path.join(data.results_dir, "box", "rounds.json")
        with open(path) as f:
            progress = json.load(f)
        progress["cases"][1] = compiled  # the same values, as a compiled case read unseen
        for rnd in progress["measured"]:
            for values in rnd["values"].values():
                values[compiled] = values.pop(LABELS[1])
        with open(path, "w") as f:
            json.dump(progress, f)
        os.makedirs(os.path.join(data.results_dir, "box", "installed"))
        for tag in tags:
            with open(os.path.join(data.results_dir, "box", "installed", f"{tag}.json"),
                      "w") as f:
                json.dump({"interpreter": {"cpu_isa": isa}}, f)
        data = HistoryData("numba", "box", data.results_dir)
        (step,) = [c for c in confirmed_steps(data) if c["label"] == compiled]
        assert step["after"] == tags_of(2) and step["verdict"] == "REGRESSION"
        assert (step["state"] == "not read") is marked
        text = build_report("numba", "box", data.results_dir)
        assert ("REGRESSION (Sleef state unknown)" in text) is marked
        assert ("## The state of the compiled cases" in text) is marked
