"""Doctor's ledger checks: the SQLite file's health and the freshness of official captures.

The ledger is opened read-only (doctor never creates or migrates it). `ledger_details` is the place
to add more ledger facts; it tolerates tables and columns that do not exist yet.
"""

from __future__ import annotations

import json
import os
import time

from governor import paths
from governor.fastsqlite import sqlite3
from governor.meter import db
from governor.reports.doctor_checks import Check


def _ago(ts: float) -> str:
    age = max(0.0, time.time() - ts)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if age >= size:
            return f"{age / size:.1f} {unit} ago"
    return f"{age:.0f} s ago"


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
    conn.execute("PRAGMA busy_timeout=2000")
    return conn


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def ledger_details(conn: sqlite3.Connection) -> list[str]:
    """Extra facts for the ledger line: last update and malformed lines skipped (when recorded)."""
    facts = []
    cols = _columns(conn, "files")
    if "updated_at" in cols:
        (last,) = conn.execute("SELECT MAX(updated_at) FROM files").fetchone()
        facts.append(f"last update {_ago(float(last))}" if last else "never updated")
    if "bad_lines" in cols:
        (bad,) = conn.execute("SELECT COALESCE(SUM(bad_lines), 0) FROM files").fetchone()
        facts.append(f"{int(bad)} malformed lines skipped")
    if "ts" in _columns(conn, "usage"):
        (rows,) = conn.execute("SELECT COUNT(*) FROM usage").fetchone()
        facts.append(f"{rows} usage rows")
    return facts


def check_ledger() -> Check:
    path = paths.ledger_path()
    if not os.path.exists(path):
        return Check("ledger", "info", f"not built yet ({path}); the first hook or report builds it")
    size = os.path.getsize(path) / 1e6
    try:
        conn = _connect(path)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            facts = ledger_details(conn) if verdict == "ok" else []
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if db.is_corrupt(exc):
            return _set_aside(path, size, str(exc))
        return Check("ledger", "fail", f"{path} ({size:.1f} MB) cannot be read: {exc}; "
                                       "delete it and it is rebuilt from the transcripts")
    if verdict != "ok":
        return _set_aside(path, size, f"quick_check: {' '.join(str(verdict).split())[:200]}")
    return Check("ledger", "ok", ", ".join([f"{path} ({size:.1f} MB)", "quick_check ok", *facts]))


def _set_aside(path: str, size: float, reason: str) -> Check:
    """A corrupt ledger: moved aside and salvaged into a new one now, as any command would on meeting it."""
    from governor.meter import salvage

    db.quarantine(sqlite3.DatabaseError(f"database disk image is malformed ({reason})"), path)
    try:
        salvage.connect(path).close()
    except sqlite3.Error as exc:
        return Check("ledger", "fail", f"{path} ({size:.1f} MB) was corrupt ({reason}) and set aside, but the"
                                       f" new ledger cannot be opened: {exc}")
    return Check("ledger", "info", f"{path} was corrupt ({reason}): set aside and salvaged (see ledger recovery)")


def check_recovery() -> Check | None:
    """The last time a corrupt ledger was set aside and salvaged (meta `last_recovery`), if ever. A ledger
    set aside by a hook and not yet salvaged is salvaged here, as the next report would."""
    path = paths.ledger_path()
    if db.pending_salvage(path):
        from governor.meter import salvage

        try:
            salvage.connect(path).close()
        except sqlite3.Error as exc:
            return Check("ledger recovery", "fail", f"a corrupt ledger waits to be salvaged: {exc}")
    if not os.path.exists(path):
        return None
    try:
        conn = _connect(path)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='last_recovery'").fetchone()
        finally:
            conn.close()
        record = json.loads(row[0]) if row else None
    except (sqlite3.Error, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("at"), (int, float)):
        return None
    return Check("ledger recovery", "info", f"{_ago(float(record['at']))}: {record.get('summary', '')}")


def check_captures() -> Check:
    """Official figures captured by the status line (the `captures` table), newest first."""
    path = paths.ledger_path()
    if not os.path.exists(path):
        return Check("official capture", "info", "none yet (the status line captures /usage figures)")
    try:
        conn = _connect(path)
        try:
            if "captured_at" not in _columns(conn, "captures"):
                return Check("official capture", "info", "no captures table yet")
            row = conn.execute("SELECT window, used_pct, captured_at FROM captures "
                               "ORDER BY captured_at DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return Check("official capture", "fail", f"cannot read captures: {exc}")
    if not row:
        return Check("official capture", "info", "none yet (the status line records them on subscriber "
                                                 "accounts once Claude Code has answered)")
    window, pct, captured = row
    return Check("official capture", "ok", f"latest {_ago(float(captured))}: {window} {float(pct):.0f} %")
