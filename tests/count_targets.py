"""Calls for the instruction-count tests, given to the counter as 'tests.count_targets:NAME'."""
from functools import partial

from numba import njit

from benchmarks.common import uniform_vector
from benchmarks.seed_code import seed_loop as seed_source


def seed_loop(n):
    """The seed's loop jitted afresh and not yet compiled: its first call compiles."""
    return partial(njit(seed_source), uniform_vector(n))
