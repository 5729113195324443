"""The real Codex CLI 0.169.0 (`codex exec`) against the loopback Responses mock."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from .governor_cli import governor_json
from .mock_openai import CodexRateLimits, CodexUsage, ExecCommand, Message
from .runners import CodexRunner
from .workspace import Workspace, save_fixture

pytestmark = pytest.mark.e2e


def test_exec_tool_call_writes_rollout_with_usage_and_rate_limits(
    codex: CodexRunner, workspace: Workspace
) -> None:
    mock = codex.mock
    limits = CodexRateLimits(primary=42.5, secondary=13.0)
    mock.rate_limits = limits
    first, second = CodexUsage(1000, 250, 125, 75), CodexUsage(2000, 500, 250, 150)
    mock.queue(ExecCommand("echo hi-from-tool", usage=first), Message("MOCK DONE", usage=second))

    run = codex.run("say hi with echo")

    assert run.proc.returncode == 0, run.proc.stderr[-3000:]
    assert not mock.proxy_attempts, mock.leaks()
    assert not mock.unknown, [r.path for r in mock.unknown]
    items = [e["item"] for e in run.events if e.get("type") == "item.completed"]
    assert any(
        i["type"] == "command_execution" and "hi-from-tool" in i["aggregated_output"] for i in items
    ), items
    assert [i["text"] for i in items if i["type"] == "agent_message"] == ["MOCK DONE"]
    bodies = mock.responses()
    assert len(bodies) == 2 and "hi-from-tool" in json.dumps(bodies[1]["input"])  # the tool output went back

    lines = run.rollout_lines()
    meta = lines[0]["payload"]
    assert (
        lines[0]["type"] == "session_meta"
        and meta["cli_version"] == "0.169.0"
        and meta["originator"] == "codex_exec"
    )
    token_counts = [
        ln["payload"]
        for ln in lines
        if ln["type"] == "event_msg" and ln["payload"]["type"] == "token_count" and ln["payload"]["info"]
    ]
    assert len(token_counts) == 2
    for tc in token_counts:
        rl = tc["rate_limits"]
        assert rl["limit_id"] == "codex"
        assert rl["primary"] == {
            "used_percent": 42.5,
            "window_minutes": 300,
            "resets_at": limits.primary_reset,
        }
        assert rl["secondary"] == {
            "used_percent": 13.0,
            "window_minutes": 10080,
            "resets_at": limits.secondary_reset,
        }
    assert token_counts[-1]["info"]["total_token_usage"]["input_tokens"] == 3000

    records = [ln["payload"] for ln in lines if ln["type"] == "token_usage_record"]
    assert len(records) == 2 and len({r["response_id"] for r in records}) == 2
    for record, usage in zip(records, (first, second), strict=True):
        assert record["usage"] == {
            "input_tokens": usage.input_tokens,
            "cached_input_tokens": usage.cached_tokens,
            "cache_write_input_tokens": 0,
            "output_tokens": usage.output_tokens,
            "reasoning_output_tokens": usage.reasoning_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        }
    save_fixture(workspace, run.rollout(), "codex/rollout-0.169.0-toolcall.jsonl")


def test_exec_fork_writes_only_its_own_turn_and_governor_counts_each_response_once(
    codex: CodexRunner, workspace: Workspace
) -> None:
    """`codex exec fork` (0.169.0) copies no history: its session_meta names the parent (`forked_from_id`,
    `forked_from_ordinal_exclusive`), its first own turn starts within the fork's first second, and its
    totals carry on from the parent's. Governor counts each served response once, per thread, and takes
    the fork's rate limits as the latest reading (a 1-second replay window used to drop them)."""
    mock = codex.mock
    served = [CodexUsage(1000, 0, 100, 0), CodexUsage(2000, 500, 200, 50), CodexUsage(3000, 0, 300, 0)]
    mock.rate_limits = CodexRateLimits(primary=10.0, secondary=5.0)
    mock.queue(Message("one", usage=served[0]))
    first = codex.run("first")
    assert first.proc.returncode == 0, first.proc.stderr[-3000:]
    mock.queue(Message("two", usage=served[1]))
    assert codex.run("second", args=["resume", first.thread_id]).proc.returncode == 0
    fork_limits = CodexRateLimits(primary=20.0, secondary=6.0)
    mock.rate_limits = fork_limits
    mock.queue(Message("three", usage=served[2]))
    fork = codex.run("forked prompt", args=["fork", first.thread_id])
    assert fork.proc.returncode == 0, fork.proc.stderr[-3000:]
    assert fork.thread_id != first.thread_id

    lines = fork.rollout_lines()
    meta = lines[0]["payload"]
    assert lines[0]["type"] == "session_meta" and meta["forked_from_id"] == first.thread_id
    assert "forked_from_ordinal_exclusive" in meta
    assert [ln["type"] for ln in lines].count("session_meta") == 1  # no copy of the parent's meta
    records = [ln["payload"] for ln in lines if ln["type"] == "token_usage_record"]
    assert [r["response_id"] for r in records] == ["resp_mock000003"]  # only its own response
    [started] = [ln for ln in lines if ln["payload"].get("type") == "task_started"]
    assert started["payload"]["started_at"] >= int(ts_of(lines[0]))  # an own turn, not a replayed one
    counts = [ln for ln in lines if ln["payload"].get("type") == "token_count" and ln["payload"]["info"]]
    assert counts[-1]["payload"]["info"]["total_token_usage"]["input_tokens"] == 6000  # parent's + its own
    assert ts_of(counts[-1]) - ts_of(lines[0]) < 1.0  # a fresh reading in the fork's first second

    lane = governor_json(workspace, "status", "--json")["codex"]
    expected = {
        "input": sum(u.input_tokens for u in served),
        "cached_input": sum(u.cached_tokens for u in served),
        "output": sum(u.output_tokens for u in served),
        "reasoning": sum(u.reasoning_tokens for u in served),
        "responses": 3,
    }
    assert {k: lane["tokens_today"][k] for k in expected} == expected, lane["tokens_today"]
    assert lane["five_hour_pct"] == pytest.approx(20.0) and lane["weekly_pct"] == pytest.approx(6.0)
    assert lane["five_hour_resets_at"] == fork_limits.primary_reset
    save_fixture(workspace, first.rollout(), "codex/rollout-0.169.0-fork-parent.jsonl")
    save_fixture(workspace, fork.rollout(), "codex/rollout-0.169.0-fork.jsonl")


def ts_of(line: dict[str, Any]) -> float:
    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()
