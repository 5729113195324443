"""Wiring governor into Claude Code and Codex: the settings merge (pure), the settings file, the installer."""
