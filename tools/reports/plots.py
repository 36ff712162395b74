"""The findings report's plots (PNG), drawn from stored results only: time against size of the
sums, achieved GB/s against the read ceiling, rows/cols ratios by layout, the GELU modes."""
import io
import os
from collections import defaultdict

from benchmarks.impls import SUMS

from ..results.atomic import write_atomic
from .measures import rows_faster
from .names import AXIS_SUM, GELU, READ_GBPS, SUM


def plots(r, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = {}

    def save(fig, name, title):
        fig.tight_layout()
        path = os.path.join(out_dir, name)
        buffer = io.BytesIO()
        fig.savefig(buffer, dpi=100, format="png")
        write_atomic(path, buffer.getvalue())  # a kill never leaves half a PNG
        plt.close(fig)
        made[name] = title

    sums = r.table(SUM)
    if sums:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for impl in sorted({k[1] for k in sums}):
            pts = sorted((int(k[0]), v) for k, v in sums.items() if k[1] == impl and k[2] == "cpu")
            if pts:
                ax.plot(*zip(*pts), marker="o", label=impl)
        ax.set(xscale="log", yscale="log", xlabel="elements (float32)", ylabel="time per sum (s)")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
        save(fig, "sum_time_vs_size.png", "Sum: time against size (log-log)")

    gb = r.table(READ_GBPS)
    if gb:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for impl in sorted({k[1] for k in gb if k[1] in SUMS}):
            pts = sorted((int(k[0]), v) for k, v in gb.items() if k[1] == impl)
            ax.plot(*zip(*pts), marker="o", label=impl)
        by_size = defaultdict(float)  # the ceiling: best median of each size's process
        for k, v in gb.items():
            by_size[int(k[0])] = max(by_size[int(k[0])], v)
        if by_size:
            ax.plot(*zip(*sorted(by_size.items())), "k--", lw=2, label="read ceiling")
        ax.set(xscale="log", yscale="log", xlabel="elements (float32)", ylabel="GB/s")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
        save(fig, "sum_gbps_vs_size.png", "Sum: achieved GB/s against size, with the bandwidth")

    shapes = sorted({k[0] for k in r.table(AXIS_SUM)},
                    key=lambda s: tuple(map(int, s.split("x"))))
    if shapes:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        series = [(lib, lay) for lib in ("torch", "numpy") for lay in ("C", "F")]
        width = 0.8 / len(series)
        for i, (lib, lay) in enumerate(series):
            ratios = rows_faster(r, lib, lay)
            ax.bar([j + i * width for j in range(len(shapes))],
                   [ratios.get(s, float("nan")) for s in shapes], width, label=f"{lib} {lay}")
        ax.axhline(1.0, color="k", lw=1)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(shapes))], shapes, fontsize=8)
        ax.set(yscale="log", ylabel="time(cols) / time(rows)")
        ax.legend(fontsize=8)
        save(fig, "rows_vs_cols.png", "Rows faster by (time of column sums / row sums), by layout")

    gelu = r.table(GELU)
    if gelu:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for mode in ("eager", "compiled", "functional"):
            pts = sorted((int(k[0]), v) for k, v in gelu.items()
                         if k[1] == mode and k[2] == "cpu" and k[3:] in ((), ("default",)))
            if pts:
                ax.plot(*zip(*pts), marker="o", label=mode)
        ax.set(xscale="log", yscale="log", xlabel="elements (float32)", ylabel="time per call (s)")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        save(fig, "gelu_modes.png", "GELU: eager vs compiled vs F.gelu")
    return made
