"""The repository's asv.conf.json, read with one-line errors: every tool that needs it goes
through `load_config`, so a missing or malformed file is one sentence, not a traceback."""
import os

from .. import REPO_ROOT, ToolError

REQUIRED = ("benchmark_dir", "results_dir", "html_dir")


def provenance_dir(results_dir, machine):
    """The project's own records of a machine's runs (the run-time provenance of each result
    file, the likwid-bench anchor): provenance/MACHINE/ beside results/, never inside it,
    where asv would try to read them as results ("Skipping results: could not load ...")."""
    parent = os.path.dirname(os.path.abspath(results_dir))
    return os.path.join(parent, "provenance", machine)


def machine_report_dir(machine, report_root=None):
    """A machine's own reports: report/machines/MACHINE/ (findings, headline, histories). A run
    on one machine writes there and never rewrites another machine's reports."""
    return os.path.join(report_root or os.path.join(REPO_ROOT, "report"), "machines", machine)


def record_of(result_file):
    """The provenance record of one result file: provenance/MACHINE/<same name>."""
    machine_dir = os.path.dirname(os.path.abspath(result_file))
    return os.path.join(provenance_dir(os.path.dirname(machine_dir),
                                       os.path.basename(machine_dir)),
                        os.path.basename(result_file))


def config_path():
    return os.path.join(REPO_ROOT, "asv.conf.json")


def load_config(path=None):
    """asv.conf.json (JSON with // comments) as a dict; ToolError if it cannot be used."""
    from asv.util import load_json  # asv is not installed in matrix environments

    path = path or config_path()
    if not os.path.isfile(path):
        raise ToolError(f"{path} not found: run from a checkout of this repository "
                           "(asv.conf.json is at its top)")
    try:
        conf = load_json(path, js_comments=True)
    except Exception as exc:  # asv raises its own UserError or ValueError on bad JSON
        detail = " ".join(str(exc).split())[:200]
        raise ToolError(f"{path} is not valid JSON: {detail}") from None
    if not isinstance(conf, dict):
        raise ToolError(f"{path} must hold a JSON object")
    missing = [key for key in REQUIRED if key not in conf]
    if missing:
        raise ToolError(f"{path} lacks {', '.join(missing)}")
    return conf


def write_derived_config(path, base=None, drop=(), **overrides):
    """A copy of the config at `base` (default asv.conf.json) with `overrides` set and the keys
    of `drop` removed, written atomically to `path`; returns `path`. Every run that must read
    this repository but write elsewhere (a scratch run, a history, a publish) goes through it."""
    from .atomic import write_json_atomic

    conf = load_config(base)
    conf.update(overrides)
    for key in drop:
        conf.pop(key, None)
    write_json_atomic(path, conf)
    return path
