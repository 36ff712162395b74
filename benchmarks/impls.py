"""Every implementation the suite times, defined once.

Each ``prepare_*`` function returns a zero-argument callable with its input bound, already
compiled and warmed up, and synchronised on cuda: calling it performs exactly the operation
being measured and nothing else.
"""
from functools import partial

import numpy as np
from numba import njit, prange

from .common import synchronizer, to_torch

# ---------------------------------------------------------------------------------------------
# 1. Sum of a float32 vector (seed 1.1)


@njit
def _numba_loop(x):
    # The seed's loop. `total` is a float64 accumulator (0.0 is a float64 literal); strict IEEE
    # ordering forces one dependent add after another, so LLVM cannot use SIMD lanes.
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
    return total


@njit(fastmath=True)
def _numba_loop_fastmath(x):
    # Same loop; fastmath lets LLVM reassociate the adds, so it vectorises and unrolls.
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
    return total


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


_NUMPY_INPUT_SUMS = {
    "numba_loop": _numba_loop,
    "numba_loop_fastmath": _numba_loop_fastmath,
    "numba_prange": _numba_prange,
    "numba_np_sum": _numba_np_sum,
    "numpy_sum": _numpy_sum,
    "python_loop": _python_loop,
    "python_builtin": _python_builtin,
}
_TORCH_SUMS = {
    "torch_from_numpy": _torch_from_numpy,
    "torch_tensor": _torch_tensor,
}
SUM_IMPLS = [*_NUMPY_INPUT_SUMS, *_TORCH_SUMS]
# The seed notebook's six, by its names.
SEED_SUM_NAMES = {
    "numba_loop": "Numba Iterative",
    "numpy_sum": "NumPy",
    "numba_np_sum": "NumPy with Numba",
    "torch_from_numpy": "PyTorch",
    "python_loop": "Python Iterative",
    "python_builtin": "Python Built-in",
}


def sum_devices(impl):
    """The devices `impl` can run on."""
    check_choice("impl", impl, SUM_IMPLS)
    return ["cpu", "cuda"] if impl in _TORCH_SUMS else ["cpu"]


def prepare_sum(impl, x, device="cpu"):
    """A warmed-up callable that sums the float32 vector `x` with `impl` on `device`."""
    if device not in sum_devices(impl):
        raise NotImplementedError(f"{impl} runs on cpu only")
    if impl in _TORCH_SUMS:
        run = _TORCH_SUMS[impl](x, device)
    else:
        # partial is called in C: no extra Python frame inside sub-microsecond timings.
        run = partial(_NUMPY_INPUT_SUMS[impl], x)

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
_SQRT_2 = 1.41421  # the seed's constant, kept so eager and compiled compute the same thing


def gelu_composed(x):
    """The seed's formula; eager torch runs it as five separate element-wise kernels."""
    import torch

    return x * 0.5 * (1.0 + torch.erf(x / _SQRT_2))


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
