"""`governor backtest`'s report: past cycles replayed from the ledger, the recent-rate and the rhythm model's
projections at 72 h, 24 h and 6 h before each reset against where the cycle ended.

In local weighted units over the cap (no calibration), so the comparison is of the two models alone;
each projection sees only the responses before its moment, and the rhythm only the weeks before its cycle.
"""

from __future__ import annotations

from typing import Any

from governor import fmt, timeutil
from governor.fastdatetime import timedelta
from governor.fastsqlite import sqlite3
from governor.meter import budget_state, rhythm_history, usage
from governor.policy import pacing
from governor.policy import projection_audit as audit
from governor.reports import tables

MODELS = ("recent_rate", "rhythm")


def build(conn: sqlite3.Connection, config: dict[str, Any], now: float, weeks: int = 12) -> dict[str, Any]:
    cap = float(config["caps"][config["tier"]])
    first = conn.execute("SELECT MIN(ts) FROM usage").fetchone()[0]
    current = budget_state.current_window(conn, config, now)
    cycles, errors = [], {m: [] for m in MODELS}  # type: ignore[var-annotated]
    for k in range(weeks, 0, -1):
        start = (current.start - timedelta(days=7) * k).timestamp()
        reset = (current.reset - timedelta(days=7) * k).timestamp()
        if first is None or start < float(first):  # the ledger does not cover the whole cycle
            continue
        final = usage.weighted_between(conn, config, start, reset)
        leads = []
        for lead in audit.LEADS_HOURS:
            moment = audit.lead_moment(reset, lead)
            spent = usage.weighted_between(conn, config, start, moment)
            rate_start, recent, rate = rhythm_history.recent(conn, config, start, moment)
            by_rate = pacing.project(spent, rate, lead)
            ahead = rhythm_history.units_ahead(conn, config, start, moment, reset, rate_start, recent, rate)
            by_rhythm = by_rate if ahead is None else spent + ahead
            leads.append({"lead_hours": lead, "spent_pct": round(spent / cap * 100, 2),
                          "recent_rate_pct": round(by_rate / cap * 100, 2),
                          "rhythm_pct": round(by_rhythm / cap * 100, 2),
                          "rhythm_had_history": ahead is not None})
            errors["recent_rate"].append((lead, audit.error_points(by_rate / cap, final / cap)))
            errors["rhythm"].append((lead, audit.error_points(by_rhythm / cap, final / cap)))
        cycles.append({"start": timeutil.iso(start), "reset": timeutil.iso(reset),
                       "final_units": round(final, 3), "final_pct": round(final / cap * 100, 2), "leads": leads})
    return {
        "cap_units": cap,
        "leads_hours": list(audit.LEADS_HOURS),
        "models": {m: {str(lead): v for lead, v in audit.mae_by_lead(errors[m]).items()} for m in MODELS},
        "cycles": cycles,
    }


def render(data: dict[str, Any]) -> str:
    if not data["cycles"]:
        return ("No whole past cycle in the ledger yet: the backtest replays cycles the ledger covers from"
                " their start.")
    headers = ["model"] + [f"MAE at {lead} h" for lead in data["leads_hours"]] + ["bias at 72 h"]
    rows = []
    for model in MODELS:
        by = data["models"][model]
        rows.append([model.replace("_", "-")] + [_pts(by[str(lead)]["mae_points"]) for lead in data["leads_hours"]]
                    + [_pts(by[str(data["leads_hours"][0])]["bias_points"], signed=True)])
    out = tables.table(headers, rows)
    detail = [[c["reset"][:16].replace("T", " "), fmt.fmt_pct(c["final_pct"] / 100)]
              + [f"{lead['recent_rate_pct']:.0f}% / {lead['rhythm_pct']:.0f}%" for lead in c["leads"]]
              for c in data["cycles"]]
    detail_headers = ["reset (UTC)", "final"] + [f"{lead} h: rate / rhythm" for lead in data["leads_hours"]]
    out += "\n\n" + tables.table(detail_headers, detail)
    out += (f"\n\n{len(data['cycles'])} past cycle(s) replayed from the ledger; points of the cap"
            " (local weighted units, no calibration); bias > 0: projected too high.")
    return out


def _pts(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.1f} pts" if signed else f"{value:.1f} pts"
