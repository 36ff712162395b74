"""The cases a release history runs: a named subset of benchmarks.cases (`seed`, `tiny`, or
`kernel:<name>` for one kernel file)."""
from benchmarks.cases import all_cases, subset, subset_names

SUBSET_NAMES = subset_names()


def subset_cases(name):
    """[(asv benchmark, asv params)] of the subset `name` (ValueError: unknown name)."""
    return [(case.benchmark, case.asv_params) for case in all_cases(subset(name))]
