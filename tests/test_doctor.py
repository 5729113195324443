"""`governor doctor`: one ✓/✗ line per check, exit 1 when any fails, --json."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.helpers import REPO_ROOT, assistant_row, projects_root, write_transcript


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governor", "doctor", *args], capture_output=True, text=True,
                          timeout=120, cwd=str(REPO_ROOT),
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})})


def user_settings(doc: dict[str, Any]) -> None:
    path = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json"
    path.write_text(json.dumps(doc))


def hook(command: str, timeout: int = 10) -> list[dict[str, Any]]:
    return [{"hooks": [{"type": "command", "command": command, "timeout": timeout}]}]


def line(out: str, name: str) -> str:
    found = [ln for ln in out.splitlines() if ln[2:].startswith(name + ":")]
    assert found, f"no {name!r} line in:\n{out}"
    return found[0]


def wire_fake_governor() -> None:
    """Governor-marked commands we control, so probes do not depend on the guards' progress."""
    user_settings({"hooks": {"UserPromptSubmit": hook("cat >/dev/null # governor"),
                             "PostToolUse": hook("cat >/dev/null; exit 3 # governor"),
                             "SessionStart": hook("sleep 5 # governor", timeout=1)},
                   "statusLine": {"type": "command", "command": "cat >/dev/null; echo 42% # governor"}})


def test_a_healthy_setup_passes_with_one_line_per_check() -> None:
    write_transcript(projects_root(), "-home-dev-proj", "s1", [assistant_row()])
    user_settings({"hooks": {ev: hook("cat >/dev/null # governor")
                             for ev in ("UserPromptSubmit", "PostToolUse", "PostToolBatch", "SessionStart")},
                   "statusLine": {"type": "command", "command": "cat >/dev/null; echo ok # governor"}})
    result = doctor()
    assert result.returncode == 0, result.stdout
    assert line(result.stdout, "python").startswith("✓")
    assert line(result.stdout, "wiring user").startswith("✓")
    assert "1 files" in line(result.stdout, "transcripts")
    assert line(result.stdout, "kill switch").startswith("✓")
    assert result.stdout.rstrip().endswith("all checks passed")


def test_hook_probes_report_time_exit_codes_and_timeouts() -> None:
    wire_fake_governor()
    out = doctor().stdout
    prompt = line(out, "run user:UserPromptSubmit")
    assert prompt.startswith("✓") and prompt.endswith(" ms, silent")
    assert line(out, "run user:PostToolUse").startswith("✗") and "exit 3" in line(out, "run user:PostToolUse")
    assert "1 s timeout" in line(out, "run user:SessionStart")
    assert "said: 42%" in line(out, "run user:statusLine")


def test_a_stale_interpreter_path_is_named() -> None:
    user_settings({"hooks": {"SessionStart": hook(
        "/gone/venv/bin/python /gone/venv/lib/governor/_hooks/session_start.py # governor")}})
    result = doctor()
    assert result.returncode == 1
    assert "/gone/venv/bin/python does not exist" in line(result.stdout, "run user:SessionStart")
    assert "missing PostToolBatch, PostToolUse, UserPromptSubmit, statusLine" in line(result.stdout, "wiring user")


def test_nothing_wired_fails_and_probes_what_install_would_write() -> None:
    result = doctor()
    assert result.returncode == 1
    assert "run `governor install`" in line(result.stdout, "wiring")
    assert "run would install:UserPromptSubmit" in result.stdout


def test_invalid_config_is_reported_as_readable_lines() -> None:
    budget = Path(os.environ["GOVERNOR_HOME"], "budget.json")
    budget.write_text(json.dumps({"tier": "max99", "pacing": {"x": 1}}))
    result = doctor("--no-run")
    assert result.returncode == 1
    assert line(result.stdout, "config").startswith("✗")
    assert "    " in result.stdout and "tier:" in result.stdout and "pacing.x:" in result.stdout


def test_kill_switch_on_fails_but_hooks_are_still_probed_for_real() -> None:
    wire_fake_governor()
    result = doctor(env={"GOVERNOR_DISABLE": "1"})
    assert result.returncode == 1
    assert "ON" in line(result.stdout, "kill switch")
    assert "exit 3" in line(result.stdout, "run user:PostToolUse")


def test_ledger_health_and_capture_freshness(tmp_path: Path) -> None:
    path = Path(os.environ["GOVERNOR_HOME"]) / "ledger.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE files(path TEXT, updated_at REAL, bad_lines INTEGER)")
        conn.execute("INSERT INTO files VALUES('a', ?, 3)", (time.time() - 7200,))
        conn.execute("CREATE TABLE captures(window TEXT, used_pct REAL, captured_at REAL)")
        conn.execute("INSERT INTO captures VALUES('seven_day', 61.5, ?)", (time.time() - 300,))
    conn.close()
    out = doctor("--no-run").stdout
    assert "quick_check ok" in line(out, "ledger") and "3 malformed lines skipped" in line(out, "ledger")
    assert "last update 2.0 h ago" in line(out, "ledger")
    assert "5.0 min ago: seven_day 62 %" in line(out, "official capture")
    path.write_bytes(b"this is not a database" * 100)  # set aside and salvaged (tests/test_corrupt_ledger.py)
    out = doctor("--no-run").stdout
    assert line(out, "ledger") == f"· ledger: {path} was corrupt (file is not a database): set aside and salvaged" \
                                  " (see ledger recovery)"
    assert "nothing could be read from the old file (file is not a database)" in line(out, "ledger recovery")
    assert "quick_check ok" in line(doctor("--no-run").stdout, "ledger")  # the new one


def test_doctor_does_not_create_the_ledger_and_speaks_json() -> None:
    result = doctor("--json", "--no-run")
    data = json.loads(result.stdout)
    assert data["ok"] is False and result.returncode == 1
    names = [c["name"] for c in data["checks"]]
    assert names[:2] == ["python", "config"] and "kill switch" in names and "codex" in names
    assert {c["status"] for c in data["checks"]} <= {"ok", "fail", "info"}
    assert not (Path(os.environ["GOVERNOR_HOME"]) / "ledger.sqlite3").exists()
