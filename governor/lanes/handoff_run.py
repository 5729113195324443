"""Running Codex on a hand-off brief (`governor handoff --run`; never from a hook).

`codex exec --sandbox S -C CWD --json --skip-git-repo-check -` with the brief file as stdin (so no open
stdin is ever inherited: codex.md §5), stdout parsed as JSONL events (codex.md §2.6), the exit code and
the tokens recorded in handoff_runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, TypedDict

from governor.fastsqlite import sqlite3


class RunResult(TypedDict):
    brief: str
    exit_code: int
    thread_id: str | None
    usage: dict[str, int]
    message: str
    error: str | None


def parse_events(lines: Iterable[str]) -> tuple[str | None, dict[str, int], str, str | None]:
    """`codex exec --json` stdout -> (thread_id, usage, final agent message, error message)."""
    thread_id, usage, message, error = None, {}, "", None
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind == "thread.started":
            thread_id = event.get("thread_id") or thread_id
        elif kind == "turn.completed" and isinstance(event.get("usage"), dict):
            # cumulative for the thread; a fresh exec has one thread, so the last one is the total
            usage = {k: int(v) for k, v in event["usage"].items() if isinstance(v, (int, float))}
        elif kind == "item.completed" and isinstance(event.get("item"), dict):
            if event["item"].get("type") == "agent_message":
                message = str(event["item"].get("text") or "")
        elif kind == "turn.failed":
            err = event.get("error")
            error = str(err.get("message") if isinstance(err, dict) else err)
        elif kind == "error" and error is None:
            error = str(event.get("message"))
    return thread_id, usage, message, error


def run_argv(codex_path: str, cwd: str, sandbox: str) -> list[str]:
    return [codex_path, "exec", "--sandbox", sandbox, "-C", cwd, "--json", "--skip-git-repo-check", "-"]


def progress_note(line: str) -> str | None:
    """One short line for the person while Codex works (commands run, files changed), else None."""
    try:
        event = json.loads(line)
        item = event.get("item") if event.get("type") == "item.completed" else None
    except (ValueError, AttributeError):
        return None
    if not isinstance(item, dict):
        return None
    if item.get("type") == "command_execution":
        return f"codex ran: {str(item.get('command', ''))[:120]} (exit {item.get('exit_code')})"
    if item.get("type") == "file_change":
        changes = item.get("changes")
        files = ", ".join(str(c.get("path")) for c in changes if isinstance(c, dict)) if isinstance(
            changes, list) else ""
        return f"codex changed: {files[:160]}"
    return None


def _stop(proc: Any) -> None:
    """SIGTERM Codex's process group, up to 3 s for Codex to exit, then SIGKILL whatever is left of it."""
    import contextlib
    import signal
    import subprocess

    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (OSError, AttributeError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=3.0)
    with contextlib.suppress(OSError, AttributeError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_handoff(brief: str, codex_path: str, cwd: str, sandbox: str = "workspace-write",
                conn: sqlite3.Connection | None = None, timeout: float | None = None,
                progress: Callable[[str], None] | None = None) -> RunResult:
    """Run Codex on `brief` (the file is its stdin, nothing inherited; its stderr passes through),
    parse the JSONL events, record exit code and tokens in handoff_runs when `conn` is given."""
    import subprocess
    import threading

    lines: list[str] = []
    timed_out = threading.Event()
    with open(brief, "rb") as stdin:
        # its own process group, so a timeout or Ctrl-C also stops the commands Codex started
        proc = subprocess.Popen(run_argv(codex_path, cwd, sandbox), stdin=stdin, stdout=subprocess.PIPE,
                                start_new_session=True)

    def expire() -> None:
        timed_out.set()
        _stop(proc)

    timer = threading.Timer(timeout, expire) if timeout else None
    if timer:
        timer.start()
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            note = progress_note(line) if progress else None
            if note and progress:
                progress(note)
        code = proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        code = proc.wait()
    finally:
        if timer:
            timer.cancel()
    thread_id, usage, message, error = parse_events(lines)
    if error is None and code != 0:
        error = f"codex exited with {code}" + (" (timed out)" if timed_out.is_set() else "")
    if conn is not None:
        conn.execute(
            "INSERT INTO handoff_runs(ts, brief_path, exit_code, thread_id, input, cached_input, output,"
            " reasoning) VALUES(?,?,?,?,?,?,?,?)",
            (time.time(), os.path.abspath(brief), code, thread_id, usage.get("input_tokens"),
             usage.get("cached_input_tokens"), usage.get("output_tokens"),
             usage.get("reasoning_output_tokens")),
        )
    return {"brief": os.path.abspath(brief), "exit_code": code, "thread_id": thread_id, "usage": usage,
            "message": message, "error": error}
