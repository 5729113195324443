"""`governor calibrate --week PCT [--session PCT] [--at ISO]`: a manual capture copied from /usage,
for people whose status line gets no `rate_limits` (API key, Bedrock, Vertex; older Claude Code)."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import Any

from governor import fmt
from governor.meter import budget_state, db, official
from governor.policy import pacing_messages
from governor.policy.calibrate import Capture
from governor.reports import tables
from governor.reports.refresh import add_source_args, refreshed

FIVE_HOURS = 5 * 3600.0
FUTURE_SLACK_S = 60.0


def register(sub: Any) -> None:
    p = sub.add_parser("calibrate", help="record the official /usage figures by hand",
                       description="Record the /usage figures (Current week (all models), Current session) "
                                   "as a manual capture; governor calibrates its local meter against it.")
    p.add_argument("--week", required=True, metavar="PCT", help="'Current week (all models)' %% used, 0-100")
    p.add_argument("--session", metavar="PCT", help="'Current session' (5-hour window) %% used, 0-100")
    p.add_argument("--at", metavar="ISO", help="when you read /usage (default: now; local zone unless given)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_source_args(p)
    p.set_defaults(func=run)


def percentage(text: str, flag: str) -> float:
    from governor.errors import CliError

    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise CliError(f"{flag} must be a percentage from 0 to 100 (got {text!r})") from None
    if not 0 <= value <= 100:
        raise CliError(f"{flag} must be a percentage from 0 to 100 (got {text})")
    return value


def parse_at(text: str, now: float) -> float:
    from governor.errors import CliError

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise CliError(f"--at must be an ISO date-time like 2026-11-23T14:05 or 2026-11-23T14:05+01:00 "
                       f"(got {text!r})") from None
    at = moment.astimezone().timestamp()  # a naive time is the local zone's
    if at > now + FUTURE_SLACK_S:
        raise CliError(f"--at {text} is in the future")
    return at


def known_weekly_reset(conn: Any, at: float) -> float | None:
    """The account's seven_day reset as last reported by an official source (a manual capture has none)."""
    row = conn.execute("SELECT resets_at FROM captures WHERE window='seven_day' AND resets_at > ?"
                       " ORDER BY captured_at DESC LIMIT 1", (at,)).fetchone()
    return float(row[0]) if row else None


def fmt_age(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def run(args: argparse.Namespace) -> int:
    week = percentage(args.week, "--week")
    session = percentage(args.session, "--session") if args.session is not None else None
    now = time.time()
    at = parse_at(args.at, now) if args.at else now
    conn, _stats, config = refreshed(args)
    captures = [Capture("seven_day", week, known_weekly_reset(conn, at), at, "manual", None)]
    if session is not None:  # the 5-hour window resets at most five hours after any moment inside it
        captures.append(Capture("five_hour", session, at + FIVE_HOURS, at, "manual", None))
    with db.transaction(conn):
        for capture in captures:
            official.record(conn, capture)
    state = budget_state.compute(conn, config, now)
    if args.json:
        recorded = [{"window": c.window, "used_pct": c.used_pct, "captured_at": c.captured_at,
                     "resets_at": c.resets_at, "source": c.source} for c in captures]
        tables.print_json({"recorded": recorded, **budget_state.as_json(state)})
        return 0
    print(render(captures, state, config, at))
    return 0


def render(captures: list[Capture], state: budget_state.BudgetState, config: dict[str, Any],
           at: float) -> str:
    when = datetime.fromtimestamp(at).astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    recorded = ", ".join(f"{c.window} {c.used_pct:g}%" for c in captures)
    s = state.spent
    lines = [f"Recorded {recorded} (manual, read at {when})."]
    age = "" if s.capture_age_s is None else f", capture {fmt_age(s.capture_age_s)} old"
    lines.append(f"Week: {fmt.fmt_pct(s.fraction)} of the {config['tier']} cap ({s.source}{age}); "
                 f"on pace for {fmt.fmt_pct(state.projected)} at reset "
                 f"{pacing_messages.reset_label(state.window.reset, state.now)}.")
    if s.source == "local estimate":
        lines.append("The capture is outside the current weekly cycle, so it does not calibrate this one.")
    if s.k:
        per_pct = fmt.fmt_tokens(0.01 / s.k)
        lines.append(f"Calibration: 1% of the cap ≈ {per_pct} local weighted units "
                     f"(this machine: {fmt.fmt_tokens(s.units)} units this cycle).")
    else:
        lines.append("Calibration: no local usage before the capture yet, so k is unknown; "
                     "the configured cap paces until then.")
    if s.unmetered_share is not None:
        lines.append(f"Unmetered share: {fmt.fmt_pct(s.unmetered_share)} of the official figure is not in "
                     "this machine's transcripts (other machines, the web app).")
    if s.warning:
        lines.append(f"Warning: {s.warning}")
    return "\n".join(lines)
