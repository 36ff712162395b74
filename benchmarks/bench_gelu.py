"""Seed 2: GELU as composed eager torch ops vs the same code under torch.compile (one fused
kernel) vs torch.nn.functional.gelu (one hand-written ATen kernel)."""
from functools import lru_cache

from .common import DEVICES, normal_vector, require_device
from .impls import GELU_MODES, prepare_gelu


@lru_cache(maxsize=1)
def _prepared(size, mode, device):
    # Once per process and shape: torch.compile compiles here, not in the timer.
    return prepare_gelu(mode, normal_vector(size), device)


class Gelu:
    params = [[1_000, 100_000, 1_000_000, 10_000_000], GELU_MODES, DEVICES]
    param_names = ["size", "mode", "device"]
    timeout = 300  # a cold inductor cache compiles for several seconds

    def setup(self, size, mode, device):
        require_device(device)
        self.run = _prepared(size, mode, device)

    def time_gelu(self, size, mode, device):
        self.run()
