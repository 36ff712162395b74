"""Make an asv-published html folder self-contained, so that it works without internet.

asv 0.6.6's index.html loads jQuery, flot, bootstrap, blueimp-md5 and stupidtable from public
CDNs; offline it shows only "Can not determine continental origin of swallow". This fetches
pinned releases of those libraries from the npm registry (each tarball checked against the
integrity hash below), copies the files into html/vendor/ and points index.html at them.
No copy of third-party code lives in this repository; downloads are cached in .asv/vendor/.
It also loads tools/dashboard/www/orderbars-categories-fix.js, without which asv's bar charts (a
parameter on the x-axis) draw only one series: releases could not be seen side by side.
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import urllib.request
from dataclasses import dataclass

from .. import REPO_ROOT, ToolError
from ..results.atomic import copy_atomic, write_atomic

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
        raise ToolError(f"cannot fetch {url} ({exc}); the offline dashboard needs "
                           f"{package.name} {package.version} once (set NPM_REGISTRY for a mirror)")
    if _sri(data, algorithm) != package.integrity:
        raise ToolError(f"{url} does not match its pinned integrity hash; not using it")
    os.makedirs(CACHE_DIR, exist_ok=True)
    write_atomic(cached, data)
    return data


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
                    raise ToolError(f"{package.name} {package.version} has no {inner}")
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
        raise ToolError(f"index.html loads {url}, which tools/dashboard/publish.py does not know: "
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
        raise ToolError("index.html no longer loads flot-orderbars 1.0.0 as expected; "
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

