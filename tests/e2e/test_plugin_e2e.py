"""governor as a Claude Code plugin, end to end with the real Claude Code 2.1.328 offline: loaded (a) with
`--plugin-dir <checkout>` and (b) from this checkout as a directory marketplace + `plugin install --scope user`.
"governor installed" means a `governor` console script on PATH, as pipx / uv tool / a venv leave one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .governor_cli import install_governor, seed_heavy_week, write_budget
from .mock_anthropic import text_reply, tool_reply
from .runners import ClaudeRun, ClaudeRunner
from .workspace import REPO_ROOT, Workspace, encode_project

pytestmark = pytest.mark.e2e

PACING_CONTEXT = "Weekly usage budget (governor)"
ROUTES = ("plugin-dir", "marketplace")
PLUGIN_ID = "governor@token-budget-governor"


@pytest.mark.parametrize("target", [".", ".claude-plugin/plugin.json"])
def test_claude_plugin_validate_strict_directory_profile_passes(claude_bin: Path, target: str) -> None:
    """The strictest form 2.1.328 offers: --strict (warnings fail) plus --profile directory (the catalog's checks)."""
    cmd = [str(claude_bin), "plugin", "validate", "--strict", "--profile", "directory", "--json", target]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["success"] is True, proc.stdout
    assert report["manifest"]["errors"] == [] and report["manifest"]["warnings"] == []
    assert report["provides"]["commands"] == [
        "governor:handoff", "governor:report", "governor:setup", "governor:status"]


def _governor_script() -> Path:
    script = Path(sys.executable).parent / "governor"
    probe = subprocess.run([sys.executable, "-I", "-c", "import governor._hooks"], capture_output=True)
    if not script.is_file() or probe.returncode != 0:
        pytest.skip(f"governor is not pip-installed in {sys.executable} (pip install -e '.[test]')")
    return script


def plugin_env(ws: Workspace, installed: bool) -> dict[str, str]:
    """PATH with (installed) or without a `governor` console script; the hooks find it there."""
    bindir = ws.root / "bin"
    bindir.mkdir(exist_ok=True)
    if installed:
        shutil.copy2(_governor_script(), bindir / "governor")
    return {"PATH": f"{bindir}:{ws.base_env()['PATH']}"}


def load_plugin(claude: ClaudeRunner, route: str) -> list[str]:
    """The claude args that load the plugin on `route` (the marketplace route installs it first)."""
    if route == "plugin-dir":
        return ["--plugin-dir", str(REPO_ROOT)]
    for args in (["plugin", "marketplace", "add", str(REPO_ROOT)], ["plugin", "install", PLUGIN_ID, "--scope", "user"]):
        proc = subprocess.run([str(claude.binary), *args], cwd=claude.ws.project, env=claude.env(),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    settings = json.loads((claude.ws.claude_dir / "settings.json").read_text())
    assert settings["enabledPlugins"] == {PLUGIN_ID: True}
    return []


def assert_clean(run: ClaudeRun, claude: ClaudeRunner) -> None:
    assert run.proc.returncode == 0, run.proc.stderr[-2000:]
    assert run.result["is_error"] is False, run.result
    assert not claude.mock.proxy_attempts, claude.mock.leaks()
    assert all(h["exit_code"] == 0 for h in run.hook_responses()), run.hook_responses()


def said(run: ClaudeRun, event: str) -> list[dict[str, object]]:
    return [json.loads(h["stdout"]) for h in run.hook_responses(event) if h.get("stdout", "").strip()]


def system_texts(body: dict[str, object]) -> str:
    return json.dumps([m["content"] for m in body["messages"] if m["role"] == "system"])  # type: ignore[index]


def memory_file(ws: Workspace) -> Path:
    return ws.claude_dir / "projects" / encode_project(ws.project) / "memory" / "MEMORY.md"


LONG_LINE = ("- Auth notes: " + " ".join(["the auth service retries token refresh with jittered backoff"] * 20))[:975]


@pytest.mark.parametrize("route", ROUTES)
def test_plugin_paces_a_heavy_week_and_caps_memory(claude: ClaudeRunner, workspace: Workspace, route: str) -> None:
    env = plugin_env(workspace, installed=True)
    args = load_plugin(claude, route)
    seed_heavy_week(workspace, projected=1.5)
    memory = memory_file(workspace)
    content = f"# Memory\n\n- Short entry.\n{LONG_LINE}\n"
    claude.mock.queue(tool_reply("Write", {"file_path": str(memory), "content": content}), text_reply("Noted."))

    run = claude.run("remember the auth notes", env=env, args=args)

    assert_clean(run, claude)
    [pacing] = said(run, "UserPromptSubmit")
    model = pacing["hookSpecificOutput"]["additionalContext"]  # type: ignore[index]
    assert model.startswith(PACING_CONTEXT) and "on pace for 150%" in pacing["systemMessage"]  # type: ignore[operator]
    first, last = claude.mock.messages()
    assert model in system_texts(first)  # the pacing note reached the model
    lines = memory.read_text().splitlines()
    assert lines[:3] == ["# Memory", "", "- Short entry."] and len(lines[3]) <= 350 and lines[3].endswith(" …")
    assert LONG_LINE in memory.with_name("MEMORY.overflow.md").read_text()
    [guard] = said(run, "PostToolUse")
    assert "memory guard cut 1 over-long entry" in json.dumps(guard)
    assert "memory guard cut 1 over-long entry" in json.dumps(last)  # Claude is told


@pytest.mark.parametrize("route", ROUTES)
def test_status_command_is_listed_and_prints_the_status(claude: ClaudeRunner, workspace: Workspace,
                                                         route: str) -> None:
    env = plugin_env(workspace, installed=True)
    args = load_plugin(claude, route)
    write_budget(workspace, caps={"max20x": 1000.0})
    claude.mock.queue(text_reply("Here is the status."))

    run = claude.run("/governor:status", env=env, args=args)

    assert_clean(run, claude)
    commands = run.of("system", "init")[0]["slash_commands"]
    assert {"governor:status", "governor:setup", "governor:handoff", "governor:report"} <= set(commands)
    [body] = claude.mock.messages()
    sent = json.dumps(body)
    for piece in ("week      ", "of the max20x cap (local estimate)", "hook now  (nothing: under pace)"):
        assert json.dumps(piece)[1:-1] in sent, sent[-3000:]  # `governor status` ran and its text reached Claude


def test_report_command_writes_the_report_and_hands_claude_its_path(claude: ClaudeRunner,
                                                                   workspace: Workspace) -> None:
    env = plugin_env(workspace, installed=True)
    args = load_plugin(claude, "plugin-dir")
    write_budget(workspace, caps={"max20x": 1000.0})
    claude.mock.queue(text_reply("The report is written."))

    run = claude.run("/governor:report", env=env, args=args)

    assert_clean(run, claude)
    [body] = claude.mock.messages()
    report = workspace.governor_home / "report.html"
    assert json.dumps(str(report))[1:-1] in json.dumps(body)  # the printed path reached Claude
    assert report.stat().st_size > 1_000_000 and "plotly" in report.read_text()[:200_000].lower()


@pytest.mark.parametrize("route", ROUTES)
def test_without_governor_the_session_runs_and_session_start_says_how_to_finish(
        claude: ClaudeRunner, workspace: Workspace, route: str) -> None:
    env = {**plugin_env(workspace, installed=False), "PIP_NO_INDEX": "1"}  # offline: the bootstrap must fail
    args = load_plugin(claude, route)
    target = workspace.project / "notes.txt"
    claude.mock.queue(tool_reply("Write", {"file_path": str(target), "content": "hi\n"}), text_reply("ok"))

    first = claude.run("write notes.txt", env=env, args=args)

    assert_clean(first, claude)
    assert first.result["result"] == "ok" and target.read_text() == "hi\n"
    assert said(first, "UserPromptSubmit") == [] and said(first, "PostToolUse") == []
    [news] = [s["systemMessage"] for s in said(first, "SessionStart")]
    assert str(news).startswith("governor: installing itself in the background from ")
    data = [p for p in (workspace.claude_dir / "plugins" / "data").glob("governor*") if p.is_dir()]
    assert len(data) == 1, data
    deadline = time.time() + 120
    while not (data[0] / "bootstrap.failed").exists() and time.time() < deadline:
        time.sleep(0.5)
    assert (data[0] / "bootstrap.failed").exists(), (data[0] / "bootstrap.log").read_text()
    assert not (data[0] / "venv").exists()

    claude.mock.queue(text_reply("ok"), text_reply("ok"))
    second = claude.run("hello", env=env, args=args)
    third = claude.run("hello again", env=env, args=args)

    assert_clean(second, claude)
    assert_clean(third, claude)
    [failed] = [s["systemMessage"] for s in said(second, "SessionStart")]
    assert str(failed).startswith("governor: could not install itself (pip step exited ")
    assert f"Finish the setup with `pipx install {REPO_ROOT}`" in str(failed) and "/governor:setup" in str(failed)
    assert said(third, "SessionStart") == []  # said once
    sent = json.dumps(claude.mock.messages())
    assert "install itself" not in sent and "installing itself" not in sent  # the person's note, not the model's


@pytest.mark.parametrize("route", ROUTES)
def test_plugin_and_install_together_run_each_hook_once(claude: ClaudeRunner, workspace: Workspace,
                                                        route: str) -> None:
    env = plugin_env(workspace, installed=True)
    install_governor(workspace)  # settings entries for all three events
    args = load_plugin(claude, route)
    seed_heavy_week(workspace, projected=1.5)
    memory = memory_file(workspace)
    claude.mock.queue(tool_reply("Write", {"file_path": str(memory), "content": f"# Memory\n{LONG_LINE}\n"}),
                      text_reply("Noted."))

    run = claude.run("remember the auth notes", env=env, args=args)

    assert_clean(run, claude)
    assert len(run.hook_responses("UserPromptSubmit")) == 2  # both registrations ran ...
    assert len(said(run, "UserPromptSubmit")) == 1  # ... and governor spoke once
    assert len(said(run, "PostToolUse")) == 1
    first, last = claude.mock.messages()
    assert system_texts(first).count(PACING_CONTEXT) == 1
    assert json.dumps(last).count("memory guard cut 1 over-long entry") == 1
    archive = memory.with_name("MEMORY.overflow.md").read_text()
    assert archive.count(LONG_LINE) == 1  # capped once, archived once
    doctor = subprocess.run([sys.executable, "-m", "governor", "doctor", "--no-run"], cwd=workspace.project,
                            env={**workspace.base_env(), **env}, capture_output=True, text=True, timeout=120)
    plugin_line = next(line for line in doctor.stdout.splitlines() if " plugin: " in line)
    if route == "marketplace":
        assert "both registered: the settings entries (user scope) run the hooks" in plugin_line, doctor.stdout
        assert f"claude plugin uninstall {PLUGIN_ID} --scope user" in doctor.stdout
        assert "keep only the plugin: governor uninstall --scope user, then /governor:setup" in doctor.stdout
    else:  # --plugin-dir leaves no trace a separate process can see
        assert "governor's Claude Code plugin is not enabled; the settings entries run the hooks" in plugin_line


def test_setup_command_writes_the_status_line_the_plugin_cannot(claude: ClaudeRunner, workspace: Workspace) -> None:
    env = plugin_env(workspace, installed=True)
    args = load_plugin(claude, "marketplace")
    claude.mock.queue(text_reply("Done."))

    run = claude.run("/governor:setup", env=env, args=args)

    assert_clean(run, claude)
    settings = json.loads((workspace.claude_dir / "settings.json").read_text())
    assert settings["enabledPlugins"] == {PLUGIN_ID: True} and "hooks" not in settings  # the plugin keeps the hooks
    assert settings["statusLine"]["command"].endswith("statusline.py # governor")
    assert (workspace.governor_home / "budget.json").exists()
    [body] = claude.mock.messages()
    assert "statusLine: added" in json.dumps(body)  # install's own report reached Claude
