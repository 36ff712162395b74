"""Instructions per call of the single-threaded cases, counted under valgrind (see
benchmarks/instructions.py): exact where wall time moves 4-15 % from one process to the next,
so a change between two releases' counts is a change of the code that ran, never noise.

All cases are counted once per environment in `setup_cache` (one valgrind worker per library,
~2.5 min on 2 cores); the track_ methods read the counts. A machine without valgrind or a C
compiler skips the family with the reason.
"""
import os

from .instructions import ISA, case_size, count_cases, family_cases, unavailable

CASES = {label: (cls, params) for label, cls, params in family_cases()}
# A quick run (tools.run.smoke) counts one case of each of two libraries: it shows the family
# works here in ~30 s; the others skip with the reason.
QUICK_CASES = ("Sum(100, numba_loop)", "Sum(100, numpy_sum)")


class Instructions:
    params = [list(CASES)]
    param_names = ["case"]
    timeout = 900  # setup_cache counts every case: valgrind runs Python ~50x slower

    def setup_cache(self):
        reason = unavailable()
        if reason:
            return {"skip": reason}
        cases = family_cases()
        if os.environ.get("ARRAY_OP_BENCH_QUICK") == "1":
            cases = [case for case in cases if case[0] in QUICK_CASES]
        try:
            counted = count_cases(cases)
        except (NotImplementedError, RuntimeError) as exc:
            return {"skip": str(exc)}
        for label in CASES:
            if label not in counted["counts"]:
                counted["errors"].setdefault(label, "not counted in a quick run")
        return counted

    def setup(self, counted, case):
        if "skip" in counted:
            raise NotImplementedError(counted["skip"])
        if case not in counted["counts"]:
            raise NotImplementedError(counted["errors"].get(case, "not counted"))

    def track_instructions(self, counted, case):
        return counted["counts"][case]

    track_instructions.unit = f"instructions per call ({ISA})"

    def track_instructions_per_element(self, counted, case):
        return counted["counts"][case] / case_size(*CASES[case])

    track_instructions_per_element.unit = f"instructions per element ({ISA})"
