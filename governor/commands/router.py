"""`governor router stats [--json] [--days N]`: the router's decisions per day and this cycle."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from governor import fmt, timeutil
from governor.fastdatetime import datetime, timedelta
from governor.reports import tables

DECISIONS = ("handoff", "hold", "skipped", "pass")
LABELS = {"handoff": "hand-offs", "hold": "holds", "skipped": "kept (lane busy)", "pass": "passes"}
RECENT = 15


def register(sub: Any) -> None:
    p = sub.add_parser("router", help="the Codex lane router", description="The second-lane router.")
    inner = p.add_subparsers(dest="router_command", metavar="SUBCOMMAND", parser_class=type(p))
    s = inner.add_parser("stats", help="hand-offs, holds and passes per day and this cycle",
                         description="Hand-offs, holds and passes per day and this cycle, with recent "
                                     "decisions (only the first ~60 characters of a prompt are ever kept).")
    s.add_argument("--days", type=int, default=7, metavar="N", help="days to show (default 7)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=run)
    p.set_defaults(func=lambda _args: p.print_help() or 0)


def cycle(conn: Any, config: dict[str, Any], now: float) -> tuple[float, float | None, str]:
    """(start, reset, source) of the weekly cycle: the one pacing uses (budget_state.current_window)."""
    from governor.meter import budget_state

    w = budget_state.current_window(conn, config, now)
    return w.start.timestamp(), w.reset.timestamp(), w.source


def build(conn: Any, config: dict[str, Any], now: float, days: int, tz: Any) -> dict[str, Any]:
    today = timeutil.local_date(now, tz)
    first = today - timedelta(days=days - 1)
    c_start, c_reset, c_source = cycle(conn, config, now)
    since = min(timeutil.day_start(first, tz), c_start)
    rows = conn.execute("SELECT ts, decision FROM router_events WHERE ts >= ?", (since,)).fetchall()
    per_day: dict[str, Counter[str]] = {
        (first + timedelta(days=i)).isoformat(): Counter() for i in range(days)}
    in_cycle: Counter[str] = Counter()
    for ts, decision in rows:
        key = timeutil.local_date(ts, tz).isoformat()
        if key in per_day:
            per_day[key][decision] += 1
        if ts >= c_start:
            in_cycle[decision] += 1
    runs = conn.execute("SELECT COUNT(*), SUM(exit_code = 0), SUM(COALESCE(input, 0)),"
                        " SUM(COALESCE(output, 0)) FROM handoff_runs WHERE ts >= ?", (c_start,)).fetchone()
    recent = conn.execute("SELECT ts, decision, reason, prompt_head FROM router_events"
                          " ORDER BY ts DESC, id DESC LIMIT ?", (RECENT,)).fetchall()
    return {
        "days": [{"date": d, **{k: c[k] for k in DECISIONS}} for d, c in per_day.items()],
        "cycle": {"start": timeutil.iso(c_start, tz), "reset": timeutil.iso(c_reset, tz), "source": c_source,
                  **{k: in_cycle[k] for k in DECISIONS},
                  "runs": int(runs[0] or 0), "runs_ok": int(runs[1] or 0),
                  "run_input_tokens": int(runs[2] or 0), "run_output_tokens": int(runs[3] or 0)},
        "recent": [{"ts": timeutil.iso(ts, tz), "decision": d, "reason": r or "", "prompt_head": h or ""}
                   for ts, d, r, h in recent],
    }


def render(data: dict[str, Any], color: bool) -> str:
    heads = ["day", *(LABELS[k] for k in DECISIONS)]
    rows: list[list[Any]] = [[d["date"], *(d[k] for k in DECISIONS)] for d in data["days"]]
    c = data["cycle"]
    rows.append([fmt.paint("this cycle", "bold", color), *(c[k] for k in DECISIONS)])
    out = [tables.table(heads, rows),
           f"\ncycle {c['start']} → {c['reset'] or 'now'} ({c['source']}); Codex runs: {c['runs']} "
           f"({c['runs_ok']} ok), {fmt.fmt_tokens(c['run_input_tokens'])} in / "
           f"{fmt.fmt_tokens(c['run_output_tokens'])} out"]
    if data["recent"]:
        recent = [[datetime.fromisoformat(e["ts"]).strftime("%m-%d %H:%M"), e["decision"], e["reason"],
                   e["prompt_head"]] for e in data["recent"]]
        out += ["\nrecent decisions", tables.table(["time", "decision", "reason", "prompt (first 60 chars)"],
                                                   recent, "llll")]
    else:
        out.append("\nno router decisions yet: the UserPromptSubmit hook records one per prompt you type.")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from governor.config import load_config
    from governor.errors import CliError
    from governor.meter import salvage

    if args.days < 1 or args.days > 366:
        raise CliError("--days must be between 1 and 366")
    conn = salvage.connect()
    try:
        data = build(conn, load_config(), time.time(), args.days, timeutil.local_zone())
    finally:
        conn.close()
    if args.json:
        tables.print_json(data)
    else:
        print(render(data, fmt.use_color()))
    return 0
