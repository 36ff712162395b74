"""asv with atomic JSON writes: `python -m tools.run.asv_atomic <asv arguments>`.

asv writes every JSON file it keeps (result files, benchmarks.json, the machine files,
~/.asv-machine.json, the dashboard's data) with open(path, "w") and json.dump: a process
killed in between leaves a truncated file, and a truncated result file loses every run merged
into it. Here asv's `util.write_json` writes a temporary file beside the target with asv's
own serialisation, flushes it to disk and renames it over the target, so a kill at any moment
leaves the old file or the new one. Everything else is asv unchanged.
"""
import os
import sys


def atomic(write_json):
    def write_json_atomic(path, data, api_version=None, compact=False):
        path = os.path.abspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        write_json(tmp, data, api_version=api_version, compact=compact)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)

    return write_json_atomic


def main():
    from asv import util
    from asv.main import main as asv_main

    util.write_json = atomic(util.write_json)
    sys.argv[0] = "asv"
    asv_main()


if __name__ == "__main__":
    main()
