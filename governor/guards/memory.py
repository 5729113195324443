"""PostToolUse guard: cap over-long lines of the memory index right after Claude writes it.

This fires on every Write/Edit/MultiEdit of every file, so "not a memory file" is decided from the
path before anything heavy loads (`quick_skip` on the raw stdin bytes, then `handle` on the parsed
payload). Validated config, filelock and the capping code load only for a possible memory index.
"""

from __future__ import annotations

import os

from governor import paths
from governor.guards.memory_paths import is_memory_file, quick_skip

__all__ = ["handle", "describe", "quick_skip"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from governor.guards.memory_file import Applied
    from governor.guards.result import HookResult

WRITE_TOOLS = frozenset({"Write", "Edit", "MultiEdit"})
_PREVIEW_CHARS = 40


def _raw_memory_section() -> dict[str, Any]:
    """budget.json's `memory` object as written, for the cheap pre-check only (no validation)."""
    from governor.config import read_raw
    from governor.errors import ConfigError

    try:
        raw = read_raw(paths.budget_path())
        section = raw.get("memory") if isinstance(raw, dict) else None
    except (ConfigError, FileNotFoundError):
        return {}  # missing or broken: the validated load below reports a broken one
    return section if isinstance(section, dict) else {}


def _edited_path(payload: dict[str, Any]) -> str | None:
    if payload.get("tool_name") not in WRITE_TOOLS:
        return None
    tool_input = payload.get("tool_input")
    path = tool_input.get("file_path") if isinstance(tool_input, dict) else None
    if not isinstance(path, str) or not path or "\0" in path:
        return None
    cwd = payload.get("cwd")
    if not os.path.isabs(path) and isinstance(cwd, str) and os.path.isabs(cwd):
        path = os.path.join(cwd, path)
    return os.path.realpath(path)


def handle(payload: dict[str, Any]) -> HookResult | None:
    real = _edited_path(payload)
    if real is None:
        return None
    raw = _raw_memory_section()
    raw_globs = raw.get("paths")
    raw_globs = [g for g in raw_globs if isinstance(g, str)] if isinstance(raw_globs, list) else []
    if raw.get("enabled") is False or not is_memory_file(real, raw_globs):
        return None
    # From here on the file could be a memory index: now the validated config is worth loading.
    from governor.config import load_config

    memory_cfg = load_config()["memory"]
    if not memory_cfg["enabled"] or not is_memory_file(real, memory_cfg["paths"]) or not os.path.isfile(real):
        return None
    from governor.guards.memory_file import ReadOnly, apply_cap

    try:
        applied = apply_cap(real, memory_cfg["line_cap"])
    except ReadOnly as exc:
        return _read_only_once(real, str(exc))
    text = describe(applied, memory_cfg["line_cap"])
    return {"additional_context": text} if text else None


def _read_only_once(path: str, why: str) -> HookResult | None:
    """Say once per state of the file (inode, mode, mtime) that it cannot be capped; silent after."""
    import hashlib

    from governor.log import log

    try:
        st = os.stat(path)
        dir_st = os.stat(os.path.dirname(path))
    except OSError:
        return None
    marker_dir = paths.ensure_private_dir(os.path.join(paths.state_dir(), "memory-read-only"))
    marker = os.path.join(marker_dir, hashlib.sha1(path.encode("utf-8", "replace")).hexdigest()[:20])
    signature = f"{st.st_ino}:{st.st_mode}:{st.st_mtime_ns}:{dir_st.st_mode}"
    try:
        with open(marker, encoding="utf-8") as fh:
            if fh.read(200) == signature:
                return None
    except OSError:
        pass
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, signature.encode())
    finally:
        os.close(fd)
    log(f"memory guard: {why}; left as it is")
    return {"additional_context": f"governor memory guard: {why}, so over-long entries were not cut and "
            "nothing was archived. Keep entries to one line."}


def _preview(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= _PREVIEW_CHARS else line[: _PREVIEW_CHARS - 1] + "…"


def describe(applied: Applied, cap: int) -> str:
    """What the model should know: which entries were shortened, where their text went, load-limit status."""
    from governor.policy.memory_cap import LOAD_MAX_LINES, LOAD_MAX_UNITS

    parts = []
    name = os.path.basename(applied.path)
    n = len(applied.changes)
    if n:
        shown = ", ".join(f"line {c.line_no} ({_preview(c.original)!r})" for c in applied.changes[:2])
        more = f" and {n - 2} more" if n > 2 else ""
        parts.append(
            f"governor memory guard cut {n} over-long entr{'y' if n == 1 else 'ies'} of {applied.path} to "
            f"{cap} chars: {shown}{more}. Full text is in {os.path.basename(applied.archive)} beside it; "
            "do not re-add it. Keep entries to one line, detail in topic files."
        )
    load = applied.load
    if load is not None and load.over:
        parts.append(
            f"{name} is over Claude Code's load limit ({LOAD_MAX_LINES} lines / {LOAD_MAX_UNITS:,} UTF-16 "
            f"units): lines {load.loaded_lines + 1}-{load.lines} of {load.lines} "
            f"({load.units:,} units in all) are not loaded. Move detail into topic files; "
            "do not drop entries."
        )
    return " ".join(parts)
