"""The one launcher of asv, with atomic JSON writes: `run_asv(args, config)` from Python,
`python -m tools.results.asv_launcher <asv arguments>` from a shell. Every command that runs
asv goes through here.

asv writes every JSON file it keeps (result files, benchmarks.json, the machine files,
~/.asv-machine.json, the dashboard's data) with open(path, "w") and json.dump: a process
killed in between leaves a truncated file, and a truncated result file loses every run merged
into it. Here asv's `util.write_json` writes a temporary file beside the target with asv's
own serialisation, flushes it to disk and renames it over the target, so a kill at any moment
leaves the old file or the new one.

For `publish` only, results measured by an older version of a benchmark's code stay on the
dashboard: asv hides every result whose stored code hash differs from the current one, so one
edit of a shared `setup` (or a refactor that moved it) would hide every earlier run, the release
matrix included. Each result file's provenance stamp says what measured it. Everything else is
asv unchanged.
"""
import os
import subprocess
import sys

from .. import REPO_ROOT


def atomic(write_json):
    def write_json_atomic(path, data, api_version=None, compact=False):
        path = os.path.abspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        write_json(tmp, data, api_version=api_version, compact=compact)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)

    return write_json_atomic


def every_version(results, benchmarks):
    """Results.get_result_keys without the version filter: every stored benchmark that the
    suite still defines."""
    return {key for key in results.get_all_result_keys() if key in benchmarks}


def run_asv(args, config, env=None, capture=False, check=False, timeout=None):
    """asv `args` with `--config config`, guarded, from the repository root; the finished
    process (its output captured with `capture`). `check`: RuntimeError with asv's output if
    it fails."""
    cmd = [sys.executable, "-m", __name__, *args, "--config", config]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, text=True,
                          capture_output=capture or check, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"asv {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def main():
    from asv import util
    from asv.main import main as asv_main
    from asv.results import Results

    util.write_json = atomic(util.write_json)
    if sys.argv[1:2] == ["publish"]:
        Results.get_result_keys = every_version
    sys.argv[0] = "asv"
    asv_main()


if __name__ == "__main__":
    main()
