"""Memory bandwidth: the machine's own limits, and how close an implementation gets to them.

Everything a percentage is computed from is measured in one process, in the same rounds, with
the order rotated every round (`measure_side_by_side`), so a shared, noisy machine moves the
numerator and the denominator alike. The ceiling of a size is the best of:
- baseline kernels: read = an add-reduction (int64: exact integer adds vectorise freely;
  float32 with fastmath) in NumPy, numba and torch, one thread and all threads; copy =
  ``dst[:] = src`` counted as bytes read + bytes written (STREAM's convention);
- every implementation measured beside them: a sum that reads faster than every baseline is
  the machine's best known read, so it raises the ceiling (`ceiling`) and is reported as a
  baseline failure, never as more than 100 %.
"""
import ctypes
import os
import statistics
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from numba import njit, prange

from .timing import autorange, batch_seconds

# 40 KB, 4 MB, 40 MB and 1 GB of float32: caches.py labels each by where it fits on the
# machine that runs it (a 40 MB working set is in cache on a CPU with a 480 MB L3).
SIZES = [10_000, 1_000_000, 10_000_000, 250_000_000]
READ_KERNELS = ["read_int64_numpy", "read_int64_numba", "read_int64_numba_parallel",
                "read_int64_torch", "read_float32_numba", "read_float32_numba_parallel"]
COPY_KERNELS = ["copy_numpy", "copy_numba_parallel", "copy_torch"]
BASELINE_KERNELS = READ_KERNELS + COPY_KERNELS


@njit
def _read_int64_serial(words):
    total = 0
    for i in range(words.shape[0]):
        total += words[i]
    return total


@njit(parallel=True)
def _read_int64_parallel(words):
    total = 0
    for i in prange(words.shape[0]):
        total += words[i]
    return total


@njit(fastmath=True)
def _read_float32_serial(x):
    total = np.float32(0)  # float32 lanes: twice the values per vector of a float64 sum
    for i in range(x.shape[0]):
        total += x[i]
    return total


@njit(parallel=True, fastmath=True)
def _read_float32_parallel(x):
    total = np.float32(0)
    for i in prange(x.shape[0]):
        total += x[i]
    return total


@njit(parallel=True)
def _copy_numba(dst, src):
    for i in prange(src.shape[0]):
        dst[i] = src[i]


def _as_words(x):
    return x.view(np.int64) if x.nbytes % 8 == 0 else x[: x.size // 2 * 2].view(np.int64)


def baseline_kernel(kernel, x):
    """(callable, bytes moved per call) for a baseline kernel over the float32 array `x`."""
    if kernel in READ_KERNELS:
        if "int64" in kernel:
            data = _as_words(x)
        else:
            data = x
        if kernel == "read_int64_torch":
            import torch

            run = partial(torch.sum, torch.from_numpy(data))
        else:
            func = {"read_int64_numpy": np.add.reduce,
                    "read_int64_numba": _read_int64_serial,
                    "read_int64_numba_parallel": _read_int64_parallel,
                    "read_float32_numba": _read_float32_serial,
                    "read_float32_numba_parallel": _read_float32_parallel}[kernel]
            run = partial(func, data)
        run()  # compiles
        return run, data.nbytes
    if kernel not in COPY_KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}: expected one of {BASELINE_KERNELS}")
    dst = np.empty_like(x)
    if kernel == "copy_torch":
        import torch

        run = partial(torch.from_numpy(dst).copy_, torch.from_numpy(x))
    else:
        run = partial(np.copyto if kernel == "copy_numpy" else _copy_numba, dst, x)
    run()  # compiles, and touches every page of dst once
    return run, 2 * x.nbytes


def gbps(nbytes, seconds):
    return nbytes / seconds / 1e9


# ---------------------------------------------------------------------------------------------
# Warm-up: steady means the level no longer moves and the allocator has settled.

@dataclass
class WarmUp:
    calls: int
    seconds: float
    steady: bool  # False: the cap was hit first, and the figure says so
    faults_per_call: float = 0.0  # minor page faults per call in the last batches


def _alike(values, tolerance=0.01):
    return max(values) - min(values) <= tolerance * max(values)


def steady_after(times, faults=None, window=3, band=0.10):
    """Index of the batch after which `times` (per call, one per batch) are steady, or None.
    Steady: the median of the last `window` batches lies within `band` of the median of the
    `window` before it (neither still getting faster nor drifting slower), and, where `faults`
    (minor page faults per call of each batch) are given, the last `window` batches faulted
    alike: the allocator has settled, at no fault a call or at the same fresh pages every
    call. Single batches may spread: a call that page-faults gigabytes varies by +-15 % for
    good (eager GELU at 250M: 1.22M faults every call), and the old rule, all of the last
    three batches within 10 %, never settled there; a slow plateau while the heap still grows
    (eager GELU at 1M: 7-14k faults a batch for 9 batches, then none and 35 % faster) is
    told apart by its faults, not by a band (report/mechanisms.md)."""
    for end in range(2 * window, len(times) + 1):
        last = statistics.median(times[end - window:end])
        before = statistics.median(times[end - 2 * window:end - window])
        settled = faults is None or _alike(faults[end - window:end])
        if abs(last - before) <= band * before and settled:
            return end - 1
    return None


def minor_faults():
    """Minor page faults of this process so far (0 where the OS does not count them)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def warm_up(run, window=3, band=0.10, max_calls=None, max_seconds=20.0,
            min_batch_seconds=0.005):
    """Call `run` until steady (`steady_after` on the per-call time and page faults of each
    batch), for at most `max_seconds` (and `max_calls` batches, if given). A batch holds
    enough calls to last about 5 ms, so a call of a few microseconds is judged on an average,
    not on one clock reading. No cap on batches by default: eager GELU at 1M needed 6-17
    batches (<= 0.18 s) in six fresh processes, and a cap of 30 once stopped it first."""
    start = time.perf_counter()
    first = batch_seconds(run, 1)  # compiles, page-faults: never part of the steady window
    number = max(1, min(100_000, int(min_batch_seconds / max(first, 1e-9))))
    times, faults = [], []
    while (max_calls is None or len(times) < max_calls) and \
            time.perf_counter() - start < max_seconds:
        before = minor_faults()
        per_call = batch_seconds(run, number)
        if per_call * number < min_batch_seconds / 2 and number < 100_000:
            number *= 4  # the first call overestimated: batches too short to judge, restart
            times, faults = [], []
            continue
        times.append(per_call)
        faults.append((minor_faults() - before) / number)
        if steady_after(times, faults, window, band) is not None:
            return WarmUp(len(times), time.perf_counter() - start, True, faults[-1])
    return WarmUp(len(times), time.perf_counter() - start, False,
                  faults[-1] if faults else 0.0)


# ---------------------------------------------------------------------------------------------
# Timing side by side

def calls_per_batch(run, min_seconds=0.02):
    """Like timeit's autorange: enough calls that one batch lasts at least `min_seconds`."""
    return autorange(run, min_seconds, factor=4, limit=1_000_000)


# A pause before each batch. A parallel kernel's OpenMP threads spin for a while after it
# returns, and this process holds up to three thread pools (torch's own libgomp, the system
# libgomp of inductor's generated code, numba's): on 2 cores, threads of the previous entry
# still spinning can starve the next entry's workers (seen once: torch erf with 2 threads at
# 0.03 Gelem/s beside a compiled GELU, 2.4-2.8 alone; not reproduced since).
SETTLE_SECONDS = 0.01


@dataclass
class Measured:
    gbps: list  # one figure per round
    warm_up: WarmUp

    @property
    def median(self):
        return statistics.median(self.gbps)


def measure_side_by_side(entries, rounds=5):
    """{name: Measured} for {name: (callable, bytes per call)}: each warmed up until steady,
    then one batch of each per round, the order rotated every round so that no entry always
    runs right after the same neighbour."""
    if QUICK:
        rounds = 1
    names = list(entries)
    warm = {n: warm_up(entries[n][0], window=1) if QUICK else warm_up(entries[n][0])
            for n in names}
    numbers = {n: calls_per_batch(entries[n][0]) for n in names}
    figures = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            run, nbytes = entries[n]
            time.sleep(SETTLE_SECONDS)
            figures[n].append(gbps(nbytes, batch_seconds(run, numbers[n])))
    return {n: Measured(figures[n], warm[n]) for n in names}


# ---------------------------------------------------------------------------------------------
# The ceiling

@dataclass
class Ceiling:
    gbps: float  # the best median of the process: baselines and implementations
    set_by: str
    baseline_gbps: float  # the best baseline kernel's median
    baseline_by: str
    failures: list = field(default_factory=list)  # implementations clearly above every baseline


def ceiling(measured, baselines):
    """The ceiling of one size from {name: Measured} of one process, `baselines` naming the
    baseline kernels among them. An implementation whose slowest round beats the best
    baseline's fastest round (above it by more than the noise) is a baseline failure."""
    if not any(b in measured for b in baselines):
        raise ValueError("a ceiling needs at least one baseline kernel measured")
    set_by = max(measured, key=lambda n: measured[n].median)
    base_by = max((b for b in baselines if b in measured), key=lambda n: measured[n].median)
    base_top = max(measured[base_by].gbps)
    failures = [n for n in measured
                if n not in baselines and min(measured[n].gbps) > base_top]
    return Ceiling(measured[set_by].median, set_by, measured[base_by].median, base_by,
                   failures)


def percent_of_ceiling(measured, name):
    """Per-round % of the ceiling for `name`: each round's figure over the best figure of
    that same round across all entries, so never above 100."""
    best = [max(round_) for round_ in zip(*(m.gbps for m in measured.values()))]
    return [100 * g / b for g, b in zip(measured[name].gbps, best)]


# tools/run/smoke.py sets this: one warm-up batch, one round and the two smallest sizes, to
# check that everything runs.
QUICK = os.environ.get("ARRAY_OP_BENCH_QUICK") == "1"


def table_sizes():
    return SIZES[:2] if QUICK else SIZES

# ---------------------------------------------------------------------------------------------
# glibc malloc mode

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
MALLOC_MODES = ["default", "keep_heap"]
MMAP_THRESHOLD_MAX = 32 * 2**20  # glibc's largest dynamic mmap threshold on 64-bit


def set_malloc_mode(mode):
    """'default': glibc as users get it, which serves blocks above its mmap threshold (at most
    32 MB) with mmap and unmaps them on free, so every large output is page-faulted anew on
    every call. 'keep_heap': no mmap and no trimming, so freed blocks are reused (what
    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=-1 in the environment would do).
    Call before the arrays being timed are allocated; affects this process only, for good."""
    if mode == "default":
        return
    if mode != "keep_heap":
        raise ValueError(f"unknown malloc mode {mode!r}: expected one of {MALLOC_MODES}")
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # macOS, musl: no glibc, no mallopt to steer
        raise NotImplementedError("keep_heap needs glibc's mallopt, absent here") from None
    # A trim threshold of -1 is SIZE_MAX for glibc: never give the heap back.
    if not (mallopt(_M_MMAP_MAX, 0) and mallopt(_M_TRIM_THRESHOLD, -1)):
        raise NotImplementedError("mallopt refused: not glibc?")
