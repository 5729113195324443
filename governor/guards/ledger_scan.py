"""Reading transcripts into the ledger for a hook: one session's files, or every transcript with the full
scan's stamp (which says when the once-a-minute scan last ran). Used inline by guards.refresh and by the
detached scan of guards.background_scan."""

from __future__ import annotations

from governor import paths
from governor.fastsqlite import sqlite3
from governor.log import log
from governor.meter import budget_state, db, ledger
from governor.policy import pacing

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

    from governor.meter.transcript_files import Found

FULL_SCAN_SECONDS = 60  # other sessions' transcripts are re-scanned at most this often from a hook
FULL_SCAN_KEY = "claude_last_full_scan"  # meta: when this hook last read every transcript
INGEST_BUDGET_S = 2.0  # a first scan of a big corpus is spread over prompts instead of stalling one


def full_scan_due(conn: sqlite3.Connection, now: float) -> bool:
    """No full scan within the last minute (a stamp in the future, from a clock set back, is no scan)."""
    last_full = float(db.get_meta(conn, FULL_SCAN_KEY) or 0)
    return not 0 <= now - last_full < FULL_SCAN_SECONDS


def scan(conn: sqlite3.Connection, config: dict[str, Any], now: float, only: list[Found] | None, event: str,
         window: pacing.Window | None = None) -> int:
    """Ingest `only` these files, or every transcript (then stamp the full scan once nothing is left).
    Returns how many transcripts the time budget left unread."""
    window = window or budget_state.current_window(conn, config, now)
    since = budget_state.ingest_horizon(config, window)
    stats = ledger.ingest(conn, paths.transcript_roots(), since=since, parallel=False, only=only,
                          budget_s=INGEST_BUDGET_S)
    if only is None and not stats.unfinished:  # every transcript seen: the next minute reads only sessions
        with db.transaction(conn):
            db.set_meta(conn, FULL_SCAN_KEY, f"{now:.3f}")
    if stats.unfinished:
        log(f"{event}: ledger warming up, {stats.unfinished} transcript(s) left for the next scans")
    return stats.unfinished
