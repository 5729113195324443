"""Codex's rate-limit readings as the ledger mirrors them (codex_limits table): the one reader behind the
router's "Codex is hot", the Codex-side nudge, the status line and `governor status`.

Light on purpose (sqlite3 only): the status line and the hooks import it, not codex_ingest."""

from __future__ import annotations

from governor.fastsqlite import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

ACCOUNT = "codex"  # the account-wide limit_id; others are per-model limits
_COLUMNS = "used_pct, window_minutes, resets_at, observed_at"


def reading(row: tuple[Any, ...], now: float) -> dict[str, Any]:
    """One window's last reading (used_pct, window_minutes, resets_at, observed_at) as of `now`: a reading
    whose resets_at has passed belongs to a window that has since reset, so its used_pct is unknown; one
    whose resets_at is implausibly far (see _implausible) is not current either."""
    used, minutes, resets_at, observed_at = row
    stale = resets_at is not None and (resets_at <= now or _implausible(resets_at, observed_at, minutes))
    return {"used_pct": None if stale else used, "last_used_pct": used, "stale": stale,
            "window_minutes": minutes, "resets_at": resets_at,
            "resets_in_s": None if stale or resets_at is None else resets_at - now,
            "observed_at": observed_at, "age_s": now - observed_at}


def _implausible(resets_at: float, observed_at: float, minutes: int | None) -> bool:
    """A reset further from its reading than twice its window (a month when the window is not given), e.g.
    years away: a reading Codex did not mean as current (a bad clock, a placeholder)."""
    window_s = (minutes or 0) * 60 or 31 * 86400
    return resets_at - observed_at > 2 * window_s


def account_window(conn: sqlite3.Connection, window: str, now: float) -> dict[str, Any] | None:
    """The account-wide `window` ('weekly', 'five_hour') reading as of `now`, None when never read."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM codex_limits WHERE limit_id = ? AND window = ?",
                       (ACCOUNT, window)).fetchone()
    return reading(tuple(row), now) if row else None


def weekly_used(conn: sqlite3.Connection, now: float) -> tuple[float, float | None] | None:
    """(used fraction, resets_at) of Codex's account-wide weekly window; None when unknown or reset since.
    codex_limits.used_pct is Codex's `used_percent` (0-100)."""
    weekly = account_window(conn, "weekly", now)
    if weekly is None or weekly["used_pct"] is None:
        return None
    return float(weekly["used_pct"]) / 100.0, weekly["resets_at"]
