"""What a guard last said in a session (for hysteresis), kept in the ledger's hook_state table."""

from __future__ import annotations

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor.fastsqlite import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

PACING = "pacing"  # the band last said in a session: {"severity", "at"}, by the prompt hook or the run check


def load(conn: sqlite3.Connection, session_id: str, guard: str) -> Any:
    row = conn.execute(
        "SELECT value FROM hook_state WHERE session_id=? AND guard=?", (session_id, guard)
    ).fetchone()
    if not row or row[0] is None:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def saved_at(conn: sqlite3.Connection, session_id: str, guard: str) -> float | None:
    """When the guard last saved for this session (epoch seconds), None if never."""
    row = conn.execute(
        "SELECT updated_at FROM hook_state WHERE session_id=? AND guard=?", (session_id, guard)
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def save(conn: sqlite3.Connection, session_id: str, guard: str, value: Any, now: float) -> None:
    conn.execute(
        "INSERT INTO hook_state(session_id, guard, value, updated_at) VALUES(?,?,?,?)"
        " ON CONFLICT(session_id, guard) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
        (session_id, guard, json.dumps(value), now),
    )
