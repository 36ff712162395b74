"""How accurate each sum is: relative error against an exactly rounded reference.

At 10M float32 elements, on the suite's uniform [0, 1) data and on an adversarial input where
every element is 0.1: a sequential float32 accumulator stalls once the total is large
(adding 0.1 to ~2e6 loses most of its bits) and ends ~9 % off, while pairwise (NumPy) or
float64 accumulation stays near float32's rounding unit.
"""
import math
from functools import lru_cache

import numpy as np

from .common import uniform_matrix, uniform_vector
from .impls import AXIS_LIBRARIES, SUMS, prepare_axis_sum, prepare_sum

SIZE = 10_000_000
DATA = ["uniform", "all_0.1"]


@lru_cache(maxsize=1)
def vector(data):
    if data == "uniform":
        return uniform_vector(SIZE)
    if data == "all_0.1":
        return np.full(SIZE, 0.1, dtype=np.float32)
    raise ValueError(f"unknown data {data!r}: expected one of {DATA}")


def exact_sum(x):
    """math.fsum: the correctly rounded sum of the float32 values (as float64)."""
    return math.fsum(x.tolist())


def relative_error(value, reference):
    return abs(float(value) - reference) / abs(reference)


class Accuracy:
    params = [DATA, list(SUMS)]
    param_names = ["data", "impl"]
    unit = "relative error"
    timeout = 300

    def setup(self, data, impl):
        self.run = prepare_sum(impl, vector(data))
        self.reference = exact_sum(vector(data))

    def track_relative_error(self, data, impl):
        return relative_error(self.run(), self.reference)


class AxisAccuracy:
    """Largest relative error over the sums of a 1000x10000 matrix, per layout and axis."""
    params = [["C", "F"], ["rows", "cols"], AXIS_LIBRARIES]
    param_names = ["layout", "axis", "library"]
    unit = "relative error"

    def setup(self, layout, axis, library):
        a = uniform_matrix(1000, 10_000, layout)
        self.run = prepare_axis_sum(library, a, axis)
        # float64 sums of the float32 values: error ~1e-16, far below float32's ~1e-7
        self.reference = a.astype(np.float64).sum(axis=-1 if axis == "rows" else 0)

    def track_max_relative_error(self, layout, axis, library):
        result = np.asarray(self.run(), dtype=np.float64)
        return float(np.max(np.abs(result - self.reference) / np.abs(self.reference)))
