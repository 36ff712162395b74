"""Evidence for the mechanisms, read from the code the compilers generated on this machine.

- numba: the x86 machine code of the seed's loop, plain and with fastmath, counted by kind of
  float add: packed (addps/addpd: several lanes per instruction, SIMD) or scalar (addss/addsd:
  one lane). Strict IEEE order leaves the plain loop scalar; fastmath lets LLVM vectorise.
- GELU: kernels run per call. Eager torch dispatches one kernel per operator of the formula;
  torch.compile (inductor) generates one fused C++ loop; F.gelu is one ATen kernel.
"""
import platform
import re

import numpy as np

from . import impls

ADD_PATTERNS = {
    "packed": re.compile(r"^\s*v?addp[sd]\b", re.M),
    "scalar": re.compile(r"^\s*v?adds[sd]\b", re.M),
}
NUMBA_LOOPS = {"numba_loop": impls._numba_loop,
               "numba_loop_fastmath": impls._numba_loop_fastmath}


def float_adds(func, kind):
    """Float add instructions of `kind` in the machine code numba generated for float32[::1]."""
    func(np.ones(16, dtype=np.float32))  # compile for the signature the benchmarks use
    asm = func.inspect_asm(func.signatures[0])
    return len(ADD_PATTERNS[kind].findall(asm))


class NumbaCodegen:
    params = [list(NUMBA_LOOPS), list(ADD_PATTERNS)]
    param_names = ["impl", "add"]
    unit = "instructions"

    def setup(self, impl, add):
        if platform.machine() not in ("x86_64", "AMD64"):
            raise NotImplementedError("the instruction names counted are x86's")

    def track_float_add_instructions(self, impl, add):
        return float_adds(NUMBA_LOOPS[impl], add)


def eager_kernels(func, x):
    """Operators dispatched by one eager call (each runs its own kernel on cpu)."""
    from torch.overrides import TorchFunctionMode

    calls = []

    class Count(TorchFunctionMode):
        def __torch_function__(self, op, types, args=(), kwargs=None):
            calls.append(op)
            return op(*args, **(kwargs or {}))

    with Count():
        func(x)
    return len(calls)


def inductor_kernels(func, x):
    """Kernels in the code inductor generated for `func` (compiled on this call)."""
    import torch
    from torch._inductor.utils import run_and_get_code

    _, sources = run_and_get_code(torch.compile(func, dynamic=False), x)
    return len(set(re.findall(r"^(\w+) = async_compile\.\w+\(", "\n".join(sources), re.M)))


class GeluCodegen:
    params = [impls.GELU_MODES]
    param_names = ["mode"]
    unit = "kernels"
    timeout = 300

    def setup(self, mode):
        import torch

        self.x = torch.ones(1024)

    def track_kernels_per_call(self, mode):
        import torch

        if mode == "eager":
            return eager_kernels(impls.gelu_composed, self.x)
        if mode == "functional":
            return eager_kernels(torch.nn.functional.gelu, self.x)
        try:
            return inductor_kernels(impls.gelu_composed, self.x)
        except torch._dynamo.exc.BackendCompilerFailed as exc:
            raise NotImplementedError("torch.compile cannot compile here") from exc
