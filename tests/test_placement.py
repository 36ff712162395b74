"""Arrays placed on purpose (benchmarks/placement.py) and the two checks that separate a
release's step from placement or from a harness (experiments/np_sum_step.py,
experiments/harness.py): their arrays are where they say, np.sum over them is right, and
their tables flag a step only where the fake rounds put one."""
import numpy as np
import pytest

from benchmarks.impls import error_bound
from benchmarks.placement import HUGE_PAGE, NpSumPlacement, placed_array


def _thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read().split("[")[1].split("]")[0]
    except (OSError, IndexError):
        return "unknown"


@pytest.mark.parametrize("offset", [0, 4, 16])
def test_a_placed_array_starts_where_asked_and_holds_the_same_values(offset):
    x, _ = placed_array(1000, False, offset)
    reference, _ = placed_array(1000, False, 0)
    assert x.ctypes.data % HUGE_PAGE == offset
    assert x.dtype == np.float32 and x.shape == (1000,)
    assert np.array_equal(x, reference)


def test_huge_pages_only_where_asked():
    mode = _thp_mode()
    _, huge = placed_array(1_000_000, True, 16)  # the suite's 1M would get none
    _, small = placed_array(1_000_000, False, 16)
    if mode in ("madvise", "always"):
        assert huge >= 2048, "madvise gave the 4 MB array no huge page"
    if mode in ("madvise", "never"):
        assert small == 0


@pytest.mark.parametrize("pages", ["4k", "huge"])
def test_np_sum_over_a_placed_array_matches_float64(pages):
    bench = NpSumPlacement()
    try:
        bench.setup(1_000_000, pages, 4)
    except NotImplementedError as exc:  # this kernel cannot give that page kind
        pytest.skip(str(exc))
    bench.run()
    got = float(bench.f(bench.x))
    reference = float(np.sum(bench.x, dtype=np.float64))
    assert abs(got - reference) <= error_bound("float32 sequential", bench.x.size) * reference
    assert got != 0.0


def _fake_np_sum_rounds(sides, slower, factor=1.4, rounds=6):
    """Rounds of measure_round's shape: `slower` side 1.4x slower at the 10M arms only."""
    from experiments.np_sum_step import requests

    rng = np.random.default_rng(1)
    data = []
    for r in range(rounds):
        values = {s: {} for s in sides}
        for name, request in requests():
            base = 1e-3 * request["params"][0] / 1e6
            for side in sides:
                step = factor if side == slower and request["params"][0] == 10_000_000 else 1.0
                values[side][name] = {"median": base * step * rng.normal(1, 0.01)}
        data.append({"round": r + 1, "values": values})
    return data


def test_np_sum_step_flags_the_arms_with_a_step_only():
    from experiments.np_sum_step import judged

    data = _fake_np_sum_rounds(["0.66.0", "0.67.0"], "0.67.0")
    verdicts = {r.case: r.verdict for r in judged(data, "0.66.0", "0.67.0")}
    assert {c for c, v in verdicts.items() if v == "REGRESSION"} == {
        c for c in verdicts if c.startswith("10,000,000")}
    assert all(v == "unchanged" for c, v in verdicts.items() if c.startswith("1,000,000"))


def test_harness_tables_put_a_step_under_the_launcher_that_has_it():
    from experiments.harness import LAUNCHERS, chosen_cases, tables

    cases = chosen_cases()
    rng = np.random.default_rng(2)
    data = []
    for r in range(6):
        values = {}
        for release in ("2.7.1", "2.8.0"):
            values[release] = {}
            for launcher in LAUNCHERS:
                step = 1.5 if (release, launcher) == ("2.8.0", "asv forkserver") else 1.0
                values[release][launcher] = {c.label: {"median": 1e-4 * step
                                                       * rng.normal(1, 0.01)} for c in cases}
        data.append({"round": r + 1, "values": values})
    steps, versus = tables(data, ["2.7.1", "2.8.0"], cases)
    flagged = {(row[0], row[1]) for row in steps if row[5] == "REGRESSION"}
    assert flagged == {("asv forkserver", c.label) for c in cases}
    # the same step, seen from the release's side: forkserver slower than the fresh worker
    slower = {(row[0], row[1]) for row in versus if row[4] == "REGRESSION"}
    assert slower == {("2.8.0", "asv forkserver")}
