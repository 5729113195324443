"""Applying the memory-index cap to a file on disk: one locked rewrite, the cut text kept in an archive."""

from __future__ import annotations

import errno
import functools
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
    """Append the cut lines (if any) to the archive beside the memory file. Never through a link
    (O_NOFOLLOW: a symlinked archive pointing outside the memory dir raises ELOOP) and never into a
    non-regular file."""
    header = (
        f"# Overflow of {name}\n\nFull text of entries that governor's memory guard shortened in {name}. "
        "Not loaded automatically; read it when an entry ends in ' …'.\n\n"
    )
    if not changes:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, mode)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path} is not a regular file; governor does not write into it")
        created = st.st_size == 0
        data = ((header if created else "") + archive_entries(name, changes, now)).encode("utf-8")
        os.write(fd, data)
        os.fsync(fd)
        if created:
            os.fchmod(fd, mode)  # the memory file's mode, not the umask's
    finally:
        os.close(fd)


class ReadOnly(OSError):
    """The memory file or its folder cannot be written: governor leaves it as it is."""


@dataclass(frozen=True)
class Applied:
    path: str
    archive: str
    changes: list[Capped]
    load: LoadStatus | None  # of the file as it now is; None when it vanished


CAS_ATTEMPTS = 10  # Claude Code may write MEMORY.md again while the guard runs
MAX_BYTES = 16 * 1024 * 1024  # a memory index is KBs; Claude Code loads 25 KB of it


def apply_cap(path: str, cap: int, now: float | None = None) -> Applied:
    """Cap `path` under its lock: read, cut, write a temp file beside it, append the archive, and
    os.replace only if the file still holds what was read (compare-and-swap: an edit by a writer that
    does not take the lock is redone on, never overwritten). ReadOnly, nothing written, when the file
    (0444) or its folder cannot be written; the archive is appended only once the temp file exists, so
    a folder that refuses the write gets no duplicate entries.

    `path` must already be resolved (a symlink would be replaced by a regular file). The file mode is
    kept. Raises UnicodeDecodeError for a file that is not UTF-8 (left untouched).
    """
    from governor.fsutil import Changed, atomic_write_bytes, current_bytes, file_lock

    archive = archive_path(path)
    changes: list[Capped] = []
    load: LoadStatus | None = None
    archived: set[str] = set()
    with file_lock(path):
        for _attempt in range(CAS_ATTEMPTS):
            current = current_bytes(path, MAX_BYTES)
            if current is None:
                return Applied(path, archive, [], None)
            new_text, changes = cap_text(current.decode("utf-8"), cap)
            load = load_status(new_text)
            if not changes:
                return Applied(path, archive, [], load)
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if not mode & stat.S_IWUSR:
                raise ReadOnly(f"{path} is read-only (mode {mode:o})")
            stamp = time.time() if now is None else now
            fresh = [c for c in changes if c.original not in archived]  # a redo archives a line once
            archived.update(c.original for c in fresh)
            archive_cut = functools.partial(_append_archive, archive, os.path.basename(path), fresh, stamp, mode)
            try:
                atomic_write_bytes(path, new_text.encode("utf-8"), mode, expect=current,
                                   before_replace=archive_cut)
            except Changed:
                continue
            except PermissionError as exc:
                raise ReadOnly(f"cannot write in {os.path.dirname(path)}: {exc.strerror}") from None
            except OSError as exc:
                if exc.errno == errno.EROFS:
                    raise ReadOnly(f"{path} is on a read-only file system") from None
                raise
            return Applied(path, archive, changes, load)
    return Applied(path, archive, [], load)  # kept changing: the next write caps it
