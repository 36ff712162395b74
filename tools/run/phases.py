"""Split the suite into phases for progress reporting: one per benchmark class and value of its
first parameter. Prints `label<TAB>asv --bench regex` lines for tools/run_benchmarks.sh.

    python -m tools.run.phases
"""
import math
import re

from benchmarks.cases import benchmark_classes


# A class with fewer parameter combinations runs as one phase: every asv invocation costs a
# benchmark discovery (several seconds: it imports torch and numba).
SPLIT_FROM = 30


def phases():
    for module, cls in benchmark_classes():
        name = cls.__name__
        prefix = re.escape(f"{module}.{name}.")
        params = getattr(cls, "params", None)
        # A class with setup_cache computes all its cases at once: splitting it would repeat
        # that (the instruction counts: minutes) in every phase.
        if not params or math.prod(len(p) for p in params) < SPLIT_FROM or \
                hasattr(cls, "setup_cache"):
            yield name, f"^{prefix}"
            continue
        first = getattr(cls, "param_names")[0]
        for value in params[0]:
            # asv matches --bench against "module.Class.method(repr, repr, ...)".
            yield f"{name} {first}={value}", rf"^{prefix}\w+\({re.escape(repr(value))}[,)]"


def main():
    for label, regex in phases():
        print(f"{label}\t{regex}")


if __name__ == "__main__":
    main()
