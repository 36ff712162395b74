"""The instruction-count family: counts scale with the work, exclude compilation, repeat, and
skip with a reason where valgrind is missing."""
import os
import shutil

import pytest

from benchmarks import instructions
from benchmarks.bench_instructions import Instructions
from tools.reports.compare_releases import count_gate, count_table, timed_label
from tools.reports.verdicts import CaseResult, codegen_reading, count_change

if instructions.unavailable() and os.environ.get("REQUIRE_VALGRIND"):
    raise RuntimeError(f"REQUIRE_VALGRIND is set but {instructions.unavailable()}")
needs_valgrind = pytest.mark.skipif(instructions.unavailable() is not None,
                                    reason=str(instructions.unavailable()))


@pytest.mark.integration
@needs_valgrind
def test_a_known_loop_scales_with_its_trip_count_and_excludes_compilation():
    # the seed's loop jitted afresh, not compiled yet: tests/count_targets.py
    cases = [(f"SeedLoop({n})", "tests.count_targets:seed_loop", (n,))
             for n in (100_000, 200_000)]
    result = instructions.count_cases(cases, first_call=True)
    one, two = (result["counts"][label] for label, _, _ in cases)
    assert 1.98 < two / one < 2.02  # n and 2n elements: twice the instructions, within 1 %
    # the seed's loop is ~3.4 instructions an element here (load, convert, add, compare)
    assert 2 < one / 100_000 < 6
    first = result["first"]["SeedLoop(100000)"]
    assert first > 20 * one  # the first call compiles: counted alone it is far larger
    assert result["isa"]["tests.count_targets"]["numba"] == "haswell"  # steered off AVX-512


@pytest.mark.integration
@needs_valgrind
def test_counts_repeat_exactly_in_a_fresh_process():
    cases = [("Sum(10000, numpy_sum)", "Sum", (10_000, "numpy_sum", "cpu"))]
    first = instructions.count_cases(cases)["counts"]
    second = instructions.count_cases(cases)["counts"]
    assert first == second and first["Sum(10000, numpy_sum)"] > 1000


def test_without_valgrind_the_family_skips_with_the_reason(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    reason = instructions.unavailable()
    assert "valgrind is not installed" in reason
    bench = Instructions()
    counted = bench.setup_cache()
    assert counted == {"skip": reason}
    with pytest.raises(NotImplementedError, match="valgrind is not installed"):
        bench.setup(counted, "Sum(100, numba_loop)")
    with pytest.raises(NotImplementedError, match="valgrind"):
        instructions.count_cases(instructions.family_cases()[:1])


def test_a_case_that_was_not_counted_skips_alone():
    counted = {"counts": {"Sum(100, numba_loop)": 1835.0},
               "errors": {"Gelu(100000, compiled)": "skipped: torch.compile cannot compile"}}
    bench = Instructions()
    bench.setup(counted, "Sum(100, numba_loop)")
    assert bench.track_instructions(counted, "Sum(100, numba_loop)") == 1835.0
    assert bench.track_instructions_per_element(counted, "Sum(100, numba_loop)") == 18.35
    with pytest.raises(NotImplementedError, match="torch.compile cannot compile"):
        bench.setup(counted, "Gelu(100000, compiled)")


def test_callgrind_dumps_are_read_by_their_bracket_label(tmp_path):
    (tmp_path / "callgrind.out.1").write_text(
        "version: 1\ndesc: Trigger: Client Request: Sum(100, numba_loop)|10\n"
        "events: Ir\nsummary: 18350\ntotals: 18350\n")
    (tmp_path / "callgrind.out").write_text(
        "desc: Trigger: Program termination\nevents: Ir\nsummary: 0\n")
    assert instructions.read_dumps(str(tmp_path)) == {"Sum(100, numba_loop)|10": {"Ir": 18350}}


def test_the_injected_work_is_exactly_one_extra_call_in_every_fifty():
    calls = []
    slowed = instructions.with_extra_calls(lambda: calls.append(1), 50)
    for _ in range(100):
        slowed()
    assert len(calls) == 102
    calls.clear()
    bare = instructions.with_extra_calls(lambda: calls.append(1), 0)
    for _ in range(100):
        bare()
    assert len(calls) == 100


def test_the_helper_builds_and_its_requests_do_nothing_outside_valgrind(tmp_path):
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    import ctypes

    try:
        path = instructions.build_helper(str(tmp_path))
    except NotImplementedError as exc:  # no valgrind headers on this machine
        pytest.skip(str(exc))
    helper = ctypes.CDLL(path)
    helper.count_start()
    helper.count_stop(b"outside")
    assert os.path.exists(path)


def test_every_family_case_is_a_real_case_of_its_benchmark():
    from benchmarks.cases import all_cases

    timed = set(all_cases())
    counted = instructions.counted_cases()
    assert len(counted) == len(instructions.family_cases())
    for label, case in counted.items():
        assert case in timed, label  # the very case the timed benchmark runs
        assert instructions.case_library(case.cls, case.params) in ("numba", "numpy", "torch")
    # every implementation of every registry is counted somewhere
    from benchmarks.impls import AXIS_SUMS, GELUS, SUMS

    assert {c.values["impl"] for c in counted.values() if c.cls == "Sum"} == set(SUMS)
    assert {c.values["library"] for c in counted.values() if c.cls == "AxisSum"} == set(AXIS_SUMS)
    assert {c.values["mode"] for c in counted.values() if c.cls == "Gelu"} == set(GELUS)


def test_time_and_count_readings():
    assert count_change(1000, 1000.5) == "same"
    assert count_change(1000, 1400) == "more"
    assert "code change: more" in codegen_reading("REGRESSION", "more")
    assert "not code generation" in codegen_reading("REGRESSION", "same")
    assert "other way" in codegen_reading("improvement", "more")
    assert codegen_reading("unchanged", "same") == ""
    assert timed_label("Sum(10000, numba_loop)", ["Sum.time_sum(10000, numba_loop, cpu)",
                                                  "Sum.time_sum(100, numba_loop, cpu)"]) == \
        "Sum.time_sum(10000, numba_loop, cpu)"
    assert timed_label("Sum(100000, numba_loop)", ["Sum.time_sum(10000, numba_loop, cpu)"]) \
        is None
    timed = CaseResult("Sum.time_sum(10000, numba_np_sum, cpu)", 16, 1.4, 1.3, 1.5, 0.0, 0.0,
                       verdict="REGRESSION")
    counts = {"counts": {"A": {"Sum(10000, numba_np_sum)": 1000.0},
                         "B": {"Sum(10000, numba_np_sum)": 1400.0}}}
    header, body = count_table(counts, [timed], "numba")
    assert body == [["Sum(10000, numba_np_sum)", "1,000", "1,400", "1.4000",
                     "1.400x [1.300, 1.500]", "code change: more instructions"]]


def test_a_count_change_is_called_only_beyond_the_controls():
    # numpy_sum does not run numba: in a numba pair it is a control, and its 0.6 % move
    # (interpreter caches, not code) sets the gate the numba cases must exceed
    counts = {"counts": {"A": {"Sum(100, numpy_sum)": 1000.0, "Sum(100, numba_loop)": 1000.0,
                               "Sum(10000, numba_loop)": 1000.0},
                         "B": {"Sum(100, numpy_sum)": 1006.0, "Sum(100, numba_loop)": 1005.0,
                               "Sum(10000, numba_loop)": 1010.0}}}
    assert abs(count_gate(counts, "numba") - 1.006) < 1e-9
    _, body = count_table(counts, [], "numba")
    readings = {row[0]: row[-1] for row in body}
    assert readings == {"Sum(100, numpy_sum) (control)": "",
                        "Sum(100, numba_loop)": "",
                        "Sum(10000, numba_loop)": "more instructions"}
