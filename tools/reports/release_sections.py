"""The findings' release sections, from the stored paired sessions (rounds/) and their
instruction counts: what each comparison flagged and whether the code that ran changed."""
import glob
import os


from ..results.sessions import load_instructions, load_session
from .compare_releases import compare, count_lines, count_table
from .tables import render

def comparisons_section(report_root, out_dir=None, machine=None):
    """Links to the calibration and to this machine's release comparisons
    (report_root/releases/MACHINE/), relative to the report in out_dir."""
    links = []
    up = os.path.relpath(report_root, out_dir or report_root).replace(os.sep, "/")
    prefix = "" if up == "." else up + "/"
    if os.path.isfile(os.path.join(report_root, "calibration.md")):
        links.append(f"- [Calibration of the release comparison]({prefix}calibration.md): its "
                     "false-alarm rate (A/A) and the slowdowns it detects")
    releases = os.path.join(report_root, "releases", machine or "")
    for name in sorted(os.listdir(releases)) if machine and os.path.isdir(releases) else []:
        if name.endswith(".md"):
            links.append(f"- [{name[:-3].replace('-', ' ')}]({prefix}releases/{machine}/{name})")
    if not links:
        return None
    return ("Measured with interleaved, paired rounds (`python -m tools pair`), "
            "judged by `python -m tools compare`:\n\n" + "\n".join(links))


def codegen_section(rounds_dir, prefix="", machine="*"):
    """For each release pair of `machine` with instruction counts: which time changes are code
    changes. Lists the cases whose time was flagged or whose count moved; the rest agree on
    'same'."""
    parts = []
    for pair in sorted(glob.glob(os.path.join(rounds_dir, machine, "*-vs-*"))):
        sessions = sorted(glob.glob(os.path.join(pair, "*.json")))
        if not sessions:
            continue
        session = load_session(sessions[-1])
        instructions = load_instructions(session)
        if instructions is None:
            continue
        header, body = count_table(instructions, compare(session), session.library)
        shown = [row for row in body if row[-1]]
        a, b = session.release("A"), session.release("B")
        parts += [f"**{session.library} {a} vs {b}** (machine {session.data['machine']}). " +
                  count_lines(instructions, session.library)[0] + " " +
                  (f"Cases where time or count moved ({len(shown)}):" if shown else
                   "No time change and no count change."), ""]
        if shown:
            parts += [render(header, shown, markdown=True), ""]
    if not parts:
        return None
    return ("Instruction counts per call are exact (see "
            f"[instruction counts]({prefix}instructions.md)): a time change that comes with "
            "a count change is a change of the code that ran; one without is not code "
            "generation.\n\n" + "\n".join(parts))


