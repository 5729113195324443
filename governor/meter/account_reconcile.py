"""A session's client-account records from its cost-state checkpoints (see account.py).

At checkpoint k (time t_k) Claude Code counted C_k per model and field for the session's lineage. The
ledger already holds the session's own rows up to t_k and, for a fork, the parent's account at the fork
(the parent's first checkpoint at or after the last copied response; without one, the parent lineage's
records up to it). What is left, E_k = C_k - inherited - own rows, never negative and never shrinking
(a second process of the same session may write a checkpoint that does not know the first's requests),
is added as a record at t_k for the growth since checkpoint k-1.
"""

from __future__ import annotations

from governor.fastsqlite import sqlite3
from governor.meter.account import COLUMNS, SOURCE
from governor.policy.pricing import FAST

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

Counts = dict[str, list[int]]  # base model -> counts in COLUMNS order

_SUMS = ", ".join(f"SUM(COALESCE({c}, 0))" for c in COLUMNS)
_BASE = f"REPLACE(COALESCE(model, ''), '{FAST}', '')"
_INSERT = (
    "INSERT INTO usage(key, ts, session_id, project, model, input, output, cache_creation, cache_read,"
    " cache_5m, cache_1h, sidechain, web_search, source) VALUES(?,?,?,?,?,?,?,?,?,?,?,0,?,?)"
    " ON CONFLICT(key) DO UPDATE SET ts=excluded.ts, project=excluded.project, input=excluded.input,"
    " output=excluded.output, cache_creation=excluded.cache_creation, cache_read=excluded.cache_read,"
    " cache_5m=excluded.cache_5m, cache_1h=excluded.cache_1h, web_search=excluded.web_search"
)


def affected(conn: sqlite3.Connection, sessions: set[str]) -> set[str]:
    """The sessions whose records may change when `sessions` changed: those with checkpoints or records,
    and the forks of any of them (their inheritance)."""
    out: set[str] = set()
    for session in sessions:
        if conn.execute(
            "SELECT EXISTS(SELECT 1 FROM cost_state WHERE session_id=?)"
            " OR EXISTS(SELECT 1 FROM usage WHERE session_id=? AND source=? LIMIT 1)",
            (session, session, SOURCE),
        ).fetchone()[0]:
            out.add(session)
        out.update(r[0] for r in conn.execute("SELECT session_id FROM lineage WHERE parent=?", (session,)))
    return out


def reconcile(conn: sqlite3.Connection, sessions: set[str]) -> None:
    """Inside a write transaction: make each session's client-account records what its checkpoints say."""
    for session in sorted(affected(conn, sessions)):
        _reconcile_one(conn, session)


def _checkpoints(conn: sqlite3.Connection, session: str, **where: Any) -> list[tuple[float, str, Counts]]:
    """(time, project, counts per model) of a session's checkpoints, oldest first."""
    clause, params = "", [session]
    if "at_or_after" in where:
        clause, params = " AND ts >= ?", [session, where["at_or_after"]]
    rows = conn.execute(
        f"SELECT path, offset, ts, project, model, {', '.join(COLUMNS)} FROM cost_state"
        f" WHERE session_id=?{clause} ORDER BY ts, path, offset",
        params,
    ).fetchall()
    out: list[tuple[float, str, Counts]] = []
    last: tuple[str, int] | None = None
    for path, offset, ts, project, model, *counts in rows:
        if (path, offset) != last:
            out.append((ts, project or "", {}))
            last = (path, offset)
        out[-1][2][model] = list(counts)
    return out


def _rows(conn: sqlite3.Connection, sessions: list[str], until: float, sources: tuple[str, ...]) -> Counts:
    marks = ",".join("?" * len(sessions))
    kinds = ",".join("?" * len(sources))
    rows = conn.execute(
        f"SELECT {_BASE}, {_SUMS} FROM usage WHERE session_id IN ({marks}) AND ts <= ?"
        f" AND source IN ({kinds}) GROUP BY 1",
        [*sessions, until, *sources],
    )
    return {r[0]: [int(v or 0) for v in r[1:]] for r in rows}


def _inherited(conn: sqlite3.Connection, session: str) -> Counts:
    link = conn.execute("SELECT parent, forked_at FROM lineage WHERE session_id=?", (session,)).fetchone()
    if link is None:
        return {}
    parent, forked_at = link
    closing = _checkpoints(conn, parent, at_or_after=forked_at)
    if closing:
        return closing[0][2]
    chain, seen = [parent], {session, parent}  # no parent checkpoint: its lineage's records to the fork
    while (up := conn.execute("SELECT parent FROM lineage WHERE session_id=?", (chain[-1],)).fetchone()) and (
        up[0] not in seen
    ):
        chain.append(up[0])
        seen.add(up[0])
    return _rows(conn, chain, forked_at, ("transcript", SOURCE))


def _reconcile_one(conn: sqlite3.Connection, session: str) -> None:
    wanted: dict[str, tuple[Any, ...]] = {}
    checkpoints = _checkpoints(conn, session)
    inherited = _inherited(conn, session) if checkpoints else {}
    kept: Counts = {}  # per model, the extra counted so far (never shrinks)
    for index, (ts, project, counts) in enumerate(checkpoints):
        own = _rows(conn, [session], ts, ("transcript",))
        for model, total in counts.items():
            base = inherited.get(model, [0] * len(COLUMNS))
            rows = own.get(model, [0] * len(COLUMNS))
            extra = [max(0, t - b - r) for t, b, r in zip(total, base, rows, strict=True)]
            before = kept.setdefault(model, [0] * len(COLUMNS))
            grown = [max(0, e - k) for e, k in zip(extra, before, strict=True)]
            if any(grown):
                kept[model] = [k + g for k, g in zip(before, grown, strict=True)]
                inp, out, cc, cr, c5, c1, web = grown
                wanted[f"ca:{session}:{index}:{model}"] = (ts, session, project, model, inp, out, cc, cr,
                                                           min(c5, cc), min(c1, max(0, cc - c5)), web)
    existing = {r[0]: tuple(r[1:]) for r in conn.execute(
        "SELECT key, ts, session_id, project, model, input, output, cache_creation, cache_read, cache_5m,"
        " cache_1h, web_search FROM usage WHERE session_id=? AND source=? AND machine IS NULL", (session, SOURCE))}
    for key in existing.keys() - wanted.keys():
        conn.execute("DELETE FROM usage WHERE key=?", (key,))
    for key, values in wanted.items():
        if existing.get(key) != values:
            conn.execute(_INSERT, (key, *values, SOURCE))
