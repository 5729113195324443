"""The PostToolBatch guard: pacing inside one long autonomous run (policy.run_pacing decides).

PostToolBatch fires once per model step. The gate (guards.run_gate, one small file per session)
lets a check through at most once per pacing.run_check_seconds; the check brings this session's
transcript into the ledger the way the prompt hook does, computes the budget state, and speaks only
on a change. The run's own state lives in hook_state under GUARD; the band's under the prompt hook's
key, so a band said by either hook counts for both. A sub-agent's responses carry the parent's session
id and are counted at the parent's next check; its own steps (gated apart) hear only the clamp, once.
"""

from __future__ import annotations

import os
import time

from governor.config import load_config
from governor.fastsqlite import sqlite3
from governor.guards import hook_state, run_gate
from governor.guards.run_state import GUARD, load_run, run_facts
from governor.log import log
from governor.meter import budget_state, db, transcript
from governor.policy import pacing, run_pacing

TYPE_CHECKING = False  # typing is for type checkers only: ~3 ms (it imports re) per hook run
if TYPE_CHECKING:  # a plain dict at run time: one module fewer on every hook run
    from typing import Any

    from governor.guards.result import HookResult



def start_run(conn: sqlite3.Connection, session_id: str, config: dict[str, Any], state: budget_state.BudgetState,
              context: int | None, now: float) -> None:
    """A person's prompt begins a run: what that prompt's own pacing message covered is not news."""
    ceiling = budget_state.ceiling_for(state)
    over = context is not None and ceiling is not None and context > ceiling
    hook_state.save(conn, session_id, GUARD, run_pacing.new_run(now, over), now)
    run_gate.schedule(session_id, now + float(config["pacing"]["run_check_seconds"]))


def band_said(conn: sqlite3.Connection, session_id: str, window: pacing.Window, name: str = "seven_day") -> int:
    """The severity either hook last said in this session about window `name` during this weekly cycle
    (0: nothing yet, or what was said was about another window)."""
    said = budget_state.last_said(hook_state.load(conn, session_id, hook_state.PACING), name)
    if said is None or said[1] < window.start.timestamp():
        return 0
    return said[0]


def check(payload: dict[str, Any], config: dict[str, Any], conn: sqlite3.Connection,
          state: budget_state.BudgetState, now: float) -> HookResult | None:
    """What this step of the run should hear, if anything; records what was said."""
    cfg = config["pacing"]
    session_id = str(payload["session_id"])
    path = payload.get("transcript_path")
    context = transcript.last_context_tokens(path) if isinstance(path, str) and path else None
    run = load_run(conn, session_id, now)
    facts = run_facts(conn, config, session_id, float(run["started"]), state, now)
    pace = state.pace  # the binding window; the clamp acts on the worst weekly one
    severity = pace.band.severity if pace.band else 0
    ceiling = budget_state.ceiling_for(state)
    over = context is not None and ceiling is not None and context > ceiling
    worst = state.clamp_window
    clamp_ceiling = pacing.clamp_ceiling(worst.projected, cfg["bands"])
    clamp = worst.spent.source != "local estimate" and pacing.clamp_decision(
        worst.spent.fraction, cfg["hard_clamp_at"], context, clamp_ceiling)
    said = band_said(conn, session_id, state.window, pace.spec.name)
    say, new_state = run_pacing.decide(run, facts, severity, said, over, clamp, float(cfg["run_warn_fraction"]))
    try:
        if new_state != run:
            hook_state.save(conn, session_id, GUARD, new_state, now)
        if say.band or (say.clamp and severity > said):
            previous = hook_state.load(conn, session_id, hook_state.PACING)
            hook_state.save(conn, session_id, hook_state.PACING, budget_state.said(state, now, previous), now)
    except sqlite3.OperationalError as exc:  # locked: better to risk one repeat than to stall the step
        log(f"PostToolBatch: run state not saved: {exc}")
    if not say.anything:
        return None
    from governor.policy import pacing_messages, run_messages  # only on the rare step that speaks

    advice = pacing_messages.Advice(
        now=pacing.as_utc(now), context_tokens=context, ceiling_tokens=clamp_ceiling if say.clamp else ceiling,
        **budget_state.advice_fields(state, config, worst if say.clamp else pace),
    )
    if say.clamp and cfg["stop_runs_at_clamp"]:
        return {"stop_reason": run_messages.clamp_stop(advice)}
    model, person = run_messages.messages(say, advice, facts)
    return {"system_message": person, "additional_context": model}


def sub_agent_transcript(transcript_path: str, agent_id: str) -> str:
    """Where Claude Code 2.1.328 keeps a sub-agent's rows: `<session>/subagents/agent-<id>.jsonl`."""
    return os.path.join(transcript_path[: -len(".jsonl")], "subagents", f"agent-{agent_id}.jsonl")


def check_sub_agent(payload: dict[str, Any], config: dict[str, Any], conn: sqlite3.Connection,
                    state: budget_state.BudgetState, agent_id: str, now: float) -> HookResult | None:
    """A sub-agent hears only the clamp, once, judged on its own context: its usage already counts toward
    the parent's run, whose checks say the rest. A background agent can go on long after the parent's
    loop is idle, so without this nothing would reach it at a near-lockout."""
    cfg = config["pacing"]
    session_id, path = str(payload["session_id"]), str(payload["transcript_path"])
    guard = f"{GUARD}:{agent_id}"
    if hook_state.load(conn, session_id, guard):
        return None
    context = transcript.last_context_tokens(sub_agent_transcript(path, agent_id), sidechain=True)
    worst = state.clamp_window  # the worst weekly window, as for the parent's run
    clamp_ceiling = pacing.clamp_ceiling(worst.projected, cfg["bands"])
    clamp = worst.spent.source != "local estimate" and pacing.clamp_decision(
        worst.spent.fraction, cfg["hard_clamp_at"], context, clamp_ceiling)
    if not clamp:
        return None
    try:
        hook_state.save(conn, session_id, guard, True, now)
    except sqlite3.OperationalError as exc:
        log(f"PostToolBatch: sub-agent clamp not saved: {exc}")
    from governor.policy import pacing_messages, run_messages  # only on the rare step that speaks

    advice = pacing_messages.Advice(now=pacing.as_utc(now), context_tokens=context, ceiling_tokens=clamp_ceiling,
                                    **budget_state.advice_fields(state, config, worst))
    if cfg["stop_runs_at_clamp"]:
        return {"stop_reason": run_messages.clamp_stop(advice)}
    model, person = run_messages.messages(run_pacing.Say(clamp=True), advice, run_pacing.RunFacts(now, now, 0, 0.0))
    return {"system_message": person, "additional_context": model}


def handle(payload: dict[str, Any]) -> HookResult | None:
    session_id = payload.get("session_id")
    agent_id = payload.get("agent_id")  # a sub-agent's step: counted toward the parent, only the clamp said
    path = payload.get("transcript_path")
    path = path if isinstance(path, str) and path.endswith(".jsonl") else None
    if agent_id is not None and not (path and run_gate.valid_session(agent_id)):
        return None
    now = time.time()
    gate = f"{session_id}.{agent_id}" if agent_id else session_id
    if not run_gate.valid_session(session_id) or not run_gate.valid_session(gate) or not run_gate.due(str(gate), now):
        return None
    config = load_config()
    run_gate.schedule(str(gate), now + float(config["pacing"]["run_check_seconds"]))
    if not config["pacing"]["enabled"] or (agent_id and config["pacing"]["hard_clamp_at"] is None):
        return None
    from governor.guards import refresh  # here, not at the top: the status line's run_share never ingests

    conn = db.connect(busy_ms=refresh.INGEST_BUSY_MS)
    try:
        window = refresh.refresh_ledger(conn, config, now, path, event="PostToolBatch")
        state = budget_state.compute(conn, config, now, window)
        if agent_id:
            return check_sub_agent(payload, config, conn, state, str(agent_id), now)
        return check(payload, config, conn, state, now)
    finally:
        db.release(conn)
