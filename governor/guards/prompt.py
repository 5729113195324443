"""The UserPromptSubmit guard: warn-only weekly pacing, the near-lockout clamp, then the router.

Runs on every prompt, so it imports only the stdlib and light governor modules, brings the ledger
up to date incrementally (skipping the update if another process holds the write lock) and says
nothing when there is nothing to say.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

from governor import paths
from governor.config import load_config
from governor.guards import hook_state
from governor.log import log
from governor.meter import budget_state, db, ledger, official, transcript, transcript_files
from governor.policy import pacing, pacing_messages

if TYPE_CHECKING:  # a plain dict at run time: one module fewer on every hook run
    from governor.guards.result import HookResult

GUARD = "pacing"
INGEST_BUSY_MS = 300  # wait this long for another writer, then go on with the ledger as it is
FULL_SCAN_SECONDS = 60  # other sessions' transcripts are re-scanned at most this often from a hook
FULL_SCAN_KEY = "claude_last_full_scan"  # meta: when this hook last read every transcript
INGEST_BUDGET_S = 2.0  # a first scan of a big corpus is spread over prompts instead of stalling one


def refresh_ledger(conn: sqlite3.Connection, config: dict[str, Any], now: float,
                   transcript_path: str | None = None) -> pacing.Window | None:
    """Bring the ledger up to date: this session's files on every prompt (cost independent of the
    corpus), every transcript at most once a minute (other sessions, other projects). Returns this
    week's window for compute(), or None when the ledger was locked before it was known."""
    window = None
    try:
        official.import_claude_json(conn, now, float(config["calibration"]["claude_json_max_age_minutes"]))
        window = budget_state.current_window(conn, config, now)
        since = budget_state.ingest_horizon(config, window)
        last_full = float(db.get_meta(conn, FULL_SCAN_KEY) or 0)
        roots = paths.transcript_roots()
        only = None
        if transcript_path and 0 <= now - last_full < FULL_SCAN_SECONDS:
            only = transcript_files.session_files(transcript_path, roots)
        stats = ledger.ingest(conn, roots, since=since, parallel=False, only=only, budget_s=INGEST_BUDGET_S)
        if only is None and not stats.unfinished:  # every transcript seen: the next minute reads only this session
            with db.transaction(conn):
                db.set_meta(conn, FULL_SCAN_KEY, f"{now:.3f}")
        if stats.unfinished:
            log(f"UserPromptSubmit: ledger warming up, {stats.unfinished} transcript(s) left for the next prompts")
    except sqlite3.OperationalError as exc:  # locked by a long ingest elsewhere: use what is there
        log(f"UserPromptSubmit: ledger update skipped: {exc}")
    return window


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
    hours, responses = session_facts(conn, session_id) if session_id else (None, 0)
    advice = pacing_messages.Advice(
        spent=state.spent.fraction,
        source=state.spent.source,
        projected=state.projected,
        reset=state.window.reset,
        now=pacing.as_utc(now),
        context_tokens=context,
        ceiling_tokens=state.ceiling_tokens,
        session_hours=hours,
        session_responses=responses,
        long_session=pacing.is_long_session(hours, responses, context, cfg),
    )
    prompt = str(payload.get("prompt") or "")
    # The clamp needs a real reading (official or calibrated), never blocks a slash command (/compact!).
    if (
        state.spent.source != "local estimate"
        and not prompt.lstrip().startswith("/")
        # The low end of the range: the clamp never blocks on what the fit merely suspects elsewhere.
        and pacing.clamp_decision(state.spent.low, cfg["hard_clamp_at"], context, state.clamp_ceiling)
    ):
        clamp_advice = advice._replace(ceiling_tokens=state.clamp_ceiling)
        reason = pacing_messages.clamp_reason(
            clamp_advice, config["weights"]["cache_read"], state.spent.fraction_per_unit
        )
        return {"block_reason": reason}
    severity = state.band.severity if state.band else 0
    last = hook_state.load(conn, session_id, GUARD) if session_id else None
    last_said = (int(last["severity"]), float(last["at"])) if isinstance(last, dict) else None
    if not pacing.should_speak(severity, last_said, now, float(cfg["repeat_minutes"])):
        return None
    if session_id:
        try:
            hook_state.save(conn, session_id, GUARD, {"severity": severity, "at": now}, now)
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


def handle(payload: dict[str, Any]) -> HookResult | None:
    config = load_config()
    if not config["pacing"]["enabled"] and config["router"]["mode"] == "off":
        return None
    now = time.time()
    conn = db.connect(busy_ms=INGEST_BUSY_MS)  # WAL readers never wait; writers give up quickly
    try:
        path = payload.get("transcript_path")
        window = refresh_ledger(conn, config, now, path if isinstance(path, str) and path.endswith(".jsonl") else None)
        return respond(payload, config, conn, budget_state.compute(conn, config, now, window), now)
    finally:
        conn.close()


def respond(payload: dict[str, Any], config: dict[str, Any], conn: sqlite3.Connection,
            state: budget_state.BudgetState, now: float) -> HookResult | None:
    """Pacing first, then the router unless pacing blocked the prompt; their messages merged."""
    results: list[HookResult | None] = []
    if config["pacing"]["enabled"]:
        results.append(pacing_result(payload, config, conn, state, now))
    if config["router"]["mode"] != "off" and not (results and results[0] and results[0].get("block_reason")):
        from governor.guards import route  # only when the router is on: the hook pays for what it uses

        results.append(route.route(payload, config, conn, state.band is not None, now))
    return merge(results)
