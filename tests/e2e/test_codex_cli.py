"""The real Codex CLI 0.169.0 (`codex exec`) against the loopback Responses mock."""

from __future__ import annotations

import json

import pytest

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
