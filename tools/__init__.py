"""Command-line tools around the suite, in six layers (a layer imports only those above it):

    tools.results    reading stored asv results: rows, result files, releases
    tools.reports    analysis and reports: tables, seed claims, release comparisons
    tools.run        running the suite: environments, interleaved rounds, workers, provenance
    tools.history    release histories: the release ledger, interleaved runs, step verdicts
    tools.dashboard  publishing the offline dashboard, the histories' pages beside it
    tools.ci         many machines: the workflow's plan, each machine's job, the merge

Above every layer, tools/main_job.py (the main job: phases, provenance, findings, dashboard)
calls into all of them.

`python -m tools` lists every command with a line each.
"""
import argparse
import os
import re
import socket
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Lowest first: a module may import from its own layer and the ones before it, never after.
LAYERS = ["results", "reports", "run", "history", "dashboard", "ci"]


class ToolError(Exception):
    """Bad input, or a state the user can fix (a bad release list, a missing result file, an
    environment that cannot prepare a case): `python -m tools` prints it as one line, exit 2."""


def run_main(main, prog, argv=None):
    """main(argv) of one command: a ToolError is one line on stderr and exit 2; a RuntimeError
    (uv, pip, asv or a worker failed, its own output above says why) its last lines, exit 1."""
    try:
        return main(argv)
    except ToolError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"{prog}: {str(exc)[-3000:]}", file=sys.stderr)
        return 1


# ---------------------------------------------------------------------------------------------
# The command line, written once: every command's parser, and the options all spell alike.

class Parser(argparse.ArgumentParser):
    """argparse with a bad command line raised as a ToolError: one line, exit 2."""

    def error(self, message):
        raise ToolError(message)


def command_parser(doc):
    """A command's parser: its module docstring's first paragraph is the description, the
    rest (usage examples) the epilog."""
    head, _, rest = doc.strip().partition("\n\n")
    return Parser(description=head, epilog=rest or None,
                  formatter_class=argparse.RawDescriptionHelpFormatter)


def at_least(minimum, why=""):
    """An argparse type: an integer of at least `minimum` (`why`: the reason, said with it)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{why}")
        return value
    return parse


def regex(text):
    """An argparse type: a valid regular expression."""
    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a valid regular expression: {exc}")
    return text


def machine_name(explicit=None):
    """The asv machine name results are filed under: `explicit`, else $ASV_MACHINE, else this
    host's name (what `asv machine --yes` would pick)."""
    return explicit or os.environ.get("ASV_MACHINE") or socket.gethostname()


def add_machine(parser):
    parser.add_argument("--machine", default=machine_name(),
                        help="asv machine name (default: $ASV_MACHINE or this host's name)")


def add_rounds(parser, default, minimum=3, more=""):
    why = " (a t-interval needs them)" if minimum == 3 else ""
    parser.add_argument("--rounds", type=at_least(minimum, why), default=default,
                        help=f"rounds (default {default}, at least {minimum}){more}")


def add_bench(parser, what="the cases"):
    parser.add_argument("--bench", type=regex,
                        help=f"regular expression on asv's benchmark names narrowing {what}")


def say(message):
    """One progress line of a long command ('== message'), flushed at once."""
    print(f"== {message}", flush=True)
