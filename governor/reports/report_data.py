"""`governor report`'s data: every figure taken from the builders behind `governor status / daily /
sessions --json` (so the pictures and the text can never disagree), plus the few series only a chart
needs (the cycle's running spend, one session's context per response, Codex and router events per day)."""

from __future__ import annotations

from typing import Any

from governor import timeutil
from governor.fastdatetime import datetime
from governor.fastsqlite import sqlite3
from governor.meter import budget_state, codex_ingest, official, usage
from governor.policy import pacing, pricing
from governor.policy.pricing import Tokens
from governor.reports import daily, sessions, status

PARTS = ("input", "cache_creation", "cache_read", "output")
PART_LABELS = {"input": "input", "cache_creation": "cache write", "cache_read": "cache read", "output": "output"}
COMPACTION_DROP = 0.5  # a response whose context is under half the previous one's: the context was compacted
RESUME_GAP_S = 1800  # 30 min without a response, then one: the session was resumed (its cache had expired)
MAX_POINTS = 4000  # per-response points drawn for one session; longer sessions keep each slice's peak


def _iso(ts: float, tz: Any) -> str:
    return datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def week_series(conn: sqlite3.Connection, config: dict[str, Any], state: Any, tz: Any) -> dict[str, Any]:
    """Running spend of the cycle per 15 minutes: local (units / cap) and calibrated (scaled so that it ends
    at the headline figure), the official captures, the 5-hour windows, the pace and band lines."""
    start, now = state.window.start.timestamp(), state.now
    per_bucket: dict[float, float] = {}
    for ts, model, _lc, tokens in usage.buckets(conn, start, now + 1):
        per_bucket[ts] = per_bucket.get(ts, 0.0) + pricing.weighted_units(tokens, model, config)
    cap, units_now = state.cap_units, state.spent.units
    scale = state.spent.fraction / units_now if units_now else state.spent.fraction_per_unit
    times, local, calibrated, running = [], [], [], 0.0
    for ts in sorted(per_bucket):
        running += per_bucket[ts]
        times.append(_iso(min(ts + usage.REPORT_SECONDS, now), tz))
        local.append(round(running / cap, 6))
        calibrated.append(round(running * scale, 6))
    captures = official.cycle_captures(conn, budget_state.WEEKLY, start, now)
    fives = official.cycle_captures(conn, budget_state.FIVE_HOUR, start, now)
    windows: dict[float, float] = {}
    for c in fives:  # the latest reading of each 5-hour window
        if c.resets_at is not None:
            windows[c.resets_at] = c.used_pct
    return {
        "start": _iso(start, tz), "reset": _iso(state.window.reset.timestamp(), tz), "now": _iso(now, tz),
        "times": times, "local": local, "calibrated": calibrated,
        "official": [{"at": _iso(c.captured_at, tz), "fraction": c.used_pct / 100, "source": c.source}
                     for c in captures],
        "five_hour": [{"start": _iso(r - 5 * 3600, tz), "end": _iso(r, tz), "used_pct": pct}
                      for r, pct in sorted(windows.items())],
        "bands": [{"projected_at": b["projected_at"], "ceiling_tokens": b["ceiling_tokens"]}
                  for b in config["pacing"]["bands"]],
    }


def session_parts(config: dict[str, Any], totals: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per session, weighted units and notional USD of each token kind (summed over its models), from
    usage.session_totals."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for row in totals:
        t: Tokens = row["tokens"]
        s = out.setdefault(row["session_id"], {"weighted": dict.fromkeys(PARTS, 0.0),
                                               "cost": dict.fromkeys(PARTS, 0.0)})
        for part in PARTS:
            only = Tokens(**{part: getattr(t, part)})
            if part == "cache_creation":
                only.cache_5m, only.cache_1h = t.cache_5m, t.cache_1h
            s["weighted"][part] += pricing.weighted_units(only, row["model"], config)
            s["cost"][part] += pricing.cost_usd(only, row["model"], config, row["long_context"])
    return out


def context_curve(conn: sqlite3.Connection, session_id: str, tz: Any) -> dict[str, Any]:
    """Context tokens (input + cache write + cache read) per response, with compactions and resumes."""
    rows = conn.execute("SELECT ts, input + cache_creation + cache_read FROM usage WHERE session_id = ?"
                        " ORDER BY ts", (session_id,)).fetchall()
    compactions, resumes = [], []
    for (prev_ts, prev_ctx), (ts, ctx) in zip(rows, rows[1:], strict=False):
        if prev_ctx and ctx < prev_ctx * COMPACTION_DROP:
            compactions.append({"at": _iso(ts, tz), "from": int(prev_ctx), "to": int(ctx)})
        if ts - prev_ts >= RESUME_GAP_S:
            resumes.append({"at": _iso(ts, tz), "idle_min": round((ts - prev_ts) / 60)})
    step = max(1, -(-len(rows) // MAX_POINTS))
    kept = [max(rows[i:i + step], key=lambda r: r[1]) for i in range(0, len(rows), step)]
    return {"responses": len(rows), "times": [_iso(r[0], tz) for r in kept], "context": [int(r[1]) for r in kept],
            "compactions": compactions, "resumes": resumes}


def router_daily(conn: sqlite3.Connection, tz: Any, start: float | None,
                 end: float | None) -> dict[str, dict[str, int]]:
    """Hand-offs and holds per local day, from the router's decisions."""
    rows = conn.execute("SELECT ts, decision FROM router_events WHERE ts >= ? AND ts < ?",
                        (start if start is not None else float("-inf"), end if end is not None else float("inf")))
    out: dict[str, dict[str, int]] = {}
    for ts, decision in rows:
        if decision in ("handoff", "hold"):
            day = out.setdefault(timeutil.local_date(ts, tz).isoformat(), {"handoff": 0, "hold": 0})
            day[decision] += 1
    return out


def days_view(conn: sqlite3.Connection, config: dict[str, Any], tz: Any, start: float | None,
              end: float | None) -> dict[str, Any]:
    data = daily.build(conn, config, tz, start, end)
    first = timeutil.local_date(start, tz) if start is not None else None
    last = timeutil.local_date(end - 1, tz) if end is not None else None
    codex = {d["day"]: d["total"] for d in codex_ingest.codex_daily(conn, tz, first, last)}
    router = router_daily(conn, tz, start, end)
    claude = {d["date"]: d for d in data["days"]}
    rows = []
    for day in sorted(set(claude) | set(codex) | set(router)):
        d = claude.get(day, {})
        raw = sum(d.get(k, 0) for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                         "cache_read_input_tokens"))
        cx = codex.get(day, 0)
        rows.append({"date": day, "raw_tokens": raw,
                     "generated_tokens": d.get("input_tokens", 0) + d.get("output_tokens", 0),
                     "cost_usd": d.get("cost_usd", 0.0), "claude_tokens": raw, "codex_tokens": cx,
                     "codex_share": round(cx / (raw + cx), 4) if raw + cx else 0.0,
                     **router.get(day, {"handoff": 0, "hold": 0})})
    return {"daily": data, "rows": rows}


def build(conn: sqlite3.Connection, config: dict[str, Any], now: float, tz: Any = None,
          start: float | None = None, end: float | None = None, session_id: str | None = None,
          sample: str | None = None) -> dict[str, Any]:
    """Everything the report draws. Sessions and days cover [start, end) (default: this cycle)."""
    from governor.errors import CliError

    tz = tz or timeutil.local_zone()
    state = budget_state.compute(conn, config, now)
    cycle = start is None and end is None
    if cycle:
        start, end = state.window.start.timestamp(), now + 1
    totals = usage.session_totals(conn, start, end)  # the one scan of the responses
    rows = sessions.build(conn, config, start, end, tz, totals)
    parts = session_parts(config, totals)
    status_data = status.build(conn, config, now, week_days=True, cycle_sessions=rows if cycle else None)
    marathon = {r["session_id"] for r in rows
                if pacing.is_long_session(r["hours"], r["responses"], r["peak_context_tokens"], config["pacing"])}
    chosen = rows[0] if rows else None
    if session_id:
        matches = [r for r in rows if r["session_id"].startswith(session_id)]
        if len(matches) != 1:
            raise CliError(f"--session {session_id}: {'no' if not matches else len(matches)} sessions match"
                           " in the report's range (see governor sessions)")
        chosen = matches[0]
    one = None
    if chosen is not None:
        one = {"session": chosen, "parts": parts[chosen["session_id"]],
               "curve": context_curve(conn, chosen["session_id"], tz)}
    return {
        "made_at": _iso(now, tz), "tier": config["tier"], "sample": sample,
        "range": {"start": _iso(start, tz) if start is not None else None,
                  "end": _iso(end, tz) if end is not None else None},
        "provenance": {
            "spent": status_data["spent"]["source"], "reset": status_data["window"]["source"],
            "official_captures": sorted({c.source for c in official.cycle_captures(
                conn, budget_state.WEEKLY, state.window.start.timestamp(), now)}),
            "sessions_and_days": "local estimate (this machine's transcripts, API list prices for USD)",
            "codex": "local (Codex rollout files)",
        },
        "status": status_data,
        "week": week_series(conn, config, state, tz),
        "sessions": [{**r, "marathon": r["session_id"] in marathon, "parts": parts[r["session_id"]]}
                     for r in rows],
        "one_session": one,
        "days": days_view(conn, config, tz, start, end),
    }
