"""`governor calibrate [--week PCT] [--session PCT] [--sonnet PCT] [--model NAME=PCT] [--at ISO]`: a manual
capture copied from /usage, for people whose status line gets no `rate_limits` (API key, Bedrock, Vertex;
older Claude Code), and for the model-scoped weeks no status line carries."""

from __future__ import annotations

import argparse
import time
from typing import Any

from governor import fmt
from governor.fastdatetime import datetime
from governor.meter import budget_state, db, official
from governor.policy import pacing_messages
from governor.policy.calibrate import Capture
from governor.reports import tables
from governor.reports.refresh import add_source_args, refreshed

FIVE_HOURS = 5 * 3600.0
FUTURE_SLACK_S = 60.0


def register(sub: Any) -> None:
    p = sub.add_parser("calibrate", help="record the official /usage figures by hand",
                       description="Record the /usage figures (Current week (all models), Current session, "
                                   "Current week (Sonnet only), Current week (<model>)) as manual captures; "
                                   "governor calibrates its local meter against them.")
    p.add_argument("--week", metavar="PCT", help="'Current week (all models)' %% used, 0-100")
    p.add_argument("--session", metavar="PCT", help="'Current session' (5-hour window) %% used, 0-100")
    p.add_argument("--sonnet", metavar="PCT", help="'Current week (Sonnet only)' %% used, 0-100")
    p.add_argument("--model", metavar="NAME=PCT", action="append", default=[],
                   help="'Current week (NAME)' %% used, 0-100, e.g. --model Opus=40 (repeatable)")
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


def known_weekly_reset(conn: Any, at: float, window: str = "seven_day") -> float | None:
    """A window's reset as last reported by an official source (a manual capture has none)."""
    row = conn.execute("SELECT resets_at FROM captures WHERE window=? AND resets_at > ?"
                       " ORDER BY captured_at DESC LIMIT 1", (window, at)).fetchone()
    return float(row[0]) if row else None


def model_windows(args: argparse.Namespace) -> list[tuple[str, str, float]]:
    """(window id, display name, %) of --sonnet and each --model NAME=PCT."""
    from governor.errors import CliError
    from governor.policy import windows

    found = [(windows.SONNET, "Sonnet", percentage(args.sonnet, "--sonnet"))] if args.sonnet is not None else []
    for item in args.model:
        name, sep, pct = item.partition("=")
        window = windows.scoped_name(name) if sep else None
        if window is None or len(name.strip()) > official.MAX_NAME_CHARS:
            raise CliError(f"--model takes NAME=PCT as /usage shows it, e.g. --model Opus=40 (got {item!r})")
        found.append((window, name.strip(), percentage(pct, f"--model {name.strip()}")))
    names = [w for w, _d, _p in found]
    if len(set(names)) != len(names):
        raise CliError("each model's week may be given once")
    return found


def fmt_age(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def run(args: argparse.Namespace) -> int:
    from governor.errors import CliError

    week = percentage(args.week, "--week") if args.week is not None else None
    session = percentage(args.session, "--session") if args.session is not None else None
    scoped = model_windows(args)
    if week is None and session is None and not scoped:
        raise CliError("give at least one figure from /usage: --week, --session, --sonnet or --model NAME=PCT")
    now = time.time()
    at = parse_at(args.at, now) if args.at else now
    conn, _stats, config = refreshed(args)
    captures = [] if week is None else [Capture("seven_day", week, known_weekly_reset(conn, at), at, "manual", None)]
    if session is not None:  # the 5-hour window resets at most five hours after any moment inside it
        captures.append(Capture("five_hour", session, at + FIVE_HOURS, at, "manual", None))
    for window, _display, pct in scoped:  # its own reset when a source reported one, else the week's
        reset = known_weekly_reset(conn, at, window) or known_weekly_reset(conn, at)
        captures.append(Capture(window, pct, reset, at, "manual", None))
    with db.transaction(conn):
        for capture in captures:
            official.record(conn, capture)
        for window, display, _pct in scoped:
            official.remember_label(conn, window, display, at)
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
    if s.source == "local estimate" and any(c.window == "seven_day" for c in captures):
        lines.append("The capture is outside the current weekly cycle, so it does not calibrate this one.")
    given = {c.window for c in captures}
    for w in state.windows:
        if w.spec.name in given and w.spec.name != "seven_day":
            lines.append(f"{w.spec.label}: {fmt.fmt_pct(w.spent.fraction)} ({w.spent.source}); on pace for "
                         f"{fmt.fmt_pct(w.projected)} at reset {pacing_messages.reset_label(w.reset, state.now)}"
                         + (" (binds first)." if w is state.pace or w.spec.name == state.pace.spec.name else "."))
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
