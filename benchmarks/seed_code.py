"""The seed notebook's own code, as plain Python, defined once.

`impls` compiles these with numba / wraps them for torch, and `bench_compile` sends their
source (inspect.getsource) to fresh interpreters, so the compile costs time the very code that
the other benchmarks run. Keep each function self-contained: no module globals, no decorator.
"""


def seed_loop(x):
    # `total` is a float64 accumulator (0.0 is a float64 literal); strict IEEE ordering forces
    # one dependent add after another, so LLVM cannot use SIMD lanes unless fastmath is on.
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
    return total


def gelu_composed(x):
    # The seed's formula with its 1.41421 for sqrt(2); eager torch runs it as five separate
    # element-wise kernels, torch.compile fuses them into one.
    import torch

    return x * 0.5 * (1.0 + torch.erf(x / 1.41421))
