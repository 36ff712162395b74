"""Instructions per prepared call, counted by valgrind's callgrind: a deterministic signal
beside wall time, for telling a code-generation change from machine noise.

How a count is taken: a worker process runs under `valgrind --tool=callgrind
--collect-atstart=no`, prepares each case with the timed benchmarks' own `prepare` (data,
compilation and warm-up happen with counting off), then brackets n calls and, separately, 2n
calls with callgrind's client requests (a tiny C helper loaded with ctypes: symbol-based
toggles do not see numba's JIT code). Instructions per call = (I(2n) - I(n)) / n, so the
bracket's own cost (the ctypes calls, the loop set-up) cancels exactly.

Every count is taken on one ISA, on any machine of this kind: valgrind runs no AVX-512, and
pinning numba's target and torch's dispatch to AVX2 makes an AVX-512 Xeon and an AVX2 EPYC
count the same code. (Under valgrind the emulated CPUID already hides AVX-512 from NumPy's
dispatch and LLVM's host detection; the pins make the choice explicit.) The worker records
what each library reports it used.

    python -m tools count family [--json FILE]   # count the whole family, print a table
"""
import ctypes
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

HELPER_SOURCE = r"""
#include <valgrind/callgrind.h>
void count_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_TOGGLE_COLLECT; }
void count_stop(const char *label) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS_AT(label); }
"""

ISA = "AVX2 (haswell)"
COUNT_ENV = {
    "NUMBA_CPU_NAME": "haswell",  # LLVM target for numba's JIT: AVX2 + FMA, no AVX-512
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's kernel dispatch
    "PYTHONHASHSEED": "0",  # dict/set layouts, hence the interpreter's path, repeat exactly
    # One thread everywhere: a second thread's spinning and scheduling is not repeatable.
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    # No torch preloaded by the benchmarks package (benchmarks/__init__.py): a numba or NumPy
    # worker then imports no torch under valgrind (numpy group 70 -> 15 s, numba 80 -> 32 s;
    # their counts moved by at most 0.09 %); the torch worker imports it for its cases.
    "ARRAY_OP_BENCH_PRELOAD": "0",
}
# Instructions only. With --cache-sim=yes the counts moved by ~0.1 % (the libraries size
# their blocking from the cache that valgrind then reports) and the differenced L1 misses of
# small cases came out negative: not repeatable, so not reported.
VALGRIND_ARGS = ["--tool=callgrind", "--collect-atstart=no", "--cache-sim=no"]

PYTHON_SUM_SIZES = (100, 10_000)  # the pure-Python loops cost ~700 instructions an element
SUM_SIZES = (100, 10_000, 1_000_000, 10_000_000)
AXIS_SHAPE, GELU_SIZE = "1000x1000", 100_000


@lru_cache(maxsize=1)
def _specs():
    """(module, class name, params) of every counted case, from the registries: every sum (the Python
    loops at small sizes only), axis sums at one shape, every GELU mode at one size, and every
    cpu implementation of every kernel file at its COUNT_SIZES in each layout."""
    from .bench_kernels import load_kernels
    from .impls import AXIS_SUMS, GELUS, SUMS

    specs = []
    sums = sorted(SUMS, key=lambda impl: impl.startswith("python_"))  # Python loops last
    for size in SUM_SIZES:
        for impl in sums:
            if impl.startswith("python_") and size not in PYTHON_SUM_SIZES:
                continue
            specs.append(("bench_sum", "Sum", (size, impl, "cpu")))
    for layout in ("C", "F"):
        for axis in ("rows", "cols"):
            for library in AXIS_SUMS:
                specs.append(("bench_axis_sum", "AxisSum",
                              (AXIS_SHAPE, layout, axis, library, "cpu")))
    for mode in GELUS:
        specs.append(("bench_gelu", "Gelu", (GELU_SIZE, mode, "cpu")))
    for kernel in load_kernels().values():
        for size in kernel.count_sizes:
            for layout in kernel.layouts:
                for impl, entry in kernel.impls.items():
                    if "cpu" in entry.devices:
                        specs.append(("bench_kernels", kernel.class_name,
                                      (size, layout, impl, "cpu")))
    return tuple(specs)


def family_cases():
    """The counted cases: (label, class name, params). Single-threaded runs of cpu cases, at
    sizes where a count takes seconds under valgrind; derived from the registries, so a new
    implementation or kernel file is counted without touching this module."""
    return [(case_label(cls, params), cls, params) for _, cls, params in _specs()]


def module_of(cls):
    """The bench module that defines the counted class `cls` (None for a 'module:function')."""
    return {c: module for module, c, _ in _specs()}.get(cls)


def _bench_class(module, cls):
    # Only the module of the case: importing the whole suite under valgrind would be slow
    # and would shift the memory layout that small cases' counts are sensitive to.
    import importlib

    return getattr(importlib.import_module(f"benchmarks.{module}"), cls)


def counted_cases():
    """{count label: benchmarks.cases.Case of the timed case it counts}."""
    return {label: _timed_case(cls, params) for label, cls, params in family_cases()}


def _timed_case(cls, params):
    from .cases import Case

    module = module_of(cls)
    bench = _bench_class(module, cls)
    full = tuple(params) + ("default",) * (len(bench.param_names) - len(params))  # Gelu malloc
    method = next(m for m in dir(bench) if m.startswith("time_"))
    return Case(module, cls, method, full)


def case_label(cls, params):
    """'Sum(10000, numba_loop)': the case without its device (always cpu here)."""
    return f"{cls}({', '.join(str(p) for p in params if p != 'cpu')})"


def case_size(cls, params):
    """Elements processed per call (for per-element figures)."""
    if cls == "AxisSum":
        rows, _, cols = params[0].partition("x")
        return int(rows) * int(cols)
    return int(params[0])


def case_libraries(cls, params):
    """The libraries whose code a counted case runs (a release comparison's controls are the
    cases that do not run the library compared)."""
    if ":" in cls:  # a 'module:function' target: its own group
        return (cls.partition(":")[0],)
    return _timed_case(cls, params).libraries


def case_library(cls, params):
    """The group a case is counted in: one worker process per library, so each imports
    (slowly, under valgrind) only what it needs."""
    return case_libraries(cls, params)[0]


def calls_for(size):
    """n of the n / 2n brackets: enough calls that a small case is not all loop overhead."""
    return max(1, min(10, 100_000 // max(size, 1)))


def unavailable():
    """Why counting cannot run here, or None."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (Debian: apt-get install valgrind)"
    if shutil.which("cc") is None:
        return "no C compiler (cc) to build the callgrind helper"
    return None


def build_helper(directory):
    """Compile the bracket helper into `directory`; return its path. Needs cc and valgrind's
    headers (Debian's valgrind package ships callgrind.h)."""
    source = os.path.join(directory, "count_bracket.c")
    library = os.path.join(directory, "count_bracket.so")
    with open(source, "w") as f:
        f.write(HELPER_SOURCE)
    done = subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", library, source],
                          capture_output=True, text=True)
    if done.returncode:
        first = (done.stderr.strip().splitlines() or ["cc failed"])[0]
        raise NotImplementedError(f"cannot build the callgrind helper: {first}")
    return library


# ---------------------------------------------------------------------------------------------
# The worker: runs under valgrind, prepares and brackets its cases.

def _prepare(cls, params, module=None):
    if ":" in cls:  # 'package.module:function': function(*params) returns the call to count
        import importlib

        path, _, function = cls.partition(":")
        return getattr(importlib.import_module(path), function)(*params)
    bench = _bench_class(module, cls)
    # Gelu's malloc parameter, not counted: glibc's default, as users get it
    params = tuple(params) + ("default",) * (len(bench.param_names) - len(params))
    return bench.prepare(*params)


def with_extra_calls(run, every):
    """`run` that runs the operation once more on every `every`-th call: exactly 1/every more
    of the operation's work in a bracket whose calls are a multiple of `every` (the check of
    a known +2 % uses every=50). The extra run goes through the same call site as the
    regular one: a separate site would be cold (CPython specialises a call site only after
    it ran a few times) and cost ~20 000 instructions more than the operation itself."""
    state = {"calls": 0}

    def slowed():
        state["calls"] += 1
        for _ in range(2 if every and state["calls"] % every == 0 else 1):
            result = run()
        return result

    return slowed


def isa_used():
    """What each imported library reports it dispatches to, read inside the counted process."""
    isa = {"pinned": ISA}
    if "numba" in sys.modules:
        import llvmlite.binding as ll
        from numba.core import config

        isa["numba"] = config.CPU_NAME or ll.get_host_cpu_name()
    if "numpy" in sys.modules:
        try:
            from numpy._core._multiarray_umath import __cpu_features__ as features
        except ImportError:  # NumPy 1.x
            from numpy.core._multiarray_umath import __cpu_features__ as features
        isa["numpy"] = "AVX512F" if features.get("AVX512F") else \
            "AVX2" if features.get("AVX2") else "below AVX2"
    if "torch" in sys.modules:
        import torch

        isa["torch"] = torch.backends.cpu.get_cpu_capability()
        isa["torch_threads"] = torch.get_num_threads()
    return isa


def worker(helper, requests):
    """Count each request {label, cls, params, calls, extra_every}; return the worker's record.
    Labels of the brackets are '<label>|<calls>'."""
    bracket = ctypes.CDLL(helper)
    bracket.count_stop.argtypes = [ctypes.c_char_p]
    record = {"errors": {}, "calls": {}}
    for request in requests:
        label, n = request["label"], request["calls"]
        try:
            run = _prepare(request["cls"], tuple(request["params"]), request.get("module"))
        except NotImplementedError as exc:
            record["errors"][label] = f"skipped: {exc}"
            continue
        except Exception as exc:  # one case's failure never takes its neighbours with it
            record["errors"][label] = f"{type(exc).__name__}: {exc}"
            continue
        if request.get("extra_every") is not None:  # 0: the wrapper alone, the baseline
            run = with_extra_calls(run, request["extra_every"])
        if request.get("first_call"):  # count the first call alone: compilation included
            bracket.count_start()
            run()
            bracket.count_stop(f"{label}|first".encode())
        run()  # settle any lazy state after preparation, outside the brackets
        for calls in (n, 2 * n):
            gc.collect()
            gc.disable()  # a collection inside a bracket would not repeat
            bracket.count_start()
            for _ in range(calls):
                run()
            bracket.count_stop(f"{label}|{calls}".encode())
            gc.enable()
        record["calls"][label] = n
    record["isa"] = isa_used()
    return record


# ---------------------------------------------------------------------------------------------
# The driver: starts workers under valgrind and reads their dumps.

def read_dumps(directory):
    """{bracket label: {event: count}} from callgrind's dump files in `directory`."""
    out = {}
    for name in os.listdir(directory):
        if not name.startswith("callgrind.out"):
            continue
        with open(os.path.join(directory, name)) as f:
            text = f.read()
        trigger = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
        events = re.search(r"^events: (.*)$", text, re.M)
        totals = re.search(r"^(?:summary|totals): (.*)$", text, re.M)
        if trigger and events and totals:
            values = [int(v) for v in totals.group(1).split()]
            out[trigger.group(1)] = dict(zip(events.group(1).split(), values))
    return out


def count_group(requests, python, helper, timeout=900):
    """Run one worker under valgrind with `python` (any environment's interpreter that can
    import this package); return {label: counts per call} and the worker's record."""
    scratch = tempfile.mkdtemp(prefix="count-")
    start = time.perf_counter()
    try:
        env = {**os.environ, **COUNT_ENV}
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        command = ["valgrind", *VALGRIND_ARGS,
                   f"--callgrind-out-file={os.path.join(scratch, 'callgrind.out')}",
                   python, "-m", "benchmarks.instructions", "--worker", helper]
        done = subprocess.run(command, input=json.dumps(requests), capture_output=True,
                              text=True, env=env, cwd=scratch, timeout=timeout)
        lines = done.stdout.strip().splitlines()
        if done.returncode or not lines:
            tail = "; ".join(done.stderr.strip().splitlines()[-3:])
            raise RuntimeError(f"the valgrind worker failed (exit {done.returncode}): {tail}")
        record = json.loads(lines[-1])
        dumps = read_dumps(scratch)
        record["seconds"] = round(time.perf_counter() - start, 1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    counts = {}
    for label, n in record["calls"].items():
        once, twice = dumps.get(f"{label}|{n}"), dumps.get(f"{label}|{2 * n}")
        if once is None or twice is None:
            record["errors"][label] = "callgrind wrote no dump for its brackets"
            continue
        counts[label] = (twice["Ir"] - once["Ir"]) / n
    record["first"] = {label: dumps[f"{label}|first"]["Ir"] for label in record["calls"]
                       if f"{label}|first" in dumps}
    return counts, record


def count_cases(cases, python=None, jobs=2, extra_every=None, first_call=False):
    """Count `cases` [(label, cls, params)], one valgrind worker per library, `jobs` at a
    time (counts do not depend on load). Returns {"counts": {label: {...}}, "errors":
    {label: reason}, "isa": {library group: {...}}}."""
    reason = unavailable()
    if reason:
        raise NotImplementedError(reason)
    python = python or sys.executable
    groups = {}
    for label, cls, params in cases:
        groups.setdefault(case_library(cls, params), []).append(
            {"label": label, "cls": cls, "params": list(params), "module": module_of(cls),
             "calls": 50 if extra_every is not None else calls_for(case_size(cls, params)),
             "extra_every": extra_every, "first_call": first_call})
    helper_dir = tempfile.mkdtemp(prefix="count-helper-")
    try:
        helper = build_helper(helper_dir)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            # the torch worker is the longest (torch's import under valgrind): start it first
            order = sorted(groups, key=lambda group: group != "torch")
            futures = {group: pool.submit(count_group, groups[group], python, helper)
                       for group in order}
            answers = {group: futures[group].result() for group in groups}  # cases in order
    finally:
        shutil.rmtree(helper_dir, ignore_errors=True)
    out = {"counts": {}, "errors": {}, "isa": {}, "calls": {}, "first": {}}
    for group, (counts, record) in answers.items():
        out["counts"].update(counts)
        out["first"].update(record["first"])
        out["errors"].update(record["errors"])
        out["calls"].update(record["calls"])
        out["isa"][group] = record["isa"]
        out.setdefault("seconds", {})[group] = record["seconds"]
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        record = worker(argv[1], json.loads(sys.stdin.read()))
        print(json.dumps(record))
        return 0
    if argv[:1] in (["-h"], ["--help"]) or (argv and argv[0] != "--json"):
        print(__doc__.split("\n\n")[0] + "\n\n    python -m tools count family [--json FILE]")
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    start = time.perf_counter()
    try:
        result = count_cases(family_cases())
    except (NotImplementedError, RuntimeError) as exc:
        print(f"instructions: {exc}", file=sys.stderr)
        return 2
    cases = {label: (cls, params) for label, cls, params in family_cases()}
    print(f"{'case':40} {'instructions/call':>18} {'per element':>12}")
    for label, count in result["counts"].items():
        print(f"{label:40} {count:18,.0f} {count / case_size(*cases[label]):12.2f}")
    for label, reason in result["errors"].items():
        print(f"{label:40} {reason}")
    print(f"ISA: {json.dumps(result['isa'])}\n{time.perf_counter() - start:.0f} s")
    if argv[:1] == ["--json"]:
        with open(argv[1], "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
