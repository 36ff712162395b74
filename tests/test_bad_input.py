"""Every command answers bad input with one line and exit status 2, never a traceback: a
missing or malformed asv.conf.json, missing results, a truncated result file, an unknown
release, a bad regular expression. Each command runs in a copy of the repository that has
exactly the fault of its row."""
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration  # real commands, environments or a browser

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_DIR = os.path.join(REPO, "results", "epyc-2core")


def _one_result_file():
    return sorted(f for f in os.listdir(RESULT_DIR) if f != "machine.json")[0]


def make_repo(root, fault):
    for folder in ("tools", "benchmarks", "checks", "experiments"):
        shutil.copytree(os.path.join(REPO, folder), os.path.join(root, folder),
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(REPO, "requirements.txt"), root)  # the pins
    shutil.copy(os.path.join(REPO, "machines.json"), root)  # the machines of the workflow
    os.makedirs(os.path.join(root, "history"))  # the release lists and histories' configs
    for name in ("releases.json", "numba.asv.conf.json", "torch.asv.conf.json"):
        shutil.copy(os.path.join(REPO, "history", name), os.path.join(root, "history"))
    if fault != "missing config":
        shutil.copy(os.path.join(REPO, "asv.conf.json"), root)
    if fault == "malformed config":
        with open(os.path.join(root, "asv.conf.json"), "a") as f:
            f.write("\n{ this is not json")
    machine = os.path.join(root, "results", "epyc-2core")
    os.makedirs(machine)
    if fault in ("missing results", "missing config", "malformed config"):
        return
    shutil.copy(os.path.join(RESULT_DIR, "machine.json"), machine)
    shutil.copy(os.path.join(REPO, "results", "benchmarks.json"), os.path.join(root, "results"))
    name = _one_result_file()
    with open(os.path.join(RESULT_DIR, name)) as f:
        text = f.read()
    if fault == "truncated result":
        text = text[: len(text) // 2]
    with open(os.path.join(machine, name), "w") as f:
        f.write(text)


CASES = [
    # (fault, `python -m tools` verb, arguments, words the one line must contain)
    ("missing config", "smoke", [], "asv.conf.json"),
    ("missing config", "check timeit", [], "asv.conf.json"),
    ("missing config", "envs", [], "asv.conf.json"),
    ("missing config", "provenance", ["--stamp", "results"], "asv.conf.json"),
    ("missing config", "publish", [], "asv.conf.json"),
    ("malformed config", "smoke", [], "asv.conf.json"),
    ("malformed config", "check timeit", [], "asv.conf.json"),
    ("malformed config", "envs", [], "asv.conf.json"),
    ("malformed config", "provenance", ["--stamp", "results"], "asv.conf.json"),
    ("malformed config", "publish", [], "asv.conf.json"),
    ("missing results", "report headline", [], "no"),
    ("missing results", "report findings", ["--out", "report"], "no"),
    ("missing results", "report timeline", ["numba", "Sum.time_sum"], "no"),
    ("missing results", "compare", ["numba", "0.67.0", "0.68.1"],
     "no comparison session"),
    ("missing results", "publish", [], "results"),
    ("truncated result", "report headline", [], "JSON"),
    ("truncated result", "report findings", ["--out", "report"], "JSON"),
    ("truncated result", "report timeline", ["numba", "Sum.time_sum"], "JSON"),
    ("truncated result", "provenance", ["--stamp", "results"], "JSON"),
    ("intact", "report headline", ["--numba", "9.9.9"], "9.9.9"),
    ("intact", "report findings", ["--torch", "9.9.9", "--out", "report"], "9.9.9"),
    ("intact", "report timeline", ["numba", "Sum.time_sum", "--where",
                                                   "size=3"], "size"),
    ("intact", "report timeline", ["scipy", "Sum.time_sum"], "scipy"),
    ("intact", "pair", ["pandas", "1.0", "2.0"], "pandas"),
    ("intact", "compare", ["numba", "0.67.0", "0.68.1", "--bench", "("],
     "regular expression"),
    ("intact", "pair", ["numba", "0.67.0", "0.68.1", "--bench", "("],
     "regular expression"),
    ("intact", "smoke", ["--bench", "("], "regular expression"),
    ("missing config", "run", [], "asv.conf.json"),
    ("malformed config", "run", [], "asv.conf.json"),
    ("intact", "run", ["--bench", "("], "regular expression"),
    ("missing results", "count", ["numba", "0.67.0", "0.68.1"],
     "no comparison session"),
    ("intact", "count", ["numba", "9.9", "9.10"], "no comparison session"),
    ("intact", "pair", ["numba", "0.67.0", "0.68.1", "--rounds", "1"],
     "rounds"),
    ("intact", "pair", ["numba", "0.67.0", "0.68.1", "--kernel", "nope"], "unknown kernel"),
    ("intact", "history", ["numba", "--kernel", "nope"], "unknown kernel"),
    ("intact", "history", ["numba", "--rounds", "2"], "rounds"),
    ("intact", "history", ["numba", "--canary", "numba-9.9"], "numba-9.9"),
    ("intact", "history report", ["numba", "--machine", "nowhere"], "nowhere"),
    ("intact", "history narrow", ["numba", "0.66.0", "0.67.0", "Sum.time_sum(3, x, cpu)"],
     "unknown case"),
    ("intact", "history narrow", ["numba", "zero", "0.67.0", "Sum.time_sum(3, x, cpu)"],
     "zero"),
    ("intact", "report", ["nope"], "unknown topic"),
    ("intact", "check ceiling", ["--rounds", "1"], "--rounds"),
    ("intact", "check import-cost", ["--rounds", "2"], "--rounds"),
    ("intact", "check harness", ["--releases", "2.7.1"], "two different"),
    ("intact", "check harness", ["--releases", "9.8,9.9"], "no kept environment"),
    ("intact", "check harness", ["--threads", "0"], "--threads"),
    ("intact", "check np-sum-step", ["--rounds", "2"], "--rounds"),
    ("intact", "check np-sum-step", ["--releases", "9.8,9.9"], "no kept environment"),
    ("intact", "ci plan", ["--machines", "nowhere"], "nowhere"),
    ("intact", "ci measure", ["nowhere"], "nowhere"),
    ("intact", "ci pack", ["nowhere", "--out", "artifact"], "nowhere"),
    ("intact", "ci merge", ["no-such-folder"], "no artifact"),
    ("intact", "ci follow", ["--index", "no-such-file.json"], "no-such-file"),
]


@pytest.mark.parametrize("fault, command, args, words", CASES,
                         ids=[f"{c[1].replace(' ', '_')}-{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_line_and_exit_2(tmp_path, fault, command, args, words):
    make_repo(str(tmp_path), fault)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "tools", *command.split(), *args], cwd=tmp_path,
                          env=env,
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert len(lines) == 1, done.stderr
    assert words.lower() in lines[0].lower(), lines[0]
