"""The published dashboard in a real browser, with no internet: Debian's headless Chromium loads
the committed results' dashboard from a server on 127.0.0.1, and its network log shows every
request it made."""
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from tools.dashboard import publish
from tools.run.asv_config import scratch_config
from tools import REPO_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and os.environ.get("REQUIRE_BROWSER"):
    raise RuntimeError("REQUIRE_BROWSER is set but chromium is not installed "
                       "(tools/setup_browser.sh installs it)")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="chromium not installed "
                                                    "(tools/setup_browser.sh installs it)")

# A parameterized benchmark with the implementations side by side for one size.
GRAPH = "#bench_sum.Sum.time_sum?x-axis=impl&p-size=10000000&p-device=%27cpu%27"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    """The committed results published (offline) into a scratch folder and served locally."""
    with tempfile.TemporaryDirectory() as out:
        config = scratch_config(out, results_dir=os.path.join(REPO_ROOT, "results"))
        assert publish.main(["--config", config]) == 0
        html = os.path.join(out, "html")
        handler = functools.partial(_QuietHandler, directory=html)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/", html
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


def _assert_stayed_local(urls):
    assert urls, "the network log recorded no request of the page: it was not loaded"
    remote = {u for u in urls if urlsplit(u).hostname != "127.0.0.1"}
    assert not remote, f"the page made requests that leave the machine: {sorted(remote)}"


def test_published_dashboard_has_no_remote_loads(site):
    _, html = site
    with open(os.path.join(html, "index.html")) as f:
        page = f.read()
    assert not publish.REMOTE_LOAD.search(page)
    for src in re.findall(r'<script[^>]*src="([^"]+)"', page):
        assert os.path.isfile(os.path.join(html, src)), src


def test_benchmark_list_renders_offline(site, tmp_path):
    url, _ = site
    dom, urls = browse(url, tmp_path, "--dump-dom")
    assert "continental origin of swallow" not in dom
    for name in ("bench_sum.Sum.time_sum", "bench_axis_sum.AxisSum.time_axis_sum",
                 "bench_gelu.Gelu.time_gelu"):
        assert f'href="#{name}"' in dom, name
    _assert_stayed_local(urls)
    assert any("/vendor/jquery-3.3.1/" in u for u in urls)  # the local copy was the one used


def test_graph_of_a_parameterized_benchmark_draws(site, tmp_path):
    url, _ = site
    dom, urls = browse(url + GRAPH, tmp_path, "--dump-dom")
    # flot draws onto a canvas and writes the x-axis category labels as text
    assert 'class="flot-base"' in dom
    ticks = re.findall(r'class="flot-tick-label[^"]*"[^>]*>([^<]+)<', dom)
    assert {"numba_loop", "numpy_sum", "torch_tensor"} <= set(ticks), ticks
    # the sidebar lists the environments' numba releases as series
    assert "0.66.0" in dom and "0.68.1" in dom
    _assert_stayed_local(urls)
    assert any("/graphs/" in u for u in urls)  # it fetched the benchmark's data


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


def test_releases_are_drawn_side_by_side(site, tmp_path):
    _, html = site
    probed = tmp_path / "html"
    shutil.copytree(html, probed)
    index = probed / "index.html"
    text = index.read_text()
    asv_js = '<script language="javascript" type="text/javascript"\n            src="asv.js">'
    assert asv_js in text
    index.write_text(text.replace(asv_js, PROBE + asv_js, 1))
    handler = functools.partial(_QuietHandler, directory=str(probed))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        dom, _ = browse(url + GRAPH + "&torch=2.13.0%2Bcpu", tmp_path, "--dump-dom")
    finally:
        server.shutdown()
    series = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S).group(1))
    numba = {re.search(r"numba-([\d.]+)", s["label"]).group(1) for s in series}
    assert numba >= {"0.66.0", "0.67.0", "0.68.1"}, numba
    # every release has a bar at every implementation, each at its own x offset
    for s in series:
        assert s["xs"] and all(x is not None for x in s["xs"]), s["label"]
    first_bars = sorted(s["xs"][0] for s in series)
    assert len(set(first_bars)) == len(series), first_bars


def test_the_regressions_page_lists_no_higher_is_better_tracks(site):
    """asv's published regressions, read back: no bandwidth, provenance or codegen figure (GB/s
    and % are higher-is-better, which asv reads the wrong way round), and no timing step that
    run-to-run drift on one machine would produce (asv.conf.json's thresholds)."""
    _, html = site
    with open(os.path.join(html, "regressions.json")) as f:
        listed = json.load(f)["regressions"]
    names = [entry[0] for entry in listed]
    assert not [n for n in names if n.split(".")[0] in
                ("bench_bandwidth", "bench_provenance", "bench_codegen")], names
    for entry in listed:  # whatever is listed is a step beyond the drift threshold
        for _, _, before, after in entry[-1]:
            if ".time_" in entry[0]:
                assert max(before, after) / min(before, after) > 1.65, entry[0]
