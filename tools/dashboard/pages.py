"""The dashboard's page helpers: a checked patch of asv's files, a link added to asv's
navigation bar, and the skeleton of the project's own pages (the same look as asv's)."""
import html

from .. import ToolError
from ..results.atomic import write_atomic

# Where the dashboard's navigation bar takes further links (asv 0.6.6's Regressions item).
NAV_ANCHOR = '<li id="nav-li-regressions">'
PAGE = ('<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        '<link rel="stylesheet" href="{up}vendor/bootstrap-3.1.1/dist/css/'
        'bootstrap.min.css"></head><body><div class="container">'
        '<p><a href="{up}index.html">&larr; dashboard</a></p>{body}</div></body></html>\n')


def page(title, body, up=""):
    """A page of ours: asv's stylesheet, a link back to the dashboard, then `body` (HTML)."""
    return PAGE.format(title=html.escape(title), up=up, body=body)


def patch(path, patches):
    """Each (old, new) of `patches` applied once to a file asv wrote; a file whose `old` text
    is gone (a new asv moved its code) fails loudly instead of leaving the page unpatched."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for old, new in patches:
        if new in text:
            continue
        if old not in text:
            raise ToolError(f"{path}: asv's code moved ({old.strip()[:60]!r} not found); "
                            "update the patch in tools/dashboard/")
        text = text.replace(old, new, 1)
    write_atomic(path, text)


def add_nav_items(index, items):
    """Each `<li>` of `items` in index.html's navigation bar, before asv's Regressions item."""
    with open(index, encoding="utf-8") as f:
        text = f.read()
    new = text
    for item in items:
        if item not in new:
            if NAV_ANCHOR not in new:
                raise ToolError(f"{index} has no navigation bar where asv 0.6.6 puts one")
            new = new.replace(NAV_ANCHOR, item + "\n\t" + NAV_ANCHOR, 1)
    if new != text:
        write_atomic(index, new)
