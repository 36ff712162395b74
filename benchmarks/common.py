"""Shared data and devices for every benchmark module.

Inputs come from one fixed seed, so every run and every release times the same numbers.
Factories are cached per process: asv starts one process per parameter combination, so an
array is built once there, however many samples are taken. The arrays stay writable although
every caller shares them (no benchmark mutates its input): torch.from_numpy warns on a
read-only array, and that warning would run inside the seed's timed torch call.
"""
import os
from functools import lru_cache

import numpy as np

# Must not be changed -- only appended: changing it changes what past results measured.
SEED = 20_240_601
# Where the interleaved rounds' workers (tools/run/interleave.py) keep drawn matrices between
# processes: eleven releases each drawing the same 2.5 GB matrix would spend minutes a round
# drawing. Unset everywhere else (asv draws in each process, as always).
DATA_CACHE_VAR = "ARRAY_OP_BENCH_DATA_CACHE"

DEVICES = ["cpu", "cuda"]
ROWS, COLS = "rows", "cols"  # rows = reduce over the last dim, cols = over the first


def _rng(tag):
    # One stream per kind of input, so adding a kind never shifts another's data.
    return np.random.default_rng([SEED, tag])


@lru_cache(maxsize=4)
def uniform_vector(size):
    """float32 in [0, 1) like the seed's ``np.random.rand(n).astype(np.float32)``."""
    return _rng(1).random(size, dtype=np.float32)


@lru_cache(maxsize=4)
def normal_vector(size):
    """float32 standard normal, like the seed's ``torch.randn`` for GELU."""
    return _rng(2).standard_normal(size, dtype=np.float32)


@lru_cache(maxsize=2)
def uniform_matrix(rows, cols, layout):
    """float32 in [0, 1), C (row-major) or F (column-major) layout.

    Drawn directly in float32 (no float64 temporary) and, for F, drawn as the transposed C
    array and viewed back, so a 25000x25000 array (2.5 GB) is never copied.
    """
    folder = os.environ.get(DATA_CACHE_VAR)
    if folder and rows * cols >= 10**7:
        return _cached_matrix(folder, rows, cols, layout)
    return _draw_matrix(rows, cols, layout)


def _draw_matrix(rows, cols, layout):
    rng = _rng(3)
    if layout == "C":
        return rng.random((rows, cols), dtype=np.float32)
    if layout == "F":
        return rng.random((cols, rows), dtype=np.float32).T
    raise ValueError(f"unknown layout {layout!r}: expected 'C' or 'F'")


def _cached_matrix(folder, rows, cols, layout):
    """The same bits as _draw_matrix, read into this process's own (anonymous) memory from a
    file the first process to need them wrote."""
    path = os.path.join(folder, f"uniform-{SEED}-{rows}x{cols}-{layout}.npy")
    if not os.path.isfile(path):
        array = _draw_matrix(rows, cols, layout)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(array) if layout == "C" else array.T)
        os.replace(tmp, path)
        return array
    stored = np.load(path)  # C order: the F array was drawn transposed and is viewed back
    return stored if layout == "C" else stored.T


def usable_cores():
    """Cores this process may run on (its affinity where the OS has one; macOS has none)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parse_shape(shape):
    """'25000x100' -> (25000, 100)."""
    rows, _, cols = shape.partition("x")
    return int(rows), int(cols)


def require_device(device):
    """Skip (asv's NotImplementedError) when `device` cannot run here."""
    if device == "cpu":
        return
    if device != "cuda":
        raise ValueError(f"unknown device {device!r}: expected one of {DEVICES}")
    import torch

    if not torch.cuda.is_available():
        raise NotImplementedError("cuda is not available on this machine")


def synchronizer(device):
    """A callable that waits for queued device work: a no-op on cpu."""
    if device == "cuda":
        import torch

        return torch.cuda.synchronize
    return _no_op


def _no_op():
    pass


def to_torch(array, device):
    """A torch tensor with `array`'s data and strides on `device` (no copy on cpu)."""
    import torch

    tensor = torch.from_numpy(array)
    if device == "cpu":
        return tensor
    # .to() keeps a non-contiguous (Fortran) layout's strides: preserve_format.
    tensor = tensor.to(device)
    torch.cuda.synchronize()
    return tensor
