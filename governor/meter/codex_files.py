"""Where Codex keeps its rollouts (reference/codex.md 2.1): shared by the mirror and its hot-path refresh."""

from __future__ import annotations

import os


def discover(home: str) -> list[str]:
    """rollout-*.jsonl under sessions/ and archived_sessions/; a name in both is read from sessions/."""
    found: dict[str, str] = {}
    for sub in ("sessions", "archived_sessions"):
        for dirpath, _dirs, files in os.walk(os.path.join(home, sub)):
            for name in files:
                if name.startswith("rollout-") and name.endswith(".jsonl"):
                    found.setdefault(name, os.path.join(dirpath, name))
    return sorted(found.values())
