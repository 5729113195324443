"""Reading and safely rewriting a JSON file that belongs to someone else (settings.json, hooks.json).

Refuses rather than guesses: a symlink, a read-only file, invalid JSON, duplicate keys or a
non-object document stop the command with one clear line and the file untouched. Writes follow
DESIGN.md: lock, re-read inside the lock (the caller does), timestamped backup, temp file in the same
directory, fsync, os.replace. The lock lives in governor's state dir, so no stray `.lock` file
appears next to a project's `.claude/settings.json`.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from typing import Any

from governor import paths
from governor.errors import SettingsError


def _key(path: str) -> str:
    return hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:10]


def refuse_symlink(path: str) -> None:
    if os.path.islink(path):
        target = os.path.realpath(path)
        raise SettingsError(f"{path} is a symlink to {target}; governor does not replace links. "
                            f"Nothing was changed. Run again with --settings {target}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise ValueError(f"duplicate key {key!r}")
        doc[key] = value
    return doc


def read(path: str) -> tuple[bytes | None, dict[str, Any]]:
    """(raw bytes or None when absent, the JSON object; {} for a missing or blank file)."""
    refuse_symlink(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return None, {}
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror}. Nothing was changed") from None
    try:
        text = data.decode("utf-8")
        if not text.strip():
            return data, {}
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text. Nothing was changed") from None
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}). "
                            "Nothing was changed; fix the file or restore a backup, then run again") from None
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc}. Nothing was changed; fix the file, then run again") from None
    if not isinstance(doc, dict):
        raise SettingsError(f"{path}: expected a JSON object at the top level, found {type(doc).__name__}. "
                            "Nothing was changed")
    return data, doc


def check_writable(path: str) -> None:
    """Refuse a read-only file or directory before anything is written (root included: mode bits count)."""
    refuse_symlink(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and (not mode & stat.S_IWUSR or not os.access(path, os.W_OK)):
        raise SettingsError(f"{path} is read-only (mode {stat.S_IMODE(mode):o}). Nothing was changed; "
                            f"make it writable (chmod u+w {path}) to let governor edit it")
    directory = os.path.dirname(os.path.abspath(path))
    existing = directory
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SettingsError(f"cannot write in {existing} (needed to replace {path} atomically). "
                            "Nothing was changed")


def same(a: Any, b: Any) -> bool:
    """Equal JSON including key order."""
    return json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


def render(doc: dict[str, Any], original: bytes | None) -> bytes:
    """JSON text in the original file's indentation (2 spaces when unknown), unicode kept as is."""
    indent: str | int = 2
    match = re.search(rb"\n([ \t]+)\S", original or b"")
    if match:
        indent = match.group(1).decode()
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    ends_bare = original is not None and original.strip() != b"" and not original.endswith(b"\n")
    return (text if ends_bare else text + "\n").encode("utf-8")


def diff(path: str, old: bytes | None, new: bytes) -> str:
    before = (old or b"").decode("utf-8", "replace").splitlines(keepends=True)
    after = new.decode("utf-8").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, "/dev/null" if old is None else path, path)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def backup(path: str, data: bytes) -> str:
    """Copy `data` (the bytes about to be replaced) to the state dir's backups/; returns the copy's path."""
    from governor.fsutil import atomic_write_bytes

    directory = paths.ensure_private_dir(os.path.join(paths.state_dir(), "backups"))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    base = os.path.join(directory, f"{os.path.basename(path)}.{_key(path)}.{stamp}")
    target, n = base + ".bak", 1
    while os.path.exists(target):
        n += 1
        target = f"{base}-{n}.bak"
    atomic_write_bytes(target, data, mode=0o600)
    return target


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """The inter-process lock every governor writer of `path` takes (fsutil's, kept in the state dir)."""
    from governor.fsutil import file_lock

    with file_lock(path):
        yield


def write(path: str, data: bytes) -> None:
    from governor.fsutil import atomic_write_bytes

    refuse_symlink(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise SettingsError(f"{path}: cannot write: {exc.strerror}. The file was left as it was") from None
