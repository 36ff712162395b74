"""The user kernels of benchmarks/kernels/, one asv class each, built from the kernel's file:
`bench_kernels.Dot.time_dot(size, layout, impl, device)` for `kernels/dot.py`."""
from .base import Benchmark
from .common import DEVICES
from .kernels import load_kernels


def kernel_benchmark(kernel):
    """The asv class of one kernel: its sizes, layouts and implementations on every device."""

    def prepare(size, layout, impl, device):
        return kernel.prepare(impl, size, layout, device)

    def time_kernel(self, size, layout, impl, device):
        self.run()

    return type(kernel.class_name, (Benchmark,), {
        "__doc__": kernel.doc, "__module__": __name__,
        "params": [list(kernel.sizes), list(kernel.layouts), list(kernel.impls), DEVICES],
        "param_names": ["size", "layout", "impl", "device"],
        "prepare": staticmethod(prepare), kernel.method: time_kernel,
        "implementations": kernel.impls, "kernel": kernel,
    })


for _kernel in load_kernels().values():
    globals()[_kernel.class_name] = kernel_benchmark(_kernel)
