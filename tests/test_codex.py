"""Codex rollout parser: exact de-duplicated totals and the right rate-limit snapshot per variant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from governor.meter import codex
from governor.meter.codex import CodexUsage, LimitSnapshot, merge_snapshot
from tests.codex_fixtures import (
    ALL,
    CHILD_ORIGINAL_TS,
    CHILD_RESTAMPED,
    FAMILIES,
    FORK_0169,
    FORK_PARENT_0169,
    LEGACY,
    PARENT,
    PLACEHOLDER,
    REAL_0169,
    RECORDS,
    SEPT_2025,
    WEEKLY_PRIMARY,
    last_reading,
    record_totals,
    token_count_before_record,
    ts,
)


def parse(path: Path, data: bytes | None = None) -> codex.Parsed:
    state = codex.new_state(codex.thread_from_name(str(path)))
    return codex.parse_block(path.read_bytes() if data is None else data, state)


def totals(rows: Any) -> tuple[int, int, int, int, int]:
    rows = list(rows)
    return (sum(r.input for r in rows), sum(r.cached_input for r in rows), sum(r.output for r in rows),
            sum(r.reasoning for r in rows), sum(r.total for r in rows))


def limits(parsed: codex.Parsed) -> dict[tuple[str, str], LimitSnapshot]:
    return {(s.limit_id, s.window): s for s in parsed.limits}


class Ledger:
    """What the ingest keeps: one row per key (earliest sighting), a thread's delta rows retracted on
    request, the merged snapshot per (limit_id, window)."""

    def __init__(self) -> None:
        self.rows: dict[str, CodexUsage] = {}
        self.limits: dict[tuple[str, str], LimitSnapshot] = {}

    def feed_file(self, path: Path, cuts: list[int] | None = None, data: bytes | None = None) -> None:
        data = path.read_bytes() if data is None else data
        state = codex.new_state(codex.thread_from_name(str(path)))
        bounds = [0, *sorted(set(cuts or [])), len(data)]
        for a, b in zip(bounds, bounds[1:], strict=False):
            parsed = codex.parse_block(data[a:b], state)
            state = parsed.state
            if parsed.retract:
                self.rows = {k: r for k, r in self.rows.items()
                             if not (k.startswith("t:") and r.thread_id == state["thread"])}
            for row in parsed.usage:
                if row.key not in self.rows or row.ts < self.rows[row.key].ts:
                    self.rows[row.key] = row
            for snap in parsed.limits:
                key = (snap.limit_id, snap.window)
                self.limits[key] = merge_snapshot(self.limits.get(key), snap)

    def totals(self) -> tuple[int, int, int, int, int]:
        return totals(self.rows.values())


def line_ends(data: bytes) -> list[int]:
    return [i + 1 for i, b in enumerate(data) if b == 0x0A][:-1]


# --- usage -------------------------------------------------------------------------------------

def test_token_usage_record_file_counts_each_response_once() -> None:
    parsed = parse(RECORDS)
    assert totals(parsed.usage) == (3000, 750, 375, 225, 3375)
    assert sorted(r.key for r in parsed.usage) == ["r:resp_1", "r:resp_2"]
    assert {r.model for r in parsed.usage} == {"gpt-5.2-codex"}
    assert {r.source for r in parsed.usage} == {"exec"}
    assert parsed.bad_lines == 0


def test_real_0169_rollout_totals_match_its_token_usage_records() -> None:
    parsed = parse(REAL_0169)
    assert totals(parsed.usage) == record_totals(REAL_0169) == (3000, 750, 375, 225, 3375)
    snap = limits(parsed)
    for window, minutes in (("five_hour", 300), ("weekly", 10080)):
        used, resets, seen = last_reading(REAL_0169, minutes)
        assert (snap["codex", window].used_pct, snap["codex", window].resets_at) == (used, resets)
        assert snap["codex", window].observed_at == seen


def test_legacy_deltas_skip_repeats_and_start_a_segment_when_totals_drop() -> None:
    parsed = parse(LEGACY)
    # 5 real responses; a byte-identical repeat and a fresh-timestamp re-emit are not among them.
    assert totals(parsed.usage) == (24500, 10000, 1300, 300, 25800)
    assert len(parsed.usage) == 5
    by_model: dict[str, int] = {}
    for r in parsed.usage:
        by_model[r.model] = by_model.get(r.model, 0) + r.total
    assert by_model == {"gpt-5-codex": 21000, "gpt-5": 4800}
    after_compaction = next(r for r in parsed.usage if r.ts == ts("2025-10-20T09:10:05Z"))
    # totals dropped: last_token_usage is counted, not a negative delta
    assert (after_compaction.input, after_compaction.total) == (3000, 3100)


def test_summing_last_token_usage_would_overcount_the_legacy_file() -> None:
    naive = 0
    for line in LEGACY.read_bytes().splitlines():
        info = json.loads(line)["payload"].get("info")
        if isinstance(info, dict):
            naive += info["last_token_usage"]["total_tokens"]
    assert naive > totals(parse(LEGACY).usage)[4] == 25800


def test_many_identical_token_count_rows_are_one_response() -> None:
    lines = LEGACY.read_bytes().splitlines(keepends=True)
    repeated = b"".join(lines[:4]) + lines[3] * 50
    assert totals(parse(LEGACY, repeated).usage) == (5000, 1000, 200, 50, 5200)


def test_no_turn_context_defaults_to_gpt5_and_bad_lines_are_counted() -> None:
    parsed = parse(SEPT_2025)
    assert totals(parsed.usage) == (5000, 1000, 300, 64, 5300)
    assert {r.model for r in parsed.usage} == {"gpt-5"}
    assert parsed.bad_lines == 2  # a torn token_count line and a junk line


def test_spawned_child_counts_only_its_own_work() -> None:
    ledger = Ledger()
    for path in (CHILD_RESTAMPED, PARENT, CHILD_ORIGINAL_TS):
        ledger.feed_file(path)
    own_restamped = (8000, 4000, 400, 100, 8400)
    own_original = (1000, 0, 50, 0, 1050)
    parent = (40000, 22000, 1500, 400, 41500)
    assert totals(parse(CHILD_RESTAMPED).usage) == own_restamped
    assert totals(parse(CHILD_ORIGINAL_TS).usage) == own_original
    expected = tuple(a + b + c for a, b, c in zip(parent, own_restamped, own_original, strict=True))
    assert ledger.totals() == expected
    assert {r.model for r in parse(CHILD_RESTAMPED).usage} == {"gpt-5.2-codex-mini"}


def test_replayed_rate_limits_are_not_fresh_readings() -> None:
    assert parse(CHILD_RESTAMPED).limits == []  # re-stamped copies of the parent's 5 % / 8 % readings
    ledger = Ledger()
    ledger.feed_file(PARENT)
    ledger.feed_file(CHILD_RESTAMPED)
    assert ledger.limits["codex", "five_hour"].observed_at == ts("2026-03-01T10:00:20Z")


def test_a_second_session_meta_of_another_thread_marks_a_fork() -> None:
    lines = CHILD_RESTAMPED.read_bytes().splitlines(keepends=True)
    first = json.loads(lines[0])
    first["payload"]["source"] = "cli"  # a user fork: no thread_spawn, only the copied parent meta
    data = json.dumps(first).encode() + b"\n" + b"".join(lines[1:])
    assert totals(parse(CHILD_RESTAMPED, data).usage) == (8000, 4000, 400, 100, 8400)


def test_a_real_0169_fork_counts_its_own_response_and_its_first_second_reading() -> None:
    fork, parent = parse(FORK_0169), parse(FORK_PARENT_0169)
    assert [r.key for r in parent.usage] == ["r:resp_mock000001", "r:resp_mock000002"]
    assert [(r.key, r.input, r.output) for r in fork.usage] == [("r:resp_mock000003", 3000, 300)]
    snap = limits(fork)  # stamped 0.1 s after the fork's session_meta: fresh, not a replay
    assert (snap["codex", "five_hour"].used_pct, snap["codex", "weekly"].used_pct) == (20.0, 6.0)
    ledger = Ledger()
    for path in (FORK_0169, FORK_PARENT_0169):
        ledger.feed_file(path)
    assert ledger.limits["codex", "five_hour"].used_pct == 20.0  # the fork's reading is the latest


def _line(stamp: str, kind: str, payload: dict[str, Any]) -> bytes:
    return json.dumps({"timestamp": stamp, "type": kind, "payload": payload}).encode() + b"\n"


def _count(stamp: str, total: tuple[int, int], pct: float) -> bytes:
    usage = {"input_tokens": total[0], "cached_input_tokens": 0, "output_tokens": total[1],
             "reasoning_output_tokens": 0, "total_tokens": sum(total)}
    return _line(stamp, "event_msg", {"type": "token_count", "info": {"total_token_usage": usage},
                                      "rate_limits": {"limit_id": "codex", "primary": {
                                          "used_percent": pct, "window_minutes": 300, "resets_at": 1.9e9}}})


def _fork_file(own_at: str) -> bytes:
    """A fork made at 12:00:00 that replays two parent turns re-stamped over four seconds (pauses of
    1.5 s and more, so no burst rule can see them), then its own turn from `own_at`."""
    fork_s = int(ts("2026-03-01T12:00:00Z"))
    meta = {"id": "019c9f00-dddd-7000-8000-000000000004", "forked_from_id": "019c9f00-aaaa-7000-8000-000000000001",
            "source": "cli"}
    return b"".join([
        _line("2026-03-01T12:00:00.000Z", "session_meta", meta),
        _line("2026-03-01T12:00:00.200Z", "event_msg", {"type": "task_started", "started_at": fork_s - 600}),
        _count("2026-03-01T12:00:01.700Z", (1000, 100), 50.0),
        _line("2026-03-01T12:00:03.200Z", "event_msg", {"type": "task_started", "started_at": fork_s - 300}),
        _count("2026-03-01T12:00:04.900Z", (3000, 300), 55.0),
        _line(own_at, "event_msg", {"type": "task_started", "started_at": int(ts(own_at))}),
        _count(own_at.replace(".000Z", ".400Z"), (3500, 350), 12.0),  # same second as its task_started
    ])


def test_a_replay_spread_over_seconds_is_told_by_its_turn_markers() -> None:
    parsed = parse(Path("rollout-2026-03-01T12-00-00-019c9f00-dddd-7000-8000-000000000004.jsonl"),
                   _fork_file("2026-03-01T12:00:05.000Z"))
    assert [(r.input, r.output) for r in parsed.usage] == [(500, 50)]  # only the own response
    assert parsed.usage[0].key == "t:019c9f00-aaaa-7000-8000-000000000001:3500,0,350,0,3850"
    assert [s.used_pct for s in parsed.limits] == [12.0]  # the replayed 50 % / 55 % are not readings


def test_a_fresh_response_in_the_forks_first_second_counts() -> None:
    meta = {"id": "019c9f00-eeee-7000-8000-000000000005", "forked_from_id": "019c9f00-aaaa-7000-8000-000000000001"}
    fork_s = int(ts("2026-03-01T12:00:00Z"))
    data = b"".join([
        _line("2026-03-01T12:00:00.100Z", "session_meta", meta),
        _line("2026-03-01T12:00:00.150Z", "event_msg", {"type": "task_started", "started_at": fork_s}),
        _count("2026-03-01T12:00:00.400Z", (700, 70), 9.0),
    ])
    parsed = parse(Path("rollout-x-019c9f00-eeee-7000-8000-000000000005.jsonl"), data)
    assert [(r.input, r.output, r.thread_id) for r in parsed.usage] == [
        (700, 70, "019c9f00-eeee-7000-8000-000000000005")]
    assert [s.used_pct for s in parsed.limits] == [9.0]


def test_delta_rows_are_retracted_once_the_file_shows_token_usage_records() -> None:
    data = token_count_before_record()
    cut = data.index(b'"type":"token_usage_record"')
    cut = data.rindex(b"\n", 0, cut) + 1
    ledger = Ledger()
    ledger.feed_file(RECORDS, [cut], data)
    assert ledger.totals() == (3000, 750, 375, 225, 3375)
    assert sorted(ledger.rows) == ["r:resp_1", "r:resp_2"]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_split_into_appends_gives_the_same_rows_and_snapshots(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(ALL + [None]))
    content = token_count_before_record() if path is None else path.read_bytes()
    path = path or RECORDS
    cuts = data.draw(st.lists(st.sampled_from(line_ends(content)), max_size=6))
    whole, split = Ledger(), Ledger()
    whole.feed_file(path, data=content)
    split.feed_file(path, cuts, content)
    assert split.rows == whole.rows
    assert split.limits == whole.limits


@settings(max_examples=40, deadline=None)
@given(st.permutations(ALL), st.lists(st.sampled_from(ALL), max_size=4))
def test_file_order_and_duplicated_files_never_change_totals(order: list[Path], copies: list[Path]) -> None:
    reference = Ledger()
    for path in ALL:
        reference.feed_file(path)
    ledger = Ledger()
    for path in [*order, *copies]:
        ledger.feed_file(path)
    assert ledger.totals() == reference.totals()
    assert ledger.limits == reference.limits


# --- rate limits -------------------------------------------------------------------------------

def test_429_line_without_usage_updates_the_mirror() -> None:
    snap = limits(parse(RECORDS))
    five = snap["codex", "five_hour"]
    assert (five.used_pct, five.resets_at) == (100.0, 1795455557)
    assert five.observed_at == ts("2026-11-23T14:40:30Z")
    assert five.plan_type == "plus"
    assert snap["codex", "weekly"].used_pct == 14.0


def test_legacy_windows_299_10079_and_relative_resets() -> None:
    snap = limits(parse(LEGACY))
    five, week = snap["codex", "five_hour"], snap["codex", "weekly"]
    seen = ts("2025-10-20T09:11:00Z")
    assert (five.used_pct, five.window_minutes, five.resets_at) == (13.0, 299, seen + 1200)
    assert (week.used_pct, week.window_minutes, week.resets_at) == (31.0, 10079, seen + 80000)


def test_rate_limits_null_leaves_the_mirror_alone() -> None:
    lines = LEGACY.read_bytes().splitlines(keepends=True)
    null_line = next(line for line in lines if b'"rate_limits":null' in line)
    assert parse(LEGACY, lines[0] + null_line).limits == []


def test_limit_families_are_kept_apart() -> None:
    snap = limits(parse(FAMILIES))
    assert snap["codex_bengalfox", "five_hour"].used_pct == 20.0
    assert snap["codex_bengalfox", "weekly"].limit_name == "GPT-5.3-Codex-Spark"
    assert snap["codex", "five_hour"].used_pct == 35.0 and snap["codex", "weekly"].used_pct == 60.0
    assert totals(parse(FAMILIES).usage) == (8000, 2000, 400, 100, 8400)  # same totals 0.9 s apart: once


def test_windows_are_named_by_minutes_not_slot() -> None:
    snap = limits(parse(WEEKLY_PRIMARY))
    assert set(snap) == {("codex", "weekly"), ("codex", "monthly")}  # no limit_id -> "codex"
    assert snap["codex", "weekly"].used_pct == 55.0 and snap["codex", "weekly"].plan_type == "pro"
    assert snap["codex", "monthly"].window_minutes == 43800
    assert codex.window_name(90) == "minutes:90"


def test_very_old_flat_form_is_mapped() -> None:
    snap = limits(parse(SEPT_2025))
    assert snap["codex", "five_hour"].used_pct == 22.0 and snap["codex", "weekly"].used_pct == 40.0


def _snap(used: float, seen: float, resets: float | None, window: str = "five_hour") -> LimitSnapshot:
    return LimitSnapshot("codex", window, used, 300, resets, seen, None, None)


def test_zero_placeholder_does_not_reset_the_mirror_until_the_old_window_ends() -> None:
    snap = limits(parse(PLACEHOLDER))
    assert snap["codex", "five_hour"].used_pct == 30.0 and snap["codex", "weekly"].used_pct == 60.0
    real = _snap(30.0, 1000.0, 1000.0 + 3 * 3600)
    assert merge_snapshot(real, _snap(0.0, 1002.0, 1002.0 + 5 * 3600)) is real
    after = _snap(0.0, 1000.0 + 3 * 3600 + 1, 1000.0 + 8 * 3600)
    assert merge_snapshot(real, after) is after
    assert merge_snapshot(real, _snap(12.0, 1002.0, 1000.0 + 3 * 3600)).used_pct == 12.0


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.0, 5.0, 30.0, 100.0]), st.integers(0, 50)), min_size=1,
                max_size=6, unique_by=lambda t: t[1]), st.randoms())
def test_merge_is_independent_of_reading_order(readings: list[tuple[float, int]], rnd: Any) -> None:
    # Realistic sequence: one window, the reset time fixed at t=30 (a window that ends once).
    snaps = [_snap(used, float(seen), 30.0) for used, seen in readings]
    shuffled = list(snaps)
    rnd.shuffle(shuffled)
    a = b = None
    for s in snaps:
        a = merge_snapshot(a, s)
    for s in shuffled:
        b = merge_snapshot(b, s)
    assert a == b
