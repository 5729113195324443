"""Every on-disk location governor reads or writes.

Kept import-light (os only): hooks resolve paths on every prompt. platformdirs is imported
only off Linux, where its answer is not the plain XDG rule reproduced below.
"""

from __future__ import annotations

import os
import sys

APP = "governor"

# True in a process that ends with os._exit as soon as its work is committed (the hooks, the status
# line): it leaves its ledger connection open (meter.db.release) instead of paying the close-time checkpoint.
exits_without_teardown = False


def _home() -> str:
    return os.path.expanduser("~")


def _platform_dir(kind: str) -> str:
    if sys.platform.startswith("linux"):
        # platformdirs' user_state_dir / user_config_dir on Linux, without the import cost.
        if kind == "state":
            base = os.environ.get("XDG_STATE_HOME") or os.path.join(_home(), ".local", "state")
        else:
            base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(_home(), ".config")
        return os.path.join(base, APP)
    import platformdirs

    if kind == "state":
        return platformdirs.user_state_dir(APP, appauthor=False)
    return platformdirs.user_config_dir(APP, appauthor=False)


def governor_home() -> str | None:
    value = os.environ.get("GOVERNOR_HOME")
    return os.path.abspath(os.path.expanduser(value)) if value else None


def state_dir() -> str:
    """Ledger, log, caches, hand-off briefs."""
    return governor_home() or _platform_dir("state")


def config_dir() -> str:
    """budget.json lives here."""
    return governor_home() or _platform_dir("config")


def budget_path() -> str:
    override = os.environ.get("GOVERNOR_CONFIG")
    return (
        os.path.abspath(os.path.expanduser(override))
        if override
        else os.path.join(config_dir(), "budget.json")
    )


def ledger_path() -> str:
    return os.path.join(state_dir(), "ledger.sqlite3")


def log_path() -> str:
    return os.path.join(state_dir(), "governor.log")


def config_cache_path() -> str:
    return os.path.join(state_dir(), "budget.validated.json")


def handoffs_dir() -> str:
    return os.path.join(state_dir(), "handoffs")


def ensure_private_dir(path: str) -> str:
    """Create `path` (and parents) when missing, and make it 0700 whatever the umask (an existing dir
    with group or other bits, made by an older governor or under umask 000, is fixed here too)."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o700)
    except OSError:
        pass  # not ours to change (a shared GOVERNOR_HOME owned by someone else): leave it
    return path


def claude_config_dirs() -> list[str]:
    """Claude Code config dirs: every CLAUDE_CONFIG_DIR entry (comma-separated), else the defaults."""
    raw = os.environ.get("CLAUDE_CONFIG_DIR", "")
    entries = [os.path.abspath(os.path.expanduser(p.strip())) for p in raw.split(",") if p.strip()]
    if entries:
        return entries
    return [os.path.join(_home(), ".claude"), os.path.join(_home(), ".config", "claude")]


def transcript_roots(override: list[str] | None = None) -> list[str]:
    """`<config dir>/projects` for each Claude config dir; `--claude-dir` values replace them."""
    if override:
        roots = []
        for d in override:
            d = os.path.abspath(os.path.expanduser(d))
            projects = os.path.join(d, "projects")
            roots.append(projects if os.path.isdir(projects) else d)
        return roots
    return [os.path.join(d, "projects") for d in claude_config_dirs()]


def claude_json_path() -> str:
    """Claude Code's global state file holding `cachedUsageUtilization`."""
    raw = os.environ.get("CLAUDE_CONFIG_DIR", "")
    first = next((p.strip() for p in raw.split(",") if p.strip()), "")
    if first:
        return os.path.join(os.path.abspath(os.path.expanduser(first)), ".claude.json")
    return os.path.join(_home(), ".claude.json")


def user_settings_path() -> str:
    return os.path.join(claude_config_dirs()[0], "settings.json")


def codex_home() -> str:
    value = os.environ.get("CODEX_HOME")
    return os.path.abspath(os.path.expanduser(value)) if value else os.path.join(_home(), ".codex")


def kill_switch_on() -> bool:
    """GOVERNOR_DISABLE set to anything but empty or 0."""
    return os.environ.get("GOVERNOR_DISABLE", "") not in ("", "0")
