"""`governor status`: this week's cycle, spend with provenance, burn rate, projection, band and
ceiling, the sessions that dominate, the Codex lane, and what the pacing hook would say right now."""

from __future__ import annotations

import argparse
import time
from typing import Any

from governor import budget_state, pacing, report, timeutil
from governor.refresh import add_source_args, refreshed


def register(sub: Any) -> None:
    p = sub.add_parser(
        "status",
        help="this week: spent, projection, band, top sessions, Codex lane",
        description="Where this week's budget stands and what governor would say now.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_source_args(p)
    p.set_defaults(func=run)


def top_sessions(
    conn: Any, config: dict[str, Any], start: float, now: float, limit: int = 5
) -> list[dict[str, Any]]:
    from governor.commands.sessions import build

    rows = build(conn, config, start, now + 1, timeutil.local_zone())
    return [
        {
            k: r[k]
            for k in (
                "session_id",
                "project",
                "hours",
                "responses",
                "peak_context_tokens",
                "weighted_units",
                "share",
                "last",
            )
        }
        for r in rows[:limit]
    ]


def hook_preview(state: budget_state.BudgetState) -> dict[str, str] | None:
    """What UserPromptSubmit would say to a session with no recorded context (hysteresis ignored)."""
    if state.band is None:
        return None
    advice = pacing.Advice(
        spent=state.spent.fraction,
        source=state.spent.source,
        projected=state.projected,
        reset=state.window.reset,
        now=pacing.as_utc(state.now),
        ceiling_tokens=state.ceiling_tokens,
    )
    return {"systemMessage": pacing.person_message(advice), "additionalContext": pacing.model_context(advice)}


def build(conn: Any, config: dict[str, Any], now: float) -> dict[str, Any]:
    state = budget_state.compute(conn, config, now)
    data = budget_state.as_json(state)
    data["tier"] = config["tier"]
    data["sessions"] = top_sessions(conn, config, state.window.start.timestamp(), now)
    data["hook_would_say"] = hook_preview(state)
    from governor import codex_ingest

    data["codex"] = codex_ingest.codex_lane(conn, now)
    return data


def run(args: argparse.Namespace) -> int:
    from governor import official

    now = time.time()
    conn, _stats, config = refreshed(args)
    official.import_claude_json(conn, now, float(config["calibration"]["claude_json_max_age_minutes"]))
    data = build(conn, config, now)
    if args.json:
        report.print_json(data)
    else:
        print(render(data))
    return 0


def _when(iso_text: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso_text).astimezone(timeutil.local_zone()).strftime("%a %d %b %H:%M %Z")


def render(d: dict[str, Any]) -> str:
    color = report.use_color()
    spent, proj = d["spent"], d["projected"]["fraction"]
    tone = "red" if d["band"] and d["band"]["severity"] >= 2 else "yellow" if d["band"] else "green"
    source = spent["source"]
    if spent["capture_age_s"] is not None:
        source += f", capture {spent['capture_age_s'] / 60:.0f} min old"
    lines = [
        f"week      {_when(d['window']['start'])} → {_when(d['window']['reset'])}"
        f"  (reset from {d['window']['source']})",
        f"spent     {report.paint(report.fmt_pct(spent['fraction']), 'bold', color)} of the {d['tier']} cap "
        f"({source}); {report.fmt_tokens(spent['units'])} local weighted units",
        f"rate      {report.fmt_tokens(d['rate']['units_per_hour'])} units/h "
        f"({report.fmt_pct(d['rate']['fraction_per_hour'] * 24, 1)} of the cap a day)",
        f"projected {report.paint(report.fmt_pct(proj), tone, color)} at reset"
        + (
            f" · band ≥{report.fmt_pct(d['band']['projected_at'])}: advise /compact above "
            f"{report.fmt_tokens(d['ceiling_tokens'])} tokens"
            if d["band"]
            else " · below every band: governor stays quiet"
        ),
    ]
    if spent["k"]:
        lines.append(
            f"calibration 1% of the cap ≈ {report.fmt_tokens(0.01 / spent['k'])} local units; unmetered "
            f"(other machines, web) {report.fmt_pct(spent['unmetered_share'] or 0)} of the official figure"
        )
    if spent["warning"]:
        lines.append(report.paint("warning: ", "yellow", color) + spent["warning"])
    if d["five_hour"]:
        lines.append(f"5-hour    {d['five_hour']['used_pct']:.0f}% (official)")
    codex = d["codex"]
    if codex.get("weekly_pct") is not None or codex["tokens_cycle"]["responses"]:
        wk = "—" if codex.get("weekly_pct") is None else f"{codex['weekly_pct']:.0f}%"
        fh = "—" if codex.get("five_hour_pct") is None else f"{codex['five_hour_pct']:.0f}%"
        lines.append(
            f"codex     weekly {wk} · 5 h {fh} · tokens today {report.fmt_tokens(codex['tokens_today']['total'])}"
            f" · this cycle {report.fmt_tokens(codex['tokens_cycle']['total'])}"
        )
    if d["sessions"]:
        lines.append("")
        rows = [
            [
                s["session_id"][:8],
                s["project"][-28:],
                f"{s['hours']:.1f} h",
                s["responses"],
                report.fmt_tokens(s["peak_context_tokens"]),
                report.fmt_tokens(s["weighted_units"]),
                report.fmt_pct(s["share"]),
            ]
            for s in d["sessions"]
        ]
        lines.append(
            report.table(
                ["top sessions", "project", "length", "resp", "peak ctx", "weighted", "share"],
                rows,
                align="llrrrrr",
            )
        )
    lines.append("")
    said = d["hook_would_say"]
    lines.append("hook now  " + (said["systemMessage"] if said else "(nothing: under pace)"))
    return "\n".join(lines)
