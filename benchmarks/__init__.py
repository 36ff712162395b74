"""asv benchmarks: the seed notebook's experiments (sum, axis sum, GELU) as asv classes."""
from .runner_compat import batch_like_timeit

# Before asv times anything in this process (the forkserver imports this package first).
batch_like_timeit()
