"""Headless Chromium for the dashboard tests: serve a folder on 127.0.0.1, load a page with no
internet, read back its DOM, the requests it made and where flot drew each series."""
import contextlib
import functools
import json
import os
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and os.environ.get("REQUIRE_BROWSER"):
    raise RuntimeError("REQUIRE_BROWSER is set but chromium is not installed "
                       "(tools/setup_browser.sh installs it)")
needs_browser = pytest.mark.skipif(not CHROMIUM, reason="chromium not installed "
                                                        "(tools/setup_browser.sh installs it)")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    """Serve `folder` on 127.0.0.1; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def browse(url, tmp_path, *extra):
    """Load `url` headless; return the DOM after the scripts ran and the URLs the page asked
    for (the top-level page and every request it initiated), from Chromium's network log."""
    netlog = tmp_path / "netlog.json"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-domain-reliability", "--no-pings",
           "--disable-features=AutofillServerCommunication,Translate,OptimizationHints",
           f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={netlog}",
           "--virtual-time-budget=15000", *extra, url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    # Requests the browser makes for itself (update checks, sign-in) have no page initiator;
    # every request of the page has the page's origin as initiator.
    jobs = [e["params"] for e in log["events"]
            if e["type"] == start_job and "url" in e.get("params", {})]
    page_urls = {p["url"] for p in jobs
                 if p.get("initiator") == origin or p["url"] == url.split("#")[0]}
    return proc.stdout, page_urls


def assert_stayed_local(urls):
    assert urls, "the network log recorded no request of the page: it was not loaded"
    remote = {u for u in urls if urlsplit(u).hostname != "127.0.0.1"}
    assert not remote, f"the page made requests that leave the machine: {sorted(remote)}"


# Records, a few seconds after load, where flot placed every series of the last plot.
PROBE = """<script>
var original = $.plot, plots = [];
$.plot = function () { var p = original.apply(this, arguments); plots.push(p); return p; };
$.extend($.plot, original);
setTimeout(function () {
  var series = plots[plots.length - 1].getData().map(function (s) {
    var xs = [];
    for (var i = 0; i < s.datapoints.points.length; i += s.datapoints.pointsize)
      xs.push(s.datapoints.points[i]);
    return {label: s.label, xs: xs};
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(series);
  document.body.appendChild(pre);
}, 8000);
</script>
"""


def with_probe(html_dir):
    """Insert PROBE into html_dir/index.html before asv's own script."""
    index = os.path.join(html_dir, "index.html")
    with open(index) as f:
        text = f.read()
    asv_js = '<script language="javascript" type="text/javascript"\n            src="asv.js">'
    assert asv_js in text
    with open(index, "w") as f:
        f.write(text.replace(asv_js, PROBE + asv_js, 1))


def probed_series(dom):
    """What PROBE wrote into the DOM: [{label, xs}] of the last plot."""
    import re

    return json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S).group(1))
