"""asv_runner compatibility, the timeit agreement verdict, the likwid-bench anchor and the
cold/warm sums: each checked on inputs whose answer is known."""
import math
import os
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

from benchmarks import runner_compat
from checks import timeit_agreement as timeit_check
from tools.run import likwid_anchor


def fake_runner(monkeypatch, version, with_switch):
    time_module = types.ModuleType("asv_runner.benchmarks.time")

    class TimeBenchmark:
        pass

    if with_switch:
        TimeBenchmark._setup_isolates_timed_calls = True
    time_module.TimeBenchmark = TimeBenchmark
    package = types.ModuleType("asv_runner.benchmarks")
    package.time = time_module
    monkeypatch.setitem(sys.modules, "asv_runner.benchmarks", package)
    monkeypatch.setitem(sys.modules, "asv_runner.benchmarks.time", time_module)
    monkeypatch.setattr(runner_compat.metadata, "version", lambda name: version)
    monkeypatch.setattr(runner_compat, "REFUSAL", None)
    return TimeBenchmark


def test_a_0_3_runner_is_refused_unless_its_residual_is_accepted(monkeypatch):
    cls = fake_runner(monkeypatch, "0.3.2", with_switch=True)
    monkeypatch.delenv(runner_compat.ACCEPT_VAR, raising=False)
    reason = runner_compat.batch_like_timeit()
    assert "asv_runner 0.3.2" in reason and "asv_runner==0.2.5" in reason
    assert cls._setup_isolates_timed_calls is True  # left as it was
    monkeypatch.setenv(runner_compat.ACCEPT_VAR, "1")
    monkeypatch.setattr(runner_compat, "REFUSAL", None)
    assert runner_compat.batch_like_timeit() is None
    assert cls._setup_isolates_timed_calls is False and runner_compat.REFUSAL is None


def test_a_runner_that_cannot_be_switched_is_refused_in_one_line(monkeypatch):
    from benchmarks.bench_sum import Sum

    fake_runner(monkeypatch, "0.4.0", with_switch=False)
    reason = runner_compat.batch_like_timeit()
    assert "asv_runner 0.4.0" in reason and "asv_runner==0.2.5" in reason
    assert "\n" not in reason
    with pytest.raises(NotImplementedError, match="asv_runner 0.4.0"):
        Sum().setup(100, "numpy_sum", "cpu")  # asv's skip, with the reason


def test_a_0_2_runner_is_left_alone(monkeypatch):
    cls = fake_runner(monkeypatch, "0.2.5", with_switch=True)
    assert runner_compat.batch_like_timeit() is None
    assert cls._setup_isolates_timed_calls is True


@pytest.mark.parametrize("ratios, expected", [
    ([1.02, 0.97, 1.05, 1.01, 0.99], "agrees"),
    ([1.6, 1.8, 1.7, 1.9, 1.75], "disagrees"),  # asv_runner 0.3.x's bias at size 100
    ([0.8, 0.85, 0.7, 0.88, 0.75], "disagrees"),
    ([1.02, 1.15, 0.97, 1.04, 1.0], "inconclusive"),  # one noisy round: not a failure
    ([1.2, 1.3, 1.05, 1.4, 1.25], "inconclusive"),  # not every round outside either
])
def test_timeit_verdict_on_paired_ratios(ratios, expected):
    assert timeit_check.verdict(ratios, 0.10) == expected


def test_timeit_check_needs_rounds_to_pair():
    from tools import ToolError

    with pytest.raises(ToolError, match="at least 2"):
        timeit_check.main(["--rounds", "1"])


@pytest.mark.parametrize("gate, calls, ratio, code", [
    ("ratio", 5000, 1.6, 1),      # every round 1.6x: a disagreement fails
    ("ratio", 5000, 1.0, 0),
    ("batching", 5000, 1.6, 0),   # batched: a residual above timeit is reported, not failed
    ("batching", 1, 1.0, 1),      # one call per sample fails whatever the ratio
])
def test_timeit_check_gates(monkeypatch, capsys, gate, calls, ratio, code):
    cases = timeit_check.CASES
    monkeypatch.setattr(timeit_check, "installed_runner", lambda: "0.3.2")
    monkeypatch.setattr(timeit_check, "asv_medians",
                        lambda scratch: {case: (ratio * 1e-6, calls) for case in cases})
    monkeypatch.setattr(timeit_check, "independent_medians",
                        lambda: {case: 1e-6 for case in cases})
    assert timeit_check.main(["--rounds", "2", "--gate", gate]) == code
    out = capsys.readouterr().out
    assert f"asv batched {0 if calls == 1 else len(cases)} of {len(cases)}" in out


LIKWID_OUTPUT = """\
Cycles:			4832273222
Time:			1.858614e+00 sec
Iterations:		1024
Data volume (Byte):	40960000000
MByte/s:		22037.93
Cycles per update:	0.943803
"""


def test_likwid_report_parsing_and_sizes():
    assert likwid_anchor.parse_mbytes(LIKWID_OUTPUT) == 22037.93
    assert likwid_anchor.parse_mbytes("no figures") is None
    # a sum of 10M float32 reads 40 MB; a copy of it moves 80 MB (in + out)
    assert likwid_anchor.working_set("load", 10_000_000) == "40000kB"
    assert likwid_anchor.working_set("copy", 10_000_000) == "80000kB"
    assert likwid_anchor.isa_suffix({"avx512f", "avx2", "avx"}) == "_avx512"
    assert likwid_anchor.isa_suffix({"avx2", "avx"}) == "_avx"
    assert likwid_anchor.isa_suffix(set()) == "_sse"


@pytest.mark.integration
def test_likwid_bench_runs_here():
    if shutil.which("likwid-bench") is None:
        if os.environ.get("REQUIRE_LIKWID") == "1":
            pytest.fail("likwid-bench missing although REQUIRE_LIKWID=1")
        pytest.skip("likwid-bench not installed (tools/setup_likwid.sh)")
    suffix = likwid_anchor.isa_suffix(likwid_anchor.cpu_flags())
    gbps = likwid_anchor.run_one("load" + suffix, "4000kB", 1, 0.1)
    assert 0.5 < gbps < 2000  # a real figure, in GB/s


def test_likwid_runs_on_huge_pages_unless_told_otherwise(monkeypatch):
    seen = []

    def fake_run(cmd, capture_output, text, env):
        seen.append(env.get("GLIBC_TUNABLES"))
        return subprocess.CompletedProcess(cmd, 0, LIKWID_OUTPUT, "")

    monkeypatch.setattr(likwid_anchor.subprocess, "run", fake_run)
    assert likwid_anchor.run_one("load_avx", "4000kB", 1, 0.1) == 22.03793
    likwid_anchor.run_one("load_avx", "4000kB", 1, 0.1, huge=False)
    assert seen == ["glibc.malloc.hugetlb=1", None]


def test_numpy_gives_huge_pages_where_the_kernel_allows_them():
    from benchmarks.placement import numpy_array
    from experiments.ceiling import _thp_mode

    huge, got = numpy_array(4_000_000, True)  # 16 MB
    small, none = numpy_array(4_000_000, False)
    assert none == 0 and small.sum() == huge.sum()  # the same values either way
    if _thp_mode() in ("madvise", "always"):
        assert got > 0, "NumPy's madvise got no huge page"


def test_the_ceiling_check_reads_as_ratios_per_round():
    from tools.reports.bandwidth_report import ceiling_section

    arms = {"likwid 4k": [20.0, 25.0], "likwid huge": [30.0, 30.0],
            "numba_parallel numpy_huge": [33.0, 33.0], "torch_sum numpy_huge": [33.0, 36.0],
            "numba_parallel numpy_huge_again": [33.0, 33.0],
            "torch_sum numpy_huge_again": [33.0, 30.0], "numba_parallel numpy_4k": [30.0, 30.0],
            "torch_sum numpy_4k": [31.0, 31.0]}
    result = {"thp": "madvise", "threads": 2, "rounds": 2, "commit": "abcdef12",
              "measured_at": "2026-11-30T07:45:00",
              "sizes": {"250000000": {"gbps": arms, "huge_pages_kb": {
                  "numpy_huge": 975000, "numpy_huge_again": 975000, "numpy_4k": 0,
                  "likwid 4k": 0, "likwid huge": 975000}}}}
    text = ceiling_section(result)
    # per-round ratios: 33/20 and 36/25 -> median 1.54 (1.44-1.65); A/A 33/33 and 36/30
    assert "| torch_sum numpy_huge / likwid 4k | 1.54 | 1.44-1.65 |" in text
    assert "| torch_sum numpy_huge / torch_sum numpy_huge_again | 1.10 | 1.00-1.20 |" in text
    assert "| likwid huge | 30.0 | 30.0-30.0 | 952 |" in text
    assert ceiling_section(None) is None


@pytest.mark.parametrize("impl", ["numpy_sum", "numba_loop", "torch_tensor"])
def test_rotating_sums_sum_the_same_values(impl, monkeypatch):
    from benchmarks import bench_sum
    from benchmarks.common import uniform_vector

    # a small last-level cache, so the test allocates few copies
    monkeypatch.setattr(bench_sum, "cache_levels", lambda: {3: 80_000_000})
    size = 10_000_000
    exact = math.fsum(uniform_vector(size).astype(np.float64))  # the float64 reference
    run = bench_sum.SumResidency.prepare(size, impl, "rotating")
    for _ in range(3):  # three different copies, one after another
        assert abs(float(run()) - exact) <= 1e-5 * exact


def test_keep_heap_applies_to_large_cpu_outputs_only():
    from benchmarks.bench_gelu import Gelu

    with pytest.raises(NotImplementedError, match="mmap threshold"):
        Gelu.prepare(1_000, "eager", "cpu", "keep_heap")
    with pytest.raises(NotImplementedError, match="cpu only"):
        Gelu.prepare(10_000_000, "eager", "cuda", "keep_heap")


def test_publish_keeps_results_of_an_older_benchmark_version():
    from tools.results.asv_launcher import every_version

    class Stored:  # asv's Results: two stored benchmarks, one since removed from the suite
        def get_all_result_keys(self):
            return {"bench_sum.Sum.time_sum", "bench_bandwidth.SumBandwidth.track_gbps"}

    current = {"bench_sum.Sum.time_sum": {"version": "a newer code hash"}}
    assert every_version(Stored(), current) == {"bench_sum.Sum.time_sum"}
