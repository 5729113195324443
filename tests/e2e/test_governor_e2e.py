"""governor end to end: `governor install`, then the real Claude Code 2.1.328 / Codex 0.169.0 against the
loopback mocks. Assertions are about what a person would notice: what Claude Code shows, what the model
is handed, what lands on disk, what `governor` reports afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .governor_cli import (
    GOVERNOR_ENV,
    governor,
    governor_json,
    install_governor,
    run_hook,
    seed_heavy_week,
    write_budget,
)
from .interactive import run_interactive
from .mock_anthropic import AnthropicMock, RateLimits, Reply, Usage, text_reply, tool_reply
from .mock_openai import CodexRateLimits, CodexUsage, ExecCommand, Message
from .runners import ClaudeRun, ClaudeRunner, CodexRunner
from .workspace import Workspace, encode_project

pytestmark = pytest.mark.e2e

PACING_CONTEXT = "Weekly usage budget (governor)"


def assert_clean(run: ClaudeRun, mock: AnthropicMock) -> None:
    assert run.proc.returncode == 0, run.proc.stderr[-2000:]
    assert run.result["is_error"] is False, run.result
    assert not mock.proxy_attempts, mock.leaks()
    assert not mock.unknown, [r.path for r in mock.unknown]


@pytest.fixture(autouse=True)
def governor_log_stays_clean(workspace: Workspace) -> Iterator[None]:
    """Hooks and the status line fail open: a failure would only show in governor.log, so look there."""
    yield
    log = workspace.governor_home / "governor.log"
    assert not log.exists() or "failed open" not in log.read_text(), log.read_text()


def system_texts(body: dict[str, Any]) -> list[str]:
    """The system-role messages of a request body (where hooks' additionalContext rides, claude-code.md 2.3)."""
    return [json.dumps(m["content"]) for m in body["messages"] if m["role"] == "system"]


def hook_output(run: ClaudeRun, event: str) -> dict[str, Any] | None:
    """The JSON a governor hook printed for `event` (the first non-empty one), or None."""
    for response in run.hook_responses(event):
        if response.get("stdout", "").strip():
            return dict(json.loads(response["stdout"]))
    return None


# --- 1. install + metering --------------------------------------------------------------------


def test_install_then_ledger_totals_equal_what_the_api_served(claude: ClaudeRunner, workspace: Workspace) -> None:
    settings = install_governor(workspace)
    assert set(settings["hooks"]) == {"UserPromptSubmit", "PostToolUse", "PostToolBatch", "SessionStart"}
    assert settings["statusLine"]["command"].endswith("statusline.py # governor")
    target = workspace.project / "notes.txt"
    replies: list[Reply] = [
        tool_reply("Write", {"file_path": str(target), "content": "metered\n"}, text="Writing the file.",
                   usage=Usage(1234, 56, 30000, 0, 2000)),
        tool_reply("Bash", {"command": "echo metered-tool", "description": "echo"}, text="Now the echo.",
                   usage=Usage(40, 70, 33000, 100, 500)),
        text_reply("All done.", usage=Usage(12, 30, 33500, 0, 300)),
    ]
    claude.mock.queue(*replies)

    run = claude.run("write notes.txt, then echo", env=GOVERNOR_ENV)  # no --settings: the installed file

    assert_clean(run, claude.mock)
    assert run.result["result"] == "All done."
    assert target.read_text() == "metered\n"
    results = [c["content"] for e in run.of("user") for c in e["message"]["content"] if c.get("type") == "tool_result"]
    assert results[-1] == "metered-tool"  # the Bash call really ran
    ran = {(h["hook_event"], h["exit_code"]) for h in run.hook_responses()}
    assert ran == {("SessionStart", 0), ("UserPromptSubmit", 0), ("PostToolUse", 0), ("PostToolBatch", 0)}
    served = claude.mock.served_replies()
    assert len(served) == 3  # every request of the run got one of the scripted replies
    rows = [r for r in run.transcript_rows() if r["type"] == "assistant"]
    assert len(rows) == 5  # two 2-block responses + one 1-block: 5 rows, 3 responses

    daily = governor_json(workspace, "daily", "--json", "--tz", "UTC")

    totals = daily["totals"]
    assert totals["input_tokens"] == sum(r.usage.input_tokens for r in served)
    assert totals["output_tokens"] == sum(r.usage.output_tokens for r in served)
    assert totals["cache_read_input_tokens"] == sum(r.usage.cache_read_input_tokens for r in served)
    assert totals["cache_creation_input_tokens"] == sum(
        r.usage.cache_creation_5m + r.usage.cache_creation_1h for r in served
    )
    assert [m for d in daily["days"] for m in d["models"]] == ["claude-opus-5-5"]
    assert totals["cost_usd"] == pytest.approx(run.result["total_cost_usd"], abs=1e-6)  # Claude Code's own figure
    assert daily["unknown_models"] == []


# --- 2. pacing / 6. kill switch ----------------------------------------------------------------


def test_heavy_week_pacing_reaches_the_person_and_the_model(claude: ClaudeRunner, workspace: Workspace) -> None:
    install_governor(workspace)
    seed_heavy_week(workspace, projected=1.5)
    claude.mock.queue(tool_reply("Bash", {"command": "echo paced", "description": "echo"}), text_reply("ok"))

    run = claude.run("add a docstring to utils.py", env=GOVERNOR_ENV)

    assert_clean(run, claude.mock)
    assert run.result["result"] == "ok"  # advice only: the prompt went through
    said = hook_output(run, "UserPromptSubmit")
    assert said is not None and "decision" not in said
    person, model = said["systemMessage"], said["hookSpecificOutput"]["additionalContext"]
    assert person.startswith("governor: week") and "(local estimate)" in person and "on pace for 150%" in person
    assert f"UserPromptSubmit says: {person}" in run.system_messages()  # what the person sees
    bodies = claude.mock.messages()
    assert len(bodies) == 2
    assert model.startswith(PACING_CONTEXT)
    for body in bodies:  # the very next request, and every one after it, carries the model's note
        assert any(model in text for text in system_texts(body)), system_texts(body)
    assert not any(person in json.dumps(body) for body in bodies)  # the person's line never reaches the API


def test_kill_switch_silences_governor_on_a_heavy_week(claude: ClaudeRunner, workspace: Workspace) -> None:
    install_governor(workspace)
    seed_heavy_week(workspace, projected=1.5)
    target = workspace.project / "utils.py"
    claude.mock.queue(tool_reply("Write", {"file_path": str(target), "content": '"""Utils."""\n'}), text_reply("ok"))

    run = claude.run("add a docstring to utils.py", env={**GOVERNOR_ENV, "GOVERNOR_DISABLE": "1"})

    assert_clean(run, claude.mock)
    assert run.result["result"] == "ok" and target.exists()
    responses = run.hook_responses()
    assert {h["hook_event"] for h in responses} == {"SessionStart", "UserPromptSubmit", "PostToolUse", "PostToolBatch"}
    assert all(h["exit_code"] == 0 and h["stdout"] == "" for h in responses), responses  # ran, said nothing
    assert run.system_messages() == []
    assert not any(PACING_CONTEXT in json.dumps(body) for body in claude.mock.messages())
    assert governor_json(workspace, "status", "--json")["hook_would_say"]  # the week is still heavy


# --- 3. router ---------------------------------------------------------------------------------

FAKE_CODEX = """#!/bin/sh
echo "fake codex was run: $*" >> "$(dirname "$0")/fake-codex.log"
"""


def fake_codex(ws: Workspace) -> Path:
    """A stand-in `codex` the router can find (the hook only checks that the command exists)."""
    path = ws.root / "bin" / "codex"
    path.parent.mkdir(exist_ok=True)
    path.write_text(FAKE_CODEX)
    path.chmod(0o755)
    return path


def briefs(ws: Workspace) -> list[Path]:
    return sorted((ws.governor_home / "handoffs").glob("*.md"))


def test_router_hands_off_implementation_and_holds_design_questions(
    claude: ClaudeRunner, workspace: Workspace
) -> None:
    install_governor(workspace)
    codex_cmd = fake_codex(workspace)
    write_budget(workspace, router={"mode": "always"}, lanes={"codex": {"enabled": True, "command": str(codex_cmd)}})
    claude.mock.queue(text_reply("Shall I hand this to Codex?"))

    handoff = claude.run("refactor the auth module across all call sites", env=GOVERNOR_ENV)

    assert_clean(handoff, claude.mock)
    [brief] = briefs(workspace)
    text = brief.read_text()
    assert "refactor the auth module across all call sites" in text
    assert f"Working directory: {workspace.project}" in text
    said = hook_output(handoff, "UserPromptSubmit")
    assert said is not None
    person, model = said["systemMessage"], said["hookSpecificOutput"]["additionalContext"]
    assert person.startswith("governor: bounded implementation work; Codex has room.")
    assert f"UserPromptSubmit says: {person}" in handoff.system_messages()
    assert model.startswith("governor router:") and "governor handoff --last --run" in model
    [body] = claude.mock.messages()
    assert any(model in t for t in system_texts(body))  # the hand-off offer reached the model
    assert not (workspace.root / "bin" / "fake-codex.log").exists()  # offered, never run by the hook

    claude.mock.queue(text_reply("Caching trade-offs: ..."))
    mark = len(claude.mock.messages())

    question = claude.run("what are the trade-offs of our caching design?", env=GOVERNOR_ENV)

    assert_clean(question, claude.mock)
    assert briefs(workspace) == [brief]  # no new brief
    assert hook_output(question, "UserPromptSubmit") is None and question.system_messages() == []
    [body] = claude.mock.messages()[mark:]
    assert "codex" not in json.dumps(body).lower() and "governor" not in json.dumps(body).lower()
    stats = governor_json(workspace, "router", "stats", "--json")
    assert [(e["decision"], e["prompt_head"]) for e in stats["recent"]] == [
        ("hold", "what are the trade-offs of our caching design?"),
        ("handoff", "refactor the auth module across all call sites"),
    ]


# --- 4. memory guard ---------------------------------------------------------------------------


def test_memory_guard_caps_an_overlong_memory_line(claude: ClaudeRunner, workspace: Workspace) -> None:
    install_governor(workspace)
    memory = workspace.claude_dir / "projects" / encode_project(workspace.project) / "memory" / "MEMORY.md"
    words = "the auth service retries token refresh three times with jittered backoff before failing"
    long_line = ("- Auth notes: " + " ".join([words] * 20))[:975]
    assert len(long_line) == 975
    content = f"# Memory\n\n- Short entry stays as it is.\n{long_line}\n- Another short entry.\n"
    claude.mock.queue(tool_reply("Write", {"file_path": str(memory), "content": content}), text_reply("Noted."))

    run = claude.run("remember the auth notes", env=GOVERNOR_ENV)

    assert_clean(run, claude.mock)
    lines = memory.read_text().splitlines()
    assert lines[:3] == ["# Memory", "", "- Short entry stays as it is."] and lines[4] == "- Another short entry."
    capped = lines[3]
    assert len(capped) <= 350 and capped.endswith(" …") and long_line.startswith(capped[: -len(" …")])
    archive = memory.with_name("MEMORY.overflow.md")
    assert long_line in archive.read_text().splitlines()  # the whole line, verbatim
    said = hook_output(run, "PostToolUse")
    assert said is not None and "memory guard cut 1 over-long entry" in said["hookSpecificOutput"]["additionalContext"]
    assert "memory guard cut 1 over-long entry" in json.dumps(claude.mock.messages()[-1])  # Claude is told


# --- 5. official capture through the status line ------------------------------------------------


def test_status_line_records_the_official_weekly_figure(claude: ClaudeRunner, workspace: Workspace) -> None:
    install_governor(workspace)
    claude.mock.rate_limits = RateLimits(five_hour=0.22, seven_day=0.61)
    claude.mock.queue(text_reply("hello there"))

    run = run_interactive(claude, ["say hello"], gateway=True, env=GOVERNOR_ENV)

    assert run.exited, run.screens[-1]
    assert not claude.mock.proxy_attempts, claude.mock.leaks()
    status = governor_json(workspace, "status", "--json")
    assert status["spent"]["source"] == "official", status["spent"]
    assert status["spent"]["fraction"] == pytest.approx(0.61)
    assert status["five_hour"]["used_pct"] == pytest.approx(22)
    assert status["window"]["source"] == "official"  # the cycle is anchored to the account's reset
    screen = run.screens[-1]
    assert "hello there" in screen and "wk 61% official" in screen and "5h 22%" in screen, screen


def test_status_line_shows_the_scoped_weeks_and_extra_usage_from_claude_codes_cache(
        claude: ClaudeRunner, workspace: Workspace) -> None:
    """The model-scoped weeks and extra usage live only in Claude Code's `cachedUsageUtilization`
    (.claude.json): the real client leaves the cache in place, governor's status line reads it, and
    `governor status` lists every window as /usage names it."""
    import time
    from datetime import datetime, timezone

    def iso(seconds: float) -> str:
        return datetime.fromtimestamp(time.time() + seconds, timezone.utc).isoformat()

    install_governor(workspace)
    body = {"five_hour": None, "seven_day": None, "seven_day_opus": None, "seven_day_oauth_apps": None,
            "seven_day_sonnet": {"utilization": 88.0, "resets_at": iso(2 * 86400)},
            "extra_usage": {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1240, "utilization": 24.8,
                            "currency": "USD"},
            "limits": [{"kind": "weekly_scoped", "group": "weekly", "percent": 30, "resets_at": iso(4 * 86400),
                        "severity": "normal", "is_active": False, "scope": {"model": {"display_name": "Opus"}}}]}
    (workspace.claude_dir / ".claude.json").write_text(json.dumps(
        {"cachedUsageUtilization": {"fetchedAtMs": int(time.time() * 1000), "utilization": body}}))
    claude.mock.rate_limits = RateLimits(five_hour=0.22, seven_day=0.61)
    claude.mock.queue(text_reply("hello there"))

    run = run_interactive(claude, ["say hello"], gateway=True, env=GOVERNOR_ENV)

    assert run.exited, run.screens[-1]
    status = governor_json(workspace, "status", "--json")
    assert [(w["label"], w["capture_source"]) for w in status["windows"]] == [
        ("Current week (all models)", "statusline"), ("Current session", "statusline"),
        ("Current week (Opus)", "claude.json"), ("Current week (Sonnet only)", "claude.json")]
    assert status["extra_usage"]["used_credits"] == 1240
    screen = run.screens[-1]
    assert "Sonnet 88%" in screen and "Opus 30%" in screen and "extra $12.40/$50.00" in screen, screen


# --- 7. Codex lane ------------------------------------------------------------------------------


def test_codex_rollouts_show_up_as_the_codex_lane(codex: CodexRunner, workspace: Workspace) -> None:
    limits = CodexRateLimits(primary=42.5, secondary=13.0)
    codex.mock.rate_limits = limits
    first, second = CodexUsage(1000, 250, 125, 75), CodexUsage(2000, 500, 250, 150)
    codex.mock.queue(ExecCommand("echo lane", usage=first), Message("done", usage=second))

    run = codex.run("say lane with echo")

    assert run.proc.returncode == 0, run.proc.stderr[-3000:]
    lane = governor_json(workspace, "status", "--json")["codex"]
    assert lane["weekly_pct"] == pytest.approx(13.0) and lane["weekly_resets_at"] == limits.secondary_reset
    assert lane["five_hour_pct"] == pytest.approx(42.5) and lane["five_hour_resets_at"] == limits.primary_reset
    assert lane["cycle_from"] == "weekly window"
    expected = {
        "input": first.input_tokens + second.input_tokens,
        "cached_input": first.cached_tokens + second.cached_tokens,
        "output": first.output_tokens + second.output_tokens,
        "reasoning": first.reasoning_tokens + second.reasoning_tokens,
        "responses": 2,
    }
    for tokens in (lane["tokens_today"], lane["tokens_cycle"]):
        assert {k: tokens[k] for k in expected} == expected, tokens
    text = governor(workspace, "status").stdout
    assert "codex     weekly 13% · 5 h 42%" in text, text  # 42.5 shown rounded


def test_handoff_run_goes_through_the_real_codex(codex: CodexRunner, codex_bin: Path, workspace: Workspace) -> None:
    codex.write_config()
    write_budget(workspace, router={"mode": "always"},
                 lanes={"codex": {"enabled": True, "command": str(codex_bin)}})
    prompt = "implement the rate limiter across all call sites"
    hook = run_hook(workspace, "user_prompt_submit.py", {
        "session_id": "sess-handoff", "transcript_path": str(workspace.root / "none.jsonl"),
        "cwd": str(workspace.project), "prompt_id": "p-1", "permission_mode": "acceptEdits",
        "hook_event_name": "UserPromptSubmit", "prompt": prompt,
    })
    assert hook.returncode == 0 and "governor handoff --last --run" in hook.stdout, hook.stdout + hook.stderr
    usage = CodexUsage(3000, 1000, 400, 100)
    codex.mock.queue(Message("Implemented the rate limiter.", usage=usage))

    proc = governor(workspace, "handoff", "--last", "--run", "--json", env=codex.env(), timeout=180)

    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["exit_code"] == 0 and result["error"] is None
    assert result["message"] == "Implemented the rate limiter."
    [body] = codex.mock.responses()
    assert prompt in json.dumps(body["input"])  # the brief was Codex's prompt
    stats = governor_json(workspace, "router", "stats", "--json")["cycle"]
    assert (stats["handoff"], stats["runs"], stats["runs_ok"]) == (1, 1, 1)
    assert (stats["run_input_tokens"], stats["run_output_tokens"]) == (usage.input_tokens, usage.output_tokens)
    assert governor_json(workspace, "status", "--json")["codex"]["tokens_today"]["input"] == usage.input_tokens
