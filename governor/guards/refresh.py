"""Bring the ledger up to date from inside a hook: this session's files every time, every transcript at most
once a minute. Shared by the prompt hook and the run check, with the same budget and locking rules."""

from __future__ import annotations

import sqlite3

from governor import paths
from governor.log import log
from governor.meter import budget_state, db, ledger, official, transcript_files
from governor.policy import pacing

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

INGEST_BUSY_MS = 300  # wait this long for another writer, then go on with the ledger as it is
FULL_SCAN_SECONDS = 60  # other sessions' transcripts are re-scanned at most this often from a hook
FULL_SCAN_KEY = "claude_last_full_scan"  # meta: when this hook last read every transcript
INGEST_BUDGET_S = 2.0  # a first scan of a big corpus is spread over prompts instead of stalling one


def refresh_ledger(conn: sqlite3.Connection, config: dict[str, Any], now: float,
                   transcript_path: str | None = None, event: str = "UserPromptSubmit") -> pacing.Window | None:
    """Bring the ledger up to date: this session's files on every prompt (cost independent of the
    corpus), every transcript at most once a minute (other sessions, other projects). Returns this
    week's window for compute(), or None when the ledger was locked before it was known."""
    window = None
    try:
        official.import_claude_json(conn, now, float(config["calibration"]["claude_json_max_age_minutes"]))
        window = budget_state.current_window(conn, config, now)
        since = budget_state.ingest_horizon(config, window)
        last_full = float(db.get_meta(conn, FULL_SCAN_KEY) or 0)
        roots = paths.transcript_roots()
        only = None
        if transcript_path and 0 <= now - last_full < FULL_SCAN_SECONDS:
            only = transcript_files.session_files(transcript_path, roots)
        stats = ledger.ingest(conn, roots, since=since, parallel=False, only=only, budget_s=INGEST_BUDGET_S)
        if only is None and not stats.unfinished:  # every transcript seen: the next minute reads only this session
            with db.transaction(conn):
                db.set_meta(conn, FULL_SCAN_KEY, f"{now:.3f}")
        if stats.unfinished:
            log(f"{event}: ledger warming up, {stats.unfinished} transcript(s) left for the next prompts")
        if (config.get("sync") or {}).get("dir"):  # other machines' records in, this one's out, throttled
            from governor.meter import sync

            sync.tick(conn, config, now)
    except sqlite3.OperationalError as exc:  # locked by a long ingest elsewhere: use what is there
        log(f"{event}: ledger update skipped: {exc}")
    return window
