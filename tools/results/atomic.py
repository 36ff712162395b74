"""The one atomic writer: every file the project writes (results, rounds, reports, plots,
dashboard pages) goes to a temporary file beside its target, is flushed to disk and renamed
over it, so a kill at any moment leaves the old file or the new one, never a truncated one.
(asv's own writes get the same through asv_launcher.)"""
import json
import os
import shutil


def write_atomic(path, data):
    """Write bytes or text to `path` atomically; create its folder if needed."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomic(path, data):
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def write_text_atomic(path, text):
    write_atomic(path, text)


def copy_atomic(source, target):
    """Copy `source` to the file `target` (or into the folder `target`) atomically."""
    if os.path.isdir(target):
        target = os.path.join(target, os.path.basename(source))
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    tmp = f"{target}.tmp{os.getpid()}"
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
