"""Where Codex keeps its rollouts (reference/codex.md 2.1): shared by the mirror and its hot-path refresh."""

from __future__ import annotations

import os

from governor.meter.transcript_files import checked


def discover(home: str, skipped: list[str] | None = None) -> list[str]:
    """rollout-*.jsonl under sessions/ and archived_sessions/; a name in both is read from sessions/.
    Only regular files (after links) with UTF-8 names: a FIFO, a device, a dangling link or a link loop
    is noted in `skipped` with its reason instead (transcript_files.checked), as is a folder that cannot
    be listed."""
    found: dict[str, str] = {}

    def unlisted(exc: OSError) -> None:  # a folder that cannot be listed (the top one missing is normal)
        if skipped is not None and not isinstance(exc, FileNotFoundError):
            skipped.append(f"{exc.filename} ({exc.strerror or type(exc).__name__})")

    for sub in ("sessions", "archived_sessions"):
        for dirpath, _dirs, files in os.walk(os.path.join(home, sub), onerror=unlisted):
            for name in files:
                if name.startswith("rollout-") and name.endswith(".jsonl") and name not in found:
                    path = os.path.join(dirpath, name)
                    if checked(path, skipped) is not None:
                        found[name] = path
    return sorted(found.values())
