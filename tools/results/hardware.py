"""The CPU this interpreter runs on, as result files record it (no asv import: matrix
environments read it through tools.run.provenance, and asv is not installed there)."""
import platform


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# Vector extensions that change which code the libraries dispatch to, widest first.
ISA_FLAGS = ("avx512f", "avx2", "avx", "sse4_2")


def cpu_isa():
    """The widest vector extension this CPU reports ('avx512f', 'avx2', ...), or 'unknown':
    machines of one kind differ in it, and it decides the code numpy, numba and torch run."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return next((isa for isa in ISA_FLAGS if isa in flags), "unknown")
    except OSError:
        pass
    return "unknown"
