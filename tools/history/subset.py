"""The cases a release history runs: a named subset of benchmarks.cases (`seed`, `tiny`, or
`kernel:<name>` for one kernel file), as (asv benchmark, params as asv writes them) pairs, the
form asv's result files key on."""
import re

from benchmarks.cases import Case, all_cases, subset, subset_names

SUBSET_NAMES = subset_names()


def subset_cases(name):
    """[(benchmark, asv params)] of the subset `name` (ValueError: unknown name)."""
    return [(case.benchmark, case.asv_params) for case in all_cases(subset(name))]


def case_name(benchmark, params):
    """asv's name of one parameter combination: "bench_sum.Sum.time_sum(100, 'numba_loop', 'cpu')"."""
    return f"{benchmark}({', '.join(params)})"


def short_name(benchmark, params):
    """Without the module: "Sum.time_sum(100, 'numba_loop', 'cpu')"."""
    return case_name(benchmark.split(".", 1)[1], params)


def bench_regexes(cases):
    """asv --bench arguments selecting exactly these cases."""
    return [f"^{re.escape(case_name(b, p))}$" for b, p in cases]


def as_case(benchmark, params):
    """The Case of a stored (benchmark, asv params) pair."""
    return Case.parse(case_name(benchmark, params))
