"""One case timed in a bare process: a user's script, not the suite.

    ENV/bin/python tools/run/bare_case.py '{"family": "Gelu", "size": 1000000, "mode": "compiled"}'

Run as a file (never `-m tools...`), so nothing of this repository is imported: only numpy and
the library the case uses. The seed's code is written out here as the notebook writes it, the
data drawn with numpy, the callable warmed up (numba and torch.compile compile there), and then
batches of calls are timed with time.perf_counter, each batch at least 10 ms, as timeit does.
Nothing is timed before the case. Prints one JSON line: the per-call time of each batch, their
median, the calls per batch, the versions imported and, where the request asks for it
("witness": true), the Sleef state read right after the case (tools/run/state_witness.py,
loaded from beside this file: it imports only torch).
"""
import json
import resource
import statistics
import sys
import time

BATCH_SECONDS = 0.01
BATCHES = 7
MAX_SECONDS = 1.0  # a python loop over 10M elements: 3 batches of one call, not 7


def seed_sum(impl):
    import numpy as np

    if impl == "numpy_sum":
        return np.sum
    if impl == "python_builtin":
        return sum
    if impl == "python_loop":
        def loop(x):
            total = 0.0
            for value in x:
                total += value
            return total
        return loop
    if impl == "torch_from_numpy":
        import torch

        return lambda x: torch.from_numpy(x).sum().item()
    from numba import njit

    if impl == "numba_np_sum":
        return njit(lambda x: np.sum(x))

    @njit
    def numba_loop(x):
        total = 0.0
        for i in range(x.shape[0]):
            total += x[i]
        return total
    return numba_loop


def prepare(case):
    """A zero-argument callable running the case once, warmed up."""
    import numpy as np

    rng = np.random.default_rng(0)
    family = case["family"]
    if family == "Sum":
        x = rng.random(case["size"], dtype=np.float32)
        func = seed_sum(case["impl"])
        run = lambda: func(x)  # noqa: E731
    elif family == "AxisSum":
        rows, cols = (int(n) for n in case["shape"].split("x"))
        x = rng.random((rows, cols), dtype=np.float32)
        axis = 1 if case["axis"] == "rows" else 0
        if case["library"] == "torch":
            import torch

            t = torch.from_numpy(x)
            run = lambda: t.sum(dim=axis)  # noqa: E731
        else:
            run = lambda: x.sum(axis=axis)  # noqa: E731
    elif family == "Gelu":
        import torch

        def gelu(t):
            return t * 0.5 * (1.0 + torch.erf(t / 1.41421))

        t = torch.from_numpy(rng.standard_normal(case["size"], dtype=np.float32))
        func = torch.compile(gelu, dynamic=False) if case["mode"] == "compiled" else gelu
        run = lambda: func(t)  # noqa: E731
    else:
        raise SystemExit(f"bare_case: no bare form of family {family!r}")
    run()
    return run


def time_batches(run):
    number, elapsed = 1, 0.0
    while True:  # calls per batch: the first count whose batch takes BATCH_SECONDS
        t0 = time.perf_counter()
        for _ in range(number):
            run()
        elapsed = time.perf_counter() - t0
        if elapsed >= BATCH_SECONDS:
            break
        number *= 10 if elapsed < BATCH_SECONDS / 10 else 2
    samples, start = [], time.perf_counter()
    while len(samples) < BATCHES and (len(samples) < 3 or
                                      time.perf_counter() - start < MAX_SECONDS):
        t0 = time.perf_counter()
        for _ in range(number):
            run()
        samples.append((time.perf_counter() - t0) / number)
    return samples, number


def main():
    case = json.loads(sys.argv[1])
    run = prepare(case)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    samples, number = time_batches(run)
    calls = number * (len(samples) + 1)  # at least: the batches and the sizing batch
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / calls
    witness = None
    if case.get("witness"):  # compiled after the case: nothing else runs before it
        from state_witness import Witness  # beside this file; imports only torch

        witness = Witness().read()
    versions = {name: sys.modules[name].__version__ for name in ("numpy", "numba", "torch")
                if name in sys.modules}
    suite = sorted(m for m in sys.modules if m.split(".")[0] in ("benchmarks", "tools"))
    print(json.dumps({"samples": samples, "median": statistics.median(samples),
                      "number": number, "faults_per_call": round(faults, 1),
                      "versions": versions, "suite_modules": suite,
                      **({"witness": witness} if witness is not None else {})}))


if __name__ == "__main__":
    main()
