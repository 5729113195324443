"""Merge the other machines' exports (sync_files) into the ledger, incrementally, keeping each record's machine.

Each file has a cursor like a transcript's (device, inode, byte offset): only complete lines are read (a
torn last line waits for its end), a replaced file (sync engines write a new inode) or a shorter one is
read again from the start. Reading again changes nothing: a transcript record merges by the ledger's own
rule (one row per response key, the better row's tokens, the earliest time), so the same response seen
by two machines (a synced transcript tree) or in a conflict copy counts once; a replaceable record
(Claude Code's own-account records, their removal, captures) applies only when its sequence number is
newer than the last one applied from that machine. A foreign record never overwrites this machine's own.
A record timed ahead of this machine's clock is timed now: clock skew moves a record by at most the skew.
"""

from __future__ import annotations

import math
import os
import time

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor.fastsqlite import sqlite3
from governor.log import log
from governor.meter import db, sync_files, tail
from governor.meter.machine import Machine

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

KIND = "sync"
META_KIND = "sync-machine"
HOOK_READ_BYTES = 8 * 1024 * 1024  # what one merge from a hook reads of one file; the next call goes on
_SOURCES = ("transcript", "client-account")
_INT_FIELDS = ("input", "output", "cache_creation", "cache_read", "sidechain", "web_search")
_MAX_TOKENS = 10**12


def _upsert() -> str:
    from governor.meter.ledger import UPSERT

    return ("INSERT INTO usage(key, ts, session_id, project, model, input, output, cache_creation, cache_read,"
            " cache_5m, cache_1h, sidechain, web_search, source, machine) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            + UPSERT[UPSERT.index(" ON CONFLICT(key)"):])


_REPLACE = (
    "INSERT INTO usage(key, ts, session_id, project, model, input, output, cache_creation, cache_read,"
    " cache_5m, cache_1h, sidechain, web_search, source, machine) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(key) DO UPDATE SET ts=excluded.ts, session_id=excluded.session_id, project=excluded.project,"
    " model=excluded.model, input=excluded.input, output=excluded.output, cache_creation=excluded.cache_creation,"
    " cache_read=excluded.cache_read, cache_5m=excluded.cache_5m, cache_1h=excluded.cache_1h,"
    " sidechain=excluded.sidechain, web_search=excluded.web_search, source=excluded.source"
    " WHERE usage.machine = excluded.machine"
)
_CAPTURE = (
    "INSERT INTO captures(window, used_pct, resets_at, captured_at, source, session_id, machine, sync_key)"
    " VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(sync_key) WHERE sync_key IS NOT NULL DO UPDATE SET"
    " used_pct=excluded.used_pct, resets_at=excluded.resets_at, captured_at=excluded.captured_at,"
    " source=excluded.source, session_id=excluded.session_id"
)


class Malformed(ValueError):
    pass


class Newer(ValueError):
    pass


class MergeStats:
    def __init__(self) -> None:
        self.files_seen = self.files_read = self.records = self.bad_lines = self.unfinished = 0
        self.conflict_copies = 0
        self.foreign: list[str] = []  # files that are not a governor export
        self.newer: list[str] = []  # files (or lines) in a format newer than this governor reads
        self.machines: set[str] = set()

    def __repr__(self) -> str:
        return f"MergeStats({self.__dict__})"


def _str(doc: dict[str, Any], key: str, limit: int, required: bool = False) -> str | None:
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise Malformed(key)
    return value


def _num(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Malformed(key)
    return float(value)


def _count(value: Any, key: str, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_TOKENS:
        raise Malformed(key)
    return value


def parse_line(line: bytes) -> dict[str, Any]:
    """One record line, checked field by field (Malformed, or Newer for a later format)."""
    try:
        doc = json.loads(line)
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(doc, dict):
        raise Malformed("not an object")
    version = doc.get("v")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise Malformed("v")
    if version > sync_files.FORMAT:
        raise Newer(str(version))
    seq = doc.get("n")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63:
        raise Malformed("n")
    kind = doc.get("t")
    if kind == "u":
        _str(doc, "key", 512, required=True)
        doc["ts"] = _num(doc.get("ts"), "ts")
        for key, limit in (("session_id", 256), ("project", 4096), ("model", 256)):
            _str(doc, key, limit)
        for key in _INT_FIELDS:
            _count(doc.get(key), key)
        for key in ("cache_5m", "cache_1h"):
            _count(doc.get(key), key, optional=True)
        if doc.get("source") not in _SOURCES:
            raise Malformed("source")
    elif kind == "gone":
        _str(doc, "key", 512, required=True)
    elif kind == "capture":
        from governor.policy.calibrate import valid_used_pct

        _str(doc, "id", 128, required=True)
        _str(doc, "window", 64, required=True)
        _str(doc, "source", 64, required=True)
        _str(doc, "session", 256)
        pct = valid_used_pct(doc.get("used_pct"))
        if pct is None:
            raise Malformed("used_pct")
        doc["used_pct"] = pct
        doc["captured_at"] = _num(doc.get("captured_at"), "captured_at")
        if doc.get("resets_at") is not None:
            doc["resets_at"] = _num(doc.get("resets_at"), "resets_at")
    else:
        raise Malformed("t")
    return doc


def _header(line: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("governor") != "sync" or isinstance(doc.get("v"), bool) \
            or not isinstance(doc.get("v"), int):
        return None
    return doc


def _newer_than_applied(conn: sqlite3.Connection, key: str, machine: str, seq: int) -> bool:
    """Record `seq` for a replaceable key of `machine` when it is newer than the last applied; a key another
    machine's replaceable record already holds stays theirs."""
    row = conn.execute("SELECT machine, seq FROM sync_versions WHERE key=?", (key,)).fetchone()
    if row is not None and (row[0] != machine or row[1] >= seq):
        return False
    conn.execute("INSERT INTO sync_versions(key, machine, seq) VALUES(?,?,?) ON CONFLICT(key) DO UPDATE SET"
                 " seq=excluded.seq", (key, machine, seq))
    return True


def apply(conn: sqlite3.Connection, docs: list[dict[str, Any]], machine: str, now: float, upsert: str) -> None:
    """Inside a write transaction: the parsed records of one machine, in file order."""
    for doc in docs:
        kind, seq = doc["t"], doc["n"]
        if kind == "capture":
            key = f"{machine}:{doc['id']}"
            if _newer_than_applied(conn, "capture\t" + key, machine, seq):
                conn.execute(_CAPTURE, (doc["window"], doc["used_pct"], doc.get("resets_at"),
                                        min(doc["captured_at"], now), doc["source"], doc.get("session"), machine,
                                        key))
            continue
        if kind == "gone":
            if _newer_than_applied(conn, doc["key"], machine, seq):
                conn.execute("DELETE FROM usage WHERE key=? AND machine=?", (doc["key"], machine))
            continue
        row = (doc["key"], min(doc["ts"], now), doc.get("session_id"), doc.get("project"), doc.get("model"),
               doc["input"], doc["output"], doc["cache_creation"], doc["cache_read"], doc.get("cache_5m"),
               doc.get("cache_1h"), doc["sidechain"], doc["web_search"], doc["source"], machine)
        if doc["source"] == "transcript":
            conn.execute(upsert, row)
            continue
        own = conn.execute("SELECT machine FROM usage WHERE key=?", (doc["key"],)).fetchone()
        if own is not None and own[0] is None:
            continue  # this machine computes its own account of a session it also has
        if _newer_than_applied(conn, doc["key"], machine, seq):
            conn.execute(_REPLACE, row)


def discover(sync_dir: str, me: Machine, stats: MergeStats) -> list[tuple[str, str, os.stat_result]]:
    """(path, machine id, stat) of every other machine's export file, conflict copies included."""
    found: list[tuple[str, str, os.stat_result]] = []
    base = sync_files.root(sync_dir)
    try:
        machines = sorted(e.name for e in os.scandir(base) if sync_files.is_machine_id(e.name)
                          and e.name != me.id and e.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return found
    for machine in machines:
        directory = os.path.join(base, machine)
        stats.machines.add(machine)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not sync_files.is_export_file(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            import stat as stat_mod

            if stat_mod.S_ISREG(st.st_mode):
                found.append((entry.path, machine, st))
                stats.conflict_copies += sync_files.is_conflict_copy(entry.name)
    return found


def _read(path: str, start: int, limit: int | None) -> tuple[list[tuple[bytes, int]], int, int]:
    """([(complete line, offset past it)], offset past the last, over-long lines skipped) from `start`."""
    blocks = tail.Blocks(path, start, max_line=sync_files.MAX_LINE_BYTES, limit=limit)
    lines: list[tuple[bytes, int]] = []
    offset = start
    for block, end in blocks:
        at = end - len(block)
        for line in block.splitlines(keepends=True):
            at += len(line)
            lines.append((line, at))
        offset = end
    return lines, offset, blocks.overlong


def _machine_files(conn: sqlite3.Connection, sync_dir: str, machines: set[str], now: float) -> None:
    """Names and last exports of the other machines, from their machine.json when it changed (a stat)."""
    base = sync_files.root(sync_dir)
    for machine in sorted(machines):
        path = os.path.join(base, machine, sync_files.MACHINE_FILE)
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            continue
        cursor = tail.load_cursor(conn, path)
        if cursor and (cursor.ino, cursor.size, cursor.mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns):
            continue
        from governor.fsutil import read_regular

        try:
            doc = json.loads(read_regular(path, sync_files.MACHINE_FILE_BYTES))
        except (OSError, ValueError):
            doc = None
        with db.transaction(conn):
            if isinstance(doc, dict):
                name = doc.get("name") if isinstance(doc.get("name"), str) else None
                last = doc.get("last_export")
                last_export = float(last) if isinstance(last, int | float) and math.isfinite(last) else None
                version = doc.get("v") if isinstance(doc.get("v"), int) else None
                conn.execute(
                    "INSERT INTO sync_machines(id, name, last_export, version, updated_at) VALUES(?,?,?,?,?)"
                    " ON CONFLICT(id) DO UPDATE SET name=excluded.name, last_export=excluded.last_export,"
                    " version=excluded.version, updated_at=excluded.updated_at",
                    (machine, (name or "")[:128] or None, last_export, version, now))
            tail.save_cursor(conn, path, META_KIND, tail.Cursor(st.st_dev, st.st_ino, st.st_size, st.st_size,
                                                                st.st_mtime_ns), 0, now)


def merge(conn: sqlite3.Connection, sync_dir: str, me: Machine, now: float | None = None,
          read_limit: int | None = None, budget_s: float | None = None) -> MergeStats:
    """Read what the other machines appended since the last merge. Each file's records and cursor commit
    together; with `budget_s` (a hook) it stops after that long and the next call goes on."""
    now = time.time() if now is None else now
    stats = MergeStats()
    found = discover(sync_dir, me, stats)
    stats.files_seen = len(found)
    _machine_files(conn, sync_dir, stats.machines, now)
    cursors = tail.load_cursors(conn, KIND)
    deadline = None if budget_s is None else time.monotonic() + budget_s
    upsert = None
    for path, machine, st in found:
        cursor = cursors.get(path)
        start = tail.start_offset(st, cursor)
        if start is None:
            continue
        if cursor is not None and cursor.state and (cursor.dev, cursor.ino, cursor.size, cursor.mtime_ns) == (
                st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
            continue  # judged foreign or newer, and unchanged since
        if cursor is not None and cursor.state == "foreign" and start != 0:
            continue
        try:
            lines, end, overlong = _read(path, start, read_limit)
        except OSError as exc:
            log(f"sync: cannot read {path}: {exc}")
            continue
        if not lines:
            continue
        state: str | None = None
        if start == 0:
            head = _header(lines[0][0])
            if head is None:
                state = "foreign"
            elif head["v"] > sync_files.FORMAT:
                state, end = f"newer:{head['v']}", 0  # an upgraded governor reads it whole
            lines = lines[1:]
        docs: list[dict[str, Any]] = []
        bad = overlong
        if state is None:
            at = start
            for line, past in lines:
                if line.strip():
                    try:
                        docs.append(parse_line(line))
                    except Newer as exc:  # stop before it: an upgraded governor reads on from here
                        state, end = f"newer:{exc}", at
                        break
                    except Malformed:
                        bad += 1
                at = past
        if state == "foreign":
            stats.foreign.append(path)
        elif state is not None:
            stats.newer.append(path)
        if upsert is None:
            upsert = _upsert()
        with db.transaction(conn):
            current = tail.load_cursor(conn, path)
            if current and (current.dev, current.ino) == (st.st_dev, st.st_ino) and current.offset > end:
                continue  # a concurrent merge got further: it applied these lines
            apply(conn, docs, machine, now, upsert)
            tail.save_cursor(conn, path, KIND, tail.Cursor(st.st_dev, st.st_ino, end, st.st_size, st.st_mtime_ns,
                                                           state), bad, now)
        stats.files_read += 1
        stats.records += len(docs)
        stats.bad_lines += bad
        if bad:
            log(f"sync: skipped {bad} malformed line(s) in {path}")
        if deadline is not None and time.monotonic() > deadline:
            stats.unfinished = 1
            break
    if stats.foreign or stats.newer:
        _log_once(conn, stats)
    return stats


def _log_once(conn: sqlite3.Connection, stats: MergeStats) -> None:
    message = ""
    if stats.foreign:
        message += f"sync: {len(stats.foreign)} file(s) in the sync dir are not governor exports, skipped: " \
                   f"{stats.foreign[0]}"
    if stats.newer:
        message += (" " if message else "") + f"sync: {len(stats.newer)} file(s) written by a newer governor" \
                   f" wait for an upgrade: {stats.newer[0]}"
    if db.get_meta(conn, "sync_skipped") != message:
        log(message)
        try:
            with db.transaction(conn):
                db.set_meta(conn, "sync_skipped", message)
        except sqlite3.Error:
            pass
