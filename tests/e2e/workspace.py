"""Per-test isolated directories and the from-scratch environment the real CLIs run in."""

from __future__ import annotations

import base64
import json
import os
import platform
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOKS_DIR = REPO_ROOT / "hooks"
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"
SAVE_FIXTURES_VAR = "GOVERNOR_E2E_SAVE_FIXTURES"  # set to 1 to (re)write the golden files from a real run
GOVERNOR_HOOKS = {  # event -> entry script, as `governor install` will register them
    "UserPromptSubmit": "user_prompt_submit.py",
    "PostToolUse": "post_tool_use.py",
    "PostToolBatch": "post_tool_batch.py",
    "SessionStart": "session_start.py",
}


@dataclass
class Workspace:
    """One test's world. `home` etc. are the same dirs the autouse `isolated_env` fixture exports, so
    `helpers.run_cli("status", "--json")` in the test process sees what the CLIs wrote."""

    root: Path
    home: Path
    claude_dir: Path  # CLAUDE_CONFIG_DIR
    codex_home: Path  # CODEX_HOME
    governor_home: Path  # GOVERNOR_HOME
    xdg_state: Path
    xdg_config: Path
    project: Path  # cwd of the CLI runs
    tmpdir: Path  # short TMPDIR (Claude Code puts unix sockets there: paths must stay <= ~108 bytes)

    def base_env(self) -> dict[str, str]:
        """`env -i` style: nothing from the test process leaks in except what is listed here."""
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
            "HOME": str(self.home),
            "CLAUDE_CONFIG_DIR": str(self.claude_dir),
            "CODEX_HOME": str(self.codex_home),
            "GOVERNOR_HOME": str(self.governor_home),
            "XDG_STATE_HOME": str(self.xdg_state),
            "XDG_CONFIG_HOME": str(self.xdg_config),
            "TMPDIR": str(self.tmpdir),
        }

    def neutralise(self, text: str) -> str:
        """Replace this test's temp paths with stable /home/dev ones (for committed fixtures)."""
        pairs = [
            (str(self.project), "/home/dev/proj"),
            (encode_project(self.project), encode_project(Path("/home/dev/proj"))),
            (str(self.claude_dir), "/home/dev/.claude"),
            (str(self.codex_home), "/home/dev/.codex"),
            (str(self.governor_home), "/home/dev/.local/state/governor"),
            (str(self.home), "/home/dev"),
            (str(self.tmpdir), "/tmp/e2e"),
            (str(self.root), "/home/dev/work"),
            (sys.executable, "/usr/bin/python3"),
            (f"Linux {platform.release()}", "Linux 6.1.0-dev"),
        ]
        for old, new in sorted(pairs, key=lambda p: -len(p[0])):
            text = text.replace(old, new)
        return text


def proxy_env(mock_url: str) -> dict[str, str]:
    """Route every non-loopback connection to the mock, which refuses (403) and counts it."""
    env = {
        name: mock_url
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy")
    }
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


def encode_project(cwd: Path) -> str:
    """Claude Code's projects/<dir> name for a cwd (every non-alphanumeric char -> '-')."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(cwd))


def gateway_jwt(audience: str = "claude-gateway", lifetime_s: int = 3600) -> str:
    """An unsigned JWT Claude Code accepts as LLM-gateway auth (it reads the payload unverified)."""

    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()

    payload = {"aud": audience, "sub": "e2e", "iat": int(time.time()), "exp": int(time.time()) + lifetime_s}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}.c2ln"


def hook_command(script: Path | str, *args: str) -> str:
    """A settings.json `command` running a Python hook with this interpreter."""
    return shlex.join([sys.executable, str(script), *args])


def hooks_settings(commands: dict[str, list[str]], timeout: int = 30) -> dict[str, Any]:
    """settings.json registering command hooks: {"UserPromptSubmit": [cmd, ...], ...}."""
    return {
        "hooks": {
            event: [{"hooks": [{"type": "command", "command": c, "timeout": timeout} for c in cmds]}]
            for event, cmds in commands.items()
        }
    }


def governor_hooks_settings() -> dict[str, Any]:
    """settings.json with governor's own hook scripts registered the way the brief asks."""
    return hooks_settings(
        {event: [hook_command(HOOKS_DIR / script)] for event, script in GOVERNOR_HOOKS.items()}
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def save_fixture(ws: Workspace, source: Path, relative: str) -> Path | None:
    """Copy a real CLI output file to tests/fixtures/<relative> with paths neutralised, when
    $GOVERNOR_E2E_SAVE_FIXTURES is set; otherwise do nothing (normal runs never touch the goldens)."""
    if not os.environ.get(SAVE_FIXTURES_VAR):
        return None
    dest = FIXTURES_DIR / relative
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(ws.neutralise(source.read_text()))
    return dest
