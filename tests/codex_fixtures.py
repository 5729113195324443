"""Paths of the Codex rollout fixtures (tests/fixtures/codex) and small helpers shared by the Codex tests."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

FIX = Path(__file__).parent / "fixtures" / "codex"
RECORDS = FIX / "rollout-2026-11-23T06-38-43-01a208d8-d79e-75d2-ac1f-4030e546e5ad.jsonl"  # 0.169.0 + 429
REAL_0169 = FIX / "rollout-0.169.0-toolcall.jsonl"  # recorded from the real codex exec 0.169.0
FORK_PARENT_0169 = FIX / "rollout-0.169.0-fork-parent.jsonl"  # real `codex exec` + `exec resume` 0.169.0
FORK_0169 = FIX / "rollout-0.169.0-fork.jsonl"  # real `codex exec fork` of it (tests/e2e/test_codex_cli.py)
LEGACY = FIX / "rollout-2025-10-20T11-00-00-0199f3a1-2b4c-7d10-8e2f-3a4b5c6d7e8f.jsonl"
FAMILIES = FIX / "rollout-2026-02-10T13-00-00-019c4a10-1111-7aaa-8bbb-0123456789ab.jsonl"
WEEKLY_PRIMARY = FIX / "rollout-2026-07-20T10-00-00-019f0c00-2222-7ccc-8ddd-abcdefabcdef.jsonl"
PARENT = FIX / "rollout-2026-03-01T11-00-00-019c9f00-aaaa-7000-8000-000000000001.jsonl"
CHILD_RESTAMPED = FIX / "rollout-2026-03-01T11-00-21-019c9f00-bbbb-7000-8000-000000000002.jsonl"
CHILD_ORIGINAL_TS = FIX / "rollout-2026-03-01T11-00-21-019c9f00-cccc-7000-8000-000000000003.jsonl"
SEPT_2025 = FIX / "rollout-2025-09-08T09-00-00-01993a00-3333-7eee-8fff-111111111111.jsonl"
PLACEHOLDER = FIX / "rollout-2026-04-01T14-00-00-019d0000-4444-7aaa-8bbb-222222222222.jsonl"
ALL = [RECORDS, REAL_0169, LEGACY, FAMILIES, WEEKLY_PRIMARY, PARENT, CHILD_RESTAMPED, CHILD_ORIGINAL_TS,
       SEPT_2025, PLACEHOLDER]


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def token_count_before_record() -> bytes:
    """The 0.169.0 fixture with its first token_count moved before the first token_usage_record."""
    lines = RECORDS.read_bytes().splitlines(keepends=True)
    kinds = [(json.loads(line)["type"], json.loads(line)["payload"].get("type")) for line in lines]
    rec = kinds.index(("token_usage_record", None))
    count = kinds.index(("event_msg", "token_count"))
    lines[rec], lines[count] = lines[count], lines[rec]
    return b"".join(lines)


def record_totals(path: Path) -> tuple[int, int, int, int, int]:
    """Summed `usage` of a file's token_usage_record lines (the exact answer for a 0.169.0 rollout)."""
    sums = [0, 0, 0, 0, 0]
    for line in path.read_bytes().splitlines():
        obj = json.loads(line)
        if obj["type"] == "token_usage_record":
            usage = obj["payload"]["usage"]
            for i, field in enumerate(("input_tokens", "cached_input_tokens", "output_tokens",
                                       "reasoning_output_tokens", "total_tokens")):
                sums[i] += usage[field]
    return (sums[0], sums[1], sums[2], sums[3], sums[4])


def last_reading(path: Path, minutes: int) -> tuple[float, float, float]:
    """(used_percent, resets_at, line time) of the file's last 'codex' window of `minutes` (0.169.0 form)."""
    found = None
    for line in path.read_bytes().splitlines():
        obj = json.loads(line)
        limits = obj["payload"].get("rate_limits") if obj["type"] == "event_msg" else None
        if limits and (limits.get("limit_id") or "codex") == "codex":
            for slot in ("primary", "secondary"):
                window = limits.get(slot)
                if window and window["window_minutes"] == minutes:
                    found = (window["used_percent"], window["resets_at"], ts(obj["timestamp"]))
    assert found is not None
    return found
