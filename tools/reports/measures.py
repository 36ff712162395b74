"""Figures derived from stored results, each computed in one place: the seed's "rows faster
by" ratio and the GELU's eager/compiled speed-up. Every report takes them from here."""

from .names import AXIS_SUM, GELU


def ratio(a, b):
    """a / b, or None where either is missing (or b is 0)."""
    return a / b if a is not None and b else None


def rows_faster(index, library, layout, device="cpu"):
    """{shape: time(cols) / time(rows)} at equal library, layout and device; above 1 means
    that summing along rows was faster."""
    out = {}
    for (shape, lay, axis, lib, dev), t_rows in index.table(AXIS_SUM).items():
        if (lib, lay, axis, dev) == (library, layout, "rows", device):
            value = ratio(index.get(AXIS_SUM, shape, layout, "cols", library, device), t_rows)
            if value is not None:
                out[shape] = value
    return out


def axis_layouts(index, device="cpu"):
    """(library, layout) pairs with row-sum results on `device`, in a stable order."""
    return sorted({(k[3], k[1]) for k in index.table(AXIS_SUM) if k[4] == device},
                  key=lambda p: (p[0] != "torch", p))


def gelu_time(index, size, mode, device="cpu", malloc="default"):
    """One GELU time; results from before the `malloc` parameter count as 'default'."""
    found = index.get(GELU, size, mode, device, malloc)
    if found is None and malloc == "default":
        found = index.get(GELU, size, mode, device)
    return found


def gelu_times(index, size, device="cpu", malloc="default"):
    return {mode: gelu_time(index, size, mode, device, malloc)
            for mode in ("eager", "compiled", "functional")}


def compiled_speedup(index, size, device="cpu", malloc="default"):
    """time(eager) / time(compiled) of the GELU at `size`: what torch.compile buys (with
    glibc's default malloc, page faults of the outputs included)."""
    times = gelu_times(index, size, device, malloc)
    return ratio(times["eager"], times["compiled"])
