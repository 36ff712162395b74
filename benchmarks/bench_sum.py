"""Seed 1.1: summing a float32 vector, six ways from the seed plus the numba variants that
explain its result (fastmath, prange) and torch on a tensor that already exists."""
from .base import Benchmark
from .common import DEVICES, uniform_vector
from .impls import SUMS, prepare_sum


class Sum(Benchmark):
    params = [[100, 10_000, 1_000_000, 10_000_000], list(SUMS), DEVICES]
    param_names = ["size", "impl", "device"]

    @staticmethod
    def prepare(size, impl, device):
        return prepare_sum(impl, uniform_vector(size), device)

    def time_sum(self, size, impl, device):
        self.run()
