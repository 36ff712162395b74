"""A throw-away copy of asv.conf.json whose results and html go to a scratch folder, so smoke
runs and checks never touch the committed results/."""
import os
import subprocess

from .. import REPO_ROOT, ToolError
from ..results.asv_launcher import run_asv as launch
from ..results.config import write_derived_config


def scratch_config(scratch_dir, **overrides):
    """Write a config that reads this repository but writes only under `scratch_dir`."""
    settings = dict(repo=REPO_ROOT, benchmark_dir=os.path.join(REPO_ROOT, "benchmarks"),
                    env_dir=os.path.join(REPO_ROOT, ".asv", "env"),
                    results_dir=os.path.join(scratch_dir, "results"),
                    html_dir=os.path.join(scratch_dir, "html"))
    return write_derived_config(os.path.join(scratch_dir, "asv.conf.json"),
                                **{**settings, **overrides})


def asv_checked(args, config, env=None, timeout=None):
    """Run asv (guarded) in this interpreter's environment; its output, or raise with it if
    asv fails."""
    return launch(args, config, env=env, check=True, timeout=timeout).stdout


def head_commit():
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        raise ToolError(f"{REPO_ROOT} is not a git checkout with a commit: asv files "
                           "results under a commit hash")
    return done.stdout.strip()
