"""A session's current autonomous run as the guards record it (hook_state under GUARD): its facts and its
share of the weekly cap. Read by the run check (guards/run_check.py), the status line and `governor status`,
which need these few queries without the run check's own code."""

from __future__ import annotations

from governor.fastsqlite import sqlite3
from governor.guards import hook_state
from governor.meter import budget_state, usage
from governor.policy import pacing, run_pacing

TYPE_CHECKING = False  # typing is for type checkers only: ~3 ms (it imports re) per hook run
if TYPE_CHECKING:
    from typing import Any

GUARD = "run"


def run_facts(conn: sqlite3.Connection, config: dict[str, Any], session_id: str, started: float,
              state: budget_state.BudgetState, now: float) -> run_pacing.RunFacts:
    units, responses = usage.session_since(conn, config, session_id, started)
    return run_pacing.RunFacts(started, now, responses, units * state.spent.fraction_per_unit)


def load_run(conn: sqlite3.Connection, session_id: str, now: float) -> dict[str, Any]:
    run = hook_state.load(conn, session_id, GUARD)
    if isinstance(run, dict) and isinstance(run.get("started"), (int, float)):
        return run
    return run_pacing.new_run(now, False)  # no prompt seen (installed mid-run): the run starts here


ACTIVE_SECONDS = 900  # a run whose session answered within this long is listed as active


def run_share(conn: sqlite3.Connection, config: dict[str, Any], session_id: str,
              state: budget_state.BudgetState) -> run_pacing.RunFacts | None:
    """This session's current run (for the status line), or None when no run is recorded."""
    run = hook_state.load(conn, session_id, GUARD)
    if not isinstance(run, dict) or not isinstance(run.get("started"), (int, float)):
        return None
    return run_facts(conn, config, session_id, float(run["started"]), state, state.now)


def active_runs(conn: sqlite3.Connection, config: dict[str, Any], state: budget_state.BudgetState
                ) -> list[dict[str, Any]]:
    """Runs whose session made a model response in the last ACTIVE_SECONDS, largest share first."""
    rows = conn.execute(
        "SELECT h.session_id, h.value, MAX(u.ts) FROM hook_state h JOIN usage u ON u.session_id = h.session_id"
        " WHERE h.guard=? GROUP BY h.session_id HAVING MAX(u.ts) >= ?", (GUARD, state.now - ACTIVE_SECONDS))
    runs = []
    for session_id, _value, last in rows:
        facts = run_share(conn, config, session_id, state)
        if facts is None:
            continue
        runs.append({"session_id": session_id, "started": pacing.as_utc(facts.started).isoformat(),
                     "last_response": pacing.as_utc(last).isoformat(), "hours": round(facts.hours, 3),
                     "responses": facts.responses, "share": round(facts.share, 6),
                     "share_per_hour": round(facts.share_per_hour, 6)})
    return sorted(runs, key=lambda r: -r["share"])
