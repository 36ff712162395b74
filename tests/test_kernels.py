"""Kernels in one file (benchmarks/kernels/): every implementation of every kernel, through the
very callable the benchmarks time, against the kernel's float64 reference; and a kernel file
dropped into a copy of the repository appears in every place the suite derives from it."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from benchmarks.common import require_device
from benchmarks.kernels import KernelError, from_module, load_kernels
from tools import REPO_ROOT

KERNELS = load_kernels()
MAX_TESTED_SIZE = 1_000_000  # 10M adds seconds and no new code path


def _cases():
    for kernel in KERNELS.values():
        for impl, entry in kernel.impls.items():
            for device in entry.devices:
                for layout in kernel.layouts:
                    for size in kernel.sizes:
                        if size <= MAX_TESTED_SIZE:
                            yield pytest.param(kernel.name, impl, device, layout, size,
                                               id=f"{kernel.name}-{impl}-{device}-{layout}-{size}")


@pytest.mark.parametrize("name, impl, device, layout, size", list(_cases()))
def test_kernel_matches_float64_reference(name, impl, device, layout, size):
    kernel = KERNELS[name]
    try:
        require_device(device)
    except NotImplementedError as exc:
        pytest.skip(str(exc))
    expected = kernel.reference(*kernel.inputs(size, layout))
    got = kernel.prepare(impl, size, layout, device)()
    got = float(got.item() if hasattr(got, "item") else got)
    assert abs(got - expected) <= kernel.tolerance(impl, size) * abs(expected), (got, expected)


def test_the_example_kernel_has_numpy_numba_and_torch():
    libraries = {lib for impl in KERNELS["dot"].impls.values() for lib in impl.libraries}
    assert libraries == {"numpy", "numba", "torch"}


def test_a_kernel_file_missing_a_part_is_refused_in_one_line():
    class Module:
        SIZES, LAYOUTS = [10], ["contiguous"]

    with pytest.raises(KernelError, match=r"kernels/half\.py does not define make_inputs"):
        from_module("half", Module)


# A kernel file as a user would write it: sum of squares, numpy and numba.
PROBE_KERNEL = '''"""Sum of squares (a test's temporary kernel)."""
import numpy as np
from numba import njit

from . import on_cpu
from ..impls import Impl

SIZES = [100, 1000]
LAYOUTS = ["contiguous"]


def make_inputs(rng, size, layout):
    return (rng.random(size, dtype=np.float32),)


def reference(x):
    return float(np.sum(x.astype(np.float64) ** 2))


@njit
def _loop(x):
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i] * x[i]
    return total


IMPLS = {
    "numpy": Impl(on_cpu(lambda x: np.dot(x, x)), ("numpy",), "float32 sequential"),
    "numba": Impl(on_cpu(_loop), ("numba",), "float32 sequential"),  # float32 products
}
'''

# Everything the suite derives from a kernel file, read in a fresh interpreter of the copy.
PROBE_SCRIPT = r'''
import json, sys
from asv_runner.discovery import disc_benchmarks
from benchmarks import cases, instructions
from tools.history.subset import SUBSET_NAMES, subset_cases
from tools.run.measure_pair import select_cases, subset
names = [b.name for b in disc_benchmarks("benchmarks")]
print(json.dumps({
    "asv": [n for n in names if "Probe" in n],
    "cases": [c.asv_name for c in cases.all_cases(cases.kernel("probe"))],
    "libraries": sorted({lib for c in cases.all_cases(cases.kernel("probe")) for lib in c.libraries}),
    "counted": [label for label, _, _ in instructions.family_cases() if label.startswith("Probe(")],
    "pair": [label for label, _, _ in select_cases(subset([], kernel="probe"))],
    "history": "kernel:probe" in SUBSET_NAMES and len(subset_cases("kernel:probe")),
}))
'''


def test_a_new_kernel_file_is_everywhere(tmp_path):
    for folder in ("benchmarks", "tools", "tests"):
        shutil.copytree(os.path.join(REPO_ROOT, folder), tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "www"))
    shutil.copy(os.path.join(REPO_ROOT, "pytest.ini"), tmp_path)
    (tmp_path / "benchmarks" / "kernels" / "probe.py").write_text(PROBE_KERNEL)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "ARRAY_OP_BENCH_PRELOAD": "0"}
    out = subprocess.run([sys.executable, "-c", PROBE_SCRIPT], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["asv"] == ["bench_kernels.Probe.time_probe"]
    # 2 sizes x 1 layout x 2 impls on cpu
    assert len(got["cases"]) == 4 and got["libraries"] == ["numba", "numpy"]
    assert sorted(got["counted"]) == sorted(f"Probe({size}, contiguous, {impl})"
                                            for size in (100, 1000) for impl in ("numpy", "numba"))
    assert len(got["pair"]) == 4 and got["history"] == 4  # the cpu cases
    # the float64 correctness test runs the new kernel's implementations, and they pass
    test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_kernels.py", "-k", "probe and reference"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert test.returncode == 0, test.stdout[-2000:]
    assert "4 passed" in test.stdout, test.stdout[-2000:]
