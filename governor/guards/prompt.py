"""The UserPromptSubmit guard: warn-only weekly pacing, the near-lockout clamp, then the router.

A person's prompt also begins a run (guards.run_check); a prompt no person typed continues it and gets
the run check's advice instead of a fresh pacing message.

Runs on every prompt, so it imports only the stdlib and light governor modules, brings the ledger
up to date incrementally (skipping the update if another process holds the write lock) and says
nothing when there is nothing to say.
"""

from __future__ import annotations

import time

from governor.config import load_config
from governor.fastsqlite import sqlite3
from governor.guards import hook_state, refresh, run_check, run_gate
from governor.log import log
from governor.meter import budget_state, db, transcript
from governor.policy import pacing, router

TYPE_CHECKING = False  # typing is for type checkers only: ~3 ms (it imports re) per hook run
if TYPE_CHECKING:  # a plain dict at run time: one module fewer on every hook run
    from typing import Any

    from governor.guards.result import HookResult

GUARD = hook_state.PACING


def session_facts(conn: sqlite3.Connection, session_id: str) -> tuple[float | None, int]:
    row = conn.execute(
        "SELECT MIN(ts), MAX(ts), COUNT(*) FROM usage WHERE session_id=?", (session_id,)
    ).fetchone()
    if not row or not row[2]:
        return None, 0
    return (row[1] - row[0]) / 3600.0, int(row[2])


def pacing_result(
    payload: dict[str, Any],
    config: dict[str, Any],
    conn: sqlite3.Connection,
    state: budget_state.BudgetState,
    now: float,
) -> HookResult | None:
    cfg = config["pacing"]
    session_id = str(payload.get("session_id") or "")
    path = payload.get("transcript_path")
    context = transcript.last_context_tokens(path) if isinstance(path, str) and path else None
    pace = state.pace  # the binding window: the one that projects worst relative to its cap
    prompt = str(payload.get("prompt") or "")
    # The clamp acts on the worst weekly window (the 5-hour bands are warn-only); it needs a real reading
    # (official or calibrated) and never blocks a slash command (/compact!).
    clamp = state.clamp_window
    clamp_ceiling = pacing.clamp_ceiling(clamp.projected, cfg["bands"])
    if (
        clamp.spent.source != "local estimate"
        and not prompt.lstrip().startswith("/")
        # The low end of the range: the clamp never blocks on what the fit merely suspects elsewhere.
        and pacing.clamp_decision(clamp.spent.low, cfg["hard_clamp_at"], context, clamp_ceiling)
    ):
        from governor.policy import pacing_messages  # only when there is something to say

        clamp_advice = pacing_messages.Advice(now=pacing.as_utc(now), context_tokens=context,
                                              ceiling_tokens=clamp_ceiling,
                                              **budget_state.advice_fields(state, config, clamp))
        reason = pacing_messages.clamp_reason(
            clamp_advice, config["weights"]["cache_read"], clamp.spent.fraction_per_unit
        )
        return {"block_reason": reason}
    severity = pace.band.severity if pace.band else 0
    last = hook_state.load(conn, session_id, GUARD) if session_id else None
    # Each window has its own hysteresis: what was said about another is no reason to keep quiet about this one.
    last_said = budget_state.last_said(last, pace.spec.name)
    if not pacing.should_speak(severity, last_said, now, float(cfg["repeat_minutes"])):
        return None
    from governor.policy import pacing_messages  # only when there is something to say

    hours, responses = session_facts(conn, session_id) if session_id else (None, 0)
    advice = pacing_messages.Advice(
        now=pacing.as_utc(now),
        context_tokens=context,
        ceiling_tokens=budget_state.ceiling_for(state),
        session_hours=hours,
        session_responses=responses,
        long_session=pacing.is_long_session(hours, responses, context, cfg),
        **budget_state.advice_fields(state, config),
    )
    if session_id:
        try:
            hook_state.save(conn, session_id, GUARD, budget_state.said(state, now, last), now)
        except sqlite3.OperationalError as exc:  # locked: better to risk one repeat than to stall the prompt
            log(f"UserPromptSubmit: pacing state not saved: {exc}")
    return {
        "system_message": pacing_messages.person_message(advice),
        "additional_context": pacing_messages.model_context(advice),
    }


def merge(results: list[HookResult | None]) -> HookResult | None:
    out: HookResult = {}
    for result in results:
        if not result:
            continue
        if result.get("block_reason"):
            return {"block_reason": result["block_reason"]}
        for key in ("system_message", "additional_context"):
            if result.get(key):
                out[key] = (out[key] + "\n" + result[key]) if out.get(key) else result[key]
    return out or None


def continues_run(payload: dict[str, Any]) -> bool:
    """A prompt no person typed (/loop, a scheduled wake-up, a background task's result) carries on the
    run the last human prompt began: it gets the run's advice, not a fresh pacing message. A slash
    command is the person's (/compact): it keeps the pacing message."""
    prompt = payload.get("prompt")
    typed_command = isinstance(prompt, str) and prompt.lstrip().startswith("/") and payload.get("source") in (
        None, "user") and not payload.get("agent_id")
    return not router.is_human_prompt(payload) and not typed_command and run_gate.valid_session(
        payload.get("session_id"))


def paced(payload: dict[str, Any], config: dict[str, Any], conn: sqlite3.Connection,
          state: budget_state.BudgetState, now: float) -> HookResult | None:
    """The pacing part: a person's prompt gets the pacing message and begins a run; a machine prompt
    gets the run check."""
    session_id = str(payload.get("session_id") or "")
    if payload.get("agent_id"):  # a sub-agent's prompt: its parent's run is advised at the parent's steps
        return None
    if continues_run(payload):
        try:
            run_gate.schedule(session_id, now + float(config["pacing"]["run_check_seconds"]))
        except OSError as exc:  # the next step may check again: harmless
            log(f"UserPromptSubmit: run stamp not written: {exc}")
        result = run_check.check(payload, config, conn, state, now)
        if result and result.get("stop_reason"):  # stop_runs_at_clamp: this prompt is not sent
            return {"block_reason": result["stop_reason"]}
        return result
    result = pacing_result(payload, config, conn, state, now)
    if run_gate.valid_session(session_id) and router.is_human_prompt(payload):
        path = payload.get("transcript_path")
        context = transcript.last_context_tokens(path) if isinstance(path, str) and path else None
        try:
            run_check.start_run(conn, session_id, config, state, context, now)
        except (OSError, sqlite3.OperationalError) as exc:  # the run's advice may come one check late
            log(f"UserPromptSubmit: run not recorded: {exc}")
    return result


def handle(payload: dict[str, Any]) -> HookResult | None:
    config = load_config()
    if not config["pacing"]["enabled"] and config["router"]["mode"] == "off":
        return None
    now = time.time()
    conn = db.connect(busy_ms=refresh.INGEST_BUSY_MS)  # WAL readers never wait; writers give up quickly
    try:
        path = payload.get("transcript_path")
        window = refresh.refresh_ledger(conn, config, now,
                                        path if isinstance(path, str) and path.endswith(".jsonl") else None)
        return respond(payload, config, conn, budget_state.compute(conn, config, now, window), now, runs=True)
    finally:
        db.release(conn)


def respond(payload: dict[str, Any], config: dict[str, Any], conn: sqlite3.Connection,
            state: budget_state.BudgetState, now: float, runs: bool = False) -> HookResult | None:
    """Pacing first, then the router unless pacing blocked the prompt; their messages merged. With `runs`
    (the hook, not the demo) a person's prompt begins a run and a machine prompt continues it."""
    results: list[HookResult | None] = []
    if config["pacing"]["enabled"]:
        results.append(paced(payload, config, conn, state, now) if runs else
                       pacing_result(payload, config, conn, state, now))
    if config["router"]["mode"] != "off" and not (results and results[0] and results[0].get("block_reason")):
        from governor.guards import route  # only when the router is on: the hook pays for what it uses

        results.append(route.route(payload, config, conn, state.pace.band is not None, now))
    return merge(results)
