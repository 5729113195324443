"""`governor install` / `governor uninstall` as a person runs them, on real files in temp dirs."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from governor.wiring import settings_merge as gs
from tests.helpers import HOOKS_DIR, REPO_ROOT

THEIRS: dict[str, Any] = {
    "permissions": {"allow": ["Bash(npm test)"], "deny": []},
    "hooks": {"PostToolUse": [{"matcher": "Bash",
                               "hooks": [{"type": "command", "command": "~/bin/audit.sh"}]}]},
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh", "padding": 0},
    "env": {"ÉQUIPE": "café ☕"},
    "model": "opus",
}


def governor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "governor", *args], capture_output=True, text=True,
                          timeout=120, cwd=str(cwd or REPO_ROOT), env=env)


def write(path: Path, doc: Any) -> bytes:
    data = json.dumps(doc, indent=2, ensure_ascii=False).encode() + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def state() -> Path:
    return Path(os.environ["GOVERNOR_HOME"])


def test_install_keeps_everything_else_and_chains_the_status_line(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = write(path, THEIRS)
    result = governor("install", "--settings", str(path))
    assert result.returncode == 0, result.stderr
    doc = json.loads(path.read_text())
    assert list(doc) == ["permissions", "hooks", "statusLine", "env", "model"]
    assert doc["permissions"] == THEIRS["permissions"] and doc["env"] == THEIRS["env"]
    assert doc["hooks"]["PostToolUse"][0] == THEIRS["hooks"]["PostToolUse"][0]
    assert [h["timeout"] for _e, _g, h in gs.governor_handlers(doc)] == [10, 10, 10, 10]
    assert doc["statusLine"]["command"] == f"{sys.executable} {REPO_ROOT / 'hooks' / 'statusline.py'} # governor"
    budget = json.loads((state() / "budget.json").read_text())
    assert budget["statusline"]["chain"] == "~/.claude/statusline.sh"
    backups = list((state() / "backups").iterdir())
    assert [b.read_bytes() for b in backups] == [original]
    assert "backup of the previous file" in result.stdout and "chained" in result.stdout


def test_second_install_changes_nothing_and_uninstall_gives_the_file_back(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = write(path, THEIRS)
    assert governor("install", "--settings", str(path)).returncode == 0
    installed = path.read_bytes()
    again = governor("install", "--settings", str(path))
    assert again.returncode == 0 and "already up to date" in again.stdout
    assert path.read_bytes() == installed and len(list((state() / "backups").iterdir())) == 1
    removed = governor("uninstall", "--settings", str(path))
    assert removed.returncode == 0, removed.stderr
    assert path.read_bytes() == original
    budget = json.loads((state() / "budget.json").read_text())
    assert budget["statusline"]["chain"] is None  # handed back to settings.json


def test_install_into_a_missing_file_then_uninstall_removes_it(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    assert governor("install", "--scope", "project", cwd=project).returncode == 0
    path = project / ".claude" / "settings.json"
    assert gs.has_governor_entries(json.loads(path.read_text()))
    assert governor("uninstall", "--scope", "project", cwd=project).returncode == 0
    assert not path.exists()


def test_scopes_pick_the_documented_files(tmp_path: Path) -> None:
    assert governor("install", "--scope", "local", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".claude" / "settings.local.json").exists()
    assert governor("install").returncode == 0
    assert (Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json").exists()


def test_settings_example_is_exactly_what_install_writes(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    assert governor("install", "--settings", str(path)).returncode == 0
    text = path.read_text().replace(str(HOOKS_DIR), "/path/to/governor/hooks")
    text = text.replace(sys.executable, "/path/to/venv/bin/python")
    assert text == (REPO_ROOT / "settings.example.json").read_text()


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = write(path, THEIRS)
    result = governor("install", "--settings", str(path), "--dry-run", "--codex")
    assert result.returncode == 0, result.stderr
    assert f"+++ {path}" in result.stdout and '+    "UserPromptSubmit": [' in result.stdout
    assert "statusline.chain" in result.stdout and "nothing was written" in result.stdout
    assert path.read_bytes() == original
    assert list(state().iterdir()) == [] and not Path(os.environ["CODEX_HOME"], "hooks.json").exists()


@pytest.mark.parametrize("content", [b'{"hooks": {', b'{"a": 1, "a": 2}', b"[1, 2]", b'{"hooks": []}'])
def test_a_file_governor_cannot_read_safely_is_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    result = governor("install", "--settings", str(path))
    assert result.returncode != 0
    assert "Nothing was changed" in result.stderr and len(result.stderr.splitlines()) == 1
    assert path.read_bytes() == content
    assert not (state() / "budget.json").exists() and not (state() / "backups").exists()


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{\n  "model": "opus",\n  "hooks": {,\n}\n')
    result = governor("uninstall", "--settings", str(path))
    assert result.returncode != 0 and "invalid JSON at line 3" in result.stderr


def test_a_read_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = write(path, THEIRS)
    path.chmod(0o444)
    result = governor("install", "--settings", str(path))
    assert result.returncode != 0 and "read-only" in result.stderr and "Nothing was changed" in result.stderr
    assert path.read_bytes() == original and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_a_symlinked_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "settings.json"
    original = write(target, THEIRS)
    link = tmp_path / "settings.json"
    link.symlink_to(target)
    for command in ("install", "uninstall"):
        result = governor(command, "--settings", str(link))
        assert result.returncode != 0 and "symlink" in result.stderr and str(target) in result.stderr
    assert link.is_symlink() and target.read_bytes() == original


def test_codex_hook_is_added_with_trust_instructions_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    codex = Path(os.environ["CODEX_HOME"]) / "hooks.json"
    notify = {"type": "command", "command": "python3 /x/notify.py", "timeout": 5}
    theirs = {"hooks": {"Stop": [{"hooks": [notify]}]}}
    original = write(codex, theirs)
    result = governor("install", "--settings", str(path), "--codex")
    assert result.returncode == 0, result.stderr
    assert "/hooks" in result.stdout and "trust" in result.stdout
    doc = json.loads(codex.read_text())
    assert doc["hooks"]["Stop"] == theirs["hooks"]["Stop"]
    (command,) = [h["command"] for _e, _g, h in gs.governor_handlers(doc)]
    assert command == f"{sys.executable} {HOOKS_DIR / 'codex_user_prompt_submit.py'} # governor"
    assert "statusLine" not in doc
    assert governor("uninstall", "--settings", str(path), "--codex").returncode == 0
    assert codex.read_bytes() == original and not path.exists()


def test_installed_commands_run_through_sh_with_another_python_first_on_path(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    assert governor("install", "--settings", str(path)).returncode == 0
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    for name in ("python", "python3"):
        (decoy / name).write_text("#!/bin/sh\necho decoy python >&2\nexit 42\n")
        (decoy / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{decoy}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    doc = json.loads(path.read_text())
    for event, _group, handler in gs.governor_handlers(doc):
        payload = {"session_id": "s", "transcript_path": str(tmp_path / "t.jsonl"), "cwd": str(tmp_path),
                   "hook_event_name": event, "prompt": "hi", "source": "startup", "tool_name": "Write",
                   "tool_input": {"file_path": str(tmp_path / "a.txt")}, "tool_response": {}}
        proc = subprocess.run(["sh", "-c", handler["command"]], input=json.dumps(payload), text=True,
                              capture_output=True, env=env, cwd=str(tmp_path), timeout=60)
        assert proc.returncode == 0 and "decoy" not in proc.stderr, (event, proc.stderr)


def test_concurrent_installs_leave_one_copy_and_valid_json(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = write(path, THEIRS)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "governor", "install", "--settings", str(path)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    doc = json.loads(path.read_text())
    events = sorted(e for e, _g, _h in gs.governor_handlers(doc))
    assert events == ["PostToolBatch", "PostToolUse", "SessionStart", "UserPromptSubmit"]
    assert [b.read_bytes() for b in (state() / "backups").iterdir()] == [original]


def test_an_unreadable_budget_json_stops_install_before_settings_change(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = write(path, THEIRS)
    (state() / "budget.json").write_text("{not json")
    result = governor("install", "--settings", str(path))
    assert result.returncode != 0 and "budget.json" in result.stderr and "statusline.chain" in result.stderr
    assert path.read_bytes() == original and (state() / "budget.json").read_text() == "{not json"


def test_an_install_from_before_post_tool_batch_is_migrated_and_still_uninstalls_exactly(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = write(path, THEIRS)
    assert governor("install", "--settings", str(path)).returncode == 0
    doc = json.loads(path.read_text())
    del doc["hooks"]["PostToolBatch"]  # what governor installed before issue 15
    path.write_text(json.dumps(doc, indent=2) + "\n")
    again = governor("install", "--settings", str(path))
    assert again.returncode == 0, again.stderr
    assert "PostToolBatch: added" in again.stdout and "UserPromptSubmit: unchanged" in again.stdout
    migrated = json.loads(path.read_text())
    assert [h["command"] for _e, _g, h in gs.governor_handlers(migrated) if _e == "PostToolBatch"] == [
        f"{sys.executable} {HOOKS_DIR / 'post_tool_batch.py'} # governor"]
    assert governor("uninstall", "--settings", str(path)).returncode == 0
    assert path.read_bytes() == original
