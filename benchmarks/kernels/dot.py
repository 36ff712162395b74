"""Dot product of two float32 vectors: NumPy (BLAS sdot), a numba loop, torch.dot.

The example of a kernel in one file. `layout` asks whether the implementations still vectorise
when the inputs are not contiguous: `strided` takes every second element of arrays twice as
long (the same values' count, twice the memory traffic per element).
"""
import numpy as np
from numba import njit

from . import on_cpu, torch_op
from ..impls import U32, Impl, error_bound

SIZES = [1_000, 100_000, 1_000_000, 10_000_000]
LAYOUTS = ["contiguous", "strided"]
COUNT_SIZES = [1_000, 100_000]


def make_inputs(rng, size, layout):
    if layout == "contiguous":
        return rng.random(size, dtype=np.float32), rng.random(size, dtype=np.float32)
    # strided: views of every second element (no copy), as a column of a matrix would be
    return rng.random(2 * size, dtype=np.float32)[::2], rng.random(2 * size, dtype=np.float32)[::2]


def reference(x, y):
    return float(np.dot(x.astype(np.float64), y.astype(np.float64)))


def tolerance(impl, size):
    # every product x[i] * y[i] is rounded to float32 (one unit) before it is added
    return error_bound(IMPLS[impl].accumulation, size) + U32


@njit
def _numba_dot(x, y):
    # float64 accumulator, strict order: one dependent add after another, as the seed's loop
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i] * y[i]
    return total


@njit(fastmath=True)
def _numba_dot_fastmath(x, y):
    # reassociation allowed: LLVM vectorises the multiply-adds
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i] * y[i]
    return total


# Accumulations as measured against the float64 reference: BLAS sdot keeps a few float32 SIMD
# accumulators (no pairwise tree), and torch.dot on strided input adds one element at a time
# in float32 (10M strided: 3e-3 relative error): both get the sequential bound.
IMPLS = {
    "numpy": Impl(on_cpu(np.dot), ("numpy",), "float32 sequential"),
    "numba_loop": Impl(on_cpu(_numba_dot), ("numba",), "float64 sequential"),
    "numba_fastmath": Impl(on_cpu(_numba_dot_fastmath), ("numba",), "float64 sequential"),
    "torch": Impl(torch_op(lambda torch, x, y: torch.dot(x, y)), ("torch",), "float32 sequential",
                  devices=("cpu", "cuda"), threads="multi"),
}
