"""Seed 1.1: summing a float32 vector, six ways from the seed plus the numba variants that
explain its result (fastmath, prange) and torch on a tensor that already exists."""
import itertools
import math

from .base import Benchmark
from .caches import cache_levels, last_level_bytes
from .common import DEVICES, uniform_vector
from .impls import SUMS, check_choice, prepare_sum


class Sum(Benchmark):
    params = [[100, 10_000, 1_000_000, 10_000_000], list(SUMS), DEVICES]
    param_names = ["size", "impl", "device"]
    implementations = SUMS

    @staticmethod
    def prepare(size, impl, device):
        return prepare_sum(impl, uniform_vector(size), device)

    def time_sum(self, size, impl, device):
        self.run()


# The fast implementations: the Python loops take seconds at 10M and read nothing faster.
RESIDENCY_IMPLS = [i for i in SUMS if not i.startswith("python_")]


class SumResidency(Benchmark):
    """The seed's 10M sum re-reads the same 40 MB on every call ('repeated', as Sum.time_sum):
    on a CPU whose last-level cache holds 40 MB that is a cache figure. 'rotating' sums a
    different copy on each call, cycling through copies that together are twice the
    last-level cache (read from sysfs), so every call reads from memory."""
    params = [[10_000_000], RESIDENCY_IMPLS, ["repeated", "rotating"]]
    param_names = ["size", "impl", "data"]
    implementations = SUMS

    @staticmethod
    def prepare(size, impl, data):
        x = uniform_vector(size)
        if data == "repeated":
            return prepare_sum(impl, x)
        check_choice("data", data, ["repeated", "rotating"])
        llc = last_level_bytes(cache_levels()) or 64 * 2**20  # no sysfs: assume 64 MB
        copies = max(2, math.ceil(2 * llc / x.nbytes))
        cycle = itertools.cycle([prepare_sum(impl, x.copy()) for _ in range(copies)])

        def run():
            return next(cycle)()  # ~100 ns of Python against a 10M sum's milliseconds

        return run

    def time_sum(self, size, impl, data):
        self.run()
