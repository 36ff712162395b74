"""Where a history's config, results and rounds live: what the runner (run.py), the report
(steps.py) and the dashboard's history pages share."""
import os

from .. import REPO_ROOT
from ..results.config import load_config

HISTORY_DIR = os.path.join(REPO_ROOT, "history")
ROUNDS_FILE = "rounds.json"


def config_path(name):
    return os.path.join(HISTORY_DIR, f"{name}.asv.conf.json")


def resolved(config, key):
    conf = load_config(config)
    return os.path.normpath(os.path.join(os.path.dirname(config), conf[key]))
