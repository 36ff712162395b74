"""asv benchmarks: the seed notebook's experiments (sum, axis sum, GELU) as asv classes."""
import os

from .runner_compat import batch_like_timeit

# Before asv times anything in this process (the forkserver imports this package first).
batch_like_timeit()

# asv's forkserver imports the benchmark modules once and forks one process per parameter
# combination from it; importing torch here (no benchmark module does at module level) makes
# every forked process start with it loaded instead of importing it again (~1 s each).
# ARRAY_OP_BENCH_PRELOAD=0 turns it off, to measure what it saves.
if os.environ.get("ARRAY_OP_BENCH_PRELOAD", "1") != "0":
    try:
        import torch  # noqa: F401
    except ImportError:  # a numba/numpy-only environment: torch cases skip
        pass
