"""Seed 1.1: summing a float32 vector, six ways from the seed plus the numba variants that
explain its result (fastmath, prange) and torch on a tensor that already exists."""
from functools import lru_cache

from .common import DEVICES, require_device, uniform_vector
from .impls import SUM_IMPLS, prepare_sum, sum_devices


@lru_cache(maxsize=1)
def _prepared(size, impl, device):
    # Once per process: data, compilation and warm-up stay outside every timed call.
    return prepare_sum(impl, uniform_vector(size), device)


class Sum:
    params = [[100, 10_000, 1_000_000, 10_000_000], SUM_IMPLS, DEVICES]
    param_names = ["size", "impl", "device"]

    def setup(self, size, impl, device):
        if device not in sum_devices(impl):
            raise NotImplementedError(f"{impl} runs on cpu only")
        require_device(device)
        self.run = _prepared(size, impl, device)

    def time_sum(self, size, impl, device):
        self.run()
