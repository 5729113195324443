"""Read-side queries over the de-duplicated usage table: totals per model, per time bucket, per session."""

from __future__ import annotations

import sqlite3
from typing import Any

from governor import pricing
from governor.pricing import Tokens

_SUMS = (
    "SUM(input), SUM(output), SUM(cache_creation), SUM(cache_read),"
    " SUM(COALESCE(cache_5m, 0)), SUM(COALESCE(cache_1h, 0)), COUNT(*)"
)
BUCKET_SECONDS = 900  # every zone offset in use is a multiple of 15 minutes
# 1 when the request's prompt exceeded the long-context threshold (priced apart for some models)
_LONG = f"(input + cache_creation + cache_read > {pricing.LONG_CONTEXT_TOKENS})"


def _tokens(row: tuple[Any, ...]) -> Tokens:
    return Tokens(*(int(v or 0) for v in row))


def _range(start: float | None, end: float | None) -> tuple[str, list[float]]:
    clauses, params = [], []
    if start is not None:
        clauses.append("ts >= ?")
        params.append(start)
    if end is not None:
        clauses.append("ts < ?")
        params.append(end)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def model_totals(
    conn: sqlite3.Connection, start: float | None = None, end: float | None = None
) -> dict[str, Tokens]:
    where, params = _range(start, end)
    rows = conn.execute(f"SELECT model, {_SUMS} FROM usage{where} GROUP BY model", params)
    return {r[0]: _tokens(r[1:]) for r in rows}


def weighted(totals: dict[str, Tokens], config: dict[str, Any]) -> float:
    return sum(pricing.weighted_units(t, model, config) for model, t in totals.items())


ROLLUP_SECONDS = 300  # the usage_rollup bucket (db.SCHEMA's triggers use the same number)


def weighted_between(
    conn: sqlite3.Connection, config: dict[str, Any], start: float | None, end: float | None
) -> float:
    """Weighted units with start <= ts < end: whole 5-minute buckets from the roll-up, the ragged edges
    from the responses themselves, so the answer is exact and a week costs a few thousand rows."""
    if start is None or end is None or end - start < 3 * ROLLUP_SECONDS:
        return weighted(model_totals(conn, start, end), config)
    first = -(-int(start) // ROLLUP_SECONDS)  # ceil
    last = int(end) // ROLLUP_SECONDS
    totals = model_totals(conn, start, first * float(ROLLUP_SECONDS))
    for model, tokens in model_totals(conn, last * float(ROLLUP_SECONDS), end).items():
        totals.setdefault(model, Tokens()).add(tokens)
    rows = conn.execute(
        "SELECT model, SUM(input), SUM(output), SUM(cache_creation), SUM(cache_read) FROM usage_rollup"
        " WHERE bucket >= ? AND bucket < ? GROUP BY model",
        (first, last),
    )
    for r in rows:
        totals.setdefault(r[0], Tokens()).add(Tokens(*(int(v or 0) for v in r[1:])))
    return weighted(totals, config)


def buckets(
    conn: sqlite3.Connection, start: float | None, end: float | None
) -> list[tuple[float, str, bool, Tokens]]:
    """(bucket start epoch s, model, long context?, tokens) per 15-minute bucket: small enough to fold into
    any zone's days."""
    where, params = _range(start, end)
    rows = conn.execute(
        f"SELECT CAST(ts / {BUCKET_SECONDS} AS INTEGER) AS b, model, {_LONG} AS lc, {_SUMS} FROM usage{where}"
        " GROUP BY b, model, lc",
        params,
    )
    return [(r[0] * BUCKET_SECONDS, r[1], bool(r[2]), _tokens(r[3:])) for r in rows]


def session_totals(conn: sqlite3.Connection, start: float | None, end: float | None) -> list[dict[str, Any]]:
    """Per session, model and long-context flag: first/last time, responses, peak context and token sums."""
    where, params = _range(start, end)
    rows = conn.execute(
        f"SELECT session_id, model, {_LONG} AS lc, MIN(project), MIN(ts), MAX(ts),"
        f" MAX(input + cache_creation + cache_read), {_SUMS} FROM usage{where} GROUP BY session_id, model, lc",
        params,
    )
    return [
        {
            "session_id": r[0],
            "model": r[1],
            "long_context": bool(r[2]),
            "project": r[3],
            "first": r[4],
            "last": r[5],
            "peak": int(r[6] or 0),
            "tokens": _tokens(r[7:]),
        }
        for r in rows
    ]
