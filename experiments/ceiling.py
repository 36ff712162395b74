"""Why the suite's read ceiling can sit above likwid-bench's load kernel: the page size.

    python -m tools check ceiling [--rounds 5] [--sizes 10000000,250000000]

NumPy asks the kernel for transparent huge pages (madvise) for every array of 4 MB or more,
and every array the suite reads is NumPy's; likwid-bench allocates with glibc's malloc, which
under the usual THP setting `madvise` gets 4 KiB pages. Streaming reads then cross a page
boundary every 4 KiB instead of every 2 MiB (a TLB miss, and the hardware prefetcher stops at
the page edge). This check measures both tools both ways, in the same rounds:

- likwid-bench `load` (all threads), glibc's default malloc, and again with
  GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (malloc then madvises huge pages: glibc >= 2.35);
- the suite's best read kernels (numba's parallel float32 add-reduction and torch.sum, the
  ones that set the ceiling) on a NumPy array with huge pages (as in the suite), on a second
  one (the A/A: same allocation, same kernel) and on one allocated with NumPy's huge-page
  madvise switched off.

The suite's figure is its best batch (as in its bandwidth tables), likwid-bench's the average
over its run; each suite arm also keeps its median batch, so the two kinds can be set side by
side. Each round runs every arm once, in an order rotated from round to round; the huge pages each
array got are read from /proc/self/smaps_rollup (likwid's from its process while it runs).
Writes provenance/MACHINE/likwid/ceiling-COMMIT8.json; the findings read it.
"""
import os
import re
import statistics
import subprocess
import sys
import time

from benchmarks.placement import anon_huge_kb, numpy_array

from tools import REPO_ROOT, ToolError, add_machine, add_rounds, command_parser, run_main
from tools.reports.bandwidth_report import ceiling_summary
from tools.results.atomic import write_json_atomic
from tools.results.config import provenance_dir
from tools.run.asv_config import head_commit
from tools.run.likwid_anchor import cpu_flags, isa_suffix, parse_mbytes, working_set

THP_TUNABLE = "glibc.malloc.hugetlb=1"
MEDIAN_BATCH = "(median batch)"


def likwid_load(size, threads, seconds, huge):
    """(GB/s, huge pages seen in likwid's process, kB)."""
    test = "load" + isa_suffix(cpu_flags())
    cmd = ["likwid-bench", "-t", test, "-W", f"N:{working_set('load', size)}:{threads}",
           "-s", f"{seconds}s"]
    env = dict(os.environ)
    if huge:
        env["GLIBC_TUNABLES"] = THP_TUNABLE
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    seen = 0
    while proc.poll() is None:
        seen = max(seen, anon_huge_kb(proc.pid))
        time.sleep(0.02)
    out, err = proc.communicate()
    value = parse_mbytes(out)
    if proc.returncode or value is None:
        raise RuntimeError(f"{' '.join(cmd)}: {(err or out).strip()[-200:]}")
    return value / 1000, seen


def suite_kernels(x):
    """{kernel: callable} of the suite's reads that set its ceiling."""
    import torch

    from benchmarks.bandwidth import _read_float32_parallel

    _read_float32_parallel(x)  # compiles
    tensor = torch.from_numpy(x)
    return {"numba_parallel": lambda: _read_float32_parallel(x),
            "torch_sum": lambda: torch.sum(tensor)}


def suite_gbps(run, nbytes):
    """(GB/s of the best batch, GB/s of the median batch): the suite's tables take the best,
    likwid-bench reports the average over its run, so both are kept."""
    from benchmarks.timing import measure_batches

    samples, _ = measure_batches(run, batches=5, min_seconds=0.05)
    return nbytes / min(samples) / 1e9, nbytes / statistics.median(samples) / 1e9


def check(sizes, rounds, seconds, say=print):
    threads = os.cpu_count() or 1
    out = {"threads": threads, "rounds": rounds, "thp": _thp_mode(), "sizes": {}}
    for size in sizes:
        arrays = {name: numpy_array(size, huge) for name, huge in
                  (("numpy_huge", True), ("numpy_huge_again", True), ("numpy_4k", False))}
        runs = {}
        for name, (x, _) in arrays.items():
            for kernel, run in suite_kernels(x).items():
                runs[f"{kernel} {name}"] = (run, x.nbytes)
        arms = ["likwid 4k", "likwid huge"] + list(runs)
        figures = {arm: [] for arm in arms}
        figures.update({f"{arm} {MEDIAN_BATCH}": [] for arm in runs})
        likwid_huge_kb = {}
        for r in range(rounds):
            order = arms[r % len(arms):] + arms[:r % len(arms)]
            for arm in order:
                if arm.startswith("likwid"):
                    gbps, seen = likwid_load(size, threads, seconds, arm == "likwid huge")
                    likwid_huge_kb[arm] = max(likwid_huge_kb.get(arm, 0), seen)
                else:
                    gbps, typical = suite_gbps(*runs[arm])
                    figures[f"{arm} {MEDIAN_BATCH}"].append(typical)
                figures[arm].append(gbps)
            say(f"{size:>11,} round {r + 1}/{rounds}: " + ", ".join(
                f"{arm} {figures[arm][-1]:.1f}" for arm in arms))
        out["sizes"][str(size)] = {
            "gbps": figures,
            "huge_pages_kb": {**{name: kb for name, (_, kb) in arrays.items()},
                              **likwid_huge_kb}}
        del arrays, runs
    return out


def _thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return re.search(r"\[(\w+)\]", f.read()).group(1)
    except (OSError, AttributeError):
        return "unknown"


def ceiling_path(machine, commit):
    return os.path.join(provenance_dir(os.path.join(REPO_ROOT, "results"), machine), "likwid",
                        f"ceiling-{commit[:8]}.json")


def main(argv=None):
    parser = command_parser(__doc__)
    add_rounds(parser, 5, minimum=2)
    parser.add_argument("--sizes", default="10000000,250000000",
                        help="float32 elements, comma-separated")
    parser.add_argument("--seconds", type=float, default=0.5, help="likwid-bench -s per run")
    add_machine(parser)
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError as exc:
        raise ToolError(f"--sizes: {exc}")
    if min(sizes) < 1_000_000:
        raise ToolError("every size must be at least 1000000 (NumPy madvises huge pages "
                        "from 4 MB)")
    machine, commit = args.machine, head_commit()
    try:
        result = check(sizes, args.rounds, args.seconds)
    except (RuntimeError, FileNotFoundError) as exc:  # likwid-bench missing or failing
        raise ToolError(" ".join(str(exc).split())[:300])
    result.update(machine=machine, commit=commit,
                  measured_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
    path = ceiling_path(machine, commit)
    write_json_atomic(path, result)
    print(ceiling_summary(result))
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m experiments.ceiling"))
