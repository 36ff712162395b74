"""Which machine state a compiled-GELU timing was taken in: exp over polynomial, read at once.

On AVX-512 machines compiled GELU has two levels about 2-20x apart, chosen by a machine-wide
state that comes and goes within seconds and slows libtorch's Sleef_expf16_u10 calls, not
vector arithmetic (report/mechanisms.md, section 7). The witness times two kernels compiled
by inductor, one exp (a Sleef call per 16 elements, as the erf inlined in GELU's loop) and
25 multiply-adds (no call), and returns their ratio: about the same in every fast second,
1.5x or more of it in a slow one. A worker reads it right after a compiled case is timed.

Imports only torch: the bare probe (tools/run/bare_case.py) loads this file beside it.
"""
import time

SIZE = 262144  # 1 MB of float32: in L2, so the ratio reads the call, not memory
BATCH_SECONDS = 0.002
SLOW_FACTOR = 1.5  # a reading over 1.5x the machine's fast level is the slow state


def _exp_half(t):
    import torch

    return torch.exp(t * 0.5)


def _polynomial(t):
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
    """Compiles its two kernels on the first read (once per process)."""

    def __init__(self):
        self.runs = None

    def _prepare(self):
        import torch

        y = torch.linspace(-4.0, 4.0, SIZE, dtype=torch.float32)
        kernels = [torch.compile(f, dynamic=False) for f in (_exp_half, _polynomial)]
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
        if self.runs is None:
            self._prepare()
        (exp, n_exp), (poly, n_poly) = self.runs
        return round(_best_of_3(exp, n_exp) / _best_of_3(poly, n_poly), 4)


def fast_level(readings):
    """The machine's fast level: the 10th percentile of its readings (at least a tenth of
    them are taken in fast seconds)."""
    ordered = sorted(readings)
    return ordered[(len(ordered) - 1) // 10]


def is_slow(reading, fast):
    return reading > SLOW_FACTOR * fast
