"""Seed 2: GELU as composed eager torch ops vs the same code under torch.compile (one fused
kernel) vs torch.nn.functional.gelu (one hand-written ATen kernel)."""
from .base import Benchmark
from .common import DEVICES, normal_vector
from .impls import GELU_MODES, prepare_gelu


class Gelu(Benchmark):
    params = [[1_000, 100_000, 1_000_000, 10_000_000], GELU_MODES, DEVICES]
    param_names = ["size", "mode", "device"]

    @staticmethod
    def prepare(size, mode, device):
        # torch.compile compiles here, once per process and shape, not in the timer.
        return prepare_gelu(mode, normal_vector(size), device)

    def time_gelu(self, size, mode, device):
        self.run()
