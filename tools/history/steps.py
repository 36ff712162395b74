"""The history report: time per release, what changed between consecutive releases by the
paired-rounds protocol, and a verdict on every step that asv's Regressions page lists.

    python -m tools history report numba        # writes report/history-numba.md
    python -m tools history report torch --print

Reads the history's results and rounds.json (tools.history.run) and the Regressions page's
data that `python -m tools publish` wrote (html/history/NAME/regressions.json).
A release pair is judged as the release comparisons are (tools/reports/verdicts.py): one
median per case and round, d_r = log(B_r / A_r) paired by round (the two releases ran minutes
apart in every round), a t-interval over rounds, Benjamini-Hochberg over the pair's cases and
the effect gate; cases that do not run the library of the history are controls, and a pair
whose controls moved is marked untrustworthy. asv's step is called real when the protocol flags
the same case, the same pair and the same direction.
"""
import argparse
import json
import os
import statistics
import sys


from .. import REPO_ROOT
from ..reports.tables import render
from ..reports.verdicts import GATE, case_result, drift, judge
from ..results.atomic import write_text_atomic
from .releases import ReleaseListError, load_history
from ..results.config import machine_name
from .paths import ROUNDS_FILE, config_path, resolved, result_file, samples_by_case
from .subset import as_case, short_name, subset_cases

REPORT_DIR = os.path.join(REPO_ROOT, "report")


def md_table(header, rows):
    return render(header, rows, True).split("\n")


class HistoryData:
    """One history's stored measurements on one machine."""

    def __init__(self, name, machine, results_dir=None):
        self.history = load_history(name)
        self.results_dir = results_dir or resolved(config_path(name), "results_dir")
        self.machine = machine
        path = os.path.join(self.results_dir, machine, ROUNDS_FILE)
        if not os.path.isfile(path):
            raise ReleaseListError(f"no {name} history measured on {machine}: {path} is "
                                   f"missing (python -m tools history {name})")
        with open(path) as f:
            self.progress = json.load(f)
        # in the order the run stored them (its reports list cases in that order)
        stored = {name: i for i, name in enumerate(self.progress.get("cases", []))}
        self.cases = sorted(subset_cases(self.progress["subset"]),
                            key=lambda case: stored.get(short_name(*case), len(stored)))
        self.tags = [r.tag for r in self.history.releases if r.tag in self.progress["ledger"]]
        # {tag: {case: {round: median}}}
        self.rounds = {tag: {} for tag in self.tags}
        for step in self.progress["steps"]:
            for case, median in step["medians"].items():
                self.rounds[step["tag"]].setdefault(case, {})[step["round"]] = median

    def value(self, tag):
        """{case: median of every sample of every round}: the point asv draws."""
        commit = self.progress["ledger"][tag]
        samples = samples_by_case(result_file(self.results_dir, self.machine, commit),
                                  self.cases)
        return {case: statistics.median(s) for case, s in samples.items()}

    def installed(self, tag):
        path = os.path.join(self.results_dir, self.machine, "installed", f"{tag}.json")
        if not os.path.isfile(path):
            return {}
        with open(path) as f:
            return json.load(f)

    def compare(self, tag_a, tag_b):
        """The protocol's verdict on every case between two releases, and the drift report."""
        results = []
        for bench, params in self.cases:
            case = short_name(bench, params)
            a, b = self.rounds[tag_a].get(case, {}), self.rounds[tag_b].get(case, {})
            by_round = {r: {"A": a[r], "B": b[r]} for r in a if r in b}
            control = as_case(bench, params).is_control(self.history.library)
            results.append(case_result(case, by_round,
                                       control=control))
        judge(results)
        return results, drift(results)


def listed_steps(html_dir):
    """[(case name as asv lists it, commit before or None, commit after, before, after)] from
    the published Regressions page's data."""
    path = os.path.join(html_dir, "regressions.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        regressions = json.load(f)["regressions"]
    with open(os.path.join(html_dir, "index.json")) as f:
        to_hash = {int(k): v for k, v in json.load(f)["revision_to_hash"].items()}
    steps = []
    for entry in regressions:
        for rev_a, rev_b, before, after in entry[-1]:
            steps.append((entry[0], to_hash.get(rev_a) if rev_a is not None else None,
                          to_hash[rev_b], before, after))
    return steps


def fmt_time(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def _installed_rows(data):
    rows = []
    for tag in data.tags:
        info = data.installed(tag)
        packages = info.get("packages", {})
        build = info.get("torch_build") or {}
        flavour = ("CUDA " + build["cuda"]) if build.get("cuda") else "CPU"
        interp = info.get("interpreter", {})
        rows.append([tag, packages.get("numpy", "?"), packages.get("numba", "?"),
                     packages.get("llvmlite", "?"), build.get("version", "?"), flavour,
                     f"{interp.get('torch_threads', '?')}/{interp.get('numba_threads', '?')}"])
    return rows


def _cost_lines(data):
    steps = data.progress["steps"]
    total = sum(s["seconds"] for s in steps)
    installs = [s["install_seconds"] for s in steps if s.get("install_seconds")]
    downloads = [s["downloaded"] for s in steps if s.get("downloaded")]
    lines = [f"- {len(steps)} steps ({len(data.tags)} releases x {data.progress['rounds']} "
             f"rounds) took {total / 60:.1f} min of which {sum(installs) / 60:.1f} min were "
             f"{len(installs)} installs (one release replacing the other in the one environment)."]
    if downloads:
        size = sum(d["bytes"] for d in downloads) / 2**30
        secs = sum(d["seconds"] for d in downloads)
        lines.append(f"- Downloads during this run: {size:.1f} GiB in {secs:.0f} s "
                     "(into the wheelhouse .asv/wheelhouse/; a repeated run downloads nothing).")
    else:
        lines.append("- Nothing was downloaded during this run: every wheel came from the "
                     "wheelhouse (.asv/wheelhouse/).")
    return lines


def build_report(name, machine, html_dir=None, results_dir=None):
    data = HistoryData(name, machine, results_dir)
    history = data.history
    html_dir = html_dir or os.path.join(REPO_ROOT, "html", "history", name)
    info = next((data.installed(t) for t in data.tags if data.installed(t)), {})
    interp = info.get("interpreter", {})
    fixed = ", ".join(f"{lib} {v}" for lib, v in sorted(history.fixed.items()))
    out = [f"# The {name} history on {machine}", "",
           f"{len(data.tags)} {history.library} releases ({data.tags[0]} … {data.tags[-1]}), "
           f"{fixed} held fixed; machine {machine}: {interp.get('cpu_model', '?')}, "
           f"{interp.get('cpu_isa', '?')}, {interp.get('cpu_affinity', '?')} cores, caches "
           f"{interp.get('cpu_caches', '?')}. Subset `{data.progress['subset']}` "
           f"({len(data.cases)} cases), {data.progress['rounds']} interleaved rounds "
           f"(odd rounds oldest release first, even rounds newest first), asv repeat "
           f"{data.progress.get('repeat', 'default')} per round. Made by "
           f"`python -m tools history {name}` and `python -m tools history report {name}`.",
           "", "## What each point installed", "",
           *md_table(["release", "numpy", "numba", "llvmlite", "torch", "torch build",
                    "threads torch/numba"], _installed_rows(data)),
           "", "## Cost of this run", "", *_cost_lines(data), ""]

    values = {tag: data.value(tag) for tag in data.tags}
    out += ["## Time per release (median of every sample of every round)", ""]
    head = ["case", *[t.split("-", 1)[1] for t in data.tags]]
    rows = []
    for bench, params in data.cases:
        case = short_name(bench, params)
        rows.append([case.replace("'", ""),
                     *[fmt_time(values[t][case]) if case in values[t] else "n/a"
                       for t in data.tags]])
    out += md_table(head, rows) + [""]

    out += ["## Consecutive releases, paired by round", "",
            f"Flagged: q < 0.05 (Benjamini-Hochberg over the pair's cases) and beyond "
            f"{GATE}x either way; with {data.progress['rounds']} rounds the t-interval is wide, "
            "so only clear steps are flagged. Controls: the cases that do not run "
            f"{history.library}.", ""]
    pair_results = {}
    rows = []
    for a, b in zip(data.tags, data.tags[1:]):
        results, report = data.compare(a, b)
        pair_results[(a, b)] = {r.case: r for r in results}
        flagged = [r for r in results if r.verdict in ("REGRESSION", "improvement")
                   and not r.control]
        rows.append([f"{a.split('-', 1)[1]} → {b.split('-', 1)[1]}",
                     "; ".join(f"{r.case.replace(chr(39), '')} {r.verdict} {r.interval()}"
                               for r in flagged) or "none",
                     f"{report.geomean:.3f}x ({report.spread[0]:.3f}-{report.spread[1]:.3f})",
                     "yes" if report.trustworthy else "NO: " + report.why])
    out += md_table(["pair", f"{history.library} cases flagged", "controls: geomean (5-95 %)",
                   "trustworthy"], rows) + [""]

    steps = listed_steps(html_dir)
    out += ["## Steps on asv's Regressions page", ""]
    if steps is None:
        out += ["The history was not published (python -m tools publish): no page "
                "to read.", ""]
    elif not steps:
        out += ["asv's Regressions page of this history lists no step.", ""]
    else:
        by_commit = {c: t for t, c in data.progress["ledger"].items()}
        rows = []
        for entry, commit_a, commit_b, before, after in steps:
            tag_b = by_commit.get(commit_b)
            tag_a = by_commit.get(commit_a) if commit_a else (
                data.tags[data.tags.index(tag_b) - 1] if tag_b in data.tags[1:] else None)
            case = entry.split(".", 1)[1]
            verdict = pair_results.get((tag_a, tag_b), {}).get(case) if tag_a else None
            if verdict is None:
                reading = "not a consecutive pair: not judged"
                shown = "n/a"
            else:
                shown = f"{verdict.verdict} {verdict.interval()}"
                same = (verdict.verdict == "REGRESSION") == (after > before)
                excludes_one = verdict.low > 1 or verdict.high < 1
                reading = ("real" if verdict.verdict in ("REGRESSION", "improvement") and same
                           else "control case: machine drift" if verdict.control
                           else f"not confirmed: q = {verdict.q:.2f} over the pair's cases; its "
                                "own interval excludes 1, more rounds would decide"
                           if excludes_one
                           else "not confirmed: within what the rounds vary")
            rows.append([case.replace("'", ""), f"{tag_a} → {tag_b}",
                         f"{fmt_time(before)} → {fmt_time(after)}", shown, reading])
        out += md_table(["case", "releases", "asv's step", "paired rounds", "verdict"], rows)
        out += [""]
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("history", help="numba or torch")
    parser.add_argument("--machine", help="default: $ASV_MACHINE or this host's name")
    parser.add_argument("--print", action="store_true", help="print instead of writing")
    args = parser.parse_args(argv)
    try:
        text = build_report(args.history, args.machine or machine_name())
    except ReleaseListError as exc:
        print(f"history: {exc}", file=sys.stderr)
        return 2
    if args.print:
        print(text)
        return 0
    path = os.path.join(REPORT_DIR, f"history-{args.history}.md")
    write_text_atomic(path, text + "\n")
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
