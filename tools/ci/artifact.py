"""A machine's artifact: what `pack` writes on the machine, what `merge` reads on the merge job.

    python -m tools ci pack NAME --out DIR         # this machine's files, with a manifest
    python -m tools ci merge DIR [DIR ...] [--follow DIR] [--body FILE]

`pack` copies every file machine NAME owns (results/NAME/, provenance/NAME/, its history
results, report/machines/NAME/, report/releases/NAME/, rounds/NAME/) and
results/benchmarks.json into DIR, with manifest.json: the name, the hardware (asv's machine
fields, the recorded CPU model and ISA) and each file's SHA-256.

`merge` checks every artifact (its files against the manifest) and refuses two machines that
claim the same name with different hardware, among the artifacts or against the results
already in this checkout; then copies each machine's files in. A result file that is already
here is merged benchmark by benchmark (the artifact's values win, none of the others is
dropped), so nothing measured before is lost. `--follow DIR` brings the release list the
follow step appended to (history/releases.json, steps.json); `--body FILE` writes the pull
request's description: the machines merged and, for each new release, every machine's verdict
table.
"""
import glob
import hashlib
import json
import os
import re
import shutil

from .. import REPO_ROOT, ToolError, command_parser
from ..history.releases import load_histories
from ..results.atomic import copy_atomic, write_json_atomic, write_text_atomic
from ..dashboard.machines_page import newest_params
from ..results.rows import read_json

MANIFEST = "manifest.json"
# What identifies a machine's hardware: asv's machine.json fields and, where recorded, the
# run-time CPU model and ISA. Memory size is left out: VMs of one kind differ by megabytes.
HARDWARE = ("arch", "cpu", "num_cpu", "cpu_model", "cpu_isa")


def owned_files(name, root=REPO_ROOT):
    """Every file machine `name` owns in the tree at `root` (relative paths)."""
    patterns = [f"results/{name}/**", f"provenance/{name}/**", f"history/results/*/{name}/**",
                f"report/machines/{name}/**", f"report/releases/{name}/**",
                f"rounds/{name}/**", "results/benchmarks.json"]
    found = set()
    for pattern in patterns:
        for path in glob.glob(os.path.join(root, pattern), recursive=True):
            if os.path.isfile(path):
                found.add(os.path.relpath(path, root))
    return sorted(found)


def hardware(name, root=REPO_ROOT):
    """{field: value} of HARDWARE for machine `name` from its files under `root`."""
    results_dir = os.path.join(root, "results")
    path = os.path.join(results_dir, name, "machine.json")
    if not os.path.isfile(path):
        return {}
    known = dict(read_json(path))
    known.update(newest_params(results_dir, name))
    return {k: str(known[k]) for k in HARDWARE if known.get(k) not in (None, "")}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def pack(name, out, root=REPO_ROOT):
    """Copy machine `name`'s files under `out` with a manifest; return the manifest."""
    files = owned_files(name, root)
    if not any(f.startswith(f"results/{name}/") for f in files):
        raise ToolError(f"machine {name!r} has no results under results/{name}/: "
                           "nothing to pack (did its job run?)")
    for rel in files:
        target = os.path.join(out, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(root, rel), target)
    manifest = {"machine": name, "hardware": hardware(name, root),
                "files": {rel: sha256(os.path.join(root, rel)) for rel in files}}
    write_json_atomic(os.path.join(out, MANIFEST), manifest)
    return manifest


def main_pack(argv=None):
    parser = command_parser("This machine's files, for `ci merge`.")
    parser.add_argument("name", help="the machine name (its results/NAME/)")
    parser.add_argument("--out", required=True, help="the artifact folder to write")
    args = parser.parse_args(argv)
    manifest = pack(args.name, args.out)
    print(f"packed {len(manifest['files'])} files of {args.name} into {args.out}")
    return 0


def read_artifact(folder):
    """(manifest, folder) after checking every file against its SHA-256."""
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        raise ToolError(f"{folder} has no {MANIFEST}: not an artifact of `ci pack`")
    manifest = read_json(path)
    for rel, digest in manifest.get("files", {}).items():
        file = os.path.join(folder, rel)
        if not os.path.isfile(file) or sha256(file) != digest:
            raise ToolError(f"{folder}: {rel} is missing or differs from its manifest "
                               "(an interrupted upload?)")
    return manifest


def different(a, b):
    """The hardware fields both records hold that disagree: {field: (a, b)}."""
    return {k: (a[k], b[k]) for k in HARDWARE if k in a and k in b and a[k] != b[k]}


def check_names(manifests, root=REPO_ROOT):
    """Refuse one name claimed by two different machines (two artifacts, or an artifact and
    the results already here)."""
    seen = {}
    for manifest in manifests:
        name, hw = manifest["machine"], manifest.get("hardware", {})
        for other, where in ((seen.get(name), "another artifact"),
                             (hardware(name, root), "the results already in results/")):
            clash = different(other or {}, hw)
            if clash:
                what = ", ".join(f"{k} {a!r} vs {b!r}" for k, (a, b) in clash.items())
                raise ToolError(f"two machines claim the name {name!r}: this artifact and "
                                   f"{where} differ in {what}. Give one another name in "
                                   "machines.json (it names results/NAME/)")
        seen[name] = hw


def merge_result_file(source, target):
    """The artifact's result file over the one here, keeping every benchmark only here (the
    artifact's file as it is when it lacks none)."""
    new = read_json(source)
    kept = {}
    if os.path.isfile(target):
        old = read_json(target)
        kept = {key: {k: v for k, v in old.get(key, {}).items() if k not in new.get(key, {})}
                for key in ("results", "durations")}
    if not any(kept.values()):
        copy_atomic(source, target)
        return
    for key, entries in kept.items():
        new.setdefault(key, {}).update(entries)
    write_json_atomic(target, new)


def merge_benchmarks(source, target):
    """benchmarks.json: the union (the artifact's entries win), in asv's own layout."""
    new = read_json(source)
    if os.path.isfile(target):
        old = read_json(target)
        if {**old, **new} == old:
            return
        new = {**old, **new}
    write_text_atomic(target, json.dumps(new, indent=4, sort_keys=True))


def merge(folders, root=REPO_ROOT, say=print):
    """Copy every artifact in; return {machine: files copied}."""
    artifacts = [(folder, read_artifact(folder)) for folder in folders]
    check_names([manifest for _, manifest in artifacts], root)
    copied = {}
    for folder, manifest in artifacts:
        name = manifest["machine"]
        for rel in sorted(manifest["files"]):
            source, target = os.path.join(folder, rel), os.path.join(root, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if rel == "results/benchmarks.json":
                merge_benchmarks(source, target)
            elif rel.startswith("results/") and os.path.basename(rel) != "machine.json":
                merge_result_file(source, target)
            else:
                copy_atomic(source, target)
        copied[name] = len(manifest["files"])
        say(f"merged {name}: {len(manifest['files'])} files ({folder})")
    return copied


def merge_follow(folder, root=REPO_ROOT):
    """The follow step's release list into this checkout; return its steps (none when the
    follow step did not run: no folder)."""
    if not os.path.isdir(folder):
        return []
    releases = os.path.join(folder, "history", "releases.json")
    steps = read_json(os.path.join(folder, "steps.json")).get("steps", [])
    if os.path.isfile(releases):
        load_histories(releases)  # a list that fails its checks is not merged
        copy_atomic(releases, os.path.join(root, "history", "releases.json"))
    return steps


def pr_body(copied, steps, root=REPO_ROOT):
    """The pull request's description: machines merged, each new release's verdicts."""
    lines = ["# Benchmark results", "",
             "Machines merged: " + ", ".join(f"{m} ({n} files)" for m, n in copied.items()), ""]
    for step in steps:
        lines += [f"## {step['library']} {step['new']} (new release) against {step['old']}", ""]
        for machine in copied:
            path = os.path.join(root, "report", "releases", machine,
                                f"{step['library']}-{step['old']}-vs-{step['new']}.md")
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:  # its headings two levels down
                    text = re.sub(r"^(#+) ", r"##\1 ", f.read(), flags=re.M)
                lines += [text, ""]
            else:
                lines += [f"### {machine}: not measured (its job failed; see the run's log)", ""]
    return "\n".join(lines) + "\n"


def main_merge(argv=None):
    parser = command_parser("Every machine's artifact into this checkout.")
    parser.add_argument("artifacts", nargs="+", help="artifact folders of `ci pack`")
    parser.add_argument("--follow", help="the follow step's folder (releases.json, steps.json)")
    parser.add_argument("--body", help="write the pull request's description here")
    args = parser.parse_args(argv)
    folders = [f for f in args.artifacts if os.path.isfile(os.path.join(f, MANIFEST))]
    if not folders:
        raise ToolError("no artifact of `ci pack` among " + ", ".join(args.artifacts))
    copied = merge(folders)
    steps = merge_follow(args.follow) if args.follow else []
    if args.body:
        write_text_atomic(args.body, pr_body(copied, steps))
        print(f"wrote {args.body}")
    return 0
