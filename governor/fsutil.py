"""Safe writes for files that users or Claude Code also edit.

The rule (DESIGN.md, State): take the lock, re-read inside the lock, write a temp file in the same
directory, fsync, os.replace. Never write in place.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable


class NotRegular(OSError):
    """A path that is not a regular file (a FIFO would block the reader, /dev/zero never ends)."""


class TooLarge(ValueError):
    """A file larger than its reader allows."""


def open_regular(path: str) -> int:
    """A read-only descriptor of `path` when it is a regular file (after links); OSError otherwise.
    O_NONBLOCK: opening a FIFO to read would wait for a writer forever."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(f"not a regular file: {path!r}")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; FileNotFoundError, NotRegular (OSError) or
    TooLarge (ValueError) otherwise. Bounded whatever the path is."""
    with os.fdopen(open_regular(path), "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{path} is larger than {limit} bytes")
    return data


def read_tail(path: str, size: int) -> bytes:
    """At most the last `size` bytes of a regular file (OSError when it is not one)."""
    with os.fdopen(open_regular(path), "rb") as fh:
        end = os.fstat(fh.fileno()).st_size
        fh.seek(max(0, end - size))
        return fh.read(size)


def lock_path(path: str) -> str:
    """Where the lock for `path` lives: governor's state dir, so no stray `.lock` files land beside the
    user's files (Claude's memory folder, a repo's .claude/)."""
    import hashlib

    from governor import paths

    digest = hashlib.sha1(os.path.realpath(path).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    directory = paths.ensure_private_dir(os.path.join(paths.state_dir(), "locks"))
    return os.path.join(directory, f"{os.path.basename(path)[:40]}.{digest}.lock")


class file_lock:  # noqa: N801 - used like a function: `with file_lock(path):`
    """An inter-process lock on `path` (filelock), kept in the state dir. A class rather than
    @contextmanager: contextlib is one import fewer (~0.5 ms) for every hook that reads fsutil."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        from filelock import FileLock

        self._lock = FileLock(lock_path(path), timeout=timeout, mode=0o600)  # 0600 whatever the umask

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._lock.release()


class Changed(Exception):
    """The file changed since it was read: a writer that does not take governor's lock (Claude Code
    writing settings.json or MEMORY.md) got in between; the caller redoes its edit on the new content."""


_ANY = object()


def current_bytes(path: str, limit: int = 64 * 1024 * 1024) -> bytes | None:
    """The bytes of `path` now (None when absent); bounded, never a FIFO (NotRegular)."""
    try:
        return read_regular(path, limit)
    except FileNotFoundError:
        return None


def atomic_write_bytes(path: str, data: bytes, mode: int | None = None, expect: object = _ANY,
                       before_replace: Callable[[], None] | None = None) -> None:
    """Write `data` to a temp file beside `path`, fsync, then os.replace; keeps the old mode by default.
    With `expect` (the bytes the edit was made on, None for absent), the file is compared again just
    before os.replace and Changed is raised, nothing written, when it differs (compare-and-swap against
    writers that do not take the lock; the window left is the microseconds between that read and the
    rename). `before_replace` runs once the new content is safely in the temp file, just before the
    compare-and-swap; if it raises, nothing is replaced."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o600
    import tempfile  # ~6 ms: only a write pays for it, not every reader of fsutil

    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if before_replace is not None:
            if expect is not _ANY and current_bytes(path) != expect:
                raise Changed(path)  # before the side effect, so a redo does not repeat it
            before_replace()
        if expect is not _ANY and current_bytes(path) != expect:
            raise Changed(path)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def atomic_write_text(path: str, text: str, lock: bool = True, mode: int | None = None) -> None:
    data = text.encode("utf-8")
    if lock:
        with file_lock(path):
            atomic_write_bytes(path, data, mode)
    else:
        atomic_write_bytes(path, data, mode)


def update_file(path: str, change: Callable[[bytes | None], bytes | None], mode: int | None = None) -> bool:
    """Locked read-modify-write: `change` gets the current bytes (None if absent), read inside the lock,
    and returns the new bytes, or None to leave the file alone. Returns True when the file was written."""
    with file_lock(path):
        try:
            with open(path, "rb") as fh:
                current: bytes | None = fh.read()
        except FileNotFoundError:
            current = None
        new = change(current)
        if new is None or new == current:
            return False
        atomic_write_bytes(path, new, mode)
        return True
