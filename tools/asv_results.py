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


def result_files(results_dir, machine=None):
    """Every result file under `results_dir`, newest first (machine.json files excluded)."""
    pattern = os.path.join(results_dir, machine or "*", "*.json")
    files = [f for f in glob.glob(pattern) if os.path.basename(f) != "machine.json"]
    if not files:
        where = f"for machine {machine!r} " if machine else ""
        raise ResultsError(f"no asv results {where}under {results_dir}: run the suite first")
    return sorted(files, key=os.path.getmtime, reverse=True)


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
        combos = itertools.product(*bench["params"]) if bench["params"] else [()]
        for combo, value in zip(combos, values):
            rows.append(
                Row(
                    benchmark=name,
                    params=dict(zip(bench["param_names"], combo)),
                    value=float("nan") if value is None else float(value),
                    unit=bench.get("unit", ""),
                    env_name=results.env_name,
                    env_params=dict(results.params),
                )
            )
    return rows


def unquote(value):
    """asv stores string params as their repr: "'cpu'" -> "cpu"."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
