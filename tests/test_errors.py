"""How the CLI fails: an expected error is one line and its exit code, a busy ledger says "try again",
anything else is one line naming the log, with the whole traceback in governor.log (exit 3)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from governor import paths
from governor.errors import CliError
from governor.main import error_handler
from governor.meter import db
from tests.helpers import assistant_row, jsonl, projects_root, run_cli
from tests.test_prompt_hook import iso


def write_session(name: str, n: int = 3) -> None:
    now = time.time()
    rows = [assistant_row(f"msg_{name}{i}", f"req_{name}{i}", session_id=name, timestamp=iso(now - 60 + i))
            for i in range(n)]
    path = projects_root() / "-home-dev-proj" / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonl(rows))


def hold_write_lock() -> sqlite3.Connection:
    conn = sqlite3.connect(paths.ledger_path(), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_a_busy_ledger_is_one_line_and_exit_1() -> None:
    write_session("a")
    assert run_cli("daily", "--json").returncode == 0
    write_session("b")  # new bytes: this report must write, and another process holds the lock
    holder = hold_write_lock()
    try:
        proc = run_cli("daily")
    finally:
        holder.rollback()
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        1, "", "governor: another governor process is updating the ledger; try again in a moment\n")


def test_a_report_with_nothing_new_needs_no_write_lock() -> None:
    write_session("a")
    first = run_cli("daily", "--json", "--tz", "UTC")
    holder = hold_write_lock()
    try:
        again = run_cli("daily", "--json", "--tz", "UTC")
    finally:
        holder.rollback()
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")


def test_an_expected_error_is_one_line_with_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        with error_handler():
            raise CliError("not a date: '2026-13-01' (expected YYYY-MM-DD)")
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "governor: not a date: '2026-13-01' (expected YYYY-MM-DD)\n"


def test_a_bug_is_one_line_naming_the_log_and_the_traceback_goes_there(capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> None:
        {}["missing"]  # noqa: B018 - the bug under test

    with pytest.raises(SystemExit) as exit_:
        with error_handler():
            broken()
    assert exit_.value.code == 3
    log = Path(paths.log_path())
    assert capsys.readouterr().err == f"governor: unexpected error (KeyError: 'missing'); the traceback is in {log}\n"
    text = log.read_text()
    assert "failed: KeyError: 'missing'" in text
    assert "Traceback (most recent call last):" in text and "in broken" in text and '{}["missing"]' in text


def test_a_failing_hook_logs_its_traceback() -> None:
    db.connect().close()
    Path(paths.budget_path()).write_text('{"tier": "nonexistent-tier"')  # invalid JSON: the hook fails open
    from tests.helpers import run_hook

    proc = run_hook("user_prompt_submit.py", {"session_id": "s", "prompt": "hi", "hook_event_name": "UserPromptSubmit"})
    assert (proc.returncode, proc.stdout) == (0, b"")
    text = Path(paths.log_path()).read_text()
    assert "hook UserPromptSubmit failed open: ConfigError" in text and "Traceback (most recent call last):" in text
