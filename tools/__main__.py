"""One command for everything around the suite: `python -m tools VERB [ARGS]`.

`python -m tools` lists the verbs; `python -m tools VERB --help` explains one. A verb with
topics (`report`, `check`, `history`, `count`) takes the topic first:
`python -m tools report headline`; without one it runs its first topic.
"""
import importlib
import sys

from tools import run_main

# verb -> module, or {topic: module} with the first topic the default.
VERBS = {
    "run": ("tools.main_job", "the main job: every phase here, provenance, findings, dashboard"),
    "smoke": ("tools.run.smoke", "a quick run of the suite through real asv, into a scratch folder"),
    "pair": ("tools.run.measure_pair", "measure two releases of numba or torch, paired rounds "
                                       "(--kernel NAME: one kernel file's cases)"),
    "compare": ("tools.reports.compare_releases", "the verdicts of a paired session: which "
                                                   "cases a release changed"),
    "count": ({"pair": "tools.run.count_pair", "family": "benchmarks.instructions"},
              "instruction counts: pair (default; both environments of a session), family"),
    "history": ({"run": "tools.history.run", "report": "tools.history.report",
                 "narrow": "tools.history.narrow", "envs": "tools.history.envs",
                 "probe": "tools.history.probe", "counts": "tools.history.counts",
                 "ledger": "tools.history.ledger"},
                "release histories: run (default; --kernel NAME), report, probe, counts, "
                "narrow, envs, ledger"),
    "publish": ("tools.dashboard.publish", "the offline dashboard (html/), histories beside it"),
    "report": ({"findings": "tools.reports.findings", "headline": "tools.reports.headline",
                "timeline": "tools.reports.release_timeline"},
               "reports from stored results: findings (default), headline, timeline"),
    "check": ({"timeit": "checks.timeit_agreement", "counts": "checks.counts",
               "kill": "checks.kill_safety", "calibrate": "checks.calibration", "drift": "checks.drift",
               "likwid": "tools.run.likwid_anchor", "ceiling": "experiments.ceiling",
               "import-cost": "experiments.import_cost", "harness": "experiments.harness",
               "np-sum-step": "experiments.np_sum_step", "gelu-level": "experiments.gelu_level",
               "history-power": "experiments.history_power",
               "replicates": "experiments.replicates"},
              "the instruments (checks/): timeit, counts, kill, calibrate, drift, likwid; the "
              "experiments of report/mechanisms.md (experiments/): ceiling, import-cost, "
              "harness, np-sum-step, gelu-level, history-power, replicates"),
    "envs": ("tools.run.matrix_envs", "create or list the release matrix's environments"),
    "provenance": ("tools.run.provenance", "what produced a result file (or would, here)"),
    "ci": ({"plan": "tools.ci.machines", "measure": "tools.ci.steps",
            "pack": "tools.ci.artifact:main_pack", "merge": "tools.ci.artifact:main_merge",
            "follow": "tools.ci.follow", "local": "tools.ci.local"},
           "many machines (.github/workflows/benchmarks.yml): plan, measure, pack, merge, "
           "follow, local"),
}


# Verbs whose default topic takes positional arguments (`history numba`, `count numba ...`).
TAKES_ARGUMENTS = ("history", "count")  # (`ci` topics all start with a topic name)


def usage():
    lines = [__doc__.split("\n\n")[0], "", "verbs:"]
    width = max(map(len, VERBS))
    lines += [f"  {verb:<{width}}  {about}" for verb, (_, about) in VERBS.items()]
    lines += ["", "Shell entry points: bash tools/run_benchmarks.sh (set up + main job), "
                  "bash tools/run_tests.sh (set up + tests)"]
    return "\n".join(lines)


def resolve(argv):
    """(module name, prog, remaining argv) for a command line; SystemExit(2) on a bad verb."""
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        raise SystemExit(0)
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        print(f"tools: unknown verb {verb!r}: choose one of {', '.join(VERBS)}", file=sys.stderr)
        raise SystemExit(2)
    target, _ = VERBS[verb]
    if isinstance(target, str):
        return target, f"python -m tools {verb}", rest
    if rest and rest[0] in target:
        return target[rest[0]], f"python -m tools {verb} {rest[0]}", rest[1:]
    if rest and not rest[0].startswith("-") and verb not in TAKES_ARGUMENTS:
        print(f"tools {verb}: unknown topic {rest[0]!r}: choose one of {', '.join(target)}",
              file=sys.stderr)
        raise SystemExit(2)
    first = next(iter(target))
    return target[first], f"python -m tools {verb} {first}", rest


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    target, prog, rest = resolve(argv)
    module_name, _, function = target.partition(":")  # "module" or "module:function"
    module = importlib.import_module(module_name)
    sys.argv = [prog, *rest]  # argparse names the command as the user typed it
    return run_main(getattr(module, function or "main"), prog, rest)


if __name__ == "__main__":
    sys.exit(main())
