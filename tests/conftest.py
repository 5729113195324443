"""Every test runs with HOME, CLAUDE_CONFIG_DIR, CODEX_HOME, GOVERNOR_HOME and TMPDIR isolated:
nothing may read or write the real ~/.claude, ~/.codex or the user's governor state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ISOLATED_VARS = (
    "HOME",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "GOVERNOR_HOME",
    "XDG_STATE_HOME",
    "XDG_CONFIG_HOME",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    home = tmp_path / "home"
    env = {
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "CODEX_HOME": str(home / ".codex"),
        "GOVERNOR_HOME": str(home / "governor"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    for path in env.values():
        Path(path).mkdir(parents=True, exist_ok=True)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("GOVERNOR_DISABLE", "GOVERNOR_CONFIG", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(key, raising=False)
    yield env
    # A hook's detached full scan (guards.background_scan) must not outlive the test's directories.
    from tests.helpers import wait_for_background_scan

    wait_for_background_scan()
