"""List the tools' commands, a line each: `python -m tools`."""
import ast
import os
import pkgutil

from . import LAYERS, REPO_ROOT


def commands():
    """(module, first docstring line) of every module that runs as a command (has main())."""
    for layer in LAYERS:
        folder = os.path.join(REPO_ROOT, "tools", layer)
        for info in sorted(pkgutil.iter_modules([folder]), key=lambda i: i.name):
            with open(os.path.join(folder, info.name + ".py")) as f:
                tree = ast.parse(f.read())
            if any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body):
                first = " ".join((ast.get_docstring(tree) or "").split("\n\n")[0].split())
                first = first.split(". ")[0].rstrip(".")
                yield f"tools.{layer}.{info.name}", first[:90] + ("…" if len(first) > 90 else "")


def main():
    print("Commands (run with .venv/bin/python -m NAME --help):")
    rows = list(commands())
    width = max(len(name) for name, _ in rows)
    layer = None
    for name, doc in rows:
        if name.split(".")[1] != layer:
            layer = name.split(".")[1]
            print(f"\n  {layer}:")
        print(f"    {name:<{width}}  {doc}")
    print("\nShell entry points: bash tools/run_benchmarks.sh (main job), "
          "bash tools/run_tests.sh (tests)")


if __name__ == "__main__":
    main()
