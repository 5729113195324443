"""Codex mirror in the real SQLite ledger: incremental, replaced files, archives, concurrency, the lane."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from governor.meter import db
from governor.meter.codex_ingest import codex_daily, codex_lane, ingest_codex, token_totals
from tests.codex_fixtures import (
    ALL,
    FAMILIES,
    LEGACY,
    PLACEHOLDER,
    REAL_0169,
    RECORDS,
    last_reading,
    record_totals,
    token_count_before_record,
    ts,
)
from tests.helpers import REPO_ROOT

UTC = timezone.utc
TOKENS = ("input", "cached_input", "output", "reasoning", "total")
OWN_TOTALS = (3000 + 24500 + 8000 + 1000 + 40000 + 8000 + 1000 + 5000 + 700,  # every fixture but the real run
              750 + 10000 + 2000 + 0 + 22000 + 4000 + 0 + 1000 + 0,
              375 + 1300 + 400 + 10 + 1500 + 400 + 50 + 300 + 70,
              225 + 300 + 100 + 0 + 400 + 100 + 0 + 64 + 0,
              3375 + 25800 + 8400 + 1010 + 41500 + 8400 + 1050 + 5300 + 770)
ALL_TOTALS = tuple(a + b for a, b in zip(OWN_TOTALS, record_totals(REAL_0169), strict=True))


def latest_five_hour() -> tuple[float, float, float]:
    """The newest 'codex' 5 h reading of all fixtures: the real run's, or the 429 line (14:40:30Z)."""
    return max(last_reading(REAL_0169, 300), last_reading(RECORDS, 300), key=lambda r: r[2])


def home() -> Path:
    return Path(os.environ["CODEX_HOME"])


def place(src: Path, sub: str = "sessions/2026/11/23", data: bytes | None = None) -> Path:
    dest = home() / sub / src.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(src.read_bytes() if data is None else data)
    return dest


def sums(conn: sqlite3.Connection) -> tuple[int, ...]:
    t = token_totals(conn, None, None)
    return tuple(t[k] for k in TOKENS)


def limit(conn: sqlite3.Connection, limit_id: str, window: str) -> Any:
    """(used_pct, resets_at, observed_at) of the mirrored window, or None."""
    return conn.execute("SELECT used_pct, resets_at, observed_at FROM codex_limits"
                        " WHERE limit_id=? AND window=?", (limit_id, window)).fetchone()


def test_all_variants_give_exact_totals_and_the_latest_snapshot_per_window() -> None:
    for path in ALL:
        place(path)
    conn = db.connect()
    stats = ingest_codex(conn, now=ts("2026-11-23T16:00:00Z"))
    assert stats.files_read == len(ALL) and stats.bad_lines == 2
    assert sums(conn) == ALL_TOTALS
    # The newest line across all files wins, not the newest file.
    assert limit(conn, "codex", "five_hour") == latest_five_hour()
    assert limit(conn, "codex_bengalfox", "weekly")[0] == 5.0
    assert limit(conn, "codex", "monthly")[0] == 7.5
    again = ingest_codex(conn, now=ts("2026-11-23T16:01:00Z"))
    assert again.files_read == 0 and sums(conn) == ALL_TOTALS


def test_appends_are_read_incrementally_including_a_torn_last_line() -> None:
    data = LEGACY.read_bytes()
    cut = data.index(b"09:01:00") + 40  # inside a line
    path = place(LEGACY, data=data[:cut])
    conn = db.connect()
    first = ingest_codex(conn, now=1e9)
    assert sums(conn) == (5000, 1000, 200, 50, 5200)
    with open(path, "ab") as fh:
        fh.write(data[cut:])
    second = ingest_codex(conn, now=1e9)
    assert sums(conn) == (24500, 10000, 1300, 300, 25800)
    assert first.bytes_read + second.bytes_read == len(data)  # nothing read twice


def test_replaced_or_shrunk_files_never_double_count() -> None:
    path = place(LEGACY)
    conn = db.connect()
    ingest_codex(conn, now=1e9)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(LEGACY.read_bytes())
    os.replace(tmp, path)  # same content, new inode
    assert ingest_codex(conn, now=1e9).files_read == 1
    assert sums(conn) == (24500, 10000, 1300, 300, 25800)
    lines = LEGACY.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]))  # truncated in place
    ingest_codex(conn, now=1e9)
    path.write_bytes(LEGACY.read_bytes())
    ingest_codex(conn, now=1e9)
    assert sums(conn) == (24500, 10000, 1300, 300, 25800)


def test_archived_sessions_are_read_and_a_copy_in_both_counts_once() -> None:
    place(LEGACY, "archived_sessions")
    place(RECORDS, "archived_sessions")
    place(RECORDS)
    conn = db.connect()
    stats = ingest_codex(conn, now=1e9)
    assert stats.files_seen == 2
    assert sums(conn)[4] == 25800 + 3375
    paths = [r[0] for r in conn.execute("SELECT path FROM files WHERE kind='codex'")]
    assert any("/sessions/" in p and RECORDS.name in p for p in paths)


def test_moving_a_file_to_the_archive_does_not_double_count() -> None:
    src = place(LEGACY)
    conn = db.connect()
    ingest_codex(conn, now=1e9)
    dest = home() / "archived_sessions" / LEGACY.name
    dest.parent.mkdir(parents=True)
    os.replace(src, dest)
    ingest_codex(conn, now=1e9)
    assert sums(conn) == (24500, 10000, 1300, 300, 25800)


def test_since_skips_old_unread_files_but_not_ones_with_a_cursor() -> None:
    old = place(LEGACY)
    os.utime(old, (1_000_000, 1_000_000))
    conn = db.connect()
    stats = ingest_codex(conn, now=2e9, since=1_500_000)
    assert stats.skipped_old == 1 and sums(conn)[4] == 0
    ingest_codex(conn, now=2e9)
    with open(old, "ab") as fh:
        fh.write(b"")
    os.utime(old, (1_000_000, 1_000_000))
    assert ingest_codex(conn, now=2e9, since=1_500_000).skipped_old == 0


def test_zero_placeholder_keeps_the_reading_until_its_window_has_ended() -> None:
    path = place(PLACEHOLDER)
    conn = db.connect()
    ingest_codex(conn, now=1e9)
    assert limit(conn, "codex", "five_hour")[0] == 30.0 and limit(conn, "codex", "weekly")[0] == 60.0
    five_reset = limit(conn, "codex", "five_hour")[1]
    later = datetime.fromtimestamp(five_reset + 60, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    zero = {"limit_id": "codex",
            "primary": {"used_percent": 0.0, "window_minutes": 300, "resets_at": five_reset + 5 * 3600},
            "secondary": {"used_percent": 0.0, "window_minutes": 10080, "resets_at": five_reset + 9 * 86400}}
    line = {"timestamp": later, "type": "event_msg",
            "payload": {"type": "token_count", "info": None, "rate_limits": zero}}
    with open(path, "a") as fh:
        fh.write(json.dumps(line) + "\n")
    ingest_codex(conn, now=1e9)
    assert limit(conn, "codex", "five_hour")[0] == 0.0  # the old 5 h window ended: a real 0 %
    assert limit(conn, "codex", "weekly")[0] == 60.0  # the weekly one has not: still a placeholder


def test_record_after_token_count_across_two_ingests_counts_the_records_only() -> None:
    data = token_count_before_record()
    cut = data.rindex(b"\n", 0, data.index(b'"type":"token_usage_record"')) + 1
    path = place(RECORDS, data=data[:cut])
    conn = db.connect()
    ingest_codex(conn, now=1e9)
    assert sums(conn) == (1000, 250, 125, 75, 1125)  # a delta row, for now
    with open(path, "ab") as fh:
        fh.write(data[cut:])
    ingest_codex(conn, now=1e9)
    assert sums(conn) == (3000, 750, 375, 225, 3375)
    assert {r[0] for r in conn.execute("SELECT key FROM codex_usage")} == {"r:resp_1", "r:resp_2"}


# --- the lane and daily totals -----------------------------------------------------------------

def test_lane_shows_account_limits_first_tokens_today_and_cycle() -> None:
    place(RECORDS)
    place(FAMILIES, "sessions/2026/02/10")
    conn = db.connect()
    now = ts("2026-11-23T15:00:00Z")
    ingest_codex(conn, now=now)
    lane = codex_lane(conn, now, UTC)
    assert [entry["limit_id"] for entry in lane["limits"]] == ["codex", "codex_bengalfox"]
    assert lane["weekly_pct"] == 14.0 and lane["weekly_used"] == 0.14
    assert lane["five_hour_pct"] == 100.0 and lane["five_hour_resets_at"] == 1795455557  # the 429 line
    assert lane["age_s"] == now - ts("2026-11-23T14:40:30Z")
    assert lane["tokens_today"]["total"] == 3375 and lane["tokens_today"]["responses"] == 2
    assert lane["cycle_from"] == "weekly window" and lane["cycle_start"] == 1795876757 - 7 * 86400
    assert lane["tokens_cycle"]["total"] == 3375  # February's usage is outside this cycle


def test_lane_marks_readings_stale_once_their_window_has_reset() -> None:
    place(RECORDS)
    conn = db.connect()
    now = 1795455557 + 10  # just past the 5 h reset, before the weekly one
    ingest_codex(conn, now=now)
    lane = codex_lane(conn, now, UTC)
    five = lane["limits"][0]["windows"]["five_hour"]
    assert lane["five_hour_pct"] is None and five["stale"] and five["last_used_pct"] == 100.0
    assert five["age_s"] == now - ts("2026-11-23T14:40:30Z")
    assert lane["weekly_pct"] == 14.0
    later = 1795876757 + 1
    gone = codex_lane(conn, later, UTC)
    assert gone["weekly_pct"] is None and gone["cycle_from"] == "last 7 days"


def test_empty_ledger_lane_is_all_unknown() -> None:
    lane = codex_lane(db.connect(), 1e9, UTC)
    assert lane["weekly_pct"] is None and lane["limits"] == [] and lane["tokens_today"]["total"] == 0


def test_daily_totals_follow_the_local_day() -> None:
    place(RECORDS)  # 2026-11-23 14:39Z, i.e. 2026-11-24 04:39 at UTC+14
    place(LEGACY)
    conn = db.connect()
    ingest_codex(conn, now=2e9)
    utc = codex_daily(conn, UTC)
    assert [(d["day"], d["total"]) for d in utc] == [("2025-10-20", 25800), ("2026-11-23", 3375)]
    kiritimati = codex_daily(conn, ZoneInfo("Pacific/Kiritimati"), since=date(2026, 1, 1))
    assert [(d["day"], d["total"], d["responses"]) for d in kiritimati] == [("2026-11-24", 3375, 2)]
    assert codex_daily(conn, UTC, until=date(2025, 12, 31))[0]["input"] == 24500


# --- invariants --------------------------------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(st.permutations(ALL), st.lists(st.sampled_from(ALL), max_size=3), st.data())
def test_any_names_order_duplicates_and_append_splits_give_the_same_ledger(order, copies, data) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        codex_home = Path(tmp) / "codex"
        conn = db.connect(str(Path(tmp) / "ledger.sqlite3"))
        pending: list[tuple[Path, bytes, list[int]]] = []
        for i, src in enumerate([*order, *copies]):
            content = src.read_bytes()
            cuts = sorted(data.draw(st.lists(st.integers(1, len(content) - 1), max_size=3)))
            # a fresh name and directory per copy: a different place in the scan order
            dest = codex_home / "sessions" / f"{i % 3}" / f"rollout-{i:03d}{src.name[len('rollout-'):]}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            pending.append((dest, content, [0, *cuts, len(content)]))
        for step in range(4):
            for dest, content, bounds in pending:
                if step < len(bounds) - 1:
                    with open(dest, "ab") as fh:
                        fh.write(content[bounds[step]:bounds[step + 1]])
            ingest_codex(conn, now=2e9, codex_home=str(codex_home))
        for dest, content, bounds in pending:
            with open(dest, "ab") as fh:
                fh.write(content[bounds[min(4, len(bounds) - 1)]:])
        ingest_codex(conn, now=2e9, codex_home=str(codex_home))
        assert sums(conn) == ALL_TOTALS
        assert limit(conn, "codex", "five_hour") == latest_five_hour()
        assert limit(conn, "codex_bengalfox", "five_hour")[0] == 20.0
        conn.close()


WORKER = textwrap.dedent("""
    import os, sys, time
    from governor.meter import db
    from governor.meter.codex_ingest import ingest_codex
    stop, ready = sys.argv[1], sys.argv[2]
    conn = db.connect()
    open(ready, "w").close()
    while not os.path.exists(stop):
        ingest_codex(conn, now=time.time())
        time.sleep(0.005)
    ingest_codex(conn, now=time.time())
""")


def _legacy_turns(n: int, thread: str) -> list[bytes]:
    lines = [json.dumps({"timestamp": "2025-10-20T09:00:00.000Z", "type": "session_meta",
                         "payload": {"id": thread, "source": "cli", "cli_version": "0.46.0"}}).encode()]
    total = [0, 0, 0, 0, 0]
    for i in range(n):
        step = [100 + i, 10, 7, 2, 107 + i]
        total = [a + b for a, b in zip(total, step, strict=True)]
        fields = dict(zip(("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens",
                           "total_tokens"), total, strict=True))
        info = {"total_token_usage": fields, "last_token_usage": None}
        window = {"used_percent": float(i % 100), "window_minutes": 299, "resets_in_seconds": 3600}
        limits = {"primary": window}
        line = {"timestamp": f"2025-10-20T09:{i // 60:02d}:{i % 60:02d}.000Z", "type": "event_msg",
                "payload": {"type": "token_count", "info": info, "rate_limits": limits}}
        lines.append(json.dumps(line).encode())
        if i % 5 == 0:
            lines.append(lines[-1])  # a byte-identical repeat
    return lines


def _record_turns(n: int, thread: str) -> list[bytes]:
    lines = []
    for i in range(n):
        usage = {"input_tokens": 1000 + i, "cached_input_tokens": 100, "output_tokens": 50,
                 "reasoning_output_tokens": 5, "total_tokens": 1050 + i}
        lines.append(json.dumps({"timestamp": f"2026-11-23T10:{i // 60:02d}:{i % 60:02d}.000Z",
                                 "type": "token_usage_record",
                                 "payload": {"thread_id": thread, "response_id": f"resp_{thread}_{i}",
                                             "usage": usage}}).encode())
    return lines


def test_eight_concurrent_ingest_processes_count_every_response_exactly_once() -> None:
    n = 120
    files = {
        home() / "sessions/2025/10/20/rollout-2025-10-20T11-00-00-0199f3a1-0000-7000-8000-00000000000a.jsonl":
            _legacy_turns(n, "0199f3a1-0000-7000-8000-00000000000a"),
        home() / "sessions/2026/11/23/rollout-2026-11-23T10-00-00-0199f3a1-0000-7000-8000-00000000000b.jsonl":
            _record_turns(n, "0199f3a1-0000-7000-8000-00000000000b"),
    }
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    db.connect().close()
    stop = home() / "stop"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    ready = [home() / f"ready-{i}" for i in range(8)]
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(stop), str(r)], env=env) for r in ready]
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            time.sleep(0.01)  # every worker is polling before the first byte is written
        for i in range(n + 1):
            for path, lines in files.items():
                if i < len(lines):
                    blob = lines[i] + b"\n"
                    with open(path, "ab") as fh:  # in two writes: readers see torn lines too
                        fh.write(blob[: len(blob) // 2])
                        fh.flush()
                        fh.write(blob[len(blob) // 2:])
            time.sleep(0.01)
        for path, lines in files.items():
            with open(path, "ab") as fh:
                fh.write(b"\n".join(lines[n + 1:]) + (b"\n" if lines[n + 1:] else b""))
        stop.touch()
        assert all(w.wait(timeout=120) == 0 for w in workers)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    conn = db.connect()
    legacy = (sum(100 + i for i in range(n)), 10 * n, 7 * n, 2 * n, sum(107 + i for i in range(n)))
    records = (sum(1000 + i for i in range(n)), 100 * n, 50 * n, 5 * n, sum(1050 + i for i in range(n)))
    assert sums(conn) == tuple(a + b for a, b in zip(legacy, records, strict=True))
    assert limit(conn, "codex", "five_hour")[0] == float((n - 1) % 100)
    assert conn.execute("SELECT COUNT(*) FROM codex_usage").fetchone()[0] == 2 * n


def test_a_reading_whose_reset_is_years_away_is_not_current() -> None:
    from governor.meter import codex_limits

    conn = db.connect()
    observed = 1795455557.0
    conn.executemany(
        "INSERT INTO codex_limits(limit_id, window, used_pct, window_minutes, resets_at, observed_at)"
        " VALUES('codex', ?, ?, ?, ?, ?)",
        [("weekly", 40.0, 10080, observed + 3 * 365 * 86400, observed),  # three years: not meant as current
         ("five_hour", 20.0, 300, observed + 2 * 3600, observed)],
    )
    now = observed + 60
    assert codex_limits.weekly_used(conn, now) is None
    weekly = codex_limits.account_window(conn, "weekly", now)
    assert weekly is not None and weekly["stale"] and weekly["last_used_pct"] == 40.0
    five = codex_limits.account_window(conn, "five_hour", now)
    assert five is not None and five["used_pct"] == 20.0 and not five["stale"]


def test_a_schema_8_ledger_rekeys_its_codex_rows_and_never_double_counts() -> None:
    """Schema 8 keyed Codex delta rows by timestamp ("t:<ts>:<totals>"); 9 by counter thread. The old rows
    of every rollout on record are dropped and the rollouts read again, so moving one to the archive
    afterwards (read anew under the new keys) still counts each response once."""
    from tests.codex_fixtures import CHILD_RESTAMPED, PARENT
    paths = [place(p) for p in (LEGACY, PARENT, CHILD_RESTAMPED)]
    conn = db.connect()
    ingest_codex(conn, now=ts("2026-11-23T16:00:00Z"))
    expected = sums(conn)
    conn.execute("UPDATE codex_usage SET key = 't:' || printf('%.3f', ts) || ':'"
                 " || substr(key, length('t:' || thread_id || ':') + 1) WHERE key LIKE 't:%'")
    kept = conn.execute("INSERT INTO codex_usage VALUES('t:1.000:1,0,1,0,2', 1.0, 'gpt-5', 'gone-thread', 'cli',"
                        " 1, 0, 1, 0, 2)")
    assert kept.rowcount == 1
    conn.execute("PRAGMA user_version=8")
    conn.close()
    conn = db.connect()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION == 12
    assert conn.execute("SELECT key FROM codex_usage WHERE key LIKE 't:%'").fetchall() == [
        ("t:1.000:1,0,1,0,2",)]  # the rows of a rollout no longer on record stay
    ingest_codex(conn, now=ts("2026-11-23T16:01:00Z"))
    with_gone = tuple(a + b for a, b in zip(expected, (1, 0, 1, 0, 2), strict=True))
    assert sums(conn) == with_gone
    archived = home() / "archived_sessions" / paths[0].name
    archived.parent.mkdir(parents=True)
    os.replace(paths[0], archived)
    ingest_codex(conn, now=ts("2026-11-23T16:02:00Z"))
    assert sums(conn) == with_gone
