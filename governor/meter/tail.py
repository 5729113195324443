"""New complete lines since a per-file cursor (device, inode, byte offset).

Only bytes appended since the last read are read, only up to the last newline (a torn last line
waits for its end), and a file that was replaced (new inode) or shrank is read again from the start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from governor.fastsqlite import sqlite3
from governor.fsutil import open_regular
from governor.record import Record  # a NamedTuple without exec-compiling one per class

BLOCK = 16 * 1024 * 1024  # bounded memory on multi-GB files
# A line longer than any real row (Claude Code's largest, pasted images, are a few MB) is skipped as
# malformed without being buffered whole.
MAX_LINE_BYTES = 64 * 1024 * 1024


class Cursor(Record):
    dev: int
    ino: int
    offset: int
    size: int
    mtime_ns: int
    state: str | None = None  # the parser's per-file state (JSON), reset on restart


def load_cursor(conn: sqlite3.Connection, path: str) -> Cursor | None:
    row = conn.execute(
        "SELECT dev, ino, offset, size, mtime_ns, state FROM files WHERE path=?", (path,)
    ).fetchone()
    return Cursor(*row) if row else None


def load_cursors(conn: sqlite3.Connection, kind: str) -> dict[str, Cursor]:
    rows = conn.execute(
        "SELECT path, dev, ino, offset, size, mtime_ns, state FROM files WHERE kind=?", (kind,)
    )
    return {r[0]: Cursor(*r[1:]) for r in rows}


Position = tuple[int, int, int]  # (dev, ino, offset): what a full scan compares a file's stat with


def load_positions(conn: sqlite3.Connection, kind: str) -> dict[str, Position]:
    """Every file's (dev, ino, offset), for a full scan of thousands of files that passes over the
    unchanged ones (see unchanged) and loads the whole cursor only of those that changed."""
    rows = conn.execute("SELECT path, dev, ino, offset FROM files WHERE kind=?", (kind,))
    return {r[0]: r[1:] for r in rows}


def unchanged(st: os.stat_result, position: Position) -> bool:
    """start_offset(st, cursor) is None: the same file (device, inode), read to its current size."""
    return position[2] == st.st_size and position[1] == st.st_ino and position[0] == st.st_dev


def save_cursor(
    conn: sqlite3.Connection, path: str, kind: str, cursor: Cursor, bad_lines: int, now: float
) -> None:
    conn.execute(
        "INSERT INTO files(path, kind, dev, ino, offset, size, mtime_ns, bad_lines, state, updated_at)"
        " VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET dev=excluded.dev, ino=excluded.ino,"
        " offset=excluded.offset, size=excluded.size, mtime_ns=excluded.mtime_ns,"
        " bad_lines=files.bad_lines+excluded.bad_lines, state=excluded.state, updated_at=excluded.updated_at",
        (
            path,
            kind,
            cursor.dev,
            cursor.ino,
            cursor.offset,
            cursor.size,
            cursor.mtime_ns,
            bad_lines,
            cursor.state,
            now,
        ),
    )


def start_offset(st: os.stat_result, cursor: Cursor | None) -> int | None:
    """Where to resume reading, 0 to start over, or None when nothing new can be there."""
    if cursor is None:
        return 0
    if (cursor.dev, cursor.ino) != (st.st_dev, st.st_ino) or st.st_size < cursor.offset:
        return 0  # replaced or truncated: start over; de-duplication keeps totals exact
    if st.st_size == cursor.offset:
        return None
    return cursor.offset


def ahead(current: Cursor, path: str, st: os.stat_result, offset: int) -> bool:
    """Whether the cursor stored now (re-read under the write lock) is past `offset`, read from the file as
    `st` saw it: another updater read further, and saving ours would move it back. A cursor past the
    file's end is not ahead: the file was truncated in place (same inode) after it was written, and
    `offset` comes from reading it again."""
    if (current.dev, current.ino) != (st.st_dev, st.st_ino) or current.offset <= offset:
        return False
    if current.offset <= st.st_size:
        return True
    try:  # past the size we saw: the file grew and another updater read on, or it was truncated
        return current.offset <= os.stat(path).st_size
    except OSError:
        return False


def too_old(st: os.stat_result, cursor: Cursor | None, since: float | None) -> bool:
    """A file never read and untouched since `since` (epoch s): older than any window asked for, skipped."""
    return cursor is None and since is not None and st.st_mtime < since


class Blocks:
    """Iterate (complete lines, offset just past them) from `start`; a trailing partial line is left unread.
    A line longer than `max_line` is dropped as it is read, never held whole, and counted in `overlong`;
    with `limit`, reading stops at the first line end past `start + limit` (a hook bounds its reads; the
    next call goes on from the cursor)."""

    def __init__(self, path: str, start: int, block: int = BLOCK, max_line: int = MAX_LINE_BYTES,
                 limit: int | None = None) -> None:
        self.path, self.start, self.block, self.max_line, self.limit = path, start, block, max_line, limit
        self.overlong = 0

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        with os.fdopen(open_regular(self.path), "rb") as fh:
            # Read what the file holds (+1 to see growth) rather than `block`: a 16 MB read of a 1 MB file
            # allocates and faults in 16 MB first, which costs a first scan of a thousand files ~0.4 s/GB.
            start = self.start
            remaining = os.fstat(fh.fileno()).st_size - start
            stop = None if self.limit is None else start + self.limit
            fh.seek(start)
            offset = start  # just past the last line handed out (or skipped)
            carry = b""
            skipping = False  # inside an over-long line: drop bytes up to its end
            read = start
            while stop is None or read < stop:
                chunk = fh.read(min(self.block, remaining + 1) if remaining > 0 else self.block)
                if not chunk:
                    return
                remaining -= len(chunk)
                read += len(chunk)
                if skipping:
                    cut = chunk.find(b"\n")
                    if cut < 0:
                        continue
                    skipping = False
                    offset = read - len(chunk) + cut + 1
                    chunk = chunk[cut + 1 :]
                    yield b"", offset  # the cursor may move past the skipped line
                data = carry + chunk if carry else chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    if len(data) > self.max_line:
                        self.overlong += 1
                        skipping, carry = True, b""
                    else:
                        carry = data
                    continue
                carry = data[cut + 1 :]
                lines = data[: cut + 1]
                offset += cut + 1
                if len(carry) > self.max_line:
                    self.overlong += 1
                    skipping, carry = True, b""
                yield lines, offset


def iter_blocks(path: str, start: int, block: int = BLOCK) -> Iterator[tuple[bytes, int]]:
    """Blocks(path, start, block) for a caller that does not count over-long lines."""
    return iter(Blocks(path, start, block))


def log_unreadable(conn: sqlite3.Connection, unreadable: list[str], key: str, noun: str) -> None:
    """One log line when the set of unreadable files changes (not one per prompt while it stays); the
    set's digest is kept in meta `key`."""
    import hashlib

    from governor.log import log
    from governor.meter import db

    digest = hashlib.sha1("\n".join(sorted(unreadable)).encode("utf-8", "replace")).hexdigest()
    if db.get_meta(conn, key) == digest:
        return
    shown = "; ".join(unreadable[:3]) + (f"; and {len(unreadable) - 3} more" if len(unreadable) > 3 else "")
    log(f"ingest: skipped {len(unreadable)} {noun} file(s) that cannot be read: {shown}")
    try:
        db.set_meta(conn, key, digest)
    except sqlite3.Error:
        pass  # busy: it is logged again next time, no harm
