"""Compare two releases of one library over the stored results.

    python -m tools.reports.compare_releases numba 0.67.0 0.68.1
    python -m tools.reports.compare_releases torch 2.13.0 2.14.1 --markdown compare.md
    python -m tools.reports.compare_releases numba 0.67.0 0.68.1 --bench 'Sum.*10000000' --only-changed
    python -m tools.reports.compare_releases numba 0.67.0 0.68.1 --fail-on-regression   # exit 1 if any

Every benchmark and parameter combination measured for both releases, on the same machine with
every other library equal, gets the ratio new/old and a verdict. Significance is asv's own test
(asv._stats.is_different, as `asv compare` uses it): Mann-Whitney U at p < 0.002 on the samples
stored by `--record-samples`, else non-overlapping 99 % confidence intervals. A difference
beyond the threshold (default 1.1x) that is significant is a regression or an improvement;
one that is not significant is marked "not significant".
"""
import argparse
import re
import sys

from asv import _stats

from ..results.rows import ResultsError
from ..results.releases import (LIBRARIES, cases, check_release, contexts, describe_context,
                       load_run_files)
from .tables import fmt_time, render

# Units where lower is better: only these get a verdict. A tracked count (threads) or, later,
# a bandwidth has no direction that a threshold could judge.
JUDGED_UNITS = ("seconds", "bytes")


def fmt_value(value, unit):
    return fmt_time(value) if unit == "seconds" else f"{value:.4g} {unit}".strip()


def significant(old, new):
    """asv's test; None when there is too little to test (one sample, no statistics)."""
    if not (old.stats and new.stats):
        return None
    if old.stats.get("repeat", 0) == 1 or new.stats.get("repeat", 0) == 1:
        return None
    return bool(_stats.is_different(old.samples, new.samples, old.stats, new.stats))


def verdict(ratio, is_significant, unit, threshold):
    if unit not in JUDGED_UNITS:
        return "-"
    beyond = ratio > threshold or ratio < 1 / threshold
    if not beyond:
        return ""
    if is_significant is False:
        return "not significant"
    return "REGRESSION" if ratio > threshold else "improvement"


def uses(label, library):
    """Whether a case runs code of `library`. Those that do not (np.sum when torch changes)
    are controls: whatever difference they show is the machine's drift, not the release."""
    if library == "numpy":
        return True  # numba and torch cases take NumPy arrays too
    if library == "torch" and label.startswith(("Gelu", "GeluBandwidth", "GeluMemory",
                                                "GeluCodegen")):
        return True
    return library in label


def compare(old_cases, new_cases, threshold, library, bench=None):
    """Rows [label, old, new, ratio, significant, verdict] and the unmatched labels."""
    pattern = re.compile(bench) if bench else None

    def keep(label):
        return pattern is None or pattern.search(label)

    rows = []
    for label in sorted(set(old_cases) & set(new_cases)):
        if not keep(label):
            continue
        old, new = old_cases[label], new_cases[label]
        ratio = new.value / old.value if old.value else float("nan")
        sig = significant(old, new)
        result = verdict(ratio, sig, old.unit, threshold)
        control = not uses(label, library)
        rows.append({
            "case": label, "old": old.value, "new": new.value, "unit": old.unit,
            "ratio": ratio, "significant": sig, "control": control,
            "verdict": f"{result.lower()} (control)" if control and result not in ("", "-")
            else result,
        })
    only_old = sorted(label for label in set(old_cases) - set(new_cases) if keep(label))
    only_new = sorted(label for label in set(new_cases) - set(old_cases) if keep(label))
    return rows, only_old, only_new


def table(rows, library, old, new):
    header = ["case", f"{library} {old}", f"{library} {new}", "new/old", "significant",
              "verdict"]
    sig_text = {True: "yes", False: "no", None: "n/a"}
    body = [[r["case"], fmt_value(r["old"], r["unit"]), fmt_value(r["new"], r["unit"]),
             f"{r['ratio']:.3f}", sig_text[r["significant"]], r["verdict"]] for r in rows]
    return header, body


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("library", help=f"one of {', '.join(LIBRARIES)}")
    parser.add_argument("old", help="the reference release, e.g. 0.67.0")
    parser.add_argument("new", help="the release compared with it, e.g. 0.68.1")
    parser.add_argument("--results", default="results", help="asv results folder")
    parser.add_argument("--machine", help="only this machine's results")
    parser.add_argument("--bench", help="regular expression on the case, e.g. 'Sum.*numba'")
    parser.add_argument("--threshold", type=float, default=1.1,
                        help="ratio beyond which a significant change is flagged (default 1.1)")
    parser.add_argument("--only-changed", action="store_true",
                        help="list only regressions, improvements and non-significant changes")
    parser.add_argument("--markdown", metavar="FILE", help="also write a markdown report")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit with status 1 when any regression is flagged")
    args = parser.parse_args(argv)
    if args.threshold <= 1:
        print("compare_releases: --threshold must be above 1 (e.g. 1.1 for 10 %)",
              file=sys.stderr)
        return 2
    if args.bench:
        try:
            re.compile(args.bench)
        except re.error as exc:
            print(f"compare_releases: --bench is not a valid regular expression: {exc}",
                  file=sys.stderr)
            return 2
    try:
        runs = load_run_files(args.results, args.machine)
        for release in (args.old, args.new):
            check_release(runs, args.library, release)
        if args.old == args.new:
            raise ResultsError("the two releases are the same")
        groups = contexts(runs, args.library, [args.old, args.new])
        reports = []
        for context, by_release in sorted(groups.items()):
            old_cases = cases(by_release[args.old], args.results)
            new_cases = cases(by_release[args.new], args.results)
            rows, only_old, only_new = compare(old_cases, new_cases, args.threshold,
                                               args.library, args.bench)
            if not rows:
                what = f"matching {args.bench!r} " if args.bench else ""
                side = (f"only {args.library} {args.old} has them" if only_old else
                        f"only {args.library} {args.new} has them" if only_new else
                        "neither release has them")
                raise ResultsError(f"no case {what}was measured for both releases ({side})")
            reports.append((context, rows, only_old, only_new))
    except ResultsError as exc:
        print(f"compare_releases: {exc}", file=sys.stderr)
        return 2

    regressions = 0
    markdown = [f"# {args.library} {args.old} vs {args.new}\n",
                f"Ratio = new / old (above 1: slower). Flagged beyond {args.threshold}x when "
                "asv's test finds the difference significant.\n"]
    for context, rows, only_old, only_new in reports:
        shown = [r for r in rows if r["verdict"] not in ("", "-")] if args.only_changed else rows
        counts = {v: sum(r["verdict"] == v for r in rows)
                  for v in ("REGRESSION", "improvement", "not significant")}
        regressions += counts["REGRESSION"]
        controls = [r for r in rows if r["control"]]
        drifted = [r for r in controls if r["verdict"] in ("regression (control)",
                                                           "improvement (control)")]
        summary = (f"{len(rows)} cases: {counts['REGRESSION']} regressions, "
                   f"{counts['improvement']} improvements, {counts['not significant']} changes "
                   f"beyond {args.threshold}x that are not significant")
        if controls:
            summary += (f"; {len(drifted)} of {len(controls)} control cases (not using "
                        f"{args.library}) also changed significantly: the machine's drift "
                        "between the two runs, to weigh the flags against")
        missing = []
        if only_old:
            missing.append(f"{len(only_old)} cases only for {args.old} (e.g. {only_old[0]})")
        if only_new:
            missing.append(f"{len(only_new)} cases only for {args.new} (e.g. {only_new[0]})")
        header, body = table(shown, args.library, args.old, args.new)
        title = describe_context(context, args.library)
        print(f"== {title}\n{summary}")
        for line in missing:
            print(line)
        print(render(header, body, markdown=False) if body else "(nothing changed)")
        print()
        markdown += [f"## {title}\n", summary + "\n", *(f"- {m}" for m in missing), "",
                     render(header, body, markdown=True) if body else "(nothing changed)", ""]
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(markdown) + "\n")
        print(f"wrote {args.markdown}")
    if args.fail_on_regression and regressions:
        print(f"compare_releases: {regressions} regressions", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
