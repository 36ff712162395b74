"""A history's measurements as asv result files, so `asv publish` draws them on the ledger's
commit axis (one point per release, the release names on the tag lines).

asv does not time the histories (tools/run/interleave.py does, as for the release pairs); this
writes what asv itself would have written: benchmarks.json from asv's own discovery, and per
release one result file whose samples are every round's samples and whose value is the median
of the round medians.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.cases import from_label

from .. import REPO_ROOT
from ..results.atomic import write_json_atomic
from .passes import judged_entries

COLUMNS = ["result", "params", "version", "started_at", "duration", "stats_ci_99_a",
           "stats_ci_99_b", "stats_q_25", "stats_q_75", "stats_number", "stats_repeat",
           "samples", "profile"]
ENV_NAME = "uv-py3.11"


def discover(results_dir, benchmark_dir=os.path.join(REPO_ROOT, "benchmarks")):
    """Write results_dir/benchmarks.json with asv's discovery (as `asv run` does); return it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "discovered.json")
        proc = subprocess.run([sys.executable, "-m", "asv.benchmark", "discover",
                               benchmark_dir, out], cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"asv's benchmark discovery failed: {proc.stderr[-2000:]}")
        with open(out) as f:
            found = json.load(f)
    benchmarks = {b["name"]: b for b in found}
    write_json_atomic(os.path.join(results_dir, "benchmarks.json"),
                      dict(benchmarks, version=2))
    return benchmarks


def measured_labels(results_dir):
    """Every case label any machine's rounds.json of this history holds."""
    import glob

    labels = set()
    for path in glob.glob(os.path.join(results_dir, "*", "rounds.json")):
        with open(path) as f:
            data = json.load(f)
        labels.update(data.get("cases") or [])
        for rnd in data.get("measured") or []:
            for values in (rnd.get("values") or {}).values():
                labels.update(values)
    return labels


def keep_measured(results_dir):
    """Cut results_dir/benchmarks.json to the benchmarks the history measures, so its
    dashboard's grid and list hold only those (asv draws a box for every benchmark listed)."""
    path = os.path.join(results_dir, "benchmarks.json")
    if not os.path.isfile(path):
        return []
    wanted = {case.benchmark for case in map(from_label, measured_labels(results_dir))
              if case is not None}
    with open(path) as f:
        listed = json.load(f)
    kept = {name: b for name, b in listed.items() if name == "version" or name in wanted}
    if kept != listed:
        write_json_atomic(path, kept)
    return sorted(name for name in kept if name != "version")


def _stats(samples):
    q = statistics.quantiles(samples, n=4) if len(samples) > 1 else [samples[0]] * 3
    return q[0], q[2]


def result_file(benchmarks, machine_params, commit, date_ms, values, started_at):
    """The asv result document of one release: values {case label: [round entries]}, each
    entry {"samples", "median", "number"} of one round."""
    by_bench = {}
    for label, entries in values.items():
        case = from_label(label)
        by_bench.setdefault(case.benchmark, {})[case.asv_params] = entries
    results = {}
    for name, measured in by_bench.items():
        bench = benchmarks[name]
        combos = _combinations(bench["params"])
        row = {k: [] for k in ("result", "q25", "q75", "number", "repeat", "samples")}
        for combo in combos:
            entries = measured.get(combo)
            if not entries:
                for key in row:
                    row[key].append(None)
                row["result"][-1] = float("nan")
                continue
            samples = [s for e in entries for s in e["samples"]]
            q25, q75 = _stats(samples)
            row["result"].append(statistics.median(e["median"] for e in entries))
            row["q25"].append(q25)
            row["q75"].append(q75)
            row["number"].append(entries[0]["number"])
            row["repeat"].append(len(samples))
            row["samples"].append(samples)
        results[name] = [row["result"], bench["params"], bench["version"], started_at, None,
                         None, None, row["q25"], row["q75"], row["number"], row["repeat"],
                         row["samples"]]
    return {"commit_hash": commit, "env_name": ENV_NAME, "date": date_ms,
            "params": dict(machine_params, python="3.11"), "python": "3.11",
            "requirements": {}, "env_vars": {}, "result_columns": COLUMNS,
            "results": results, "durations": {}, "version": 2}


def _combinations(params):
    import itertools

    return [tuple(combo) for combo in itertools.product(*params)]


def write(results_dir, machine, benchmarks, commit, date_ms, values, started_at):
    """Write (or rewrite, after every round or a change in how rounds are judged) one
    release's result file; a rewrite keeps the time its first round started."""
    with open(os.path.join(results_dir, machine, "machine.json")) as f:
        machine_params = {k: v for k, v in json.load(f).items() if k != "version"}
    path = os.path.join(results_dir, machine, f"{commit[:8]}-{ENV_NAME}.json")
    if os.path.isfile(path):
        with open(path) as f:
            rows = list(json.load(f).get("results", {}).values())
        started_at = rows[0][3] if rows and rows[0][3] else started_at
    doc = result_file(benchmarks, machine_params, commit, date_ms, values, started_at)
    write_json_atomic(path, doc)
    return path


def write_asv_results(history, progress, results_dir, machine, benchmarks):
    """One asv result file per release (not the canary's second build), from every round,
    each point as the report judges it (judged_entries): the dashboard and the report read
    the same values. benchmarks: asv's discovery (results_dir/benchmarks.json)."""
    _, judged = judged_entries(progress["measured"])
    for release in history.releases:
        by_label = judged.get(release.tag, {})
        values = {label: [by_round[n] for n in sorted(by_round)]
                  for label, by_round in by_label.items()}
        started = int(time.time() * 1000)
        write(results_dir, machine, benchmarks, progress["ledger"][release.tag],
              release.timestamp * 1000, values, started)
