"""Drive an interactive Claude Code session under tmux (the only mode that runs the statusLine).

claude-code.md 9.3: seed $CLAUDE_CONFIG_DIR/.claude.json (onboarding done, workspace trusted, the
test API key approved), start `claude` in a detached tmux session with the from-scratch environment,
type each prompt, wait for the mock to answer and the screen to settle, then `/exit`.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from .runners import ClaudeRunner

READY_MARK = "\u276f"  # the input prompt glyph
BUSY_MARK = "esc to interrupt"


@dataclass
class InteractiveRun:
    screens: list[str]  # the pane after startup, after each prompt, and before /exit
    exited: bool  # the session ended by itself after /exit (SessionEnd hooks ran)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _served_more_than(runner: ClaudeRunner, n: int) -> Callable[[], bool]:
    return lambda: len(runner.mock.served) > n


def seed_claude_json(runner: ClaudeRunner) -> None:
    """Mark onboarding done, trust the project and approve the test key (merged into any existing file)."""
    path = runner.ws.claude_dir / ".claude.json"
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    data.update(hasCompletedOnboarding=True, theme="dark")
    data["customApiKeyResponses"] = {"approved": ["sk-test"], "rejected": []}
    data.setdefault("projects", {}).setdefault(str(runner.ws.project), {})["hasTrustDialogAccepted"] = True
    path.write_text(json.dumps(data, indent=2))


class Tmux:
    def __init__(self, runner: ClaudeRunner) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            pytest.skip("tmux not installed: interactive Claude Code runs need it")
        self.base = [tmux, "-S", str(runner.ws.tmpdir / "tmux.sock")]

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=30)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "cc").stdout

    def alive(self) -> bool:
        return self("has-session", "-t", "cc").returncode == 0

    def settle(self, timeout: float) -> str:
        """Wait until the pane is idle (prompt shown, not busy) and unchanged for ~1 s."""
        last, stable_since = "", time.monotonic()

        def idle() -> bool:
            nonlocal last, stable_since
            now = self.screen()
            if now != last:
                last, stable_since = now, time.monotonic()
            return READY_MARK in now and BUSY_MARK not in now and time.monotonic() - stable_since >= 1.0

        wait_until(idle, timeout)
        return last


def run_interactive(
    runner: ClaudeRunner,
    prompts: Sequence[str],
    *,
    settings: dict[str, Any] | None = None,
    gateway: bool = False,
    env: dict[str, str] | None = None,
    args: Sequence[str] = ("--permission-mode", "acceptEdits", "--allowedTools", "Bash(echo:*)"),
    timeout: float = 60,
) -> InteractiveRun:
    """Type each prompt into a real interactive `claude`, wait for its turn to finish, then /exit."""
    seed_claude_json(runner)
    cmd = [str(runner.binary), *args]
    if settings is not None:
        cmd += ["--settings", str(runner.write_settings(settings))]
    full_env = {**runner.env(gateway), **(env or {})}
    shell = (
        "exec env -i "
        + " ".join(f"{k}={shlex.quote(v)}" for k, v in full_env.items())
        + " "
        + shlex.join(cmd)
    )
    tmux = Tmux(runner)
    started = tmux(
        "new-session", "-d", "-s", "cc", "-x", "180", "-y", "45", "-c", str(runner.ws.project), shell
    )
    assert started.returncode == 0, started.stderr
    try:
        screens = [tmux.settle(timeout)]
        for prompt in prompts:
            served = len(runner.mock.served)
            tmux("send-keys", "-t", "cc", "-l", prompt)
            time.sleep(0.3)
            tmux("send-keys", "-t", "cc", "Enter")
            wait_until(_served_more_than(runner, served), timeout)
            screens.append(tmux.settle(timeout))
        tmux("send-keys", "-t", "cc", "-l", "/exit")
        time.sleep(0.3)
        tmux("send-keys", "-t", "cc", "Enter")
        exited = wait_until(lambda: not tmux.alive(), 15)
        return InteractiveRun(screens, exited)
    finally:
        tmux("kill-server")
