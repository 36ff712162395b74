"""The benchmark methods the reports read, named from the benchmark classes themselves: a
rename in benchmarks/ fails here at import, instead of leaving a report's table silently
empty. Names are as rows.RowIndex keys them: 'Sum.time_sum' (class.method, no module)."""
from benchmarks.bench_accuracy import Accuracy
from benchmarks.bench_axis_sum import AxisSum
from benchmarks.bench_bandwidth import GeluBandwidth, GeluCompute, ReadBandwidth
from benchmarks.bench_codegen import GeluCodegen, NumbaCodegen
from benchmarks.bench_compile import StartupCosts
from benchmarks.bench_gelu import Gelu
from benchmarks.bench_memory import SumMemory
from benchmarks.bench_sum import Sum, SumResidency
from benchmarks.bench_threads import SumThreads


def name(method):
    """'Sum.time_sum' of Sum.time_sum."""
    return method.__qualname__


SUM = name(Sum.time_sum)
SUM_RESIDENCY = name(SumResidency.time_sum)
SUM_THREADS = name(SumThreads.time_sum)
SUM_MEMORY = name(SumMemory.track_peak_extra_bytes)
AXIS_SUM = name(AxisSum.time_axis_sum)
GELU = name(Gelu.time_gelu)
ACCURACY = name(Accuracy.track_relative_error)
NUMBA_ADDS = name(NumbaCodegen.track_float_add_instructions)
GELU_KERNELS = name(GeluCodegen.track_kernels_per_call)
GELU_COMPUTE = name(GeluCompute.track_gelements_per_second)
GELU_PERCENT_OF_COMPUTE = name(GeluBandwidth.track_percent_of_compute)
GELU_PERCENT_OF_COPY = name(GeluBandwidth.track_percent_of_copy)
READ_GBPS = name(ReadBandwidth.track_gbps)
# Each bandwidth table's (GB/s, % of its ceiling, warm-up calls), by the class that measured it.
BANDWIDTH = {
    "ReadBandwidth": (READ_GBPS, name(ReadBandwidth.track_percent_of_ceiling),
                      name(ReadBandwidth.track_warm_up_calls)),
    "GeluBandwidth": (name(GeluBandwidth.track_gbps), GELU_PERCENT_OF_COPY,
                      name(GeluBandwidth.track_warm_up_calls)),
}


def startup(key):
    """'StartupCosts.timeraw_import_numba' for key 'import_numba'."""
    return name(getattr(StartupCosts, f"timeraw_{key}"))
