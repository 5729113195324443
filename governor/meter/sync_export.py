"""Export this machine's de-duplicated records and official captures to its own files in the sync dir.

What changed since the last export is queued in `sync_outbox` by triggers (db.SYNC_SCHEMA). An export
takes the ledger's write lock, appends the queued rows' current state as complete lines in one write,
fsyncs, and only then empties the queue and commits: a process killed at any point leaves either the
lines and an emptied queue, or a queue that exports them again (a repeated line changes nothing: merge is
by key). A torn last line (a kill inside the write, a full disk) is cut back to the last newline before
the next append, so no reader ever takes half a record for one; readers never read past a newline.
"""

from __future__ import annotations

import errno
import os
import stat
import time

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor.fastsqlite import sqlite3
from governor.meter import db, sync_files
from governor.meter.machine import Machine

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

ENABLED_KEY = "sync_export"  # meta: the machine id export is on for (and db.SYNC_TRIGGERS exist)
EPOCH_KEY = "sync_epoch"  # meta: when export was (re)started for this ledger; part of capture keys
SEQ_KEY = "sync_seq"  # meta: the last sequence number written
LAST_KEY = "sync_last_export"  # meta: when an export last succeeded
HEARTBEAT_S = 1800  # from a hook machine.json (last export, for staleness) is rewritten at most this often
HEARTBEAT_KEY = "sync_heartbeat"  # meta: when machine.json was last written
HOOK_ROWS = 5000  # rows one export from a hook writes; the rest go with the next
_ROW = ("key, ts, session_id, project, model, input, output, cache_creation, cache_read, cache_5m, cache_1h,"
        " sidechain, web_search, source")
_FIELDS = tuple(c.strip() for c in _ROW.split(","))


class SyncError(Exception):
    """The sync dir cannot be used now (missing, read-only, full, taken): one line, nothing lost."""


def describe(exc: OSError, path: str) -> str:
    reasons = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is full",
               errno.EFBIG: "the file is too large for this disk", errno.EROFS: "it is on a read-only file system",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.ENOENT: "it does not exist"}
    return f"cannot write {path}: {reasons.get(exc.errno or 0, exc.strerror or str(exc))}"


def enable(conn: sqlite3.Connection, machine_id: str, now: float) -> bool:
    """Turn export on for `machine_id` (re-seeding the queue with every own row and capture when it was
    off, or on for another id). Returns True when it seeded."""
    if db.get_meta(conn, ENABLED_KEY) == machine_id:
        return False
    with db.transaction(conn):
        if db.get_meta(conn, ENABLED_KEY) == machine_id:
            return False
        db.set_meta(conn, ENABLED_KEY, machine_id)
        db.set_sync_triggers(conn, True)
        db.set_meta(conn, EPOCH_KEY, str(time.time_ns() // 1000))
        conn.execute("DELETE FROM sync_outbox")
        conn.execute("INSERT OR IGNORE INTO sync_outbox(key) SELECT key FROM usage WHERE machine IS NULL")
        conn.execute(f"INSERT OR IGNORE INTO sync_outbox(key) SELECT '{db.CAPTURE_KEY}' || id FROM captures"
                     " WHERE machine IS NULL")
    return True


def disable(conn: sqlite3.Connection) -> None:
    with db.transaction(conn):
        conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (ENABLED_KEY, LAST_KEY))
        db.set_sync_triggers(conn, False)
        conn.execute("DELETE FROM sync_outbox")


def pending(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM sync_outbox").fetchone()[0])


def _lines(conn: sqlite3.Connection, keys: list[str], seq: int, hash_projects: bool, now: float) -> list[bytes]:
    out: list[bytes] = []
    epoch = db.get_meta(conn, EPOCH_KEY) or "0"
    for key in keys:
        seq += 1
        if key.startswith(db.CAPTURE_KEY):
            row = conn.execute("SELECT window, used_pct, resets_at, captured_at, source, session_id FROM captures"
                               " WHERE id=? AND machine IS NULL", (key[len(db.CAPTURE_KEY):],)).fetchone()
            if row is None:
                continue  # pruned: a capture that is gone is no figure to share
            doc: dict[str, Any] = {"v": sync_files.FORMAT, "n": seq, "t": "capture",
                                   "id": f"{epoch}:{key[len(db.CAPTURE_KEY):]}",
                                   **dict(zip(("window", "used_pct", "resets_at", "captured_at", "source",
                                               "session"), row, strict=True))}
        else:
            row = conn.execute(f"SELECT {_ROW} FROM usage WHERE key=? AND machine IS NULL", (key,)).fetchone()
            if row is None:
                doc = {"v": sync_files.FORMAT, "n": seq, "t": "gone", "key": key}
            else:
                doc = {"v": sync_files.FORMAT, "n": seq, "t": "u", **dict(zip(_FIELDS, row, strict=True))}
                if hash_projects:
                    doc["project"] = sync_files.hash_project(doc["project"])
        out.append(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n")
    return out


def _open_for_append(path: str) -> int:
    """O_APPEND descriptor of a regular file (created 0644 if absent); never through a symlink."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SyncError(f"{path} is not a regular file")
    return fd


def _cut_torn_tail(fd: int, size: int) -> int:
    """Cut a last line without its newline (a write cut short) back to the last newline; returns the size."""
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    look = min(size, 4 * sync_files.MAX_LINE_BYTES)
    tail = os.pread(fd, look, size - look)
    cut = tail.rfind(b"\n")
    keep = 0 if cut < 0 else size - look + cut + 1
    os.ftruncate(fd, keep)
    return keep


def append(path: str, data: bytes, header: bytes) -> None:
    """Append complete lines in one write and fsync; a partial write is undone. OSError on failure."""
    created = not os.path.exists(path)
    fd = _open_for_append(path)
    try:
        size = _cut_torn_tail(fd, os.fstat(fd).st_size)
        if size == 0:
            data = header + data
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError:
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass  # the torn tail is cut by the next append; readers never take it for a record
            raise
    finally:
        os.close(fd)
    if created:
        _fsync_dir(os.path.dirname(path))


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def machine_dir(sync_dir: str, me: Machine) -> str:
    """This machine's directory in the sync dir, made if needed; SyncError when the sync dir is missing
    (an unmounted drive is not recreated empty) or cannot be written."""
    if not os.path.isdir(sync_dir):
        raise SyncError(f"sync dir {sync_dir} is missing (unmounted or moved?); records wait in the ledger")
    path = os.path.join(sync_files.root(sync_dir), me.id)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise SyncError(describe(exc, path)) from None
    return path


def owner_of(directory: str) -> dict[str, Any] | None:
    from governor.fsutil import read_regular

    try:
        doc = json.loads(read_regular(os.path.join(directory, sync_files.MACHINE_FILE), sync_files.MACHINE_FILE_BYTES))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def write_machine_file(directory: str, me: Machine, now: float, records: int) -> None:
    from governor import __version__
    from governor.fsutil import atomic_write_bytes
    from governor.meter.machine import fingerprint

    doc = {"governor": "sync", "v": sync_files.FORMAT, "id": me.id, "name": me.name,
           "governor_version": __version__, "last_export": round(now, 3), "records": records,
           "fingerprint": fingerprint()}
    atomic_write_bytes(os.path.join(directory, sync_files.MACHINE_FILE),
                       (json.dumps(doc, indent=2) + "\n").encode(), mode=0o644)


class ExportStats:
    def __init__(self) -> None:
        self.lines = 0
        self.left = 0  # rows still queued (a bounded export)
        self.path = ""

    def __repr__(self) -> str:
        return f"ExportStats({self.__dict__})"


def export(conn: sqlite3.Connection, config: dict[str, Any], me: Machine, now: float,
           limit: int | None = None) -> ExportStats:
    """Append what changed since the last export; SyncError (one line) when the sync dir cannot take it."""
    sync = config["sync"]
    directory = machine_dir(os.path.abspath(os.path.expanduser(str(sync["dir"]))), me)
    if db.get_meta(conn, ENABLED_KEY) == me.id and db.get_meta(conn, LAST_KEY) and not os.path.exists(
            os.path.join(directory, sync_files.MACHINE_FILE)):  # our files were wiped (or never arrived): all again
        with db.transaction(conn):
            conn.execute("DELETE FROM meta WHERE key=?", (ENABLED_KEY,))
    enable(conn, me.id, now)
    stats = ExportStats()
    path = sync_files.month_file(directory, now)
    stats.path = path
    header = json.dumps({"governor": "sync", "v": sync_files.FORMAT, "machine": me.id, "name": me.name,
                         "created": round(now, 3)}, separators=(",", ":")).encode() + b"\n"
    with db.transaction(conn):
        query = "SELECT key FROM sync_outbox ORDER BY key" + ("" if limit is None else f" LIMIT {int(limit)}")
        keys = [r[0] for r in conn.execute(query)]
        if keys:
            seq = max(int(db.get_meta(conn, SEQ_KEY) or 0), time.time_ns() // 1000)
            lines = _lines(conn, keys, seq, bool(sync.get("hash_projects")), now)
            if lines:
                try:
                    append(path, b"".join(lines), header)
                except OSError as exc:
                    raise SyncError(describe(exc, path)) from None
            db.set_meta(conn, SEQ_KEY, str(seq + len(keys)))
            conn.executemany("DELETE FROM sync_outbox WHERE key=?", [(k,) for k in keys])
            stats.lines = len(lines)
        db.set_meta(conn, LAST_KEY, f"{now:.3f}")
        stats.left = pending(conn) if limit is not None else 0
        beat = float(db.get_meta(conn, HEARTBEAT_KEY) or 0)
        due = limit is None or not 0 <= now - beat < HEARTBEAT_S  # a hook: the fsyncs of a rewrite are rare
        if due:
            db.set_meta(conn, HEARTBEAT_KEY, f"{now:.3f}")
    if due or not os.path.exists(os.path.join(directory, sync_files.MACHINE_FILE)):
        try:
            records = int(conn.execute("SELECT (SELECT COUNT(*) FROM usage) - (SELECT COUNT(*) FROM usage"
                                       " WHERE machine IS NOT NULL)").fetchone()[0])
            write_machine_file(directory, me, now, records)
        except OSError as exc:
            raise SyncError(describe(exc, os.path.join(directory, sync_files.MACHINE_FILE))) from None
    return stats
