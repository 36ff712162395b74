"""Every implementation the suite times, defined once.

Each ``prepare_*`` function returns a zero-argument callable with its input bound, already
compiled and warmed up, and synchronised on cuda: calling it performs exactly the operation
being measured and nothing else.
"""
import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
from numba import njit, prange

from .common import synchronizer, to_torch
from .seed_code import gelu_composed, seed_loop

# ---------------------------------------------------------------------------------------------
# 1. Sum of a float32 vector (seed 1.1)

_numba_loop = njit(seed_loop)  # the seed's loop as the seed ran it
# Same loop; fastmath lets LLVM reassociate the adds, so it vectorises and unrolls.
_numba_loop_fastmath = njit(fastmath=True)(seed_loop)


@njit(parallel=True, fastmath=True)
def _numba_prange(x):
    # prange splits the reduction across numba's threads (default: all cores).
    total = 0.0
    for i in prange(x.shape[0]):
        total += x[i]
    return total


@njit
def _numba_np_sum(x):
    # numba's own np.sum: a sequential loop accumulating in the array's dtype (float32).
    return np.sum(x)


def _numpy_sum(x):
    # Pairwise summation in float32, SIMD inner loops.
    return np.sum(x)


def _python_loop(x):
    total = 0.0
    for value in x:
        total += value
    return total


def _python_builtin(x):
    return sum(x)


def _on_cpu(func):
    """A factory for a function of a NumPy array: partial is called in C, so no extra Python
    frame runs inside sub-microsecond timings."""
    return lambda x, device: partial(func, x)


def _torch_from_numpy(x, device):
    # The seed's semantics: wrap the NumPy array on every call and return a Python float.
    import torch

    if device == "cpu":
        return lambda: torch.sum(torch.from_numpy(x)).item()
    # On cuda the array must first travel to the device; .item() waits for the result.
    return lambda: torch.sum(torch.from_numpy(x).to(device)).item()


def _torch_tensor(x, device):
    # A tensor that already lives on the device; the result stays a 0-d tensor.
    import torch

    tensor = to_torch(x, device)
    sync = synchronizer(device)

    def run():
        result = torch.sum(tensor)
        sync()
        return result

    return run


@dataclass(frozen=True)
class Impl:
    """One implementation of one benchmark family (a sum, an axis sum, a GELU mode, a kernel
    of benchmarks/kernels/): everything the suite, tests, counts and reports need of it."""
    factory: Callable  # (input, device) -> zero-argument callable doing the operation
    libraries: tuple  # whose code runs in the timed call (a release comparison's controls
    #                   are the cases that do not run the library that changed)
    accumulation: str = None  # one of ACCUMULATIONS: decides the error bound the tests allow
    seed_name: str = None  # the seed notebook's name for it, if the seed has it
    devices: tuple = ("cpu",)
    threads: str = "single"  # "multi": uses every core (never instruction-counted as is)


SumImpl = Impl  # the name the sum registry's entries had first

ACCUMULATIONS = ("float64 sequential", "float32 sequential", "float32 blocked")
U32, U64 = 2.0**-24, 2.0**-53  # unit roundoff of float32, float64


def error_bound(accumulation, n):
    """The relative error a sum of n non-negative terms may show, by kind of accumulation."""
    if accumulation == "float64 sequential":
        # Recursive summation: at most (n - 1) u (Higham, Accuracy and Stability, eq. 4.4),
        # + u for rounding the result; the seed's `total = 0.0` is float64 in numba.
        return n * U64 + U64
    if accumulation == "float32 sequential":
        return n * U32 + U32
    check_choice("accumulation", accumulation, ACCUMULATIONS)
    # numpy (pairwise, blocks of 128 in 8 lanes) and torch (cascade sum) add at most ~16
    # elements sequentially per block, then combine blocks in a log2(n)-deep tree.
    return (32 + math.log2(max(n, 1))) * U32

# The registry. Adding an implementation here adds it to every Sum benchmark, the accuracy
# and memory families, the tests' float64 check and the findings report.
SUMS = {
    "numba_loop": SumImpl(_on_cpu(_numba_loop), ("numba",), "float64 sequential",
                          "Numba Iterative"),
    "numba_loop_fastmath": SumImpl(_on_cpu(_numba_loop_fastmath), ("numba",),
                                   "float64 sequential"),  # reassociated, still float64 adds
    "numba_prange": SumImpl(_on_cpu(_numba_prange), ("numba",),
                            "float64 sequential",  # per-thread float64 partial sums
                            threads="multi"),
    "numba_np_sum": SumImpl(_on_cpu(_numba_np_sum), ("numba",), "float32 sequential",
                            "NumPy with Numba"),
    "numpy_sum": SumImpl(_on_cpu(_numpy_sum), ("numpy",), "float32 blocked", "NumPy"),
    # 0.0 + np.float32 is float32 under NumPy 2 (NEP 50): float32 accumulation
    "python_loop": SumImpl(_on_cpu(_python_loop), ("numpy",), "float32 sequential",
                           "Python Iterative"),
    "python_builtin": SumImpl(_on_cpu(_python_builtin), ("numpy",), "float32 sequential",
                              "Python Built-in"),
    "torch_from_numpy": SumImpl(_torch_from_numpy, ("torch",), "float32 blocked", "PyTorch",
                                ("cpu", "cuda"), threads="multi"),
    "torch_tensor": SumImpl(_torch_tensor, ("torch",), "float32 blocked", None, ("cpu", "cuda"),
                            threads="multi"),
}
def sum_devices(impl):
    """The devices `impl` can run on."""
    check_choice("impl", impl, list(SUMS))
    return list(SUMS[impl].devices)


def prepare_sum(impl, x, device="cpu"):
    """A warmed-up callable that sums the float32 vector `x` with `impl` on `device`."""
    if device not in sum_devices(impl):
        raise NotImplementedError(f"{impl} runs on {', '.join(sum_devices(impl))} only")
    run = SUMS[impl].factory(x, device)
    run()  # Warm up: numba compiles on the first call; torch allocates its pools.
    return run


# ---------------------------------------------------------------------------------------------
# 2. Row and column sums of a float32 matrix (seed 1.2)

# The axis sums' registry: one entry per library (prepare_axis_sum builds the callable).
AXIS_SUMS = {
    "numpy": Impl(None, ("numpy",), "float32 blocked", "NumPy"),
    "torch": Impl(None, ("torch",), "float32 blocked", "PyTorch", ("cpu", "cuda"), "multi"),
}
AXIS_LIBRARIES = list(AXIS_SUMS)
_AXIS = {"rows": -1, "cols": 0}  # rows: one sum per row (last dim); cols: one per column


def prepare_axis_sum(library, a, axis, device="cpu"):
    """A warmed-up callable that sums the 2-D array `a` along `axis` ('rows' or 'cols')."""
    check_choice("library", library, AXIS_LIBRARIES)
    check_choice("axis", axis, list(_AXIS))
    dim = _AXIS[axis]
    if library == "numpy":
        if device != "cpu":
            raise NotImplementedError("numpy runs on cpu only")

        def run():
            return np.sum(a, axis=dim)

    else:
        import torch

        tensor = to_torch(a, device)
        sync = synchronizer(device)

        def run():
            result = torch.sum(tensor, dim=dim)
            sync()
            return result

    run()  # Warm up: first-touch allocation of the output, thread pools.
    return run


# ---------------------------------------------------------------------------------------------
# 3. GELU: several element-wise kernels vs one fused kernel (seed 2)

# The GELU modes' registry (prepare_gelu builds the callable); the seed has eager and compiled.
GELUS = {
    "eager": Impl(None, ("torch",), seed_name="eager torch", devices=("cpu", "cuda"),
                  threads="multi"),
    "compiled": Impl(None, ("torch",), seed_name="torch.compile", devices=("cpu", "cuda"),
                     threads="multi"),
    "functional": Impl(None, ("torch",), devices=("cpu", "cuda"), threads="multi"),
}
GELU_MODES = list(GELUS)


def prepare_gelu(mode, x, device="cpu"):
    """A warmed-up callable applying GELU in `mode` to the float32 vector `x` on `device`."""
    check_choice("mode", mode, GELU_MODES)
    import torch

    tensor = to_torch(x, device)
    sync = synchronizer(device)
    if mode == "eager":
        func = gelu_composed
    elif mode == "compiled":
        # Compile in this process: inductor's default starts a pool of compile workers in the
        # background, and while that pool starts (15-20 s of CPU on a 2-core VM, after
        # torch.compile has returned when the kernel came from the cache) it holds the core
        # the kernel's second OpenMP thread needs: 100k elements read 8 ms instead of 0.18
        # (report/mechanisms.md, section 6). A user's process reaches the same steady state
        # once its pool has started and sits idle; the kernel compiled is the same.
        import torch._inductor.config as inductor_config

        inductor_config.compile_threads = 1
        # One compilation for this input's shape; dynamic=False keeps it a static-shape kernel
        # instead of recompiling as a dynamic one when a second size appears.
        func = torch.compile(gelu_composed, dynamic=False)
    else:
        func = torch.nn.functional.gelu  # exact (erf) GELU in one ATen kernel

    def run():
        result = func(tensor)
        sync()
        return result

    try:
        run()  # Warm up: torch.compile compiles here, never inside a timed call.
    except torch._dynamo.exc.BackendCompilerFailed as exc:
        # A missing feature (no C++ compiler for inductor, no Triton for the GPU) is a skip.
        # The first line of the failure itself (inductor wraps it: "backend='inductor'
        # raised:" says nothing), e.g. "ModuleNotFoundError: No module named 'setuptools'".
        inner = getattr(exc, "inner_exception", None) or exc.__cause__ or exc
        lines = [line for line in str(inner).strip().splitlines() if line.strip()]
        reason = lines[0] if lines else type(inner).__name__
        if type(inner).__name__ not in reason:
            reason = f"{type(inner).__name__}: {reason}"
        raise NotImplementedError(f"torch.compile cannot compile here: {reason}") from exc
    return run


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}: expected one of {', '.join(choices)}")
