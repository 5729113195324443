"""The real Claude Code 2.1.328 (`claude -p`) against the loopback Anthropic mock."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from .interactive import run_interactive, wait_until
from .mock_anthropic import AnthropicMock, RateLimits, Reply, Usage, text_reply, tool_reply
from .runners import ClaudeRun, ClaudeRunner
from .workspace import Workspace, governor_hooks_settings, hook_command, hooks_settings, save_fixture

pytestmark = pytest.mark.e2e

NOTE_HOOK = """import json, os, sys
sys.stdin.read()
with open({record!r}, "a") as f:
    f.write(os.environ.get("GOVERNOR_DISABLE", "") + "\\n")
if os.environ.get("GOVERNOR_DISABLE", "") not in ("", "0"):
    raise SystemExit(0)
context = {{"hookEventName": "UserPromptSubmit", "additionalContext": "BUDGET NOTE"}}
print(json.dumps({{"systemMessage": "visible warning", "hookSpecificOutput": context}}))
"""


def note_hook(ws: Workspace) -> tuple[str, Path]:
    """A UserPromptSubmit hook printing a systemMessage + additionalContext the way governor's pacing
    will (and honouring GOVERNOR_DISABLE like governor's hooks); it logs each run to the returned file."""
    record = ws.root / "note-hook.runs"
    script = ws.root / "note_hook.py"
    script.write_text(NOTE_HOOK.format(record=str(record)))
    return hook_command(script), record


def assert_clean(run: ClaudeRun, mock: AnthropicMock) -> None:
    assert run.proc.returncode == 0, run.proc.stderr[-2000:]
    assert run.result["is_error"] is False, run.result
    assert not mock.proxy_attempts, mock.leaks()
    assert not mock.unknown, [r.path for r in mock.unknown]


def bodies_text(mock: AnthropicMock) -> list[str]:
    return [json.dumps(body) for body in mock.messages()]


def test_write_and_bash_with_governor_hooks(claude: ClaudeRunner, workspace: Workspace) -> None:
    mock = claude.mock
    target = workspace.project / "hello.txt"
    replies: list[Reply] = [
        tool_reply(
            "Write",
            {"file_path": str(target), "content": "hello from e2e\n"},
            text="I'll write the file.",
            usage=Usage(1234, 56, 30000, 0, 2000),
        ),
        tool_reply(
            "Bash",
            {"command": "echo hi-from-tool", "description": "Say hi"},
            usage=Usage(40, 70, 33000, 0, 500),
        ),
        text_reply("Done: wrote hello.txt and echoed.", usage=Usage(12, 30, 33500, 0, 300)),
    ]
    mock.queue(*replies)

    run = claude.run("write hello.txt, then echo hi", settings=governor_hooks_settings())

    assert_clean(run, mock)
    assert run.result["result"] == "Done: wrote hello.txt and echoed."
    assert target.read_text() == "hello from e2e\n"
    tool_results = [
        c for e in run.of("user") for c in e["message"]["content"] if c.get("type") == "tool_result"
    ]
    assert [r["content"] for r in tool_results][1] == "hi-from-tool"
    ran = {(h["hook_event"], h["exit_code"]) for h in run.hook_responses()}
    assert ran == {("SessionStart", 0), ("UserPromptSubmit", 0), ("PostToolUse", 0), ("PostToolBatch", 0)}
    assert len(run.hook_responses("PostToolUse")) == 2
    assert len(mock.messages()) == 3

    rows_by_request: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in run.transcript_rows():
        if row["type"] == "assistant":
            rows_by_request[row["requestId"]].append(row)
    assert sorted(rows_by_request) == ["req_mock000001", "req_mock000002", "req_mock000003"]
    for n, reply in enumerate(replies, start=1):
        rows = rows_by_request[f"req_mock{n:06d}"]
        assert len(rows) == len(reply.blocks)  # one transcript row per content block
        assert len({r["message"]["id"] for r in rows}) == 1
        assert [r["apiBlockIndex"] for r in rows] == list(range(len(rows)))
        for row in rows:  # 2.1.328 writes the final usage on every block's row
            assert row["message"]["usage"].items() >= reply.usage.as_dict().items()
    save_fixture(workspace, run.transcript(), "claude/transcript-2.1.328-write-bash.jsonl")


def test_gateway_auth_emits_rate_limit_event(claude: ClaudeRunner) -> None:
    limits = RateLimits(five_hour=0.42, seven_day=0.17)
    claude.mock.rate_limits = limits
    claude.mock.queue(text_reply("ok"))

    run = claude.run("hello", gateway=True)

    assert_clean(run, claude.mock)
    request = claude.mock.requests[0]
    assert request.headers["authorization"].startswith("Bearer ey") and "x-api-key" not in request.headers
    windows = run.rate_limit_infos()[-1]["unifiedWindows"]
    assert windows["five_hour"] == {
        "utilization": 0.42,
        "resetsAt": limits.five_hour_reset,
        "status": "allowed",
    }
    assert windows["seven_day"] == {
        "utilization": 0.17,
        "resetsAt": limits.seven_day_reset,
        "status": "allowed",
    }


def test_api_key_auth_ignores_rate_limit_headers(claude: ClaudeRunner) -> None:
    claude.mock.rate_limits = RateLimits()
    claude.mock.queue(text_reply("ok"))

    run = claude.run("hello")

    assert_clean(run, claude.mock)
    assert run.rate_limit_infos() == []


def test_hook_output_reaches_person_and_model(claude: ClaudeRunner, workspace: Workspace) -> None:
    command, record = note_hook(workspace)
    claude.mock.queue(tool_reply("Bash", {"command": "echo one", "description": "one"}), text_reply("ok"))

    run = claude.run("how is my budget?", settings=hooks_settings({"UserPromptSubmit": [command]}))

    assert_clean(run, claude.mock)
    assert record.read_text() == "\n"
    assert "UserPromptSubmit says: visible warning" in run.system_messages()
    bodies = claude.mock.messages()
    assert len(bodies) == 2
    for body in bodies:  # additionalContext rides along in every following request, as a system message
        system_texts = [json.dumps(m["content"]) for m in body["messages"] if m["role"] == "system"]
        assert any("BUDGET NOTE" in text for text in system_texts)
    assert not any("visible warning" in text for text in bodies_text(claude.mock))  # person only
    attachments = {r["attachment"]["type"] for r in run.transcript_rows() if r["type"] == "attachment"}
    assert {"hook_system_message", "hook_additional_context"} <= attachments


def test_kill_switch_reaches_hooks(claude: ClaudeRunner, workspace: Workspace) -> None:
    command, record = note_hook(workspace)
    settings = governor_hooks_settings()
    settings["hooks"]["UserPromptSubmit"][0]["hooks"].append({"type": "command", "command": command})
    claude.mock.queue(tool_reply("Bash", {"command": "echo one", "description": "one"}), text_reply("ok"))

    run = claude.run("how is my budget?", settings=settings, env={"GOVERNOR_DISABLE": "1"})

    assert_clean(run, claude.mock)
    assert record.read_text() == "1\n"  # the hook ran and saw the switch
    assert run.system_messages() == []
    assert not any("BUDGET NOTE" in text for text in bodies_text(claude.mock))
    responses = run.hook_responses()
    assert {h["hook_event"] for h in responses} == {"SessionStart", "UserPromptSubmit", "PostToolUse", "PostToolBatch"}
    assert all(h["exit_code"] == 0 and h["stdout"] == "" for h in responses), responses


STATUSLINE = """import sys
data = sys.stdin.read()
with open({record!r}, "a") as f:
    f.write(data.replace("\\n", " ") + "\\n")
print("E2E STATUS LINE")
"""


def test_interactive_statusline_receives_rate_limits(claude: ClaudeRunner, workspace: Workspace) -> None:
    limits = RateLimits(five_hour=0.42, seven_day=0.17)
    claude.mock.rate_limits = limits
    claude.mock.queue(text_reply("hello there"))
    record = workspace.root / "statusline.jsonl"
    script = workspace.root / "statusline.py"
    script.write_text(STATUSLINE.format(record=str(record)))
    settings = {"statusLine": {"type": "command", "command": hook_command(script)}}

    def official_seen() -> bool:
        return record.exists() and '"rate_limits"' in record.read_text()

    run = run_interactive(claude, ["say hello"], settings=settings, gateway=True)

    assert wait_until(official_seen, 10)
    assert run.exited, run.screens[-1]
    assert "hello there" in run.screens[-1] and "E2E STATUS LINE" in run.screens[-1]
    inputs = [json.loads(line) for line in record.read_text().splitlines()]
    assert inputs[-1]["rate_limits"] == {
        "five_hour": {"used_percentage": 42, "resets_at": limits.five_hour_reset},
        "seven_day": {"used_percentage": 17, "resets_at": limits.seven_day_reset},
    }
    assert not claude.mock.proxy_attempts, claude.mock.leaks()
