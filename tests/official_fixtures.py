"""Shared by the status line, calibrate and feasibility tests: real-shaped status-line payloads,
budget.json, transcripts with a known number of weighted units, and a look into the ledger."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.helpers import assistant_row, projects_root, write_transcript

OPUS = "claude-opus-4-5-20251101"  # multiplier 1.0, input weight 1.0: input tokens == weighted units
PROJECT = "-home-dev-proj"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_payload(rate_limits: Any = None, session: str = "69ef0a1c-sess", transcript: str | None = None,
                   context: int | None = 33_234) -> dict[str, Any]:
    """A status-line stdin as Claude Code 2.1.328 sends it (claude-code.md §4.2)."""
    root = projects_root()
    payload: dict[str, Any] = {
        "session_id": session,
        "transcript_path": transcript or str(root / PROJECT / f"{session}.jsonl"),
        "cwd": "/home/dev/proj",
        "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
        "workspace": {"current_dir": "/home/dev/proj", "project_dir": "/home/dev/proj", "added_dirs": []},
        "version": "2.1.328",
        "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 0.022056, "total_duration_ms": 9214, "total_api_duration_ms": 41,
                 "total_lines_added": 0, "total_lines_removed": 0},
        "context_window": {"total_input_tokens": context or 0, "total_output_tokens": 56,
                           "context_window_size": 1_000_000, "current_usage": None,
                           "used_percentage": None, "remaining_percentage": None},
        "exceeds_200k_tokens": bool(context and context > 200_000),
        "prompt_cache": {"warm": True, "ttl": "5m"},
    }
    if context is not None:
        payload["context_window"]["current_usage"] = {
            "input_tokens": 1234, "output_tokens": 56, "cache_creation_input_tokens": 2000,
            "cache_read_input_tokens": context - 3234}
        payload["context_window"]["used_percentage"] = round(context / 10_000)
    if rate_limits is not None:
        payload["rate_limits"] = rate_limits
    return payload


def window(pct: Any, resets_in_s: float = 3 * 86400) -> dict[str, Any]:
    return {"used_percentage": pct, "resets_at": int(time.time() + resets_in_s)}


def write_budget(**sections: Any) -> Path:
    path = Path(os.environ["GOVERNOR_HOME"]) / "budget.json"
    path.write_text(json.dumps(sections))
    return path


def units_rows(session: str, units: int, at: float, tag: str) -> list[dict[str, Any]]:
    """One Opus response worth exactly `units` weighted units (input tokens only) at `at`."""
    return [assistant_row(message_id=f"msg_{tag}", request_id=f"req_{tag}", session_id=session, timestamp=iso(at),
                          model=OPUS, input_tokens=units, output_tokens=0, cache_creation=0, cache_read=0)]


def write_session(session: str, chunks: list[tuple[int, float]]) -> Path:
    """A transcript whose responses are (units, epoch time) each."""
    rows = [r for i, (units, at) in enumerate(chunks) for r in units_rows(session, units, at, f"{session}-{i}")]
    return write_transcript(projects_root(), PROJECT, session, rows)


def ledger_rows(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(Path(os.environ["GOVERNOR_HOME"]) / "ledger.sqlite3")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def week_resetting_in(seconds: float) -> dict[str, Any]:
    """budget.json `week` whose configured reset is `seconds` from now (UTC), so tests sit mid-cycle."""
    reset = datetime.fromtimestamp(time.time() + seconds, timezone.utc)
    return {"resets": {"weekday": reset.strftime("%A").lower(), "time": reset.strftime("%H:%M"), "zone": "UTC"}}
