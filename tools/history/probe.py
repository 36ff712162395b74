"""The bare-process probe: every confirmed step timed again outside the harness.

    python -m tools history probe torch            # the confirmed steps of the stored run
    python -m tools history probe torch --rounds 4

Every confirmed step of a history whose case has a bare form is timed again in both releases'
kept environments, in fresh processes that import only numpy and the library
(tools/run/probe.py), and published as confirmed or as "harness only". The outcome is
stored in rounds.json under "probe".
"""
import os
import sys

from .. import REPO_ROOT, add_machine, add_rounds, command_parser, run_main, say
from ..results.atomic import write_json_atomic
from ..run.probe import DEFAULT_ROUNDS, probe_steps
from .paths import ROUNDS_FILE
from .steps import HistoryData, confirmed_steps


def probe_history(name, machine, rounds=DEFAULT_ROUNDS, results_dir=None, say=print):
    """Probe every confirmed step of the stored run; store and return the judged steps."""
    data = HistoryData(name, machine, results_dir)
    steps = confirmed_steps(data)
    pythons = {side: os.path.join(REPO_ROOT, s["python"])
               for side, s in data.progress["sides"].items()}
    record = probe_steps(steps, pythons, rounds, data.tags + [data.canary], say, data.fast)
    if "probe" in data.progress:  # an earlier probe (of other confirmed steps) is kept
        data.progress.setdefault("earlier_probes", []).append(data.progress["probe"])
    data.progress["probe"] = dict(record, rounds_measured=len(data.rounds))
    write_json_atomic(os.path.join(data.results_dir, machine, ROUNDS_FILE), data.progress)
    return record["steps"]


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("history", help="numba or torch")
    add_rounds(parser, DEFAULT_ROUNDS, more="; bare rounds per release and case")
    add_machine(parser)
    args = parser.parse_args(argv)
    judged = probe_history(args.history, args.machine, args.rounds, say=say)
    for s in judged:
        p = s["probe"]
        what = "no bare form" if p is None else (
            f"probe {p['ratio']:.3f}x [{p['low']:.3f}, {p['high']:.3f}] "
            f"{'agrees' if p['agrees'] else 'HARNESS ONLY'}")
        print(f"{s['label']}: {s['before']} -> {s['after']} {s['ratio']:.3f}x; {what}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.history.probe"))
