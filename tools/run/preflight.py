"""The preflight: every case prepared once in every environment before anything is timed.

A history or a release pair compares environments; a case that prepares in some of them and
not in the others (torch.compile without setuptools, a module one environment lacks) would
leave a silent gap in the data, and every step around it unjudged. So each environment gets
one fresh worker that prepares every case (data, numba compilation, torch.compile; the
worker's `prepare_only` request) and times nothing. A case skipped in every environment (no
GPU: asv's NotImplementedError) stays a skip. A case that prepares in some environments and
not in others, or fails with any other error anywhere, stops the run: one line per
environment with the first line of its error.
"""
from .interleave import Worker
from .. import ToolError


ERROR = "error: "  # a reason that is a failure, not asv's skip (NotImplementedError)


def prepare_all(pythons, cases, progress=None):
    """{side: {label: None (prepared) or the reason it was not}}, one worker per side, one
    side after the other (they share two cores; nothing is timed here)."""
    outcome = {}
    for side, python in pythons.items():
        worker = Worker(python)
        try:
            outcome[side] = {}
            for label, request in cases:
                answer = worker.time(dict(request, prepare_only=True))
                if answer.get("prepared"):
                    outcome[side][label] = None
                elif "skipped" in answer:
                    outcome[side][label] = answer["skipped"]
                else:
                    outcome[side][label] = ERROR + answer.get("error", "no answer")
        finally:
            worker.close()
        if progress:
            progress(side, outcome[side])
    return outcome


def uneven(outcome):
    """{label: {side: reason}} of the cases prepared in some sides and not in others, and
    of those that failed (not skipped) anywhere."""
    labels = {label for by_label in outcome.values() for label in by_label}
    out = {}
    for label in sorted(labels):
        reasons = {side: by_label.get(label) for side, by_label in outcome.items()}
        failed = {side: why for side, why in reasons.items() if why is not None}
        if failed and (len(failed) < len(reasons) or
                       any(why.startswith(ERROR) for why in failed.values())):
            out[label] = failed
    return out


def skipped_everywhere(outcome):
    """{label: reason} of the cases every side skipped (the first side's reason)."""
    sides = list(outcome.values())
    if not sides:
        return {}
    return {label: why for label, why in sides[0].items()
            if why is not None and all(s.get(label) is not None for s in sides)}


def refusal(gaps):
    """The message that stops a run: one line per environment, with the first line of its
    error and the cases it hit."""
    by_side = {}
    for label, failed in gaps.items():
        for side, why in failed.items():
            by_side.setdefault(side, {}).setdefault(why, []).append(label)
    lines = [f"{len(gaps)} case(s) prepare in some environments and not in others; nothing "
             "was timed:"]
    for side in sorted(by_side):
        for why, labels in by_side[side].items():
            more = f" (+{len(labels) - 1} more)" if len(labels) > 1 else ""
            lines.append(f"  {side}: {why.splitlines()[0][:200]} [{labels[0]}{more}]")
    return "\n".join(lines)


def check(pythons, cases, progress=None):
    """Prepare every case everywhere; raise ToolError (with `refusal`) on an uneven
    case. Returns the outcome (stored beside the rounds)."""
    outcome = prepare_all(pythons, cases, progress)
    gaps = uneven(outcome)
    if gaps:
        raise ToolError(refusal(gaps))
    return outcome
