"""The release verdicts' statistics on synthetic rounds with known effects, and the checks
that keep a comparison to one session of like environments."""
import json
import math
import os

import numpy as np
import pytest

from tools import ToolError
from tools.reports import verdicts
from tools.results.atomic import write_json_atomic
from tools.results.sessions import FORMAT, check_session, load_session
from tools.run.measure_pair import check_pair


def rounds(effect, n=8, noise=0.04, drift=0.10, seed=0):
    """{round: {'A': a, 'B': b}}: a machine drifting by up to `drift` from round to round
    (both sides alike), per-process noise of `noise` (log sd), B slower by `effect`."""
    rng = np.random.default_rng(seed)
    out = {}
    for r in range(1, n + 1):
        machine = math.exp(rng.uniform(-drift, drift))
        a = 1e-3 * machine * math.exp(rng.normal(0, noise))
        b = 1e-3 * machine * (1 + effect) * math.exp(rng.normal(0, noise))
        out[r] = {"A": a, "B": b}
    return out


def test_no_shift_no_flag_over_many_cases():
    results = verdicts.judge([verdicts.case_result(f"case{i}", rounds(0.0, seed=i))
                              for i in range(200)])
    flagged = [r for r in results if r.verdict != "unchanged"]
    assert len(flagged) <= 2  # false discovery control over 200 null cases
    covered = sum(r.low <= 1 <= r.high for r in results)
    assert covered >= 180  # the 95 % intervals cover the true ratio about 95 % of the time


def test_a_ten_percent_slowdown_is_flagged_with_its_size():
    results = verdicts.judge([verdicts.case_result(f"slow{i}", rounds(0.10, seed=i))
                              for i in range(20)] +
                             [verdicts.case_result(f"same{i}", rounds(0.0, seed=100 + i))
                              for i in range(20)])
    slow = [r for r in results if r.case.startswith("slow")]
    assert sum(r.verdict == "REGRESSION" for r in slow) >= 18
    assert all(r.low < 1.10 < r.high or abs(r.ratio - 1.10) < 0.05 for r in slow)
    assert not any(r.verdict == "REGRESSION" for r in results if r.case.startswith("same"))


def test_an_improvement_is_called_one():
    (r,) = verdicts.judge([verdicts.case_result("fast", rounds(-0.2, seed=3))])
    assert r.verdict == "improvement" and r.ratio < 0.85


def test_a_tiny_but_certain_change_stays_below_the_gate():
    (r,) = verdicts.judge([verdicts.case_result("tiny", rounds(0.01, noise=0.001, seed=4))])
    assert r.q < 0.05 and r.verdict == "unchanged"


def test_fewer_than_three_rounds_get_no_verdict():
    (r,) = verdicts.judge([verdicts.case_result("short", rounds(0.5, n=2))])
    assert r.verdict == "no test" and not math.isnan(r.ratio) and math.isnan(r.low)


def test_drifting_controls_mark_the_run_untrustworthy():
    steady = [verdicts.case_result(f"c{i}", rounds(0.0, seed=i), control=True)
              for i in range(10)]
    assert verdicts.drift(verdicts.judge(steady)).trustworthy
    # The machine got slower between the sides (not between rounds): every control moves.
    moved = [verdicts.case_result(f"c{i}", rounds(0.08, seed=i), control=True)
             for i in range(10)]
    report = verdicts.drift(verdicts.judge(moved))
    assert not report.trustworthy and report.flagged >= 5 and report.geomean > 1.05
    assert "do not trust" in report.why


def _session(**changes):
    value = {"median": 1e-3, "samples": [1e-3] * 3, "params": {"impl": "numpy_sum"}}
    data = {"format": FORMAT, "library": "numba", "machine": "m", "commit": "c" * 40,
            "session": "s1", "inject": {},
            "sides": {side: {"release": "0.68.1", "versions": {}} for side in "AB"},
            "measured": [{"round": r, "order": ["A", "B"], "commit": "c" * 40, "session": "s1",
                        "benchmark_versions": {"A": {"b": "v1"}, "B": {"b": "v1"}},
                        "values": {"A": {"Sum.time_sum(1)": value},
                                   "B": {"Sum.time_sum(1)": value}}} for r in (1, 2, 3)]}
    for key, change in changes.items():
        change(data)
    return data


@pytest.mark.parametrize("change, message", [
    (lambda d: d["measured"][2].update(session="s2"), "more than one session"),
    (lambda d: d["measured"][1].update(commit="d" * 40), "more than one session or commit"),
    (lambda d: d["sides"].pop("B"), "needs two environments"),
    (lambda d: d["measured"][2]["values"].pop("B"), "round 3 measured one environment only"),
    (lambda d: d["measured"][1]["benchmark_versions"].update(B={"b": "v2"}),
     "benchmark versions differ"),
    (lambda d: d.update(format=99), "not a comparison session"),
])
def test_sessions_that_mix_or_lack_something_are_refused(change, message):
    check_session(_session())  # the unchanged one is fine
    with pytest.raises(ToolError, match=message):
        check_session(_session(x=change))


def test_a_truncated_session_file_is_one_clear_error(tmp_path):
    path = tmp_path / "s.json"
    write_json_atomic(str(path), _session())
    assert load_session(str(path)).library == "numba"
    path.write_text(path.read_text()[:100])
    with pytest.raises(ToolError, match="not valid JSON"):
        load_session(str(path))


BASE = {"numpy": "2.4.6", "numba": "0.68.1", "llvmlite": "0.50.0", "torch": "2.13.0+cpu",
        "asv_runner": "0.2.5", "python_version": "3.11.7"}


@pytest.mark.parametrize("library, b_changes, message", [
    ("torch", {"torch": "2.14.1"}, r"different builds \(cpu vs default\)"),
    ("torch", {"torch": "2.14.1+cpu", "numpy": "2.3.0"}, "differ in numpy"),
    ("torch", {"torch": "2.14.1+cpu", "llvmlite": "0.49.0"}, "differ in llvmlite"),
    ("numba", {"numba": "0.67.0", "asv_runner": "0.3.2"}, "differ in asv_runner"),
    ("numba", {"numba": "0.67.0", "torch": "2.14.1"}, "differ in torch"),
])
def test_unlike_environments_are_refused(library, b_changes, message):
    with pytest.raises(ToolError, match=message):
        check_pair(library, {"A": BASE, "B": {**BASE, **b_changes}})


def test_like_environments_pass_with_the_llvmlite_their_numba_needs():
    check_pair("numba", {"A": BASE, "B": {**BASE, "numba": "0.67.0", "llvmlite": "0.49.0"}})
    check_pair("torch", {"A": BASE, "B": {**BASE, "torch": "2.14.1+cpu"}})


def test_a_worker_times_a_case_and_skips_what_cannot_run():
    import io
    import json as js

    from tools.run.pair_worker import serve

    requests = [{"module": "bench_sum", "class": "Sum", "params": [100, "numpy_sum", "cpu"],
                 "samples": 3},
                {"module": "bench_sum", "class": "Sum", "params": [100, "numpy_sum", "cuda"],
                 "samples": 3}]
    out = io.StringIO()
    serve(io.StringIO("".join(js.dumps(r) + "\n" for r in requests)), out)
    ready, timed, skipped = [js.loads(line) for line in out.getvalue().splitlines()]
    assert ready["ready"] and len(ready["code_version"]) == 16
    assert len(timed["samples"]) == 3 and timed["median"] in timed["samples"]
    # batches of at least 10 ms: a sum of 100 floats needs many calls per batch
    assert timed["number"] >= 64 and timed["number"] & (timed["number"] - 1) == 0
    assert timed["median"] * timed["number"] >= 0.005
    assert "skipped" in skipped


def test_detectable_change_is_the_threshold_the_verdict_uses():
    from tools.reports.verdicts import detectable_ratio, power_at

    for rounds in (3, 5, 8):
        for family in (1, 8, 48):
            found = detectable_ratio(0.1, rounds, family)
            assert abs(power_at(0.1, rounds, found, family) - 0.8) < 1e-6
    # more cases in the family ask a larger t of each, so less is seen
    assert detectable_ratio(0.1, 5, 1) < detectable_ratio(0.1, 5, 8) < detectable_ratio(0.1, 5, 48)
    assert detectable_ratio(0.001, 8, 1) == verdicts.GATE  # never under the effect gate
    judged = verdicts.judge([verdicts.result_of_logs(f"c{i}", [0.01, -0.02, 0.03, 0.0])
                             for i in range(8)])
    assert all(r.detectable == detectable_ratio(r.sd, 4, family=8) for r in judged)


def test_replicates_split_passes_from_workers():
    """experiments/replicates.py: passes as independent as workers read ICC near 0; a level
    set by the worker reads ICC near 1, and its passes are worth about one replicate each."""
    from experiments.replicates import PASS, analyse, variance_split

    rng = np.random.default_rng(7)
    independent = {w: list(rng.normal(0, 0.1, 8)) for w in range(40)}
    sd_pass, sd_worker, icc = variance_split(independent)
    assert abs(sd_pass - 0.1) < 0.015 and icc < 0.1
    assert abs(sd_worker - 0.1 / math.sqrt(8)) < 0.015
    by_worker = {w: list(rng.normal(0, 0.2) + rng.normal(0, 0.01, 8)) for w in range(40)}
    assert variance_split(by_worker)[2] > 0.9

    def rounds(level):  # 4 rounds, 3 passes, an A/A pair whose level is the worker's
        return [{"round": r, "values": {side: {
            f"c{PASS}{p}": {"median": math.exp(level(r, side) + 0.001 * p)} for p in range(3)}
            for side in ("a", "b")}} for r in range(1, 5)]

    figures = analyse(rounds(lambda r, side: 0.1 * r + (0.05 if side == "b" else 0)), ["c"],
                      ["a", "b"], 3)["c"]
    assert abs(figures["aa_ratio"] - math.exp(0.05)) < 1e-6 and figures["icc"] > 0.99
    assert figures["effective_replicates"] < 5  # 12 timings worth the 4 workers


def test_every_committed_session_and_history_loads():
    """The stores as committed: every pair session (rounds/) loads in the one session schema,
    every history's rounds.json in the history reader, both keyed by the case's label."""
    import glob

    from benchmarks.cases import from_label
    from tools import REPO_ROOT
    from tools.history.steps import HistoryData
    from tools.results.sessions import load_session

    sessions = [p for p in glob.glob(os.path.join(REPO_ROOT, "rounds", "*", "*", "*.json"))]
    assert len(sessions) >= 7
    for path in sessions:
        session = load_session(path)
        assert session.data["format"] == FORMAT and session.rounds
        for label in session.medians():  # older labels lack a later parameter's default
            assert label.startswith(from_label(label).cls + ".")
    histories = glob.glob(os.path.join(REPO_ROOT, "history", "results", "*", "*", "rounds.json"))
    assert len(histories) >= 5
    for path in histories:
        machine_dir = os.path.dirname(path)
        name = os.path.basename(os.path.dirname(machine_dir))
        with open(path) as f:
            stored = json.load(f)
        if stored.get("format") != 2:  # the old protocol's (one asv step per release): refused
            with pytest.raises(ToolError, match="old protocol"):
                HistoryData(name, os.path.basename(machine_dir))
            continue
        data = HistoryData(name, os.path.basename(machine_dir))
        assert data.rounds and all(from_label(label).label == label for label in data.labels)
