"""Overlay environments: a venv whose own site-packages hold one or two packages and which reads
another environment's packages after them (a .pth line). An experiment can add asv_runner to a
kept history environment, or swap its llvmlite, without touching the environment it reads."""
import os
import shutil
import subprocess
import sys


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
