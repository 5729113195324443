"""Under lock contention the status line is never blank (issue 22): it shows the last line it printed."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from governor import paths
from tests.helpers import run_cli
from tests.official_fixtures import status_payload


def test_a_locked_ledger_shows_the_last_line_not_a_blank() -> None:
    payload = json.dumps(status_payload())
    first = run_cli("statusline", input=payload, env={"NO_COLOR": "1"})
    assert first.returncode == 0 and first.stdout.strip(), first.stderr
    holder = sqlite3.connect(paths.ledger_path(), isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # no reader gets in, WAL or not
    try:
        busy = run_cli("statusline", input=payload, env={"NO_COLOR": "1"}, timeout=30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.returncode == 0 and busy.stdout == first.stdout
    assert "database is locked" in (Path(os.environ["GOVERNOR_HOME"]) / "governor.log").read_text()
    os.utime(Path(paths.state_dir()) / "statusline.last", (0, 0))  # too old to stand in for a fresh line
    holder = sqlite3.connect(paths.ledger_path(), isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        stale = run_cli("statusline", input=payload, env={"NO_COLOR": "1"}, timeout=30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert stale.returncode == 0 and stale.stdout == ""


def _run(payload: str) -> str:
    proc = run_cli("statusline", input=payload, env={"NO_COLOR": "1"}, timeout=30)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def test_out_of_range_resets_are_never_stored_and_the_next_runs_keep_working() -> None:
    """resets_at 1e300, Infinity, a microsecond epoch, a year past 9999, a 400-digit integer, a lone
    surrogate as window name: not stored; every later status line, hook and report still works."""
    import time

    now = time.time()
    hostile = [
        '{"seven_day": {"used_percentage": 40, "resets_at": 1e300}}',
        '{"seven_day": {"used_percentage": 40, "resets_at": Infinity}}',
        '{"seven_day": {"used_percentage": 40, "resets_at": NaN}}',
        '{"seven_day": {"used_percentage": 40, "resets_at": ' + str(int((now + 3600) * 1e6)) + "}}",
        '{"seven_day": {"used_percentage": 40, "resets_at": "10000-01-01T00:00:00Z"}}',
        '{"seven_day": {"used_percentage": 40, "resets_at": ' + "9" * 400 + "}}",
        '{"\\ud800": {"used_percentage": 40, "resets_at": ' + str(int(now + 3600)) + "}}",
    ]
    for rate_limits in hostile:
        payload = '{"session_id": "s-1", "rate_limits": ' + rate_limits + "}"
        assert _run(payload).startswith("wk 0% local est.")
    conn = sqlite3.connect(paths.ledger_path())
    assert conn.execute("SELECT COUNT(*) FROM captures").fetchone() == (0,)
    conn.close()
    # a lone surrogate in the session id is replaced before anything is stored
    assert _run('{"session_id": "\\udc00", "rate_limits": {"seven_day": {"used_percentage": 40, '
                '"resets_at": ' + str(int(now + 3600)) + "}}}").startswith("wk 40% official")
    for args in (("status",), ("daily",)):
        proc = run_cli(*args)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_an_oversized_payload_is_not_parsed_and_fails_open() -> None:
    big = '{"session_id": "s", "pad": {' + ",".join(f'"k{i}": 0' for i in range(400_000)) + "}}"
    assert len(big) > 4 * 1024 * 1024
    from tests.helpers import run_hook

    for script in ("user_prompt_submit.py", "post_tool_use.py", "session_start.py"):
        proc = run_hook(script, big, timeout=10)
        assert proc.returncode == 0 and proc.stdout == b"" and b"Traceback" not in proc.stderr
    assert _run(big) == ""
    log = (Path(os.environ["GOVERNOR_HOME"]) / "governor.log").read_text()
    assert "larger than" in log
