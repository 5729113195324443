"""Applying the memory-index cap to a file on disk: one locked rewrite, the cut text kept in an archive."""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass

from governor.policy.memory_cap import Capped, LoadStatus, cap_text, load_status


def archive_path(path: str) -> str:
    """`MEMORY.md` -> `MEMORY.overflow.md`, beside it."""
    return os.path.splitext(path)[0] + ".overflow.md"


def archive_entries(name: str, changes: list[Capped], now: float) -> str:
    """One block per shortened line: when, which line, and the full original line verbatim."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return "".join(f"## {stamp} · {name} line {c.line_no}\n\n{c.original}\n\n" for c in changes)


def _append_archive(path: str, name: str, changes: list[Capped], now: float, mode: int) -> None:
    created = not os.path.exists(path)
    header = (
        f"# Overflow of {name}\n\nFull text of entries that governor's memory guard shortened in {name}. "
        "Not loaded automatically; read it when an entry ends in ' …'.\n\n"
    )
    data = ((header if created else "") + archive_entries(name, changes, now)).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
        if created:
            os.fchmod(fd, mode)  # the memory file's mode, not the umask's
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Applied:
    path: str
    archive: str
    changes: list[Capped]
    load: LoadStatus | None  # of the file as it now is; None when it vanished


def apply_cap(path: str, cap: int, now: float | None = None) -> Applied:
    """Cap `path` in place under its lock (re-read inside it); archive first, then os.replace.

    `path` must already be resolved (a symlink would be replaced by a regular file). The file mode is
    kept. Raises UnicodeDecodeError for a file that is not UTF-8 (left untouched).
    """
    from governor.fsutil import update_file

    archive = archive_path(path)
    changes: list[Capped] = []
    load: LoadStatus | None = None

    def change(current: bytes | None) -> bytes | None:
        nonlocal changes, load
        if current is None:
            return None
        new_text, changes = cap_text(current.decode("utf-8"), cap)
        load = load_status(new_text)
        if not changes:
            return None
        mode = stat.S_IMODE(os.stat(path).st_mode)
        _append_archive(archive, os.path.basename(path), changes, time.time() if now is None else now, mode)
        return new_text.encode("utf-8")

    update_file(path, change)
    return Applied(path, archive, changes, load)
