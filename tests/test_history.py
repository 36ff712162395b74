"""Release histories: the ledger is deterministic and ordered, a bad release list is refused in
one line, the seed subset is the seed's cases, the N-way round order rotates, the verdicts find
known steps in synthetic rounds (and the canary nothing), and a real three-release numba
history builds kept environments, interleaves its rounds, resumes, and publishes pages that
name releases and list only confirmed steps."""
import json
import math
import os
import re
import subprocess
import sys

import pytest

from tools import REPO_ROOT, ToolError
from tools.history import ledger
from tools.history.releases import RELEASES_FILE, load_histories, parse_history
from tools.history.subset import subset_cases
from tools.run.interleave import round_order


def case_name(bench, params):
    return f"{bench}({', '.join(params)})"

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
    with pytest.raises(ToolError) as info:
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


def test_round_order_rotates_every_release_through_every_place():
    sides = ["a", "b", "c", "d"]
    for number in (1, 2, 3):
        orders = [round_order(sides, i, number) for i in range(len(sides))]
        assert all(sorted(o) == sides for o in orders)  # every release, once, every case
        for place in range(len(sides)):  # over N cases each release takes each place once
            assert sorted(o[place] for o in orders) == sides
    # the same case starts with another release in the next round
    assert round_order(sides, 0, 1)[0] != round_order(sides, 0, 2)[0]
    # two sides: the pair protocol, A first and B first alternating by case and by round
    assert [round_order("AB", i, 1)[0] for i in range(4)] == list("ABAB")
    assert [round_order("AB", i, 2)[0] for i in range(4)] == list("BABA")


def test_passes_repeat_a_case_pass_after_pass_and_fold_into_one_value():
    from tools.run.interleave import add_pass, with_passes

    work = with_passes([("a", 1), ("b", 2), ("c", 3)], {"a": 3, "c": 2})
    assert work == [("a", 1), ("b", 2), ("c", 3), ("a", 1), ("c", 3), ("a", 1)]
    values = {}
    for median in (1.0, 4.0, 2.0):
        add_pass(values, "a", {"median": median, "samples": [median], "position": median,
                               "steal": 1, "seconds": 0.5})
    a = values["a"]
    assert a["passes"] == [1.0, 4.0, 2.0] and a["median"] == pytest.approx(2.0)
    assert a["samples"] == [1.0, 4.0, 2.0] and a["position"] == 1.0  # the first pass's place
    assert a["steal"] == 3 and a["seconds"] == 1.5 and a["pass_seconds"] == [0.5] * 3
    # a report judging the round on its first k passes reads what k passes would have
    from tools.history.passes import first_passes
    assert first_passes(a) == [1.0, 4.0, 2.0] and first_passes(a, 1) == [1.0]
    assert first_passes(a, 2) == [1.0, 4.0] and first_passes(a, 9) == [1.0, 4.0, 2.0]
    assert first_passes({"median": 5.0}, 2) == [5.0]  # a round of one pass
    # passes read in the slow Sleef state are set aside (fast level 1.0, slow above 1.5x)
    assert first_passes(dict(a, witness=[1.0, 2.0, 1.1]), fast=1.0) == [1.0, 2.0]
    assert first_passes(dict(a, witness=[2.0, 2.0, 2.0]), fast=1.0) == []


def test_a_round_takes_the_fastest_of_as_many_passes_in_every_release():
    from tools.history.passes import judged_entries

    def entry(passes, witness=None):
        out = {"median": math.exp(sum(map(math.log, passes)) / len(passes)),
               "passes": passes, "samples": passes}
        return dict(out, witness=witness) if witness else out

    label = "Gelu.time_gelu(1000000, compiled, cpu, default)"
    # release b lost two passes to the slow state: both releases take their first 2 fast
    # passes and the faster of them, so a's 0.8 in its third pass (the fastest of 4 reads
    # lower than of 2) is not used
    rounds = [{"round": n, "values": {
        "a": {label: entry([1.0, 1.2, 0.8, 1.1], [0.5] * 4)},
        "b": {label: entry([1.1, 5.0, 1.0, 5.0], [0.5, 2.0, 0.5, 2.0])}}} for n in (1, 2, 3)]
    _, judged = judged_entries(rounds)
    assert [judged[s][label][1]["median"] for s in "ab"] == [1.0, 1.0]
    assert judged["b"][label][1]["samples"] == [1.1, 1.0]  # the fast passes only
    _, first = judged_entries(rounds, passes=1)
    assert [first[s][label][1]["median"] for s in "ab"] == [1.0, 1.1]
    # with as many fast passes on both sides: the geometric mean of the fastest half
    from tools.history.passes import fastest_of
    assert fastest_of([1.0, 1.2, 0.8, 1.1], 4) == pytest.approx(math.sqrt(0.8))
    assert fastest_of([4.0, 1.0, 9.0, 2.0, 3.0, 8.0, 5.0, 7.0], 8) == pytest.approx(24 ** 0.25)
    assert fastest_of([2.0, 3.0, 1.0], 3) == pytest.approx(math.sqrt(2.0))


def test_a_stored_history_keeps_its_passes_and_a_new_one_takes_the_default(tmp_path):
    from tools.history.run import DEFAULT_PASSES, FORMAT, load_progress

    expected = {"history": "torch", "subset": "gelu", "rounds": 4, "cases": ["a"],
                "passes": None}
    path = tmp_path / "rounds.json"
    assert load_progress(str(path), expected, False)["passes"] == DEFAULT_PASSES
    path.write_text(json.dumps(dict(expected, rounds=3, passes=8, format=FORMAT,
                                    measured=[{"round": 1}])))
    kept = load_progress(str(path), expected, False)
    assert kept["passes"] == 8 and kept["rounds"] == 4 and kept["measured"]
    old = {k: v for k, v in expected.items() if k != "passes"}
    path.write_text(json.dumps(dict(old, rounds=3, format=FORMAT, measured=[{"round": 1}])))
    assert load_progress(str(path), expected, False)["passes"] == 1  # from before --passes
    with pytest.raises(ToolError, match="measured with 1 passes"):
        load_progress(str(path), dict(expected, passes=2), False)
    assert load_progress(str(path), dict(expected, passes=2), True)["passes"] == 2  # --fresh


def test_new_passes_before_round_one_keep_the_preflight_of_the_same_environments(tmp_path):
    from tools.history.run import FORMAT, load_progress

    expected = {"history": "torch", "subset": "seed", "rounds": 3, "cases": ["a"],
                "ledger": {"torch-2.13.0": "c1"}, "passes": 2}
    preflight = {"seconds": 917.4, "skipped": {}, "gaps": {}}
    path = tmp_path / "rounds.json"
    path.write_text(json.dumps(dict(expected, passes=4, format=FORMAT, measured=[],
                                    preflight=preflight)))
    again = load_progress(str(path), expected, False)
    assert again["passes"] == 2 and again["preflight"] == preflight and not again["measured"]
    other = dict(expected, ledger={"torch-2.13.0": "c2"})  # other environments: prepared anew
    assert "preflight" not in load_progress(str(path), other, False)
    assert "preflight" not in load_progress(str(path), expected, True)  # --fresh


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


def test_a_match_subset_holds_exactly_the_cases_its_pattern_names():
    from benchmarks.cases import all_cases, subset

    pattern = r"Gelu.time_gelu\(\d+, eager, cpu, default|Sum.time_sum\(10000, python_loop, cpu"
    labels = [case.label for case in all_cases(subset(f"match:{pattern}"))]
    assert sorted(labels) == sorted(
        [f"Gelu.time_gelu({n}, eager, cpu, default)" for n in (1000, 100000, 1000000, 10000000)]
        + ["Sum.time_sum(10000, python_loop, cpu)"])
    with pytest.raises(ValueError, match="not a regular expression"):
        subset("match:Gelu(")


# ---------------------------------------------------------------------------------------------
# The verdicts on a history: synthetic rounds with known steps (no measurement).

import random

from tools.history.pictures import confirmed_plots, step_map
from tools.history.report import build_report
from tools.history.steps import HistoryData, confirmed_steps

LABELS = ["Sum.time_sum(10000, numba_loop, cpu)", "Sum.time_sum(10000, numba_np_sum, cpu)",
          "Sum.time_sum(10000, numpy_sum, cpu)", "Sum.time_sum(10000, python_loop, cpu)"]


def _synthetic(tmp_path, steps, rounds=8, noise=0.01, seed=1):
    """A numba history's rounds.json with every time 1 ms x the steps {(label, tag): factor}
    from that release on, and per-round log-normal noise."""
    tags = [r["version"] for r in LIST["histories"]["numba"]["releases"]][:5]
    tags = [f"numba-{v}" for v in tags]
    canary = tags[-1] + "-aa"
    rng = random.Random(seed)
    measured = []
    for number in range(1, rounds + 1):
        values = {}
        for side in tags + [canary]:
            release = side.replace("-aa", "")
            values[side] = {}
            for label in LABELS:
                level = 1e-3
                for (lab, tag), factor in steps.items():
                    if lab == label and tags.index(release) >= tags.index(tag):
                        level *= factor
                values[side][label] = {"median": level * math.exp(rng.gauss(0, noise)),
                                       "samples": [level], "number": 1}
        measured.append({"round": number, "values": values, "seconds": 1.0})
    machine = tmp_path / "box"
    machine.mkdir(parents=True)
    (machine / "rounds.json").write_text(json.dumps({
        "format": 2, "history": "numba", "machine": "box", "subset": "seed", "rounds": rounds,
        "library": "numba", "ledger": {t: f"{i:040x}" for i, t in enumerate(tags)},
        "canary": canary, "cases": LABELS, "measured": measured}))
    return HistoryData("numba", "box", str(tmp_path)), tags


def test_history_verdicts_confirm_a_known_step_and_nothing_else(tmp_path):
    data, tags = _synthetic(tmp_path, {(LABELS[1], tags_of(2)): 1.4})
    found = confirmed_steps(data)
    assert [(c["label"], c["before"], c["after"], c["verdict"]) for c in found] == \
        [(LABELS[1], tags_of(1), tags_of(2), "REGRESSION")]
    assert 1.35 < found[0]["low"] < found[0]["ratio"] < found[0]["high"] < 1.45
    flagged, seen = data.canary_power()
    assert flagged == [] and seen[1.20] == 1.0  # the A/A pair flags nothing, sees +20 %
    # the step map frames that one cell and colours it red; every other cell unframed
    svg = step_map(data, data.steps())
    cells = re.findall(r'<rect class="cell( confirmed)?" data-case="([^"]+)" '
                       r'data-step="([^"]+)" data-ratio="([^"]+)"[^>]*fill="(#[0-9a-f]+)"', svg)
    assert len(cells) == len(LABELS) * (len(tags) - 1)
    framed = [c for c in cells if c[0]]
    assert [(c[1], c[2]) for c in framed] == [(LABELS[1], f"{tags_of(1).split('-')[1]} → "
                                                          f"{tags_of(2).split('-')[1]}")]
    assert float(framed[0][3]) > 1.3 and framed[0][4].startswith("#d")  # red: slower
    # its plot: one point per release, the step's two releases red, the later one 1.4x up
    plot = confirmed_plots(data, found)
    points = re.findall(r'<line [^>]*stroke="(#[0-9a-f]+)"/><circle class="release" '
                        r'data-release="([^"]+)" data-time="([^"]+)"', plot)
    assert [p[1] for p in points] == tags
    red = {p[1]: float(p[2]) for p in points if p[0] == "#d73027"}
    assert sorted(red) == [tags_of(1), tags_of(2)]
    assert 1.3 < red[tags_of(2)] / red[tags_of(1)] < 1.5
    text = build_report("numba", "box", str(tmp_path))
    assert "numba cases: 1" in text and "controls: 0" in text


def test_a_sustained_shift_is_confirmed_by_the_levels_when_the_pair_alone_is_noisy(tmp_path):
    """A +6 % shift from one release on, 3 % noise per round, 4 rounds, in 20 synthetic
    histories: the adjacent pair alone rarely decides, the levels around the step add
    confirmations at the right step, and confirmations anywhere else stay rare."""
    by_pair = by_any = elsewhere = 0
    for seed in range(20):
        data, _ = _synthetic(tmp_path / str(seed), {(LABELS[0], tags_of(2)): 1.06}, rounds=4,
                             noise=0.03, seed=seed)
        found = confirmed_steps(data)
        at = [c for c in found if c["label"] == LABELS[0] and c["after"] == tags_of(2)]
        by_any += bool(at)
        by_pair += any(c["test"] == "pair" for c in at)
        elsewhere += len(found) - len(at)
    assert by_any >= by_pair + 3 and by_any >= 8, (by_pair, by_any)
    assert elsewhere <= 16, elsewhere  # of 20 histories x 4 steps x 4 cases = 320


def test_flagged_levels_are_placed_where_the_steps_own_pair_holds_their_size():
    """Levels that straddle a shift hidden at the release before (its pair noisy in one round)
    are not this step's; a shift spread over two releases is each step's at its pair's size."""
    from types import SimpleNamespace as R

    from tools.history.steps import place_level

    def level(ratio=0.92, p=1e-6):
        return R(verdict="improvement", ratio=ratio, low=ratio - 0.03, high=ratio + 0.03, p=p)

    pair = R(ratio=0.97, low=0.93, high=1.01)  # points down, holds 1, excludes 0.92
    kept, hidden, spread, sharper = level(0.95), level(), level(0.90), level()
    place_level(kept, pair, [0.5])
    place_level(hidden, pair, [0.5])
    place_level(spread, R(ratio=0.947, low=0.91, high=0.986), [0.5])
    place_level(sharper, pair, [1e-9])
    assert (kept.verdict, kept.ratio) == ("improvement", 0.95)
    assert hidden.verdict == "unchanged" and sharper.verdict == "unchanged"
    assert (spread.verdict, spread.ratio, spread.low, spread.high) == \
        ("improvement", 0.947, 0.91, 0.986)


def test_the_rounds_and_passes_grid_judges_the_first_rounds_only(tmp_path):
    """The trade-off grid (check history-power --passes) reads the stored rounds cut to their
    first r: the known +6 % step is confirmed at every length, a +5 % step injected is seen
    more often with more rounds, and the canary flags nothing."""
    from experiments.history_power import tradeoff, tradeoff_table
    _synthetic(tmp_path, {(LABELS[0], tags_of(2)): 1.06}, rounds=6, noise=0.02, seed=3)
    assert len(HistoryData("numba", "box", str(tmp_path), rounds=3).rounds) == 3
    rows = tradeoff("numba", "box", str(tmp_path))
    assert [(row["rounds"], row["passes"]) for row in rows] == [(3, 1), (4, 1), (5, 1), (6, 1)]
    assert all(row["canary"] == 0 and row["confirmed"] == 1 and row["not in all"] == 0
               for row in rows)
    seen = [row["+5 % all"] for row in rows]
    assert seen[-1] > seen[0] + 0.2, seen
    assert rows[-1]["detectable own (median)"] < rows[0]["detectable own (median)"]
    # the null histories of the controls: every pair and level test of both control cases,
    # at about the nominal rate, and none confirmed
    from experiments.history_power import null_controls
    rates, confirmed = null_controls("numba", "box", 20, str(tmp_path))
    for kind, (p05, p01, n) in rates.items():
        assert n == 20 * 2 * 4, (kind, n)  # 20 histories x 2 controls x 4 steps
        assert p01 <= p05 <= 0.15 * n, (kind, p05, n)
    assert confirmed <= 2
    table = tradeoff_table(rows)
    assert table.count("\n") == len(rows) + 1 and "| 6 | 1 | 0 | 1 | 0 | 0 |" in table


def tags_of(i):
    return "numba-" + LIST["histories"]["numba"]["releases"][i]["version"]


# ---------------------------------------------------------------------------------------------
# A real history: three numba releases (numpy only beside them), two 100-element sums,
# three rounds, numba's own case timed in two passes a worker, published and read back in
# Chromium.

from browser import assert_stayed_local, browse, needs_browser, serve, with_probe

from tools.dashboard.history_pages import HOME_LINK, publish_history

MACHINE = "history-test"
THREE = [tags_of(0), tags_of(1), tags_of(2)]


@pytest.fixture(scope="module")
def three_releases(tmp_path_factory):
    out = tmp_path_factory.mktemp("history")
    entry = dict(LIST["histories"]["numba"], fixed={"numpy": "2.0.2"},
                 releases=LIST["histories"]["numba"]["releases"][:3])
    releases = _write(out, {"numba": entry})
    scratch = out / "run"
    args = [sys.executable, "-m", "tools", "history", "numba", "--subset", "tiny", "--rounds",
            "3", "--passes", "2", "--scratch", str(scratch), "--releases-file", releases,
            "--machine", MACHINE]
    proc = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = out / "html"
    assert publish_history("numba", str(html), str(scratch / "results"), releases)
    return scratch, html, args


@pytest.mark.integration
def test_history_builds_each_release_once_and_interleaves_every_round(three_releases):
    scratch, _, args = three_releases
    with open(scratch / "results" / MACHINE / "rounds.json") as f:
        progress = json.load(f)
    sides = THREE + [THREE[-1] + "-aa"]
    assert [r["round"] for r in progress["measured"]] == [1, 2, 3]
    for rnd in progress["measured"]:
        assert sorted(rnd["values"]) == sorted(sides)
        for i, label in enumerate(progress["cases"]):
            places = {side: rnd["values"][side][label]["position"] for side in sides}
            # every release timed the case, in the rotated order
            assert [s for s, _ in sorted(places.items(), key=lambda kv: kv[1])] == \
                round_order(sides, i, rnd["round"])
        for side in sides:  # numba's own case in 2 passes, their geometric mean its value
            for label, entry in rnd["values"][side].items():
                own = "numba" in label
                assert len(entry.get("passes", [entry["median"]])) == (2 if own else 1)
                if own:
                    assert entry["median"] == pytest.approx(math.sqrt(math.prod(entry["passes"])))
    for tag in THREE:
        with open(scratch / "results" / MACHINE / "installed" / f"{tag}.json") as f:
            installed = json.load(f)
        version = tag.split("-")[1]
        assert installed["packages"]["numba"] == version
        assert installed["interpreter"]["numba"] == version  # what the worker imported
        assert installed["packages"]["numpy"] == "2.0.2"
    # each release's asv result file holds every round's samples
    commit = progress["ledger"][THREE[0]]
    result = next((scratch / "results" / MACHINE).glob(f"{commit[:8]}-*.json"))
    data = json.loads(result.read_text())
    samples = data["results"]["bench_sum.Sum.time_sum"][data["result_columns"].index("samples")]
    counts = [len(s) for s in samples if s]
    assert len(counts) == 2 and all(c >= 9 for c in counts), counts  # 3 rounds x >= 3
    # a second run builds nothing and measures nothing: every environment is kept
    proc = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "rounds 4..3" in proc.stdout, proc.stdout
    # more rounds with another number of passes would mix two protocols: one line, exit 2
    other = [a if a != "2" else "3" for a in args]
    proc = subprocess.run(other, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "measured with 2 passes" in proc.stderr, proc.stderr
    assert "built" not in proc.stdout
    # the report judges every step and the canary
    text = build_report("numba", MACHINE, str(scratch / "results"))
    assert f"{THREE[0].split('-')[1]} → {THREE[1].split('-')[1]}" in text
    # the canary's row is there for all 3 rounds; how many of its cases a real A/A flags is a
    # measurement (CI machines are noisy), so the test reads the count, it does not dictate it
    row = re.search(r"\| all 3 \| (\d+) \|", text)
    assert row and int(row.group(1)) <= len(progress["cases"]), text


@pytest.mark.integration
@needs_browser
def test_history_pages_name_releases_and_list_only_confirmed_steps(three_releases, tmp_path):
    scratch, html, _ = three_releases
    index = (html / "index.html").read_text()
    assert HOME_LINK in index
    assert "nav-li-old-harness" not in index  # measured by the pair protocol
    with open(html / "index.json") as f:
        info = json.load(f)
    revisions = [info["tags"][tag] for tag in THREE]
    assert revisions == sorted(revisions)  # the older release first on the axis
    with open(html / "regressions.json") as f:
        listed = json.load(f)["regressions"]
    data = HistoryData("numba", MACHINE, str(scratch / "results"))
    # the page lists exactly the confirmed steps of the results it was published from
    assert len(listed) == len([c for c in confirmed_steps(data)])
    with_probe(html)
    graph = ("#bench_sum.Sum.time_sum?p-size=100&p-impl=%27numba_loop%27"
             "&p-device=%27cpu%27")
    with serve(html) as url:
        dom, urls = browse(url + graph, tmp_path, "--dump-dom")
    assert_stayed_local(urls)
    assert "releases" in dom and ">commits<" not in dom  # the axis names releases
    labels = re.findall(r"left:\s*([\d.]+)px;[^>]*>(numba-[\d.]+)<", dom)
    lefts = {tag: float(left) for left, tag in labels}
    assert set(THREE) <= set(lefts), labels
    assert lefts[THREE[0]] < lefts[THREE[1]] < lefts[THREE[2]]


def test_histories_measured_before_the_pair_protocol_are_marked(tmp_path):
    from tools.dashboard.history_pages import old_harness_link, old_harness_machines

    for machine, data in (("old-vm", {"repeat": "(2,6,12.0)", "rounds": 3}),
                          ("new-vm", {"sides": ["torch-2.7.1"], "rounds": []})):
        (tmp_path / machine).mkdir()
        (tmp_path / machine / "rounds.json").write_text(json.dumps(data))
    (tmp_path / "broken-vm").mkdir()
    (tmp_path / "broken-vm" / "rounds.json").write_text("{ not json")
    assert old_harness_machines(str(tmp_path)) == ["old-vm"]
    assert "old-vm: old harness" in old_harness_link("old-vm")
    assert old_harness_machines(os.path.join(REPO_ROOT, "history", "results", "torch")) == [
        "xeon-2core"]


# Hovers the first point of the last plot a few seconds after load (flot's plothover, as a
# mouse would) and copies the tooltip's text into the DOM.
HOVER = """<script>
setTimeout(function () {
  var p = plots[plots.length - 1], s = p.getData()[0], pts = s.datapoints.points;
  var o = p.offset(), at = p.pointOffset({x: pts[0], y: pts[1]});
  $("#main-graph").trigger("plothover", [{}, {datapoint: [pts[0], pts[1]], series: s,
      pageX: o.left + at.left, pageY: o.top + at.top}]);
  setTimeout(function () {
    var pre = document.createElement("pre");
    pre.id = "hovered";
    pre.textContent = $(".tooltip-inner").html() || "no tooltip";
    document.body.appendChild(pre);
  }, 500);
}, 9000);
</script>
"""


@pytest.mark.integration
@needs_browser
def test_a_skip_reason_reaches_the_graph_tooltip_and_the_grid_holds_only_measured_cases(
        three_releases, tmp_path):
    import shutil

    from tools.history import asv_results
    from tools.history.releases import load_history
    from tools.history.run import write_asv_results

    scratch, _, args = three_releases
    results = tmp_path / "results"
    shutil.copytree(scratch / "results", results)
    path = results / MACHINE / "rounds.json"
    progress = json.loads(path.read_text())
    label = "Sum.time_sum(100, numba_loop, cpu)"
    reason = "torch.compile cannot compile here: ModuleNotFoundError: No module named 'x'"
    for rnd in progress["measured"]:  # the middle release could not prepare this case
        del rnd["values"][THREE[1]][label]
        rnd.setdefault("skipped", {}).setdefault(THREE[1], {})[label] = reason
    path.write_text(json.dumps(progress))
    benchmarks = json.loads((results / "benchmarks.json").read_text())
    benchmarks.pop("version")
    releases = args[args.index("--releases-file") + 1]
    write_asv_results(load_history("numba", releases), progress, str(results), MACHINE,
                      benchmarks)
    html = tmp_path / "html"
    assert publish_history("numba", str(html), str(results), releases)
    with open(html / "index.json") as f:  # the grid: only what the history measured
        assert sorted(json.load(f)["benchmarks"]) == ["bench_sum.Sum.time_sum"]
    assert asv_results.keep_measured(str(results)) == ["bench_sum.Sum.time_sum"]
    with_probe(html)
    index = html / "index.html"
    index.write_text(index.read_text().replace("</body>", HOVER + "</body>", 1))
    graph = ("#bench_sum.Sum.time_sum?p-size=100&p-impl=%27numba_loop%27"
             "&p-device=%27cpu%27")
    with serve(html) as url:
        dom, urls = browse(url + graph, tmp_path, "--dump-dom")
    assert_stayed_local(urls)
    hovered = re.search(r'<pre id="hovered">(.*?)</pre>', dom, re.S).group(1)
    assert f"n/a at {THREE[1]} on {MACHINE}" in hovered, hovered
    assert "No module named 'x'" in hovered.replace("&#39;", "'"), hovered
    text = build_report("numba", MACHINE, str(results))
    assert f"n/a ({reason})" in text  # and the report says the same


def test_history_counts_map_timed_cases_and_read_beside_a_step(tmp_path):
    from tools.history import counts

    labels = {"Sum.time_sum(10000, numba_loop, cpu)", "Gelu.time_gelu(100000, eager, cpu, default)",
              "Sum.time_sum(10000000, python_loop, cpu)"}  # the last is never counted
    cases, by_timed = counts.history_family(labels)
    assert set(by_timed) == labels - {"Sum.time_sum(10000000, python_loop, cpu)"}
    assert sorted(spec[0] for spec in cases) == sorted(by_timed.values())
    label = "Sum.time_sum(10000, numba_loop, cpu)"
    data = {"a": {label: 20000.0}, "b": {label: 20001.0}, "c": {label: 21600.0}}
    assert counts.counts_text(data, label, "a", "b") == "+0.01 %: not the code"
    assert counts.counts_text(data, label, "a", "c") == "+8.00 %: codegen changed"
    assert counts.counts_text(data, label, "a", "missing") == ""
    # where the canary's two builds differ on the case, a step must go beyond that too
    twins = {"t": {label: 20000.0}, "t-aa": {label: 20100.0}}
    assert counts.counts_text({**data, **twins}, label, "a", "b", ("t", "t-aa")) == \
        "+0.01 %: not the code (the canary's builds differ by 0.50 %)"
    assert counts.counts_text({**data, **twins}, label, "a", "c", ("t", "t-aa")).startswith(
        "+8.00 %: codegen changed")
    (tmp_path / "m").mkdir()
    assert counts.load_counts(str(tmp_path), "m") == {}
    (tmp_path / "m" / counts.COUNTS_FILE).write_text(json.dumps(
        {"format": 1, "releases": {"a": {"counts": data["a"]}}}))
    assert counts.load_counts(str(tmp_path), "m") == {"a": data["a"]}
    # and the compiled cases are left out (torch.compile under valgrind takes hours)
    compiled = "Gelu.time_gelu(100000, compiled, cpu, default)"
    assert compiled not in counts.history_family(labels | {compiled})[1]
    # --releases: a tag the history does not have is one line, before anything is counted
    (tmp_path / "m" / "rounds.json").write_text(json.dumps(
        {"cases": sorted(labels), "canary": "torch-2.15.0-aa", "subset": "gelu"}))
    with pytest.raises(ToolError, match="torch-9.9"):
        counts.count_history("torch", "m", results_dir=str(tmp_path), only=["torch-9.9"])


def test_pooled_model_recovers_the_noise_and_keeps_null_steps_at_nominal():
    """The history's noise model (tools/history/model.py) on synthetic tables, releases x
    rounds, log time = release + round + noise: sigma and its degrees of freedom come back,
    adjacent pairs tested on it flag about 5 % of null steps at p < 0.05 (never far more),
    and a pair whose own rounds scatter far beyond the pooled spread falls back to its own."""
    import numpy as np

    from tools.history.model import pooled_spread, test_spread
    from tools.reports.verdicts import result_of_logs

    rng = np.random.default_rng(7)
    sigmas, p_values = [], []
    for _ in range(400):
        releases, rounds, sigma = 12, 4, 0.1
        i = int(rng.integers(0, releases - 1))  # the null step: releases i and i + 1 alike
        level = rng.normal(0, 0.3, (releases, 1))
        level[i + 1] = level[i]
        y = level + rng.normal(0, 0.2, (1, rounds)) + rng.normal(0, sigma, (releases, rounds))
        logs = {f"r{i}": {r + 1: float(y[i, r]) for r in range(rounds)} for i in range(releases)}
        model = pooled_spread(logs)
        assert model.df == (releases - 1) * (rounds - 1) and model.releases == releases
        sigmas.append(model.sigma)
        d = y[i + 1] - y[i]
        sd, df = test_spread(model, d, math.sqrt(2)) or (None, None)
        p_values.append(result_of_logs("c", d, sd=sd, df=df).p)
    assert 0.095 < float(np.median(sigmas)) < 0.105
    assert 0.02 < float(np.mean(np.array(p_values) < 0.05)) < 0.08
    # one release with rounds 10x noisier than the rest: its pair is not tested on the pool
    y = rng.normal(0, 0.05, (12, 4))
    y[5] = rng.normal(0, 1.0, 4)
    logs = {f"r{i}": {r: float(y[i, r]) for r in range(4)} for i in range(12)}
    model = pooled_spread(logs)
    assert test_spread(model, y[6] - y[5], math.sqrt(2)) is None
    assert test_spread(model, y[8] - y[7], math.sqrt(2)) is not None
    # too few releases to pool: no model, the pair's own test
    assert pooled_spread({"a": {1: 0.0, 2: 0.1, 3: 0.2}, "b": {1: 0.1, 2: 0.0, 3: 0.3}}) is None
