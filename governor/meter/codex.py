"""Codex CLI rollout lines -> de-duplicated usage rows and rate-limit snapshots (pure, no I/O).

Usage (reference/codex.md §3):
- A file with `token_usage_record` lines (0.169.0+) counts only those: one row per `response_id`
  (key "r:<id>", global, so copies in other files collapse); its `token_count` usage is ignored. A
  `token_count` may precede the first record, so a call that finds the first record after delta rows
  were emitted for the file sets `retract`: the caller deletes this thread's "t:" rows.
- Other files: deltas of `info.total_token_usage`. All-zero delta = re-emit, skipped; any negative
  field = new segment (count `last_token_usage`, re-baseline). `last_token_usage` is never summed.
  Key "t:<counter>:<total tuple>": a cumulative total names one response of the counter it belongs to
  (the file's thread; for a fork that carries on its parent's totals, the parent's), so a copy of that
  line in any file, whatever its timestamp, collapses onto the same row.
- Fork/subagent files (`source.subagent.thread_spawn`, `forked_from_id`, or a second `session_meta`
  of another thread) start with a replay of the parent's history, written when the fork is made. The
  replay is told by the rollout's own markers: a line stamped before the fork's `session_meta` (Codex
  kept the parent's time), a `task_started` whose `started_at` is older than the fork (a replayed
  turn), and everything from the fork up to the first own turn: the first `task_started` at or after
  the fork, or, in files without turn markers, the first line after a pause of BURST_GAP_S in the
  burst Codex wrote the copy in (however many seconds the whole burst took). Replayed `token_count`
  lines only move the baseline and give no rate limits (a re-stamped replay would pose as a fresh
  reading). A replayed line the markers miss is still the parent's total, and collapses by its key.
  Codex 0.169.0's `exec fork` copies nothing (`forked_from_id` + `forked_from_ordinal_exclusive`
  point into the parent's file): its first own turn starts within milliseconds of the fork, and its
  totals carry on from the parent's (docs/codex-rollouts.md).
Rate limits (§4): windows named by `window_minutes`, never by slot; `merge_snapshot` picks the winner.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from governor.meter.transcript import Malformed, parse_timestamp

DEFAULT_MODEL = "gpt-5"  # Sept-2025 builds wrote token_count without any turn_context
BURST_GAP_S = 1.0  # a pause this long between lines ends a replay burst (files without turn markers)
_MARKERS = (b'"token_count"', b'"token_usage_record"', b'"turn_context"', b'"session_meta"',
            b'"task_started"')
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")
_THREAD_IN_NAME = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$")

Tokens = tuple[int, int, int, int, int]  # input, cached_input, output, reasoning, total


class CodexUsage(NamedTuple):
    key: str
    ts: float
    model: str
    thread_id: str
    source: str
    input: int
    cached_input: int
    output: int
    reasoning: int
    total: int


class LimitSnapshot(NamedTuple):
    limit_id: str
    window: str  # five_hour | weekly | monthly | minutes:<n>
    used_pct: float  # 0-100 as Codex reports it
    window_minutes: int | None
    resets_at: float | None
    observed_at: float
    limit_name: str | None
    plan_type: str | None


class Parsed:
    """What parse_block found (a plain class: `dataclasses` costs a hook ~6 ms of imports)."""

    def __init__(self, usage: list[CodexUsage], limits: list[LimitSnapshot], bad_lines: int, retract: bool,
                 state: dict[str, Any]) -> None:
        self.usage = usage
        self.limits = limits  # at most one per (limit_id, window): the block's winner
        self.bad_lines = bad_lines
        self.retract = retract  # delete this thread's "t:" rows: the file turned out to carry token_usage_record
        self.state = state


def thread_from_name(path: str) -> str | None:
    match = _THREAD_IN_NAME.search(path)
    return match.group(1) if match else None


def new_state(thread_id: str | None = None) -> dict[str, Any]:
    """Per-file parser state (JSON-serialisable), stored with the file's cursor."""
    return {"thread": thread_id or "", "source": "", "model": None, "prev": None, "records": False,
            "emitted": False, "metas": 0, "fork": False, "fork_ts": None, "replay": False, "last_ts": None,
            "marked": False, "counter": None}


def window_name(minutes: int) -> str:
    if 290 <= minutes <= 310:
        return "five_hour"
    if 10000 <= minutes <= 10160:
        return "weekly"
    if 40000 <= minutes <= 45000:
        return "monthly"
    return f"minutes:{minutes}"


def _order(s: LimitSnapshot) -> tuple[float, float, float]:
    return (s.observed_at, s.used_pct, s.resets_at or 0.0)


def merge_snapshot(current: LimitSnapshot | None, new: LimitSnapshot) -> LimitSnapshot:
    """The later reading wins, except a 0 % placeholder taken while an earlier non-zero reading's window
    was still running (its resets_at not yet passed): that one keeps the mirror. Symmetric in its
    arguments, so the order files are read in does not matter."""
    if current is None:
        return new
    newer, older = (new, current) if _order(new) > _order(current) else (current, new)
    placeholder = (newer.used_pct == 0 and older.used_pct > 0 and older.resets_at is not None
                   and newer.observed_at < older.resets_at)
    return older if placeholder else newer


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def snapshots(rate_limits: Any, ts: float) -> list[LimitSnapshot]:
    """Windows of one `rate_limits` object (nested 0.169.0/legacy form, or the very old flat form)."""
    if rate_limits is None:
        return []  # API-key auth or the 0.114.0 Team bug: leave the mirror unchanged
    if not isinstance(rate_limits, dict):
        raise Malformed("rate_limits")
    limit_id = str(rate_limits.get("limit_id") or "codex")
    name, plan = rate_limits.get("limit_name"), rate_limits.get("plan_type")
    out = []
    for slot, default_minutes in (("primary", 300), ("secondary", 10080)):
        window = rate_limits.get(slot)
        if not isinstance(window, dict):  # very old flat form: primary_used_percent, ...
            window = {k[len(slot) + 1:]: v for k, v in rate_limits.items() if k.startswith(slot + "_")}
        used = _number(window.get("used_percent"))
        if used is None:
            continue
        minutes_raw = _number(window.get("window_minutes"))
        minutes = int(minutes_raw) if minutes_raw else default_minutes  # slot only when Codex did not say
        resets = _number(window.get("resets_at"))
        relative = _number(window.get("resets_in_seconds"))  # Oct-2025 builds
        if resets is None and relative is not None:
            resets = ts + relative
        out.append(LimitSnapshot(limit_id, window_name(minutes), used, minutes, resets, ts,
                                 str(name) if name else None, str(plan) if plan else None))
    return out


def _tokens(usage: Any) -> Tokens:
    if not isinstance(usage, dict):
        raise Malformed("usage")
    values: list[int] = []
    for field in _FIELDS:
        value = usage.get(field)
        if value is None:  # total_tokens is input + output on the Responses API
            value = values[0] + values[2] if field == "total_tokens" else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Malformed(field)
        values.append(value)
    return (values[0], values[1], values[2], values[3], values[4])


def _sig(tokens: Tokens) -> str:
    return ",".join(map(str, tokens))


def _row(key: str, ts: float, state: dict[str, Any], t: Tokens, thread: str | None = None) -> CodexUsage:
    inp, cached, out, reasoning, total = t
    return CodexUsage(key, ts, state["model"] or DEFAULT_MODEL, thread or state["thread"], state["source"],
                      inp, min(cached, inp), out, reasoning, total)


def _decode(block: bytes) -> tuple[list[dict[str, Any]], int]:
    """The lines that matter (byte pre-filter: response_item bodies are never parsed) and the bad count."""
    lines, bad = [], 0
    for raw in block.split(b"\n"):
        if not raw.strip():
            continue
        if not any(m in raw for m in _MARKERS):
            if raw.lstrip()[:1] != b"{" or raw.rstrip()[-1:] != b"}":
                bad += 1  # junk or a torn line
            continue
        try:
            obj = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            bad += 1
            continue
        if isinstance(obj, dict) and isinstance(obj.get("payload"), dict):
            lines.append(obj)
        else:
            bad += 1
    return lines, bad


def _session_meta(state: dict[str, Any], payload: dict[str, Any], ts: float) -> None:
    state["metas"] += 1
    thread = payload.get("id") or payload.get("session_id")
    if state["metas"] == 1:
        state["thread"] = str(thread or state["thread"])
        source = payload.get("source")
        state["source"] = next(iter(source), "") if isinstance(source, dict) else str(source or "")
        spawn = source.get("subagent") if isinstance(source, dict) else None
        spawn = spawn.get("thread_spawn") if isinstance(spawn, dict) else None
        parent = payload.get("forked_from_id") or (spawn.get("parent_thread_id") if isinstance(spawn, dict)
                                                     else None)
        state["fork"] = bool(parent) or spawn is not None
        if parent:
            state["counter"] = str(parent)
        state["fork_ts"] = state["last_ts"] = ts
        state["replay"] = state["fork"]
    elif thread and str(thread) != state["thread"]:
        state["fork"] = True  # the parent's session_meta (and its ancestors'), copied in with its history
        if state["metas"] == 2 and state["fork_ts"] is not None:
            state["replay"] = state["replay"] or not state["emitted"]
        if not state["emitted"]:
            state["counter"] = str(thread)  # the deepest ancestor copied: whose totals the history carries


def _replayed(state: dict[str, Any], obj: dict[str, Any], ts: float) -> bool:
    """Whether a line of a fork file is part of the parent's replayed history (see the module doc)."""
    fork_ts = state["fork_ts"]
    if not state["fork"] or fork_ts is None:
        return False
    if ts < fork_ts:
        return True  # the parent's own timestamp, kept on the copy
    payload = obj["payload"]
    if not state["replay"]:
        return False
    if obj.get("type") == "event_msg" and payload.get("type") == "task_started":
        started = _number(payload.get("started_at"))
        if started is not None and started < int(fork_ts):
            state["marked"] = True  # the replay has turn markers: only an own turn ends it
            return True  # a replayed turn (started_at is whole seconds)
        state["replay"] = False  # the first own turn
        return False
    last = state["last_ts"]
    state["last_ts"] = max(last if last is not None else ts, ts)
    if not state.get("marked") and last is not None and ts - last >= BURST_GAP_S:
        state["replay"] = False  # the burst is over: Codex paused, the fork is working on its own
        return False
    return True


def _token_count(state: dict[str, Any], payload: dict[str, Any], ts: float, parsed: Parsed,
                 replay: bool) -> None:
    found = snapshots(payload.get("rate_limits"), ts)
    info = payload.get("info")
    if info is None:
        total = None
    elif not isinstance(info, dict):
        raise Malformed("info")
    else:
        raw_total = info.get("total_token_usage")
        total = None if raw_total is None else _tokens(raw_total)
    if not replay:
        parsed.limits.extend(found)
    if total is None or state["records"]:
        return
    prev = state["prev"]
    state["prev"] = list(total)
    if replay:
        return  # baseline only: the parent's file already counted these
    base = prev or (0, 0, 0, 0, 0)
    delta: Tokens = (total[0] - base[0], total[1] - base[1], total[2] - base[2], total[3] - base[3],
                     total[4] - base[4])
    if not any(delta):
        return  # re-emit on a rate-limit refresh
    if min(delta) < 0:  # reset / compaction: a new segment, on the file's own counter
        last = info.get("last_token_usage") if isinstance(info, dict) else None
        delta = _tokens(last) if last is not None else total
        state["counter"] = None
    key = f"t:{state['counter'] or state['thread']}:{_sig(total)}"
    parsed.usage.append(_row(key, ts, state, delta))
    state["emitted"] = True


def _record(state: dict[str, Any], payload: dict[str, Any], ts: float, parsed: Parsed) -> None:
    tokens = _tokens(payload.get("usage"))
    rid = payload.get("response_id")
    key = f"r:{rid}" if rid else f"r:{state['thread']}:{ts:.3f}:{_sig(tokens)}"
    thread = payload.get("thread_id")
    parsed.usage.append(_row(key, ts, state, tokens, str(thread) if thread else None))


def parse_block(block: bytes, state: dict[str, Any]) -> Parsed:
    """Usage rows and snapshots in a block of complete lines, given the file's state (not mutated)."""
    state = {**new_state(), **state}  # a state saved by an older version lacks the newer keys
    lines, bad = _decode(block)
    parsed = Parsed([], [], bad, False, state)
    if not state["records"] and any(o.get("type") == "token_usage_record" for o in lines):
        state["records"] = True  # decided before this block's token_count lines are looked at
        parsed.retract, state["emitted"] = state["emitted"], False
    for obj in lines:
        kind, payload = obj.get("type"), obj["payload"]
        try:
            if kind == "turn_context":
                if isinstance(payload.get("model"), str) and payload["model"]:
                    state["model"] = payload["model"]
                if state["replay"]:
                    _replayed(state, obj, parse_timestamp(obj.get("timestamp")))
                continue
            task = kind == "event_msg" and payload.get("type") in ("token_count", "task_started")
            if kind not in ("session_meta", "token_usage_record") and not task:
                continue
            ts = parse_timestamp(obj.get("timestamp"))
            if kind == "session_meta":
                _session_meta(state, payload, ts)
            elif kind == "token_usage_record":
                _replayed(state, obj, ts)
                _record(state, payload, ts, parsed)
            elif payload.get("type") == "task_started":
                _replayed(state, obj, ts)
            else:
                _token_count(state, payload, ts, parsed, _replayed(state, obj, ts))
        except (Malformed, KeyError, TypeError):
            parsed.bad_lines += 1
    best: dict[tuple[str, str], LimitSnapshot] = {}
    for snap in parsed.limits:
        best[snap.limit_id, snap.window] = merge_snapshot(best.get((snap.limit_id, snap.window)), snap)
    parsed.limits = sorted(best.values(), key=_order)
    return parsed
