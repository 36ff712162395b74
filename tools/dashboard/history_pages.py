"""The release histories' dashboards beside the main one, and the links between them.

Each history with committed results (history/results/NAME/) is published with its own asv
config into html/history/NAME/, made offline like the main dashboard, and given a link back;
the main dashboard (the release matrix), which is the landing page, links every history and
the Findings from its navigation bar.
"""
import json
import glob
import os

from .. import REPO_ROOT, ToolError
from ..history import ledger
from ..history.asv_results import keep_measured
from ..history.releases import load_histories
from ..history.paths import config_path, resolved
from ..results.config import write_derived_config
from ..results.asv_launcher import run_asv
from .offline import make_offline
from .pages import add_nav_items

HOME_LINK = '<li id="nav-li-home"><a href="../../index.html">&larr; all dashboards</a></li>'


def report_link(name, machine):
    """The history's report on one machine (report/machines/MACHINE/history-NAME.md, rendered
    with the findings)."""
    return (f'<li id="nav-li-history-report"><a href="../../findings/machines/{machine}/'
            f'history-{name}.html">{name} history report ({machine})</a></li>')


def history_link(name):
    return (f'<li id="nav-li-history-{name}"><a href="history/{name}/index.html">'
            f'{name} history</a></li>')


def old_harness_machines(results_dir):
    """Machines whose history was measured before the pair protocol: asv's forkserver, the
    releases in one fixed order, one environment reinstalled per release (their rounds.json
    has no "sides"). Their points are drawn, but no step of theirs is a verdict."""
    found = []
    for path in sorted(glob.glob(os.path.join(results_dir, "*", "rounds.json"))):
        try:
            with open(path) as f:
                if "sides" not in json.load(f):
                    found.append(os.path.basename(os.path.dirname(path)))
        except (OSError, ValueError):
            continue
    return found


def old_harness_link(machine):
    return (f'<li id="nav-li-old-harness-{machine}"><a href="../../findings/mechanisms.html">'
            f'{machine}: old harness, its steps are no verdicts</a></li>')


def has_results(results_dir):
    for _, _, files in os.walk(results_dir):
        if any(f.endswith(".json") and f not in ("machine.json", "benchmarks.json",
                                                 "rounds.json") for f in files):
            return True
    return False


def publish_history(name, html_dir=None, results_dir=None, releases_file=None):
    """asv publish of one history into html_dir (default: its config's, html/history/NAME);
    False if it has no results to publish. releases_file: another release list (the tests'
    throw-away histories), whose ledger the results were measured on."""
    config = config_path(name)
    results_dir = results_dir or resolved(config, "results_dir")
    if not has_results(results_dir):
        return False
    keep_measured(results_dir)  # the grid: the history's cases, not the whole suite
    repo = os.path.join(REPO_ROOT, ".asv", "publish-ledger")
    # asv reads commit order, dates and tags from it
    ledger.generate(name, *([releases_file] if releases_file else []), root=repo)
    html_dir = html_dir or resolved(config, "html_dir")
    path = write_derived_config(
        os.path.join(REPO_ROOT, ".asv", "publish-config", f"{name}.asv.conf.json"), config,
        drop=("env_dir",), repo=os.path.join(repo, name), results_dir=results_dir,
        benchmark_dir=os.path.join(REPO_ROOT, "benchmarks"), html_dir=html_dir)
    proc = run_asv(["publish"], path, capture=True)
    if proc.returncode != 0:
        raise ToolError(f"asv publish of the {name} history failed: "
                           + " ".join((proc.stdout + proc.stderr).split())[-300:])
    make_offline(html_dir)
    from .release_pages import CHANGES_LINK, confirmed_by_history, name_releases, \
        write_regressions, write_skip_reasons

    name_releases(html_dir)
    write_skip_reasons(html_dir, name, results_dir)
    by_machine = [(machine, steps) for machine, steps, _ in
                  confirmed_by_history(results_dirs={name: results_dir}).get(name, [])]
    write_regressions(html_dir, by_machine)  # no confirmed step: an empty page
    machine = by_machine[0][0] if by_machine else None
    links = [HOME_LINK, CHANGES_LINK.format(up="../../")]
    reports = {os.path.basename(os.path.dirname(path)) for path in glob.glob(
        os.path.join(REPO_ROOT, "report", "machines", "*", f"history-{name}.md"))}
    if reports:  # the report of the machine whose steps the Regressions page lists
        links.append(report_link(name, machine if machine in reports else min(reports)))
    links += [old_harness_link(m) for m in old_harness_machines(results_dir)]
    add_nav_items(os.path.join(html_dir, "index.html"), links)
    return True


def publish_histories(main_html_dir, results_root=None):
    """Publish every history that has results under main_html_dir/history/ and link each from
    the main dashboard; return the names published."""
    published = []
    for name in load_histories():
        results_dir = os.path.join(results_root, name) if results_root else None
        html_dir = os.path.join(main_html_dir, "history", name)
        if publish_history(name, html_dir, results_dir):
            published.append(name)
    if published:
        add_nav_items(os.path.join(main_html_dir, "index.html"),
                 [history_link(name) for name in published])
    return published
