"""The reports' landing page (html/findings/index.html): every machine with its CPU model, ISA,
cores, memory and GPU, the releases it last measured, and links to its own reports; then the
reports every machine shares (calibration, instruction counts, narrowed steps).

Each report of report/ is rendered at the same relative place under html/findings/ (.md ->
.html, plots copied), so the links between reports work unchanged on the dashboard.
"""
import glob
import html
import os
import re

from .. import ToolError
from ..results.atomic import copy_atomic, write_atomic
from .pages import page
from ..results.releases import recorded_params
from ..results.rows import read_json, result_files

# What a reader of a machine's numbers needs to know of it, from its newest result file.
COLUMNS = (("CPU", "cpu_model"), ("ISA", "cpu_isa"), ("cores", "num_cpu"), ("RAM", "ram"),
           ("GPU", "gpu"), ("threads torch / numba", None), ("releases", None))


def render_markdown(source, target, title, up):
    """One markdown report as a page; its links to other .md files point at their pages."""
    import markdown

    with open(source, encoding="utf-8") as f:
        text = re.sub(r"\]\(([\w./-]+)\.md\)", r"](\1.html)", f.read())
    body = markdown.markdown(text, extensions=["tables", "fenced_code"])
    body = body.replace("<table>", '<table class="table table-condensed">')
    os.makedirs(os.path.dirname(target), exist_ok=True)
    write_atomic(target, page(title, body, up))


def render_reports(report_dir, target_dir):
    """Every .md of report_dir at the same relative place under target_dir, plots copied;
    returns the relative paths of the pages written."""
    pages = []
    for folder, _, files in os.walk(report_dir):
        rel = os.path.relpath(folder, report_dir)
        depth = 0 if rel == "." else rel.count(os.sep) + 1
        for name in sorted(files):
            source = os.path.join(folder, name)
            out = os.path.normpath(os.path.join(target_dir, rel))
            if name.endswith((".png", ".svg")):
                os.makedirs(out, exist_ok=True)
                copy_atomic(source, out)
            elif name.endswith(".md"):
                page = os.path.join(out, name[:-3] + ".html")
                render_markdown(source, page, name[:-3], "../" * (depth + 1))
                pages.append(os.path.relpath(page, target_dir))
    return pages


def machine_rows(results_dir):
    """[(machine, {column: text})] for every machine with results, by name."""
    rows = []
    for machine_file in sorted(glob.glob(os.path.join(results_dir, "*", "machine.json"))):
        machine = os.path.basename(os.path.dirname(machine_file))
        known = dict(read_json(machine_file))
        known.update(newest_params(results_dir, machine))
        row = {title: str(known.get(key) or "?") for title, key in COLUMNS if key}
        row["CPU"] = str(known.get("cpu_model") or known.get("cpu") or "?")
        row["RAM"] = _gib(known.get("ram"))
        row["GPU"] = known.get("gpu") or "none"
        row["threads torch / numba"] = (f"{known.get('torch_threads', '?')} / "
                                        f"{known.get('numba_threads', '?')}")
        row["releases"] = ", ".join(f"{lib} {known[lib]}" for lib in ("numpy", "numba", "torch")
                                    if known.get(lib))
        rows.append((machine, row))
    return rows


def newest_params(results_dir, machine):
    """Every field the machine's result files recorded, each at its newest value (an older
    run fills in a field that newer ones lack)."""
    try:
        files = result_files(results_dir, machine)  # newest first
    except ToolError:
        return {}
    known = {}
    for path in reversed(files):
        known.update({k: v for k, v in recorded_params(path).items() if v not in (None, "")})
    return known


def _gib(ram):
    try:
        return f"{int(ram) / 2 ** 20:.0f} GiB"  # asv records kB
    except (TypeError, ValueError):
        return str(ram or "?")


def landing_page(results_dir, report_dir, target_dir):
    """html/findings/index.html: the machines, their reports, the shared reports."""
    e = html.escape
    body = ["<h1>Machines and their reports</h1>",
            "<p>Each machine's numbers come from its own runs (results/MACHINE/); a run on a "
            "new machine adds its reports beside the others. Graphs draw one line per machine "
            "and library releases; what else produced a point (threads, CPU flags, harness "
            "versions) is in this table and in each machine's provenance records.</p>",
            '<table class="table table-condensed machines"><thead><tr><th>machine</th>'
            + "".join(f"<th>{e(title)}</th>" for title, _ in COLUMNS)
            + "<th>reports</th></tr></thead><tbody>"]
    for machine, row in machine_rows(results_dir):
        reports = sorted(glob.glob(os.path.join(report_dir, "machines", machine, "*.md")))
        reports += sorted(glob.glob(os.path.join(report_dir, "releases", machine, "*.md")))
        links = ", ".join(
            f'<a href="{e(os.path.relpath(path, report_dir)[:-3])}.html">'
            f'{e(os.path.basename(path)[:-3])}</a>' for path in reports) or "none yet"
        body.append(f'<tr id="machine-{e(machine)}"><td>{e(machine)}</td>'
                    + "".join(f"<td>{e(row[title])}</td>" for title, _ in COLUMNS)
                    + f"<td>{links}</td></tr>")
    body.append("</tbody></table><h2>Shared by every machine</h2><ul>")
    for path in sorted(glob.glob(os.path.join(report_dir, "*.md"))):
        name = os.path.basename(path)[:-3]
        body.append(f'<li><a href="{e(name)}.html">{e(name)}</a></li>')
    body.append("</ul>")
    path = os.path.join(target_dir, "index.html")
    write_atomic(path, page("Machines and their reports", "\n".join(body), "../"))
    return path
