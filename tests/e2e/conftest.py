"""Fixtures for the end-to-end tests against the real Claude Code and Codex CLIs (offline).

cli_cache       (session) CliCache: pinned CLIs installed once into the npm cache dir
claude_bin / codex_bin (session) Path of the native binary, or the test skips with the reason
workspace       Workspace: isolated HOME, CLAUDE_CONFIG_DIR, CODEX_HOME, GOVERNOR_HOME, project, short TMPDIR
anthropic_mock  AnthropicMock, started; teardown fails the test on any proxy (non-loopback) attempt
openai_mock     OpenAIMock, same
claude          ClaudeRunner(claude_bin, workspace, anthropic_mock): .run(prompt, settings=..., gateway=...)
codex           CodexRunner(codex_bin, workspace, openai_mock): .run(prompt)

governor_cli.py (no fixture): governor's own CLI in a Workspace: install_governor, write_budget,
seed_heavy_week, governor_json("status", "--json"), run_hook; GOVERNOR_ENV lets the installed statusLine
(`python -m governor statusline`) import governor from this checkout. Scenarios: test_governor_e2e.py.

A scenario in a few lines (see test_claude_cli.py for more):

    def test_x(claude: ClaudeRunner, workspace: Workspace) -> None:
        claude.mock.queue(tool_reply("Bash", {"command": "echo hi"}), text_reply("done"))
        run = claude.run("prompt", settings=governor_hooks_settings())   # or gateway=True, env={...}
        assert run.result["is_error"] is False and run.system_messages() == []
        rows = run.transcript_rows(); bodies = claude.mock.messages()      # what CC wrote / sent
        status = helpers.run_cli("status", "--json")                       # same isolated dirs
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .clis import CLAUDE, CODEX, DEFAULT_CACHE, install
from .mock_anthropic import AnthropicMock
from .mock_http import LoopbackMock
from .mock_openai import OpenAIMock
from .runners import ClaudeRunner, CodexRunner
from .workspace import Workspace


@dataclass
class CliCache:
    cache: Path
    claude: Path | None
    codex: Path | None
    claude_reason: str
    codex_reason: str


@pytest.fixture(scope="session")
def cli_cache() -> CliCache:
    claude, claude_reason = install(CLAUDE, DEFAULT_CACHE)
    codex, codex_reason = install(CODEX, DEFAULT_CACHE)
    return CliCache(DEFAULT_CACHE, claude, codex, claude_reason, codex_reason)


@pytest.fixture(scope="session")
def claude_bin(cli_cache: CliCache) -> Path:
    if cli_cache.claude is None:
        pytest.skip(f"Claude Code {CLAUDE.version} unavailable: {cli_cache.claude_reason}")
    return cli_cache.claude


@pytest.fixture(scope="session")
def codex_bin(cli_cache: CliCache) -> Path:
    if cli_cache.codex is None:
        pytest.skip(f"Codex CLI {CODEX.version} unavailable: {cli_cache.codex_reason}")
    return cli_cache.codex


@pytest.fixture
def workspace(tmp_path: Path, isolated_env: dict[str, str]) -> Iterator[Workspace]:
    short_tmp = Path(tempfile.mkdtemp(prefix="ge2e", dir="/tmp" if Path("/tmp").is_dir() else None))
    ws = Workspace(
        root=tmp_path,
        home=Path(isolated_env["HOME"]),
        claude_dir=Path(isolated_env["CLAUDE_CONFIG_DIR"]),
        codex_home=Path(isolated_env["CODEX_HOME"]),
        governor_home=Path(isolated_env["GOVERNOR_HOME"]),
        xdg_state=Path(isolated_env["XDG_STATE_HOME"]),
        xdg_config=Path(isolated_env["XDG_CONFIG_HOME"]),
        project=tmp_path / "proj",
        tmpdir=short_tmp,
    )
    ws.project.mkdir()
    yield ws
    shutil.rmtree(short_tmp, ignore_errors=True)


def _stop_and_check(mock: LoopbackMock) -> None:
    mock.stop()
    assert not mock.proxy_attempts, f"non-loopback connection attempts: {mock.leaks()}"


@pytest.fixture
def anthropic_mock() -> Iterator[AnthropicMock]:
    mock = AnthropicMock()
    mock.start()
    yield mock
    _stop_and_check(mock)


@pytest.fixture
def openai_mock() -> Iterator[OpenAIMock]:
    mock = OpenAIMock()
    mock.start()
    yield mock
    _stop_and_check(mock)


@pytest.fixture
def claude(claude_bin: Path, workspace: Workspace, anthropic_mock: AnthropicMock) -> ClaudeRunner:
    return ClaudeRunner(claude_bin, workspace, anthropic_mock)


@pytest.fixture
def codex(codex_bin: Path, workspace: Workspace, openai_mock: OpenAIMock) -> CodexRunner:
    return CodexRunner(codex_bin, workspace, openai_mock)
