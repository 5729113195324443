"""Which Claude Code plugins are enabled (the `enabledPlugins` of the user, project and local settings), so
doctor can tell governor's plugin from its settings entries and handoff can speak the Codex plugin's command.

A plugin loaded with `claude --plugin-dir DIR` is in no settings file: only a process Claude Code started
from that plugin sees it (CLAUDE_PLUGIN_ROOT in its environment)."""

from __future__ import annotations

import os

from governor.errors import SettingsError
from governor.wiring import installer, settings_file

PLUGIN_NAME = "governor"
MARKETPLACE = "token-budget-governor"
PLUGIN_ID = f"{PLUGIN_NAME}@{MARKETPLACE}"
CODEX_PLUGIN = "codex"  # openai/codex-plugin-cc: `codex@openai-codex`, delegate command /codex:rescue


def enabled(cwd: str | None = None) -> dict[str, str]:
    """plugin id -> the scope that enables it (later scopes win, as in Claude Code: user < project < local)."""
    found: dict[str, str] = {}
    for scope in installer.SCOPES:
        try:
            _raw, doc = settings_file.read(installer.scope_path(scope, cwd))
        except (SettingsError, OSError):
            continue
        table = doc.get("enabledPlugins") if isinstance(doc, dict) else None
        for plugin_id, on in (table.items() if isinstance(table, dict) else ()):
            if on:
                found[str(plugin_id)] = scope
            else:
                found.pop(str(plugin_id), None)
    return found


def named(name: str, cwd: str | None = None) -> dict[str, str]:
    """The enabled plugins called `name` (from any marketplace)."""
    return {pid: scope for pid, scope in enabled(cwd).items() if pid.split("@", 1)[0] == name}


def running_in_plugin() -> str | None:
    """The plugin root when this process was started by governor's plugin (a /governor:* command)."""
    root = os.environ.get("CLAUDE_PLUGIN_ROOT", "")
    return root if root and os.path.isfile(os.path.join(root, "plugin", "hook.sh")) else None
