"""Verdicts where users look: the history dashboards name releases, their Regressions pages list
the confirmed steps only, and a landing page "What changed between releases" lists every
confirmed step of every history and every release pair, linking the graphs.

asv 0.6.6 draws a history on the ledger's commit axis: its axis reads "commits", its tooltip
and range box print ledger hashes, and its Regressions page lists what its own step detection
finds in the noise. The published copy of a history is patched (each patch checked, so a new
asv that moved the code fails loudly instead of silently showing hashes):
- asv.js: a revision prints as its release tag, and a release tag is accepted where a commit is;
- graphdisplay.js: the axis label "releases";
- regressions.json: exactly the confirmed steps (tools/history/steps.py), and regressions.js
  gets a column with the paired ratio, its 95 % interval and q.
"""
import glob
import html
import itertools
import json
import math
import os

from benchmarks.cases import from_label

from .. import REPO_ROOT, ToolError
from ..history.releases import load_histories
from ..history.pictures import confirmed_plots, step_map
from ..history.steps import (HistoryData, confirmed_steps, state_unknown,
                             verdict_text)
from ..reports.verdicts import detectable_text, probe_text
from ..results.atomic import write_atomic
from .pages import add_nav_items, page, patch

CHANGES_PAGE = "changes.html"
CHANGES_LINK = (f'<li id="nav-li-changes"><a href="{{up}}{CHANGES_PAGE}">What changed between '
                'releases</a></li>')

ASV_JS_PATCHES = [
    ("        var commit_hash = main_json.revision_to_hash[revision];\n",
     "        var commit_hash = main_json.revision_to_hash[revision];\n"
     "        // release names instead of ledger hashes (tools/dashboard/release_pages.py)\n"
     "        for (var tag in (main_json.tags || {})) {\n"
     "            if (main_json.tags[tag] == revision) { return tag; }\n"
     "        }\n"),
    ("        var rev = null;\n",
     "        var rev = null;\n"
     "        if (main_json.tags && main_json.tags[commit_hash] !== undefined) {\n"
     "            return main_json.tags[commit_hash];\n"
     "        }\n"),
]
GRAPH_JS_PATCHES = [("options.xaxis.axisLabel = 'commits';",
                     "options.xaxis.axisLabel = 'releases';")]
REGRESSIONS_JS_PATCHES = [
    ("'<th data-sort=\"string\">Commit</th>' +",
     "'<th data-sort=\"string\">Releases</th>' +\n"
     "                           '<th data-sort=\"string\">Paired ratio [95 % CI], q</th>' +"),
    ("                row.append(commit_td);\n",
     "                row.append(commit_td);\n"
     "                row.append($('<td class=\"paired\"/>').text(item[7] || ''));\n"),
]


SKIPS_FILE = "skip_reasons.js"
# The tooltip of a point also lists the releases of the benchmark that have no value, and why
# (rounds.json keeps each skip's reason): a gap is never a bare "n/a".
TOOLTIP_PATCHES = [
    ('                            $.asv.pretty_unit(y, unit) + " @ " + commit_hash);',
     '                            $.asv.pretty_unit(y, unit) + " @ " + commit_hash +\n'
     '                            (window.SKIP_NOTE ? window.SKIP_NOTE(current_benchmark) '
     ': ""));'),
]
SKIPS_SCRIPT = """// Why a release has no value: tools/dashboard/release_pages.py writes it from rounds.json.
window.SKIP_REASONS = %s;
window.SKIP_NOTE = function (benchmark) {
    var gaps = window.SKIP_REASONS[benchmark] || [];
    var esc = function (t) { return $("<div/>").text(t).html(); };
    var lines = gaps.slice(0, 8).map(function (g) {
        return "n/a at " + esc(g[0]) + " (" + esc(g[1]) + "): " + esc(g[2]);
    });
    if (gaps.length > 8) { lines.push("... " + (gaps.length - 8) + " more"); }
    return lines.length ? "<br>" + lines.join("<br>") : "";
};
"""


def skip_reasons(name, results_dir):
    """{benchmark: [[release, params, reason], ...]} of every release and case of every
    interleaved history on every machine of results_dir that has no value."""
    out = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "*", "rounds.json"))):
        machine = os.path.basename(os.path.dirname(path))
        try:
            data = HistoryData(name, machine, results_dir)
        except ToolError:
            continue
        for tag in data.tags:
            for label in data.labels:
                if data.measured(tag, label):
                    continue
                case = from_label(label)
                why = data.skip_reason(tag, label) or "no reason recorded (measured before " \
                                                         "reasons were kept)"
                out.setdefault(case.benchmark, []).append(
                    [f"{tag} on {machine}", ", ".join(map(str, case.params)),
                     why.splitlines()[0][:200]])
    return out


def write_skip_reasons(html_dir, name, results_dir):
    """skip_reasons.js beside the history's dashboard, loaded by its index.html, and the
    tooltip patch that reads it."""
    reasons = skip_reasons(name, results_dir)
    write_atomic(os.path.join(html_dir, SKIPS_FILE),
                 SKIPS_SCRIPT % json.dumps(reasons, sort_keys=True))
    index = os.path.join(html_dir, "index.html")
    with open(index, encoding="utf-8") as f:
        text = f.read()
    tag = f'<script type="text/javascript" src="{SKIPS_FILE}"></script>'
    if tag not in text:
        if "</head>" not in text:
            raise ToolError(f"{index} has no </head> to load {SKIPS_FILE} from")
        write_atomic(index, text.replace("</head>", tag + "\n</head>", 1))
    patch(os.path.join(html_dir, "graphdisplay.js"), TOOLTIP_PATCHES)
    return reasons


def name_releases(html_dir):
    """Release tags in place of ledger hashes, 'releases' on the axis."""
    patch(os.path.join(html_dir, "asv.js"), ASV_JS_PATCHES)
    patch(os.path.join(html_dir, "graphdisplay.js"), GRAPH_JS_PATCHES)
    patch(os.path.join(html_dir, "regressions.js"), REGRESSIONS_JS_PATCHES)


def interval(step):
    if math.isnan(step["low"]):
        return f"{step['ratio']:.3f}x"
    return f"{step['ratio']:.3f}x [{step['low']:.3f}, {step['high']:.3f}]"


def _flat_index(params, values):
    combos = [tuple(c) for c in itertools.product(*params)]
    return combos.index(tuple(values))


def regression_entries(html_dir, machine, steps):
    """asv's regressions.json entries for the confirmed steps of one machine."""
    with open(os.path.join(html_dir, "index.json")) as f:
        index = json.load(f)
    tags = index.get("tags", {})
    entries = []
    for step in steps:
        case = from_label(step["label"])
        bench = index["benchmarks"].get(case.benchmark)
        graphs = glob.glob(os.path.join(html_dir, "graphs", "**", f"machine-{machine}", "**",
                                        f"{case.benchmark}.json"), recursive=True)
        if bench is None or not graphs or step["before"] not in tags:
            continue
        with open(graphs[0]) as f:
            series = {rev: value for rev, value in json.load(f)}
        j = _flat_index(bench["params"], case.asv_params)
        rev_a, rev_b = tags[step["before"]], tags[step["after"]]
        before, after = (series.get(r) for r in (rev_a, rev_b))
        if not isinstance(before, list) or not isinstance(after, list):
            continue
        # the graph's parameters, as asv's own entries carry them (the page filters on branch)
        params = next((p for p in index.get("graph_param_list", [])
                       if p.get("machine") == machine), {"machine": machine, "branch": "main"})
        entries.append([case.asv_name, os.path.relpath(graphs[0], html_dir), params, j,
                        after[j], min(v[j] for v in series.values()
                                      if isinstance(v, list) and v[j] is not None),
                        [[None, rev_b, before[j], after[j]]],
                        f"{interval(step)}, q = {step['q']:.2g} ({step['test']}); bare "
                        f"probe {probe_text(step.get('probe'))}"
                        + ("; Sleef state unknown" if state_unknown(step) else "")])
    return entries


def confirmed_by_history(machine=None, results_dirs=None):
    """{history name: [(machine, [confirmed steps], SVG: the step map and the confirmed steps'
    plots)]}, one entry per machine that
    measured the history by the interleaved protocol (`machine`: that one only);
    `results_dirs`: {name: folder} of histories published from elsewhere than
    history/results/NAME."""
    out = {}
    for name in load_histories():
        folder = (results_dirs or {}).get(name) or \
            os.path.join(REPO_ROOT, "history", "results", name)
        for rounds in sorted(glob.glob(os.path.join(folder, "*", "rounds.json"))):
            found = os.path.basename(os.path.dirname(rounds))
            if machine and found != machine:
                continue
            try:
                data = HistoryData(name, found, folder)
            except ToolError:  # an old-protocol history: nothing confirmed by it
                continue
            steps = data.steps()
            confirmed = confirmed_steps(data, steps)
            pictures = step_map(data, steps) + (confirmed_plots(data, confirmed) or "")
            out.setdefault(name, []).append((found, confirmed, pictures))
    return out


def write_regressions(html_dir, by_machine):
    """regressions.json and the Atom feed regressions.xml: the confirmed steps of every
    machine ([(machine, steps)]), nothing else."""
    entries = [e for machine, steps in by_machine
               for e in regression_entries(html_dir, machine, steps)]
    steps = [s for _, machine_steps in by_machine for s in machine_steps]
    write_atomic(os.path.join(html_dir, "regressions.json"),
                 json.dumps({"regressions": entries}, separators=(",", ":")))
    items = "".join(
        f"<entry><id>tag:array-op-benchmarks,{html.escape(s['after'])}:{html.escape(s['label'])}"
        f"</id><title>{html.escape(s['label'])}: {html.escape(s['before'])} → "
        f"{html.escape(s['after'])} {html.escape(interval(s))}</title>"
        f"<updated>1970-01-01T00:00:00Z</updated></entry>" for s in steps)
    write_atomic(os.path.join(html_dir, "regressions.xml"),
                 '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/'
                 'Atom"><id>tag:array-op-benchmarks,confirmed-steps</id><title>Confirmed '
                 'steps</title><updated>1970-01-01T00:00:00Z</updated>' + items + "</feed>\n")
    return entries


def pair_steps():
    """[(library, A, B, machine, flagged CaseResults)] of the newest session of every release
    pair under rounds/ (not the calibrations)."""
    from ..reports.compare_releases import compare
    from ..results.sessions import load_session

    out = []
    for folder in sorted(glob.glob(os.path.join(REPO_ROOT, "rounds", "*", "*-vs-*"))):
        if "calibration" in os.path.basename(folder):
            continue
        files = sorted(glob.glob(os.path.join(folder, "*.json")), reverse=True)
        if not files:
            continue
        session = load_session(files[0])
        if session.release("A") == session.release("B"):
            continue
        flagged = [r for r in compare(session) if r.verdict in ("REGRESSION", "improvement")]
        out.append((session.library, session.release("A"), session.release("B"),
                    session.data["machine"], flagged, os.path.basename(folder)))
    return out


def graph_link(name, step):
    case = from_label(step["label"])
    params = "&".join(f"p-{k}={v}" for k, v in zip(case.bench_class.param_names,
                                                  case.asv_params))
    return f"history/{name}/#{case.benchmark}?{params}&commits={step['after']}"


def changes_page(main_html_dir):
    """html/changes.html: every confirmed step of every history, every flagged case of every
    release pair."""
    e = html.escape
    body = ["<h1>What changed between releases</h1>",
            "<p>Steps confirmed by paired, interleaved rounds (every release of a case timed "
            "seconds apart in each round; Benjamini-Hochberg over a step's cases and a 1.03x "
            "gate). Controls are cases that do not run the library: they show what a release "
            "does to the process, not to its kernels.</p>"]
    for name, machine, steps, svg in sorted(
            (name, *entry) for name, entries in confirmed_by_history().items()
            for entry in entries):
        body.append(f'<h2 id="history-{e(name)}-{e(machine)}">{e(name)} history '
                    f'({e(machine)}): {len(steps)} confirmed steps</h2>')
        body.append(f'<div class="step-map">{svg}</div>')
        rows = []
        for s in steps:
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
                f'<a href="{e(graph_link(name, s))}">{e(from_label(s["label"]).short)}</a>'
                + (" (control)" if s["control"] else ""),
                e(f"{s['before']} → {s['after']}" + (
                    f" (spans {', '.join(s['spans'])})" if s.get("spans") else "")),
                e(verdict_text(s)), e(interval(s)),
                f"{s['q']:.2g}", e(s["test"]),
                detectable_text(s["detectable"]), e(probe_text(s.get("probe"))),
                e(s.get("instructions") or "not counted"))) + "</tr>")
        probed = [s for s in steps if s.get("probe")]
        body.append(f"<p>The bare probe (both releases timed again in fresh processes that "
                    f"import only numpy and the library) confirmed "
                    f"{sum(s['probe']['agrees'] for s in probed)} of {len(probed)} probed "
                    f"steps; a step it does not confirm is the harness's, not the "
                    f"release's.</p>")
        body.append('<table class="table table-condensed steps"><thead><tr><th>case</th>'
                    "<th>releases</th><th>verdict</th><th>ratio [95 % CI]</th><th>q</th>"
                    "<th>confirmed by</th><th>detectable</th><th>bare probe</th><th>instructions</th>"
                    "</tr></thead>"
                    "<tbody>"
                    + "".join(rows) + "</tbody></table>")
    body.append("<h2 id=\"pairs\">Release pairs</h2>")
    rows = []
    for library, a, b, machine, flagged, folder in pair_steps():
        report = f"findings/releases/{machine}/{folder}.html"
        cases = "; ".join(f"{r.case} {r.verdict} {r.interval()}" for r in flagged) or "none"
        rows.append(f'<tr><td><a href="{e(report)}">{e(library)} {e(a)} → {e(b)}</a></td>'
                    f"<td>{e(machine)}</td><td>{len(flagged)}</td><td>{e(cases)}</td></tr>")
    body.append('<table class="table table-condensed pairs"><thead><tr><th>pair</th>'
                "<th>machine</th><th>flagged</th><th>cases</th></tr></thead><tbody>"
                + "".join(rows) + "</tbody></table>")
    text = page("What changed between releases", "\n".join(body))
    path = os.path.join(main_html_dir, CHANGES_PAGE)
    write_atomic(path, text)
    return path


def add_changes_link(index, up=""):
    add_nav_items(index, [CHANGES_LINK.format(up=up)])
