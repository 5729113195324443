"""Doctor's ledger checks: the SQLite file's health and the freshness of official captures.

The ledger is opened read-only (doctor never creates or migrates it). `ledger_details` is the place
to add more ledger facts; it tolerates tables and columns that do not exist yet.
"""

from __future__ import annotations

import os
import sqlite3
import time

from governor import paths
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
        return Check("ledger", "fail", f"{path} ({size:.1f} MB) cannot be read: {exc}; "
                                       "delete it and it is rebuilt from the transcripts")
    if verdict != "ok":
        return Check("ledger", "fail", f"{path} ({size:.1f} MB) quick_check: {verdict}; delete it to rebuild")
    return Check("ledger", "ok", ", ".join([f"{path} ({size:.1f} MB)", "quick_check ok", *facts]))


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
