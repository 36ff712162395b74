"""Seed 1.2: row vs column sums of a float32 matrix, in both memory layouts.

The seed's "rows faster by" ratio is time(cols) / time(rows) at equal shape, layout, library
and device: `python -m tools report headline` prints it from the results.
"""
from .base import Benchmark
from .common import DEVICES, parse_shape, uniform_matrix
from .impls import AXIS_LIBRARIES, AXIS_SUMS, prepare_axis_sum

SHAPES = ["100x100", "1000x1000", "10000x10000", "25000x25000", "100000x100", "100x100000"]


class AxisSum(Benchmark):
    params = [SHAPES, ["C", "F"], ["rows", "cols"], AXIS_LIBRARIES, DEVICES]
    param_names = ["shape", "layout", "axis", "library", "device"]
    implementations, impl_param = AXIS_SUMS, "library"

    @staticmethod
    def prepare(shape, layout, axis, library, device):
        # The 25000x25000 matrix (2.5 GB) is drawn once per process, never per sample.
        return prepare_axis_sum(library, uniform_matrix(*parse_shape(shape), layout), axis,
                                device)

    def time_axis_sum(self, shape, layout, axis, library, device):
        self.run()
