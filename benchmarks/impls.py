"""Every implementation the suite times, defined once.

Each ``prepare_*`` function returns a zero-argument callable with its input bound, already
compiled and warmed up, and synchronised on cuda: calling it performs exactly the operation
being measured and nothing else.
"""
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
from numba import njit, prange

from .common import synchronizer, to_torch
from .kernels import gelu_composed, seed_loop

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
class SumImpl:
    """One way to sum a float32 vector: everything the suite, tests and reports need of it."""
    factory: Callable  # (x, device) -> zero-argument callable that sums x
    libraries: tuple  # whose code runs in the timed call (a release comparison's controls
    #                   are the cases that do not run the library that changed)
    accumulation: str  # one of ACCUMULATIONS: decides the error bound the tests allow
    seed_name: str = None  # the seed notebook's name for it, if the seed has it
    devices: tuple = ("cpu",)


ACCUMULATIONS = ("float64 sequential", "float32 sequential", "float32 blocked")

# The registry. Adding an implementation here adds it to every Sum benchmark, the accuracy
# and memory families, the tests' float64 check and the findings report.
SUMS = {
    "numba_loop": SumImpl(_on_cpu(_numba_loop), ("numba",), "float64 sequential",
                          "Numba Iterative"),
    "numba_loop_fastmath": SumImpl(_on_cpu(_numba_loop_fastmath), ("numba",),
                                   "float64 sequential"),  # reassociated, still float64 adds
    "numba_prange": SumImpl(_on_cpu(_numba_prange), ("numba",),
                            "float64 sequential"),  # per-thread float64 partial sums
    "numba_np_sum": SumImpl(_on_cpu(_numba_np_sum), ("numba",), "float32 sequential",
                            "NumPy with Numba"),
    "numpy_sum": SumImpl(_on_cpu(_numpy_sum), ("numpy",), "float32 blocked", "NumPy"),
    # 0.0 + np.float32 is float32 under NumPy 2 (NEP 50): float32 accumulation
    "python_loop": SumImpl(_on_cpu(_python_loop), ("numpy",), "float32 sequential",
                           "Python Iterative"),
    "python_builtin": SumImpl(_on_cpu(_python_builtin), ("numpy",), "float32 sequential",
                              "Python Built-in"),
    "torch_from_numpy": SumImpl(_torch_from_numpy, ("torch",), "float32 blocked", "PyTorch",
                                ("cpu", "cuda")),
    "torch_tensor": SumImpl(_torch_tensor, ("torch",), "float32 blocked", None, ("cpu", "cuda")),
}
def libraries_of_case(values):
    """The libraries whose code a case of Sum, AxisSum or Gelu runs, from its parameters
    ({'impl': ..., 'library': ..., 'mode': ...}); None where the case is none of those."""
    if values.get("impl") in SUMS:
        return SUMS[values["impl"]].libraries
    if values.get("library") in AXIS_LIBRARIES:
        return (values["library"],)
    if values.get("mode") in GELU_MODES:
        return ("torch",)
    return None


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

AXIS_LIBRARIES = ["numpy", "torch"]
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

GELU_MODES = ["eager", "compiled", "functional"]


def prepare_gelu(mode, x, device="cpu"):
    """A warmed-up callable applying GELU in `mode` to the float32 vector `x` on `device`."""
    check_choice("mode", mode, GELU_MODES)
    import torch

    tensor = to_torch(x, device)
    sync = synchronizer(device)
    if mode == "eager":
        func = gelu_composed
    elif mode == "compiled":
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
        reason = str(exc).strip().splitlines()[0]
        raise NotImplementedError(f"torch.compile cannot compile here: {reason}") from exc
    return run


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}: expected one of {', '.join(choices)}")
