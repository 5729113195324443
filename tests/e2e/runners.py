"""Run the real `claude -p` and `codex exec` in a Workspace against the loopback mocks."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .mock_anthropic import AnthropicMock
from .mock_openai import OpenAIMock
from .workspace import Workspace, gateway_jwt, proxy_env, read_jsonl

CODEX_MODEL = "gpt-5.2-codex"


def parse_jsonl_stdout(stdout: str) -> tuple[list[dict[str, Any]], list[str]]:
    """(JSON events, other lines) of a CLI's JSONL stdout."""
    events: list[dict[str, Any]] = []
    other: list[str] = []
    for line in stdout.splitlines():
        try:
            obj = json.loads(line) if line.lstrip().startswith("{") else None
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            events.append(obj)
        elif line.strip():
            other.append(line)
    return events, other


@dataclass
class ClaudeRun:
    proc: subprocess.CompletedProcess[str]
    events: list[dict[str, Any]]  # stream-json events
    other_lines: list[str]
    claude_dir: Path

    def of(self, type_: str, subtype: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e.get("type") == type_ and (subtype is None or e.get("subtype") == subtype)
        ]

    @property
    def result(self) -> dict[str, Any]:
        results = self.of("result")
        assert results, f"no result event; rc={self.proc.returncode} stderr={self.proc.stderr[-2000:]}"
        return results[-1]

    @property
    def session_id(self) -> str:
        return str(self.of("system", "init")[0]["session_id"])

    def system_messages(self) -> list[str]:
        """Texts of `system/informational` events (where hooks' systemMessage lands in stream-json)."""
        return [str(e.get("content", "")) for e in self.of("system", "informational")]

    def hook_responses(self, event: str | None = None) -> list[dict[str, Any]]:
        """`system/hook_response` events (needs hook_events=True):
        hook_event, exit_code, outcome, stdout, stderr."""
        return [
            e for e in self.of("system", "hook_response") if event is None or e.get("hook_event") == event
        ]

    def rate_limit_infos(self) -> list[dict[str, Any]]:
        return [e["rate_limit_info"] for e in self.of("rate_limit_event")]

    def transcript(self) -> Path:
        found = sorted((self.claude_dir / "projects").glob(f"*/{self.session_id}.jsonl"))
        assert found, f"no transcript for session {self.session_id}"
        return found[0]

    def transcript_rows(self) -> list[dict[str, Any]]:
        return read_jsonl(self.transcript())


@dataclass
class ClaudeRunner:
    binary: Path
    ws: Workspace
    mock: AnthropicMock
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, gateway: bool = False) -> dict[str, str]:
        """The claude-code.md 9.2 environment; gateway=True swaps the API key for a gateway JWT (9.4)."""
        env = {
            **self.ws.base_env(),
            **proxy_env(self.mock.url),
            "ANTHROPIC_BASE_URL": self.mock.url,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DO_NOT_TRACK": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",  # interactive: else 2 leaks
            "IS_SANDBOX": "1",
        }
        env.update({"ANTHROPIC_AUTH_TOKEN": gateway_jwt()} if gateway else {"ANTHROPIC_API_KEY": "sk-test"})
        return {**env, **self.extra_env}

    def write_settings(self, settings: dict[str, Any], name: str = "settings.e2e.json") -> Path:
        path = self.ws.root / name
        path.write_text(json.dumps(settings, indent=2))
        return path

    def run(
        self,
        prompt: str,
        *,
        settings: dict[str, Any] | None = None,
        gateway: bool = False,
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
        allowed_tools: str | None = "Bash(echo:*)",
        hook_events: bool = True,
        timeout: float = 120,
    ) -> ClaudeRun:
        """`claude -p PROMPT --output-format stream-json --verbose --permission-mode acceptEdits`.

        `settings` goes in through `--settings <file>` (merged with CLAUDE_CONFIG_DIR/settings.json);
        `hook_events` adds `--include-hook-events` (system/hook_started + hook_response events)."""
        cmd = [
            str(self.binary),
            "-p",
            prompt,
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "acceptEdits",
        ]
        if hook_events:
            cmd.append("--include-hook-events")
        if settings is not None:
            cmd += ["--settings", str(self.write_settings(settings))]
        if allowed_tools:
            cmd += ["--allowedTools", allowed_tools]
        cmd += list(args)
        proc = subprocess.run(
            cmd,
            cwd=self.ws.project,
            env={**self.env(gateway), **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        events, other = parse_jsonl_stdout(proc.stdout)
        return ClaudeRun(proc, events, other, self.ws.claude_dir)


def codex_config_toml(base_url: str, model: str = CODEX_MODEL, top_level: str = "", tables: str = "") -> str:
    """codex.md 7.1: a custom Responses provider on loopback, no retries, no analytics, no update check;
    plus `[features] plugins = false`: otherwise 0.169.0 syncs its curated plugins at startup (git ls-remote
    github.com, then api.github.com, then chatgpt.com), three non-loopback connection attempts per run."""
    return f"""model = "{model}"
model_provider = "mock"
check_for_update_on_startup = false
{top_level}
[model_providers.mock]
name = "Mock"
base_url = "{base_url}/v1"
wire_api = "responses"
env_key = "MOCK_API_KEY"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[features]
plugins = false
{tables}"""


@dataclass
class CodexRun:
    proc: subprocess.CompletedProcess[str]
    events: list[dict[str, Any]]  # `codex exec --json` events
    codex_home: Path

    @property
    def thread_id(self) -> str:
        started = [e for e in self.events if e.get("type") == "thread.started"]
        assert started, f"no thread.started; rc={self.proc.returncode} stderr={self.proc.stderr[-2000:]}"
        return str(started[0]["thread_id"])

    def rollout(self) -> Path:
        found = sorted((self.codex_home / "sessions").glob(f"*/*/*/rollout-*-{self.thread_id}.jsonl"))
        assert found, f"no rollout for thread {self.thread_id}"
        return found[0]

    def rollout_lines(self) -> list[dict[str, Any]]:
        return read_jsonl(self.rollout())


@dataclass
class CodexRunner:
    binary: Path
    ws: Workspace
    mock: OpenAIMock
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**self.ws.base_env(), **proxy_env(self.mock.url), "MOCK_API_KEY": "dummy", **self.extra_env}

    def write_config(self, top_level: str = "", tables: str = "") -> Path:
        """Write $CODEX_HOME/config.toml (run() does it unless the file exists; call it first to add
        top-level keys such as `notify = [...]`, or whole tables such as `[hooks]`, at the end)."""
        path = self.ws.codex_home / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(codex_config_toml(self.mock.url, top_level=top_level, tables=tables))
        return path

    def run(
        self,
        prompt: str,
        *,
        args: Sequence[str] = (),
        sandbox: str = "workspace-write",
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> CodexRun:
        """`codex exec --json --skip-git-repo-check --sandbox S -C ws.project PROMPT`, stdin closed."""
        if not (self.ws.codex_home / "config.toml").exists():
            self.write_config()
        cmd = [
            str(self.binary),
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            sandbox,
            "-C",
            str(self.ws.project),
            *args,
            prompt,
        ]
        proc = subprocess.run(
            cmd,
            cwd=self.ws.project,
            env={**self.env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        events, _ = parse_jsonl_stdout(proc.stdout)
        return CodexRun(proc, events, self.ws.codex_home)
