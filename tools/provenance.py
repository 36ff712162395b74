"""Which libraries, threads and hardware produced a result file.

asv records no library versions for an existing environment (`-E existing:...`), so after such
a run this stamps them, read from this very interpreter, into the result file's environment
parameters, where `asv publish` shows them next to the machine's:

    python -m tools.provenance                       # print what this interpreter would stamp
    python -m tools.provenance --stamp results/      # stamp this interpreter's result files
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys

from asv.environment import get_env_name
from asv.results import Results

from .asv_results import ResultsError, result_files

LIBRARIES = ["numpy", "numba", "llvmlite", "torch", "asv_runner"]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _nvidia_driver():
    if not shutil.which("nvidia-smi"):
        return None
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
        capture_output=True, text=True,
    )
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else None


def collect():
    """Versions, default thread counts and hardware of this interpreter, as strings."""
    from importlib.metadata import version

    import numba
    import torch

    info = {lib: version(lib) for lib in LIBRARIES}
    # asv records an existing environment's python as its executable's path; the version says
    # more and does not depend on where the checkout lives.
    info["python"] = "{}.{}".format(*sys.version_info[:2])
    info["python_version"] = platform.python_version()
    info["torch_threads"] = str(torch.get_num_threads())
    info["numba_threads"] = str(numba.config.NUMBA_NUM_THREADS)
    info["cpu_model"] = _cpu_model()
    info["cpu_affinity"] = str(len(os.sched_getaffinity(0)))
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = str(torch.version.cuda)
        info["nvidia_driver"] = _nvidia_driver() or "unknown"
    else:
        info["gpu"] = "none"
    return info


def own_result_files(results_dir, commit=None):
    """Result files written by `asv run -E existing:<this interpreter>`."""
    env_name = get_env_name("existing", sys.executable, {}, {})
    files = []
    for path in result_files(results_dir):
        results = Results.load(path)
        if results.env_name == env_name and (commit is None or results.commit_hash == commit):
            files.append(path)
    return files


def stamp(path, info):
    """Add `info` to the file's environment params; library versions also to requirements."""
    with open(path) as f:
        data = json.load(f)
    data["params"].update(info)
    data["python"] = info["python"]
    data["requirements"].update({lib: info[lib] for lib in LIBRARIES if lib in info})
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stamp", metavar="RESULTS_DIR",
                        help="stamp this interpreter's existing-environment result files")
    parser.add_argument("--commit", help="only the result files of this commit hash")
    args = parser.parse_args(argv)
    info = collect()
    if not args.stamp:
        print(json.dumps(info, indent=2))
        return 0
    try:
        files = own_result_files(args.stamp, args.commit)
    except ResultsError as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return 2
    if not files:
        print(f"provenance: no result of this interpreter ({sys.executable}) under {args.stamp}",
              file=sys.stderr)
        return 2
    for path in files:
        stamp(path, info)
        print(f"stamped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
