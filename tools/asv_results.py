"""Reading asv result files: one row per benchmark and parameter combination."""
import glob
import itertools
import json
import os
from dataclasses import dataclass

from asv.results import Results

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ResultsError(Exception):
    """Bad input for a tool: reported as one line, never a traceback."""


@dataclass(frozen=True)
class Row:
    benchmark: str  # e.g. "bench_sum.Sum.time_sum"
    params: dict  # param name -> value, as asv writes it (strings are quoted: "'cpu'")
    value: float  # median, or the tracked value; nan when skipped or failed
    unit: str
    env_name: str
    env_params: dict  # machine, python and library versions of the run
    commit: str = ""
    date: int = 0  # of the commit, milliseconds since the epoch (asv's convention)
    stats: dict = None  # asv's statistics of the samples (ci_99_a, q_25, repeat, ...)
    samples: tuple = None  # the raw timings, when the run used --record-samples


def result_files(results_dir, machine=None):
    """Every result file under `results_dir`, newest run first (machine.json excluded).

    Ordered by the date recorded inside each file, not by file time: a fresh clone gives
    every file the same mtime."""
    pattern = os.path.join(results_dir, machine or "*", "*.json")
    files = [f for f in glob.glob(pattern) if os.path.basename(f) != "machine.json"]
    if not files:
        where = f"for machine {machine!r} " if machine else ""
        raise ResultsError(f"no asv results {where}under {results_dir}: run the suite first")
    return sorted(files, key=_recorded_date, reverse=True)


def _recorded_date(path):
    try:
        with open(path) as f:
            data = json.load(f)
        return (data.get("date") or 0, os.path.getmtime(path))  # the commit's date
    except (OSError, ValueError):
        return (0, os.path.getmtime(path))


def _benchmark_info(results_dir):
    path = os.path.join(results_dir, "benchmarks.json")
    if not os.path.exists(path):
        raise ResultsError(f"{path} is missing: asv writes it on every run")
    with open(path) as f:
        return json.load(f)


def load_rows(path, results_dir):
    """All rows of one result file."""
    info = _benchmark_info(results_dir)
    results = Results.load(path)
    rows = []
    for name in results.get_result_keys(info):
        bench = info[name]
        values = results.get_result_value(name, bench["params"])
        stats = results.get_result_stats(name, bench["params"])
        samples = results.get_result_samples(name, bench["params"])
        combos = itertools.product(*bench["params"]) if bench["params"] else [()]
        for combo, value, stat, sample in zip(combos, values, stats, samples):
            rows.append(
                Row(
                    benchmark=name,
                    params=dict(zip(bench["param_names"], combo)),
                    value=float("nan") if value is None else float(value),
                    unit=bench.get("unit", ""),
                    env_name=results.env_name,
                    env_params=dict(results.params),
                    commit=results.commit_hash,
                    date=results.date or 0,
                    stats=stat,
                    samples=tuple(sample) if sample else None,
                )
            )
    return rows


def unquote(value):
    """asv stores string params as their repr: "'cpu'" -> "cpu"."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
