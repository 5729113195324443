"""What each hook and the status line import in their steady state, run as Claude Code runs them (the real
scripts, real payloads, a warm ledger): none of the modules that cost tens of milliseconds to import. The
hot-path rule of DESIGN.md, pinned so that a refactor cannot quietly break it."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import pydantic
import pytest

from governor import paths
from governor.meter import db
from tests.helpers import HOOKS_DIR, assistant_row, jsonl, projects_root
from tests.test_prompt_hook import iso

# Each of these costs a hook 5-150 ms; none is needed once budget.json's validated form is cached.
HEAVY = ("pydantic", "pydantic_core", "dataclasses", "inspect", "msgspec", "filelock", "platformdirs",
         "typing_extensions", "multiprocessing", "concurrent", "plotly", "narwhals")
SESSION = "sess-hot"
# Stdlib modules a steady hook does without (issue 21): typing is for annotations only, and json (which
# imports re, enum and functools) is replaced by governor.fastjson. The prompt hook still needs re (the
# router's patterns). The sqlite3 and datetime packages are replaced by their C modules (governor.fastsqlite,
# governor.fastdatetime); the hook runtime imports its guard without importlib (which imports warnings).
NOT_ON_PATH = ("typing", "json", "re", "enum", "contextlib", "sqlite3", "datetime", "importlib", "warnings")
# What only an ingest of the session needs (the prompt hook and the run check), not the status line's run share.
INGEST_GUARD = ("governor.guards.refresh", "governor.guards.ledger_scan", "governor.guards.background_scan")
# Without `site`: an editable install's .pth finder imports re, fnmatch and more at start-up, which would hide
# them from every check here. The hook scripts find the checkout themselves; the dependencies (pydantic, for
# the first run's config validation) come from site-packages on PYTHONPATH, without its .pth files.
NO_SITE = ("-S",)
SITE_PACKAGES = os.path.dirname(os.path.dirname(pydantic.__file__))


def imported_by(script: str, payload: dict, argv: tuple[str, ...] = (), stdout: list[str] | None = None) -> set[str]:
    """The modules `script` imports, from -X importtime (the scripts end with os._exit: no sys.modules dump).
    The guard module itself is loaded by importlib, which -X importtime does not list; its imports are."""
    import subprocess

    proc = subprocess.run([sys.executable, *NO_SITE, "-X", "importtime", str(HOOKS_DIR / script), *argv],
                          input=json.dumps(payload), capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": SITE_PACKAGES})
    assert proc.returncode == 0, proc.stderr[-2000:]
    if stdout is not None:
        stdout.append(proc.stdout)
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}


def startup_modules() -> set[str]:
    """What this interpreter imports before any script runs (site, .pth files of an editable install)."""
    import subprocess

    proc = subprocess.run([sys.executable, *NO_SITE, "-X", "importtime", "-c", "pass"], capture_output=True,
                          text=True, timeout=60, check=True, env={**os.environ, "PYTHONPATH": SITE_PACKAGES})
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}


def unneeded(modules: set[str], names: tuple[str, ...] = NOT_ON_PATH) -> list[str]:
    return sorted((modules - startup_modules()) & set(names))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.fixture()
def warm_session() -> Path:
    """A session with a few responses, a Codex weekly reading and an official capture in the ledger."""
    now = time.time()
    rows = [assistant_row(f"msg_h{i}", f"req_h{i}", session_id=SESSION, timestamp=iso(now - 600 + i))
            for i in range(5)]
    path = projects_root() / "-home-dev-proj" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonl(rows))
    db.connect().close()
    conn = sqlite3.connect(paths.ledger_path())
    conn.execute("INSERT INTO codex_limits(limit_id, window, used_pct, window_minutes, resets_at, observed_at)"
                 " VALUES('codex', 'weekly', 40, 10080, ?, ?)", (now + 86400, now - 60))
    conn.commit()
    conn.close()
    return path


def prompt_payload(transcript: Path, prompt: str = "add a docstring to utils.py") -> dict:
    return {"session_id": SESSION, "transcript_path": str(transcript), "cwd": str(transcript.parent),
            "hook_event_name": "UserPromptSubmit", "prompt": prompt, "permission_mode": "default"}


def test_prompt_hook_steady_state(warm_session: Path) -> None:
    imported_by("user_prompt_submit.py", prompt_payload(warm_session))  # first prompt: full scan, config cache
    mods = imported_by("user_prompt_submit.py", prompt_payload(warm_session))
    assert "governor.meter.budget_state" in mods and "_sqlite3" in mods  # the prompt guard ran
    assert "governor.policy.router" in mods  # classified, by the patterns' literals alone
    assert "governor.lanes.router_events" in mods and "governor.lanes.handoff" not in mods  # logged, no brief
    assert "governor.policy.pacing_messages" not in mods  # nothing to say: no message built
    assert heavy(mods) == []
    assert unneeded(mods, NOT_ON_PATH) == []


def test_prompt_hook_leaves_the_wal_for_a_later_checkpoint(warm_session: Path) -> None:
    """No close-time checkpoint per prompt (it fsyncs the WAL and the ledger, deletes the WAL, and the next
    prompt re-creates it with two more fsyncs): the WAL is still there after the hook, holding its commit,
    and the ledger reads whole from another process."""
    wal = paths.ledger_path() + "-wal"
    imported_by("user_prompt_submit.py", prompt_payload(warm_session))
    assert os.path.getsize(wal) > 0
    conn = sqlite3.connect(paths.ledger_path())
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT COUNT(*) FROM usage WHERE session_id=?", (SESSION,)).fetchone() == (5,)
    conn.close()


def test_prompt_hook_with_a_handoff_prompt(warm_session: Path) -> None:
    imported_by("user_prompt_submit.py", prompt_payload(warm_session))
    mods = imported_by("user_prompt_submit.py", prompt_payload(
        warm_session, "implement a --dry-run flag for the export command in cli/export.py and add tests"))
    assert "governor.policy.router" in mods and "re" in mods  # "implement": the regexes decide
    assert heavy(mods) == []


def test_status_line_with_a_codex_reading(warm_session: Path) -> None:
    payload = {"session_id": SESSION, "transcript_path": str(warm_session),
               "rate_limits": {"seven_day": {"used_percentage": 30, "resets_at": time.time() + 3 * 86400}},
               "context_window": {"current_usage": {"input_tokens": 10, "cache_read_input_tokens": 90_000}}}
    imported_by("statusline.py", payload)
    shown: list[str] = []
    mods = imported_by("statusline.py", payload, stdout=shown)
    assert shown[0].endswith(" · codex wk 40%\n"), shown  # the Codex reading was read and shown
    assert "governor.meter.codex_limits" in mods and "governor.statusline.render" in mods
    assert heavy(mods) == []
    assert unneeded(mods) == []
    assert unneeded(mods, INGEST_GUARD) == [] and "governor.lanes.handoff" not in mods
    assert "governor.guards.run_state" in mods and "governor.guards.run_check" not in mods  # the run share alone


def test_session_start_hook(warm_session: Path) -> None:
    payload = {"session_id": SESSION, "transcript_path": str(warm_session), "source": "resume",
               "hook_event_name": "SessionStart", "cwd": str(warm_session.parent)}
    imported_by("session_start.py", payload)
    mods = imported_by("session_start.py", payload)
    assert "governor.config" in mods  # the session guard ran
    assert heavy(mods) == []


def test_codex_prompt_hook(warm_session: Path) -> None:
    payload = {"session_id": "codex-s", "hook_event_name": "UserPromptSubmit", "prompt": "fix the flaky test",
               "cwd": str(warm_session.parent), "transcript_path": None}
    imported_by("codex_user_prompt_submit.py", payload)
    mods = imported_by("codex_user_prompt_submit.py", payload)
    assert "governor.policy.router" in mods  # the nudge ran
    assert heavy(mods) == []


def test_post_tool_use_on_an_ordinary_file(warm_session: Path) -> None:
    payload = {"session_id": SESSION, "hook_event_name": "PostToolUse", "tool_name": "Edit",
               "tool_input": {"file_path": str(warm_session.parent / "src" / "app.py")}, "tool_response": {}}
    mods = imported_by("post_tool_use.py", payload)
    assert heavy(mods) == [] and "governor.guards.runtime" not in mods  # decided before the hook runtime loads


def batch_payload(transcript: Path) -> dict:
    return {"session_id": SESSION, "transcript_path": str(transcript), "cwd": str(transcript.parent),
            "prompt_id": "p", "hook_event_name": "PostToolBatch", "permission_mode": "default",
            "tool_calls": [{"tool_name": "Bash", "tool_input": {"command": "true"}, "tool_use_id": "t",
                            "tool_response": ""}]}


def test_post_tool_batch_with_no_check_due(warm_session: Path) -> None:
    from governor.guards import run_gate

    run_gate.schedule(SESSION, time.time() + 600)
    mods = imported_by("post_tool_batch.py", batch_payload(warm_session))
    assert heavy(mods) == [] and "governor.guards.runtime" not in mods and "json" not in mods  # the stamp alone
    assert "_sqlite3" not in mods


def test_post_tool_batch_with_a_check_due(warm_session: Path) -> None:
    from governor.guards import run_gate

    imported_by("post_tool_batch.py", batch_payload(warm_session))  # the first check: full scan, config cache
    run_gate.schedule(SESSION, 0)
    mods = imported_by("post_tool_batch.py", batch_payload(warm_session))
    assert "governor.meter.budget_state" in mods and "_sqlite3" in mods  # the run check ran
    assert heavy(mods) == []
    assert unneeded(mods) == []


def test_the_codex_mirror_refresh_parses_only_when_a_rollout_changed(warm_session: Path) -> None:
    """Router, Codex nudge and status line refresh the Codex mirror (meter/codex_refresh): with every
    rollout read, a stat and no parser; with a new one, the parser, and still nothing heavy."""
    from tests.test_codex_refresh import write_rollout

    rollout = write_rollout(40.0, time.time())
    handoff = prompt_payload(warm_session, "refactor the auth module across all call sites")
    codex_payload = {"session_id": "codex-s", "hook_event_name": "UserPromptSubmit", "prompt": "fix the flaky test",
                     "cwd": str(warm_session.parent), "transcript_path": str(rollout)}
    runs = (("user_prompt_submit.py", handoff), ("codex_user_prompt_submit.py", codex_payload),
            ("statusline.py", {"session_id": SESSION, "transcript_path": str(warm_session)}))
    for script, payload in runs:
        imported_by(script, payload)  # the first run of each reads what is there
    for script, payload in runs:
        mods = imported_by(script, payload)
        assert "governor.meter.codex_refresh" in mods, script
        assert "governor.meter.codex_ingest" not in mods and "governor.meter.codex" not in mods, script
        assert heavy(mods) == [], script
    for script, payload in runs:
        write_rollout(41.0, time.time(), resume=rollout)
        mods = imported_by(script, payload)
        assert "governor.meter.codex_ingest" in mods and heavy(mods) == [], script


def test_prompt_hook_and_status_line_with_sync_on(warm_session: Path, tmp_path: Path) -> None:
    """With a sync dir holding another machine's export, the hook merges and exports without a heavy import."""
    share = tmp_path / "Sync"
    other = share / "governor" / "0123456789abcdef"
    other.mkdir(parents=True)
    record = {"v": 1, "n": 1, "t": "u", "key": "m:other", "ts": time.time() - 60, "session_id": "s-other",
              "project": "p", "model": "claude-opus-4-5", "input": 1, "output": 2, "cache_creation": 0,
              "cache_read": 0, "cache_5m": None, "cache_1h": None, "sidechain": 0, "web_search": 0,
              "source": "transcript"}
    (other / "2026-12.jsonl").write_text(json.dumps({"governor": "sync", "v": 1}) + "\n" + json.dumps(record) + "\n")
    Path(paths.budget_path()).write_text(json.dumps({"sync": {"dir": str(share), "merge_seconds": 0,
                                                              "export_minutes": 0}}))
    imported_by("user_prompt_submit.py", prompt_payload(warm_session))  # config cache
    mods = imported_by("user_prompt_submit.py", prompt_payload(warm_session))
    assert {"governor.meter.sync", "governor.meter.sync_merge", "governor.meter.sync_export"} <= mods
    assert heavy(mods) == []
    conn = sqlite3.connect(paths.ledger_path())
    assert conn.execute("SELECT machine FROM usage WHERE key='m:other'").fetchall() == [("0123456789abcdef",)]
    assert len(list((share / "governor").iterdir())) == 2  # this machine's directory beside the other's
    payload = {"session_id": SESSION, "transcript_path": str(warm_session)}
    mods = imported_by("statusline.py", payload)
    assert "governor.meter.sync" in mods and heavy(mods) == []
def test_every_module_imports_without_typing_at_run_time() -> None:
    """typing is imported for type checkers only (a module-level TYPE_CHECKING = False): a name of it used at
    run time (a type alias, a cast) would break the import, so every module is imported here, fresh."""
    import pkgutil
    import subprocess

    import governor

    names = [m.name for m in pkgutil.walk_packages(governor.__path__, "governor.") if m.name != "governor.__main__"]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    proc = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(names) > 90
