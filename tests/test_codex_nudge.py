"""The symmetric nudge, run as Codex runs it: hooks/codex_user_prompt_submit.py with a real payload."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from governor.config_schema import defaults
from governor.guards import codex_nudge
from governor.meter import db
from tests.helpers import run_hook

HOOK = "codex_user_prompt_submit.py"
DAY = 86400.0


def payload(
    session: str = "019a-codex-session", prompt: str = "implement the exporter across modules"
) -> dict[str, Any]:
    return {
        "session_id": session,
        "turn_id": "019a-turn-1",
        "transcript_path": "/home/dev/.codex/sessions/2026/11/23/rollout-2026-11-23T14-40-21-019a.jsonl",
        "cwd": "/home/dev/proj",
        "hook_event_name": "UserPromptSubmit",
        "model": "gpt-5.2-codex",
        "permission_mode": "bypassPermissions",
        "prompt": prompt,
    }


def seed(
    codex_weekly: float | None = 92.0,
    codex_resets_in: float = 3 * DAY,
    claude_used: float | None = 20.0,
    claude_resets_in: float = 3 * DAY,
    captured_ago: float = 600,
) -> None:
    now = time.time()
    conn = db.connect()
    if codex_weekly is not None:
        conn.execute(
            "INSERT INTO codex_limits(limit_id, window, used_pct, window_minutes, resets_at,"
            " observed_at) VALUES('codex', 'weekly', ?, 10080, ?, ?)",
            (codex_weekly, now + codex_resets_in, now),
        )
    # a per-model family running hot must not count as the account lane
    conn.execute(
        "INSERT INTO codex_limits(limit_id, window, used_pct, window_minutes, resets_at,"
        " observed_at) VALUES('codex_bengalfox', 'weekly', 99.0, 10080, ?, ?)",
        (now + DAY, now),
    )
    if claude_used is not None:
        conn.execute(
            "INSERT INTO captures(window, used_pct, resets_at, captured_at, source)"
            " VALUES('seven_day', ?, ?, ?, 'statusline')",
            (claude_used, now + claude_resets_in, now - captured_ago),
        )
    conn.close()


def run(p: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> dict[str, Any] | None:
    proc = run_hook(HOOK, p or payload(), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    out = proc.stdout.decode().strip()
    return json.loads(out) if out else None


def test_nudges_once_per_session_per_hour() -> None:
    seed()
    out = run()
    assert out is not None
    assert "Codex weekly limit at 92%" in out["systemMessage"] and len(out["systemMessage"]) <= 300
    ctx = out["hookSpecificOutput"]
    assert ctx["hookEventName"] == "UserPromptSubmit" and len(ctx["additionalContext"]) <= 600
    assert "Claude Code" in ctx["additionalContext"]
    assert run() is None  # same session, within the hour
    assert run(payload(session="another")) is not None
    conn = db.connect()
    conn.execute("UPDATE hook_state SET updated_at = updated_at - 3601 WHERE guard = 'codex_nudge'")
    conn.close()
    assert run() is not None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"codex_weekly": None},  # no reading yet: unknown, silent
        {"codex_weekly": 60.0},  # Codex is fine
        {"codex_resets_in": -60},  # the hot reading belongs to a window that has reset
        {"claude_used": None},  # Claude's headroom unknown
        {"claude_used": 100.0},  # Claude's week is used up: projected at the lowest band, no headroom
    ],
)
def test_silent_when(kwargs: dict[str, float | None]) -> None:
    seed(**kwargs)  # type: ignore[arg-type]
    assert run() is None


def test_silent_for_non_human_prompts_and_kill_switch() -> None:
    seed()
    assert run(payload(prompt="")) is None
    assert run(payload(prompt="/status")) is None
    assert run(env={"GOVERNOR_DISABLE": "1"}) is None
    assert run() is not None


def _budget(doc: dict[str, Any]) -> None:
    path = Path(os.environ["GOVERNOR_HOME"]) / "budget.json"
    path.write_text(json.dumps(doc))


def test_respects_config() -> None:
    seed()
    _budget({"lanes": {"codex": {"enabled": False}}})
    assert run() is None
    _budget({"router": {"mode": "off"}})
    assert run() is None
    _budget({"lanes": {"codex": {"hot_at": 0.95}}})
    assert run() is None
    _budget({"lanes": {"codex": {"hot_at": 0.90}}})
    assert run() is not None


def test_fails_open_on_a_broken_ledger_and_bad_stdin() -> None:
    Path(os.environ["GOVERNOR_HOME"]).mkdir(parents=True, exist_ok=True)
    proc = run_hook(HOOK, "not json")
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b""
    (Path(os.environ["GOVERNOR_HOME"]) / "budget.json").write_text("{broken")
    proc = run_hook(HOOK, payload())
    assert proc.returncode == 0 and proc.stdout == b""


def test_headroom_hook_is_replaceable() -> None:
    """The lead swaps in pacing's projection by passing `headroom`; the nudge obeys its verdict."""
    seed(claude_used=None)
    conn = db.connect()
    cfg = defaults()
    now = time.time()
    assert codex_nudge.nudge(payload(), cfg, conn, now) is None
    assert codex_nudge.nudge(payload(), cfg, conn, now, headroom=lambda c, k, n: False) is None
    assert codex_nudge.nudge(payload(), cfg, conn, now, headroom=lambda c, k, n: True) is not None


def test_claude_headroom_projection() -> None:
    conn = db.connect()
    cfg = defaults()
    now = time.time()
    assert codex_nudge.claude_headroom(conn, cfg, now) is None
    conn.execute(
        "INSERT INTO captures(window, used_pct, resets_at, captured_at, source)"
        " VALUES('seven_day', 50.0, ?, ?, 'statusline')",
        (now + 3.5 * DAY, now),
    )
    # pacing's projection: 50 % official and no recent burn here -> stays at 50 %: room for the work
    assert codex_nudge.claude_headroom(conn, cfg, now) is True
    conn.execute("UPDATE captures SET used_pct = 100.0")
    assert codex_nudge.claude_headroom(conn, cfg, now) is False
