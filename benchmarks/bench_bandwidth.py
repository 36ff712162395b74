"""How close each sum and GELU gets to this machine's limits (cpu), every figure of a
percentage measured in one process.

Each class measures its whole table once, in `setup_cache` (one process): at every size, the
baseline kernels and every implementation side by side, round after round (bandwidth.py). Its
`track_` methods only read that table, so a percentage never mixes processes, and they return
every round's figure as asv samples (`--record-samples` keeps them: the spread shows).
- `ReadBandwidth`: sums against read kernels; bytes = 4 per element read.
- `GeluBandwidth`: GELU against copy kernels (the same traffic: 4 bytes read, 4 written per
  element), with glibc's default malloc and with the heap kept (`malloc`), and against its
  own compute rate from cache, measured in the same process.
- `GeluCompute`: the GELU's compute ceiling, the marginal elements per second on data that
  stays in cache (no memory traffic to wait for), with one thread and with all.
Each size is labelled by where its working set fits (caches.py): `track_` figures of a
cache-resident size are cache bandwidth, not memory bandwidth.
"""
import statistics
from dataclasses import asdict
from functools import partial

from .bandwidth import (COPY_KERNELS, MALLOC_MODES, MMAP_THRESHOLD_MAX, READ_KERNELS,
                        SIZES, baseline_kernel, ceiling, measure_side_by_side,
                        percent_of_ceiling, set_malloc_mode, table_sizes)
from .caches import cache_levels, residency
from .common import normal_vector, uniform_vector
from .impls import GELU_MODES, SUMS, prepare_gelu, prepare_sum

PYTHON_SUMS = ("python_loop", "python_builtin")
PYTHON_MAX_SIZE = 1_000_000  # ~70 ns per element: beyond this a round takes seconds
# The compute rate is the marginal one between two sizes whose working sets stay in cache on
# any CPU of this kind (2 MB and 8 MB: L2 or L3), so a fixed per-call cost (torch.compile's
# guards, ~15 us; thread wake-up) cancels: one size alone read the compiled GELU 13-25 %
# below its own rate at 1 GB, which made the "ceiling" no ceiling.
COMPUTE_SIZES = (262_144, 1_048_576)
COMPUTE_CASES = ["erf"] + GELU_MODES  # erf: the one transcendental of the exact GELU


def _samples(values):
    # asv reads {"samples", "number"} as a timing-style result: median shown, samples kept.
    return {"samples": list(values), "number": 1}


def _table(measured, baselines, working_set):
    found = ceiling(measured, baselines)
    return {
        "ceiling": asdict(found),
        "working_set": working_set,
        "residency": residency(working_set, cache_levels()),
        "entries": {name: {"gbps": m.gbps, "percent": percent_of_ceiling(measured, name),
                           "warm_up": asdict(m.warm_up)} for name, m in measured.items()},
    }


def _warm_up_calls(entry):
    # Negative: the cap was hit before the calls became steady; the figure is flagged.
    calls = entry["warm_up"]["calls"]
    return calls if entry["warm_up"]["steady"] else -calls


def read_table(size):
    x = uniform_vector(size)
    entries = {k: baseline_kernel(k, x) for k in READ_KERNELS}
    for impl in SUMS:
        if impl in PYTHON_SUMS and size > PYTHON_MAX_SIZE:
            continue
        entries[impl] = (prepare_sum(impl, x), x.nbytes)
    return _table(measure_side_by_side(entries), READ_KERNELS, x.nbytes)


def marginal_rates(small, large, n_small, n_large):
    """Per-round (n_large - n_small) / (t_large - t_small) in 10^9 elements per second, from
    two Measured whose 'gbps' count 10^9 elements per second; rounds where noise made the
    larger call no slower are left out."""
    rates = []
    for g_small, g_large in zip(small.gbps, large.gbps):
        extra = n_large / g_large - n_small / g_small  # nanoseconds
        if extra > 0:
            rates.append((n_large - n_small) / extra)
    return rates


def compute_table(threads):
    """{case: [Gelem/s per round]}: the marginal rate of erf and each GELU mode on data in
    cache (COMPUTE_SIZES), with torch limited to `threads`."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        entries = {}
        for n in COMPUTE_SIZES:
            x = normal_vector(n)
            entries["erf", n] = (partial(torch.special.erf, torch.from_numpy(x),
                                         out=torch.empty(n)), n)
            for mode in GELU_MODES:
                entries[mode, n] = (prepare_gelu(mode, x), n)
        measured = measure_side_by_side(entries)
    finally:
        torch.set_num_threads(before)
    small, large = COMPUTE_SIZES
    return {case: marginal_rates(measured[case, small], measured[case, large], small, large)
            for case in COMPUTE_CASES}


def compute_threads():
    import torch

    return {"1": 1, "all": torch.get_num_threads()}


def gelu_table(size):
    x = normal_vector(size)
    entries = {k: baseline_kernel(k, x) for k in COPY_KERNELS}
    for mode in GELU_MODES:
        entries[mode] = (prepare_gelu(mode, x), 2 * x.nbytes)
    return _table(measure_side_by_side(entries), COPY_KERNELS, 2 * x.nbytes)


def _keep_heap_applies(size):
    return 4 * size >= MMAP_THRESHOLD_MAX


class ReadBandwidth:
    params = [SIZES, READ_KERNELS + list(SUMS)]
    param_names = ["size", "case"]
    timeout = 900

    def setup_cache(self):
        return {size: read_table(size) for size in table_sizes()}

    def setup(self, tables, size, case):
        if size not in tables:
            raise NotImplementedError("a quick run measures the two smallest sizes only")
        if case not in tables[size]["entries"]:
            raise NotImplementedError("python loops beyond 1M elements: see Sum.time_sum")

    def track_gbps(self, tables, size, case):
        return _samples(tables[size]["entries"][case]["gbps"])

    track_gbps.unit = "GB/s"

    def track_percent_of_ceiling(self, tables, size, case):
        return _samples(tables[size]["entries"][case]["percent"])

    track_percent_of_ceiling.unit = "%"

    def track_warm_up_calls(self, tables, size, case):
        return _warm_up_calls(tables[size]["entries"][case])

    track_warm_up_calls.unit = "calls"


def _gelu_mode_only(tables, size, case, malloc):
    if case not in GELU_MODES:
        raise NotImplementedError("a copy kernel has no compute rate")


class GeluBandwidth:
    params = [SIZES, COPY_KERNELS + GELU_MODES, MALLOC_MODES]
    param_names = ["size", "case", "malloc"]
    timeout = 900

    def setup_cache(self):
        # glibc's default first: keep_heap, once set, holds for the rest of the process.
        tables = {"default": {size: gelu_table(size) for size in table_sizes()},
                  "compute": compute_table(compute_threads()["all"])}
        try:
            set_malloc_mode("keep_heap")
        except NotImplementedError as exc:
            tables["keep_heap"] = str(exc)
            return tables
        tables["keep_heap"] = {size: gelu_table(size) for size in table_sizes()
                               if _keep_heap_applies(size)}
        return tables

    def setup(self, tables, size, case, malloc):
        if isinstance(tables[malloc], str):
            raise NotImplementedError(tables[malloc])
        if size not in tables[malloc]:
            raise NotImplementedError("outputs below glibc's mmap threshold: same as default")

    def track_gbps(self, tables, size, case, malloc):
        return _samples(tables[malloc][size]["entries"][case]["gbps"])

    track_gbps.unit = "GB/s"

    def track_percent_of_copy(self, tables, size, case, malloc):
        return _samples(tables[malloc][size]["entries"][case]["percent"])

    track_percent_of_copy.unit = "%"

    def track_percent_of_compute(self, tables, size, case, malloc):
        """Elements per second at `size` over the same mode's rate from cache (all threads):
        near 100 %, the GELU is compute-bound; far below, memory or page faults hold it."""
        per_second = [g / 8 for g in tables[malloc][size]["entries"][case]["gbps"]]  # Gelem/s
        from_cache = statistics.median(tables["compute"][case])
        return _samples(100 * p / from_cache for p in per_second)

    track_percent_of_compute.unit = "%"
    track_percent_of_compute.setup = _gelu_mode_only

    def track_warm_up_calls(self, tables, size, case, malloc):
        return _warm_up_calls(tables[malloc][size]["entries"][case])

    track_warm_up_calls.unit = "calls"


class GeluCompute:
    params = [COMPUTE_CASES, ["1", "all"]]
    param_names = ["case", "threads"]
    timeout = 300

    def setup_cache(self):
        return {label: compute_table(n) for label, n in compute_threads().items()}

    def track_gelements_per_second(self, tables, case, threads):
        return _samples(tables[threads][case])

    track_gelements_per_second.unit = "Gelem/s"

