"""Where a history's config, results and rounds live, and reading its result files: what the
runner (run.py), the report (steps.py) and the dashboard's history pages share."""
import glob
import itertools
import json
import os

from .. import REPO_ROOT
from ..results.config import load_config
from .subset import case_name, short_name

HISTORY_DIR = os.path.join(REPO_ROOT, "history")
ROUNDS_FILE = "rounds.json"


def config_path(name):
    return os.path.join(HISTORY_DIR, f"{name}.asv.conf.json")


def resolved(config, key):
    conf = load_config(config)
    return os.path.normpath(os.path.join(os.path.dirname(config), conf[key]))


def result_file(results_dir, machine, commit):
    paths = glob.glob(os.path.join(results_dir, machine, f"{commit[:8]}-*.json"))
    return paths[0] if len(paths) == 1 else None


def samples_by_case(path, cases):
    """{short case name: [samples]} of the cases stored in one result file."""
    if path is None:
        return {}
    with open(path) as f:
        data = json.load(f)
    column = data["result_columns"].index("samples")
    out = {}
    wanted = {case_name(b, p): short_name(b, p) for b, p in cases}
    for bench, row in data["results"].items():
        if len(row) <= column or row[column] is None:
            continue
        for params, samples in zip(itertools.product(*row[1]), row[column]):
            name = case_name(bench, params)
            if name in wanted and samples:
                out[wanted[name]] = samples
    return out
