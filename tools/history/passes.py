"""A round's value of a case in a history: the passes it judges and how they fold into one.

A worker times a history's own cases in several passes; the Sleef state witness reads, after
each pass of compiled GELU, whether its calls ran slow (tools/run/state_witness.py). A round's
value is the geometric mean of the fastest half of the passes read fast, as many in every
release (docs/methodology.md, "The fastest half of the passes").
"""
from ..run.interleave import fold_passes
from ..run.state_witness import fast_level, is_slow

MIN_STATE_ROUNDS = 3  # rounds that read the Sleef state, to judge a compiled case on them only


def first_passes(entry, passes=None, fast=None):
    """The pass medians a history judges of one round's entry: its first `passes` passes
    (None: every pass), less those read in the slow Sleef state where `fast` (the state
    witness's fast level) is given; [] where every one was slow."""
    values = entry.get("passes", [entry["median"]])[:passes]
    if fast is not None and len(entry.get("witness", [])) >= len(values):
        values = [v for v, w in zip(values, entry["witness"]) if not is_slow(w, fast)]
    return values


def fastest_of(values, count):
    """A round's value of a case timed in several passes: the geometric mean of the fastest
    half of its first `count` passes (the fastest of 2, the 2 fastest of 4, 4 of 8), `count`
    the same for every release of that round. Within a pass the batches agree; between
    passes the level moves. Where it moves only up (another tenant, a worse placement), the
    fastest passes hold the release's level; where it scatters both ways, the mean of half
    of them keeps most of the mean's precision, where the single fastest loses it. Every
    release of a round takes as many passes, since the fastest of 8 reads lower than the
    fastest of 3 of the same spread (compiled GELU's slow passes are set aside, so its
    counts differ). docs/methodology.md, "The fastest half of the passes"."""
    return fold_passes(sorted(values[:count])[:(count + 1) // 2])


def witness_readings(rounds):
    """Every state reading of the rounds (tools/run/state_witness.py)."""
    return [w for rnd in rounds for values in rnd["values"].values()
            for entry in values.values() for w in entry.get("witness", [])]


def witness_of(rounds):
    """{label: {side: {round: [readings]}}} of the Sleef state read after each timing of a
    witnessed case; {} for rounds from before the witness."""
    out = {}
    for rnd in rounds:
        for side, values in rnd["values"].items():
            for label, entry in values.items():
                if entry.get("witness"):
                    out.setdefault(label, {}).setdefault(side, {})[rnd["round"]] = \
                        entry["witness"]
    return out


def state_rounds_of(rounds):
    """{label: {round numbers whose workers read the case's state}}."""
    return {label: set().union(*by_side.values())
            for label, by_side in witness_of(rounds).items()}


def judged_entries(rounds, passes=None):
    """Each round's entry of each case as the history judges it: (fast level or None,
    {side: {label: {round: entry}}}), the entry's median the round's value (fastest_of).
    Compiled GELU's passes read in the slow state of its
    Sleef calls are set aside (entry's median and samples from its fast passes only): the
    state is not the release's (report/mechanisms.md, section 7).
    A case whose state the workers read is judged on the rounds that read it once there are
    MIN_STATE_ROUNDS of them: its earlier rounds mix the two states unseen."""
    readings = witness_readings(rounds)
    fast = fast_level(readings) if readings else None
    seen = state_rounds_of(rounds)
    out = {}
    for rnd in rounds:
        kept = {}  # label -> {side: the pass medians judged}
        for side, values in rnd["values"].items():
            for label, entry in values.items():
                if len(seen.get(label, ())) >= MIN_STATE_ROUNDS and \
                        rnd["round"] not in seen[label]:
                    continue
                judged = first_passes(entry, passes, fast)
                if judged:  # else every pass slow
                    kept.setdefault(label, {})[side] = judged
        for label, by_side in kept.items():
            count = min(map(len, by_side.values()))
            for side, judged in by_side.items():
                entry = rnd["values"][side][label]
                if entry.get("witness"):
                    entry = dict(entry, samples=judged)
                out.setdefault(side, {}).setdefault(label, {})[rnd["round"]] = \
                    dict(entry, median=fastest_of(judged, count))
    return fast, out
