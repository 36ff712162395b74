"""Seed 2: GELU as composed eager torch ops vs the same code under torch.compile (one fused
kernel) vs torch.nn.functional.gelu (one hand-written ATen kernel).

`malloc` separates fusion from the allocator: with glibc's default, every output above its
mmap threshold (32 MB at most: the 10M size) is a fresh mapping, page-faulted on every call,
and eager GELU allocates five of them per call where the fused kernel allocates one. With
`keep_heap` freed blocks are reused, so the ratio eager/compiled is what fusion buys alone.
"""
from .bandwidth import MALLOC_MODES, MMAP_THRESHOLD_MAX, set_malloc_mode, warm_up
from .base import Benchmark
from .common import DEVICES, normal_vector
from .impls import GELU_MODES, GELUS, prepare_gelu


class Gelu(Benchmark):
    params = [[1_000, 100_000, 1_000_000, 10_000_000], GELU_MODES, DEVICES, MALLOC_MODES]
    param_names = ["size", "mode", "device", "malloc"]
    implementations, impl_param = GELUS, "mode"

    @staticmethod
    def prepare(size, mode, device, malloc):
        if malloc != "default":
            if device != "cpu":
                raise NotImplementedError("malloc applies to host memory: cpu only")
            if 4 * size < MMAP_THRESHOLD_MAX:
                raise NotImplementedError("outputs below glibc's mmap threshold: same as default")
        set_malloc_mode(malloc)  # before this process allocates the arrays timed
        # torch.compile compiles here, once per process and shape, not in the timer.
        run = prepare_gelu(mode, normal_vector(size), device)
        if malloc == "keep_heap":
            warm_up(run)  # the first calls still grow the heap: wait until steady
        return run

    def time_gelu(self, size, mode, device, malloc):
        self.run()
