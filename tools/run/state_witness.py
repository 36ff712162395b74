"""Which state a compiled-GELU timing was taken in: exp over polynomial, read at once.

On AVX-512 machines compiled GELU has two levels 1.4-6x apart, chosen by a state that slows
libtorch's Sleef_expf16_u10 calls 3-10x, not vector arithmetic; it comes and goes within
seconds to minutes, not chosen by the release; what sets it is not known
(report/mechanisms.md, section 7). The witness times two kernels compiled by inductor, one
exp (a Sleef call per 16 elements, as the erf inlined in GELU's loop) and 25 multiply-adds
(no call), and returns their ratio: about the same in every fast period, 1.5x or more of it
in a slow one. A worker reads it right after a compiled case is timed.

Imports only torch: the bare probe (tools/run/bare_case.py) and the state probe
(experiments/gelu_state_probe.py) load this file by its folder, not as part of the suite.
"""
import time

SIZE = 262144  # 1 MB of float32: in L2, so the ratio reads the call, not memory
BATCH_SECONDS = 0.002
SLOW_FACTOR = 1.5  # a reading over 1.5x the machine's fast level is the slow state


def exp_half(t):
    import torch

    return torch.exp(t * 0.5)


def polynomial(t):
    y = t * 0.01 + 0.02
    for k in range(24):
        y = y * t + (0.03 + 0.001 * k)
    return y


def _best_of_3(run, number):
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(number):
            run()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


class Witness:
    """Compiles its two kernels once per process: prepare() before the case is timed, so the
    reading follows the timing at once (and in the preflight, which warms inductor's cache)."""

    def __init__(self):
        self.runs = None

    def prepare(self):
        if self.runs is not None:
            return
        import torch

        y = torch.linspace(-4.0, 4.0, SIZE, dtype=torch.float32)
        kernels = [torch.compile(f, dynamic=False) for f in (exp_half, polynomial)]
        self.runs = []
        for kernel in kernels:
            kernel(y)  # compile and warm up
            number = 1
            while True:  # calls per batch of about BATCH_SECONDS
                t0 = time.perf_counter()
                for _ in range(number):
                    kernel(y)
                if time.perf_counter() - t0 >= BATCH_SECONDS:
                    break
                number *= 2
            self.runs.append((lambda k=kernel: k(y), number))

    def read(self):
        """Compiled exp's time over compiled polynomial's, both best of 3 batches."""
        self.prepare()
        (exp, n_exp), (poly, n_poly) = self.runs
        return round(_best_of_3(exp, n_exp) / _best_of_3(poly, n_poly), 4)


def fast_level(readings):
    """The machine's fast level: the 10th percentile of its readings (at least a tenth of
    them are taken in fast seconds)."""
    ordered = sorted(readings)
    return ordered[(len(ordered) - 1) // 10]


def is_slow(reading, fast):
    return reading > SLOW_FACTOR * fast
