"""One bare process timing compiled GELU beside kernels that differ from it in one way each,
row after row for a number of seconds, so that a change of level shows which of them it hits.

    ENV/bin/python experiments/gelu_state_probe.py '{"seconds": 120, "size": 1000000}'

Run as a file in a kept environment (never `-m ...`): only numpy and torch are imported,
nothing of the suite. Every row times each series once (the best of 3 batches of about
5 ms, as timeit's repeat), so the series of one row were timed within the same second:

- compiled GELU: the seed's formula under torch.compile, at `size` elements (the case);
- compiled exp: one exp under torch.compile; inductor's loop calls Sleef_expf16_u10 in
  libtorch_cpu once per 16 elements, as the erf inlined in GELU's loop does;
- compiled polynomial: 25 multiply-adds under torch.compile: vector arithmetic, no call;
- eager exp: torch.exp into a preallocated tensor (ATen's own vectorised exp);
- numpy exp (4k elements, in L1) and a Python loop (2000 additions): no torch at all.

Prints one JSON line: the versions, the compiled GELU's largest relative error against a
float64 reference, the series' names and the rows ([seconds since start, microseconds...]).
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch

# the witness's two kernels, from its file (it imports only torch)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "run"))
from state_witness import exp_half, polynomial  # noqa: E402

SERIES = ("compiled GELU", "compiled exp", "compiled polynomial", "eager exp", "numpy exp",
          "python loop")
BATCH_SECONDS = 0.005


def gelu(t):
    return t * 0.5 * (1.0 + torch.erf(t / 1.41421))


def python_loop():
    total = 0
    for i in range(2000):
        total += i
    return total


def best_of_3(run, number):
    samples = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(number):
            run()
        samples.append((time.perf_counter() - t0) / number)
    return min(samples)


def calls_per_batch(run):
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            run()
        if time.perf_counter() - t0 >= BATCH_SECONDS:
            return number
        number *= 2


def main():
    request = json.loads(sys.argv[1])
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal(request["size"], dtype=np.float32))
    y = torch.from_numpy(rng.standard_normal(262144, dtype=np.float32))
    out = torch.empty_like(y)
    small = rng.random(4096, dtype=np.float32)
    small_out = np.empty_like(small)
    compiled_gelu = torch.compile(gelu, dynamic=False)
    compiled_exp = torch.compile(exp_half, dynamic=False)
    compiled_poly = torch.compile(polynomial, dynamic=False)
    runs = [lambda: compiled_gelu(x), lambda: compiled_exp(y), lambda: compiled_poly(y),
            lambda: torch.exp(y, out=out), lambda: np.exp(small, out=small_out), python_loop]
    for run in runs:  # compile and warm up before anything is timed
        run()
    head = x[:1000].numpy().astype(np.float64)
    want = np.array([v * 0.5 * (1.0 + math.erf(v / 1.41421)) for v in head])
    got = compiled_gelu(x)[:1000].numpy().astype(np.float64)
    error = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-6)))
    numbers = [calls_per_batch(run) for run in runs]
    rows, start = [], time.perf_counter()
    while time.perf_counter() - start < request["seconds"]:
        row = [round(time.perf_counter() - start, 2)]
        row += [round(best_of_3(run, n) * 1e6, 2) for run, n in zip(runs, numbers)]
        rows.append(row)
    print(json.dumps({"versions": {"numpy": np.__version__, "torch": torch.__version__},
                      "gelu_max_relative_error": error, "series": list(SERIES),
                      "rows": rows}))


if __name__ == "__main__":
    main()
