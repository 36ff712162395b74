"""A better kernel or more cores? The multi-threaded sums with one thread and with all cores.

torch and numba's `prange` use every core by default; Sum.time_sum times them that way. Here
the thread count is a parameter, so a reader can set the one-thread figure beside
numba_loop_fastmath and np.sum (both single-threaded).
"""
from .base import Benchmark
from .common import uniform_vector, usable_cores
from .impls import SUMS, prepare_sum

ALL_CORES = usable_cores()
THREADED_SUMS = ["torch_tensor", "numba_prange"]


def set_threads(impl, threads):
    if impl == "torch_tensor":
        import torch

        torch.set_num_threads(threads)
    else:
        import numba

        if threads > numba.config.NUMBA_NUM_THREADS:
            raise NotImplementedError(f"numba was started with "
                                      f"{numba.config.NUMBA_NUM_THREADS} threads")
        numba.set_num_threads(threads)


class SumThreads(Benchmark):
    params = [[1_000_000, 10_000_000, 100_000_000], THREADED_SUMS, sorted({1, ALL_CORES})]
    param_names = ["size", "impl", "threads"]
    implementations = SUMS

    @staticmethod
    def prepare(size, impl, threads):
        set_threads(impl, threads)
        return prepare_sum(impl, uniform_vector(size))

    def time_sum(self, size, impl, threads):
        self.run()
