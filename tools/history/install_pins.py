"""Install one ledger commit's pins into the history environment (asv's install_command).

    python install_pins.py BUILD_DIR WHEELHOUSE

Runs inside the environment asv made (its `python`), with the standard library and pip only.
Only one release is installed at a time: the environment is brought to exactly the pinned set
(packages of an earlier release that the new one does not need are removed; what asv itself
installed stays). Every wheel comes from WHEELHOUSE, which pip fills from the index the first
time a release is asked for: a repeated history downloads nothing. What was installed, with
the torch build's flavour, is written to the environment's installed.json.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib import metadata

BASE_FILE = "history-base.json"  # what the environment held before any release
INSTALLED_FILE = "installed.json"


def canonical(name):
    return name.lower().replace("_", "-").replace(".", "-")


def folder_bytes(path):
    return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())


def installed():
    return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()
            if not os.path.basename(str(d._path)).startswith("~")}


def remove_leftovers():
    """pip renames what it uninstalls to '~name' and deletes it at the end; a killed install
    leaves those behind, and their metadata would pass for an installed package."""
    import shutil
    import sysconfig

    site = sysconfig.get_paths()["purelib"]
    for entry in os.listdir(site):
        if entry.startswith("~"):
            path = os.path.join(site, entry)
            print(f"removing {path}: left by an interrupted pip", flush=True)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def pip(args, pip_config, check=True):
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if pip_config == "ignore":
        # No pip configuration file of this machine applies to this one command (its
        # constraints would refuse the newest torch, its local wheels would swap a build):
        # nothing on the machine is edited.
        env["PIP_CONFIG_FILE"] = os.devnull
    cmd = [sys.executable, "-m", "pip", *args]
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env, check=check).returncode


def resolve(requirements, wheelhouse, pip_config):
    """{name: version} that pip would install for `requirements` into an empty environment,
    from the wheelhouse alone; None if the wheelhouse lacks something."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        code = pip(["install", "--dry-run", "--ignore-installed", "--no-index", "--find-links",
                    wheelhouse, "--quiet", "--report", report, *requirements], pip_config,
                   check=False)
        if code != 0:
            return None
        with open(report) as f:
            items = json.load(f)["install"]
    return {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in items}


def torch_build():
    """torch's version and CUDA version, as the installed build reports them."""
    code = ("import json, torch; print(json.dumps({'version': torch.__version__, "
            "'cuda': torch.version.cuda}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr[-500:]}


def main(argv):
    build_dir, wheelhouse = argv
    start = time.monotonic()
    downloaded = None
    env_dir = sys.prefix
    with open(os.path.join(build_dir, "pins.json")) as f:
        pins = json.load(f)
    requirements, pip_config = pins["requirements"], pins["pip_config"]
    os.makedirs(wheelhouse, exist_ok=True)
    remove_leftovers()

    base_path = os.path.join(env_dir, BASE_FILE)
    if not os.path.exists(base_path):
        with open(base_path, "w") as f:
            json.dump(sorted(installed()), f)
    with open(base_path) as f:
        base = set(json.load(f))

    wanted = resolve(requirements, wheelhouse, pip_config)
    if wanted is None:  # first time this release is asked for: fill the wheelhouse
        t0, size0 = time.monotonic(), folder_bytes(wheelhouse)
        pip(["download", "--quiet", "--dest", wheelhouse, *requirements], pip_config)
        downloaded = {"seconds": round(time.monotonic() - t0, 1),
                      "bytes": folder_bytes(wheelhouse) - size0}
        wanted = resolve(requirements, wheelhouse, pip_config)
        if wanted is None:
            sys.exit(f"install_pins: {' '.join(requirements)} cannot be resolved from "
                     f"{wheelhouse} even after downloading")
    stale = sorted(set(installed()) - set(wanted) - base)
    if stale:
        pip(["uninstall", "--yes", "--quiet", *stale], pip_config)
    # Every package pinned to the resolved version string (=== : 2.13.0 is not 2.13.0+cpu),
    # not just the release: otherwise pip keeps
    # an installed dependency that merely satisfies (an nvidia-* library of the release
    # before, the virtualenv's setuptools), and what a point holds would depend on which
    # release was installed before it.
    exact = [f"{name}==={version}" for name, version in sorted(wanted.items())]
    pip(["install", "--no-index", "--find-links", wheelhouse, "--quiet", *exact], pip_config)

    now = installed()
    record = {
        "history": pins["history"],
        "release": f"{pins['library']} {pins['release']}",
        "requirements": requirements,
        "pip_config": pip_config,
        "packages": {name: now[name] for name in sorted(now) if name not in base},
        "torch_build": torch_build() if "torch" in now else None,
        "install_seconds": round(time.monotonic() - start, 1),
        "downloaded": downloaded,
        "finished": time.time(),
    }
    wrong = {n: v for n, v in wanted.items() if now.get(n) != v}
    if wrong:
        sys.exit(f"install_pins: installed versions differ from the resolved set: {wrong}")
    with open(os.path.join(env_dir, INSTALLED_FILE), "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
    print(f"installed {record['release']}: "
          + ", ".join(f"{n} {v}" for n, v in sorted(record["packages"].items())
                      if n in {"numpy", "numba", "llvmlite", "torch"}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
