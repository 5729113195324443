"""Claude Code transcript JSONL bytes -> usage records (one per assistant row that carries usage).

No policy here: de-duplication across rows and files is the ledger's job (ledger.UPSERT). The key
is `message.id`, else `requestId`, else a hash of (sessionId, timestamp, usage).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor.fastdatetime import datetime
from governor.fsutil import read_tail
from governor.policy.pricing import FAST
from governor.record import Record  # a NamedTuple without exec-compiling one per class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
# More tokens than any response can carry (a context is ~1M): a larger count is junk, and one such count
# would overflow SQLite's 64-bit integers or their sums in every report.
MAX_TOKENS = 10**12


class UsageRecord(Record):
    key: str
    ts: float  # epoch seconds, UTC
    session_id: str
    project: str
    model: str
    input: int
    output: int
    cache_creation: int
    cache_read: int
    cache_5m: int | None  # the 5-minute / 1-hour split of cache_creation, when the row gives it
    cache_1h: int | None
    sidechain: int
    web_search: int = 0  # usage.server_tool_use.web_search_requests

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read


class Malformed(ValueError):
    """A line that is not the JSON Claude Code writes (bad JSON, junk, a torn line)."""


def parse_timestamp(value: Any) -> float:
    """Epoch seconds of an ISO 8601 time with a zone; Malformed otherwise."""
    # The form Claude Code writes (JavaScript's toISOString, "2026-11-19T23:52:44.646Z") straight to
    # datetime's C parser, which reads the "Z" itself (Python 3.11+): ~0.2 us, a third of the Python
    # shortcut it replaces; a scan parses a million timestamps. Whatever it refuses, _parse_iso decides.
    if type(value) is str and len(value) == 24 and value[23] == "Z":
        try:
            return _fromisoformat(value).timestamp()
        except ValueError:  # not a date (a month 13, an hour 24), or Python 3.10, which wants "+00:00"
            pass
    if not isinstance(value, str) or not value:
        raise Malformed("no timestamp")
    return _parse_iso(value)


_fromisoformat = datetime.fromisoformat


def _parse_iso(value: str) -> float:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Malformed(f"bad timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        raise Malformed(f"timestamp without zone {value!r}")
    return parsed.timestamp()


def _count(usage: dict[str, Any], field: str) -> int:
    value = usage.get(field) or 0
    if type(value) is int and 0 <= value <= MAX_TOKENS:  # nearly every row: skip the general checks
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_TOKENS:
        raise Malformed(f"bad {field}")  # also NaN and Infinity, which json.loads accepts
    return int(value)


def check_text(*values: str) -> None:
    """Malformed unless every value is text SQLite can store: a lone surrogate (a JSON escape such as
    \\ud800) cannot be encoded as UTF-8, and would fail the whole file's insert on every run."""
    for value in values:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise Malformed("a lone surrogate") from exc


def record_from_row(row: Any, project: str) -> UsageRecord | None:
    """The usage record of one parsed row, or None when the row carries no billable usage."""
    if not isinstance(row, dict):
        return None
    if row.get("type") in PROGRESS:
        return _progress_record(row, project)
    message = row.get("message")
    if not isinstance(message, dict):
        return None
    # an assistant row; one without a type but with an assistant message too (older clients, ccusage's fixtures)
    if row.get("type") != "assistant" and not (row.get("type") is None and message.get("role") == "assistant"):
        return None
    usage = message.get("usage")
    if not isinstance(usage, dict):
        return None
    model = message.get("model") or "unknown"
    if model == "<synthetic>" or row.get("isApiErrorMessage"):
        return None
    counts = [_count(usage, f) for f in TOKEN_FIELDS]
    ts = parse_timestamp(row.get("timestamp"))
    # a fork's copy of an earlier response names the session that made the request
    session = str(row.get("requestSessionId") or row.get("sessionId") or "")
    tools = usage.get("server_tool_use")
    searches = _count(tools, "web_search_requests") if isinstance(tools, dict) else 0
    if usage.get("speed") == "fast":
        model = f"{model}{FAST}"
    split = usage.get("cache_creation")
    c5m = c1h = None
    if isinstance(split, dict):
        c5m = _count(split, "ephemeral_5m_input_tokens")
        c1h = _count(split, "ephemeral_1h_input_tokens")
    if message.get("id"):
        key = "m:" + str(message["id"])
    elif row.get("requestId"):
        key = "r:" + str(row["requestId"])
    else:
        import hashlib  # rare rows without ids only

        basis = json.dumps([session, row.get("timestamp"), counts], separators=(",", ":"))
        key = "h:" + hashlib.sha1(basis.encode("utf-8", "surrogatepass")).hexdigest()
    model = str(model)
    check_text(key, session, model)
    return UsageRecord(
        key,
        ts,
        session,
        project,
        model,
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        c5m,
        c1h,
        1 if row.get("isSidechain") else 0,
        searches,
    )


PROGRESS = ("progress", "agent_progress")  # a subagent's response relayed into its parent's transcript


def _progress_record(row: dict[str, Any], project: str) -> UsageRecord | None:
    """The subagent response a progress row relays (its own `message.id`, so the subagents/ file's row of
    the same response is the same record: counted once, and still counted when that file is missing)."""
    data = row.get("data")
    inner = data.get("message") if isinstance(data, dict) else None
    if not isinstance(inner, dict) or inner.get("type") != "assistant":
        return None
    relayed = {**inner, "sessionId": inner.get("sessionId") or row.get("sessionId"), "isSidechain": True}
    return record_from_row(relayed, project)


COST_STATE = b'{"type":"cost-state"'  # how Claude Code starts its cost-state line (meter/account.py)


def usage_lines(block: bytes, cost_states: list[int] | None = None) -> tuple[list[bytes], int]:
    """The lines of a block that may carry usage, and how many lines are junk or torn (counted as
    malformed); a valid row without usage needs no parsing and is dropped here. The offsets of cost-state
    lines go to `cost_states` (found here, per line, rather than by another scan of the block)."""
    lines: list[bytes] = []
    bad = 0
    find, rfind = block.find, block.rfind
    start, size = 0, len(block)
    while start < size:  # lines by offsets, not split(): no copy of the large rows that are skipped
        end = find(b"\n", start)
        if end < 0:
            end = size
        if rfind(b'"usage"', start, end) >= 0:  # cheap pre-filter: only assistant rows carry usage
            lines.append(block[start:end])
        elif cost_states is not None and block.startswith(COST_STATE, start):
            cost_states.append(start)
        elif not (block[start] == 0x7B and block[end - 1] == 0x7D):  # not plainly `{...}`: look closer
            line = block[start:end].strip()
            if line and (line[:1] != b"{" or line[-1:] != b"}"):
                bad += 1
        start = end + 1
    return lines, bad


def parse_block(block: bytes, project: str, cost_states: list[int] | None = None) -> tuple[list[UsageRecord], int]:
    """Records in a block of lines, and how many lines were malformed (transcript_fast.parse_block gives
    the same records faster, for a scan that repays its import); cost-state line offsets to `cost_states`."""
    records: list[UsageRecord] = []
    lines, bad = usage_lines(block, cost_states)
    bad += parse_lines(lines, project, records)
    return records, bad


def parse_lines(lines: Iterable[bytes], project: str, into: list[Any]) -> int:
    """Append the records of `lines` to `into`; returns how many lines were malformed."""
    bad = 0
    for line in lines:
        try:
            record = record_from_row(json.loads(line), project)
        except (ValueError, UnicodeDecodeError, RecursionError):
            bad += 1
        else:
            if record is not None:
                into.append(record)
    return bad


def project_of(path: str, root: str) -> str:
    """The project directory name of a transcript under a `projects` root."""
    rel = os.path.relpath(path, root)
    head = rel.split(os.sep, 1)[0]
    return head if head not in (".", "..") else os.path.basename(os.path.dirname(path))


def last_context_tokens(path: str, tail_bytes: int = 1 << 20, sidechain: bool = False) -> int | None:
    """Context size of the session's last response (input + cache creation + cache read), read from the
    end of the transcript; None when the file has no usage row in its last `tail_bytes`. A sub-agent's
    own file (`sidechain=True`) holds only sidechain rows, which a session's context otherwise skips."""
    for size in (64 * 1024, tail_bytes):  # the last response is nearly always in the last 64 KB
        found = _last_context(path, size, sidechain)
        if found is not None:
            return found
    return None


def _last_context(path: str, tail_bytes: int, sidechain: bool) -> int | None:
    try:
        data = read_tail(path, tail_bytes)
    except (OSError, ValueError):  # ValueError: a NUL or a lone surrogate in the name
        return None
    for line in reversed(data.split(b"\n")):
        if b'"usage"' not in line:
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(row, dict) and bool(row.get("isSidechain")) != sidechain:
            continue
        try:
            record = record_from_row(row, "")
        except Malformed:
            continue
        if record is not None:
            return record.input + record.cache_creation + record.cache_read
    return None
