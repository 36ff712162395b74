"""Do asv's medians for sub-microsecond sums agree with an independent timeit?

asv_runner 0.3.x times one call per sample whenever a benchmark has a setup hook, which
inflates sub-microsecond timings; the suite pins 0.2.5 in the environments it builds and
refuses 0.3.x unless ARRAY_OP_BENCH_RUNNER_03=1, which switches that off
(benchmarks/runner_compat.py; --runner sets it). This script is the proof, under whichever
runner is installed (or, with --runner, a given release in an overlay environment): for the
two smallest sizes it runs the numpy and numba sums through real asv (results go to a scratch
folder, never to results/), then times the very same benchmark calls with timeit in this
interpreter, round after round, so each asv median has a timeit median taken beside it.

The verdict is on the paired ratios asv/timeit of each case, not on one pair: a case agrees
when every round's ratio lies within the tolerance, disagrees when every round's ratio lies
outside it on the same side, and is inconclusive otherwise. With 5 rounds the range of the
ratios covers their median with 94 % confidence (a sign test), so a noisy machine makes a
case inconclusive, never wrongly agree or disagree.

    python -m tools check timeit [--rounds 5] [--tolerance 0.10] [--runner 0.3.2]

Exit status 1 if any case disagrees (also inconclusive ones with --strict), 2 on bad setup.
With --gate batching the ratios are only reported, and the exit status is 1 if asv timed any
case one call per sample (asv's recorded `number`): what CI asks of asv_runner 0.3.x with the
suite's switch on, whose residual above timeit is machine-dependent (runner_compat.py).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import timeit

from tools import REPO_ROOT, ToolError, add_rounds, command_parser, run_main
from tools.results.rows import load_rows, result_files, unquote
from tools.run.asv_config import asv_checked, head_commit, scratch_config
from tools.run.environments import overlay, pip_into

SIZES = [100, 10_000]
IMPLS = ["numpy_sum", "numba_loop", "numba_loop_fastmath", "numba_np_sum"]
CASES = [(size, impl) for size in SIZES for impl in IMPLS]


def timed_cases():
    """The Cases of CASES on cpu (benchmarks.cases.Case)."""
    from benchmarks.bench_sum import Sum
    from benchmarks.cases import all_cases

    return all_cases(lambda case: case.bench_class is Sum and case.values["device"] == "cpu"
                     and (case.values["size"], case.values["impl"]) in CASES)


def asv_medians(scratch):
    """{(size, impl): (median seconds, calls per sample)} from a real `asv run` here."""
    config = scratch_config(scratch)
    asv_checked(["machine", "--yes"], config)
    cases = timed_cases()
    regex = "|".join(case.regex for case in cases)
    asv_checked(
        ["run", "-E", f"existing:{sys.executable}", "--set-commit-hash", head_commit(),
         "--bench", regex],
        config,
    )
    results_dir = f"{scratch}/results"
    medians = {}
    for row in load_rows(result_files(results_dir)[0], results_dir):
        if row.benchmark == cases[0].benchmark and unquote(row.params["device"]) == "cpu":
            key = (int(row.params["size"]), unquote(row.params["impl"]))
            if key in CASES:
                medians[key] = (row.value, int((row.stats or {}).get("number") or 0))
    return medians


def timeit_median(func, repeat=7):
    """Median seconds per call over `repeat` samples of ~0.2 s, as timeit's CLI batches."""
    timer = timeit.Timer(func)
    number, _ = timer.autorange()
    return statistics.median(t / number for t in timer.repeat(repeat=repeat, number=number))


def independent_medians():
    """{(size, impl): benchmark-call median} with timeit alone."""
    from benchmarks.bench_sum import Sum

    medians = {}
    for size, impl in CASES:
        bench = Sum()
        params = (size, impl, "cpu")
        bench.setup(*params)
        method = bench.time_sum

        def call():
            # The call asv times, built as asv_runner builds it: `self.func(*param)` in a
            # zero-argument function. No asv calibration, setup hooks or benchmark process.
            method(*params)

        medians[size, impl] = timeit_median(call)
    return medians


def verdict(ratios, tolerance):
    """'agrees', 'disagrees' or 'inconclusive' for one case's paired asv/timeit ratios."""
    low, high = min(ratios), max(ratios)
    if 1 - tolerance <= low and high <= 1 + tolerance:
        return "agrees"
    if low > 1 + tolerance or high < 1 - tolerance:
        return "disagrees"
    return "inconclusive"


def runner_python(version):
    """An overlay environment: this environment's packages with asv_runner `version` first."""
    home = os.path.join(REPO_ROOT, ".asv", f"runner-{version}")
    return overlay(home, sys.executable, lambda site: pip_into(site, f"asv_runner=={version}"))


def installed_runner():
    from importlib import metadata

    return metadata.version("asv_runner")


def main(argv=None):
    parser = command_parser(__doc__)
    add_rounds(parser, 5, minimum=2, more="; asv runs, each followed by timeit of the same "
               "calls (one pair cannot tell a bias from noise)")
    parser.add_argument("--tolerance", type=float, default=0.10,
                        help="largest accepted |asv/timeit - 1| (default 0.10)")
    parser.add_argument("--runner", metavar="VERSION",
                        help="run under this asv_runner release (an overlay environment in "
                             ".asv/runner-VERSION, installed from the package index once)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 on inconclusive cases too")
    parser.add_argument("--gate", choices=["ratio", "batching"], default="ratio",
                        help="what sets the exit status: the ratio verdicts (default) or "
                             "whether asv batched every case (more than one call per sample)")
    args = parser.parse_args(argv)
    if args.runner and args.runner != installed_runner():
        try:
            python = runner_python(args.runner)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            raise ToolError(str(exc))
        rest = [a for a in (argv if argv is not None else sys.argv[1:])]
        i = rest.index("--runner") if "--runner" in rest else None
        rest = rest[:i] + rest[i + 2:] if i is not None else \
            [a for a in rest if not a.startswith("--runner=")]
        # The suite refuses 0.3.x unless told to accept its residual (runner_compat.py): the
        # check measures the runner as a user who accepted it would get it.
        env = {**os.environ, "ARRAY_OP_BENCH_RUNNER_03": "1"}
        return subprocess.run([python, "-m", "checks.timeit_agreement", *rest],
                              cwd=REPO_ROOT, env=env).returncode

    print(f"asv_runner {installed_runner()}; {args.rounds} rounds of asv then timeit",
          flush=True)
    ratios = {case: [] for case in CASES}
    asv_all = {case: [] for case in CASES}
    numbers = {case: [] for case in CASES}
    own_all = {case: [] for case in CASES}
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}/{args.rounds}: asv ...", end=" ", flush=True)
        try:
            with tempfile.TemporaryDirectory() as scratch:
                asv = asv_medians(scratch)
        except RuntimeError as exc:
            raise ToolError(str(exc))
        print("timeit ...", flush=True)
        own = independent_medians()
        for case in CASES:
            if case not in asv:
                print(f"timeit_check: asv recorded no result for {case} (skipped?)",
                      file=sys.stderr)
                return 2
            asv_all[case].append(asv[case][0])
            numbers[case].append(asv[case][1])
            own_all[case].append(own[case])
            ratios[case].append(asv[case][0] / own[case])

    print(f"\n{'size':>6} {'impl':<20} {'asv median':>11} {'timeit':>11} "
          f"{'asv/timeit: median [range]':>28}  {'calls/sample':>12}  verdict")
    counts = {"agrees": 0, "disagrees": 0, "inconclusive": 0}
    for case in CASES:
        size, impl = case
        found = verdict(ratios[case], args.tolerance)
        counts[found] += 1
        r = ratios[case]
        print(f"{size:>6} {impl:<20} {statistics.median(asv_all[case]) * 1e9:>9.0f}ns "
              f"{statistics.median(own_all[case]) * 1e9:>9.0f}ns "
              f"{statistics.median(r):>10.3f} [{min(r):.3f}, {max(r):.3f}]"
              f"{'':>3}  {min(numbers[case]):>12}  {found}")
    print(f"\n{counts['agrees']} agree, {counts['disagrees']} disagree, "
          f"{counts['inconclusive']} inconclusive (tolerance ±{args.tolerance:.0%}, "
          f"{args.rounds} paired rounds).")
    unbatched = [case for case in CASES if min(numbers[case]) <= 1]
    print(f"asv batched {len(CASES) - len(unbatched)} of {len(CASES)} cases in every round "
          "(more than one call per sample).")
    if args.gate == "batching":
        return 1 if unbatched else 0
    if counts["disagrees"] or (args.strict and counts["inconclusive"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m checks.timeit_agreement"))
