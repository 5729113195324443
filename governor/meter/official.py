"""Official usage figures: captures from the status line's `rate_limits`, Claude Code's cached
`/usage` numbers in .claude.json (read, never written) and manual `governor calibrate` entries.

A capture whose value is unchanged only refreshes its time, so the table holds one row per change.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from typing import Any

from governor import paths
from governor.meter import db
from governor.policy.calibrate import Capture, valid_used_pct

COLUMNS = "window, used_pct, resets_at, captured_at, source, session_id"
MAX_CYCLE_CAPTURES = 24  # enough points for the fit, bounded work in a hook


def record(conn: sqlite3.Connection, capture: Capture) -> bool:
    """Store a capture (used_pct already validated). Returns True if stored or refreshed."""
    last = conn.execute(
        "SELECT id, used_pct, resets_at, captured_at FROM captures WHERE window=? ORDER BY captured_at DESC LIMIT 1",
        (capture.window,),
    ).fetchone()
    if last and last[3] > capture.captured_at:
        if conn.execute(
            "SELECT 1 FROM captures WHERE window=? AND captured_at=? AND used_pct=?",
            (capture.window, capture.captured_at, capture.used_pct),
        ).fetchone():
            return False
    if (
        last
        and last[1] == capture.used_pct
        and _same_reset(last[2], capture.resets_at)
        and last[3] <= capture.captured_at
    ):
        conn.execute(
            "UPDATE captures SET captured_at=?, source=?, session_id=? WHERE id=?",
            (capture.captured_at, capture.source, capture.session, last[0]),
        )
        return True
    conn.execute(
        f"INSERT INTO captures({COLUMNS}) VALUES(?,?,?,?,?,?)",
        (
            capture.window,
            capture.used_pct,
            capture.resets_at,
            capture.captured_at,
            capture.source,
            capture.session,
        ),
    )
    return True


def _same_reset(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 120)


def from_window(
    name: str, window: Any, captured_at: float, source: str, session: str | None, scale: float = 1.0
) -> Capture | None:
    """A Capture from {used_percentage|utilization, resets_at}; None when absent, impossible or stale."""
    if not isinstance(window, dict):
        return None
    raw = window.get("used_percentage", window.get("utilization"))
    used = valid_used_pct(raw * scale if isinstance(raw, (int, float)) and not isinstance(raw, bool) else raw)
    if used is None:
        return None
    resets_at = _epoch(window.get("resets_at"))
    if resets_at is not None and resets_at <= captured_at:
        return None  # the window already reset: this figure describes a finished cycle
    return Capture(name, used, resets_at, captured_at, source, session)


def _epoch(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) / (1000.0 if value > 1e11 else 1.0)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def record_rate_limits(
    conn: sqlite3.Connection, rate_limits: Any, now: float, session: str | None, source: str = "statusline"
) -> list[Capture]:
    """Captures from the status line's `rate_limits` object (0-100 scale, epoch-second resets)."""
    if not isinstance(rate_limits, dict):
        return []
    captured = []
    for name, window in rate_limits.items():
        capture = from_window(str(name), window, now, source, session)
        if capture is not None and record(conn, capture):
            captured.append(capture)
    return captured


def import_claude_json(conn: sqlite3.Connection, now: float, max_age_minutes: float) -> list[Capture]:
    """Read `cachedUsageUtilization` from .claude.json when the file changed since the last look and the
    figure is fresh. Cheap when unchanged: one stat."""
    path = paths.claude_json_path()
    try:
        st = os.stat(path)
    except OSError:
        return []
    signature = f"{st.st_mtime_ns}:{st.st_size}"
    if db.get_meta(conn, "claude_json_signature") == signature:
        return []
    db.set_meta(conn, "claude_json_signature", signature)
    try:
        with open(path, encoding="utf-8") as fh:
            cached = json.load(fh).get("cachedUsageUtilization")
        fetched = float(cached["fetchedAtMs"]) / 1000.0
        utilization = cached["utilization"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []
    if not isinstance(utilization, dict) or now - fetched > max_age_minutes * 60 or fetched > now + 300:
        return []
    captured = []
    for name, window in utilization.items():
        capture = from_window(str(name), window, fetched, "claude.json", None)
        if capture is not None and record(conn, capture):
            captured.append(capture)
    return captured


def _capture(row: tuple[Any, ...]) -> Capture:
    return Capture(row[0], row[1], row[2], row[3], row[4], row[5])


def latest(conn: sqlite3.Connection, window: str, now: float) -> Capture | None:
    """The newest capture of `window` whose cycle has not reset yet."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM captures WHERE window=? AND (resets_at IS NULL OR resets_at > ?)"
        " ORDER BY captured_at DESC LIMIT 1",
        (window, now),
    ).fetchone()
    return _capture(row) if row else None


def cycle_captures(conn: sqlite3.Connection, window: str, start: float, now: float) -> list[Capture]:
    """This cycle's captures of `window` (oldest first, at most MAX_CYCLE_CAPTURES, newest kept)."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM captures WHERE window=? AND captured_at >= ? AND captured_at <= ?"
        " AND (resets_at IS NULL OR resets_at > ?) ORDER BY captured_at DESC LIMIT ?",
        (window, start, now + 60, now, MAX_CYCLE_CAPTURES),
    ).fetchall()
    return [_capture(r) for r in reversed(rows)]
