"""Bring the ledger up to date from inside a hook: this session's files every time, every transcript at most
once a minute (after the reply, where the platform allows). Shared by the prompt hook and the run check,
with the same budget and locking rules."""

from __future__ import annotations

from governor import paths
from governor.fastsqlite import sqlite3
from governor.guards import background_scan
from governor.guards.ledger_scan import full_scan_due, scan
from governor.log import log
from governor.meter import budget_state, official, transcript_files
from governor.policy import pacing

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

INGEST_BUSY_MS = 300  # wait this long for another writer, then go on with the ledger as it is


def refresh_ledger(conn: sqlite3.Connection, config: dict[str, Any], now: float,
                   transcript_path: str | None = None, event: str = "UserPromptSubmit") -> pacing.Window | None:
    """Bring the ledger up to date: this session's files on every prompt (cost independent of the
    corpus), every transcript at most once a minute (other sessions, other projects): after the reply, in
    a detached process, where the platform allows (guards.background_scan). Returns this week's window for
    compute(), or None when the ledger was locked before it was known."""
    window = None
    try:
        official.import_claude_json(conn, now, float(config["calibration"]["claude_json_max_age_minutes"]))
        window = budget_state.current_window(conn, config, now)
        only = None
        if transcript_path:  # a hook for a session: its own files now, the others after the reply or inline
            due = full_scan_due(conn, now)
            if due and background_scan.deferrable():
                background_scan.after_reply(event)
                due = False
            if not due:
                only = transcript_files.session_files(transcript_path, paths.transcript_roots())
        scan(conn, config, now, only, event, window)
        if (config.get("sync") or {}).get("dir"):  # other machines' records in, this one's out, throttled
            from governor.meter import sync

            sync.tick(conn, config, now)
    except sqlite3.OperationalError as exc:  # locked by a long ingest elsewhere: use what is there
        log(f"{event}: ledger update skipped: {exc}")
    return window
