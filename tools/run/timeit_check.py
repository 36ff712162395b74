"""Do asv's medians for sub-microsecond sums agree with an independent timeit?

asv_runner 0.3.x times one call per sample whenever a benchmark has a setup hook, which
inflates sub-microsecond timings; this suite pins 0.2.5 instead. This script is the proof:
for the two smallest sizes it runs the numpy and numba sums through real asv (results go to
a scratch folder, never to results/), then times the very same benchmark call with timeit in
this interpreter, and prints both medians side by side.

    python -m tools.run.timeit_check [--tolerance 0.10]

Exit status 1 if any case disagrees by more than the tolerance.
"""
import argparse
import statistics
import sys
import tempfile
import timeit

from benchmarks.bench_sum import Sum

from .asv_config import head_commit, run_asv, scratch_config
from ..results.rows import ResultsError, load_rows, result_files, unquote

SIZES = [100, 10_000]
IMPLS = ["numpy_sum", "numba_loop", "numba_loop_fastmath", "numba_np_sum"]
BENCHMARK = "bench_sum.Sum.time_sum"


def asv_medians(scratch):
    """{(size, impl): median seconds} from a real `asv run` in this environment."""
    config = scratch_config(scratch)
    run_asv(["machine", "--yes"], config)
    sizes, impls = "|".join(map(str, SIZES)), "|".join(IMPLS)
    regex = rf"^{BENCHMARK}\(({sizes}), '({impls})', 'cpu'\)$"
    run_asv(
        ["run", "-E", f"existing:{sys.executable}", "--set-commit-hash", head_commit(),
         "--bench", regex],
        config,
    )
    results_dir = f"{scratch}/results"
    medians = {}
    for row in load_rows(result_files(results_dir)[0], results_dir):
        if row.benchmark == BENCHMARK and unquote(row.params["device"]) == "cpu":
            key = (int(row.params["size"]), unquote(row.params["impl"]))
            if key[0] in SIZES and key[1] in IMPLS:
                medians[key] = row.value
    return medians


def timeit_median(func, repeat=15):
    """Median seconds per call over `repeat` samples of ~0.2 s, as timeit's CLI batches."""
    timer = timeit.Timer(func)
    number, _ = timer.autorange()
    return statistics.median(t / number for t in timer.repeat(repeat=repeat, number=number))


def independent_medians():
    """{(size, impl): (benchmark-call median, bare-operation median)} with timeit."""
    medians = {}
    for size in SIZES:
        for impl in IMPLS:
            bench = Sum()
            params = (size, impl, "cpu")
            bench.setup(*params)
            method = bench.time_sum

            def call():
                # The call asv times, built as asv_runner builds it: `self.func(*param)` in a
                # zero-argument function. Timed here by timeit alone: no asv calibration,
                # setup hooks or benchmark process.
                method(*params)

            call = timeit_median(call)
            # The operation alone, to show what the benchmark method itself adds.
            bare = timeit_median(bench.run)
            medians[size, impl] = (call, bare)
    return medians


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tolerance", type=float, default=0.10,
                        help="largest accepted |asv/timeit - 1| (default 0.10)")
    args = parser.parse_args(argv)

    print("running the cases through asv (scratch results) ...", flush=True)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            asv = asv_medians(scratch)
    except (RuntimeError, ResultsError) as exc:
        print(f"timeit_check: {exc}", file=sys.stderr)
        return 2
    print("timing the same calls with timeit ...", flush=True)
    own = independent_medians()

    print(f"\n{'size':>6} {'impl':<20} {'asv median':>11} {'timeit':>11} {'asv/timeit':>10}"
          f" {'bare op':>11}  verdict")
    failures = 0
    for size in SIZES:
        for impl in IMPLS:
            call, bare = own[size, impl]
            measured = asv.get((size, impl), float("nan"))
            ratio = measured / call
            ok = abs(ratio - 1) <= args.tolerance
            failures += not ok
            print(f"{size:>6} {impl:<20} {measured * 1e9:>9.0f}ns {call * 1e9:>9.0f}ns"
                  f" {ratio:>10.3f} {bare * 1e9:>9.0f}ns  {'ok' if ok else 'DISAGREES'}")
    print(f"\n{failures} of {len(SIZES) * len(IMPLS)} cases outside ±{args.tolerance:.0%}."
          " 'bare op' times the prepared callable alone: the difference to 'timeit' is the"
          " cost of the benchmark method call, which asv and timeit both include.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
