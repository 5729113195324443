"""Official usage figures: captures from the status line's `rate_limits`, Claude Code's cached
`/usage` numbers in .claude.json (read, never written) and manual `governor calibrate` entries.

A capture whose value is unchanged only refreshes its time, so the table holds one row per change. The
status line refreshes an unchanged reading at most every `refresh_after_s` (REFRESH_S or a quarter of
the fresh window): most redraws then write nothing, and a write transaction costs a redraw ~0.7 ms.
"""

from __future__ import annotations

import math
import os

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor import paths
from governor.fastdatetime import datetime
from governor.fastsqlite import sqlite3
from governor.meter import db
from governor.policy import windows
from governor.policy.calibrate import Capture, valid_used_pct

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

COLUMNS = "window, used_pct, resets_at, captured_at, source, session_id"
MAX_CYCLE_CAPTURES = 24  # enough points for the fit, bounded work in a hook
# The longest window Claude Code reports is a week: a reset further away (1e300, a microsecond epoch,
# a year past 9999) is not a reading of this cycle, and once stored it would break every report.
MAX_RESET_AHEAD_S = 8 * 86400
MAX_NAME_CHARS = 64
MAX_WINDOWS = 16  # Claude Code reports two or three; a payload of thousands costs a query each
CLAUDE_JSON_MAX_BYTES = 64 * 1024 * 1024
REFRESH_S = 30.0  # the status line's longest gap between refreshes of an unchanged reading's time


def record(conn: sqlite3.Connection, capture: Capture, refresh_after_s: float = 0.0) -> bool:
    """Store a capture (used_pct already validated). Returns True if stored or refreshed. An unchanged
    reading's time is refreshed only once it is `refresh_after_s` old."""
    last = conn.execute(
        "SELECT id, used_pct, resets_at, captured_at FROM captures WHERE window=? AND machine IS NULL"
        " ORDER BY captured_at DESC LIMIT 1",  # this machine's own (another's, merged by sync, stays theirs)
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
        if capture.captured_at - last[3] < refresh_after_s:
            return False
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
    """A Capture from {used_percentage|utilization, resets_at}; None when absent, impossible or stale.
    Every field is validated before it can be stored: the window name and session are short storable
    text, a given resets_at must parse and fall within the next MAX_RESET_AHEAD_S."""
    if not isinstance(window, dict) or not _window_name(name) or (session is not None and not _storable(session)):
        return None
    raw = window.get("used_percentage", window.get("utilization"))
    used = valid_used_pct(raw * scale if isinstance(raw, (int, float)) and not isinstance(raw, bool) else raw)
    if used is None:
        return None
    raw_reset = window.get("resets_at")
    resets_at = _epoch(raw_reset)
    if raw_reset is not None and resets_at is None:
        return None  # a reset time we cannot read
    if resets_at is not None and not captured_at < resets_at <= captured_at + MAX_RESET_AHEAD_S:
        return None  # already reset (a finished cycle), or implausibly far away
    return Capture(name, used, resets_at, captured_at, source, session)


def _window_name(name: str) -> bool:
    """Claude Code's window names are identifiers (five_hour, seven_day_sonnet)."""
    return _storable(name) and name.isascii() and name.replace("_", "a").isalnum()


def _storable(text: str) -> bool:
    if not isinstance(text, str) or not 0 < len(text) <= MAX_NAME_CHARS:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _epoch(value: Any) -> float | None:
    """Epoch seconds of a reset time (seconds, milliseconds or ISO 8601 with a zone); None when it is
    none of these or not finite."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            seconds = float(value) / (1000.0 if value > 1e11 else 1.0)
        except OverflowError:  # an int past a float
            return None
        return seconds if math.isfinite(seconds) else None
    if isinstance(value, str) and 0 < len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.timestamp()
    return None


def record_rate_limits(
    conn: sqlite3.Connection, rate_limits: Any, now: float, session: str | None, source: str = "statusline",
    refresh_after_s: float = 0.0,
) -> list[Capture]:
    """Captures from the status line's `rate_limits` object (0-100 scale, epoch-second resets)."""
    return record_body(conn, rate_limits, now, source, session, refresh_after_s)


def record_body(conn: sqlite3.Connection, body: Any, captured_at: float, source: str, session: str | None,
                refresh_after_s: float = 0.0) -> list[Capture]:
    """Every window of a usage body (status-line `rate_limits` or .claude.json's `utilization`): its named
    windows ({used_percentage|utilization, resets_at}), its `limits[]` rows (a model-scoped week only
    appears there) and its `extra_usage`. A named window wins over a `limits[]` row for the same id."""
    if not isinstance(body, dict):
        return []
    found: dict[str, Capture] = {}
    for name, window in list(body.items())[:MAX_WINDOWS]:
        if str(name) in windows.NOT_LIMITS:
            continue
        capture = from_window(str(name), window, captured_at, source, session)
        if capture is not None:
            found[capture.window] = capture
    for name, display, window in limit_rows(body.get("limits")):
        if name not in found:
            capture = from_window(name, window, captured_at, source, session)
            if capture is not None:
                found[name] = capture
        if display is not None:
            remember_label(conn, name, display, captured_at, refresh_after_s)
    record_extra(conn, body.get("extra_usage"), captured_at, source, refresh_after_s)
    return [c for c in found.values() if record(conn, c, refresh_after_s)]


def remember_label(conn: sqlite3.Connection, window: str, display_name: str, seen_at: float,
                   refresh_after_s: float = 0.0) -> None:
    """Keep a scoped window's display name (the newest seen), so reports name it as /usage does; the same
    name's time is refreshed once it is `refresh_after_s` old."""
    conn.execute("INSERT INTO window_labels VALUES(?,?,?) ON CONFLICT(window) DO UPDATE SET"
                 " display_name=excluded.display_name, seen_at=excluded.seen_at"
                 " WHERE excluded.seen_at >= seen_at AND (excluded.display_name IS NOT display_name"
                 " OR excluded.seen_at >= seen_at + ?)", (window, display_name, seen_at, refresh_after_s))


LIMIT_KINDS = {"session": windows.FIVE_HOUR, "weekly_all": windows.WEEKLY}


def limit_rows(limits: Any) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(window id, scoped display name or None, {utilization, resets_at}) of each usable `limits[]` row:
    kind session -> five_hour, weekly_all -> seven_day, weekly_scoped with a model -> seven_day_<model>.
    A surface-scoped row or an unknown kind is no window of the person's models: skipped."""
    if not isinstance(limits, list):
        return []
    rows = []
    for row in limits[:MAX_WINDOWS]:
        if not isinstance(row, dict):
            continue
        kind, display = row.get("kind"), None
        if kind in LIMIT_KINDS:
            name: str | None = LIMIT_KINDS[kind]
        elif kind == "weekly_scoped":
            scope = row.get("scope")
            model = scope.get("model") if isinstance(scope, dict) else None
            display = model.get("display_name") if isinstance(model, dict) else None
            if not isinstance(display, str) or not _storable(display):
                continue
            name = windows.scoped_name(display)
        else:
            continue
        if name is not None and _window_name(name):
            rows.append((name, display, {"utilization": row.get("percent"), "resets_at": row.get("resets_at")}))
    return rows


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def record_extra(conn: sqlite3.Connection, extra: Any, captured_at: float, source: str,
                 refresh_after_s: float = 0.0) -> bool:
    """Store an `extra_usage` reading ({is_enabled, monthly_limit, used_credits, utilization, currency});
    an unchanged one only refreshes its time, once it is `refresh_after_s` old. False when absent or not
    that shape."""
    if not isinstance(extra, dict) or not isinstance(extra.get("is_enabled"), bool):
        return False
    currency = extra.get("currency")
    currency = currency if isinstance(currency, str) and currency.isascii() and 0 < len(currency) <= 8 else None
    values = (int(extra["is_enabled"]), _amount(extra.get("monthly_limit")), _amount(extra.get("used_credits")),
              _amount(extra.get("utilization")), currency)
    last = conn.execute("SELECT id, is_enabled, monthly_limit, used_credits, utilization, currency, captured_at"
                        " FROM extra_usage ORDER BY captured_at DESC LIMIT 1").fetchone()
    if last and last[6] > captured_at:
        return False  # an older reading than the one kept
    if last and tuple(last[1:6]) == values:
        if captured_at - last[6] < refresh_after_s:
            return False
        conn.execute("UPDATE extra_usage SET captured_at=?, source=? WHERE id=?", (captured_at, source, last[0]))
        return True
    conn.execute("INSERT INTO extra_usage(captured_at, source, is_enabled, monthly_limit, used_credits,"
                 " utilization, currency) VALUES(?,?,?,?,?,?,?)", (captured_at, source, *values))
    return True


EXTRA_MAX_AGE_S = 7 * 86400  # an older extra-usage reading says nothing about this billing period


def latest_extra(conn: sqlite3.Connection, now: float) -> windows.Extra | None:
    row = conn.execute("SELECT is_enabled, monthly_limit, used_credits, utilization, currency, captured_at, source"
                       " FROM extra_usage WHERE captured_at >= ? ORDER BY captured_at DESC LIMIT 1",
                       (now - EXTRA_MAX_AGE_S,)).fetchone()
    if row is None:
        return None
    return windows.Extra(bool(row[0]), row[1], row[2], row[3], row[4], row[5], row[6])


def live_windows(conn: sqlite3.Connection, now: float) -> dict[str, str | None]:
    """The windows with a capture whose cycle has not reset: {window id: scoped display name or None}."""
    rows = conn.execute(
        "SELECT DISTINCT c.window, l.display_name FROM captures c LEFT JOIN window_labels l ON l.window = c.window"
        " WHERE c.resets_at IS NULL OR c.resets_at > ?", (now,)).fetchall()
    return {r[0]: r[1] for r in rows}


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
    from governor.fsutil import read_regular

    try:
        cached = json.loads(read_regular(path, CLAUDE_JSON_MAX_BYTES)).get("cachedUsageUtilization")
        fetched = float(cached["fetchedAtMs"]) / 1000.0
        utilization = cached["utilization"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return []
    if not isinstance(utilization, dict) or now - fetched > max_age_minutes * 60 or fetched > now + 300:
        return []
    return record_body(conn, utilization, fetched, "claude.json", None)


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
