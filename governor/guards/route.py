"""The router's part of the Claude Code UserPromptSubmit hook (called by prompt_guard after pacing).

classify -> decide (mode, Claude's pace, the Codex lane) -> for a hand-off: write the brief and
return the messages; everything else is recorded silently in router_events for `router stats`.
Non-human prompts and router.mode "off" leave no trace at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from governor.fastdatetime import datetime
from governor.fastsqlite import sqlite3
from governor.log import log
from governor.policy import router

TYPE_CHECKING = False  # typing is for type checkers only: ~3 ms (it imports re) per hook run
if TYPE_CHECKING:  # a plain dict at run time: one module fewer on every hook run
    from typing import Any

    from governor.guards.result import HookResult

Instant = float | datetime
PERSON_MAX = 300  # the hand-off messages: what the person sees, what Claude is handed
MODEL_MAX = 600


def _epoch(now: Instant) -> float:
    return now.timestamp() if isinstance(now, datetime) else float(now)


_WHICH: dict[tuple[str, str], str | None] = {}


def codex_path(command: str) -> str | None:
    """shutil.which for the configured codex command, cached per process (and per PATH)."""
    key = (command, os.environ.get("PATH", ""))
    if key not in _WHICH:
        import shutil

        _WHICH[key] = shutil.which(command, path=key[1] or None)
    return _WHICH[key]


def codex_state(conn: sqlite3.Connection, config: Mapping[str, Any], now: Instant) -> router.CodexState:
    lane = config["lanes"]["codex"]
    weekly = None
    if lane["enabled"]:
        from governor.meter import codex_limits, codex_refresh  # only for a hand-off-class prompt

        codex_refresh.refresh(conn, _epoch(now), event="router")  # the newest rollout's reading decides
        weekly = codex_limits.weekly_used(conn, _epoch(now))
    return router.CodexState(
        enabled=bool(lane["enabled"]),
        installed=bool(lane["enabled"]) and codex_path(str(lane["command"])) is not None,
        weekly_used=weekly[0] if weekly else None,
        hot_at=float(lane["hot_at"]),
    )


def route(payload: Mapping[str, Any], config: Mapping[str, Any], conn: sqlite3.Connection,
          over_pace: bool, now: Instant) -> HookResult | None:
    """Classify a human prompt, record the decision and return the hand-off messages (else None).

    `over_pace`: Claude's binding window projects at or above its lowest pacing band (prompt_guard
    knows); it matters only in router.mode "when_over_pace".
    """
    cfg = config["router"]
    if cfg["mode"] == "off" or not router.is_human_prompt(payload):
        return None
    prompt = str(payload["prompt"])
    session_id = payload.get("session_id")
    ts = _epoch(now)
    from governor.guards import pattern_time

    cls = pattern_time.classify(prompt, cfg, conn)  # each search bounded in time
    state = codex_state(conn, config, now) if cls == "handoff" else router.CodexState(False, False)
    decision, reason = router.routing_decision(cls, cfg["mode"], over_pace, state)

    from governor.lanes import router_events

    def record(decision: str, brief: str | None, reason: str) -> None:
        try:  # a busy ledger must not cost the person the pacing advice computed before us
            router_events.record_event(conn, ts, session_id, decision, prompt, brief, reason)
        except sqlite3.Error as exc:
            log(f"router: event not recorded: {exc}")

    if decision != "handoff":
        record(decision, None, reason)
        return None
    from governor.lanes import handoff  # only for a hand-off: the brief and the command

    cwd = str(payload.get("cwd") or os.getcwd())
    lane = config["lanes"]["codex"]
    try:
        brief = handoff.write_brief(prompt, cwd, session_id, ts)
    except OSError as exc:
        log(f"router: cannot write the hand-off brief: {exc}")
        record("skipped", None, "brief not written")
        return None
    record("handoff", brief, reason)
    command = handoff.handoff_command(brief, cwd, str(lane["command"]), str(lane["sandbox"]))
    return hook_result(brief, command, reason)


def hook_result(brief: str, command: str, reason: str) -> HookResult:
    """systemMessage (<= 300) with the ready command; additionalContext (<= 600) for Claude.

    When the command is too long to show (deep paths), the person gets `governor handoff --last --run`.
    """
    person = f"governor: bounded implementation work, Codex has room: {command}"
    if len(person) > PERSON_MAX:
        name = os.path.basename(brief)[:120]
        person = (f"governor: bounded implementation work; Codex has room. Brief {name}"
                  " - `governor handoff --last --run` hands it off.")
    why = " Claude's weekly budget is running ahead of pace." if reason == "claude over pace" else ""
    model = (
        "governor router: this request looks like bounded implementation work and the Codex lane has budget."
        f"{why} Before you start implementing, offer the person a hand-off to Codex: "
        f"the brief is at {brief} and `governor handoff --last --run` runs it (or the command shown to "
        "them). If they prefer to keep it here, or it needs design work first, proceed normally."
    )
    if len(model) > MODEL_MAX:
        model = model.replace(f"the brief is at {brief} and `", "`")
    return {"system_message": person[:PERSON_MAX], "additional_context": model[:MODEL_MAX]}
