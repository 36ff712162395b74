"""`asv publish`, then make the dashboard self-contained so that it works without internet
(tools/dashboard/offline.py: the CDN libraries vendored from npm, checked by hash).

    python -m tools publish                  # asv publish + vendoring, into html/
    python -m tools publish --config FILE    # another asv config (its html_dir)
    python -m tools publish --no-asv         # only vendor an already published html dir

If report/findings.md exists (tools/reports/findings.py), it is rendered to html/findings/ and linked
from the dashboard's navigation bar. Every release history with results is published into
html/history/NAME/ and linked from there too (tools/dashboard/history_pages.py).

Serve the result with `python -m asv preview` or any static server (not file://).
"""
import argparse
import os
import re
import sys

from .. import REPO_ROOT
from ..results.asv_launcher import run_asv
from ..results.atomic import copy_atomic, write_atomic
from ..results.config import load_config
from ..results.rows import ResultsError, result_files
from .history_pages import publish_histories
from .release_pages import add_changes_link, changes_page
from .offline import NAV_ANCHOR, PublishError, make_offline

FINDINGS_LINK = ('<li id="nav-li-findings"><a href="findings/index.html">Findings</a></li>')


PAGE = ('<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        '<link rel="stylesheet" href="{up}vendor/bootstrap-3.1.1/dist/css/'
        'bootstrap.min.css"></head><body><div class="container">'
        '<p><a href="{up}index.html">&larr; dashboard</a></p>{body}</div></body></html>\n')


def _render_page(source, target, title, up):
    """One markdown file of report/ as a page of the dashboard; its links to other .md
    files of report/ point at their rendered pages."""
    import markdown

    with open(source, encoding="utf-8") as f:
        text = re.sub(r"\]\(([\w./-]+)\.md\)", r"](\1.html)", f.read())
    body = markdown.markdown(text, extensions=["tables", "fenced_code"])
    body = body.replace("<table>", '<table class="table table-condensed">')
    os.makedirs(os.path.dirname(target), exist_ok=True)
    write_atomic(target, PAGE.format(title=title, up=up, body=body))


def add_findings(html_dir, report_dir):
    """Render report_dir/findings.md into html_dir/findings/ (with the release comparisons and
    the calibration it links to) and link it from index.html."""
    source = os.path.join(report_dir, "findings.md")
    if not os.path.isfile(source):
        return False
    target = os.path.join(html_dir, "findings")
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(report_dir):
        if name.endswith(".png"):
            copy_atomic(os.path.join(report_dir, name), target)
    _render_page(source, os.path.join(target, "index.html"), "Findings", "../")
    for name in sorted(os.listdir(report_dir)):
        if name.endswith(".md") and name != "findings.md":
            _render_page(os.path.join(report_dir, name),
                         os.path.join(target, name[:-3] + ".html"), name[:-3], "../")
    releases = os.path.join(report_dir, "releases")
    if os.path.isdir(releases):
        for name in sorted(os.listdir(releases)):
            if name.endswith(".md"):
                _render_page(os.path.join(releases, name),
                             os.path.join(target, "releases", name[:-3] + ".html"),
                             name[:-3], "../../")
    index = os.path.join(html_dir, "index.html")
    with open(index, encoding="utf-8") as f:
        text = f.read()
    if FINDINGS_LINK not in text:
        text = text.replace(NAV_ANCHOR, FINDINGS_LINK + "\n\t" + NAV_ANCHOR, 1)
        write_atomic(index, text)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=os.path.join(REPO_ROOT, "asv.conf.json"))
    parser.add_argument("--report", default=os.path.join(REPO_ROOT, "report"),
                        help="findings report folder to include (default: report/)")
    parser.add_argument("--no-asv", action="store_true",
                        help="do not run asv publish; only vendor the published html dir")
    parser.add_argument("--no-histories", action="store_true",
                        help="do not publish the release histories into html/history/")
    args = parser.parse_args(argv)
    root = os.path.dirname(os.path.abspath(args.config))
    try:
        conf = load_config(args.config)
        if not args.no_asv:
            result_files(os.path.join(root, conf["results_dir"]))  # none: say so, not asv
    except ResultsError as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 2
    html_dir = os.path.join(root, conf["html_dir"])
    if not args.no_asv:
        proc = run_asv(["publish"], args.config, capture=True)
        if proc.returncode != 0:
            print(proc.stdout + proc.stderr, file=sys.stderr)
            print("publish: asv publish failed (see above)", file=sys.stderr)
            return 1
    if not os.path.isfile(os.path.join(html_dir, "index.html")):
        print(f"publish: {html_dir}/index.html does not exist; run asv publish first",
              file=sys.stderr)
        return 2
    try:
        make_offline(html_dir)
        add_findings(html_dir, args.report)
        if not args.no_histories:
            for name in publish_histories(html_dir):
                print(f"published the {name} history into "
                      f"{os.path.relpath(os.path.join(html_dir, 'history', name))}/")
            page = changes_page(html_dir)
            add_changes_link(os.path.join(html_dir, "index.html"))
            print(f"wrote {os.path.relpath(page)}")
    except PublishError as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 2
    print(f"published {os.path.relpath(html_dir)}/ (self-contained; serve it with "
          "'python -m asv preview' or any static server)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
