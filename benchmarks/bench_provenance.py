"""What produced the numbers: thread counts as seen inside the benchmark process itself.

The libraries run with their default thread counts (as the seed did); recording them here
keeps them in every result file, next to the timings they explain.
"""
from .common import usable_cores


class ThreadCounts:
    unit = "threads"

    def track_torch_threads(self):
        import torch

        return torch.get_num_threads()

    def track_numba_threads(self):
        import numba

        return numba.get_num_threads()

    def track_cpu_count(self):
        return usable_cores()
