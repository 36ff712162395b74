"""Arrays placed on purpose: page size (4 KiB or transparent huge pages) and alignment.

NumPy madvises huge pages for allocations of 4 MiB or more, so with THP in `madvise` mode (the
common default) the suite's 1M float32 vector (4,000,000 bytes) lies on 4 KiB pages and its
10M one on huge pages, and glibc hands large blocks out 16 bytes past a page boundary. A
difference between sizes can therefore be one of placement. `placed_array` fixes both, and
`huge_kb_of` reads from /proc what the kernel actually gave. `numpy_array` allocates as
NumPy does, with its madvise on or off.

`NpSumPlacement` is not an asv benchmark (this module's name does not start with `bench_`):
`python -m tools check np-sum-step` times it in the numba history's environments.
"""
import re

import numpy as np

HUGE_PAGE = 2 << 20


def anon_huge_kb(pid="self"):
    """AnonHugePages of a process, kB (0 where /proc does not say)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            found = re.search(r"^AnonHugePages:\s+(\d+) kB", f.read(), re.M)
        return int(found.group(1)) if found else 0
    except OSError:
        return 0


def huge_kb_of(array):
    """AnonHugePages (kB) of the mappings that hold `array`'s data, from /proc/self/smaps
    (madvise splits an allocation: its 2 MiB-aligned middle becomes a mapping of its own)."""
    start, end = array.ctypes.data, array.ctypes.data + array.nbytes
    total, inside = 0, False
    try:
        with open("/proc/self/smaps") as f:
            for line in f:
                head = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
                if head:
                    inside = int(head.group(1), 16) < end and start < int(head.group(2), 16)
                elif inside and line.startswith("AnonHugePages:"):
                    total += int(line.split()[1])
    except OSError:
        pass
    return total


def _madvise_switch():
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # NumPy 1.x
        from numpy.core.multiarray import _set_madvise_hugepage
    return _set_madvise_hugepage


def numpy_array(size, huge):
    """A float32 array of `size` elements as NumPy allocates it, every page touched, NumPy's
    huge-page madvise on or off; (array, huge pages its mapping got in kB)."""
    switch = _madvise_switch()
    previous = switch(huge)
    try:
        x = np.empty(size, dtype=np.float32)
    finally:
        switch(previous)
    x[:] = np.random.default_rng(0).random(size, dtype=np.float32)
    return x, huge_kb_of(x)


def placed_array(size, huge, offset):
    """A float32 array of `size` elements starting `offset` bytes past a 2 MiB boundary, on
    huge pages or on 4 KiB ones; (array, huge pages its data got in kB).

    The block is a fresh anonymous mapping, advised MADV_HUGEPAGE or MADV_NOHUGEPAGE before
    its first touch: through malloc, a block freed and asked for again comes back from the
    heap already faulted in 4 KiB pages (glibc raises its mmap threshold after a free), and
    NumPy's madvise then changes nothing."""
    import mmap

    nbytes = size * 4
    block = mmap.mmap(-1, nbytes + offset + HUGE_PAGE,
                      flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    block.madvise(mmap.MADV_HUGEPAGE if huge else mmap.MADV_NOHUGEPAGE)
    raw = np.frombuffer(block, dtype=np.uint8)
    start = (-raw.ctypes.data) % HUGE_PAGE + offset
    x = raw[start:start + nbytes].view(np.float32)
    x[:] = np.random.default_rng(0).random(size, dtype=np.float32)
    return x, huge_kb_of(x)


def np_sum(x):
    # The suite's numba_np_sum (benchmarks/impls.py), compiled here so that this module
    # imports no torch: numba's own np.sum, a sequential float32 loop.
    return np.sum(x)


class NpSumPlacement:
    """np.sum inside @njit on a float32 array of controlled page size and alignment."""

    params = [[1_000_000, 10_000_000], ["4k", "huge"], [0, 4, 16]]
    param_names = ["size", "pages", "offset"]

    def setup(self, size, pages, offset):
        from numba import njit

        from .impls import error_bound

        self.x, got = placed_array(size, pages == "huge", offset)
        if (pages == "huge") != (got > 0):
            # THP off (or `always`): the arm this case names cannot be built here.
            raise NotImplementedError(f"asked for {pages} pages, got {got} kB huge")
        self.f = njit(np_sum)
        total = float(self.f(self.x))
        reference = float(np.sum(self.x, dtype=np.float64))
        if abs(total - reference) > error_bound("float32 sequential", size) * abs(reference):
            raise AssertionError(f"np.sum in numba gave {total}, float64 {reference}")

    def run(self):
        self.f(self.x)
