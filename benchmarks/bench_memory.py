"""Peak memory of one call: how much resident memory a sum or a GELU adds while it runs.

Measured as the kernel sees it, for numpy, numba and torch allocations alike: the process's
high-water mark of resident memory (VmHWM) is reset through /proc/self/clear_refs, one call
runs, and the new high-water mark minus the resident size before the call is reported. The
input already exists (it is not counted); outputs, temporaries and boxed Python objects are.
asv's own peakmem_ would count the whole process instead, input and compiler included.
"""
from .base import Benchmark
from .common import normal_vector, uniform_vector
from .impls import GELU_MODES, SUMS, prepare_gelu, prepare_sum

SIZE = 10_000_000


def _status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise NotImplementedError(f"/proc/self/status has no {field}: not Linux?")


def peak_extra_bytes(run):
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
    except OSError as exc:
        raise NotImplementedError(f"cannot reset the peak RSS here: {exc}") from exc
    before = _status_bytes("VmRSS")
    result = run()
    extra = _status_bytes("VmHWM") - before
    del result
    return max(extra, 0)


class SumMemory(Benchmark):
    params = [list(SUMS)]
    param_names = ["impl"]
    unit = "bytes"

    @staticmethod
    def prepare(impl):
        return prepare_sum(impl, uniform_vector(SIZE))

    def track_peak_extra_bytes(self, impl):
        return peak_extra_bytes(self.run)


class GeluMemory(Benchmark):
    params = [GELU_MODES]
    param_names = ["mode"]
    unit = "bytes"

    @staticmethod
    def prepare(mode):
        return prepare_gelu(mode, normal_vector(SIZE))

    def track_peak_extra_bytes(self, mode):
        return peak_extra_bytes(self.run)
