"""A quick run of the suite through real asv, written to a scratch folder.

    python -m tools smoke [--bench REGEX] [--out DIR]

`asv run --quick` times one call per benchmark and would overwrite better results, so this
never writes to results/ or html/: results and the published dashboard go to DIR (default: a
temporary folder, removed afterwards). Without --bench it runs one parameter combination of
every benchmark method of every class (the first of each parameter list: the smallest sizes),
so every class is set up, run and published once in a few minutes; the bandwidth and
instruction-count families measure one round or two cases (ARRAY_OP_BENCH_QUICK=1).
"""
import os
import re
import shutil
import sys
import tempfile
import time

from .. import add_bench, command_parser, run_main
from ..results.config import load_config
from .asv_config import asv_checked, head_commit, scratch_config
from ..results.rows import load_rows, result_files


def one_case_per_method():
    """An asv --bench regex selecting, for every benchmark method, its first parameter
    combination (asv matches 'module.Class.method(repr, ...)')."""
    from benchmarks.cases import benchmark_classes

    parts = []
    for module, cls in benchmark_classes():
        params = getattr(cls, "params", None) or []
        if params and not isinstance(params[0], (list, tuple)):
            params = [params]  # asv allows a single list for one parameter
        first = "(" + ", ".join(repr(p[0]) for p in params) + ")" if params else ""
        for method in sorted(vars(cls)):
            if method.split("_")[0] in ("time", "timeraw", "track", "peakmem", "mem"):
                parts.append(re.escape(f"{module}.{cls.__name__}.{method}{first}") + "$")
    return "^(" + "|".join(parts) + ")"


def smoke(out_dir, bench=None):
    """Run (quick) and publish into `out_dir`; return the rows of the written result file."""
    config = scratch_config(out_dir)
    asv_checked(["machine", "--yes"], config)
    args = ["run", "--quick", "-E", f"existing:{sys.executable}",
            "--set-commit-hash", head_commit(), "--show-stderr"]
    args += ["--bench", bench or one_case_per_method()]
    asv_checked(args, config, env={**os.environ, "ARRAY_OP_BENCH_QUICK": "1"})
    asv_checked(["publish"], config)
    results_dir = os.path.join(out_dir, "results")
    return load_rows(result_files(results_dir)[0], results_dir)


def main(argv=None):
    parser = command_parser(__doc__)
    add_bench(parser, "the run (default: one case of every benchmark method)")
    parser.add_argument("--out", help="keep results and html here instead of a temp folder")
    args = parser.parse_args(argv)
    load_config()
    head_commit()  # asv needs a commit to file the results under
    out = args.out or tempfile.mkdtemp(prefix="asv-smoke-")
    os.makedirs(out, exist_ok=True)
    start = time.perf_counter()
    try:
        rows = smoke(out, args.bench)
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    timed = [r for r in rows if r.value == r.value]  # nan = skipped
    print(f"smoke run: {len(rows)} cases, {len(timed)} measured, {len(rows) - len(timed)} skipped,"
          f" dashboard published, {time.perf_counter() - start:.0f} s"
          + (f"; kept under {out}" if args.out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.run.smoke"))
