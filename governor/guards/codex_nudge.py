"""The symmetric nudge: Codex's UserPromptSubmit hook suggests taking work back to Claude Code when
Codex's weekly window is hot and Claude's week has headroom. Once per Codex session per hour.

Silent whenever anything is unknown: no fresh Codex weekly reading (codex_limits, the rollout mirror,
brought up to date here by codex_refresh), no headroom verdict, the Codex lane disabled or router.mode "off".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from governor.fastsqlite import sqlite3
from governor.guards import hook_state
from governor.policy import router

TYPE_CHECKING = False  # typing is for type checkers only: ~3 ms (it imports re) per hook run
if TYPE_CHECKING:  # a plain dict at run time: one module fewer on every hook run
    from typing import Any

    from governor.guards.result import HookResult

GUARD = "codex_nudge"
REPEAT_SECONDS = 3600.0

HeadroomFn = Callable[[sqlite3.Connection, Mapping[str, "Any"], float], "bool | None"]  # "Any": no typing import


def claude_headroom(conn: sqlite3.Connection, config: Mapping[str, Any], now: float) -> bool | None:
    """Does Claude's week have room for the work? True / False, None when unknown (-> silent).

    Claude's weekly projection (budget_state: official or calibrated when captured, else the local
    estimate) below the lowest pacing band. Unknown when the ledger has neither a capture nor usage.
    """
    from governor.meter import budget_state

    if (
        not conn.execute("SELECT 1 FROM usage LIMIT 1").fetchone()
        and not conn.execute("SELECT 1 FROM captures WHERE window = 'seven_day' LIMIT 1").fetchone()
    ):
        return None
    state = budget_state.compute(conn, dict(config), now)
    return state.pace.band is None  # the binding window: any limit that is on pace to run out


def _said_recently(conn: sqlite3.Connection, session_id: str, now: float) -> bool:
    at = hook_state.saved_at(conn, session_id, GUARD)
    return at is not None and 0 <= now - at < REPEAT_SECONDS


def message(used: float, hot_at: float, resets_at: float | None, now: float) -> HookResult:
    when = ""
    if resets_at is not None:
        hours = max(0.0, (resets_at - now) / 3600)
        when = f", resets in {hours / 24:.1f} d" if hours >= 48 else f", resets in {hours:.0f} h"
    person = (
        f"governor: Codex weekly limit at {used:.0%} (hot from {hot_at:.0%}{when}); Claude Code's week "
        "has headroom. Consider taking substantial work back to Claude Code."
    )
    model = (
        f"governor: the person's Codex weekly usage limit is at {used:.0%}{when}, while their "
        "Claude Code weekly budget has headroom. If this request is substantial (multi-file "
        "implementation, long investigation), briefly suggest continuing it in Claude Code to save "
        "the remaining Codex budget; do small tasks here as usual. Mention it once, not on every reply."
    )
    return {"system_message": person, "additional_context": model}


def nudge(
    payload: Mapping[str, Any],
    config: Mapping[str, Any],
    conn: sqlite3.Connection,
    now: float,
    headroom: HeadroomFn = claude_headroom,
) -> HookResult | None:
    lane = config["lanes"]["codex"]
    if not lane["enabled"] or config["router"]["mode"] == "off" or not router.is_human_prompt(payload):
        return None
    from governor.meter import codex_limits, codex_refresh

    codex_refresh.refresh(conn, now, payload.get("transcript_path"), event="codex nudge")  # this session's rollout too
    weekly = codex_limits.weekly_used(conn, now)
    if weekly is None or weekly[0] < float(lane["hot_at"]):
        return None
    session_id = str(payload.get("session_id") or "codex-unknown-session")
    if _said_recently(conn, session_id, now) or not headroom(conn, config, now):
        return None
    hook_state.save(conn, session_id, GUARD, round(weekly[0], 3), now)
    return message(weekly[0], float(lane["hot_at"]), weekly[1], now)


def handle(payload: dict[str, Any]) -> HookResult | None:
    """The CodexUserPromptSubmit guard (hook.GUARDS). Fail-open is hook.run's job."""
    from governor.config import load_config
    from governor.meter import db

    config = load_config()
    conn = db.connect()
    try:
        return nudge(payload, config, conn, time.time())
    finally:
        db.release(conn)
