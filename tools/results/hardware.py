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
