"""An independent anchor for the suite's bandwidth ceiling: likwid-bench's hand-written
assembly `load` and `copy` kernels (Debian package `likwid`; no hardware counters needed) at
the working-set sizes and thread counts of benchmarks/bench_bandwidth.py.

    python -m tools check likwid [--machine NAME] [--repeat 3] [--seconds 0.5]

Writes provenance/<machine>/likwid/<commit8>.json (sizes, kernel, threads, GB/s of each repeat,
the likwid-bench version and the vector ISA used); `tools.reports.findings` prints it beside
the ceiling. likwid counts bytes as the suite does: load = bytes read, copy and copy_mem (non-temporal
stores) = read + written.
Exit status 2 with one line when likwid-bench is missing.
"""
import os
import re
import shutil
import subprocess
import sys

from .. import REPO_ROOT, ToolError, add_machine, command_parser, run_main
from ..results.config import provenance_dir
from ..results.atomic import write_json_atomic
from .asv_config import head_commit

# The suite's sizes (float32 elements): a sum reads 4 bytes each, a copy moves 8 (in + out).
from benchmarks.bandwidth import SIZES  # noqa: E402

# Working-set bytes per float32 element of the suite's case. copy_mem stores with non-temporal
# instructions (no read-for-ownership of the destination), as glibc's memcpy does for large
# copies: the fair anchor for a copy from memory; copy's ordinary stores also read dst first.
KERNELS = {"load": 4, "copy": 8, "copy_mem": 8}


def isa_suffix(flags):
    """The widest variant likwid has for this CPU: '_avx512', '_avx' or '_sse'."""
    if "avx512f" in flags:
        return "_avx512"
    if "avx" in flags:
        return "_avx"
    return "_sse"


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def parse_mbytes(output):
    """MByte/s (10^6 bytes) from likwid-bench's report, or None."""
    found = re.search(r"^MByte/s:\s+([0-9.]+)", output, re.M)
    return float(found.group(1)) if found else None


def working_set(kernel, size):
    """likwid's -W size argument: the kernel's total working set in kB (10^3 bytes)."""
    return f"{KERNELS[kernel] * size // 1000}kB"


# glibc (>= 2.35) then madvises transparent huge pages for likwid-bench's buffers, as NumPy
# does for the suite's arrays: with 4 KiB pages likwid's load read 1 GB 1.27x slower on the
# EPYC VM while the suite's kernels lost 1.08x (python -m tools check ceiling).
HUGE_PAGES = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}


def run_one(test, size_arg, threads, seconds, huge=True):
    cmd = ["likwid-bench", "-t", test, "-W", f"N:{size_arg}:{threads}", "-s", f"{seconds}s"]
    env = {**os.environ, **(HUGE_PAGES if huge else {})}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    value = parse_mbytes(done.stdout)
    if done.returncode or value is None:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise RuntimeError(f"{' '.join(cmd)}: {last}")
    return value / 1000  # GB/s


def anchor_path(machine, commit):
    return os.path.join(provenance_dir(os.path.join(REPO_ROOT, "results"), machine), "likwid",
                        f"{commit[:8]}.json")


def main(argv=None):
    parser = command_parser(__doc__)
    add_machine(parser)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; best kept too")
    parser.add_argument("--seconds", type=float, default=0.5, help="likwid-bench -s per run")
    parser.add_argument("--small-pages", action="store_true",
                        help="glibc's default malloc (4 KiB pages) instead of huge pages")
    args = parser.parse_args(argv)
    if shutil.which("likwid-bench") is None:
        print("likwid_anchor: likwid-bench not found (Debian: apt-get install likwid)",
              file=sys.stderr)
        return 2
    machine = args.machine
    commit = head_commit()
    suffix = isa_suffix(cpu_flags())
    version = subprocess.run(["likwid-bench", "-h"], capture_output=True, text=True).stdout
    version = (re.search(r"Version\s+([0-9.]+)", version) or [None, "?"])[1]
    threads = sorted({1, os.cpu_count() or 1})
    rows = []
    for size in SIZES:
        for kernel in KERNELS:
            for n in threads:
                try:
                    figures = [run_one(kernel + suffix, working_set(kernel, size), n,
                                       args.seconds, not args.small_pages)
                               for _ in range(args.repeat)]
                except RuntimeError as exc:
                    raise ToolError(str(exc))
                rows.append({"size": size, "kernel": kernel, "threads": n, "gbps": figures})
                print(f"{size:>11,} {kernel:<5} {n} thread(s): best {max(figures):6.1f} GB/s "
                      f"({', '.join(f'{g:.1f}' for g in figures)})", flush=True)
    path = anchor_path(machine, commit)
    write_json_atomic(path, {"likwid_version": version, "variant": suffix.lstrip("_"),
                             "pages": "4k" if args.small_pages else "huge",
                             "commit": commit, "rows": rows})
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.run.likwid_anchor"))
