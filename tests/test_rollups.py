"""The roll-ups answer reports exactly as the responses would, and an upgrade keeps the user's ledger."""

from __future__ import annotations

import sqlite3
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from governor.config_schema import defaults
from governor.meter import db, ledger, usage
from governor.policy import pricing
from governor.reports import daily
from governor.timeutil import zone

T0 = 1_795_000_200  # a multiple of 300: the strategies below straddle a few 5-minute buckets

# UPSERT's columns: key, ts, session, project, model, input, output, cache_creation, cache_read, 5m, 1h,
# sidechain, web searches. Few keys, so later rows replace earlier ones (moving a response to another bucket, or across
# the long-context threshold); prompts near 200k tokens, so both sides of it occur.
RESPONSE = st.tuples(
    st.sampled_from([f"m:{i}" for i in range(6)]),
    st.floats(T0 - 700, T0 + 1300, allow_nan=False),
    st.sampled_from(["s1", "s2"]),
    st.just("-p"),
    st.sampled_from(["claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101"]),
    st.integers(0, 5),
    st.integers(0, 3000),
    st.integers(0, 2000),
    st.sampled_from([0, 150_000, 199_000, 250_000]),
    st.one_of(st.none(), st.integers(0, 500)),
    st.one_of(st.none(), st.integers(0, 500)),
    st.integers(0, 1),
    st.integers(0, 3),  # web searches
)
BOUND = st.one_of(st.none(), st.floats(T0 - 900, T0 + 1500, allow_nan=False),
                  st.sampled_from([T0 - 600.0, T0, T0 + 300.0, T0 + 900.0]))


def folded(rows: list[tuple[float, str, bool, pricing.Tokens]]) -> dict[Any, tuple[int, ...]]:
    out: dict[Any, pricing.Tokens] = defaultdict(pricing.Tokens)
    for bucket, model, long_context, tokens in rows:
        out[bucket, model, long_context].add(tokens)
    return {k: t._values() for k, t in out.items()}


def per_response(conn: sqlite3.Connection, start: float | None, end: float | None) -> dict[Any, tuple[int, ...]]:
    """The buckets summed straight from the responses, as the report did before the roll-ups served it."""
    return folded(usage._raw_buckets(conn, start, end))


@settings(max_examples=150, deadline=None)
@given(responses=st.lists(RESPONSE, max_size=25), start=BOUND, end=BOUND, bulk=st.booleans())
def test_report_buckets_from_the_roll_ups_equal_the_responses(
    responses: list[tuple[Any, ...]], start: float | None, end: float | None, bulk: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = db.connect(str(Path(tmp) / "ledger.sqlite3"))
        with db.transaction(conn):
            saved = db.drop_usage_derivatives(conn) if bulk else None
            for response in responses:  # one by one: later rows of a key go through the update trigger
                conn.execute(ledger.UPSERT, response)
            if saved is not None:
                db.restore_usage_derivatives(conn, saved)
        assert folded(usage.buckets(conn, start, end)) == per_response(conn, start, end)
        # the quarter-hour roll-up is the 5-minute one grouped by quarter, and the reports' buckets are the
        # same rows in the same order as grouping the 5-minute rows themselves (so their costs add up alike)
        assert conn.execute("SELECT * FROM usage_quarter ORDER BY 1, 2, 3").fetchall() == conn.execute(
            f"SELECT bucket / 3, model, long_context, {QUARTER_SUMS} FROM usage_rollup GROUP BY 1, 2, 3"
            " ORDER BY 1, 2, 3").fetchall()
        assert usage.bucket_rows(conn, start, end) == five_minute_bucket_rows(conn, start, end)
        conn.close()


QUARTER_SUMS = ("SUM(input), SUM(output), SUM(cache_creation), SUM(cache_read), SUM(cache_5m), SUM(cache_1h),"
                " SUM(web_search), SUM(responses)")


def five_minute_bucket_rows(conn: sqlite3.Connection, start: float | None, end: float | None) -> list[Any]:
    """usage.bucket_rows as it was before the quarter-hour roll-up: whole 5-minute buckets grouped by
    quarter, the ragged ends from the responses."""
    first = None if start is None else -(-start // 300)
    last = None if end is None else end // 300
    if first is not None and last is not None and last < first:
        return usage._raw_rows(conn, start, end)
    edges = []
    if start is not None and first is not None and first * 300 > start:
        edges += usage._raw_rows(conn, start, first * 300)
    if end is not None and last is not None and last * 300 < end:
        edges += usage._raw_rows(conn, last * 300, end)
    where, params = "responses > 0", []
    if first is not None:
        where, params = where + " AND bucket >= ?", [*params, int(first)]
    if last is not None:
        where, params = where + " AND bucket < ?", [*params, int(last)]
    rows = conn.execute(
        "SELECT bucket * 300 / 900 AS b, model, long_context, SUM(input), SUM(output), SUM(cache_creation),"
        " SUM(cache_read), SUM(cache_5m), SUM(cache_1h), SUM(responses), SUM(web_search) FROM usage_rollup"
        f" WHERE {where} GROUP BY b, model, long_context", params)
    return edges + [(r[0] * 900, r[1], bool(r[2]), *r[3:]) for r in rows]


def test_daily_prices_long_context_and_one_hour_writes_from_the_roll_ups(tmp_path: Path) -> None:
    """A Sonnet request over 200k prompt tokens is priced at the long-context rate and its neighbour in the
    same bucket is not; 1-hour cache writes at their own rate; the day's cost equals the per-response sum."""
    conn = db.connect(str(tmp_path / "ledger.sqlite3"))
    sonnet = "claude-sonnet-4-5-20250929"
    rows = [
        ("m:long", T0 + 10, "s", "-p", sonnet, 5, 100, 1000, 250_000, None, 1000, 0, 0),
        ("m:short", T0 + 20, "s", "-p", sonnet, 5, 100, 1000, 50_000, 1000, None, 0, 0),
    ]
    conn.executemany(ledger.UPSERT, rows)
    config = defaults()
    data = daily.build(conn, config, zone("UTC"), None, None)
    expected = sum(
        pricing.cost_usd(pricing.Tokens(r[5], r[6], r[7], r[8], r[9] or 0, r[10] or 0, 1), sonnet, config,
                         r[5] + r[7] + r[8] > pricing.LONG_CONTEXT_TOKENS)
        for r in rows
    )
    assert abs(data["totals"]["cost_usd"] - expected) < 1e-6
    flat = pricing.cost_usd(pricing.Tokens(10, 200, 2000, 300_000, 1000, 1000, 2), sonnet, config)
    assert expected > flat  # the long-context rate really applied to one of them


V6_ROLLUPS = """
CREATE TABLE usage_hourly(hour INTEGER NOT NULL, model TEXT NOT NULL, input INTEGER NOT NULL,
    output INTEGER NOT NULL, cache_creation INTEGER NOT NULL, cache_read INTEGER NOT NULL,
    responses INTEGER NOT NULL, PRIMARY KEY(hour, model));
CREATE TABLE usage_rollup(bucket INTEGER NOT NULL, model TEXT NOT NULL, input INTEGER NOT NULL,
    output INTEGER NOT NULL, cache_creation INTEGER NOT NULL, cache_read INTEGER NOT NULL,
    responses INTEGER NOT NULL, PRIMARY KEY(bucket, model));
CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage BEGIN
    INSERT INTO usage_rollup VALUES(CAST(new.ts / 300 AS INTEGER), COALESCE(new.model, ''), new.input,
    new.output, new.cache_creation, new.cache_read, 1) ON CONFLICT(bucket, model) DO UPDATE SET
    responses = responses + 1;
END;
"""


def test_a_schema_6_ledger_is_migrated_in_place_keeping_responses_and_captures(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.sqlite3")
    conn = db.connect(path)
    conn.executemany(ledger.UPSERT, [
        ("m:1", T0 + 10, "s", "-p", "claude-opus-4-5-20251101", 5, 100, 1000, 250_000, None, 1000, 0, 0),
        ("m:2", T0 + 400, "s", "-p", "claude-opus-4-5-20251101", 5, 70, 10, 50_000, None, None, 0, 0),
    ])
    conn.execute("INSERT INTO captures(window, used_pct, captured_at, source) VALUES('seven_day', 41, ?, 'official')",
                 (T0,))
    tables = ("usage_hourly", "usage_rollup")
    expected = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall() for t in tables}
    for table in tables:  # make it the shape version 6 had
        conn.execute(f"DROP TABLE {table}")
    conn.execute("DROP TRIGGER usage_rollup_insert")
    conn.execute("DROP TRIGGER usage_rollup_update")
    conn.execute("DROP TRIGGER usage_rollup_delete")
    conn.executescript(V6_ROLLUPS + "PRAGMA user_version=6;")
    conn.close()

    upgraded = db.connect(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
    assert not list(tmp_path.glob("*.broken-*"))  # not moved aside and rebuilt
    assert upgraded.execute("SELECT used_pct, source FROM captures").fetchall() == [(41.0, "official")]
    assert upgraded.execute("SELECT COUNT(*) FROM usage").fetchone()[0] == 2
    for table, rows in expected.items():
        assert upgraded.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall() == rows, table
    upgraded.execute(ledger.UPSERT, ("m:3", T0 + 20, "s", "-p", "claude-opus-4-5-20251101", 1, 1, 1, 1, None, None,
                                     0, 0))
    assert upgraded.execute("SELECT SUM(responses) FROM usage_hourly").fetchone()[0] == 3  # triggers back


def test_a_schema_7_ledger_is_migrated_in_place_and_its_transcripts_read_again(tmp_path: Path) -> None:
    """7 -> 8 adds web searches, the row source and the cost-state tables: every response, capture, router
    event and hook state is kept, the roll-ups are summed anew and the Claude transcripts are read again."""
    path = str(tmp_path / "ledger.sqlite3")
    old = sqlite3.connect(path)
    old.executescript((Path(__file__).parent / "fixtures" / "ledger_schema_7.sql").read_text())
    old.executemany(
        "INSERT INTO usage(key, ts, session_id, project, model, input, output, cache_creation, cache_read,"
        " cache_5m, cache_1h, sidechain) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
        [("m:1", T0 + 10, "s", "-p", "claude-opus-4-5-20251101", 5, 100, 1000, 250_000, None, 1000, 0),
         ("m:2", T0 + 400, "s", "-p", "claude-opus-4-5-20251101", 5, 70, 10, 50_000, None, None, 0)],
    )
    old.execute("INSERT INTO captures(window, used_pct, captured_at, source) VALUES('seven_day', 41, ?, 'official')",
                (T0,))
    old.execute("INSERT INTO router_events(ts, session_id, decision) VALUES(?, 's', 'handoff')", (T0,))
    old.execute("INSERT INTO hook_state VALUES('s', 'pacing', 'yellow', ?)", (T0,))
    old.execute("INSERT INTO files(path, kind, dev, ino, offset, size, mtime_ns) VALUES('/t.jsonl', 'claude',"
                " 1, 2, 500, 500, 0), ('/r.jsonl', 'codex', 1, 3, 700, 700, 0)")
    old.commit()
    old.close()

    upgraded = db.connect(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION == 12
    assert not list(tmp_path.glob("*.broken-*"))
    assert upgraded.execute("SELECT used_pct, source FROM captures").fetchall() == [(41.0, "official")]
    assert upgraded.execute("SELECT decision FROM router_events").fetchall() == [("handoff",)]
    assert upgraded.execute("SELECT value FROM hook_state").fetchall() == [("yellow",)]
    assert upgraded.execute("SELECT key, web_search, source FROM usage ORDER BY key").fetchall() == [
        ("m:1", 0, "transcript"), ("m:2", 0, "transcript")]
    assert upgraded.execute("SELECT path, offset, dev FROM files ORDER BY path").fetchall() == [
        ("/r.jsonl", 0, None), ("/t.jsonl", 0, None)]  # both start over (8 -> 9 re-keys the Codex rows)
    hourly = upgraded.execute("SELECT SUM(input), SUM(output), SUM(web_search), SUM(responses) FROM usage_hourly")
    assert hourly.fetchone() == (10, 170, 0, 2)
    upgraded.execute(ledger.UPSERT, ("m:3", T0 + 20, "s", "-p", "claude-opus-4-5-20251101", 1, 1, 1, 1, None, None,
                                     0, 2))
    upgraded.execute("DELETE FROM usage WHERE key='m:1'")
    hourly = upgraded.execute("SELECT SUM(input), SUM(output), SUM(web_search), SUM(responses) FROM usage_hourly")
    assert hourly.fetchone() == (6, 71, 2, 2)  # insert, update and delete triggers in place
    assert upgraded.execute("SELECT COUNT(*) FROM cost_state").fetchone()[0] == 0


def v11_rollup_triggers() -> str:
    """The roll-up triggers of schema 11: the hourly and 5-minute roll-ups only."""
    levels = db.ROLLUPS
    return ("CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage BEGIN\n"
            + "".join(db._rollup_add(*r) for r in levels)
            + "END;\nCREATE TRIGGER usage_rollup_update AFTER UPDATE ON usage BEGIN\n"
            + "".join(db._rollup_remove(*r) for r in levels) + "".join(db._rollup_add(*r) for r in levels)
            + "END;\nCREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage BEGIN\n"
            + "".join(db._rollup_remove(*r) for r in levels) + "END;\n")


def test_a_schema_11_ledger_gains_the_quarter_hour_roll_up_from_its_five_minute_one(tmp_path: Path) -> None:
    """11 -> 12 adds only the reports' quarter-hour roll-up: summed from the 5-minute one without reading a
    transcript again, kept by the triggers from then on, and `daily` reads the same as before."""
    path = str(tmp_path / "ledger.sqlite3")
    conn = db.connect(path)
    sonnet = "claude-sonnet-4-5-20250929"
    conn.executemany(ledger.UPSERT, [
        ("m:1", T0 + 10, "s", "-p", sonnet, 5, 100, 1000, 250_000, None, 1000, 0, 0),
        ("m:2", T0 + 400, "s", "-p", sonnet, 5, 70, 10, 50_000, 10, None, 0, 1),
        ("m:3", T0 + 1000, "s", "-p", "claude-opus-4-5-20251101", 3, 20, 0, 9_000, None, None, 1, 0),
    ])
    before = daily.build(conn, defaults(), zone("UTC"), None, None)
    conn.execute("DROP TABLE usage_quarter")  # make it the shape version 11 had
    for trigger in db.ROLLUP_TRIGGERS:
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.executescript(v11_rollup_triggers() + "PRAGMA user_version=11;")
    conn.execute("INSERT INTO files(path, kind, dev, ino, offset, size, mtime_ns) VALUES('/t.jsonl', 'claude',"
                 " 1, 2, 500, 500, 0)")
    conn.close()

    upgraded = db.connect(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION == 12
    assert not list(tmp_path.glob("*.broken-*"))
    assert upgraded.execute("SELECT path, offset, dev FROM files").fetchall() == [("/t.jsonl", 500, 1)]
    q = (T0 + 10) // 900  # m:1 there, m:2 and m:3 in the next quarter
    quarters = "SELECT quarter, model, long_context, output, responses FROM usage_quarter ORDER BY 1, 2, 3"
    assert upgraded.execute(quarters).fetchall() == [
        (q, sonnet, 1, 100, 1), (q + 1, "claude-opus-4-5-20251101", 0, 20, 1), (q + 1, sonnet, 0, 70, 1)]
    assert daily.build(upgraded, defaults(), zone("UTC"), None, None) == before
    upgraded.execute(ledger.UPSERT, ("m:4", T0 + 20, "s", "-p", sonnet, 1, 1, 1, 1, None, None, 0, 0))
    upgraded.execute("DELETE FROM usage WHERE key='m:3'")
    assert upgraded.execute(quarters).fetchall() == [  # the insert and delete triggers keep it now
        (q, sonnet, 0, 1, 1), (q, sonnet, 1, 100, 1), (q + 1, "claude-opus-4-5-20251101", 0, 0, 0),
        (q + 1, sonnet, 0, 70, 1)]
    assert upgraded.execute("SELECT * FROM usage_quarter ORDER BY 1, 2, 3").fetchall() == upgraded.execute(
        f"SELECT bucket / 3, model, long_context, {QUARTER_SUMS} FROM usage_rollup GROUP BY 1, 2, 3"
        " ORDER BY 1, 2, 3").fetchall()
