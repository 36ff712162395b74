"""What getting there costs: imports and compilation, each timed in a fresh interpreter.

asv's timeraw_ benchmarks run the returned code in a new Python process per sample, so
nothing is already imported, compiled or cached unless the benchmark sets it up on purpose:
- numba: the first call of an @njit function (compilation), and the first call of a
  `cache=True` function whose cache a previous process wrote (loading, not compiling);
- torch.compile: the first call of the seed's GELU with an empty inductor cache, and with a
  cache that a previous process filled. Imports happen in the untimed setup code.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

# The seed's loop, written to a file because numba caches only functions defined in files.
NUMBA_MODULE = textwrap.dedent("""
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def cached_loop(x):
        total = 0.0
        for i in range(x.shape[0]):
            total += x[i]
        return total
""")

GELU_SETUP = textwrap.dedent("""
    import os
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = {cache!r}
    import torch
    x = torch.randn(1_000_000)
    def gelu(x):
        return x * 0.5 * (1.0 + torch.erf(x / 1.41421))
    compiled = torch.compile(gelu, dynamic=False)
""")


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


class Compile:
    number = 1
    warmup_time = 0
    # Two fresh processes per case, in one round (asv's default of two rounds would double
    # the cold torch.compile's ~9 s samples).
    rounds = 1
    repeat = (2, 2, 60.0)
    timeout = 600

    def setup_cache(self):
        """Caches written by a previous process, for the warm-cache cases (runs once)."""
        shutil.rmtree(WORK_DIR, ignore_errors=True)
        numba_dir = _fresh_dir("numba-")
        with open(os.path.join(numba_dir, "cached_kernel.py"), "w") as f:
            f.write(NUMBA_MODULE)
        torch_cache = _fresh_dir("inductor-warm-")
        code = (_numba_setup(numba_dir) + "cached_loop(x)\n"
                + GELU_SETUP.format(cache=torch_cache) + "compiled(x)\n")
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        return {"numba_dir": numba_dir, "torch_cache": torch_cache}

    def timeraw_import_numba(self, caches):
        return "import numba"

    def timeraw_import_torch(self, caches):
        return "import torch"

    def timeraw_numba_first_call(self, caches):
        # Decorating is lazy; the first call compiles for float32[::1].
        setup = textwrap.dedent("""
            import numpy as np
            from numba import njit
            x = np.ones(1000, dtype=np.float32)
            @njit
            def loop(x):
                total = 0.0
                for i in range(x.shape[0]):
                    total += x[i]
                return total
        """)
        return "loop(x)", setup

    def timeraw_numba_cache_warm(self, caches):
        return "cached_loop(x)", _numba_setup(caches["numba_dir"])

    def timeraw_torch_compile_cold(self, caches):
        # A new, empty inductor cache for every sample.
        return "compiled(x)", GELU_SETUP.format(cache=_fresh_dir("inductor-cold-"))

    def timeraw_torch_compile_warm(self, caches):
        return "compiled(x)", GELU_SETUP.format(cache=caches["torch_cache"])
