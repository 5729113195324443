"""Shared test helpers: real-shaped transcript rows, hook and CLI subprocess runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
HOOKS_DIR = REPO_ROOT / "hooks"


def assistant_row(
    message_id: str | None = "msg_01",
    request_id: str | None = "req_01",
    session_id: str = "sess-1",
    timestamp: str = "2026-11-23T14:39:23.766Z",
    model: str = "claude-opus-4-5-20251101",
    input_tokens: int = 100,
    output_tokens: int = 50,
    cache_creation: int = 1000,
    cache_read: int = 10000,
    cache_1h: int | None = None,
    sidechain: bool = False,
    block_index: int = 0,
    cwd: str = "/home/dev/proj",
    **extra: Any,
) -> dict[str, Any]:
    """An assistant transcript row as Claude Code 2.1.328 writes it."""
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
    if cache_1h is not None:
        usage["cache_creation"] = {
            "ephemeral_1h_input_tokens": cache_1h,
            "ephemeral_5m_input_tokens": cache_creation - cache_1h,
        }
    message: dict[str, Any] = {
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "usage": usage,
    }
    if message_id is not None:
        message["id"] = message_id
    row: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": sidechain,
        "message": message,
        "apiBlockIndex": block_index,
        "type": "assistant",
        "uuid": f"u-{message_id}-{block_index}-{session_id}",
        "timestamp": timestamp,
        "cwd": cwd,
        "sessionId": session_id,
        "version": "2.1.328",
    }
    if request_id is not None:
        row["requestId"] = request_id
    row.update(extra)
    return row


def user_row(
    text: str = "hello", session_id: str = "sess-1", timestamp: str = "2026-11-23T14:39:20.000Z"
) -> dict:
    return {
        "type": "user",
        "message": {"role": "user", "content": text},
        "sessionId": session_id,
        "timestamp": timestamp,
        "uuid": f"user-{timestamp}",
    }


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)


def write_transcript(root: Path, project: str, session: str, rows: list[dict[str, Any]]) -> Path:
    """Write rows as <root>/<project>/<session>.jsonl (root = a `projects` dir)."""
    path = root / project / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonl(rows))
    return path


def projects_root() -> Path:
    """The isolated CLAUDE_CONFIG_DIR/projects of the current test."""
    root = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects"
    root.mkdir(parents=True, exist_ok=True)
    return root


def run_hook(script: str, payload: Any, env: dict[str, str] | None = None, timeout: float = 30):
    """Run hooks/<script> as Claude Code would: payload JSON on stdin, current (isolated) environment."""
    data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return subprocess.run(
        [sys.executable, str(HOOKS_DIR / script)],
        input=data if isinstance(data, bytes) else data.encode(),
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def wait_for_background_scan(seconds: float = 60) -> bool:
    """Until no detached full scan (guards.background_scan) holds its lock in this test's GOVERNOR_HOME;
    False if one still does after `seconds`."""
    import fcntl
    import time

    from governor.guards import background_scan

    path = background_scan.lock_path()
    if not os.path.exists(path):
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)
    finally:
        os.close(fd)


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 120):
    """Run `python -m governor ARGS` in the isolated environment; text output."""
    return subprocess.run(
        [sys.executable, "-m", "governor", *args],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        timeout=timeout,
        cwd=str(REPO_ROOT),
    )
