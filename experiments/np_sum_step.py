"""numba's np.sum between two releases: the code, or where the array lies, or LLVM?

    python -m tools check np-sum-step                            # numba 0.66.0 vs 0.67.0
    python -m tools check np-sum-step --rounds 8 --aa

numba 0.67.0 compiles `np.sum` of a 1-D float32 array into a loop that steps a pointer by the
array's stride (1.74x the instructions per element); one machine timed that 1.40x slower at
10M and unchanged at 1M and 10k. This check separates the suspects on the machine it runs on:

- placement: `NpSumPlacement` (benchmarks/placement.py) at 1M and 10M on 4 KiB or huge pages,
  0, 4 or 16 bytes past a 2 MiB boundary (the suite's arrays: 1M on 4 KiB pages, 10M on huge
  pages, 16 bytes past a page), timed in both releases' kept numba history environments by the
  histories' protocol (fresh workers, every arm back to back in every environment, rotated);
- LLVM: a third environment, the earlier numba with the later release's llvmlite (an overlay
  in .asv/np-sum-overlay/; numba checks only a minimum llvmlite version, so the later numba
  cannot be given the earlier llvmlite). Its instructions per element, counted under
  valgrind, say whose the new loop is.

Each arm's later/earlier and overlay/earlier ratio is judged by the release verdicts'
statistics; with --aa a second worker of the earlier release gives the A/A. Writes
report/np-sum-step/MACHINE.json and prints the tables.
"""
import os
import subprocess
import sys

import numpy as np

from benchmarks.placement import NpSumPlacement

from tools import REPO_ROOT, ToolError, add_machine, add_rounds, command_parser, run_main
from tools.run.environments import ask, copy_into, kept_python, overlay
from tools.reports.tables import render
from tools.reports.verdicts import judge, result_of_logs
from tools.results.atomic import write_json_atomic
from tools.run.interleave import REPEAT, measure_round, round_logs

OVERLAY_ROOT = os.path.join(REPO_ROOT, ".asv", "np-sum-overlay")
COUNT_SIZE = 1_000_000


def swapped_python(earlier, later):
    """(python, llvmlite version) of an overlay: the earlier numba's environment read through a
    venv whose own site-packages hold only the later environment's llvmlite."""
    home = os.path.join(OVERLAY_ROOT, f"numba-{earlier}-llvmlite-of-{later}")
    donor = kept_python("numba", f"numba-{later}")
    python = overlay(home, kept_python("numba", f"numba-{earlier}"),
                     lambda site: copy_into(site, donor, "llvmlite"))
    try:
        versions = ask(python, "import llvmlite, numba; print(numba.__version__, "
                               "llvmlite.__version__)")
    except subprocess.CalledProcessError as exc:
        raise ToolError(f"numba {earlier} refuses the llvmlite of {later}: "
                           f"{exc.stderr.strip().splitlines()[-1]}") from exc
    return python, versions.split()[1]


def arms():
    import itertools

    grid = itertools.product(*NpSumPlacement.params)
    return [dict(zip(NpSumPlacement.param_names, combo)) for combo in grid]


def label(arm):
    return f"{arm['size']:,} {arm['pages']} +{arm['offset']}"


def requests():
    return [(label(a), {"module": "placement", "class": "NpSumPlacement",
                        "params": [a["size"], a["pages"], a["offset"]], "samples": REPEAT,
                        "names": {k: str(v) for k, v in a.items()}}) for a in arms()]


def per_element_instructions(python):
    """Instructions per element of the suite's numba_np_sum at COUNT_SIZE, under valgrind."""
    code = ("from benchmarks import instructions; import json; print(json.dumps("
            f"instructions.count_cases([('c', 'Sum', ({COUNT_SIZE}, 'numba_np_sum', 'cpu'))])"
            "['counts']))")
    import json

    counts = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True,
                                       check=True, cwd=REPO_ROOT).stdout.splitlines()[-1])
    return counts["c"] / COUNT_SIZE


def judged(data, a, b):
    """[(label, result)] of b/a per arm over the rounds."""
    out = []
    for name, _ in requests():
        out.append(result_of_logs(name, round_logs(data, a, b, name)))
    return judge(out)


def level(data, side, name):
    values = [r["values"][side][name]["median"] for r in data if name in r["values"][side]]
    return float(np.median(values)) if values else float("nan")


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--releases", default="0.66.0,0.67.0",
                        help="two numba releases with kept history environments")
    add_rounds(parser, 6)
    parser.add_argument("--aa", action="store_true",
                        help="also a second worker of the earlier release (the A/A)")
    add_machine(parser)
    args = parser.parse_args(argv)
    releases = args.releases.split(",")
    if len(releases) != 2 or releases[0] == releases[1]:
        raise ToolError("--releases takes two different numba releases, e.g. 0.66.0,0.67.0")
    try:
        earlier, later = releases
        machine = args.machine
        pythons = {release: kept_python("numba", f"numba-{release}") for release in (earlier, later)}
        swap, donor_llvmlite = swapped_python(earlier, later)
        swap_side = f"{earlier} + llvmlite {donor_llvmlite}"
        pythons[swap_side] = swap
        if args.aa:
            pythons[f"{earlier} again"] = pythons[earlier]
        counts = {side: per_element_instructions(py) for side, py in pythons.items()
                  if not side.endswith("again")}
        data = []
        for number in range(1, args.rounds + 1):
            data.append(measure_round(number, pythons, requests()))
            print(f"np-sum-step: round {number}/{args.rounds} "
                  f"({data[-1]['seconds']:.0f} s)", flush=True)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(str(exc))
    path = os.path.join(REPO_ROOT, "report", "np-sum-step", f"{machine}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json_atomic(path, {"machine": machine, "sides": list(pythons),
                             "instructions_per_element": counts, "rounds": data})
    print(render(["environment", f"instructions per element (numba_np_sum, {COUNT_SIZE:,})"],
                 [[side, f"{n:.3f}"] for side, n in counts.items()], markdown=True))
    print()
    rows = []
    others = [s for s in pythons if s != earlier]
    results = {side: {r.case: r for r in judged(data, earlier, side)} for side in others}
    for name, _ in requests():
        row = [name, _ms(level(data, earlier, name))]
        for side in others:
            r = results[side][name]
            row.append(f"{_ms(level(data, side, name))} · {r.ratio:.3f}x "
                       f"[{r.low:.3f}, {r.high:.3f}] {r.verdict}")
        rows.append(row)
    print(render(["arm (elements, pages, bytes past 2 MiB)", earlier]
                 + [f"{s} (/ {earlier})" for s in others], rows, markdown=True))
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    return 0


def _ms(seconds):
    return f"{seconds * 1e3:.4g} ms"


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m experiments.np_sum_step"))
