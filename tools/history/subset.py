"""Named subsets of cases that a release history runs.

`seed`: every case of the seed notebook on cpu: Sum at each size with its six
implementations, AxisSum rows and cols of every shape in C layout for numpy and torch, GELU
eager and compiled at each size (default allocator). `tiny`: two 100-element sums, numba and
numpy, for the tests. A case is (benchmark, params as asv writes them).
"""
import itertools
import re

SEED_SUMS = ["numba_loop", "numba_np_sum", "numpy_sum", "torch_from_numpy", "python_loop",
             "python_builtin"]
SUM_SIZES = [100, 10_000, 1_000_000, 10_000_000]
SHAPES = ["100x100", "1000x1000", "10000x10000", "25000x25000", "100000x100", "100x100000"]
GELU_SIZES = [1_000, 100_000, 1_000_000, 10_000_000]

SUM = "bench_sum.Sum.time_sum"
AXIS_SUM = "bench_axis_sum.AxisSum.time_axis_sum"
GELU = "bench_gelu.Gelu.time_gelu"


def _q(value):
    return f"'{value}'"  # asv writes string parameters with their quotes


def _seed():
    cases = [(SUM, (str(size), _q(impl), _q("cpu")))
             for size, impl in itertools.product(SUM_SIZES, SEED_SUMS)]
    cases += [(AXIS_SUM, (_q(shape), _q("C"), _q(axis), _q(lib), _q("cpu")))
              for shape, axis, lib in itertools.product(SHAPES, ["rows", "cols"],
                                                        ["numpy", "torch"])]
    cases += [(GELU, (str(size), _q(mode), _q("cpu"), _q("default")))
              for size, mode in itertools.product(GELU_SIZES, ["eager", "compiled"])]
    return cases


SUBSETS = {
    "seed": _seed(),
    "tiny": [(SUM, ("100", _q("numba_loop"), _q("cpu"))),
             (SUM, ("100", _q("numpy_sum"), _q("cpu")))],
}


def case_name(benchmark, params):
    """asv's name of one parameter combination: "bench_sum.Sum.time_sum(100, 'numba_loop', 'cpu')"."""
    return f"{benchmark}({', '.join(params)})"


def short_name(benchmark, params):
    """Without the module: "Sum.time_sum(100, 'numba_loop', 'cpu')"."""
    return case_name(benchmark.split(".", 1)[1], params)


def bench_regexes(cases):
    """asv --bench arguments selecting exactly these cases."""
    return [f"^{re.escape(case_name(b, p))}$" for b, p in cases]


PARAM_NAMES = {
    SUM: ["size", "impl", "device"],
    AXIS_SUM: ["shape", "layout", "axis", "library", "device"],
    GELU: ["size", "mode", "device", "malloc"],
}


def case_values(benchmark, params):
    """{param name: value without quotes}: what benchmarks.impls.libraries_of_case reads."""
    return {name: value.strip("'") for name, value in zip(PARAM_NAMES[benchmark], params)}
