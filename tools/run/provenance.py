"""Which libraries, threads and hardware produced a result file.

asv records no library versions for an existing environment (`-E existing:...`), and for the
release matrix's virtualenvs only the requested ones (not llvmlite, thread counts, CPU model or
GPU). After a run this stamps them into each result file's environment parameters, where
`asv publish` shows them next to the machine's. They are read by running the very interpreter
that produced the file (this one, or the matrix environment's):

    python -m tools provenance                               # what this interpreter would stamp
    python -m tools provenance --stamp results/ [--commit H] # stamp result files
"""
import json
import os
import platform
import shutil
import subprocess
import sys

# No asv import at module level: matrix environments run this file to report themselves, and
# asv is not installed there.
from benchmarks.caches import cache_levels
from benchmarks.common import usable_cores

from .. import REPO_ROOT, ToolError, command_parser, run_main
from ..results.hardware import cpu_isa, cpu_model

RECORDED_PACKAGES = ["numpy", "numba", "llvmlite", "torch", "asv_runner"]


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
    from importlib.metadata import PackageNotFoundError, version

    import numba
    try:
        import torch
    except ImportError:  # a numba/numpy-only environment (the tests' tiny histories)
        torch = None

    def installed(lib):
        try:
            return version(lib)
        except PackageNotFoundError:  # a history's environment holds no asv_runner
            return "none"

    info = {lib: installed(lib) for lib in RECORDED_PACKAGES}
    # asv records an existing environment's python as its executable's path; the version says
    # more and does not depend on where the checkout lives.
    info["python"] = "{}.{}".format(*sys.version_info[:2])
    info["python_version"] = platform.python_version()
    info["torch_threads"] = str(torch.get_num_threads()) if torch else "none"
    # the CUDA the torch build was made for (None: a CPU build), even where no GPU is
    info["torch_cuda"] = str(torch.version.cuda) if torch else "none"
    info["numba_threads"] = str(numba.config.NUMBA_NUM_THREADS)
    info["cpu_model"] = cpu_model()
    info["cpu_isa"] = cpu_isa()
    info["cpu_affinity"] = str(usable_cores())
    # Which sizes are cache-resident on this CPU (bench_bandwidth labels them from these).
    info["cpu_caches"] = ", ".join(f"L{level} {size // 1024} KiB"
                                   for level, size in cache_levels().items()) or "unknown"
    if torch is not None and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = str(torch.version.cuda)
        info["nvidia_driver"] = _nvidia_driver() or "unknown"
    else:
        info["gpu"] = "none"
    return info


def own_result_files(results_dir, commit=None):
    """Result files written by `asv run -E existing:<this interpreter>`."""
    from asv.environment import get_env_name

    env_name = get_env_name("existing", sys.executable, {}, {})
    return [path for path, name in _result_envs(results_dir, commit) if name == env_name]


def _result_envs(results_dir, commit=None):
    """(path, env_name) of every result file, optionally of one commit."""
    from ..results.rows import load_results, result_files

    pairs = []
    for path in result_files(results_dir):
        results = load_results(path)
        if commit is None or results.commit_hash == commit:
            pairs.append((path, results.env_name))
    return pairs


def known_interpreters(config_path=None):
    """env_name -> python executable, for this interpreter and each built matrix environment."""
    from asv.environment import get_env_name

    from .matrix_envs import CONFIG_PATH, matrix_environments

    pythons = {get_env_name("existing", sys.executable, {}, {}): sys.executable}
    for env in matrix_environments(config_path or CONFIG_PATH):
        try:
            pythons[env.name] = env.find_executable("python")
        except OSError:
            pass  # not built on this machine: nothing of it to stamp
    return pythons


def collect_from(python):
    """collect() as seen by another interpreter."""
    out = subprocess.run([python, "-m", "tools.run.provenance"], cwd=REPO_ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{python} -m tools.run.provenance failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def stamp(path, info):
    """Add `info` to the file's environment params; library versions also to requirements."""
    from ..results.rows import read_json
    from ..results.atomic import write_json_atomic

    data = read_json(path)
    data["params"].update(info)
    data["python"] = info["python"]
    data["requirements"].update({lib: info[lib] for lib in RECORDED_PACKAGES if lib in info})
    write_json_atomic(path, data)


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--stamp", metavar="RESULTS_DIR",
                        help="stamp the result files of this interpreter and of the matrix "
                             "environments built here")
    parser.add_argument("--commit", help="only the result files of this commit hash")
    parser.add_argument("--config", help="asv config whose matrix to look at "
                                         "(default: asv.conf.json)")
    args = parser.parse_args(argv)
    if not args.stamp:
        print(json.dumps(collect(), indent=2))
        return 0
    from ..results.config import load_config

    load_config(args.config)
    files = _result_envs(args.stamp, args.commit)
    pythons = known_interpreters(args.config)
    infos = {}
    stamped = 0
    for path, env_name in files:
        python = pythons.get(env_name)
        if python is None:
            continue  # another machine's or another checkout's result: not ours to vouch for
        if env_name not in infos:
            infos[env_name] = collect_from(python)
        stamp(path, infos[env_name])
        stamped += 1
        print(f"stamped {os.path.relpath(path)}")
    if not stamped:
        raise ToolError(f"no result file under {args.stamp} was produced by this interpreter "
                        "or a matrix environment built here")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.run.provenance"))
