"""Evidence for the mechanisms, read from the code the compilers generated on this machine.

- numba: the x86 machine code of the seed's loop, plain and with fastmath, counted by kind of
  float add: packed (addps/addpd: several lanes per instruction, SIMD) or scalar (addss/addsd:
  one lane). Strict IEEE order leaves the plain loop scalar; fastmath lets LLVM vectorise.
- GELU: kernels run per call, counted by torch.profiler the same way for every mode. Eager
  torch dispatches one kernel per operator of the formula; torch.compile (inductor) generates
  one fused C++ loop; F.gelu is one ATen kernel.
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


# Profiler events that move no tensor data of their own: allocation, views, dtype wrappers
# (a data copy underneath shows up as its own aten::copy_ event).
NON_COMPUTE = {"aten::empty", "aten::empty_like", "aten::empty_strided", "aten::view",
               "aten::as_strided", "aten::reshape", "aten::detach", "aten::alias",
               "aten::resize_", "aten::to", "aten::_to_copy", "aten::lift_fresh"}


def _inductor_kernel(name):
    return "cpp_fused" in name or name.startswith("triton_") or "_triton_" in name


def profiled_kernels(func, x):
    """Kernels one call of `func(x)` runs, counted one way for every mode by torch.profiler:
    on cuda, the device kernels it launches; on cpu, the innermost events that compute over
    x's elements: an ATen operator with an input of x's size (not an allocation or a view),
    or a kernel inductor generated (recorded when compiled with cpp.enable_kernel_profile).
    An operator that only delegates to another counted one is not counted twice."""
    import math

    import torch
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    on_cuda = x.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with profile(activities=activities, record_shapes=True) as prof:
        func(x)
        if on_cuda:
            torch.cuda.synchronize()
    events = prof.events()
    if on_cuda:
        return sum(e.device_type == DeviceType.CUDA for e in events)

    def computes(e):
        if _inductor_kernel(e.name):
            return True
        return (e.name.startswith("aten::") and e.name not in NON_COMPUTE and
                any(s and math.prod(s) == x.numel() for s in e.input_shapes))

    counted = {id(e) for e in events if computes(e)}

    def counted_below(e):
        return any(id(c) in counted or counted_below(c) for c in e.cpu_children)

    return sum(1 for e in events if id(e) in counted and not counted_below(e))


def compile_for_profiling(func):
    """torch.compile with inductor's C++ kernels named in the profiler (config read when the
    kernel is generated, so the first call must happen inside the patch)."""
    import torch
    import torch._inductor.config as inductor_config

    compiled = torch.compile(func, dynamic=False)
    if not hasattr(inductor_config.cpp, "enable_kernel_profile"):
        raise NotImplementedError("this torch cannot name inductor's kernels in the profiler")

    def first_call(x):
        with inductor_config.patch({"cpp.enable_kernel_profile": True}):
            return compiled(x)

    return compiled, first_call


class GeluCodegen:
    params = [impls.GELU_MODES]
    param_names = ["mode"]
    unit = "kernels"
    timeout = 300

    def setup(self, mode):
        import torch

        self.x = torch.ones(1024)
        if mode == "eager":
            self.func = impls.gelu_composed
        elif mode == "functional":
            self.func = torch.nn.functional.gelu
        else:
            self.func, first_call = compile_for_profiling(impls.gelu_composed)
            try:
                first_call(self.x)
            except torch._dynamo.exc.BackendCompilerFailed as exc:
                raise NotImplementedError("torch.compile cannot compile here") from exc
        self.func(self.x)  # warm: nothing lazy inside the profiled call

    def track_kernels_per_call(self, mode):
        return profiled_kernels(self.func, self.x)
