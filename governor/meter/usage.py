"""Read-side queries over the de-duplicated usage table: totals per model, per time bucket, per session."""

from __future__ import annotations

import math

from governor.fastsqlite import sqlite3
from governor.meter import db
from governor.policy import pricing, windows
from governor.policy.pricing import Tokens

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

_SUMS = (
    "SUM(input), SUM(output), SUM(cache_creation), SUM(cache_read),"
    " SUM(COALESCE(cache_5m, 0)), SUM(COALESCE(cache_1h, 0)), COUNT(*), SUM(web_search)"
)
_LONG = db.LONG_CONTEXT


def _tokens(row: tuple[Any, ...]) -> Tokens:
    return Tokens(*(int(v or 0) for v in row))


def _range(start: float | None, end: float | None, machine: str | None = None) -> tuple[str, list[Any]]:
    """WHERE over [start, end); `machine`: None every machine, "" this one, else that machine's id."""
    clauses: list[str] = []
    params: list[Any] = []
    if machine == "":
        clauses.append("machine IS NULL")
    elif machine is not None:
        clauses.append("machine = ?")
        params.append(machine)
    if start is not None:
        clauses.append("ts >= ?")
        params.append(start)
    if end is not None:
        clauses.append("ts < ?")
        params.append(end)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def model_totals(
    conn: sqlite3.Connection, start: float | None = None, end: float | None = None, machine: str | None = None
) -> dict[str, Tokens]:
    where, params = _range(start, end, machine)
    rows = conn.execute(f"SELECT model, {_SUMS} FROM usage{where} GROUP BY model", params)
    return {r[0]: _tokens(r[1:]) for r in rows}


def weighted(totals: dict[str, Tokens], config: dict[str, Any]) -> float:
    return sum(pricing.weighted_units(t, model, config) for model, t in totals.items())


_LEVELS = db.ROLLUPS  # coarsest first: (table, bucket column, seconds)


def _merge(into: dict[str, Tokens], more: dict[str, Tokens]) -> dict[str, Tokens]:
    for model, tokens in more.items():
        into.setdefault(model, Tokens()).add(tokens)
    return into


def _sum_range(conn: sqlite3.Connection, lo: float, hi: float, level: int = 0) -> dict[str, Tokens]:
    """Totals over [lo, hi): the whole units of roll-up `level`, the edges from the finer levels, the
    last ragged minutes from the responses themselves."""
    if hi <= lo:
        return {}
    if level == len(_LEVELS):
        return model_totals(conn, lo, hi)
    table, column, step = _LEVELS[level]
    first = -(-int(lo) // step) * step
    last = int(hi) // step * step
    if last <= first:
        return _sum_range(conn, lo, hi, level + 1)
    totals = _sum_range(conn, lo, float(first), level + 1)
    _merge(totals, _sum_range(conn, float(last), hi, level + 1))
    rows = conn.execute(
        f"SELECT model, SUM(input), SUM(output), SUM(cache_creation), SUM(cache_read) FROM {table}"
        f" WHERE {column} >= ? AND {column} < ? GROUP BY model",
        (first // step, last // step),
    )
    return _merge(totals, {r[0]: Tokens(*(int(v or 0) for v in r[1:])) for r in rows})


def weighted_between(
    conn: sqlite3.Connection, config: dict[str, Any], start: float | None, end: float | None,
    family: str | None = None,
) -> float:
    """Weighted units with start <= ts < end, exact, from the roll-ups: a week costs a few hundred rows
    per model however large the corpus. `family`: only the models of that family (a scoped window's)."""
    if start is None or end is None:
        totals = model_totals(conn, start, end)
    else:
        totals = _sum_range(conn, float(start), float(end))
    if family is not None:
        totals = {model: t for model, t in totals.items() if windows.in_family(model, family)}
    return weighted(totals, config)


class Suffix:
    """Weighted units between any two moments before a fixed `end`: the per-model integer sums of [a, end)
    less those of [b, end) are exactly those of [a, b). Each moment's sums are read once, and only up to
    the next moment already summed (whose sums are added), so the windows of one budget state read the
    week's roll-ups about once between them, not once per window and capture."""

    def __init__(self, conn: sqlite3.Connection, config: dict[str, Any], end: float) -> None:
        self.conn, self.config, self.end = conn, config, float(end)
        self._sums: dict[float, dict[str, Tokens]] = {}

    def _from(self, start: float) -> dict[str, Tokens]:
        start = float(start)
        if start >= self.end:
            return {}
        if start not in self._sums:  # read only up to the next moment already summed, and add its sums
            above = min((m for m in self._sums if m > start), default=self.end)
            sums = _sum_range(self.conn, start, above)
            for model, tokens in self._sums.get(above, {}).items():
                mine = sums.setdefault(model, Tokens())
                mine.add(tokens)
            self._sums[start] = sums
        return self._sums[start]

    def between(self, start: float, stop: float, family: str | None = None) -> float:
        """Weighted units with start <= ts < min(stop, end), of `family`'s models only when given."""
        if stop <= start:
            return 0.0
        head, tail = self._from(start), self._from(stop)
        totals = {}
        for model, tokens in head.items():
            if family is not None and not windows.in_family(model, family):
                continue
            less = tail.get(model)
            totals[model] = tokens if less is None else Tokens(
                *(a - b for a, b in zip(tokens._values(), less._values(), strict=True)))
        return weighted(totals, self.config)


REPORT_SECONDS = 900  # the buckets reports fold into days: every zone offset in use is a multiple of 15 min


def buckets(
    conn: sqlite3.Connection, start: float | None, end: float | None, machine: str | None = None
) -> list[tuple[float, str, bool, Tokens]]:
    """(bucket start epoch s, model, long context?, tokens) per REPORT_SECONDS, to fold into any zone's
    days. Whole quarter hours come from their own roll-up (part-quarters from the 5-minute one), so a
    report over gigabytes of transcripts reads thousands of rows, not a million; ragged ends of [start, end)
    from the responses. One machine's (`machine`, see _range) come from the responses: the roll-ups are of
    every machine."""
    return [(r[0], r[1], bool(r[2]), Tokens(*r[3:])) for r in bucket_rows(conn, start, end, machine)]


BucketRow = tuple["Any", ...]  # (bucket start, model, long context 0/1, then Tokens' fields in their order)


def bucket_rows(
    conn: sqlite3.Connection, start: float | None, end: float | None, machine: str | None = None
) -> list[BucketRow]:
    """buckets() as SQLite's own rows (the long-context flag 0 or 1), for a report that folds a month's
    ~17,000 of them: no Tokens, nor another tuple, per bucket."""
    if machine is not None:
        return _raw_rows(conn, start, end, machine=machine)
    table, column, step = _LEVELS[-1]
    assert REPORT_SECONDS % step == 0, step
    first = None if start is None else math.ceil(start / step)
    last = None if end is None else math.floor(end / step)
    if first is not None and last is not None and last < first:  # inside one bucket
        return _raw_rows(conn, start, end)
    edges = []
    if start is not None and first is not None and first * step > start:
        edges += _raw_rows(conn, start, first * step)
    if end is not None and last is not None and last * step < end:
        edges += _raw_rows(conn, last * step, end)
    # Whole 5-minute buckets [first, last): whole quarters from their own roll-up, the part-quarters at either
    # end from the 5-minute one; the same sums in the same order as grouping the 5-minute rows by quarter.
    quarter_table, quarter_column, quarter_step = db.QUARTERS
    assert quarter_step == REPORT_SECONDS and quarter_step % step == 0, (quarter_step, step)
    ratio = quarter_step // step
    lo = None if first is None else -(-first // ratio)  # the first whole quarter
    hi = None if last is None else last // ratio  # the quarter after the last whole one
    if lo is not None and hi is not None and hi < lo:  # [first, last) lies inside one quarter
        return edges + _rollup_rows(conn, table, column, step, first, last)
    return (edges
            + (_rollup_rows(conn, table, column, step, first, lo * ratio) if lo is not None else [])
            + _rollup_rows(conn, quarter_table, quarter_column, quarter_step, lo, hi)
            + (_rollup_rows(conn, table, column, step, hi * ratio, last) if hi is not None else []))


def _rollup_rows(conn: sqlite3.Connection, table: str, column: str, step: int, lo: int | None,
                 hi: int | None) -> list[BucketRow]:
    """bucket_rows() of the roll-up `table`'s buckets lo <= bucket < hi (None: unbounded), by quarter hour,
    in (quarter, model, long context) order. From the quarter-hour roll-up itself that is a read of its
    rows in key order; from a finer one, a GROUP BY."""
    if lo is not None and hi is not None and hi <= lo:
        return []
    clauses, params = ["responses > 0"], []  # a response moved to another bucket leaves a zero row
    if lo is not None:
        clauses.append(f"{column} >= ?")
        params.append(lo)
    if hi is not None:
        clauses.append(f"{column} < ?")
        params.append(hi)
    where = " AND ".join(clauses)
    columns = "input, output, cache_creation, cache_read, cache_5m, cache_1h"
    # the roll-ups' columns are NOT NULL INTEGER: their sums need no int(v or 0) (a month is ~17,000 rows)
    if step == REPORT_SECONDS:
        query = (f"SELECT {column} * {REPORT_SECONDS}, model, long_context, {columns}, responses, web_search"
                 f" FROM {table} WHERE {where} ORDER BY {column}, model, long_context")
    else:
        sums = ", ".join(f"SUM({c})" for c in columns.split(", "))
        query = (f"SELECT {column} * {step} / {REPORT_SECONDS} * {REPORT_SECONDS} AS b, model, long_context, {sums},"
                 f" SUM(responses), SUM(web_search) FROM {table} WHERE {where} GROUP BY b, model, long_context"
                 " ORDER BY b, model, long_context")
    return conn.execute(query, params).fetchall()


def _raw_buckets(
    conn: sqlite3.Connection, start: float | None, end: float | None, source: str | None = None,
    machine: str | None = None,
) -> list[tuple[float, str, bool, Tokens]]:
    return [(r[0], r[1], bool(r[2]), Tokens(*r[3:])) for r in _raw_rows(conn, start, end, source, machine)]


def _raw_rows(
    conn: sqlite3.Connection, start: float | None, end: float | None, source: str | None = None,
    machine: str | None = None,
) -> list[BucketRow]:
    where, params = _range(start, end, machine)
    if source is not None:  # few rows: the client-account records, by their partial index (a literal)
        assert source.isidentifier() or source == "client-account", source
        where += (" AND " if where else " WHERE ") + f"source = '{source}'"
    rows = conn.execute(
        f"SELECT CAST(ts / {REPORT_SECONDS} AS INTEGER) AS b, model, {_LONG} AS lc, {_SUMS} FROM usage{where}"
        " GROUP BY b, model, lc",
        params,
    )
    return [(r[0] * REPORT_SECONDS, r[1], r[2], *(int(v or 0) for v in r[3:])) for r in rows]


def source_buckets(
    conn: sqlite3.Connection, source: str, start: float | None, end: float | None, machine: str | None = None
) -> list[tuple[float, str, bool, Tokens]]:
    """buckets(), of the records of one source only."""
    return _raw_buckets(conn, start, end, source, machine)


def session_totals(conn: sqlite3.Connection, start: float | None, end: float | None,
                   machine: str | None = None) -> list[dict[str, Any]]:
    """Per session, model and long-context flag: first/last time, responses, peak context and token sums."""
    where, params = _range(start, end, machine)
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


def session_since(
    conn: sqlite3.Connection, config: dict[str, Any], session_id: str, start: float
) -> tuple[float, int]:
    """(weighted units, responses) of one session's responses at or after `start`, sub-agents included
    (their rows carry the parent's session id); uses the (session_id, ts) index."""
    rows = conn.execute(
        f"SELECT model, {_SUMS} FROM usage WHERE session_id=? AND ts>=? GROUP BY model", (session_id, start)
    )
    totals = {r[0]: _tokens(r[1:]) for r in rows}
    return weighted(totals, config), sum(t.responses for t in totals.values())
