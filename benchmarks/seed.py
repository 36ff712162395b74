"""The seed notebook's measurements (its own machine), quoted beside ours for comparison only.

Keys are the suite's names: implementation ids of `impls.SUMS`, libraries and shapes of
`AxisSum`, GELU modes. Nothing here is used to compute a result.
"""

# Sum of 10M float32, seconds. The seed's ranking is this dict sorted by time.
SUM_10M = {
    "torch_from_numpy": 1.257e-3, "numpy_sum": 2.404e-3, "numba_loop": 7.988e-3,
    "numba_np_sum": 8.021e-3, "python_builtin": 0.826637, "python_loop": 1.135897,
}
# The seed's ranking at 10M in tiers, fastest first: a claim about the order of tiers, not
# within one (the numba pair is 0.4 % apart in the seed; the two Python sums are both ~1000x
# slower than the rest, their order is not what the notebook argues).
SUM_10M_TIERS = [["torch_from_numpy"], ["numpy_sum"], ["numba_loop", "numba_np_sum"],
                 ["python_builtin", "python_loop"]]
# (library, shape) -> the seed's time(cols) / time(rows), C layout
ROWS_FASTER = {
    ("torch", "25000x25000"): 3.58, ("torch", "10000x10000"): 1.79,
    ("torch", "1000x1000"): 1.13, ("torch", "100x100"): 0.92,
    ("torch", "100000x100"): 2.18, ("torch", "100x100000"): 1.60,
    ("numpy", "25000x25000"): 1.02, ("numpy", "10000x10000"): 0.99,
    ("numpy", "1000x1000"): 0.73, ("numpy", "100x100"): 1.01,
    ("numpy", "100000x100"): 1.04, ("numpy", "100x100000"): 0.94,
}
# GELU of 10M float32, seconds
GELU_10M = {"compiled": 0.016426, "eager": 0.055672}


def sum_ranking():
    """The seed's implementations at 10M, fastest first."""
    return sorted(SUM_10M, key=SUM_10M.get)
