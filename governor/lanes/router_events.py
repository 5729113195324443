"""The router's event log (the ledger's router_events table): one row per classified human prompt, with
the first ~60 characters of the prompt, all the ledger ever keeps of it. Apart from lanes/handoff.py (briefs
and commands) so that the prompt hook, for a prompt that stays on Claude, and the status line read and
write the log without loading the hand-off's code."""

from __future__ import annotations

from governor.fastsqlite import sqlite3

HEAD_CHARS = 60


def prompt_head(prompt: str, limit: int = HEAD_CHARS) -> str:
    """The first ~60 characters, whitespace collapsed: all the ledger ever keeps of a prompt."""
    return " ".join(prompt[: limit * 4].split())[:limit]


def record_event(conn: sqlite3.Connection, now: float, session_id: str | None, decision: str,
                 prompt: str, brief: str | None = None, reason: str = "") -> None:
    conn.execute(
        "INSERT INTO router_events(ts, session_id, decision, prompt_head, brief_path, reason)"
        " VALUES(?,?,?,?,?,?)",
        (now, session_id, decision, prompt_head(prompt), brief, reason),
    )


def latest_reason(conn: sqlite3.Connection, session_id: str | None, since: float) -> str | None:
    """For the status line: why this session's last hand-off-class prompt stayed on Claude."""
    row = conn.execute(
        "SELECT decision, reason FROM router_events WHERE session_id IS ? AND ts >= ?"
        " AND decision IN ('handoff', 'skipped') ORDER BY ts DESC, id DESC LIMIT 1",
        (session_id, since),
    ).fetchone()
    return row[1] if row and row[0] == "skipped" else None
