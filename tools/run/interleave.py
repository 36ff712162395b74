"""Interleaved rounds over N environments: the one measuring protocol of release pairs (N = 2)
and release histories (N = every release, plus the canary's second build).

Each round starts one fresh worker process per environment (tools/run/pair_worker.py) and
takes the cases one by one: a case is prepared and timed in every environment back to back,
so all releases of one case are measured seconds apart. The order of the environments is
rotated from case to case and from round to round (`round_order`), so no release is always
first (warm caches, turbo) or always last. Every round's samples are kept with the position
each environment had, and the caller saves after every round.
"""
import json
import math
import os
import subprocess
import tempfile
import time

from benchmarks.common import DATA_CACHE_VAR
from benchmarks.slowdown import INJECT_VAR

from .. import REPO_ROOT

# Large matrices drawn once and read by every worker (benchmarks/common.py); the same bits.
DATA_CACHE = os.path.join(REPO_ROOT, ".asv", "data-cache")
# Every worker starts from one malloc state, whatever ran before in it. glibc's dynamic mmap
# threshold rises to the size of the largest mmapped block freed so far (at most 32 MB, the
# trim threshold following at twice it), so in a worker whose earlier cases freed a 4 MB block
# the 4 MB outputs of a 1M-element case come from the reused heap, and in another they are
# fresh, page-faulted mappings: eager GELU at 1M read 2.2-11.4 ms in 8 bare processes (sd of
# log 51 %). Fixed at the values the dynamic rule converges to, the same 8 read 2.1-4.1 ms
# (22 %): report/mechanisms.md. Setting them disables the dynamic rule, for every case alike.
# And inductor compiles in the process that asked (no background pool of compile workers
# starting up beside the timed kernel: report/mechanisms.md, section 6).
WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20),
              "MALLOC_TRIM_THRESHOLD_": str(64 * 2**20),
              "TORCHINDUCTOR_COMPILE_THREADS": "1"}


REPEAT = 7  # batches per case and round; their median is the unit of analysis


def case_requests(cases, samples=REPEAT):
    """[(label, worker request)] of suite cases (benchmarks.cases.Case): what every rounds
    protocol (pairs, histories, narrowing, the experiments) sends a worker."""
    return [(case.label, {"module": case.module, "class": case.cls, "params": list(case.params),
                          "samples": samples, "witness": witnessed(case),
                          "names": {k: str(v) for k, v in case.values.items()}})
            for case in cases]


def witnessed(case):
    """Compiled GELU: the case whose level the Sleef state chooses (tools/run/state_witness.py),
    so its worker reads the state right after timing it."""
    v = case.values
    return case.cls == "Gelu" and v.get("mode") == "compiled" and v.get("device") == "cpu"


def round_logs(rounds, a, b, label):
    """log(B / A) of `label` in every round (measure_round's schema) that measured both sides:
    the paired unit every verdict on rounds judges."""
    return [math.log(r["values"][b][label]["median"] / r["values"][a][label]["median"])
            for r in rounds if label in r["values"][a] and label in r["values"][b]]


def round_order(sides, case_index, round_number):
    """The environments in the order they time case `case_index` of round `round_number`
    (both from 0 or 1 alike): `sides` rotated by one place per case and per round. For two
    sides this alternates A first / B first from case to case and round to round."""
    sides = list(sides)
    shift = (case_index + round_number + 1) % len(sides)
    return sides[shift:] + sides[:shift]


class Worker:
    """A fresh pair_worker process in one environment."""

    def __init__(self, python, inject=None, extra_env=None):
        env = {**os.environ, **WORKER_ENV, **(extra_env or {})}
        env.pop(INJECT_VAR, None)
        env[DATA_CACHE_VAR] = DATA_CACHE
        os.makedirs(DATA_CACHE, exist_ok=True)
        if inject is not None:
            env[INJECT_VAR] = json.dumps(inject)
        self.proc = subprocess.Popen([python, "-m", "tools.run.pair_worker"], cwd=REPO_ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        self.code_version = self._read()["code_version"]

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker of {self.proc.args[0]} stopped (exit "
                               f"{self.proc.wait()}): see its error above")
        return json.loads(line)

    def time(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def with_passes(cases, passes):
    """The round's work when case `label` is timed passes.get(label, 1) times in every worker:
    pass after pass through the case list, so a case's passes are minutes apart, not back to
    back. The worker drops a case's data and callable after each timing, so every pass
    prepares it again (report/replicates/: passes inside one worker are nearly as independent
    as new workers, ICC 0.00-0.14)."""
    most = max(passes.values(), default=1)
    return [(label, request) for p in range(most) for label, request in cases
            if p < passes.get(label, 1)]


def fold_passes(medians):
    """The stored summary of a case timed in several passes: the geometric mean of their
    medians, kept in the rounds file beside every pass; a history judges the fastest half
    of them instead (fastest_of, tools/history/passes.py)."""
    return math.exp(sum(math.log(m) for m in medians) / len(medians))


def add_pass(values, label, entry):
    """Keep one timing of `label`; a second pass joins the first: `passes` lists every pass's
    median (`pass_seconds` its cost: the first holds the compile), `median` becomes their
    geometric mean (the round's one value), the samples are pooled, and position is the first
    pass's."""
    first = values.get(label)
    if first is None:
        values[label] = entry
        return
    first.setdefault("passes", [first["median"]]).append(entry["median"])
    first.setdefault("pass_seconds", [first["seconds"]]).append(entry["seconds"])
    first["median"] = fold_passes(first["passes"])
    first["samples"] = first["samples"] + entry["samples"]
    first["steal"] = first.get("steal", 0) + entry.get("steal", 0)
    first["seconds"] = round(first.get("seconds", 0) + entry["seconds"], 3)
    if "witness" in entry:
        first["witness"] = first.get("witness", []) + entry["witness"]


def measure_round(number, pythons, cases, inject=None, progress=None, envs=None):
    """One round: {"values": {side: {label: {...}}}, "skipped": {side: {label: reason}},
    "benchmark_versions", "seconds"}.

    pythons: {side: interpreter}, in the base order that round_order rotates; cases:
    [(label, request)], a label listed again being another pass of it (with_passes, add_pass);
    envs: {side: extra environment variables of its worker}. Workers start one after the other (a torch import is ~2 s of CPU that
    must not overlap a measurement) and all stay alive for the round."""
    t0 = time.perf_counter()
    sides = list(pythons)
    workers = {}
    try:
        for side in sides:
            workers[side] = Worker(pythons[side], (inject or {}).get(side),
                                   (envs or {}).get(side))
        rnd = {"round": number, "values": {side: {} for side in sides},
               "benchmark_versions": {side: {"code": w.code_version}
                                      for side, w in workers.items()}}
        for i, (label, request) in enumerate(cases):
            for position, side in enumerate(round_order(sides, i, number)):
                t_case = time.perf_counter()
                answer = workers[side].time(request)
                if "median" in answer:
                    entry = {"median": answer["median"], "samples": answer["samples"],
                             "number": answer["number"], "position": position,
                             "first": position == 0, "params": request["names"],
                             "steal": answer.get("steal", 0),
                             "seconds": round(time.perf_counter() - t_case, 3)}
                    if "witness" in answer:  # the Sleef state right after (a list: passes)
                        entry["witness"] = [answer["witness"]]
                    add_pass(rnd["values"][side], label, entry)
                else:  # never a bare n/a: why this release has no value here
                    reason = answer.get("skipped") or answer.get("error", "no answer")
                    rnd.setdefault("skipped", {}).setdefault(side, {})[label] = reason
            if progress:
                progress(i + 1, len(cases))
    finally:
        for worker in workers.values():
            worker.close()
    rnd["seconds"] = round(time.perf_counter() - t0, 1)
    return rnd


BARE_CASE = os.path.join(REPO_ROOT, "tools", "run", "bare_case.py")


def time_bare(python, request, env=None, cwd=None):
    """{"median", "samples", "faults_per_call", ...} of one fresh bare process (environment
    `env`, default the workers' malloc state). It runs in an empty folder, so `import
    benchmarks` or `tools` cannot find the suite; it says what it imported."""
    with tempfile.TemporaryDirectory() as empty:
        proc = subprocess.run([python, BARE_CASE, json.dumps(request)], cwd=cwd or empty,
                              text=True, capture_output=True,
                              env=env if env is not None else {**os.environ, **WORKER_ENV})
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the bare probe failed in {python}: {tail}")
    answer = json.loads(lines[-1])
    if answer["suite_modules"]:
        raise RuntimeError(f"the bare probe imported the suite: {answer['suite_modules']}")
    return answer
