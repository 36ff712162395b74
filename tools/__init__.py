"""Command-line tools around the suite, in six layers (a layer imports only those above it):

    tools.results    reading stored asv results: rows, result files, releases
    tools.reports    analysis and reports: tables, seed claims, release comparisons
    tools.run        running the suite: phases, smoke run, matrix environments, provenance
    tools.history    release histories: the release ledger, interleaved runs, step verdicts
    tools.dashboard  publishing the offline dashboard, the histories' pages beside it
    tools.ci         many machines: the workflow's plan, each machine's job, the merge

`python -m tools` lists every command with a line each.
"""
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Lowest first: a module may import from its own layer and the ones before it, never after.
LAYERS = ["results", "reports", "run", "history", "dashboard", "ci"]


class ToolError(Exception):
    """Bad input, or a state the user can fix (a bad release list, a missing result file, an
    environment that cannot prepare a case): `python -m tools` prints it as one line, exit 2."""


def run_main(main, prog, argv=None):
    """main(argv) of one command, with a ToolError turned into one line on stderr, exit 2."""
    try:
        return main(argv)
    except ToolError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2


def say(message):
    """One progress line of a long command ('== message'), flushed at once."""
    print(f"== {message}", flush=True)
