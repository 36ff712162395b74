"""Every environment the suite times in, built one way: with uv, from exact pins, kept and
reused. A release history's releases, a release pair's two sides, the A/A twin of either
(the same pins built a second time, separately, under NAME-aa), and the overlays an
experiment adds on top of a kept environment.

uv installs from its cache by hardlink, so eleven torch environments that share several GB of
CUDA libraries cost those GB once on disk, and a rebuilt environment takes seconds. Each
environment holds exactly its pins and what `python -m venv` puts in every environment of that
Python (ensurepip's pip and, up to Python 3.11, setuptools: torch.compile's inductor imports
setuptools, so an environment without it fails where a user's compiles). `installed.json` in
the environment records what uv installed, in how many seconds, and how much the disk's used
space grew; an environment whose record matches its pins is reused as it is.

The index policy (`pip_config`): "machine" passes the indexes, find-links and constraints of
pip's configuration on this machine to uv (uv does not read pip's files); "ignore" uses the
public index alone (every torch release then PyPI's own build, CUDA for all of them).
"""
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone

from .. import REPO_ROOT, ToolError
from ..results.atomic import write_json_atomic

ENV_ROOT = os.path.join(REPO_ROOT, ".asv", "history-envs")  # the histories' kept environments
PAIR_ROOT = os.path.join(REPO_ROOT, ".asv", "pair-envs")  # the release pairs'
RECORD = "installed.json"
CANARY_SUFFIX = "-aa"  # the A/A twin: a second, separately built environment of the same pins


def uv():
    """The uv of this interpreter's environment (requirements.txt pins it), else PATH's."""
    local = os.path.join(os.path.dirname(sys.executable), "uv")
    found = local if os.path.isfile(local) else shutil.which("uv")
    if not found:
        raise ToolError("uv is not installed: pip install -r requirements.txt")
    return found


def pip_config_args():
    """pip's configured find-links, extra indexes and constraints, as uv arguments (with pip's
    choice of the best version over all indexes, where uv would stop at the first that has
    the package)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                          capture_output=True, text=True)
    values = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if key.startswith(("global.", ":env:.", "install.")) and value:
            values.setdefault(name, value.strip("'\""))
    args = ["--index-strategy", "unsafe-best-match"]
    for link in values.get("find-links", "").split():
        args += ["--find-links", link]
    for index in values.get("extra-index-url", "").split():
        args += ["--extra-index-url", index]
    for constraint in values.get("constraint", "").split():
        if os.path.isfile(constraint):
            args += ["--constraint", constraint]
    return args


def venv_seed():
    """The wheels `python -m venv` installs into every new environment of this Python
    (ensurepip's bundle: pip, and setuptools up to 3.11), as paths uv can install offline."""
    import ensurepip

    bundled = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")
    return sorted(os.path.join(bundled, name) for name in os.listdir(bundled)
                  if name.endswith(".whl"))


def seed_pins():
    """['pip==23.2.1', 'setuptools==65.5.0']: the venv seed as requirements."""
    return [f"{name}=={version}" for name, version in
            (os.path.basename(w).split("-")[:2] for w in venv_seed())]


def own_bytes(env_dir):
    """(bytes on disk that only this environment holds, bytes it holds shared by hardlink with
    uv's cache and the other environments)."""
    own = shared = 0
    for folder, _, names in os.walk(env_dir):
        for name in names:
            st = os.lstat(os.path.join(folder, name))
            if st.st_nlink > 1:
                shared += st.st_blocks * 512
            else:
                own += st.st_blocks * 512
    return own, shared


def installed_packages(env_dir):
    """{name: version} of everything in the environment, pip and setuptools included (uv's
    `pip freeze` leaves them out, as pip's does)."""
    proc = subprocess.run([uv(), "pip", "list", "--format", "json", "--python",
                           env_python(env_dir)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"uv pip list failed in {env_dir}: {proc.stderr.strip()[-500:]}")
    return {p["name"].lower(): p["version"] for p in json.loads(proc.stdout)}


def env_python(env_dir):
    return os.path.join(env_dir, "bin", "python")


def kept_python(library, side, env_root=None):
    """The interpreter of the kept environment `side` ("torch-2.15.0", "torch-2.15.0-aa") of
    a history; ToolError saying how to build it where it is missing."""
    python = env_python(os.path.join(env_root or ENV_ROOT, library, side))
    if not os.path.isfile(python):
        raise ToolError(f"no kept environment {side} under "
                        f"{os.path.relpath(os.path.dirname(os.path.dirname(python)), REPO_ROOT)}"
                        f": python -m tools history envs {library}")
    return python


def read_record(env_dir):
    try:
        with open(os.path.join(env_dir, RECORD)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def build_env(env_dir, requirements, pip_config, say=print):
    """The environment at env_dir holding `requirements`, built unless a matching one is there.
    Returns its install record (what was installed, seconds, disk growth, reused or built)."""
    record = read_record(env_dir)
    if record and record.get("requirements") == list(requirements) and \
            record.get("seeded_as") == {"python -m venv": seed_pins()} and \
            os.path.isfile(env_python(env_dir)):
        if "pip" not in record["packages"]:  # a record written before it listed the seed
            record["packages"] = installed_packages(env_dir)
            write_json_atomic(os.path.join(env_dir, RECORD), record)
        return dict(record, reused=True)
    shutil.rmtree(env_dir, ignore_errors=True)
    os.makedirs(os.path.dirname(env_dir), exist_ok=True)
    start = time.perf_counter()
    env = dict(os.environ)
    for name in ("PIP_CONFIG_FILE", "UV_CONSTRAINT", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL"):
        env.pop(name, None)
    base = sys.executable if not hasattr(sys, "_base_executable") else sys._base_executable
    # The seed first and in the same resolve: a release that requires a newer setuptools
    # gets it, as `pip install` in a user's venv would upgrade it.
    steps = [[uv(), "venv", "--quiet", "--python", base, env_dir],
             [uv(), "pip", "install", "--python", env_python(env_dir), *venv_seed()],
             [uv(), "pip", "install", "--python", env_python(env_dir),
              *(pip_config_args() if pip_config == "machine" else []), *requirements]]
    for cmd in steps:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise RuntimeError(f"{' '.join(cmd[:3])} failed for {' '.join(requirements)}:\n"
                               f"{proc.stderr.strip()[-2000:]}")
    seconds = time.perf_counter() - start
    record = {"requirements": list(requirements), "pip_config": pip_config,
              "seeded_as": {"python -m venv": seed_pins()},
              "installer": subprocess.run([uv(), "--version"], capture_output=True,
                                          text=True).stdout.strip(),
              "packages": installed_packages(env_dir),
              "install_seconds": round(seconds, 1),
              "own_bytes": 0, "shared_bytes": 0,
              "finished": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    record["own_bytes"], record["shared_bytes"] = own_bytes(env_dir)
    write_json_atomic(os.path.join(env_dir, RECORD), record)
    say(f"built {os.path.relpath(env_dir, REPO_ROOT)} in {seconds:.1f} s: "
        f"{record['own_bytes'] / 2**20:.0f} MiB its own, "
        f"{record['shared_bytes'] / 2**30:.2f} GiB shared by hardlink")
    return dict(record, reused=False)


# ---------------------------------------------------------------------------------------------
# Overlays: a venv whose own site-packages hold one or two packages and which reads another
# environment's packages after them (a .pth line): an experiment adds asv_runner to a kept
# environment, or swaps its llvmlite, without touching the environment it reads.

def ask(python, code):
    """What `python -c code` prints (stripped); raises CalledProcessError if it fails."""
    return subprocess.run([python, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def site_of(python):
    return ask(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])")


def overlay(home, reads, fill):
    """The python of the overlay in `home` that reads the packages of the environment of
    `reads` (a python) after its own; `fill(site)` puts its own packages into its site-packages.
    Built once: a `ready` file marks a finished overlay, and an unfinished one is rebuilt."""
    python = os.path.join(home, "bin", "python")
    if os.path.isfile(os.path.join(home, "ready")):
        return python
    shutil.rmtree(home, ignore_errors=True)
    base = ask(reads, "import sys; print(sys._base_executable)")
    subprocess.run([base, "-m", "venv", "--without-pip", home], check=True)
    site = site_of(python)
    with open(os.path.join(site, "base.pth"), "w") as f:
        f.write(site_of(reads) + "\n")
    fill(site)
    open(os.path.join(home, "ready"), "w").close()
    return python


def pip_into(site, requirement):
    """Install one distribution (no dependencies) from the package index into `site`."""
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                           site, requirement], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"cannot install {requirement}: "
                           f"{(done.stderr.strip().splitlines() or ['?'])[-1]}")


def copy_into(site, donor, package):
    """Copy `package` and its .dist-info from the environment of `donor` (a python)."""
    donor_site = site_of(donor)
    for entry in os.listdir(donor_site):
        if entry == package or (entry.startswith(f"{package}-") and entry.endswith(".dist-info")):
            shutil.copytree(os.path.join(donor_site, entry), os.path.join(site, entry))
