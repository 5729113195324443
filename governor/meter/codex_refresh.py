"""Keep the Codex mirror current where its readings decide something (the router's "Codex is hot", the
Codex-side nudge, the status line), with the Claude ledger's budget rules (guards/refresh.py): every
rollout at most once a minute, in between only the ones that can be changing, and nothing parsed, no
write lock taken, no parser imported when no rollout has bytes past its cursor.

Light on purpose (os, sqlite3, tail): codex_ingest and the parser are imported only when there is
something to read.
"""

from __future__ import annotations

import os
import time

from governor import paths
from governor.fastsqlite import sqlite3
from governor.log import log
from governor.meter import db, tail
from governor.meter.codex_files import discover

FULL_SCAN_SECONDS = 60  # every rollout is looked at (os.walk + a stat each) at most this often
FULL_SCAN_KEY = "codex_last_full_scan"  # meta: when a hot path last looked at every rollout
RECENT_S = 86400.0  # in between, rollouts written to within a day (and today's / yesterday's folders)
HORIZON_S = 8 * 86400.0  # never-read rollouts untouched for longer are left to the CLI (a week's window)
HOOK_READ_BYTES = 32 * 1024 * 1024  # bytes of one rollout read per call; the next call goes on


def _recent(conn: sqlite3.Connection, home: str, now: float, transcript_path: object) -> list[str]:
    """The rollouts that can be changing: read within RECENT_S (by the mtime their cursor saw), the files
    in today's and yesterday's sessions/ folders (named in local time, codex.md 2.1), and the hook's own
    rollout when it lies under $CODEX_HOME."""
    found = {row[0] for row in conn.execute("SELECT path FROM files WHERE kind = 'codex' AND mtime_ns >= ?",
                                            (int((now - RECENT_S) * 1e9),))}
    for day in {time.strftime("%Y/%m/%d", time.localtime(now - d)) for d in (0.0, RECENT_S)}:
        folder = os.path.join(home, "sessions", day)
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found.update(os.path.join(folder, n) for n in names if n.startswith("rollout-") and n.endswith(".jsonl"))
    if isinstance(transcript_path, str) and transcript_path.endswith(".jsonl"):
        real = os.path.realpath(transcript_path)
        if real.startswith(os.path.realpath(home) + os.sep):
            found.add(transcript_path)
    return sorted(found)


def pending(conn: sqlite3.Connection, candidates: list[str], since: float) -> list[str]:
    """The candidates with bytes past their cursor (or never read and touched since `since`): a stat each."""
    out = []
    cursors = tail.load_cursors(conn, "codex") if len(candidates) > 32 else None  # a full scan: one query
    for path in candidates:
        try:
            st = os.stat(path)
        except OSError:
            continue
        cursor = cursors.get(path) if cursors is not None else tail.load_cursor(conn, path)
        if not tail.too_old(st, cursor, since) and tail.start_offset(st, cursor) is not None:
            out.append(path)
    return out


def refresh(conn: sqlite3.Connection, now: float, transcript_path: object = None, event: str = "codex",
            read_bytes: int = HOOK_READ_BYTES) -> None:
    """Bring the Codex mirror up to date for a decision made now; a busy ledger or an unreadable folder
    leaves it as it is (logged), never raises for those."""
    home = paths.codex_home()
    try:
        last_full = float(db.get_meta(conn, FULL_SCAN_KEY) or 0)
        full = not 0 <= now - last_full < FULL_SCAN_SECONDS
        candidates = discover(home) if full else _recent(conn, home, now, transcript_path)
        changed = pending(conn, candidates, now - HORIZON_S)
        if changed:
            from governor.meter import codex_ingest

            codex_ingest.ingest_codex(conn, now, home, since=now - HORIZON_S, only=changed, limit=read_bytes)
        if full:
            with db.transaction(conn):
                db.set_meta(conn, FULL_SCAN_KEY, f"{now:.3f}")
    except sqlite3.OperationalError as exc:  # locked by a long ingest elsewhere: decide on what is there
        log(f"{event}: Codex mirror update skipped: {exc}")
