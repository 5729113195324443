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


MAX_BYTES = 16 * 1024 * 1024  # a settings.json is KBs; a link to /dev/zero must not be read forever


class RawNumber(float):
    """A number as the file spells it (1e400 is a valid JSON number that Python reads as inf): written
    back as the same text, so governor never turns a foreign value into `Infinity`."""

    text: str

    def __new__(cls, text: str) -> RawNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _number(text: str) -> float:
    value = float(text)
    return RawNumber(text) if value in (float("inf"), float("-inf")) else value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read(path: str) -> tuple[bytes | None, dict[str, Any]]:
    """(raw bytes or None when absent, the JSON object; {} for a missing or blank file)."""
    from governor.fsutil import current_bytes

    refuse_symlink(path)
    try:
        data = current_bytes(path, MAX_BYTES)
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}. Nothing was changed") from None
    except ValueError as exc:  # TooLarge
        raise SettingsError(f"{exc}. Nothing was changed") from None
    if data is None:
        return None, {}
    try:
        text = data.decode("utf-8")
        if not text.strip():
            return data, {}
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_number,
                         parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text. Nothing was changed") from None
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}). "
                            "Nothing was changed; fix the file or restore a backup, then run again") from None
    except RecursionError:
        raise SettingsError(f"{path}: nested too deep for governor to edit. Nothing was changed") from None
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
    """Strict JSON text in the original file's indentation (2 spaces when unknown), unicode kept as is;
    numbers read as RawNumber keep their text, and a lone surrogate (a `\\ud800` escape in the file)
    is written as the escape again (everything escaped then: the value is the same, the file valid)."""
    indent: str | int = 2
    match = re.search(rb"\n([ \t]+)\S", original or b"")
    if match:
        indent = match.group(1).decode()
    raws: dict[str, str] = {}
    marker = "governor-raw-number-" + hashlib.sha256(original or b"").hexdigest()[:16] + "-"

    def mark(value: Any) -> Any:  # RawNumbers out of the way of json.dumps, as unique strings
        if isinstance(value, RawNumber):
            raws[f'"{marker}{len(raws)}"'] = value.text
            return f"{marker}{len(raws) - 1}"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    marked = mark(doc)
    text = json.dumps(marked, indent=indent, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(marked, indent=indent, ensure_ascii=True, allow_nan=False)
    for quoted, raw in raws.items():
        text = text.replace(quoted, raw)
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


def write(path: str, data: bytes, expect: bytes | None) -> None:
    """Replace `path` with `data` unless it no longer holds `expect` (fsutil.Changed: redo the edit)."""
    from governor.fsutil import atomic_write_bytes

    refuse_symlink(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        atomic_write_bytes(path, data, expect=expect)
    except OSError as exc:
        raise SettingsError(f"{path}: cannot write: {exc.strerror}. The file was left as it was") from None


def remove(path: str, expect: bytes | None) -> None:
    """Delete `path` unless it no longer holds `expect` (fsutil.Changed)."""
    from governor.fsutil import Changed, current_bytes

    if current_bytes(path, MAX_BYTES) != expect:
        raise Changed(path)
    os.unlink(path)
