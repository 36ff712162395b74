"""The findings report: each claim of the seed notebook, the ratio measured here, whether it
holds, and the mechanism, with the evidence the suite recorded (generated machine code,
kernel counts, bandwidth, threads, memory). Everything is computed from the results given.

    python -m tools report findings                           # newest results -> report/
    python -m tools report findings --numba 0.68.1 --torch 2.13.0 --out report
    python -m tools report findings --results DIR --machine NAME

Writes report/findings.md and its PNG plots; tools/dashboard/publish.py copies report/ into the
dashboard (html/findings/) and links it from the dashboard's navigation bar.
"""
import argparse
import glob
import math
import os
import sys
from collections import defaultdict

from benchmarks import seed
from benchmarks.bandwidth import COPY_KERNELS, READ_KERNELS
from benchmarks.impls import SUMS

from .. import REPO_ROOT
from ..results.config import record_of
from ..results.releases import add_selection_args, selected_rows
from ..results.rows import ResultsError, RowIndex, read_json
from ..results.atomic import write_text_atomic
from ..results.sessions import load_instructions, load_session
from .compare_releases import compare, count_lines, count_table
from .measures import compiled_speedup, gelu_times, ratio as _ratio, rows_faster
from .names import (ACCURACY, AXIS_SUM, BANDWIDTH, GELU, GELU_COMPUTE, GELU_KERNELS,
                    GELU_PERCENT_OF_COMPUTE, GELU_PERCENT_OF_COPY, NUMBA_ADDS, SUM, SUM_MEMORY,
                    SUM_RESIDENCY, SUM_THREADS, startup)
from .plots import plots
from .tables import fmt_ratio, fmt_time, render

READ_BASELINES = tuple(READ_KERNELS)
COPY_BASELINES = tuple(COPY_KERNELS)
NEUTRAL = (0.8, 1.25)  # a rows/cols ratio in this band counts as "about 1.0x"


def _verdict(holds):
    return {True: "holds", False: "does not hold", None: "not measured"}[holds]


def _pct(value):
    return "n/a" if value is None else f"{value:.0f} %"


# ------------------------------------------------------------------------------------------
# Claims. Each returns a dict: claim, measured (markdown), holds, mechanism (markdown).


def claim_sum_ranking(r):
    size = 10_000_000
    ranking = seed.sum_ranking()
    times = {impl: r.get(SUM, size, impl, "cpu") for impl in ranking}
    measured = [impl for impl in sorted(times, key=lambda i: times[i] or math.inf)
                if times[impl] is not None]
    holds = None
    if len(measured) == len(ranking):
        # the seed's ranking, its near-ties unordered (benchmarks/seed.py)
        tiers = [set(tier) for tier in seed.SUM_10M_TIERS]
        pos = 0
        holds = True
        for tier in tiers:
            holds &= set(measured[pos:pos + len(tier)]) == tier
            pos += len(tier)
    body = [[impl, fmt_time(times[impl]), fmt_time(seed.SUM_10M.get(impl))] for impl in measured]
    one = r.get(SUM_THREADS, size, "torch_tensor", 1)
    all_cores = {k: v for k, v in r.table(SUM_THREADS).items()
                 if k[0] == str(size) and k[1] == "torch_tensor" and k[2] != "1"}
    threads_note = ""
    if one and all_cores:
        (key, t_all), = list(all_cores.items())[:1]
        threads_note = (f" With one thread torch takes {fmt_time(one)}, with {key[2]} "
                        f"{fmt_time(t_all)} ({one / t_all:.2f}x): part of torch's lead is "
                        "simply more cores, since np.sum runs on one.")
    fastmath = r.get(SUM, size, "numba_loop_fastmath", "cpu")
    mech = ("torch and NumPy run SIMD reductions (torch also on every core); the numba loop is "
            "scalar (next claim); the Python versions box every element (last claim)."
            + threads_note
            + (f" A one-thread SIMD loop (`numba_loop_fastmath`, {fmt_time(fastmath)}) already "
               "beats np.sum." if fastmath and times.get("numpy_sum") and
               fastmath < times["numpy_sum"] else ""))
    return {"claim": "Summing 10M float32: PyTorch is fastest, then NumPy, then numba (loop and "
                     "np.sum in njit), and pure Python is slowest.",
            "measured": render(["impl", "here", "seed"], body, markdown=True) if body else "",
            "holds": holds, "mechanism": mech}


def claim_numba_loop(r):
    size = 10_000_000
    loop = r.get(SUM, size, "numba_loop", "cpu")
    numpy = r.get(SUM, size, "numpy_sum", "cpu")
    fast = r.get(SUM, size, "numba_loop_fastmath", "cpu")
    slower = _ratio(loop, numpy)
    holds = None if slower is None else slower > 1.1
    measured = (f"`numba_loop` {fmt_time(loop)} vs `np.sum` {fmt_time(numpy)}: "
                f"{fmt_ratio(slower)} slower. The same loop with `fastmath=True`: "
                f"{fmt_time(fast)} ({fmt_ratio(_ratio(loop, fast))} faster than without).")
    counts = {(impl, kind): r.get(NUMBA_ADDS, impl, kind)
              for impl in ("numba_loop", "numba_loop_fastmath") for kind in ("packed", "scalar")}
    mech = ("Strict IEEE ordering makes every add depend on the previous one, so LLVM may not "
            "split the sum across SIMD lanes; `fastmath` allows reassociation and the loop "
            "vectorises.")
    if all(v is not None for v in counts.values()):
        mech += (" The machine code numba generated on this machine shows it: the plain loop "
                 f"has {counts['numba_loop', 'packed']:.0f} packed and "
                 f"{counts['numba_loop', 'scalar']:.0f} scalar float adds; the fastmath loop "
                 f"{counts['numba_loop_fastmath', 'packed']:.0f} packed and "
                 f"{counts['numba_loop_fastmath', 'scalar']:.0f} scalar.")
    return {"claim": "The numba loop is slower than np.sum.", "measured": measured,
            "holds": holds, "mechanism": mech}


LARGE_SHAPES = ("10000x10000", "25000x25000", "100000x100", "100x100000")


def _rows_faster_table(r, library):
    """Rows-faster ratios in C and F layout, and a markdown table of them beside the seed's."""
    c, f = rows_faster(r, library, "C"), rows_faster(r, library, "F")
    body = [[s, fmt_ratio(c.get(s)), fmt_ratio(f.get(s)),
             fmt_ratio(seed.ROWS_FASTER.get((library, s)))] for s in c]
    table = render(["shape", "rows faster by (C)", "(F)", "seed (C)"], body,
                   markdown=True) if body else ""
    return c, f, table


def claim_torch_rows(r):
    c, f, table = _rows_faster_table(r, "torch")
    shapes = [s for s in LARGE_SHAPES if s in c]
    holds = None if not shapes else all(c[s] > 1.1 for s in shapes)
    flips = [s for s in shapes if s in f and f[s] < 1]
    mech = ("A row of a C-ordered (row-major) matrix is contiguous, so each row sum streams "
            "through memory with SIMD loads; a column sum strides across rows. ")
    if flips:
        mech += (f"The Fortran-ordered twin turns it around ({len(flips)} of {len(shapes)} "
                 "large shapes: columns faster), so what matters is the contiguous axis, not "
                 "rows as such.")
    return {"claim": "torch sums rows faster than columns (up to ~3.6x at 25000x25000).",
            "measured": table, "holds": holds, "mechanism": mech}


def claim_numpy_neutral(r):
    c, _, table = _rows_faster_table(r, "numpy")
    holds = None if not c else all(NEUTRAL[0] <= v <= NEUTRAL[1] for v in c.values())
    outside = [s for s, v in c.items() if not NEUTRAL[0] <= v <= NEUTRAL[1]]
    mech = ("NumPy reduces along either axis with contiguous inner loops (for columns it adds "
            "whole rows into an accumulator row), so neither axis forces strided access.")
    if outside:
        mech += (f" Outside {NEUTRAL[0]}-{NEUTRAL[1]}x here: {', '.join(outside)}: the "
                 "pairwise row sums and the row-accumulating column sums are different "
                 "loops, and which one wins depends on the shape and the cache.")
    return {"claim": "NumPy sums rows and columns equally fast (about 1.0x).",
            "measured": table, "holds": holds, "mechanism": mech}


def claim_gelu(r):
    size = 10_000_000
    t = gelu_times(r, size)
    speedup = compiled_speedup(r, size)
    quoted = seed.GELU_10M["eager"] / seed.GELU_10M["compiled"]
    # Judged on what fusion buys alone (heap kept) where measured: the default-malloc ratio
    # also holds the page faults of eager's extra outputs.
    alone = compiled_speedup(r, size, malloc="keep_heap")
    judged = alone if alone is not None else speedup
    holds = None if judged is None else judged > 1.5
    measured = (f"10M elements: eager {fmt_time(t['eager'])}, compiled {fmt_time(t['compiled'])} "
                f"({fmt_ratio(speedup)}; seed {quoted:.2f}x), `F.gelu` {fmt_time(t['functional'])}"
                + (f"; fusion alone, with the heap kept: {fmt_ratio(alone)}." if alone else "."))
    mech = "Eager torch runs the formula as one kernel per operator, each reading and writing "
    mech += "the whole array; inductor fuses them into one loop that reads x once and writes once."
    kernels = {m: r.get(GELU_KERNELS, m) for m in t}
    if all(v is not None for v in kernels.values()):
        mech += (f" Kernels per call, counted by torch.profiler the same way for every mode: "
                 f"eager {kernels['eager']:.0f}, compiled {kernels['compiled']:.0f}, "
                 f"F.gelu {kernels['functional']:.0f}.")
    split = fusion_split(r, size)
    if split:
        mech += "\n\n" + split
    compute = gelu_compute_reading(r)
    if compute:
        mech += "\n\n" + compute
    return {"claim": "torch.compile makes the GELU ~3.4x faster by fusing it.",
            "measured": measured, "holds": holds, "mechanism": mech}


def claim_builtin(r):
    size = 10_000_000
    builtin = r.get(SUM, size, "python_builtin", "cpu")
    loop = r.get(SUM, size, "python_loop", "cpu")
    numpy = r.get(SUM, size, "numpy_sum", "cpu")
    holds = None if builtin is None or numpy is None else builtin > 10 * numpy
    per = f"{builtin / size * 1e9:.0f} ns" if builtin else "n/a"
    measured = (f"`sum(x)` {fmt_time(builtin)} ({per} per element), the Python loop "
                f"{fmt_time(loop)}, `np.sum` {fmt_time(numpy)} "
                f"({fmt_ratio(_ratio(builtin, numpy))} faster than `sum`).")
    peak = r.get(SUM_MEMORY, "python_builtin")
    mech = ("Iterating a NumPy array creates one `np.float32` object per element and adds it "
            "through the generic number protocol: an allocation, a type dispatch and a free "
            "per element instead of one SIMD lane.")
    if peak is not None:
        mech += (f" Each box is freed before the next is made: the peak extra memory of one "
                 f"call is {peak / 1e6:.1f} MB, so the cost is the churn, not the footprint.")
    return {"claim": "Python's builtin sum is slow on arrays.", "measured": measured,
            "holds": holds, "mechanism": mech}


def _rows_of(r, benchmark):
    """{key: Row} of one benchmark (samples and all), skipped cases left out."""
    return {row.key: row for row in r.rows
            if row.benchmark.split(".", 1)[-1] == benchmark and row.value == row.value}


def _spread(row):
    """'91-95' from a row's samples (its rounds), '' without samples."""
    if not row.samples:
        return ""
    return f" ({min(row.samples):.0f}-{max(row.samples):.0f})"


def fusion_split(r, size=10_000_000):
    """What fusion buys with the heap kept vs what glibc's page faults add (Gelu.time_gelu)."""
    default = compiled_speedup(r, size, malloc="default")
    kept = compiled_speedup(r, size, malloc="keep_heap")
    if default is None or kept is None:
        return None
    t_def, t_kept = gelu_times(r, size, malloc="default"), gelu_times(r, size, malloc="keep_heap")
    rows = [[mode, fmt_time(t_def[mode]), fmt_time(t_kept[mode]),
             fmt_ratio(_ratio(t_def[mode], t_kept[mode]))] for mode in t_def]
    return (f"**Fusion apart from the allocator** ({size:,} elements, `Gelu.time_gelu`): with "
            f"glibc's default malloc every output above its mmap threshold is a fresh mapping, "
            f"page-faulted on every call, and eager allocates one per operator. With the heap "
            f"kept (`malloc=keep_heap`) eager/compiled is **{kept:.2f}x**: what fusion buys "
            f"alone. With the default it is {default:.2f}x: the page faults change the seed's "
            f"ratio by a factor of {default / kept:.2f} (the last column: what they cost each "
            f"mode).\n\n"
            + render(["mode", "default malloc", "keep_heap", "default / keep_heap"], rows,
                     markdown=True))


def gelu_compute_reading(r):
    """The GELU's compute ceiling (from cache) against its rate at the largest size."""
    rates = {k: v for k, v in r.table(GELU_COMPUTE).items()}
    share = r.table(GELU_PERCENT_OF_COMPUTE)
    copy = r.table(GELU_PERCENT_OF_COPY)
    if not rates or not share:
        return None
    big = max(int(k[0]) for k in share)
    malloc = "keep_heap" if any(k[2] == "keep_heap" for k in share) else "default"
    rows = []
    for case in ("erf", "eager", "compiled", "functional"):
        one, every = rates.get((case, "1")), rates.get((case, "all"))
        at_big = share.get((str(big), case, malloc))
        of_copy = copy.get((str(big), case, malloc))
        rows.append([case, f"{one:.2f}" if one else "n/a", f"{every:.2f}" if every else "n/a",
                     _pct(at_big) if case != "erf" else "-",
                     _pct(of_copy) if case != "erf" else "-"])
    compiled = share.get((str(big), "compiled", malloc))
    compiled_copy = copy.get((str(big), "compiled", malloc))
    reading = ""
    if compiled is not None:
        reading = (f" The compiled GELU runs at {compiled:.0f} % of its own from-cache rate at "
                   f"{big:,} elements, moving {_pct(compiled_copy)} of the copy ceiling: ")
        if compiled > 110:
            reading += ("faster than from cache, so the cache figure is no ceiling here: no "
                        "verdict on what bounds it.")
        elif compiled >= 80:
            reading += "compute-bound there: arithmetic, not memory, limits it."
        else:
            reading += "not compute-bound there: memory traffic or page faults hold it back."
    return ("**Compute ceiling.** Elements per second (10^9) on data that stays in cache: the "
            "marginal rate between 262,144 and 1,048,576 elements, so a fixed cost per call "
            "cancels (`GeluCompute`, no memory traffic to wait for), and at the largest size the "
            f"share of that rate and of the copy ceiling (`GeluBandwidth`, malloc={malloc}):"
            f"{reading}\n\n"
            + render(["case", "Gelem/s, 1 thread", "Gelem/s, all threads",
                      f"% of from-cache rate at {big:,}", f"% of copy ceiling at {big:,}"],
                     rows, markdown=True))


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

    gb, pct, warm = (_rows_of(r, benchmark) for benchmark in BANDWIDTH[cls])
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
                f"{row.value:.0f} %{_spread(row)}" if row else "n/a"
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
    return (f"likwid-bench {likwid.get('likwid_version', '?')} "
            f"(`{likwid.get('variant', '?')}` kernels, hand-written assembly, data placed by "
            "each thread; `copy_mem` stores without reading the destination first, as "
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
    table = _rows_of(r, SUM_RESIDENCY)
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


def sum_impls_section(r):
    """Every registered sum implementation at 10M, fastest first (unmeasured ones last)."""
    size = 10_000_000
    times = {name: r.get(SUM, size, name, "cpu") for name in SUMS}
    order = sorted(SUMS, key=lambda name: times[name] or math.inf)
    body = [[f"`{name}`", fmt_time(times[name]), ", ".join(SUMS[name].libraries),
             SUMS[name].accumulation, SUMS[name].seed_name or "-"] for name in order]
    return render(["impl", "time (10M, cpu)", "library", "accumulation", "seed name"], body,
                  markdown=True)


def comparisons_section(out_dir):
    """Links to the release comparisons and the calibration stored next to the report."""
    links = []
    if os.path.isfile(os.path.join(out_dir, "calibration.md")):
        links.append("- [Calibration of the release comparison](calibration.md): its "
                     "false-alarm rate (A/A) and the slowdowns it detects")
    releases = os.path.join(out_dir, "releases")
    for name in sorted(os.listdir(releases)) if os.path.isdir(releases) else []:
        if name.endswith(".md"):
            links.append(f"- [{name[:-3].replace('-', ' ')}](releases/{name})")
    if not links:
        return None
    return ("Measured with interleaved, paired rounds (`python -m tools pair`), "
            "judged by `python -m tools compare`:\n\n" + "\n".join(links))


def codegen_section(rounds_dir):
    """For each release pair with instruction counts: which time changes are code changes.
    Lists the cases whose time was flagged or whose count moved; the rest agree on 'same'."""
    parts = []
    for pair in sorted(glob.glob(os.path.join(rounds_dir, "*", "*-vs-*"))):
        sessions = sorted(glob.glob(os.path.join(pair, "*.json")))
        if not sessions:
            continue
        session = load_session(sessions[-1])
        instructions = load_instructions(session)
        if instructions is None:
            continue
        header, body = count_table(instructions, compare(session), session.library)
        shown = [row for row in body if row[-1]]
        a, b = session.release("A"), session.release("B")
        parts += [f"**{session.library} {a} vs {b}** (machine {session.data['machine']}). " +
                  count_lines(instructions, session.library)[0] + " " +
                  (f"Cases where time or count moved ({len(shown)}):" if shown else
                   "No time change and no count change."), ""]
        if shown:
            parts += [render(header, shown, markdown=True), ""]
    if not parts:
        return None
    return ("Instruction counts per call are exact (see [instruction counts](instructions.md)): "
            "a time change that comes with a count change is a change of the code that ran; "
            "one without is not code generation.\n\n" + "\n".join(parts))


def compile_section(r):
    names = [("import_numba", "`import numba`"), ("import_torch", "`import torch`"),
             ("numba_first_call", "numba `@njit`, first call"),
             ("numba_cache_warm", "numba `cache=True`, warm cache"),
             ("torch_compile_cold", "`torch.compile` GELU, empty inductor cache"),
             ("torch_compile_warm", "`torch.compile` GELU, warm inductor cache")]
    body = [[label, fmt_time(r.get(startup(key)))] for key, label in names
            if r.get(startup(key)) is not None]
    return render(["what (fresh process)", "time"], body, markdown=True) if body else None


def accuracy_section(r):
    table = r.table(ACCURACY)
    if not table:
        return None
    impls = sorted({k[1] for k in table})
    body = [[impl] + [f"{table.get((d, impl), float('nan')):.1e}" for d in ("uniform", "all_0.1")]
            for impl in impls]
    return render(["impl", "uniform [0,1)", "every element 0.1"], body, markdown=True)


# ------------------------------------------------------------------------------------------
# Plots


def build(rows, out_dir, rounds_dir=None, likwid=None):
    """Write findings.md (+ PNGs) into out_dir from `rows`; return the markdown text.
    `likwid`: the likwid-bench anchor of the same run (tools/run/likwid_anchor.py), if any."""
    r = RowIndex(rows)
    os.makedirs(out_dir, exist_ok=True)
    env = r.env()
    claims = [claim_sum_ranking(r), claim_numba_loop(r), claim_torch_rows(r),
              claim_numpy_neutral(r), claim_gelu(r), claim_builtin(r)]
    md = ["# Findings: the seed notebook's claims, measured", "",
          f"Machine {env.get('machine', '?')} ({env.get('cpu', '?')}, "
          f"{env.get('num_cpu', '?')} cores); numpy {env.get('numpy', '?')}, numba "
          f"{env.get('numba', '?')}, torch {env.get('torch', '?')}; threads: torch "
          f"{env.get('torch_threads', '?')}, numba {env.get('numba_threads', '?')}. "
          "Built by `python -m tools report findings` from stored asv results; every figure below "
          "comes from them.", "",
          "| # | seed claim | verdict here |", "|---|---|---|"]
    md += [f"| {i} | {c['claim']} | {_verdict(c['holds'])} |" for i, c in enumerate(claims, 1)]
    for i, c in enumerate(claims, 1):
        md += ["", f"## {i}. {c['claim']}", "", f"**Verdict: {_verdict(c['holds'])}.**", "",
               c["measured"], "", "**Why.** " + c["mechanism"]]
    for title, section in (("Release comparisons", comparisons_section(out_dir)),
                           ("Code generation or not", codegen_section(
                               rounds_dir or os.path.join(REPO_ROOT, "rounds"))),
                           ("Every sum implementation", sum_impls_section(r)),
                           ("How close to the hardware", bandwidth_section(r, likwid)),
                           ("Cache or memory: the 10M sums", residency_section(r)),
                           ("What getting there costs", compile_section(r)),
                           ("Accuracy (relative error vs math.fsum, 10M elements)",
                            accuracy_section(r))):
        if section:
            md += ["", f"## {title}", "", section]
    made = plots(r, out_dir)
    if made:
        md += ["", "## Plots", ""]
        md += [f"### {title}\n\n![{title}]({name})\n" for name, title in made.items()]
    text = "\n".join(md) + "\n"
    write_text_atomic(os.path.join(out_dir, "findings.md"), text)
    return text


# The families every claim of the report rests on: without one of them the report would be
# partial, and it must never replace a complete one.
REQUIRED = (SUM, AXIS_SUM, GELU)


def check_complete(rows, path):
    measured = {r.benchmark for r in rows if r.value == r.value}
    missing = [name for name in REQUIRED
               if not any(b == name or b.endswith("." + name) for b in measured)]
    if missing:
        raise ResultsError(f"{os.path.relpath(path)} has no values for {', '.join(missing)} "
                           "(a partial run?): the report is left as it was")


def likwid_of(path, rows):
    """The likwid-bench anchor of the result file's machine and commit, or None."""
    commit = rows[0].commit if rows else ""
    anchor = os.path.join(os.path.dirname(record_of(path)), "likwid", f"{commit[:8]}.json")
    try:
        return read_json(anchor) if commit and os.path.exists(anchor) else None
    except ResultsError:
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_selection_args(parser)
    parser.add_argument("--out", default="report", help="output folder (default: report/)")
    args = parser.parse_args(argv)
    try:
        path, rows = selected_rows(args)
        check_complete(rows, path)
    except ResultsError as exc:
        print(f"findings: {exc}", file=sys.stderr)
        return 2
    # Stored results only: nothing is compiled or measured at report time.
    build(rows, args.out, likwid=likwid_of(path, rows))
    print(f"wrote {os.path.join(args.out, 'findings.md')} from {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
