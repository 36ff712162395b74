"""`asv publish`, then make the dashboard self-contained so that it works without internet.

asv 0.6.6's index.html loads jQuery, flot, bootstrap, blueimp-md5 and stupidtable from public
CDNs; offline it shows only "Can not determine continental origin of swallow". This fetches
pinned releases of those libraries from the npm registry (each tarball checked against the
integrity hash below), copies the files into html/vendor/ and points index.html at them.
No copy of third-party code lives in this repository; downloads are cached in .asv/vendor/.
It also loads tools/dashboard/www/orderbars-categories-fix.js, without which asv's bar charts (a
parameter on the x-axis) draw only one series: releases could not be seen side by side.

    python -m tools.dashboard.publish                  # asv publish + vendoring, into html/
    python -m tools.dashboard.publish --config FILE    # another asv config (its html_dir)
    python -m tools.dashboard.publish --no-asv         # only vendor an already published html dir

If report/findings.md exists (tools/reports/findings.py), it is rendered to html/findings/ and linked
from the dashboard's navigation bar. Every release history with results is published into
html/history/NAME/ and linked from there too (tools/dashboard/history_pages.py).

Serve the result with `python -m asv preview` or any static server (not file://).
"""
import argparse
import base64
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import urllib.request
from dataclasses import dataclass

from .. import REPO_ROOT
from ..results.config import load_config
from ..results.rows import ResultsError, result_files

REGISTRY = os.environ.get("NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
CACHE_DIR = os.path.join(REPO_ROOT, ".asv", "vendor")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity of the tarball (sha512, base64)
    files: dict  # CDN address in asv's index.html -> file inside the tarball's package/
    extra: tuple = ()  # further files the ones above load by relative path


# asv 0.6.6's CDN addresses and the npm release that provides each file. The cdnjs flot files
# are cdnjs's own minifications, so the unminified originals of the same release stand in;
# stupidtable 1.0.1 is not on npm, its successor stupid-table-plugin 1.1.3 (same API) is.
PACKAGES = [
    Package("jquery", "3.3.1",
            "sha512-Ubldcmxp5np52/ENotGxlLe6aGMvmF4R8S6tZjsP6Knsaxd/xp3Zrh50cG93lR6nPXyUFwzN3ZSOQI0wRJNdGg==",
            {"https://code.jquery.com/jquery-3.3.1.min.js": "dist/jquery.min.js"}),
    Package("flot", "0.8.3",
            "sha512-xg2otcTJDvS+ERK+my4wxG/ASq90QURXtoM4LhacCq0jQW2jbyjdttbRNqU2cPykrpMvJ6b2uSp6SAgYAzj9tQ==",
            {f"https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot{part}.min.js":
             f"jquery.flot{part}.js" for part in ("", ".time", ".selection", ".categories")}),
    Package("flot-orderbars", "1.0.0",
            "sha512-Jv51fvzevUjNXEeozpwEKfPjhiZhfiJddv0WHjduUTCmSF+7T5K7C9c9Y1wIVmUhDBv5fLMjgbwKecT0GIKPZA==",
            {"https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js":
             "js/jquery.flot.orderBars.js"}),
    Package("stupid-table-plugin", "1.1.3",
            "sha512-2Vk7XouQPxUQPRe9w0Fu7ZZ8kHLK7rDoLMsCgtKxRNJ7f4dSOGvW9CkHsq5wD6QsaEnWoyLBYH3xOEsrK3yWBg==",
            {"https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js":
             "stupidtable.min.js"}),
    Package("blueimp-md5", "2.19.0",
            "sha512-DRQrD6gJyy8FbiE4s+bDoXS9hiW3Vbx5uCdwvcCf3zLHL+Iv7LtGHLpr+GZV8rHG8tK766FGYBwRbu8pELTt+w==",
            {"https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js":
             "js/md5.min.js"}),
    Package("bootstrap", "3.1.1",
            "sha512-TAzqS8E/ISpVHP29gYhy+1NSV+FJwApDVQhDfgLYsIuUDJiqJzH2DfORN5tiu+Ie2iBLrzEG34t4Rf465cigqg==",
            {"https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js":
             "dist/js/bootstrap.min.js",
             "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css":
             "dist/css/bootstrap.min.css"},
            # bootstrap.min.css loads its icon font from ../fonts/
            tuple(f"dist/fonts/glyphicons-halflings-regular.{ext}"
                  for ext in ("eot", "svg", "ttf", "woff"))),
]

# A <script src=...> or <link href=...> that loads from another host.
REMOTE_LOAD = re.compile(r'<(script|link)\b[^>]*\b(src|href)="(https?:)?//[^"]*"[^>]*>')


class PublishError(Exception):
    """Reported as one line."""


def _sri(data, algorithm):
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def fetch_tarball(package):
    """The package's tarball bytes, from the cache or the registry, checked against its hash."""
    filename = f"{package.name}-{package.version}.tgz"
    cached = os.path.join(CACHE_DIR, filename)
    algorithm = package.integrity.split("-", 1)[0]
    if os.path.isfile(cached):
        with open(cached, "rb") as f:
            data = f.read()
        if _sri(data, algorithm) == package.integrity:
            return data
    url = f"{REGISTRY}/{package.name}/-/{filename}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as exc:
        raise PublishError(f"cannot fetch {url} ({exc}); the offline dashboard needs "
                           f"{package.name} {package.version} once (set NPM_REGISTRY for a mirror)")
    if _sri(data, algorithm) != package.integrity:
        raise PublishError(f"{url} does not match its pinned integrity hash; not using it")
    os.makedirs(CACHE_DIR, exist_ok=True)
    write_atomic(cached, data)
    return data


def write_atomic(path, data):
    """Write bytes or text to a temporary file and rename it over `path`: a publish killed
    at any moment leaves each page whole (old or new), never half written."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)


def copy_atomic(source, folder):
    with open(source, "rb") as f:
        write_atomic(os.path.join(folder, os.path.basename(source)), f.read())


def vendor_dir(package):
    return f"vendor/{package.name}-{package.version}"


def install_vendor_files(html_dir):
    """Copy every needed file into html_dir/vendor/; return {CDN address: local path}."""
    local = {}
    for package in PACKAGES:
        with tarfile.open(fileobj=io.BytesIO(fetch_tarball(package)), mode="r:gz") as tar:
            for inner in [*package.files.values(), *package.extra]:
                member = tar.extractfile(f"package/{inner}")
                if member is None:
                    raise PublishError(f"{package.name} {package.version} has no {inner}")
                target = os.path.join(html_dir, vendor_dir(package), inner)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                write_atomic(target, member.read())
        for url, inner in package.files.items():
            local[url] = f"{vendor_dir(package)}/{inner}"
    return local


def _rewrite_tag(tag, local):
    """Point one <script>/<link> tag at its local copy; drop the CDN's integrity attributes."""
    match = re.search(r'\b(src|href)="([^"]+)"', tag)
    url = match.group(2)
    if url not in local:
        raise PublishError(f"index.html loads {url}, which tools/dashboard/publish.py does not know: "
                           "add its npm release to PACKAGES")
    # The integrity hashes are cdnjs's/jsDelivr's; several local files are the unminified
    # originals, so they would not match. The tarballs were checked against npm's hashes.
    tag = re.sub(r'\s+(integrity|crossorigin|referrerpolicy)="[^"]*"', "", tag)
    return tag.replace(f'"{url}"', f'"{local[url]}"')


# Our own fix for side-by-side bars (see the file's header); loaded right before orderBars.
ORDERBARS_FIX = "orderbars-categories-fix.js"
ORDERBARS_TAG = '<script src="vendor/flot-orderbars-1.0.0/js/jquery.flot.orderBars.js"'


def add_orderbars_fix(html_dir, text):
    copy_atomic(os.path.join(REPO_ROOT, "tools", "dashboard", "www", ORDERBARS_FIX), html_dir)
    if ORDERBARS_FIX in text:
        return text
    if ORDERBARS_TAG not in text:
        raise PublishError("index.html no longer loads flot-orderbars 1.0.0 as expected; "
                           f"check whether tools/dashboard/www/{ORDERBARS_FIX} is still needed")
    return text.replace(ORDERBARS_TAG, f'<script src="{ORDERBARS_FIX}"></script>\n    '
                        + ORDERBARS_TAG, 1)


def make_offline(html_dir):
    """Rewrite html_dir's pages so that nothing loads from another host."""
    local = install_vendor_files(html_dir)
    pages = [f for f in os.listdir(html_dir) if f.endswith(".html")]
    for page in pages:
        path = os.path.join(html_dir, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = REMOTE_LOAD.sub(lambda m: _rewrite_tag(m.group(0), local), text)
        if page == "index.html":
            new = add_orderbars_fix(html_dir, new)
        if new != text:
            write_atomic(path, new)
    return pages


FINDINGS_LINK = ('<li id="nav-li-findings"><a href="findings/index.html">Findings</a></li>')
NAV_ANCHOR = '<li id="nav-li-regressions">'


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
        proc = subprocess.run([sys.executable, "-m", "tools.run.asv_atomic", "publish", "--config",
                               args.config],
                              cwd=REPO_ROOT, capture_output=True, text=True)
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
            from .history_pages import publish_histories  # it builds on this module

            for name in publish_histories(html_dir):
                print(f"published the {name} history into "
                      f"{os.path.relpath(os.path.join(html_dir, 'history', name))}/")
    except PublishError as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 2
    print(f"published {os.path.relpath(html_dir)}/ (self-contained; serve it with "
          "'python -m asv preview' or any static server)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
