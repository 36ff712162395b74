"""Reading asv result files: one row per benchmark and parameter combination."""
import glob
import itertools
import json
import math
import os
from dataclasses import dataclass

from asv.results import Results
from .. import ToolError

# Benchmark classes renamed since results were stored: old name -> current name. Rows of older
# runs are read under the current name, so they still pair with new runs in every report.
RENAMED = {
    "bench_compile.Compile.": "bench_compile.StartupCosts.",
    "bench_provenance.Threads.": "bench_provenance.ThreadCounts.",
}


def current_name(benchmark):
    for old, new in RENAMED.items():
        if benchmark.startswith(old):
            return new + benchmark[len(old):]
    return benchmark


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

    @property
    def values(self):
        """{param name: value without asv's quotes}: {'size': '100', 'impl': 'numpy_sum'}."""
        return {name: unquote(v) for name, v in self.params.items()}

    @property
    def key(self):
        """The unquoted parameter values in order: ('100', 'numpy_sum', 'cpu')."""
        return tuple(self.values.values())

    @property
    def label(self):
        """'Class.method(v1, v2)': how the reports name a case."""
        cls_method = ".".join(self.benchmark.split(".")[-2:])
        return f"{cls_method}({', '.join(self.key)})" if self.params else cls_method


class RowIndex:
    """The rows of one run by benchmark ('Sum.time_sum', without the module) and key."""

    def __init__(self, rows):
        self.rows = rows
        self.index = {}
        for row in rows:
            self.index.setdefault(row.benchmark.split(".", 1)[-1], {})[row.key] = row.value

    def get(self, benchmark, *params):
        """The value, or None where it was not measured (absent, skipped or failed)."""
        value = self.index.get(benchmark, {}).get(tuple(str(p) for p in params))
        return None if value is None or math.isnan(value) else value

    def table(self, benchmark):
        """{key: value} of one benchmark's measured cases."""
        return {k: v for k, v in self.index.get(benchmark, {}).items() if not math.isnan(v)}

    def env(self):
        return self.rows[0].env_params if self.rows else {}


def result_files(results_dir, machine=None):
    """Every result file under `results_dir`, newest run first (machine.json excluded).

    Ordered by the date recorded inside each file, not by file time: a fresh clone gives
    every file the same mtime."""
    pattern = os.path.join(results_dir, machine or "*", "*.json")
    files = [f for f in glob.glob(pattern) if os.path.basename(f) != "machine.json"]
    if not files:
        where = f"for machine {machine!r} " if machine else ""
        raise ToolError(f"no asv results {where}under {results_dir}: run the suite first")
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
        raise ToolError(f"{path} is missing: asv writes it on every run")
    return read_json(path)


def read_json(path):
    """A stored JSON file, or ToolError in one line (unreadable, truncated)."""
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ToolError(f"{path} is not valid JSON (truncated?): {exc}") from None


def load_results(path):
    """asv's Results of one file, or ToolError in one line."""
    read_json(path)  # asv's own message for a truncated file is a traceback
    try:
        return Results.load(path)
    except Exception as exc:  # asv's UserError: a file of another format
        raise ToolError(f"{path}: {' '.join(str(exc).split())[:200]}") from None


def load_rows(path, results_dir):
    """All rows of one result file: every benchmark the suite still defines, whatever version
    of its code measured it (asv's own reader drops results of an older version: a change to
    a shared `setup` would hide every earlier run). Values are read with the parameters stored
    beside them; a benchmark that gained a parameter since (appended last, as Gelu's malloc)
    names the older rows' values with the leading parameter names."""
    info = _benchmark_info(results_dir)
    results = load_results(path)
    rows = []
    for name in sorted(k for k in results.get_all_result_keys() if k in info):
        bench = info[name]
        params = results.get_result_params(name)
        names = bench["param_names"][:len(params)]
        values = results.get_result_value(name, params)
        stats = results.get_result_stats(name, params)
        samples = results.get_result_samples(name, params)
        combos = itertools.product(*params) if params else [()]
        for combo, value, stat, sample in zip(combos, values, stats, samples):
            rows.append(
                Row(
                    benchmark=current_name(name),
                    params=dict(zip(names, combo)),
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
