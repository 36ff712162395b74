"""A known slowdown, for calibrating the release comparison: does it see +5 % or +10 %?

In a calibration run every case of both environments is wrapped the same way, so the
wrapper's own cost cancels in the ratio; the slowed cases then do `fraction` more work per
call, measured against the wrapped call in this process:
- an operation of 100 µs or more keeps the core busy for that extra time after every call
  (spinning on the clock, not sleeping, as real extra work would);
- a faster one runs the operation itself once more every 1/rate calls (the same data
  processed again), which asv's batches of many calls average exactly; a spin that short
  would be all clock-reading overhead.
Used only when `checks.calibration` sets INJECT_VAR; never in a normal run.
"""
import statistics
import time

from .timing import measure_batches

INJECT_VAR = "ARRAY_OP_BENCH_INJECT"  # JSON {case name: fraction (0 = wrapper only)}
SPIN_FROM = 100e-6  # seconds per call from which the extra work is a spin


def call_seconds(run, batches=7, min_seconds=0.01):
    """Median seconds per call over `batches` batches of at least `min_seconds` each."""
    return statistics.median(measure_batches(run, batches, min_seconds)[0])


def with_extra_work(run, fraction):
    """`run` wrapped; with `fraction` > 0 (e.g. 0.10) it takes that much longer per call."""
    state = {"spin_ns": 0, "rate": 0.0, "credit": 0.0}

    def slowed():
        result = run()
        state["credit"] += state["rate"]
        if state["credit"] >= 1.0:
            state["credit"] -= 1.0
            run()
        deadline = time.perf_counter_ns() + state["spin_ns"]
        while time.perf_counter_ns() < deadline:
            pass
        return result

    if fraction:
        bare = call_seconds(run)
        wrapped = call_seconds(slowed)  # nothing extra yet: the wrapper's own cost
        if bare >= SPIN_FROM:
            state["spin_ns"] = round(fraction * wrapped * 1e9)
        else:
            state["rate"] = fraction * wrapped / bare
    return slowed
