"""`governor status`'s report: this week's cycle, spend with provenance, burn rate, projection, band and
ceiling, the sessions that dominate, the Codex lane, and what the pacing hook would say right now."""

from __future__ import annotations

from typing import Any

from governor import fmt, timeutil
from governor.meter import budget_state
from governor.policy import pacing, pacing_messages
from governor.reports import sparkline, tables


def top_sessions(
    conn: Any, config: dict[str, Any], start: float, now: float, limit: int = 5,
    rows: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    from governor.reports.sessions import build

    rows = build(conn, config, start, now + 1, timeutil.local_zone()) if rows is None else rows
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


def hook_preview(state: budget_state.BudgetState, config: dict[str, Any]) -> dict[str, str] | None:
    """What UserPromptSubmit would say to a session with no recorded context (hysteresis ignored): about
    the binding window."""
    if state.pace.band is None:
        return None
    advice = pacing_messages.Advice(
        now=pacing.as_utc(state.now),
        ceiling_tokens=budget_state.ceiling_for(state),
        **budget_state.advice_fields(state, config),
    )
    return {"systemMessage": pacing_messages.person_message(advice),
            "additionalContext": pacing_messages.model_context(advice)}


def build(conn: Any, config: dict[str, Any], now: float, week_days: bool = False,
          cycle_sessions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`governor status --json`; `week_days` adds the per-day line (the demo's pinned output has none);
    `cycle_sessions`: sessions.build over this cycle, when the caller has it (governor report)."""
    state = budget_state.compute(conn, config, now)
    data = budget_state.as_json(state)
    data["tier"] = config["tier"]
    data["sessions"] = top_sessions(conn, config, state.window.start.timestamp(), now, rows=cycle_sessions)
    data["hook_would_say"] = hook_preview(state, config)
    from governor.guards import run_state

    data["runs"] = run_state.active_runs(conn, config, state)
    from governor.meter import codex_ingest

    data["codex"] = codex_ingest.codex_lane(conn, now)
    if week_days:
        data["week_days"] = sparkline.cycle_days(conn, config, state, timeutil.local_zone())
    if (config.get("sync") or {}).get("dir"):
        data["machines"] = machines(conn, config, state.window.start.timestamp(), now)
        data["sync_stale_hours"] = config["sync"]["stale_hours"]
    return data


def machines(conn: Any, config: dict[str, Any], start: float, now: float) -> list[dict[str, Any]]:
    """Each machine's share of this cycle's local units and whether it has gone stale (sync.stale_hours)."""
    from governor.meter import sync

    rows = sync.machines(conn, config, now, start, now + 1, units=True)
    total = sum(r["weighted_units"] for r in rows)
    keep = ("name", "id", "this", "last_export", "lag_hours", "stale", "weighted_units")
    return [{**{k: r[k] for k in keep}, "share": round(r["weighted_units"] / total, 4) if total else 0.0}
            for r in rows]


def machine_lines(d: dict[str, Any], stale_hours: float | None, color: bool) -> list[str]:
    if not d.get("machines"):
        return []
    parts, stale = [], []
    for m in d["machines"]:
        parts.append(f"{m['name']}{' (this)' if m['this'] else ''} {fmt.fmt_pct(m['share'])}")
        if m["stale"] and not m["this"]:
            ago = "never" if m["lag_hours"] is None else f"{m['lag_hours']:.0f} h ago"
            stale.append(f"{m['name']} has not exported for over {stale_hours or 12:g} h (last: {ago})")
    lines = ["machines  " + " · ".join(parts)]
    lines += [fmt.paint("stale:    ", "yellow", color) + s for s in stale]
    return lines


def _when(iso_text: str) -> str:
    from governor.fastdatetime import datetime

    return datetime.fromisoformat(iso_text).astimezone(timeutil.local_zone()).strftime("%a %d %b %H:%M %Z")


def spent_text(spent: dict[str, Any]) -> str:
    """The point, and the range around it when that is wider than 2 points: "75% (72–78%)"."""
    shown = fmt.fmt_range(spent["low"], spent["high"]) if spent["source"] == "calibrated" else None
    return fmt.fmt_pct(spent["fraction"]) + (f" ({shown})" if shown else "")


def calibration_lines(spent: dict[str, Any], cal: dict[str, Any]) -> list[str]:
    """Which model moves the figure between captures, its rates, and how well it fits."""
    if cal["model"] == "none" or not cal["alpha"]:
        return []
    unmetered = (f"unmetered (other machines, web) {fmt.fmt_pct(spent['unmetered_share'] or 0)} of the "
                 "official figure")
    per_percent = fmt.fmt_tokens(0.01 / cal["alpha"])
    if cal["model"] == "marginal":
        head = (f"calibration two rates: this machine 1% of the cap ≈ {per_percent} local units; other "
                f"surfaces {fmt.fmt_pct(cal['background_per_hour'] * 24, 1)} of the cap a day; {unmetered}")
    else:
        head = f"calibration 1% of the cap ≈ {per_percent} local units; {unmetered}"  # the note names the model
    return [head, f"fit       {cal['note']}"]


def _clock(iso_text: str, day: bool) -> str:
    from governor.fastdatetime import datetime

    local = datetime.fromisoformat(iso_text).astimezone(timeutil.local_zone())
    return local.strftime("%a %H:%M %Z" if day else "%H:%M %Z").strip()


def window_lines(d: dict[str, Any]) -> list[str]:
    """Every known window on its own line, as /usage names it; the binding one marked '▸'; then the
    extra-usage credits when extra usage is enabled."""
    rows = []
    for w in d["windows"]:
        provenance = w["source"]
        if w["capture_source"]:
            age = "" if w["capture_age_s"] is None else f", {w['capture_age_s'] / 60:.0f} min old"
            provenance += f" ({w['capture_source']}{age})"
        day = w["kind"] != "session"
        if w["hits_limit_at"]:
            projection = f"hits the limit {_clock(w['hits_limit_at'], day)}"
        else:
            projection = f"→ {w['projected_pct']:.0f}% at reset"
        if w["spills_into_extra_usage"]:
            projection += " (into extra usage)"
        rows.append([("▸ " if w["binding"] else "  ") + w["label"], f"{w['used_pct']:.0f}%", provenance, projection,
                     f"resets {_clock(w['reset'], day)}"])
    lines = ["", tables.table(["  window (▸ binds)", "used", "provenance", "projection", "reset"], rows,
                              align="lrlll")]
    extra = d.get("extra_usage")
    if extra and extra["is_enabled"] and extra["used_credits"] is not None:
        from governor.policy import windows

        limit = f" of {windows.money(extra['monthly_limit'], extra['currency'])}" if extra["monthly_limit"] else ""
        lines.append(f"extra     {windows.money(extra['used_credits'], extra['currency'])}{limit} extra usage this "
                     f"month ({extra['source']}): past a limit, use is billed")
    return lines


def render(d: dict[str, Any]) -> str:
    color = fmt.use_color()
    spent, proj = d["spent"], d["projected"]["fraction"]
    tone = "red" if d["band"] and d["band"]["severity"] >= 2 else "yellow" if d["band"] else "green"
    source = spent["source"]
    if spent["capture_age_s"] is not None:
        source += f", capture {spent['capture_age_s'] / 60:.0f} min old"
    lines = [
        f"week      {_when(d['window']['start'])} → {_when(d['window']['reset'])}"
        f"  (reset from {d['window']['source']})",
        f"spent     {fmt.paint(spent_text(spent), 'bold', color)} of the {d['tier']} cap "
        f"({source}); {fmt.fmt_tokens(spent['units'])} local weighted units",
        f"rate      {fmt.fmt_tokens(d['rate']['units_per_hour'])} units/h "
        f"({fmt.fmt_pct(d['rate']['fraction_per_hour'] * 24, 1)} of the cap a day)",
        *([sparkline.render(d["week_days"], sparkline.can_draw())] if "week_days" in d else []),
        f"projected {fmt.paint(fmt.fmt_pct(proj), tone, color)} at reset"
        + (
            f" · band ≥{fmt.fmt_pct(d['band']['projected_at'])}: advise /compact above "
            f"{fmt.fmt_tokens(d['ceiling_tokens'])} tokens"
            if d["band"]
            else " · early in the cycle: governor stays quiet" if d["projected"].get("early_quiet")
            else " · below every band: governor stays quiet"
        ),
    ]
    lines += calibration_lines(spent, d["calibration"])
    lines += machine_lines(d, d.get("sync_stale_hours"), color)
    if spent["warning"]:
        lines.append(fmt.paint("warning: ", "yellow", color) + spent["warning"])
    lines += window_lines(d)
    codex = d["codex"]
    if codex.get("weekly_pct") is not None or codex["tokens_cycle"]["responses"]:
        wk = "—" if codex.get("weekly_pct") is None else f"{codex['weekly_pct']:.0f}%"
        fh = "—" if codex.get("five_hour_pct") is None else f"{codex['five_hour_pct']:.0f}%"
        lines.append(
            f"codex     weekly {wk} · 5 h {fh} · tokens today {fmt.fmt_tokens(codex['tokens_today']['total'])}"
            f" · this cycle {fmt.fmt_tokens(codex['tokens_cycle']['total'])}"
        )
    if d["sessions"]:
        lines.append("")
        rows = [
            [
                s["session_id"][:8],
                s["project"][-28:],
                f"{s['hours']:.1f} h",
                s["responses"],
                fmt.fmt_tokens(s["peak_context_tokens"]),
                fmt.fmt_tokens(s["weighted_units"]),
                fmt.fmt_pct(s["share"]),
            ]
            for s in d["sessions"]
        ]
        lines.append(
            tables.table(
                ["top sessions", "project", "length", "resp", "peak ctx", "weighted", "share"],
                rows,
                align="llrrrrr",
            )
        )
    if d["runs"]:
        lines.append("")
        rows = [[r["session_id"][:8], _when(r["started"]), f"{r['hours']:.1f} h", r["responses"],
                 fmt.fmt_pct(r["share"], 1), fmt.fmt_pct(r["share_per_hour"], 1) + "/h"] for r in d["runs"]]
        lines.append(tables.table(["active runs", "started", "length", "resp", "share", "rate"], rows,
                                  align="llrrrr"))
    lines.append("")
    said = d["hook_would_say"]
    lines.append("hook now  " + (said["systemMessage"] if said else "(nothing: under pace)"))
    return "\n".join(lines)
