"""Release histories: the ledger is deterministic and ordered, a bad release list is refused in
one line, the seed subset is the seed's cases, and a real two-release numba history runs,
publishes and draws its two points in release order with their tag labels, offline."""
import json
import os
import re
import subprocess
import sys

import pytest

from tools import REPO_ROOT
from tools.history import ledger
from tools.history.releases import (RELEASES_FILE, ReleaseListError, load_histories,
                                    parse_history)
from tools.history.run import plan
from tools.history.subset import as_case, case_name, subset_cases

with open(RELEASES_FILE) as f:
    LIST = json.load(f)


def _write(tmp_path, histories, name="releases.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"histories": histories}))
    return str(path)


def _git(path, *args):
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize("name", ["numba", "torch"])
def test_ledger_is_the_same_every_time_in_release_order(tmp_path, name):
    first = ledger.generate(name, root=str(tmp_path / "a"))
    second = ledger.generate(name, root=str(tmp_path / "b"))
    assert first == second  # same hashes from two generations
    history = load_histories()[name]
    assert [tag for tag, _ in first] == [r.tag for r in history.releases]
    path = tmp_path / "a" / name
    # asv orders points by `git rev-list --date-order`: newest first, i.e. the release list
    order = _git(path, "rev-list", "--date-order", "main").split()
    assert order[::-1] == [commit for _, commit in first]
    for (tag, commit), release in zip(first, history.releases):
        assert _git(path, "rev-list", "-n", "1", tag) == commit
        author, committer = _git(path, "log", "-1", "--format=%at %ct", commit).split()
        assert int(author) == int(committer) == release.timestamp
        pins = json.loads(_git(path, "show", f"{commit}:pins.json"))
        assert pins["requirements"] == history.pins(release)
        assert f"{history.library}==={release.version}" in pins["requirements"]
    assert ledger.generate(name, root=str(tmp_path / "a")) == first  # kept, not rebuilt


def test_appending_a_release_keeps_every_earlier_commit(tmp_path):
    entry = json.loads(json.dumps(LIST["histories"]["numba"]))
    short = dict(entry, releases=entry["releases"][:3])
    a = ledger.generate("numba", _write(tmp_path, {"numba": short}, "short.json"),
                        root=str(tmp_path / "short"))
    b = ledger.generate("numba", _write(tmp_path, {"numba": entry}, "full.json"),
                        root=str(tmp_path / "full"))
    assert b[:3] == a


BAD = [
    ({"releases": [{"version": "0.61.2", "date": "2025-04-09T02:57:34Z"},
                   {"version": "0.60.0", "date": "2024-06-13T18:10:29Z"}]}, "oldest first"),
    ({"releases": [{"version": "0.60.0", "date": "2025-04-09T02:57:34Z"},
                   {"version": "0.61.2", "date": "2024-06-13T18:10:29Z"}]}, "not after"),
    ({"releases": [{"version": "0.60.0rc1", "date": "2024-06-13T18:10:29Z"}]}, "final release"),
    ({"releases": [{"version": "0.60.0", "date": "13/06/2024"}]}, "YYYY-MM-DD"),
    ({"releases": [{"version": "0.60.0", "date": "2024-02-30T00:00:00Z"}]}, "not a date"),
    ({"releases": [{"version": "0.60.0"}]}, "exactly 'version' and 'date'"),
    ({"releases": []}, "non-empty"),
    ({"fixed": {"numba": "0.60.0"}}, "'fixed'"),
    ({"pip_config": "sometimes"}, "pip_config"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_a_bad_release_list_is_refused_in_one_line(tmp_path, change, message):
    entry = dict(LIST["histories"]["numba"], **change)
    with pytest.raises(ReleaseListError) as info:
        parse_history("numba", entry)
    assert message in str(info.value) and "\n" not in str(info.value)
    path = _write(tmp_path, {"numba": entry})
    proc = subprocess.run([sys.executable, "-m", "tools.history.ledger", "numba", "--releases",
                           path], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_history_and_broken_file_are_one_line(tmp_path):
    for args, message in ((["nothere"], "no history 'nothere'"),
                          (["numba", "--releases", str(tmp_path / "missing.json")],
                           "cannot read")):
        proc = subprocess.run([sys.executable, "-m", "tools.history.ledger", *args],
                              cwd=REPO_ROOT, capture_output=True, text=True)
        assert proc.returncode == 2 and message in proc.stderr
        assert proc.stderr.count("\n") == 1


def test_rounds_alternate_direction():
    commits = [("a", "1"), ("b", "2"), ("c", "3")]
    order = [(r, t) for r, t, _ in plan(commits, 3)]
    assert order == [(1, "a"), (1, "b"), (1, "c"), (2, "c"), (2, "b"), (2, "a"),
                     (3, "a"), (3, "b"), (3, "c")]


def test_seed_subset_holds_every_seed_case_and_only_existing_ones():
    from benchmarks import seed
    from benchmarks.bench_axis_sum import AxisSum
    from benchmarks.bench_gelu import Gelu
    from benchmarks.bench_sum import Sum

    classes = {"bench_sum.Sum.time_sum": Sum, "bench_axis_sum.AxisSum.time_axis_sum": AxisSum,
               "bench_gelu.Gelu.time_gelu": Gelu}
    cases = subset_cases("seed")
    for bench, params in cases:
        grid = classes[bench].params
        for value, allowed in zip(params, grid):
            assert value.strip("'") in [str(a) for a in allowed], (bench, params)
    names = {case_name(b, p) for b, p in cases}
    for impl in seed.SUM_10M:
        assert f"bench_sum.Sum.time_sum(10000000, '{impl}', 'cpu')" in names
    for library, shape in seed.ROWS_FASTER:
        for axis in ("rows", "cols"):
            assert (f"bench_axis_sum.AxisSum.time_axis_sum('{shape}', 'C', '{axis}', "
                    f"'{library}', 'cpu')") in names
    for mode in seed.GELU_10M:
        assert f"bench_gelu.Gelu.time_gelu(10000000, '{mode}', 'cpu', 'default')" in names


# ---------------------------------------------------------------------------------------------
# A real history: two numba releases, two 100-element sums, two rounds, published.

from browser import assert_stayed_local, browse, needs_browser, probed_series, serve, with_probe

from tools.dashboard.history_pages import HOME_LINK, publish_history
from tools.history.steps import listed_steps

MACHINE = "history-test"
TWO = ["numba-0.60.0", "numba-0.61.2"]


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    out = tmp_path_factory.mktemp("history")
    entry = dict(LIST["histories"]["numba"], releases=LIST["histories"]["numba"]["releases"][:2])
    releases = _write(out, {"numba": entry})
    scratch = out / "run"
    proc = subprocess.run([sys.executable, "-m", "tools.history.run", "numba", "--subset", "tiny",
                           "--rounds", "2", "--scratch", str(scratch), "--releases-file",
                           releases, "--machine", MACHINE], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = out / "html"
    assert publish_history("numba", str(html), str(scratch / "results"))
    return scratch, html, proc.stdout


@pytest.mark.integration
def test_history_installs_each_release_and_records_every_round(two_releases):
    scratch, _, log = two_releases
    with open(scratch / "results" / MACHINE / "rounds.json") as f:
        progress = json.load(f)
    steps = [(s["round"], s["tag"]) for s in progress["steps"]]
    assert steps == [(1, TWO[0]), (1, TWO[1]), (2, TWO[1]), (2, TWO[0])]
    for step in progress["steps"]:
        assert step["asv_exit"] == 0 and len(step["medians"]) == 2
    for tag in TWO:
        with open(scratch / "results" / MACHINE / "installed" / f"{tag}.json") as f:
            installed = json.load(f)
        version = tag.split("-")[1]
        assert installed["packages"]["numba"] == version
        assert installed["interpreter"]["numba"] == version  # what the benchmarks imported
        assert installed["packages"]["numpy"] == "2.0.2"
        assert installed["torch_build"]["version"].startswith("2.13.0")
    # each release's result file holds both rounds' samples
    commit = progress["ledger"][TWO[0]]
    result = next((scratch / "results" / MACHINE).glob(f"{commit[:8]}-*.json"))
    data = json.loads(result.read_text())
    samples = data["results"]["bench_sum.Sum.time_sum"][data["result_columns"].index("samples")]
    counts = [len(s) for s in samples if s]
    assert len(counts) == 2 and all(c >= 4 for c in counts), counts  # 2 rounds x >= 2
    # a second run resumes: nothing left to do
    proc = subprocess.run([sys.executable, "-m", "tools.history.run", "numba", "--subset", "tiny",
                           "--rounds", "2", "--scratch", str(scratch), "--releases-file",
                           str(scratch.parent / "releases.json"), "--machine", MACHINE],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "4 steps done before" in proc.stdout, proc.stdout


@pytest.mark.integration
def test_history_regressions_data_is_read_back(two_releases):
    _, html, _ = two_releases
    steps = listed_steps(str(html))
    assert steps is not None  # asv wrote regressions.json
    for case, _, commit_b, before, after in steps:
        assert case.startswith("bench_sum.Sum.time_sum(100, ")
        assert before > 0 and after > 0


@pytest.mark.integration
@needs_browser
def test_history_graph_shows_releases_in_order_with_tags_offline(two_releases, tmp_path):
    _, html, _ = two_releases
    index = (html / "index.html").read_text()
    assert HOME_LINK in index
    with open(html / "index.json") as f:
        info = json.load(f)
    revisions = [info["tags"][tag] for tag in TWO]
    assert revisions[0] < revisions[1]  # the older release first on the axis
    with_probe(html)
    graph = ("#bench_sum.Sum.time_sum?p-size=100&p-impl=%27numba_loop%27"
             "&p-device=%27cpu%27")
    with serve(html) as url:
        dom, urls = browse(url + graph, tmp_path, "--dump-dom")
    assert_stayed_local(urls)
    assert "continental origin of swallow" not in dom
    series = [s for s in probed_series(dom) if len(s["xs"]) >= 1]
    assert len(series) == 1 and len(series[0]["xs"]) == 2, series
    assert series[0]["xs"] == sorted(series[0]["xs"]), series  # drawn in release order
    # asv writes each tag as a label at the x of its commit
    labels = re.findall(r"left:\s*([\d.]+)px;[^>]*>(numba-[\d.]+)<", dom)
    lefts = {tag: float(left) for left, tag in labels}
    assert set(TWO) <= set(lefts), labels
    assert lefts[TWO[0]] < lefts[TWO[1]]


@pytest.mark.parametrize("name", ["numba", "torch"])
def test_history_pages_watch_only_cases_of_the_varying_library(name):
    """regressions_first_commits (null = never listed) matches exactly the seed cases that do
    not run the history's library: the controls, which can only move with the machine."""
    from tools.history.run import config_path
    from tools.results.config import load_config

    conf = load_config(config_path(name))
    silenced = [re.compile(regex) for regex, first in
                conf["regressions_first_commits"].items() if first is None]
    library = load_histories()[name].library
    for bench, params in subset_cases("seed"):
        entry = case_name(bench, params)
        control = as_case(bench, params).is_control(library)
        assert any(r.match(entry) for r in silenced) == control, entry
