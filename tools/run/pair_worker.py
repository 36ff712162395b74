"""One environment's side of a comparison round: a fresh process that times cases on request.

Started by tools.run.measure_pair with the environment's own python, once per round and
environment. It reads one JSON request per line on stdin ({"module": "bench_sum", "class":
"Sum", "params": [...]}), prepares the case exactly as asv would (the class's `setup`:
device skip, data, compilation and warm-up, all untimed), times its `run` in batches of at
least 10 ms (as asv_runner 0.2.5 and timeit do) and answers one JSON line: the per-call time
of each batch. The other environment's worker answers the same case right before or after,
so the two sides of a pair are seconds apart, not minutes.

No asv import: it runs in environments where only the measured libraries are installed.
"""
import gc
import hashlib
import importlib
import json
import os
import statistics
import sys

from benchmarks import base, common
from benchmarks.timing import measure_batches  # the suite's one timer
from tools.run.state_witness import Witness

BATCH_SECONDS = 0.01
WARMUP_SECONDS = 0.1  # asv_runner's warm-up on CPython
# Batches per case: `samples` of the request, but after MAX_SECONDS of timing no more than
# MIN_BATCHES (a python loop over 10M elements takes ~1 s a call).
MIN_BATCHES = 3
MAX_SECONDS = 1.0
WITNESS = Witness()  # read after a case whose request asks for it (compiled GELU)


def code_version():
    """A hash of the suite's code as this process reads it: both sides must agree."""
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "benchmarks")
    digest = hashlib.sha256()
    paths = sorted(os.path.relpath(os.path.join(d, n), folder)
                   for d, _, names in os.walk(folder) for n in names if n.endswith(".py"))
    for name in paths:  # benchmarks/*.py and the kernel files of benchmarks/kernels/
        with open(os.path.join(folder, name), "rb") as f:
            digest.update(name.encode() + f.read())
    return digest.hexdigest()[:16]


def time_case(run, samples):
    return measure_batches(run, samples, BATCH_SECONDS, WARMUP_SECONDS, MIN_BATCHES,
                           MAX_SECONDS)


def release_data():
    """Drop the case's data and callable: with one worker per release alive at once, eleven
    workers each keeping a 2.5 GB matrix would not fit in memory."""
    base._prepared.cache_clear()
    for cached in (common.uniform_vector, common.normal_vector, common.uniform_matrix):
        cached.cache_clear()
    gc.collect()


def steal_ticks():
    """CPU time the hypervisor gave to others, in clock ticks since boot (/proc/stat's eighth
    field); 0 where there is none. A case timed while the host took the second vCPU reads a
    two-thread kernel's barrier waits, not the release (report/mechanisms.md)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) if len(fields) > 8 else 0
    except (OSError, ValueError):
        return 0


def first_line(exc):
    """'ModuleNotFoundError: No module named ...': an error's type and first line of text."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def prepare(request):
    """(the case prepared, None) or (None, the answer that says why not): asv's skip
    (NotImplementedError) as {"skipped": reason}, anything else as {"error": first line}."""
    try:  # the import too: an environment without a library the case needs says so
        module = importlib.import_module(f"benchmarks.{request['module']}")
        bench = getattr(module, request["class"])()
        bench.setup(*request["params"])
    except NotImplementedError as exc:
        return None, {"skipped": str(exc)}
    except Exception as exc:  # noqa: BLE001 - the preflight reports it, release by release
        return None, {"error": first_line(exc)}
    except SystemExit as exc:  # a module that exits on import
        return None, {"error": f"SystemExit: {exc}"}
    return bench, None


def answer(request):
    """The answer to one request: {"prepared": true} for a preflight ({"prepare_only": true}),
    else the case's batches; a case that cannot be prepared says why."""
    bench, why = prepare(request)
    if bench is None:
        return why
    if request.get("witness"):
        WITNESS.prepare()  # compiled here, not between the timing and its reading
    if request.get("prepare_only"):
        out = {"prepared": True}
    else:
        before = steal_ticks()
        samples, number = time_case(bench.run, request["samples"])
        out = {"samples": samples, "number": number, "median": statistics.median(samples),
               "steal": steal_ticks() - before}
        if request.get("witness"):
            out["witness"] = WITNESS.read()
    del bench
    release_data()
    return out


def serve(stdin, stdout):
    print(json.dumps({"ready": True, "code_version": code_version()}), file=stdout, flush=True)
    for line in stdin:
        print(json.dumps(answer(json.loads(line))), file=stdout, flush=True)


if __name__ == "__main__":  # python -m tools.run.pair_worker, from the repository root
    serve(sys.stdin, sys.stdout)
