"""The Codex mirror is brought up to date where its readings decide something, run as the clients run the
hooks (real scripts, real payloads, a real ledger), with no `governor` CLI call in between: the router's
"Codex is hot", the Codex-side nudge and the status line see a rollout Codex has just written."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from governor import paths
from governor.meter import codex_refresh, db
from tests.helpers import assistant_row, jsonl, projects_root, run_cli, run_hook
from tests.test_handoff import make_fake_codex
from tests.test_prompt_hook import iso

SESSION = "sess-codex-hot"
HANDOFF_PROMPT = "refactor the auth module across all call sites"
THREAD = "01a30000-1111-7222-8333-444444444444"


def rollout_line(stamp: float, kind: str, payload: dict[str, Any]) -> str:
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp % 1 * 1000):03d}Z"
    return json.dumps({"timestamp": when, "type": kind, "payload": payload}) + "\n"


def write_rollout(weekly_pct: float, at: float, thread: str = THREAD, resume: Path | None = None) -> Path:
    """A 0.169.0-shaped rollout (session_meta, a turn, one response) whose token_count carries a weekly
    reading of `weekly_pct`, filed as Codex files it: sessions/YYYY/MM/DD (local) of its start; with
    `resume`, that rollout gets one more turn appended (`codex exec resume`)."""
    folder = Path(paths.codex_home()) / "sessions" / time.strftime("%Y/%m/%d", time.localtime(at))
    folder.mkdir(parents=True, exist_ok=True)
    path = resume or folder / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', time.localtime(at))}-{thread}.jsonl"
    usage = {"input_tokens": 1000, "cached_input_tokens": 0, "cache_write_input_tokens": 0, "output_tokens": 100,
             "reasoning_output_tokens": 0, "total_tokens": 1100}
    limits = {"limit_id": "codex", "primary": {"used_percent": 30.0, "window_minutes": 300,
                                               "resets_at": int(at) + 3 * 3600},
              "secondary": {"used_percent": weekly_pct, "window_minutes": 10080, "resets_at": int(at) + 3 * 86400}}
    lines = [] if resume else [rollout_line(at - 3, "session_meta", {"id": thread, "source": "exec"})]
    lines += [
        rollout_line(at - 2, "event_msg", {"type": "task_started", "turn_id": "t1", "started_at": int(at - 2)}),
        rollout_line(at - 1, "turn_context", {"turn_id": "t1", "model": "gpt-5.2-codex"}),
        rollout_line(at - 0.5, "token_usage_record", {"thread_id": thread, "turn_id": "t1",
                                                      "response_id": f"resp-{thread}-{at:.6f}", "usage": usage}),
        rollout_line(at, "event_msg", {"type": "token_count", "rate_limits": limits,
                                       "info": {"total_token_usage": usage, "last_token_usage": usage}}),
    ]
    with open(path, "a") as fh:
        fh.write("".join(lines))
    return path


def claude_session() -> Path:
    now = time.time()
    rows = [assistant_row(f"msg_c{i}", f"req_c{i}", session_id=SESSION, timestamp=iso(now - 600 + i)) for i in range(3)]
    path = projects_root() / "-home-dev-proj" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonl(rows))
    return path


def write_budget(doc: dict[str, Any]) -> None:
    Path(paths.budget_path()).parent.mkdir(parents=True, exist_ok=True)
    Path(paths.budget_path()).write_text(json.dumps(doc))


def prompt(transcript: Path, env: dict[str, str]) -> dict[str, Any] | None:
    payload = {"session_id": SESSION, "transcript_path": str(transcript), "cwd": str(transcript.parent),
               "hook_event_name": "UserPromptSubmit", "prompt": HANDOFF_PROMPT, "permission_mode": "default"}
    proc = run_hook("user_prompt_submit.py", payload, env=env)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def last_decision() -> tuple[str, str]:
    conn = sqlite3.connect(paths.ledger_path())
    try:
        row = conn.execute("SELECT decision, reason FROM router_events ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return row[0], row[1]


def test_a_new_rollouts_weekly_reading_reaches_the_router_without_a_cli_call(tmp_path: Path) -> None:
    env = make_fake_codex(tmp_path / "bin", tmp_path / "out")
    write_budget({"router": {"mode": "always"}})
    transcript = claude_session()
    now = time.time()
    write_rollout(40.0, now - 30)
    out = prompt(transcript, env)
    assert out is not None and "Codex has room" in out["systemMessage"]
    assert last_decision() == ("handoff", "router mode always")
    # Codex runs on and writes a hot reading; the next prompt (within the minute: no full scan) sees it.
    write_rollout(91.0, time.time(), thread="01a30000-1111-7222-8333-555555555555")
    out = prompt(transcript, env)
    assert out is None or "Codex has room" not in out.get("systemMessage", "")
    assert last_decision() == ("skipped", "codex weekly 91% >= 85%")


def test_a_resumed_old_rollout_is_found_by_the_full_scan_within_a_minute(tmp_path: Path) -> None:
    env = make_fake_codex(tmp_path / "bin", tmp_path / "out")
    write_budget({"router": {"mode": "always"}})
    transcript = claude_session()
    old = write_rollout(40.0, time.time() - 3 * 86400)  # started three days ago, in that day's folder
    prompt(transcript, env)
    assert last_decision() == ("handoff", "router mode always")
    conn = db.connect()  # its cursor says "not written to within a day"
    conn.execute("UPDATE files SET mtime_ns = ? WHERE kind = 'codex'", (int((time.time() - 3 * 86400) * 1e9),))
    conn.close()
    write_rollout(93.0, time.time(), resume=old)  # `codex exec resume` appends to it
    prompt(transcript, env)  # within the minute: the old folder is not looked at
    assert last_decision() == ("handoff", "router mode always")
    conn = db.connect()
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (f"{time.time() - 61:.3f}", codex_refresh.FULL_SCAN_KEY))
    conn.close()
    prompt(transcript, env)
    assert last_decision() == ("skipped", "codex weekly 93% >= 85%")


def test_the_codex_nudge_reads_its_own_sessions_rollout() -> None:
    now = time.time()
    conn = db.connect()
    conn.execute("INSERT INTO captures(window, used_pct, resets_at, captured_at, source)"
                 " VALUES('seven_day', 20.0, ?, ?, 'statusline')", (now + 3 * 86400, now - 600))
    conn.close()
    rollout = write_rollout(92.0, now, resume=write_rollout(50.0, now - 2 * 86400))  # an old session, resumed
    payload = {"session_id": THREAD, "turn_id": "t2", "transcript_path": str(rollout), "cwd": "/home/dev/proj",
               "hook_event_name": "UserPromptSubmit", "model": "gpt-5.2-codex",
               "permission_mode": "bypassPermissions", "prompt": "implement the exporter across modules"}
    conn = db.connect()
    db.set_meta(conn, codex_refresh.FULL_SCAN_KEY, f"{now:.3f}")  # a full scan just ran: not this time
    conn.close()
    proc = run_hook("codex_user_prompt_submit.py", payload)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    out = json.loads(proc.stdout)
    assert "Codex weekly limit at 92%" in out["systemMessage"]


def test_the_status_line_shows_a_new_rollouts_reading() -> None:
    plain = {"NO_COLOR": "1"}
    first = run_cli("statusline", input="{}", env=plain)
    assert first.returncode == 0 and "codex" not in first.stdout
    write_rollout(44.0, time.time())
    second = run_cli("statusline", input="{}", env=plain)
    assert second.returncode == 0 and second.stdout.rstrip().endswith(" · codex wk 44%"), second.stdout


def test_nothing_new_reads_nothing_and_takes_no_write_lock() -> None:
    """The cheap path: with every rollout read, a refresh between full scans stats a few files and writes
    nothing, so a writer holding the ledger neither blocks it nor is blocked by it; with something new,
    the same refresh gives up on the lock and says so in the log (the decision uses what is there)."""
    rollout = write_rollout(40.0, time.time())
    conn = db.connect()
    codex_refresh.refresh(conn, time.time())
    assert conn.execute("SELECT COUNT(*) FROM codex_usage").fetchone()[0] == 1
    holder = sqlite3.connect(paths.ledger_path(), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    log = Path(paths.log_path())
    try:
        quick = db.connect(busy_ms=100)
        codex_refresh.refresh(quick, time.time())
        assert not log.exists() or "Codex mirror update skipped" not in log.read_text()
        write_rollout(60.0, time.time(), resume=rollout)
        codex_refresh.refresh(quick, time.time())
        assert "codex: Codex mirror update skipped: database is locked" in log.read_text()
        quick.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    codex_refresh.refresh(conn, time.time())
    assert conn.execute("SELECT COUNT(*) FROM codex_usage").fetchone()[0] == 2
