"""`governor status`: this week's cycle, spend with provenance, burn rate, projection, band and
ceiling, the sessions that dominate, the Codex lane, and what the pacing hook would say right now."""

from __future__ import annotations

import argparse
import time
from typing import Any

from governor.reports import tables
from governor.reports.refresh import add_source_args, refreshed
from governor.reports.status import build, render


def register(sub: Any) -> None:
    p = sub.add_parser(
        "status",
        help="this week: spent, projection, band, top sessions, Codex lane",
        description="Where this week's budget stands and what governor would say now.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from governor.meter import official

    now = time.time()
    conn, _stats, config = refreshed(args)
    official.import_claude_json(conn, now, float(config["calibration"]["claude_json_max_age_minutes"]))
    data = build(conn, config, now, week_days=True)
    data["projection_audit"] = audit_summary(conn, config, now)
    if args.json:
        tables.print_json(data)
    else:
        print(render(data))
        if data["projection_audit"]["line"]:
            print(data["projection_audit"]["line"])
    return 0


def audit_summary(conn: Any, config: dict[str, Any], now: float) -> dict[str, Any]:
    """The projection audit brought up to date (lead moments reached, cycles reset) and summarised; a busy
    ledger only skips the update."""
    from governor.fastsqlite import sqlite3
    from governor.meter import budget_state, projection_audit

    state = budget_state.compute(conn, config, now)
    try:
        projection_audit.update(conn, config, now, state)
    except sqlite3.OperationalError as exc:  # another writer holds the ledger: summarise what is there
        from governor.log import log

        log(f"status: projection audit not updated: {exc}")
    return projection_audit.summary(conn, state.window)


