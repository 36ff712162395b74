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

from tools import publish
from tools.asv_config import scratch_config
from tools.asv_results import REPO_ROOT

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
    """Load `url` headless; return the DOM after the scripts ran and every requested URL."""
    netlog = tmp_path / "netlog.json"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           f"--log-net-log={netlog}", "--virtual-time-budget=15000", *extra, url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = netlog.read_text()
    # Every URL the network stack saw (requests, redirects, sockets), from Chromium's own log.
    urls = set(re.findall(r'"url":"([^"]+)"', text))
    hosts = set(re.findall(r'"host":"([^"]+)"', text))
    return proc.stdout, urls, hosts


def _assert_stayed_local(urls, hosts):
    remote = {u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss")
              and urlsplit(u).hostname not in ("127.0.0.1",)}
    assert not remote, f"requests left the machine: {sorted(remote)}"
    assert hosts <= {"127.0.0.1", "localhost"} | {h for h in hosts if h.startswith("127.0.0.1:")}, hosts
    assert urls, "the network log recorded nothing: the page was not loaded"


def test_published_dashboard_has_no_remote_loads(site):
    _, html = site
    with open(os.path.join(html, "index.html")) as f:
        page = f.read()
    assert not publish.REMOTE_LOAD.search(page)
    for src in re.findall(r'<script[^>]*src="([^"]+)"', page):
        assert os.path.isfile(os.path.join(html, src)), src


def test_benchmark_list_renders_offline(site, tmp_path):
    url, _ = site
    dom, urls, hosts = browse(url, tmp_path, "--dump-dom")
    assert "continental origin of swallow" not in dom
    for name in ("bench_sum.Sum.time_sum", "bench_axis_sum.AxisSum.time_axis_sum",
                 "bench_gelu.Gelu.time_gelu"):
        assert f'href="#{name}"' in dom, name
    _assert_stayed_local(urls, hosts)


def test_graph_of_a_parameterized_benchmark_draws(site, tmp_path):
    url, _ = site
    dom, urls, hosts = browse(url + GRAPH, tmp_path, "--dump-dom")
    # flot draws onto a canvas and writes the x-axis category labels as text
    assert 'class="flot-base"' in dom
    ticks = re.findall(r'class="flot-tick-label[^"]*"[^>]*>([^<]+)<', dom)
    assert {"numba_loop", "numpy_sum", "torch_tensor"} <= set(ticks), ticks
    # the sidebar lists the environments' numba releases as series
    assert "0.66.0" in dom and "0.68.1" in dom
    _assert_stayed_local(urls, hosts)
    assert any(u.startswith(url) and u.endswith(".json") for u in urls)  # it fetched data
