"""The PostToolBatch hook's cheap gate: is a run check due for this session? (os only, no SQLite)

Most model steps must cost about a bare interpreter start, so the decision comes from one small file
per session, `<state>/runs/<session id>`, holding the epoch second the next check is due. The check
(guards.run_check) and the prompt hook write it; a missing or unreadable stamp means "due".
"""

from __future__ import annotations

import os

from governor import paths

STAMP_DIR = "runs"
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_SESSION_KEY = b'"session_id"'


def valid_session(session_id: object) -> bool:
    """A session id that is safe as a file name (Claude Code's are UUIDs)."""
    return (isinstance(session_id, str) and 0 < len(session_id) <= 128 and not session_id.startswith(".")
            and set(session_id) <= _ID_CHARS)


def stamp_path(session_id: str) -> str:
    return os.path.join(paths.state_dir(), STAMP_DIR, session_id)


def due(session_id: str, now: float) -> bool:
    try:
        fd = os.open(stamp_path(session_id), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return True
    try:
        return now >= float(os.read(fd, 64) or b"0")
    except (OSError, ValueError):
        return True
    finally:
        os.close(fd)


def schedule(session_id: str, due_at: float) -> None:
    """Write the next due time: temp file + os.replace (a reader never sees half a number, and a symlink
    planted at the stamp's name is replaced, never written through)."""
    path = stamp_path(session_id)
    paths.ensure_private_dir(os.path.dirname(path))
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, f"{due_at:.3f}".encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def quick_not_due(data: bytes, now: float) -> bool:
    """From the raw payload bytes, before json is imported: True when this step certainly needs nothing
    (a check is not due for its session). Any doubt (a sub-agent key somewhere, an unusual layout)
    returns False and the full, fail-open guard decides."""
    if b'"agent_id"' in data:
        return False
    start = data.find(_SESSION_KEY)  # Claude Code writes it first, at the top level
    if start < 0:
        return False
    head = data[start + len(_SESSION_KEY):start + len(_SESSION_KEY) + 200]
    value = head.lstrip(b" \t\r\n")
    if not value.startswith(b":"):
        return False
    value = value[1:].lstrip(b" \t\r\n")
    if not value.startswith(b'"'):
        return False
    end = value.find(b'"', 1)
    if end < 0:
        return False
    session_id = value[1:end].decode("ascii", "replace")
    return valid_session(session_id) and not due(session_id, now)
