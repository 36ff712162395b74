"""User kernels: one file each, `benchmarks/kernels/<name>.py`, and nothing else to touch.

A kernel file defines:

    SIZES = [...]                   # elements per input (the asv `size` parameter)
    LAYOUTS = [...]                 # input layouts it knows (the asv `layout` parameter)
    def make_inputs(rng, size, layout): ...   # a tuple of float32 NumPy arrays
    def reference(*inputs): ...     # the exact answer, computed in float64
    IMPLS = {"numpy": Impl(...), "numba": Impl(...), "torch": Impl(...)}  # see impls.Impl

and optionally COUNT_SIZES (sizes whose instructions are counted; default: the two smallest)
and either RTOL (the relative error allowed against the reference) or a function
`tolerance(impl, size)`; default: the bound of each implementation's declared accumulation
over `size` terms (impls.error_bound). From that file alone the suite derives an asv class (bench_kernels.py:
`bench_kernels.<Name>.time_<name>(size, layout, impl, device)`), the float64 correctness test
(tests/test_kernels.py), the instruction counts (instructions.family_cases) and selection by
name in release pairs and histories (`--kernel <name>`). `on_cpu` and `torch_op` below build
an Impl's factory from a plain function.
"""
import importlib
import pkgutil
import zlib
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable

import numpy as np

from ..common import SEED, synchronizer, to_torch
from ..impls import ACCUMULATIONS, Impl, check_choice, error_bound

REQUIRED = ("SIZES", "LAYOUTS", "make_inputs", "reference", "IMPLS")


class KernelError(ValueError):
    """A kernel file that does not define what the suite needs; the message names the file."""


def on_cpu(func):
    """An Impl factory for a function of NumPy arrays: partial is called in C, so no extra
    Python frame runs inside sub-microsecond timings."""
    return lambda inputs, device: partial(func, *inputs)


def torch_op(func):
    """An Impl factory for `func(torch, *tensors)`: inputs become tensors on the device
    (no copy on cpu) before timing; on cuda each call waits for its result."""

    def factory(inputs, device):
        import torch

        tensors = [to_torch(array, device) for array in inputs]
        sync = synchronizer(device)

        def run():
            result = func(torch, *tensors)
            sync()
            return result

        return run

    return factory


@dataclass(frozen=True)
class Kernel:
    name: str  # the file's name, e.g. "dot"
    doc: str
    sizes: tuple
    layouts: tuple
    make_inputs: Callable
    reference: Callable
    rtol: object  # a float, a function (impl, size) -> float, or None: from the accumulation
    impls: dict  # impl name -> impls.Impl
    count_sizes: tuple

    @property
    def class_name(self):
        """The asv class: 'dot' -> 'Dot', 'soft_max' -> 'SoftMax'."""
        return "".join(part.title() for part in self.name.split("_"))

    @property
    def method(self):
        return f"time_{self.name}"

    def tolerance(self, impl, size):
        """The relative error `impl` may show against the float64 reference at `size`."""
        if callable(self.rtol):
            return self.rtol(impl, size)
        if self.rtol is not None:
            return self.rtol
        return error_bound(self.impls[impl].accumulation, size)

    def inputs(self, size, layout):
        check_choice("layout", layout, list(self.layouts))
        return _inputs(self.name, self.make_inputs, size, layout)

    def prepare(self, impl, size, layout, device="cpu"):
        """A warmed-up callable running `impl` on this kernel's input of `size` and `layout`."""
        check_choice("impl", impl, list(self.impls))
        entry = self.impls[impl]
        if device not in entry.devices:
            raise NotImplementedError(f"{impl} runs on {', '.join(entry.devices)} only")
        run = entry.factory(self.inputs(size, layout), device)
        run()  # Warm up: numba compiles on the first call; torch allocates its pools.
        return run


@lru_cache(maxsize=2)
def _inputs(name, make_inputs, size, layout):
    # One random stream per kernel (by its name), so adding a kernel never shifts another's data.
    rng = np.random.default_rng([SEED, 100, zlib.crc32(name.encode())])
    return tuple(make_inputs(rng, size, layout))


def from_module(name, module):
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise KernelError(f"benchmarks/kernels/{name}.py does not define {', '.join(missing)} "
                          f"(a kernel file needs {', '.join(REQUIRED)})")
    impls = dict(module.IMPLS)
    wrong = [key for key, value in impls.items() if not isinstance(value, Impl)]
    if not impls or wrong:
        raise KernelError(f"benchmarks/kernels/{name}.py: IMPLS must map names to "
                          f"benchmarks.impls.Impl entries ({', '.join(wrong) or 'empty'})")
    sizes = tuple(module.SIZES)
    doc = (module.__doc__ or name).strip()
    rtol = getattr(module, "tolerance", None) or getattr(module, "RTOL", None)
    unbounded = [key for key, impl in impls.items() if impl.accumulation not in ACCUMULATIONS]
    if rtol is None and unbounded:
        raise KernelError(f"benchmarks/kernels/{name}.py: give RTOL, or an accumulation of "
                          f"{', '.join(ACCUMULATIONS)} to {', '.join(unbounded)}")
    return Kernel(name, doc, sizes, tuple(module.LAYOUTS), module.make_inputs,
                  module.reference, rtol if rtol is None or callable(rtol) else float(rtol), impls,
                  tuple(getattr(module, "COUNT_SIZES", sorted(sizes)[:2])))


def load_kernels():
    """Every kernel file of this folder, by name."""
    kernels = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        kernels[info.name] = from_module(info.name, module)
    return kernels


def kernel_names():
    return list(load_kernels())
