"""Split the suite into phases for progress reporting: one per benchmark class and value of its
first parameter. Prints `label<TAB>asv --bench regex` lines for tools/run_benchmarks.sh.

    python -m tools.run.phases
"""
import math
import re
from dataclasses import dataclass

from benchmarks.cases import benchmark_classes


# Every asv invocation costs a benchmark discovery and a forkserver start (3.7-4.0 s here:
# it imports torch and numba), so a class runs as one phase unless it has SPLIT_FROM
# combinations or more (the device not counted: a cuda case skips in no time where there is
# no GPU); then it is split by its first parameter, for progress and resume. A class with
# setup_cache computes all its cases at once and stays whole (splitting it would repeat that:
# the instruction counts take minutes).
SPLIT_FROM = 40


@dataclass(frozen=True)
class Phase:
    label: str
    regex: str  # asv --bench
    classes: tuple  # "module.Class." of every class the phase runs (what resume checks)


def _combinations(cls):
    params = getattr(cls, "params", None) or []
    names = getattr(cls, "param_names", [])
    return math.prod(len(p) for p, name in zip(params, names) if name != "device") \
        if params else 1


def phases():
    for module, cls in benchmark_classes():
        name, prefix = cls.__name__, f"{module}.{cls.__name__}."
        params = getattr(cls, "params", None)
        if not params or _combinations(cls) < SPLIT_FROM or hasattr(cls, "setup_cache"):
            yield Phase(name, f"^{re.escape(prefix)}", (prefix,))
            continue
        first = cls.param_names[0]
        for value in params[0]:
            # asv matches --bench against "module.Class.method(repr, repr, ...)".
            yield Phase(f"{name} {first}={value}",
                        rf"^{re.escape(prefix)}\w+\({re.escape(repr(value))}[,)]", (prefix,))


def main():
    for phase in phases():
        print(f"{phase.label}\t{phase.regex}")


if __name__ == "__main__":
    main()
