"""Memory bandwidth: the machine's own limits, and how close an implementation gets to them.

The baselines are STREAM-style kernels measured in the same process as the implementation
they judge, side by side, so that a shared, noisy machine moves both alike:
- read: an integer add-reduction over the array viewed as int64. Integer adds are exact, so
  the compiler vectorises freely and no floating-point latency chain limits it: only memory.
- copy: ``dst[:] = src``, counted as bytes read + bytes written (STREAM's convention).
Each has a NumPy (one thread) and a numba ``prange`` (all cores) version, and read also a
one-thread numba loop (a parallel launch costs microseconds, which dominates small arrays);
the baseline of a workload is the fastest of its kind.
"""
import ctypes
import os
import statistics
import time
from functools import partial

import numpy as np
from numba import njit, prange

# 40 KB (in L1/L2), 4 MB (L2/L3), 40 MB (just past a 32 MB L3: partly cache-resident when
# reused) and 1 GB of float32 (main memory). 400 MB behaved like 1 GB and cost a minute more.
SIZES = [10_000, 1_000_000, 10_000_000, 250_000_000]
READ_KERNELS = ["read_numpy", "read_numba_serial", "read_numba_parallel"]
COPY_KERNELS = ["copy_numpy", "copy_numba_parallel"]
BASELINE_KERNELS = READ_KERNELS + COPY_KERNELS


@njit
def _read_numba_serial(words):
    total = 0
    for i in range(words.shape[0]):
        total += words[i]
    return total


@njit(parallel=True)
def _read_numba_parallel(words):
    total = 0
    for i in prange(words.shape[0]):
        total += words[i]
    return total


@njit(parallel=True)
def _copy_numba(dst, src):
    for i in prange(src.shape[0]):
        dst[i] = src[i]


def _read_numpy(words):
    return np.add.reduce(words)


def baseline_kernel(kernel, x):
    """(callable, bytes moved per call) for a baseline kernel over the float32 array `x`."""
    if kernel.startswith("read"):
        words = x.view(np.int64) if x.nbytes % 8 == 0 else x[: x.size // 2 * 2].view(np.int64)
        func = {"read_numpy": _read_numpy, "read_numba_serial": _read_numba_serial,
                "read_numba_parallel": _read_numba_parallel}[kernel]
        run = partial(func, words)
        run()  # compiles
        return run, words.nbytes
    dst = np.empty_like(x)
    if kernel not in COPY_KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}: expected one of {BASELINE_KERNELS}")
    run = partial(np.copyto if kernel == "copy_numpy" else _copy_numba, dst, x)
    run()  # compiles, and touches every page of dst once
    return run, 2 * x.nbytes


def baseline_kernels(kind, x):
    """(callable, bytes) of every kernel of `kind` ('read' or 'copy'); the limit is the best."""
    return [baseline_kernel(k, x) for k in (READ_KERNELS if kind == "read" else COPY_KERNELS)]


def _batch_seconds(run, number):
    start = time.perf_counter()
    for _ in range(number):
        run()
    return (time.perf_counter() - start) / number


def calls_per_batch(run, min_seconds=0.02):
    """Like timeit's autorange: enough calls that one batch lasts at least `min_seconds`."""
    number = 1
    while _batch_seconds(run, number) * number < min_seconds and number < 1_000_000:
        number *= 4
    return number


def warm_up(run, max_calls=4, max_seconds=5.0):
    """Call until two calls in a row take about as long (with malloc=keep_heap the first two
    or three calls of a large GELU still page-fault while the heap grows to its size), or
    until `max_seconds` are spent (a call that slow is not going to get faster)."""
    previous = spent = _batch_seconds(run, 1)
    for _ in range(max_calls - 1):
        if spent >= max_seconds:
            return
        current = _batch_seconds(run, 1)
        spent += current
        if abs(current - previous) <= 0.1 * previous:
            return
        previous = current


def side_by_side(runs, rounds=5):
    """Median seconds per call of each callable, their batches interleaved round by round."""
    if QUICK:
        rounds = 1
    for run in runs:
        warm_up(run, max_calls=1 if QUICK else 4)
    numbers = [calls_per_batch(run) for run in runs]
    times = [[] for _ in runs]
    for _ in range(rounds):
        for run, number, out in zip(runs, numbers, times):
            out.append(_batch_seconds(run, number))
    return [statistics.median(t) for t in times]


def gbps(nbytes, seconds):
    return nbytes / seconds / 1e9


# tools/run/smoke.py sets this: one warm-up call and one round, to check that everything runs.
QUICK = os.environ.get("ARRAY_OP_BENCH_QUICK") == "1"

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
MALLOC_MODES = ["default", "keep_heap"]
MMAP_THRESHOLD_MAX = 32 * 2**20  # glibc's largest dynamic mmap threshold on 64-bit


def set_malloc_mode(mode):
    """'default': glibc as users get it, which serves blocks above its mmap threshold (at most
    32 MB) with mmap and unmaps them on free, so every large output is page-faulted anew on
    every call. 'keep_heap': no mmap and no trimming, so freed blocks are reused (what
    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=-1 in the environment would do).
    Call before the arrays being timed are allocated; affects this process only."""
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
