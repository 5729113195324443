"""Claude Code's own account of a session (`cost-state` lines) -> the requests no row shows.

Claude Code 2.1.x writes one `cost-state` line when a process ends: the session lineage's cumulative
tokens per model (carried over by --resume / --continue, inherited by a fork), including requests that
leave no assistant row (compaction, the WebSearch tool's own request, a prompt aborted before its first
block). Per session, what a checkpoint counts beyond the session's de-duplicated rows up to it (and
beyond what a fork inherited) becomes `client-account` records, timed at the checkpoint, recomputed
from the tables whenever the session's rows or checkpoints change: so re-reads, restarts, truncation
and rows that appear later keep it exact. docs/claude-code-transcripts.md has the observations.
"""

from __future__ import annotations

import os

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor.fastsqlite import sqlite3
from governor.meter.transcript import Malformed, parse_timestamp

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

SOURCE = "client-account"
# cost-state's per-model fields -> the ledger's columns
FIELDS = (
    ("inputTokens", "input"),
    ("outputTokens", "output"),
    ("cacheCreationInputTokens", "cache_creation"),
    ("cacheReadInputTokens", "cache_read"),
    ("cacheCreationEphemeral5mInputTokens", "cache_5m"),
    ("cacheCreationEphemeral1hInputTokens", "cache_1h"),
    ("webSearchRequests", "web_search"),
)
COLUMNS = tuple(column for _field, column in FIELDS)
BACK_BYTES = 64 * 1024  # how far back a cost-state line at a block's start looks for the time before it

Item = tuple["Any", ...]  # ("cost", offset, session, ts, {model: counts}) | ("fork", session, parent, ts)


def cost_state_items(block: bytes, starts: list[int], base: int, path: str) -> list[Item]:
    """The cost-state lines starting at `starts` in a block of complete lines at file offset `base`
    (transcript.usage_lines finds them)."""
    items: list[Item] = []
    for start in starts:
        end = block.find(b"\n", start)
        end = len(block) if end < 0 else end
        item = _cost_state(block[start:end], base + start, _time_before(block, start, base, path))
        if item is not None:
            items.append(item)
    return items


def _count(value: Any) -> int:
    if type(value) is int and 0 <= value < 1 << 62:
        return value
    raise Malformed("bad cost-state count")


def _cost_state(line: bytes, offset: int, ts: float | None) -> Item | None:
    try:
        row = json.loads(line)
        session, models = row["sessionId"], row["modelUsage"]
        if ts is None:  # nothing timed before it in the file: the process's start
            ts = float(row["startTime"]) / 1000
        counts = {str(model): tuple(_count(usage.get(field, 0)) for field, _c in FIELDS)
                  for model, usage in models.items()}
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # not the shape Claude Code writes: no account rather than a wrong one
    if not isinstance(session, str) or not session:
        return None
    return ("cost", offset, session, ts, counts)


def _time_before(block: bytes, start: int, base: int, path: str) -> float | None:
    """The timestamp of the last timed line before a cost-state line (the process's last row)."""
    found = _last_timestamp(block[max(0, start - BACK_BYTES) : start])
    if found is None and base > 0:  # the line opens this read: look at the bytes before it
        try:
            with open(path, "rb") as fh:
                fh.seek(max(0, base - BACK_BYTES))
                found = _last_timestamp(fh.read(min(base, BACK_BYTES)))
        except OSError:
            return None
    return found


def _last_timestamp(data: bytes) -> float | None:
    pos = data.rfind(b'"timestamp":"')
    while pos >= 0:
        try:
            return parse_timestamp(data[pos + 13 : pos + 37].decode("ascii"))
        except (Malformed, UnicodeDecodeError):
            pos = data.rfind(b'"timestamp":"', 0, pos)
    return None


def forks_in(path: str, records: list[tuple[Any, ...]]) -> list[Item]:
    """A fork's copies of earlier responses among a session file's records: their session (requestSessionId)
    is not the file's. Returns (the file's session, the session copied from, the latest copy's time)."""
    if f"{os.sep}subagents{os.sep}" in path or not path.endswith(".jsonl"):
        return []
    own = os.path.basename(path)[:-6]
    foreign = [r for r in records if r[2] != own and r[2]]
    if not foreign:
        return []
    latest = max(foreign, key=lambda r: r[1])
    return [("fork", own, latest[2], latest[1])]


def store(conn: sqlite3.Connection, path: str, project: str, start: int, items: list[Item]) -> set[str]:
    """Inside the ingest's transaction: keep a file's checkpoints and forks; returns their sessions (and
    those whose checkpoints in this file are gone)."""
    sessions: set[str] = set()
    if start == 0:  # read from the start (first read, replaced or truncated): its old lines are gone
        sessions.update(r[0] for r in conn.execute("SELECT DISTINCT session_id FROM cost_state WHERE path=?", (path,)))
        conn.execute("DELETE FROM cost_state WHERE path=?", (path,))
    for item in items:
        if item[0] == "cost":
            _kind, offset, session, ts, counts = item
            conn.executemany(
                "INSERT OR REPLACE INTO cost_state VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(path, offset, session, ts, project, model, *c) for model, c in counts.items()],
            )
        else:
            _kind, session, parent, ts = item
            conn.execute(
                "INSERT INTO lineage VALUES(?,?,?) ON CONFLICT(session_id) DO UPDATE SET"
                " parent=excluded.parent, forked_at=excluded.forked_at WHERE excluded.forked_at >= forked_at",
                (session, parent, ts),
            )
        sessions.add(session)
    return sessions
