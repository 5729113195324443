"""The projection's own audit, kept in the ledger: what the weekly projection said 72 h, 24 h and 6 h before
each reset, and once the reset has passed, where the cycle ended (official when captured, else local).

Nothing here runs in a hook: `governor status` (and `governor backtest`) call update(). A lead moment it
reaches within the hour is recorded live (the projection status shows then); one it reaches later is
replayed, as budget_state.compute() sees that moment from the ledger (responses before it, captures up
to it), and marked so. The final figure is the cycle's spent fraction a second before its reset.
"""

from __future__ import annotations

from typing import Any

from governor.fastdatetime import timedelta
from governor.fastsqlite import sqlite3
from governor.meter import budget_state, db
from governor.policy import pacing
from governor.policy import projection_audit as audit

CYCLES = 8  # past cycles kept up to date and summarised
_SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_audit(
    reset REAL NOT NULL, lead_h INTEGER NOT NULL,
    projected REAL NOT NULL, spent REAL NOT NULL, model TEXT NOT NULL,
    at REAL NOT NULL, how TEXT NOT NULL,          -- 'live' | 'replay'
    final REAL, final_source TEXT,                -- once the reset has passed
    PRIMARY KEY(reset, lead_h)
)
"""


def _ensure(conn: sqlite3.Connection) -> None:
    conn.execute(_SCHEMA)


def _windows(current: pacing.Window, cycles: int) -> list[pacing.Window]:
    """This cycle and the `cycles` before it: the current window moved back by whole weeks."""
    week = timedelta(days=7)
    return [pacing.Window(current.start - week * k, current.reset - week * k, current.source)
            for k in range(cycles + 1)]


def update(conn: sqlite3.Connection, config: dict[str, Any], now: float,
           state: budget_state.BudgetState | None = None) -> None:
    """Record the lead moments that have come and finalise the cycles that have reset (idempotent)."""
    _ensure(conn)
    first = conn.execute("SELECT MIN(ts) FROM usage").fetchone()[0]
    if first is None:
        return
    current = state.window if state is not None else budget_state.current_window(conn, config, now)
    with db.transaction(conn):
        for window in _windows(current, CYCLES):
            reset = float(round(window.reset.timestamp()))  # the key: whole seconds
            if window.start.timestamp() < float(first):  # the ledger does not cover the cycle: no audit
                continue
            have = {r[0] for r in conn.execute("SELECT lead_h FROM projection_audit WHERE reset=?", (reset,))}
            for lead in audit.due_leads(reset, now, have):
                moment = audit.lead_moment(reset, lead)
                live = state is not None and window == current and audit.is_live(reset, lead, now)
                seen = state if live and state is not None else budget_state.compute(conn, config, moment, window)
                conn.execute("INSERT INTO projection_audit VALUES(?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                             (reset, lead, seen.projected, seen.spent.fraction, seen.projection_model,
                              now if live else moment, "live" if live else "replay"))
            if reset <= now and conn.execute("SELECT 1 FROM projection_audit WHERE reset=? AND final IS NULL",
                                             (reset,)).fetchone():
                end = budget_state.compute(conn, config, window.reset.timestamp() - 1, window)
                conn.execute("UPDATE projection_audit SET final=?, final_source=? WHERE reset=? AND final IS NULL",
                             (end.spent.fraction, end.spent.source, reset))


def summary(conn: sqlite3.Connection, current: pacing.Window, cycles: int = CYCLES) -> dict[str, Any]:
    """`projection_audit` of `governor status --json`: MAE per lead over the last finalised cycles of the
    current reset schedule (a reset whole weeks from `current`'s: records made while the reset was anchored
    elsewhere, e.g. budget.json's before the first official capture, are kept but not summarised), and
    each of those cycles' records."""
    _ensure(conn)
    week_s = 7 * 86400
    phase = current.reset.timestamp() % week_s
    resets = [r[0] for r in conn.execute(
        "SELECT DISTINCT reset FROM projection_audit WHERE final IS NOT NULL ORDER BY reset DESC")
        if min(abs(r[0] % week_s - phase), week_s - abs(r[0] % week_s - phase)) < 60][:cycles]
    rows = conn.execute(
        "SELECT reset, lead_h, projected, spent, model, at, how, final, final_source FROM projection_audit"
        f" WHERE reset IN ({','.join('?' * len(resets))}) ORDER BY reset DESC, lead_h DESC", resets,
    ).fetchall() if resets else []
    from governor import timeutil

    records = [{
        "reset": timeutil.iso(r[0]), "lead_hours": r[1], "projected": round(r[2], 6), "spent_then": round(r[3], 6),
        "model": r[4], "recorded": r[6], "final": round(r[7], 6), "final_source": r[8],
        "error_points": round(audit.error_points(r[2], r[7]), 2),
    } for r in rows]
    by_lead = audit.mae_by_lead((r["lead_hours"], audit.error_points(r["projected"], r["final"])) for r in records)
    return {"cycles": len(resets), "by_lead": {str(k): v for k, v in by_lead.items()},
            "line": audit.summary_line(by_lead, len(resets)), "records": records}
