"""What getting there costs: imports and compilation, each timed in a fresh interpreter.

asv's timeraw_ benchmarks run the returned code in a new Python process per sample, so
nothing is already imported, compiled or cached unless the benchmark sets it up on purpose:
- imports of numba and torch;
- numba: the first call of the seed's loop under @njit (compilation), and the first call of
  a `cache=True` build of it whose cache a previous process wrote (loading, not compiling);
- torch.compile: the first call of the seed's GELU with an empty inductor cache, and with a
  cache that a previous process filled. Imports happen in the untimed setup code.
The code compiled is the suite's own (`seed_code.py`), sent as source: it cannot drift from
what the other benchmarks time.
"""
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

from .seed_code import gelu_composed, seed_loop

SEED_LOOP = inspect.getsource(seed_loop)
GELU = inspect.getsource(gelu_composed)

# numba caches only functions defined in files: the seed's loop, written to a module.
NUMBA_MODULE = ("from numba import njit\n\n" + SEED_LOOP
                + "\ncached_loop = njit(cache=True)(seed_loop)\n")


def _gelu_setup(cache):
    """Import torch and compile the seed's GELU lazily, with the inductor cache in `cache`."""
    return (f"import os\nos.environ['TORCHINDUCTOR_CACHE_DIR'] = {cache!r}\n"
            "import torch\nx = torch.randn(1_000_000)\n"
            + GELU + "compiled = torch.compile(gelu_composed, dynamic=False)\n")


# Caches live here; each run's setup_cache clears what an earlier run left.
WORK_DIR = os.path.join(tempfile.gettempdir(), "array-op-benchmarks-compile")


def _fresh_dir(prefix):
    os.makedirs(WORK_DIR, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=WORK_DIR)


def _numba_setup(numba_dir):
    return textwrap.dedent(f"""
        import os, sys
        os.environ["NUMBA_CACHE_DIR"] = {os.path.join(numba_dir, "cache")!r}
        sys.path.insert(0, {numba_dir!r})
        import numpy as np
        x = np.ones(1000, dtype=np.float32)
        from cached_kernel import cached_loop
    """)


def _needs(part):
    """A per-benchmark setup (asv runs a method's own `setup` attribute after the class's):
    skip, with the reason, when `part` of setup_cache failed."""
    def setup(caches):
        if part in caches.get("failed", {}):
            raise NotImplementedError(caches["failed"][part])
    return setup


class StartupCosts:
    number = 1
    warmup_time = 0
    # Two fresh processes per case, in one round (asv's default of two rounds would double
    # the cold torch.compile's ~9 s samples).
    rounds = 1
    repeat = (2, 2, 60.0)
    timeout = 600

    def setup_cache(self):
        """Caches written by a previous process, for the warm-cache cases (runs once). A part
        that fails (no C++ compiler for inductor, say) is recorded, and only the cases that
        need it skip with its reason: `import numba` is still measured."""
        shutil.rmtree(WORK_DIR, ignore_errors=True)
        numba_dir = _fresh_dir("numba-")
        with open(os.path.join(numba_dir, "cached_kernel.py"), "w") as f:
            f.write(NUMBA_MODULE)
        torch_cache = _fresh_dir("inductor-warm-")
        failed = {}
        for part, code in (("numba", _numba_setup(numba_dir) + "cached_loop(x)\n"),
                           ("torch", _gelu_setup(torch_cache) + "compiled(x)\n")):
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if done.returncode:
                last = (done.stderr.strip().splitlines() or ["no message"])[-1]
                failed[part] = f"{part} set-up failed here: {last[:300]}"
        return {"numba_dir": numba_dir, "torch_cache": torch_cache, "failed": failed}

    def timeraw_import_numba(self, caches):
        return "import numba"

    def timeraw_import_torch(self, caches):
        return "import torch"

    def timeraw_numba_first_call(self, caches):
        # Decorating is lazy; the first call compiles for float32[::1].
        setup = ("import numpy as np\nfrom numba import njit\n"
                 "x = np.ones(1000, dtype=np.float32)\n"
                 + SEED_LOOP + "loop = njit(seed_loop)\n")
        return "loop(x)", setup

    def timeraw_numba_cache_warm(self, caches):
        return "cached_loop(x)", _numba_setup(caches["numba_dir"])

    timeraw_numba_cache_warm.setup = _needs("numba")

    def timeraw_torch_compile_cold(self, caches):
        # A new, empty inductor cache for every sample.
        return "compiled(x)", _gelu_setup(_fresh_dir("inductor-cold-"))

    timeraw_torch_compile_cold.setup = _needs("torch")

    def timeraw_torch_compile_warm(self, caches):
        return "compiled(x)", _gelu_setup(caches["torch_cache"])

    timeraw_torch_compile_warm.setup = _needs("torch")
