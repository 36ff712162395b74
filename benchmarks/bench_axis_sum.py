"""Seed 1.2: row vs column sums of a float32 matrix, in both memory layouts.

The seed's "rows faster by" ratio is time(cols) / time(rows) at equal shape, layout, library
and device: `python -m tools.headline` prints it from the results.
"""
from functools import lru_cache

from .common import DEVICES, parse_shape, require_device, uniform_matrix
from .impls import AXIS_LIBRARIES, prepare_axis_sum

SHAPES = ["100x100", "1000x1000", "10000x10000", "25000x25000", "100000x100", "100x100000"]


@lru_cache(maxsize=1)
def _prepared(shape, layout, axis, library, device):
    # Once per process: the 25000x25000 matrix (2.5 GB) is drawn once, never per sample.
    return prepare_axis_sum(library, uniform_matrix(*parse_shape(shape), layout), axis, device)


class AxisSum:
    params = [SHAPES, ["C", "F"], ["rows", "cols"], AXIS_LIBRARIES, DEVICES]
    param_names = ["shape", "layout", "axis", "library", "device"]
    timeout = 300  # drawing 625M random floats takes seconds on a slow machine

    def setup(self, shape, layout, axis, library, device):
        if library == "numpy" and device != "cpu":
            raise NotImplementedError("numpy runs on cpu only")
        require_device(device)
        self.run = _prepared(shape, layout, axis, library, device)

    def time_axis_sum(self, shape, layout, axis, library, device):
        self.run()
