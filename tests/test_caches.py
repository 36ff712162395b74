"""Cache sizes are read from the machine (sysfs), and sizes labelled by where they fit."""
from benchmarks import caches


def fake_sysfs(root, entries):
    for i, (level, kind, size) in enumerate(entries):
        d = root / f"index{i}"
        d.mkdir()
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")
    return str(root)


def test_cache_levels_from_a_fake_sysfs(tmp_path):
    root = fake_sysfs(tmp_path, [(1, "Data", "48K"), (1, "Instruction", "64K"),
                                 (2, "Unified", "2048K"), (3, "Unified", "32768K")])
    levels = caches.cache_levels(root)
    assert levels == {1: 48 * 1024, 2: 2 * 2**20, 3: 32 * 2**20}  # instruction cache ignored
    assert caches.residency(40_000, levels) == "L1"
    assert caches.residency(4_000_000, levels) == "L3"  # beyond L2's 2 MiB
    assert caches.residency(40_000_000, levels) == "memory"  # the seed's 10M sum, 32 MB L3
    assert caches.last_level_bytes(levels) == 32 * 2**20


def test_the_same_size_is_cache_resident_on_a_cpu_with_a_larger_l3(tmp_path):
    root = fake_sysfs(tmp_path, [(1, "Data", "48K"), (3, "Unified", "491520K")])
    assert caches.residency(40_000_000, caches.cache_levels(root)) == "L3"


def test_no_sysfs_means_unknown(tmp_path):
    assert caches.cache_levels(str(tmp_path / "absent")) == {}
    assert caches.residency(1, {}) == "unknown"
    assert caches.parse_size("1024") == 1024 and caches.parse_size("2M") == 2 * 2**20
