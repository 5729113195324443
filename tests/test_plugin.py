"""The Claude Code plugin in this checkout: hooks.json is the install wiring table's output, the manifests pass
the shim fails open and stands down next to install's entries,
`install --plugin` writes the status line only, /governor:handoff speaks the Codex plugin's command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from governor import __version__
from governor.wiring import settings_merge
from tests.helpers import REPO_ROOT, run_cli

SHIM = REPO_ROOT / "plugin" / "hook.sh"


def test_hooks_json_is_the_wiring_tables_output() -> None:
    generated = json.loads((REPO_ROOT / "plugin" / "hooks.json").read_text())
    assert generated == settings_merge.plugin_hooks_doc(), "run `python tools/gen_plugin_hooks.py`"
    events = [(ev, group.get("matcher")) for ev, [group] in generated["hooks"].items()]
    assert events == [(ev, m) for ev, m, _s in settings_merge.CLAUDE_HOOKS]


def test_manifest_versions_match_the_package() -> None:
    plugin = json.loads((REPO_ROOT / ".claude-plugin" / "plugin.json").read_text())
    market = json.loads((REPO_ROOT / ".claude-plugin" / "marketplace.json").read_text())
    assert plugin["version"] == __version__ == market["plugins"][0]["version"]
    assert market["plugins"][0]["name"] == plugin["name"] == "governor"


def shim(script: str, tmp_path: Path, payload: str = "{}", **env: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "plugin-data"
    base = {**os.environ, "CLAUDE_PLUGIN_DATA": str(data), "CLAUDE_PROJECT_DIR": str(tmp_path),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", **env}
    return subprocess.run(["sh", str(SHIM), script], input=payload, capture_output=True, text=True, env=base,
                          timeout=60)


def test_shim_runs_governor_and_caches_the_interpreter(tmp_path: Path) -> None:
    if not (Path(sys.executable).parent / "governor").exists():
        pytest.skip("no governor console script next to this interpreter")
    payload = json.dumps({"session_id": "s", "transcript_path": str(tmp_path / "t.jsonl"), "cwd": str(tmp_path),
                          "hook_event_name": "UserPromptSubmit", "prompt": "hi"})
    proc = shim("user_prompt_submit.py", tmp_path, payload)
    assert (proc.returncode, proc.stderr) == (0, "")
    py, hooks = (tmp_path / "plugin-data" / "python").read_text().splitlines()
    assert os.path.samefile(py, sys.executable) or Path(py).parent == Path(sys.executable).parent
    assert Path(hooks, "user_prompt_submit.py").is_file()


def test_shim_fails_open_on_a_broken_cache_and_no_governor(tmp_path: Path) -> None:
    data = tmp_path / "plugin-data"
    data.mkdir()
    (data / "python").write_text("/nonexistent/python\n/nowhere\n")
    proc = shim("post_tool_use.py", tmp_path, "not json", PATH="/usr/bin:/bin", HOME=str(tmp_path))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_shim_stands_down_when_install_wired_the_event(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    command = settings_merge.hook_command(sys.executable, str(REPO_ROOT / "hooks" / "user_prompt_submit.py"))
    settings.write_text(json.dumps({"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command",
                                                                                "command": command}]}]}}))
    proc = shim("user_prompt_submit.py", tmp_path, "{}")
    assert (proc.returncode, proc.stdout) == (0, "")
    assert not (tmp_path / "plugin-data" / "python").exists()  # it stopped before looking for governor


def test_shim_kill_switch(tmp_path: Path) -> None:
    proc = shim("session_start.py", tmp_path, "{}", GOVERNOR_DISABLE="1")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert not (tmp_path / "plugin-data").exists()


def test_install_plugin_writes_the_status_line_only(isolated_env: dict[str, str]) -> None:
    settings = Path(isolated_env["CLAUDE_CONFIG_DIR"]) / "settings.json"
    settings.write_text(json.dumps({"model": "opus"}))
    proc = run_cli("install", "--plugin")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(settings.read_text())
    assert set(doc) == {"model", "statusLine"} and doc["statusLine"]["command"].endswith("statusline.py # governor")
    assert "statusLine: added" in proc.stdout and "The plugin's hooks and the status line run" in proc.stdout
    assert (Path(isolated_env["GOVERNOR_HOME"]) / "budget.json").exists()
    recorded = (Path(isolated_env["GOVERNOR_HOME"]) / "interpreter").read_text()
    assert recorded == os.path.abspath(sys.executable) + "\n"


def test_doctor_with_the_plugin_enabled_needs_only_the_status_line(isolated_env: dict[str, str]) -> None:
    settings = Path(isolated_env["CLAUDE_CONFIG_DIR"]) / "settings.json"
    settings.write_text(json.dumps({"enabledPlugins": {"governor@token-budget-governor": True}}))
    assert run_cli("install", "--plugin").returncode == 0
    out = run_cli("doctor", "--no-run").stdout
    assert "✓ plugin: governor@token-budget-governor (user scope) runs the hooks" in out, out
    assert "✓ wiring user: " in out and "statusLine" in out and "missing" not in out


def test_handoff_for_claude_speaks_the_codex_plugin_when_enabled(isolated_env: dict[str, str],
                                                                tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Hand-off\n\nWorking directory: /tmp\n\nDo the thing.\n")
    plain = run_cli("handoff", str(brief), "--for-claude")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith(f"Hand-off brief: {brief}\nRun it in a shell (or `governor handoff --last --run`): ")
    settings = Path(isolated_env["CLAUDE_CONFIG_DIR"]) / "settings.json"
    settings.write_text(json.dumps({"enabledPlugins": {"codex@openai-codex": True}}))
    lines = run_cli("handoff", str(brief), "--for-claude").stdout.splitlines()
    assert lines[1] == "With the Codex plugin (codex@openai-codex), type:"
    assert lines[2].startswith(f"/codex:rescue --fresh Carry out the hand-off brief in {brief} (working directory ")


def wait_for(path: Path, seconds: float = 120) -> bool:
    import time

    deadline = time.time() + seconds
    while not path.exists() and time.time() < deadline:
        time.sleep(0.2)
    return path.exists()


def test_a_command_without_governor_says_how_to_finish_and_a_failed_bootstrap_is_retried_a_day_later(
        tmp_path: Path) -> None:
    data = tmp_path / "plugin-data"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_NO_INDEX": "1"}  # no governor; pip stays offline
    proc = subprocess.run(["sh", str(SHIM), "--cli", "status"], capture_output=True, text=True, timeout=60,
                          env={**env, "CLAUDE_PLUGIN_DATA": str(data)})
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"governor: installing itself in the background from {REPO_ROOT} into {data}/venv")
    assert wait_for(data / "bootstrap.failed"), (data / "bootstrap.log").read_text()
    assert not (data / "venv").exists() and not (data / "bootstrap.lock").exists()
    again = shim("session_start.py", tmp_path, "{}", **env)
    message = json.loads(again.stdout)["systemMessage"]
    assert message.startswith("governor: could not install itself (pip step exited 1; log: ")
    assert message.endswith(f"Finish the setup with `pipx install {REPO_ROOT}` (or `uv tool install {REPO_ROOT}`), "
                            "then /governor:setup for the status line.")
    assert shim("session_start.py", tmp_path, "{}", **env).stdout == ""  # once
    day_old = (data / "bootstrap.failed").stat().st_mtime - 25 * 3600
    os.utime(data / "bootstrap.failed", (day_old, day_old))
    retry = shim("session_start.py", tmp_path, "{}", **env)
    assert json.loads(retry.stdout)["systemMessage"].startswith("governor: installing itself in the background")
    assert wait_for(data / "bootstrap.failed")


def test_without_a_plugin_data_dir_session_start_says_what_to_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PLUGIN_DATA"}
    proc = subprocess.run(["sh", str(SHIM), "session_start.py"], input="{}", capture_output=True, text=True,
                          timeout=60, env={**env, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert json.loads(proc.stdout) == {"systemMessage": (
        "governor: the plugin's hooks need governor installed (no plugin data dir (CLAUDE_PLUGIN_DATA is unset)): "
        f"`pipx install {REPO_ROOT}` (or `uv tool install {REPO_ROOT}`), then /governor:setup for the status line.")}
