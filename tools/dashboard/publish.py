"""`asv publish`, then make the dashboard self-contained so that it works without internet
(tools/dashboard/offline.py: the CDN libraries vendored from npm, checked by hash).

    python -m tools publish                  # asv publish + vendoring, into html/
    python -m tools publish --config FILE    # another asv config (its html_dir)
    python -m tools publish --no-asv         # only vendor an already published html dir

The graphs draw one series per machine and library releases: asv publishes from a staged copy
of results/ whose params keep only those (tools/dashboard/series.py). Every report of report/
is rendered under html/findings/ beside a landing page listing every machine (CPU model,
ISA, cores, GPU) with its own reports, linked from the navigation bar
(tools/dashboard/machines_page.py). Every release history with results is published into
html/history/NAME/ and linked from there too (tools/dashboard/history_pages.py).

Serve the result with `python -m asv preview` or any static server (not file://).
"""
import json
import os
import shutil
import sys

from .. import REPO_ROOT, ToolError, command_parser, run_main
from ..results.asv_launcher import run_asv
from ..results.atomic import write_atomic
from ..results.config import load_config
from ..results.rows import result_files
from .history_pages import publish_histories
from .release_pages import add_changes_link, changes_page
from .machines_page import landing_page, render_reports
from .offline import make_offline
from .pages import add_nav_items
from .series import stage_results

FINDINGS_LINK = ('<li id="nav-li-findings"><a href="findings/index.html">Machines &amp; '
                 'findings</a></li>')
STAGING = os.path.join(REPO_ROOT, ".asv", "publish")


def add_reports(html_dir, report_dir, results_dir):
    """Render report_dir into html_dir/findings/ with the machines' landing page, and link
    it from index.html."""
    if not os.path.isdir(report_dir):
        return False
    target = os.path.join(html_dir, "findings")
    shutil.rmtree(target, ignore_errors=True)  # a report moved or removed leaves no stale page
    render_reports(report_dir, target)
    landing_page(results_dir, report_dir, target)
    add_nav_items(os.path.join(html_dir, "index.html"), [FINDINGS_LINK])
    return True


def publish_config(config, staging):
    """A copy of `config` that publishes the staged results (tools/dashboard/series.py) into
    the config's own html_dir."""
    conf = load_config(config)
    root = os.path.dirname(os.path.abspath(config))
    results_dir = os.path.join(root, conf["results_dir"])
    conf.update(repo=os.path.join(root, conf.get("repo", ".")),
                benchmark_dir=os.path.join(root, conf["benchmark_dir"]),
                env_dir=os.path.join(root, conf.get("env_dir", "env")),
                results_dir=stage_results(results_dir, os.path.join(staging, "results")),
                html_dir=os.path.join(root, conf["html_dir"]))
    path = os.path.join(staging, "asv.conf.json")
    write_atomic(path, json.dumps(conf, indent=1))
    return path


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--config", default=os.path.join(REPO_ROOT, "asv.conf.json"))
    parser.add_argument("--report", default=os.path.join(REPO_ROOT, "report"),
                        help="findings report folder to include (default: report/)")
    parser.add_argument("--no-asv", action="store_true",
                        help="do not run asv publish; only vendor the published html dir")
    parser.add_argument("--no-histories", action="store_true",
                        help="do not publish the release histories into html/history/")
    args = parser.parse_args(argv)
    root = os.path.dirname(os.path.abspath(args.config))
    conf = load_config(args.config)
    if not args.no_asv:
        result_files(os.path.join(root, conf["results_dir"]))  # none: say so, not asv
    html_dir = os.path.join(root, conf["html_dir"])
    if not args.no_asv:
        staged = publish_config(args.config, STAGING)
        proc = run_asv(["publish"], staged, capture=True)
        if proc.returncode != 0:
            print(proc.stdout + proc.stderr, file=sys.stderr)
            print("publish: asv publish failed (see above)", file=sys.stderr)
            return 1
    if not os.path.isfile(os.path.join(html_dir, "index.html")):
        raise ToolError(f"{html_dir}/index.html does not exist; run asv publish first")
    make_offline(html_dir)
    add_reports(html_dir, args.report, os.path.join(root, conf["results_dir"]))
    if not args.no_histories:
        for name in publish_histories(html_dir):
            print(f"published the {name} history into "
                  f"{os.path.relpath(os.path.join(html_dir, 'history', name))}/")
        page = changes_page(html_dir)
        add_changes_link(os.path.join(html_dir, "index.html"))
        print(f"wrote {os.path.relpath(page)}")
    print(f"published {os.path.relpath(html_dir)}/ (self-contained; serve it with "
          "'python -m asv preview' or any static server)")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.dashboard.publish"))
