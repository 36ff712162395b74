"""Create (or reuse) the release matrix's environments and say what each one cost.

    python -m tools envs            # create what is missing, print seconds and size
    python -m tools envs --list     # only list the environments and whether they exist

asv keeps its environments under env_dir (.asv/env) and reuses one whose requirements have not
changed, so the cost is paid once per machine; this prints it so that a user can plan.
"""
import os
import sys
import time

from asv import environment, util
from asv.config import Config

from .. import REPO_ROOT, ToolError, command_parser, run_main
from ..results.config import load_config

CONFIG_PATH = os.path.join(REPO_ROOT, "asv.conf.json")


def _size_bytes(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total


def matrix_environments(config_path=CONFIG_PATH):
    conf = Config.load(config_path)
    return list(environment.get_environments(conf, None))


def _exists(env):
    return os.path.isfile(os.path.join(env._path, "asv-env-info.json"))


def main(argv=None):
    parser = command_parser(__doc__)
    parser.add_argument("--list", action="store_true", help="list, create nothing")
    parser.add_argument("--config", default=CONFIG_PATH)
    args = parser.parse_args(argv)
    load_config(args.config)
    try:
        envs = matrix_environments(args.config)
    except util.UserError as exc:
        raise ToolError(str(exc))
    for i, env in enumerate(envs, 1):
        label = f"[{i}/{len(envs)}] {env.name}"
        if args.list:
            print(f"{label}: {'exists' if _exists(env) else 'missing'}")
            continue
        existed = _exists(env)
        start = time.perf_counter()
        env.create()
        seconds = time.perf_counter() - start
        size_gb = _size_bytes(env._path) / 1e9
        what = "reused" if existed else "created"
        print(f"{label}: {what} in {seconds:.1f} s, {size_gb:.2f} GB on disk", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "python -m tools.run.matrix_envs"))
