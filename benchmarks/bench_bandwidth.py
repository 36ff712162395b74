"""How close each sum and GELU gets to this machine's memory bandwidth (cpu).

`Bandwidth.track_gbps` is the machine's limit (see bandwidth.py); the other classes report an
implementation's achieved GB/s and its percentage of the limit, both measured in one process,
side by side. Bytes counted: a sum reads 4 bytes per element; a GELU reads 4 and writes 4,
and is judged against copy, which moves the same traffic.
"""
from .bandwidth import (BASELINE_KERNELS, MALLOC_MODES, MMAP_THRESHOLD_MAX, SIZES,
                        baseline_kernel, baseline_kernels, gbps, set_malloc_mode, side_by_side)
from .common import normal_vector, uniform_vector
from .impls import GELU_MODES, SUMS, prepare_gelu, prepare_sum

PYTHON_SUMS = ("python_loop", "python_builtin")
PYTHON_MAX_SIZE = 1_000_000  # ~70 ns per element: beyond this a round takes seconds


class Bandwidth:
    params = [SIZES, BASELINE_KERNELS]
    param_names = ["size", "kernel"]
    unit = "GB/s"
    timeout = 300

    def setup(self, size, kernel):
        self.run, self.nbytes = baseline_kernel(kernel, uniform_vector(size))

    def track_gbps(self, size, kernel):
        (seconds,) = side_by_side([self.run])
        return gbps(self.nbytes, seconds)


class SumBandwidth:
    params = [SIZES, list(SUMS)]
    param_names = ["size", "impl"]
    timeout = 300

    def setup(self, size, impl):
        if impl in PYTHON_SUMS and size > PYTHON_MAX_SIZE:
            raise NotImplementedError("python loops beyond 1M elements: see Sum.time_sum")
        x = uniform_vector(size)
        self.run = prepare_sum(impl, x)
        self.nbytes = x.nbytes
        self.x = x

    def track_gbps(self, size, impl):
        (seconds,) = side_by_side([self.run])
        return gbps(self.nbytes, seconds)

    track_gbps.unit = "GB/s"

    def track_percent_of_read(self, size, impl):
        baselines = baseline_kernels("read", self.x)
        times = side_by_side([self.run, *(run for run, _ in baselines)])
        limit = max(gbps(nbytes, t) for (_, nbytes), t in zip(baselines, times[1:]))
        return 100 * gbps(self.nbytes, times[0]) / limit

    track_percent_of_read.unit = "%"


class GeluBandwidth:
    params = [SIZES, GELU_MODES, MALLOC_MODES]
    param_names = ["size", "mode", "malloc"]
    timeout = 600

    def setup(self, size, mode, malloc):
        if malloc != "default" and 4 * size < MMAP_THRESHOLD_MAX:
            raise NotImplementedError("outputs below glibc's mmap threshold: same as default")
        set_malloc_mode(malloc)  # before any array of this process is allocated
        x = normal_vector(size)
        self.run = prepare_gelu(mode, x)
        self.nbytes = 2 * x.nbytes
        self.x = x

    def track_gbps(self, size, mode, malloc):
        (seconds,) = side_by_side([self.run], rounds=3)
        return gbps(self.nbytes, seconds)

    track_gbps.unit = "GB/s"

    def track_percent_of_copy(self, size, mode, malloc):
        baselines = baseline_kernels("copy", self.x)
        times = side_by_side([self.run, *(run for run, _ in baselines)], rounds=3)
        limit = max(gbps(nbytes, t) for (_, nbytes), t in zip(baselines, times[1:]))
        return 100 * gbps(self.nbytes, times[0]) / limit

    track_percent_of_copy.unit = "%"
