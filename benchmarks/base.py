"""The one base class of the suite's timed benchmarks (as numpy's `Benchmark`, scipy's
`XPBenchmark`): the timeout, the device skip and the per-process cache of prepared callables.

A subclass declares `params`/`param_names` and a `prepare(*params)` staticmethod that returns
a warmed-up zero-argument callable; its `time_*` method calls `self.run()` and nothing else.
asv starts one process per parameter combination and calls `setup` before every sample, so
the callable is built once per process and reused (runner_compat.py: the same under 0.3.x).
"""
import json
import os
from functools import lru_cache

from . import runner_compat
from .common import require_device
from .slowdown import INJECT_VAR, with_extra_work


def case_name(cls, params):
    """'Sum(10000, numba_loop, cpu)': how the calibration names the cases it slows down."""
    return f"{cls.__name__}({', '.join(map(str, params))})"


@lru_cache(maxsize=1)
def _prepared(cls, params):
    # Once per process: data, compilation and warm-up stay outside every timed call.
    run = cls.prepare(*params)
    # Only `checks.calibration` sets this variable: a known slowdown for its sensitivity
    # runs. No other command sets it, so no stored result ever has extra work in it.
    if os.environ.get(INJECT_VAR):
        fraction = json.loads(os.environ[INJECT_VAR]).get(case_name(cls, params))
        if fraction is not None:
            run = with_extra_work(run, fraction)
    return run


class Benchmark:
    # Drawing a 25000x25000 matrix or a cold torch.compile takes seconds on a slow machine;
    # asv's default of 60 s per benchmark is too tight for the largest cases.
    timeout = 300
    # The registry whose entry a case runs (impls.Impl by name) and the parameter naming it:
    # benchmarks.cases.Case reads which libraries a case runs from here.
    implementations = None
    impl_param = "impl"

    @staticmethod
    def prepare(*params):
        raise NotImplementedError("a benchmark class must define prepare()")

    def setup(self, *params):
        if runner_compat.REFUSAL:
            raise NotImplementedError(runner_compat.REFUSAL)
        device = dict(zip(getattr(self, "param_names", []), params)).get("device")
        if device is not None:
            require_device(device)  # NotImplementedError = asv's skip, with the reason
        self.run = _prepared(type(self), params)
