"""`governor blocks`' report: the 5-hour blocks of past activity (ccusage's rule, policy/blocks.py), each
with tokens, weighted units, notional USD and the last official five-hour % seen during it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from governor import fmt, timeutil
from governor.fastsqlite import sqlite3
from governor.meter import usage
from governor.policy import blocks as blocks_policy
from governor.policy import pricing
from governor.policy.calibrate import Capture
from governor.policy.pricing import Tokens
from governor.reports import tables
from governor.reports.daily import fields

FIVE_HOUR = "five_hour"


def response_times(conn: sqlite3.Connection, start: float | None = None) -> list[float]:
    """Every response's time, ascending (the ts index covers it: no row is read)."""
    if start is None:
        return [r[0] for r in conn.execute("SELECT ts FROM usage ORDER BY ts")]
    return [r[0] for r in conn.execute("SELECT ts FROM usage WHERE ts >= ? ORDER BY ts", (start,))]


def _totals(conn: sqlite3.Connection, config: dict[str, Any], lo: float, hi: float | None
            ) -> tuple[Tokens, float, float, list[str]]:
    per_model: dict[str, Tokens] = defaultdict(Tokens)
    cost = 0.0
    for _bucket, model, long_context, tokens in usage.buckets(conn, lo, hi):
        per_model[model].add(tokens)
        cost += pricing.cost_usd(tokens, model, config, long_context)
    total = Tokens()
    for tokens in per_model.values():
        total.add(tokens)
    weighted = sum(pricing.weighted_units(t, m, config) for m, t in per_model.items())
    return total, weighted, cost, sorted(per_model)


def _last_capture(conn: sqlite3.Connection, start: float, end: float) -> Capture | None:
    row = conn.execute(
        "SELECT window, used_pct, resets_at, captured_at, source, session_id FROM captures"
        " WHERE window=? AND captured_at >= ? AND captured_at < ? ORDER BY captured_at DESC LIMIT 1",
        (FIVE_HOUR, start, end),
    ).fetchone()
    return Capture(*row) if row else None


def build(conn: sqlite3.Connection, config: dict[str, Any], now: float, active_only: bool = False,
          since: float | None = None) -> dict[str, Any]:
    found = blocks_policy.identify(response_times(conn))
    out = []
    for i, block in enumerate(found):
        active = blocks_policy.is_active(block, now)
        if since is not None and block.end <= since or active_only and not active:
            continue
        # A block holds every response from its first up to the next block's first.
        tokens, weighted, cost, models = _totals(conn, config, block.first,
                                                 found[i + 1].first if i + 1 < len(found) else None)
        capture = _last_capture(conn, block.start, block.end)
        entry: dict[str, Any] = {
            "start": timeutil.iso(block.start),
            "end": timeutil.iso(block.end),
            "first_response": timeutil.iso(block.first),
            "last_response": timeutil.iso(block.last),
            "is_active": active,
            "responses": tokens.responses,
            **fields(tokens, weighted, cost),
            "total_tokens": tokens.input + tokens.output + tokens.cache_creation + tokens.cache_read,
            "models": models,
            "official_pct": None if capture is None else capture.used_pct,
            "official_captured_at": None if capture is None else timeutil.iso(capture.captured_at),
        }
        if active:
            entry["projection"] = _projection(conn, config, block, now, weighted, cost, entry, capture)
        out.append(entry)
    return {"blocks": out}


def _projection(conn: sqlite3.Connection, config: dict[str, Any], block: blocks_policy.Block, now: float,
                weighted: float, cost: float, entry: dict[str, Any], capture: Capture | None) -> dict[str, Any]:
    """At the block's end if the burn since its first response holds; the official % scaled by the same
    units when a five-hour capture was taken during the block (its % per unit so far)."""
    projected_units = blocks_policy.project_to_end(weighted, block, now)
    official = None
    if capture is not None:
        units_then = usage.weighted_between(conn, config, block.first, capture.captured_at)
        if units_then > 0:
            official = round(capture.used_pct + (projected_units - units_then) * capture.used_pct / units_then, 1)
    return {
        "remaining_minutes": round(max(0.0, block.end - now) / 60),
        "units_per_hour": round(blocks_policy.burn_per_hour(weighted, block, now), 3),
        "total_tokens": round(blocks_policy.project_to_end(entry["total_tokens"], block, now)),
        "weighted_units": round(projected_units, 3),
        "cost_usd": round(blocks_policy.project_to_end(cost, block, now), 4),
        "official_pct": official,
    }


def render(data: dict[str, Any], tz: Any, active_only: bool = False) -> str:
    if not data["blocks"]:
        return "No active 5-hour block." if active_only else "No usage yet: no 5-hour blocks."
    color = fmt.use_color()
    headers = ["block start", "end", "responses", "tokens", "weighted", "USD", "official"]
    rows = []
    for b in data["blocks"]:
        label = _stamp(b["start"], tz) + (" " + fmt.paint("active", "green", color) if b["is_active"] else "")
        official = "-" if b["official_pct"] is None else f"{b['official_pct']:.0f}%"
        rows.append([label, _stamp(b["end"], tz, time_only=True), str(b["responses"]),
                     fmt.fmt_tokens(b["total_tokens"]), fmt.fmt_tokens(b["weighted_units"]),
                     fmt.fmt_usd(b["cost_usd"]), official])
    out = tables.table(headers, rows)
    for b in data["blocks"]:
        p = b.get("projection")
        if p:
            line = (f"\nactive block: {p['remaining_minutes'] // 60}h {p['remaining_minutes'] % 60:02d}m left;"
                    f" at this burn ({fmt.fmt_tokens(p['units_per_hour'])} units/h) it ends at"
                    f" {fmt.fmt_tokens(p['weighted_units'])} units, {fmt.fmt_tokens(p['total_tokens'])} tokens,"
                    f" {fmt.fmt_usd(p['cost_usd'])}")
            if p["official_pct"] is not None:
                line += f", ~{p['official_pct']:.0f}% of the official five-hour limit"
            out += line
    out += ("\nBlocks as ccusage draws them: start at the first response's hour, five hours long, a new one"
            " after five idle hours. 'official' is the last /usage five-hour % seen during the block."
            " USD is notional (API list prices).")
    return out


def _stamp(iso: str, tz: Any, time_only: bool = False) -> str:
    from governor.fastdatetime import datetime

    moment = datetime.fromisoformat(iso).astimezone(tz)
    return moment.strftime("%H:%M") if time_only else moment.strftime("%Y-%m-%d %a %H:%M")
