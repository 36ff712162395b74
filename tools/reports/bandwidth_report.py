"""The findings' hardware sections: the bandwidth ceiling of each size from one process's
table (bench_bandwidth.py), likwid-bench beside it, and cache residency of the 10M sums."""
import os
import statistics
from collections import defaultdict

from benchmarks.bandwidth import COPY_KERNELS, READ_KERNELS
from benchmarks.impls import SUMS

from .. import ToolError
from ..results.config import record_of
from ..results.rows import read_json
from .measures import ratio as _ratio
from .names import BANDWIDTH, SUM_RESIDENCY
from .tables import fmt_ratio, fmt_time, render
from .claims import rows_of, sample_spread

READ_BASELINES = tuple(READ_KERNELS)
COPY_BASELINES = tuple(COPY_KERNELS)


def parse_caches(text):
    """{level: bytes} from provenance's 'L1 48 KiB, L2 2048 KiB, L3 491520 KiB'."""
    levels = {}
    for part in (text or "").split(","):
        name, _, size = part.strip().partition(" ")
        if name.startswith("L") and size.endswith("KiB"):
            try:
                levels[int(name[1:])] = int(size.split()[0]) * 1024
            except ValueError:
                continue
    return levels


def _ceiling_table(r, cls, kinds, extra_key=(), levels=None):
    """Per size: where it lives, the ceiling and which kernel set it, and baseline failures,
    all from one process's samples (bench_bandwidth.py); plus each implementation's %."""
    from benchmarks.bandwidth import Measured, WarmUp, ceiling
    from benchmarks.caches import residency

    gb, pct, warm = (rows_of(r, benchmark) for benchmark in BANDWIDTH[cls])
    if not gb:
        return None, [], {}
    sizes = sorted({int(k[0]) for k in gb if k[2:] == extra_key})
    head, impl_rows, notes, ceilings = [], {}, [], {}
    for size in sizes:
        measured = {k[1]: Measured(list(row.samples or [row.value]), WarmUp(0, 0, True))
                    for k, row in gb.items() if int(k[0]) == size and k[2:] == extra_key}
        baselines = [n for n in measured if n in kinds]
        if not baselines:
            continue
        found = ceiling(measured, baselines)
        ceilings[size] = found.gbps
        working_set = size * 4 * (1 if cls == "ReadBandwidth" else 2)
        head.append([f"{size:,}", f"{working_set / 1e6:,.2f} MB",
                     residency(working_set, levels) if levels else "unknown",
                     f"{found.gbps:.1f}", f"`{found.set_by}`",
                     ", ".join(f"`{n}`" for n in found.failures) or "none"])
        for name in measured:
            if name in kinds:
                continue
            row = pct.get((str(size), name) + extra_key)
            impl_rows.setdefault(name, {})[size] = \
                f"{row.value:.0f} %{sample_spread(row)}" if row else "n/a"
        for key, row in warm.items():
            if int(key[0]) == size and key[2:] == extra_key and row.value < 0:
                notes.append(f"`{key[1]}` at {size:,}: warm-up hit its cap after "
                             f"{-row.value:.0f} batches without settling; its figure is flagged")
    table = render(["size", "working set", "fits in", "ceiling GB/s", "set by",
                    "baseline failure"], head,
                   markdown=True)
    impls = render(["implementation"] + [f"{s:,}" for s in sizes],
                   [[f"`{n}`"] + [v.get(s, "n/a") for s in sizes] for n, v in impl_rows.items()],
                   markdown=True)
    return (table + "\n\nShare of the ceiling, median of the rounds (range):\n\n" + impls,
            notes, ceilings)


def likwid_table(likwid, ceilings):
    """likwid-bench's load and copy at the same sizes (best of its repeats), beside the
    suite's ceiling of the same size and kind ({(size, 'load'|'copy'): GB/s})."""
    if not likwid:
        return None
    by = defaultdict(dict)
    for row in likwid["rows"]:
        by[(row["size"], row["kernel"])][row["threads"]] = max(row["gbps"])
    threads = sorted({t for v in by.values() for t in v})
    rows = []
    for (size, kernel), v in sorted(by.items()):
        ours = ceilings.get((size, "copy" if kernel.startswith("copy") else kernel))
        best = max(v.values())
        rows.append([f"{size:,}", kernel] + [f"{v.get(t, float('nan')):.1f}" for t in threads]
                    + [f"{ours:.1f}" if ours else "n/a",
                       f"{ours / best:.2f}" if ours else "n/a"])
    pages = ("with transparent huge pages (glibc.malloc.hugetlb=1), as NumPy gives the "
             "suite's arrays" if likwid.get("pages") == "huge" else
             "with glibc's default malloc, so 4 KiB pages where the suite's NumPy arrays get "
             "huge pages (see the ceiling check below)")
    return (f"likwid-bench {likwid.get('likwid_version', '?')} "
            f"(`{likwid.get('variant', '?')}` kernels, hand-written assembly, {pages}; data "
            "placed by each thread; `copy_mem` stores without reading the destination first, as "
            "glibc's memcpy does for large copies; a separate process and a separate run, so "
            "read the ratio as an order of magnitude, not a percent), beside the suite's "
            "ceiling of the same size (read for `load`, copy with glibc's default malloc for "
            "the copies). At 40 KB a call from Python costs about as much as the data takes "
            "to read, so the suite's ceiling there is a ceiling of calls, not of the cache:"
            "\n\n"
            + render(["size (float32 elements)", "kernel"]
                     + [f"likwid GB/s, {t} thread(s)" for t in threads]
                     + ["suite ceiling GB/s", "suite / likwid best"], rows, markdown=True))


def bandwidth_section(r, likwid=None):
    caches = r.env().get("cpu_caches")
    levels = parse_caches(caches)
    read_table, notes, read_ceilings = _ceiling_table(r, "ReadBandwidth", READ_BASELINES,
                                                      levels=levels)
    ceilings = {(size, "load"): g for size, g in read_ceilings.items()}
    if read_table is None:
        return None
    lines = ["Each percentage is computed from figures taken in one process: at each size the "
             "baseline kernels (read: int64 and float32 add-reductions in NumPy, numba and "
             "torch, one thread and all threads; copy: NumPy, numba and torch) and every "
             "implementation run side by side, round after round (`ReadBandwidth`, "
             "`GeluBandwidth`). The ceiling is the best of them all, so no share exceeds "
             "100 %; an implementation that beats every baseline kernel in every round is "
             "listed as a baseline failure (the kernels missed the machine's best read), never "
             "as more than 100 %."]
    if caches:
        lines.append(f"Caches of this CPU (sysfs, recorded with the run): {caches}. A working "
                     "set that fits a cache level is re-read from that cache on every call: "
                     "those sizes measure cache bandwidth, only the largest measures memory.")
    lines += ["", "**Sums against the read ceiling** (GB/s = bytes read per second):", "",
              read_table]
    copy_blocks = []
    for malloc in ("default", "keep_heap"):
        table, more, copy_ceilings = _ceiling_table(r, "GeluBandwidth", COPY_BASELINES,
                                                    (malloc,), levels)
        if malloc == "default":
            ceilings.update({(size, "copy"): g for size, g in copy_ceilings.items()})
        if table:
            copy_blocks += ["", f"**GELU against the copy ceiling, malloc={malloc}** (bytes "
                            "read + written per second):", "", table]
            notes += more
    lines += copy_blocks
    anchor = likwid_table(likwid, ceilings)
    if anchor:
        lines += ["", anchor]
    if notes:
        lines += ["", "Warm-up: " + "; ".join(notes) + "."]
    return "\n".join(lines)


def residency_section(r):
    """The seed's repeated 10M sum next to the same sum reading from memory."""
    table = rows_of(r, SUM_RESIDENCY)
    if not table:
        return None
    size = max(int(k[0]) for k in table)
    impls = sorted({k[1] for k in table}, key=lambda i: list(SUMS).index(i) if i in SUMS else 99)
    rows = []
    for impl in impls:
        rep = table.get((str(size), impl, "repeated"))
        rot = table.get((str(size), impl, "rotating"))
        gb = [f"{size * 4 / row.value / 1e9:.1f}" if row else "n/a" for row in (rep, rot)]
        rows.append([f"`{impl}`", fmt_time(rep.value if rep else None), gb[0],
                     fmt_time(rot.value if rot else None), gb[1],
                     fmt_ratio(_ratio(rot.value if rot else None, rep.value if rep else None))])
    return (f"`SumResidency` at {size:,} elements: `repeated` re-reads the same {size * 4 / 1e6:.0f}"
            " MB every call, as the seed did (cache-resident wherever the last-level cache holds "
            "it); `rotating` sums a different copy each call, cycling through copies twice the "
            "size of the last-level cache, so every call reads from memory.\n\n"
            + render(["impl", "repeated", "GB/s", "rotating (from memory)", "GB/s",
                      "rotating / repeated"], rows, markdown=True))


def ceiling_summary(result):
    """Markdown: median GB/s per arm, and the ratios that decide it with their round spread."""
    lines = [f"Transparent huge pages: `{result['thp']}`; {result['threads']} threads; "
             f"{result['rounds']} rounds, every arm once a round in rotated order.", ""]
    for size, data in result["sizes"].items():
        gbps, huge = data["gbps"], data["huge_pages_kb"]
        lines += [f"**{int(size):,} float32 ({int(size) * 4 / 1e6:,.0f} MB)**", "",
                  "| arm | median GB/s | range | huge pages (MB) |", "|---|---|---|---|"]
        for arm, values in gbps.items():
            where = next((k for k in huge if arm.endswith(k) or arm == k), None)
            pages = f"{huge[where] / 1024:.0f}" if where is not None else ""
            lines.append(f"| {arm} | {statistics.median(values):.1f} | "
                         f"{min(values):.1f}-{max(values):.1f} | {pages} |")
        lines += ["", "| ratio (per round) | median | range |", "|---|---|---|"]
        for a, b in (("torch_sum numpy_huge", "torch_sum numpy_huge_again"),
                     ("torch_sum numpy_huge", "likwid 4k"), ("torch_sum numpy_4k", "likwid 4k"),
                     ("torch_sum numpy_huge", "likwid huge"),
                     ("torch_sum numpy_huge (median batch)", "likwid huge"),
                     ("torch_sum numpy_huge (median batch)", "torch_sum numpy_huge"),
                     ("numba_parallel numpy_huge", "numba_parallel numpy_4k"),
                     ("likwid huge", "likwid 4k")):
            if a not in gbps or b not in gbps:  # a check from before that arm existed
                continue
            ratios = [x / y for x, y in zip(gbps[a], gbps[b])]
            lines.append(f"| {a} / {b} | {statistics.median(ratios):.2f} | "
                         f"{min(ratios):.2f}-{max(ratios):.2f} |")
        lines.append("")
    return "\n".join(lines)


def ceiling_of(path):
    """The newest `python -m tools check ceiling` of the result file's machine, or None."""
    import glob

    found = []
    for name in glob.glob(os.path.join(os.path.dirname(record_of(path)), "likwid",
                                       "ceiling-*.json")):
        try:
            found.append(read_json(name))
        except ToolError:
            continue
    return max(found, key=lambda d: d.get("measured_at", "")) if found else None


def ceiling_section(ceiling):
    """Why the suite's read ceiling sits above likwid-bench's load: the check's answer."""
    if not ceiling:
        return None
    return ("`python -m tools check ceiling` (one process for the suite's kernels, likwid-bench "
            "beside it, every arm once a round): NumPy madvises transparent huge pages for "
            "every array of 4 MB or more, and every array the suite reads is NumPy's; "
            "likwid-bench's malloc gets 4 KiB pages unless glibc is told to madvise "
            "(`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, what the likwid anchor now uses). The "
            "suite's arms take their best batch and likwid-bench reports the average over its "
            "run; the \"(median batch)\" arms set a typical batch of the same runs against it. "
            f"Measured {ceiling.get('measured_at', '?')} at commit "
            f"{str(ceiling.get('commit', '?'))[:8]}:\n\n" + ceiling_summary(ceiling))


def likwid_of(path, rows):
    """The likwid-bench anchor of the result file's machine and commit, or None."""
    commit = rows[0].commit if rows else ""
    anchor = os.path.join(os.path.dirname(record_of(path)), "likwid", f"{commit[:8]}.json")
    try:
        return read_json(anchor) if commit and os.path.exists(anchor) else None
    except ToolError:
        return None


