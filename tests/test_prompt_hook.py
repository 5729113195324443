"""The UserPromptSubmit hook as Claude Code runs it: real script, real payloads, crafted transcripts."""

from __future__ import annotations

import io
import json
import os
import random
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from governor import paths
from governor.config import load_config
from governor.guards import runtime
from governor.meter import budget_state, db, ledger
from governor.policy.calibrate import Capture
from tests.helpers import assistant_row, jsonl, projects_root, run_hook, wait_for_background_scan

SESSION = "sess-pace"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_week(
    responses: int = 40, context: int = 120_000, session: str = SESSION, start_id: int = 0
) -> Path:
    """A session that has been busy over the last few hours; its last response carries `context` tokens."""
    now = time.time()
    rows = [
        assistant_row(
            f"msg_{session}_{start_id + i}",
            f"req_{session}_{start_id + i}",
            session_id=session,
            timestamp=iso(now - 3 * 3600 + i * (3 * 3600 / responses)),
            input_tokens=50,
            output_tokens=800,
            cache_creation=3000,
            cache_read=context - 3050,
        )
        for i in range(responses)
    ]
    path = projects_root() / "-home-dev-proj" / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(jsonl(rows))
    return path


def write_budget(**sections: object) -> None:
    path = Path(paths.budget_path())
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(sections)
    path.write_text(json.dumps(current))


def cap_for(projected: float) -> float:
    """The weekly cap that puts this week's projection at `projected` (projection scales with 1/cap)."""
    write_budget(caps={"max20x": 1.0})
    conn = db.connect()
    ledger.ingest(conn, paths.transcript_roots(), parallel=False)
    unit_projection = budget_state.compute(conn, load_config(), time.time()).projected
    return unit_projection / projected


def payload(prompt: str, transcript: Path, session: str = SESSION) -> dict:
    return {
        "session_id": session,
        "transcript_path": str(transcript),
        "cwd": str(transcript.parent),
        "prompt_id": "p-1",
        "permission_mode": "default",
        "hook_event_name": "UserPromptSubmit",
        "prompt": prompt,
    }


def say(transcript: Path, prompt: str = "add a docstring to utils.py", **env: str) -> dict | None:
    out = run_hook("user_prompt_submit.py", payload(prompt, transcript), env=env or None)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


def rewind_last_said(minutes: float) -> None:
    conn = sqlite3.connect(paths.ledger_path())
    row = conn.execute(
        "SELECT value FROM hook_state WHERE session_id=? AND guard='pacing'", (SESSION,)
    ).fetchone()
    value = json.loads(row[0])
    value["at"] -= minutes * 60
    conn.execute(
        "UPDATE hook_state SET value=? WHERE session_id=? AND guard='pacing'", (json.dumps(value), SESSION)
    )
    conn.commit()


def test_under_pace_says_nothing() -> None:
    transcript = write_week()
    write_budget(caps={"max20x": cap_for(0.5)})
    assert say(transcript) is None


def test_over_pace_says_it_once_then_again_after_the_repeat_interval() -> None:
    transcript = write_week(context=120_000)
    write_budget(caps={"max20x": cap_for(1.2)})
    first = say(transcript)
    assert first is not None
    person = first["systemMessage"]
    model = first["hookSpecificOutput"]["additionalContext"]
    assert first["hookSpecificOutput"]["hookEventName"] == "UserPromptSubmit"
    assert "local estimate" in person and "120%" in person and len(person) <= 300
    assert "keep the context small" in model.lower() and len(model) <= 600
    assert say(transcript) is None  # same band within the repeat interval: silence
    rewind_last_said(61)
    assert say(transcript) is not None  # the interval has passed: said again


def test_escalation_is_said_at_once() -> None:
    transcript = write_week()
    write_budget(caps={"max20x": cap_for(1.05)})
    assert say(transcript) is not None
    write_budget(caps={"max20x": cap_for(1.4)})
    again = say(transcript)
    assert again is not None and "140%" in again["systemMessage"]


def test_context_over_the_ceiling_gets_compact_advice() -> None:
    transcript = write_week(context=300_000)
    write_budget(caps={"max20x": cap_for(1.4)})  # top band: ceiling 250k
    person = say(transcript)["systemMessage"]
    assert "/compact" in person and "300k" in person


def record_official_week(used_pct: float) -> None:
    conn = db.connect()
    from governor.meter import official

    now = time.time()
    with db.transaction(conn):
        official.record(conn, Capture("seven_day", used_pct, now + 3 * 86400, now, "statusline", SESSION))


def test_clamp_blocks_only_at_95_percent_actual_with_context_over_the_ceiling() -> None:
    transcript = write_week(context=500_000)
    write_budget(caps={"max20x": cap_for(1.5)})
    record_official_week(96.0)
    blocked = say(transcript)
    assert blocked is not None and blocked["decision"] == "block"
    assert "/compact" in blocked["reason"] and "96%" in blocked["reason"]
    compact = say(transcript, "/compact")  # never block the very command that fixes it
    assert compact is None or compact.get("decision") != "block"


def test_no_clamp_below_95_percent_actual_or_with_a_small_context() -> None:
    transcript = write_week(context=500_000)
    write_budget(caps={"max20x": cap_for(3.0)})
    record_official_week(90.0)  # far ahead of pace, but not near lockout
    result = say(transcript)
    assert result is not None and "decision" not in result
    small = write_week(context=40_000, session="small")
    record_official_week(97.0)
    out = run_hook("user_prompt_submit.py", payload("go on", small, session="small"))
    assert out.returncode == 0 and b'"decision"' not in out.stdout


def test_clamp_can_be_turned_off() -> None:
    transcript = write_week(context=500_000)
    write_budget(caps={"max20x": cap_for(1.5)}, pacing={"hard_clamp_at": None})
    record_official_week(99.0)
    result = say(transcript)
    assert result is not None and "decision" not in result


def test_kill_switch_and_pacing_disabled_say_nothing() -> None:
    transcript = write_week(context=500_000)
    write_budget(caps={"max20x": cap_for(2.0)})
    assert say(transcript, GOVERNOR_DISABLE="1") is None
    write_budget(pacing={"enabled": False}, router={"mode": "off"})
    assert say(transcript) is None


def test_invalid_config_and_locked_ledger_fail_open(tmp_path: Path) -> None:
    transcript = write_week()
    Path(paths.budget_path()).write_text("{not json")
    out = run_hook("user_prompt_submit.py", payload("hi", transcript))
    assert out.returncode == 0 and out.stdout == b""
    assert "failed open" in Path(paths.log_path()).read_text()


def test_a_long_ingest_holding_the_lock_does_not_stall_the_hook() -> None:
    transcript = write_week()
    write_budget(caps={"max20x": cap_for(1.2)})
    holder = db.connect()
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        result = say(transcript)
        assert time.monotonic() - started < 10
        assert result is not None  # paced on the ledger as it was
    finally:
        holder.execute("ROLLBACK")


PAYLOAD_SHAPES = [
    "",
    " ",
    "null",
    "[]",
    "42",
    '"text"',
    "{",
    '{"prompt": 5}',
    '{"session_id": []}',
    '{"transcript_path": "/nonexistent/x.jsonl", "prompt": "hi", "session_id": "s"}',
    '{"transcript_path": 12, "prompt": null}',
    "\x00\xff",
    '{"prompt": "' + "a" * 100_000 + '"}',
]


def random_payload(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(PAYLOAD_SHAPES)
    if kind == 1:
        return "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(0, 200)))
    values = [None, True, 0, -1, 1e308, "", "x" * rng.randrange(0, 500), [], {}, {"a": [1, {"b": None}]}]
    doc = {
        k: rng.choice(values)
        for k in (
            "session_id",
            "transcript_path",
            "cwd",
            "prompt",
            "hook_event_name",
            "prompt_id",
            "permission_mode",
        )
        if rng.random() < 0.7
    }
    text = json.dumps(doc)
    if kind == 3 and text:
        cut = rng.randrange(len(text))
        text = text[:cut] + rng.choice(["", "}", "\x00", '"', "\\"]) + text[cut + 1 :]
    return text


def test_a_thousand_random_payloads_always_exit_0_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    write_week()
    rng = random.Random(1234)
    for _i in range(1000):
        text = random_payload(rng)
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
        captured = io.StringIO()
        monkeypatch.setattr(sys, "stdout", captured)
        assert runtime.run("UserPromptSubmit") == 0
        out = captured.getvalue()
        assert "Traceback" not in out
        if out.strip():
            json.loads(out)  # anything printed is the JSON Claude Code expects
    for _i in range(25):  # and through the real script
        out = run_hook("user_prompt_submit.py", random_payload(rng))
        assert out.returncode == 0 and b"Traceback" not in out.stdout and b"Traceback" not in out.stderr


def test_other_sessions_are_picked_up_within_the_full_scan_interval() -> None:
    transcript = write_week(responses=10)
    write_budget(caps={"max20x": cap_for(0.5)})  # builds the ledger (a full scan)
    say(transcript)  # the first prompt's full scan, after its reply
    assert wait_for_background_scan()
    other = write_week(responses=200, session="other-session")  # a heavy session elsewhere
    conn = db.connect()
    before = conn.execute("SELECT COUNT(*) FROM usage WHERE session_id='other-session'").fetchone()[0]
    say(transcript)
    assert conn.execute("SELECT COUNT(*) FROM usage WHERE session_id='other-session'").fetchone()[0] == before
    conn.execute("UPDATE meta SET value='0' WHERE key='claude_last_full_scan'")  # a minute later
    say(transcript)  # replies first; a detached process reads the other transcripts for the next prompt
    assert wait_for_background_scan()
    assert conn.execute("SELECT COUNT(*) FROM usage WHERE session_id='other-session'").fetchone()[0] == 200
    assert other.exists()


def test_the_full_scan_runs_after_the_reply_and_one_at_a_time() -> None:
    """While a scan holds its lock no other starts: the other session stays unread, prompt after prompt,
    and the stamp stays old so the first prompt after it finishes asks again."""
    from governor.guards import background_scan

    transcript = write_week(responses=10)
    write_budget(caps={"max20x": cap_for(0.5)})
    write_week(responses=30, session="other-session")
    conn = db.connect()
    conn.execute("UPDATE meta SET value='0' WHERE key='claude_last_full_scan'")
    lock = background_scan.take_lock()  # a scan that is still running
    assert lock is not None
    try:
        for _ in range(3):
            say(transcript)
            assert conn.execute("SELECT COUNT(*) FROM usage WHERE session_id='other-session'").fetchone()[0] == 0
            assert conn.execute("SELECT COUNT(*) FROM usage WHERE session_id=?", (SESSION,)).fetchone()[0] == 10
    finally:
        os.close(lock)
    say(transcript)
    assert wait_for_background_scan()
    assert conn.execute("SELECT COUNT(*) FROM usage WHERE session_id='other-session'").fetchone()[0] == 30
    stamp = float(conn.execute("SELECT value FROM meta WHERE key='claude_last_full_scan'").fetchone()[0])
    assert 0 <= time.time() - stamp < 60


def test_the_detached_scan_fails_open_into_the_log() -> None:
    """Whatever breaks the detached scan (here a budget.json made invalid after the prompt), it exits 0
    and leaves its reason, with the traceback, in governor.log."""
    import subprocess

    from tests.helpers import REPO_ROOT

    write_week(responses=5)
    Path(paths.budget_path()).write_text('{"tier": "max99x"}')
    code = "from governor.guards import background_scan as b; b.main('UserPromptSubmit')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=str(REPO_ROOT), timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, b"", b"")
    log = Path(paths.log_path()).read_text()
    assert "UserPromptSubmit: background scan failed: " in log and "Traceback (most recent call last)" in log
    assert not background_scan_lock_held()


def background_scan_lock_held() -> bool:
    return not wait_for_background_scan(seconds=0)
