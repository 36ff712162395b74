"""Where a working set lives: the CPU's cache sizes read from the machine, not assumed.

Linux lists each cache of a CPU under /sys/devices/system/cpu/cpu0/cache/index*/ (level, type,
size such as '48K'). A working set is labelled by the smallest data cache that holds it, or
'memory' when it exceeds the last level: a figure taken on data that stays in cache between
calls is not a memory bandwidth, and the report says which it is.
"""
import os

SYSFS_CACHE = "/sys/devices/system/cpu/cpu0/cache"
_UNITS = {"K": 2**10, "M": 2**20, "G": 2**30}


def parse_size(text):
    """'48K' -> 49152; '491520K' -> 503316480; '1024' -> 1024."""
    text = text.strip().upper()
    if text and text[-1] in _UNITS:
        return int(text[:-1]) * _UNITS[text[-1]]
    return int(text)


def cache_levels(root=SYSFS_CACHE):
    """{level: bytes} of the data and unified caches of cpu0; {} where sysfs has none."""
    levels = {}
    try:
        entries = sorted(e for e in os.listdir(root) if e.startswith("index"))
    except OSError:
        return levels
    for entry in entries:
        def read(name):
            with open(os.path.join(root, entry, name)) as f:
                return f.read().strip()
        try:
            if read("type") not in ("Data", "Unified"):
                continue
            levels[int(read("level"))] = parse_size(read("size"))
        except (OSError, ValueError):
            continue
    return dict(sorted(levels.items()))


def residency(working_set, levels):
    """'L1', 'L2', 'L3' ... for the smallest cache holding `working_set` bytes, 'memory'
    beyond the last level, 'unknown' without cache sizes."""
    if not levels:
        return "unknown"
    for level, size in sorted(levels.items()):
        if working_set <= size:
            return f"L{level}"
    return "memory"


def last_level_bytes(levels):
    return max(levels.values()) if levels else None
