"""The seed notebook's six claims, each judged from stored results: a dict per claim
(claim, measured, holds, mechanism) that findings.py renders. Helpers the other sections share
(rows_of, sample_spread, fmt_pct) live here too."""
import math

from benchmarks import seed

from .measures import compiled_speedup, gelu_times, ratio as _ratio, rows_faster
from .names import (GELU_COMPUTE, GELU_KERNELS, GELU_PERCENT_OF_COMPUTE, GELU_PERCENT_OF_COPY,
                    NUMBA_ADDS, SUM, SUM_MEMORY, SUM_THREADS)
from .tables import fmt_ratio, fmt_time, render

NEUTRAL = (0.8, 1.25)  # a rows/cols ratio in this band counts as "about 1.0x"


def verdict_word(holds):
    return {True: "holds", False: "does not hold", None: "not measured"}[holds]


def fmt_pct(value):
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


def rows_of(r, benchmark):
    """{key: Row} of one benchmark (samples and all), skipped cases left out."""
    return {row.key: row for row in r.rows
            if row.benchmark.split(".", 1)[-1] == benchmark and row.value == row.value}


def sample_spread(row):
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
                     fmt_pct(at_big) if case != "erf" else "-",
                     fmt_pct(of_copy) if case != "erf" else "-"])
    compiled = share.get((str(big), "compiled", malloc))
    compiled_copy = copy.get((str(big), "compiled", malloc))
    reading = ""
    if compiled is not None:
        reading = (f" The compiled GELU runs at {compiled:.0f} % of its own from-cache rate at "
                   f"{big:,} elements, moving {fmt_pct(compiled_copy)} of the copy ceiling: ")
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


