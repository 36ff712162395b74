"""The published dashboard in a real browser, with no internet: Debian's headless Chromium loads
the committed results' dashboard from a server on 127.0.0.1, and its network log shows every
request it made."""
import glob
import json
import os
import re
import shutil
import tempfile

import pytest
from browser import (assert_stayed_local, browse, needs_browser, probed_series, serve,
                     with_probe)

from tools.dashboard import offline, publish
from tools.run.asv_config import scratch_config
from tools import REPO_ROOT

pytestmark = [pytest.mark.integration, needs_browser]  # a real browser

# A parameterized benchmark with the implementations side by side for one size.
GRAPH = "#bench_sum.Sum.time_sum?x-axis=impl&p-size=10000000&p-device=%27cpu%27"


@pytest.fixture(scope="module")
def site():
    """The committed results published (offline) into a scratch folder and served locally."""
    with tempfile.TemporaryDirectory() as out:
        config = scratch_config(out, results_dir=os.path.join(REPO_ROOT, "results"))
        assert publish.main(["--config", config]) == 0
        html = os.path.join(out, "html")
        with serve(html) as url:
            yield url, html


def test_published_dashboard_has_no_remote_loads(site):
    _, html = site
    with open(os.path.join(html, "index.html")) as f:
        page = f.read()
    assert not offline.REMOTE_LOAD.search(page)
    for src in re.findall(r'<script[^>]*src="([^"]+)"', page):
        assert os.path.isfile(os.path.join(html, src)), src


def test_benchmark_list_renders_offline(site, tmp_path):
    url, _ = site
    dom, urls = browse(url, tmp_path, "--dump-dom")
    assert "continental origin of swallow" not in dom
    for name in ("bench_sum.Sum.time_sum", "bench_axis_sum.AxisSum.time_axis_sum",
                 "bench_gelu.Gelu.time_gelu"):
        assert f'href="#{name}"' in dom, name
    assert_stayed_local(urls)
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
    assert_stayed_local(urls)
    assert any("/graphs/" in u for u in urls)  # it fetched the benchmark's data


def drawn_series(html, graph, tmp_path):
    """[{label, xs}] of what flot drew for `graph` on a probed copy of the site."""
    probed = tmp_path / "html"
    shutil.copytree(html, probed)
    with_probe(probed)
    with serve(probed) as url:
        dom, _ = browse(url + graph, tmp_path, "--dump-dom")
    return probed_series(dom)


def test_releases_are_drawn_side_by_side(site, tmp_path):
    series = drawn_series(site[1], GRAPH + "&torch=2.13.0%2Bcpu", tmp_path)
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


def test_landing_page_links_every_history_and_the_findings(site, tmp_path):
    """The main dashboard (the release matrix) is the landing page: its navigation bar links the
    numba and torch histories, published beside it from the committed results, and the
    Findings; each history page links back, loads nothing from another host and draws."""
    url, html = site
    with open(os.path.join(html, "index.html")) as f:
        landing = f.read()
    assert 'href="findings/index.html"' in landing
    for name in ("numba", "torch"):
        assert f'href="history/{name}/index.html"' in landing, name
        page = os.path.join(html, "history", name, "index.html")
        with open(page) as f:
            text = f.read()
        assert 'href="../../index.html"' in text
        assert not offline.REMOTE_LOAD.search(text)
    dom, urls = browse(url + "history/numba/", tmp_path, "--dump-dom")
    assert "continental origin of swallow" not in dom
    assert 'href="#bench_sum.Sum.time_sum"' in dom
    assert_stayed_local(urls)


def _cells(dom, table_class):
    """[[cell text]] of the rows of every table with `table_class`, tags stripped."""
    tables = re.findall(rf'<table class="[^"]*{table_class}[^"]*">(.*?)</table>', dom, re.S)
    assert tables, f"no table .{table_class} in the page"
    rows = [row for table in tables for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    return [[html_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows if "<td" in row]


def html_text(fragment):
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_what_changed_between_releases_lists_every_confirmed_step(site, tmp_path):
    """The landing page "What changed between releases", read back in Chromium: one row per
    confirmed step of each history (the same ratio, interval and q as the report computes),
    each linking its graph, and one row per release pair."""
    from tools.dashboard.release_pages import confirmed_by_history, interval, pair_steps
    from tools.reports.verdicts import probe_text

    url, html = site
    with open(os.path.join(html, "index.html")) as f:
        assert 'href="changes.html"' in f.read()
    dom, urls = browse(url + "changes.html", tmp_path, "--dump-dom")
    assert_stayed_local(urls)
    rows = _cells(dom, "steps")
    expected = [s for _, machine, steps in sorted(
        (name, m, st) for name, entries in confirmed_by_history().items()
        for m, st, _ in entries) for s in steps]
    assert len(rows) == len(expected)
    for row, step in zip(rows, expected):
        spans = f" (spans {', '.join(step['spans'])})" if step.get("spans") else ""
        assert row[1] == f"{step['before']} → {step['after']}{spans}"
        assert row[3] == interval(step) and row[4] == f"{step['q']:.2g}"
        assert row[7] == probe_text(step.get("probe"))  # the bare probe beside every step
    links = re.findall(r'<a href="(history/[^"]+)">', dom)
    assert len(links) == len(expected)
    assert all("commits=" in link for link in links)
    assert len(_cells(dom, "pairs")) == len(pair_steps())
    # each history's step map: a cell per case and step, framed exactly where confirmed
    maps = re.findall(r'<svg[^>]*class="step-map".*?</svg>', dom, re.S)
    entries = [st for _, _, st in sorted((name, m, st) for name, found in
                                         confirmed_by_history().items() for m, st, _ in found)]
    assert len(maps) == len(entries) >= 1
    for svg, steps in zip(maps, entries):
        assert svg.count('class="cell confirmed"') == len(steps)
        assert svg.count('class="cell') > 10 * max(1, len(steps))


@pytest.mark.parametrize("name", ["numba", "torch"])
def test_history_regressions_page_lists_exactly_the_confirmed_steps(site, tmp_path, name):
    """A history's Regressions page, read back in Chromium: the confirmed steps and nothing
    else (asv's own step detection is not shown), release names instead of ledger hashes, and
    each row's paired ratio with its interval and q."""
    from tools.dashboard.release_pages import confirmed_by_history, interval
    from tools.reports.verdicts import probe_text

    url, _ = site
    steps = [s for _, st, _ in confirmed_by_history().get(name, []) for s in st]
    dom, _ = browse(url + f"history/{name}/#regressions", tmp_path, "--dump-dom")
    assert ">Releases<" in dom and "Paired ratio" in dom
    shown = re.findall(r'<td class="paired">([^<]*)</td>', dom)
    # a compiled step no round's witness read is marked (report/mechanisms.md, section 7)
    assert sorted(shown) == sorted(f"{interval(s)}, q = {s['q']:.2g} ({s['test']}); bare "
                                   f"probe {probe_text(s.get('probe'))}"
                                   + ("; Sleef state unknown" if s.get("state") == "not read"
                                      else "") for s in steps)
    assert (sum("Sleef state unknown" in row for row in shown)
            == sum(s.get("state") == "not read" for s in steps))
    for s in steps:
        assert s["after"] in dom  # the release, not a hash


# Every provenance field is stamped into the result files' params, which asv splits series by;
# the dashboard keeps only the machine and the releases (tools/dashboard/series.py).
LINE = "#bench_sum.Sum.time_sum?p-size=10000000&p-impl=%27numpy_sum%27&p-device=%27cpu%27"
NOT_A_SERIES = ("cpu_isa", "cpu_caches", "cpu_model", "dirty", "asv_runner", "llvmlite",
                "threads", "[none]")


def test_a_graph_draws_one_line_per_machine_and_releases(site, tmp_path):
    series = [s for s in drawn_series(site[1], LINE, tmp_path) if s["xs"]]
    for s in series:
        assert not any(field in s["label"] for field in NOT_A_SERIES), s["label"]
    configurations = set()
    for path in glob.glob(os.path.join(REPO_ROOT, "results", "*", "*.json")):
        params = json.load(open(path)).get("params", {})
        if "numba" in params:
            configurations.add((params["machine"], params["numba"], params["torch"]))
    assert len(series) == len(configurations), [s["label"] for s in series]
    # the EPYC's runs of numba 0.68.1 with torch 2.13.0, before and after cpu_isa was
    # recorded, are one line through several commits
    epyc = [s for s in series if "epyc-2core" in s["label"] and "0.68.1" in s["label"]
            and "2.13.0" in s["label"]]
    assert len(epyc) == 1 and len(set(epyc[0]["xs"])) >= 2, [s["label"] for s in series]
