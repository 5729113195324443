"""Mirror Codex rollouts into the ledger (usage per response, latest rate-limit window per limit) and
read the Codex lane back for status, routing and daily reports.

One transaction per ingest with the cursors re-read inside the write lock, so concurrent ingests
(several hook processes) never read the same bytes twice; every row key is global besides, so a file
read again (replaced, moved to archived_sessions/) cannot double count either.
"""

from __future__ import annotations

import json
import os
from typing import Any

from governor import paths, timeutil
from governor.fastdatetime import date, datetime, tzinfo
from governor.fastsqlite import sqlite3
from governor.meter import codex, codex_limits, db, tail
from governor.meter.codex import LimitSnapshot
from governor.meter.codex_files import discover

KIND = "codex"
WEEK_S = 7 * 86400
_COLS = "key, ts, model, thread_id, source, input, cached_input, output, reasoning, total"
# The earliest sighting keeps time and owner: a re-stamped replay of a record must not move its day.
UPSERT_USAGE = (f"INSERT INTO codex_usage({_COLS}) VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET"
                " ts=excluded.ts, model=excluded.model, thread_id=excluded.thread_id, source=excluded.source"
                " WHERE excluded.ts < codex_usage.ts")
RETRACT = "DELETE FROM codex_usage WHERE thread_id=? AND key LIKE 't:%'"
_LIMIT_COLS = "limit_id, window, used_pct, window_minutes, resets_at, observed_at, limit_name, plan_type"
_TOKENS = ("input", "cached_input", "output", "reasoning", "total")


class CodexIngestStats:
    """What one ingest did (a plain class: `dataclasses` costs a hook ~6 ms of imports)."""

    def __init__(self) -> None:
        self.files_seen = self.files_read = self.bytes_read = self.records = 0
        self.limits_updated = self.bad_lines = self.skipped_old = 0
        self.unreadable: list[str] = []  # rollouts that cannot be read, and why (logged when the set changes)

    def __repr__(self) -> str:
        return f"CodexIngestStats({self.__dict__})"


def _state(cursor: tail.Cursor | None, start: int, path: str) -> tuple[dict[str, Any], int]:
    if start and cursor is not None and cursor.state:
        try:
            return json.loads(cursor.state), start
        except ValueError:
            pass  # unreadable state: read the file again; the keys keep that exact
    return codex.new_state(codex.thread_from_name(path) or os.path.basename(path)), 0


def _apply_limit(conn: sqlite3.Connection, snap: LimitSnapshot) -> bool:
    row = conn.execute(f"SELECT {_LIMIT_COLS} FROM codex_limits WHERE limit_id=? AND window=?",
                       (snap.limit_id, snap.window)).fetchone()
    current = LimitSnapshot(*row) if row else None
    if codex.merge_snapshot(current, snap) is not snap or current == snap:
        return False
    conn.execute(f"INSERT OR REPLACE INTO codex_limits({_LIMIT_COLS}) VALUES(?,?,?,?,?,?,?,?)", snap)
    return True


def _pending(conn: sqlite3.Connection, found: list[str], since: float | None, stats: CodexIngestStats) -> bool:
    """Whether any rollout has bytes to read, judged from the cursors as they are (no lock); counts the
    files too old to read in `stats` when there is none."""
    cursors = tail.load_cursors(conn, KIND)
    old = 0
    for path in found:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if tail.too_old(st, cursor := cursors.get(path), since):
            old += 1
        elif tail.start_offset(st, cursor) is not None:
            return True
    stats.files_seen, stats.skipped_old = len(found), old
    return False


def ingest_codex(conn: sqlite3.Connection, now: float, codex_home: str | None = None,
                 since: float | None = None, only: list[str] | None = None,
                 limit: int | None = None) -> CodexIngestStats:
    """Read what Codex appended since the last ingest. Files untouched since `since` (epoch s) and never
    read before are skipped; `only` reads just those rollouts (a hook: codex_refresh found them changed);
    `limit` bounds the bytes read of one file per call (a hook; the next call goes on from the cursor).
    A killed process leaves the ledger as it was."""
    home = codex_home or paths.codex_home()
    stats = CodexIngestStats()
    found = list(discover(home, stats.unreadable)) if only is None else list(only)
    if _pending(conn, found, since, stats):  # nothing new: a report needs no write lock (nor waits for one)
        _read(conn, found, now, since, limit, stats)
    if stats.unreadable:
        tail.log_unreadable(conn, stats.unreadable, "unreadable_rollouts", "Codex rollout")
    return stats


def _read(conn: sqlite3.Connection, found: list[str], now: float, since: float | None, limit: int | None,
          stats: CodexIngestStats) -> None:
    snaps: list[LimitSnapshot] = []
    with db.transaction(conn):
        cursors = tail.load_cursors(conn, KIND)  # inside the write lock: another ingest may have moved them
        for path in found:
            stats.files_seen += 1
            try:
                st = os.stat(path)
            except OSError as exc:  # archived or deleted while we looked
                stats.unreadable.append(f"{path} ({exc.strerror or type(exc).__name__})")
                continue
            if tail.too_old(st, cursor := cursors.get(path), since):
                stats.skipped_old += 1
                continue
            start = tail.start_offset(st, cursor)
            if start is None:
                continue
            state, start = _state(cursor, start, path)
            offset, bad = start, 0
            blocks = tail.Blocks(path, start, limit=limit)
            try:
                for block, end in blocks:
                    offset = end
                    parsed = codex.parse_block(block, state)
                    state = parsed.state
                    if parsed.retract:
                        conn.execute(RETRACT, (state["thread"],))
                    conn.executemany(UPSERT_USAGE, parsed.usage)
                    snaps.extend(parsed.limits)
                    stats.records += len(parsed.usage)
                    bad += parsed.bad_lines
            except OSError as exc:  # unreadable, gone, no longer regular: rows so far kept (idempotent), no cursor
                stats.unreadable.append(f"{path} ({exc.strerror or type(exc).__name__})")
                continue
            bad += blocks.overlong
            new = tail.Cursor(st.st_dev, st.st_ino, offset, max(st.st_size, offset), st.st_mtime_ns,
                              json.dumps(state, separators=(",", ":")))
            tail.save_cursor(conn, path, KIND, new, bad, now)
            stats.files_read += 1
            stats.bytes_read += offset - start
            stats.bad_lines += bad
        for snap in sorted(snaps, key=lambda s: (s.observed_at, s.used_pct)):  # oldest first
            stats.limits_updated += _apply_limit(conn, snap)


def token_totals(conn: sqlite3.Connection, start: float | None, end: float | None) -> dict[str, int]:
    """Summed Codex tokens (and responses) with start <= ts < end."""
    row = conn.execute(
        "SELECT " + ", ".join(f"COALESCE(SUM({c}), 0)" for c in _TOKENS) + ", COUNT(*) FROM codex_usage"
        " WHERE ts >= ? AND ts < ?", (start if start is not None else float("-inf"),
                                      end if end is not None else float("inf"))).fetchone()
    return {**dict(zip(_TOKENS, map(int, row[:5]), strict=True)), "responses": int(row[5])}


def codex_lane(conn: sqlite3.Connection, now: float, tz: tzinfo | None = None) -> dict[str, Any]:
    """The Codex lane: per limit_id ('codex', the account-wide one, first) its windows, each with the
    last reading (None once its resets_at has passed, with the reading's age); the 'codex' weekly/5 h
    at the top; tokens today and this cycle (since the weekly window opened, else the last 7 days)."""
    tz = tz or timeutil.local_zone()
    limits: dict[str, dict[str, Any]] = {}
    rows = conn.execute("SELECT limit_id, window, limit_name, plan_type, used_pct, window_minutes, resets_at,"
                        " observed_at FROM codex_limits ORDER BY limit_id != 'codex', limit_id, window")
    for limit_id, window, name, plan, *reading in rows:
        entry = limits.setdefault(limit_id, {"limit_id": limit_id, "limit_name": name, "plan_type": plan,
                                             "windows": {}})
        entry["windows"][window] = codex_limits.reading(tuple(reading), now)
    account = limits.get("codex", {"windows": {}})["windows"]
    weekly, five = account.get("weekly"), account.get("five_hour")
    if weekly and not weekly["stale"] and weekly["resets_at"] is not None:
        cycle_start, cycle_from = weekly["resets_at"] - WEEK_S, "weekly window"
    else:
        cycle_start, cycle_from = now - WEEK_S, "last 7 days"
    observed = [w["observed_at"] for w in account.values()]
    today = datetime.fromtimestamp(now, tz).date()
    return {
        "limits": list(limits.values()),
        "weekly_pct": weekly["used_pct"] if weekly else None,
        "weekly_used": weekly["used_pct"] / 100 if weekly and weekly["used_pct"] is not None else None,
        "weekly_resets_at": weekly["resets_at"] if weekly else None,
        "five_hour_pct": five["used_pct"] if five else None,
        "five_hour_resets_at": five["resets_at"] if five else None,
        "observed_at": max(observed) if observed else None,
        "age_s": now - max(observed) if observed else None,
        "tokens_today": token_totals(conn, timeutil.day_start(today, tz), now),
        "tokens_cycle": token_totals(conn, cycle_start, now),
        "cycle_start": cycle_start,
        "cycle_from": cycle_from,
    }


def codex_daily(conn: sqlite3.Connection, tz: tzinfo | None, since: date | None = None,
                until: date | None = None) -> list[dict[str, Any]]:
    """Token totals per local day (since..until inclusive), oldest first; days without usage are left out."""
    tz = tz or timeutil.local_zone()
    start = timeutil.day_start(since, tz) if since else None
    end = timeutil.day_end(until, tz) if until else None
    rows = conn.execute(
        "SELECT CAST(ts / 900 AS INTEGER), " + ", ".join(f"SUM({c})" for c in _TOKENS) + ", COUNT(*)"
        " FROM codex_usage WHERE ts >= ? AND ts < ? GROUP BY 1",  # 15-min buckets fold into any zone's days
        (start if start is not None else float("-inf"), end if end is not None else float("inf")))
    days: dict[date, dict[str, int]] = {}
    for bucket, *sums in rows:
        day = timeutil.local_date(bucket * 900, tz)
        acc = days.setdefault(day, dict.fromkeys((*_TOKENS, "responses"), 0))
        for name, value in zip((*_TOKENS, "responses"), sums, strict=True):
            acc[name] += int(value)
    return [{"day": d.isoformat(), **days[d]} for d in sorted(days)]
