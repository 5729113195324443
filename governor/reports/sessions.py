"""`governor sessions`' report: per-session spend, so the few marathon sessions that dominate stand out."""

from __future__ import annotations

from typing import Any

from governor import fmt, timeutil
from governor.meter import usage
from governor.policy import pricing
from governor.policy.pricing import Tokens
from governor.reports import tables


def build(
    conn: Any, config: dict[str, Any], start: float | None, end: float | None, tz: Any,
    totals: list[dict[str, Any]] | None = None, machine: str | None = None,
) -> list[dict[str, Any]]:
    """`totals`: usage.session_totals(conn, start, end) when the caller already has it (governor report);
    `machine`: one machine's records only (usage._range)."""
    merged: dict[str, dict[str, Any]] = {}
    for row in usage.session_totals(conn, start, end, machine) if totals is None else totals:
        s = merged.setdefault(
            row["session_id"],
            {
                "project": row["project"],
                "first": row["first"],
                "last": row["last"],
                "peak": 0,
                "tokens": Tokens(),
                "weighted": 0.0,
                "cost": 0.0,
                "read_cost": 0.0,
            },
        )
        tokens: Tokens = row["tokens"]
        s["first"], s["last"] = min(s["first"], row["first"]), max(s["last"], row["last"])
        s["peak"] = max(s["peak"], row["peak"])
        s["tokens"].add(tokens)
        s["weighted"] += pricing.weighted_units(tokens, row["model"], config)
        s["cost"] += pricing.cost_usd(tokens, row["model"], config, row["long_context"])
        s["read_cost"] += pricing.cost_usd(
            Tokens(cache_read=tokens.cache_read), row["model"], config, row["long_context"]
        )
    total_w = sum(s["weighted"] for s in merged.values()) or 1.0
    out = []
    for sid, s in merged.items():
        t: Tokens = s["tokens"]
        out.append(
            {
                "session_id": sid,
                "project": s["project"],
                "first": timeutil.iso(s["first"], tz),
                "last": timeutil.iso(s["last"], tz),
                "hours": round((s["last"] - s["first"]) / 3600, 2),
                "responses": t.responses,
                "peak_context_tokens": s["peak"],
                "input_tokens": t.input,
                "output_tokens": t.output,
                "cache_creation_input_tokens": t.cache_creation,
                "cache_read_input_tokens": t.cache_read,
                "weighted_units": round(s["weighted"], 3),
                "cost_usd": round(s["cost"], 6),
                "resent_share": round(s["read_cost"] / s["cost"], 4) if s["cost"] else 0.0,
                "share": round(s["weighted"] / total_w, 4),
            }
        )
    out.sort(key=lambda r: r["weighted_units"], reverse=True)
    return out


def render(rows: list[dict[str, Any]], limit: int) -> str:
    if not rows:
        return "No sessions in that range."
    color = fmt.use_color()
    headers = [
        "session",
        "project",
        "last",
        "hours",
        "resp",
        "peak ctx",
        "weighted",
        "share",
        "cum",
        "USD",
        "re-sent",
    ]
    table_rows, cumulative = [], 0.0
    for r in rows[:limit]:
        cumulative += r["share"]
        share = fmt.fmt_pct(r["share"])
        if r["share"] >= 0.10:
            share = fmt.paint(share, "yellow", color)
        table_rows.append(
            [
                r["session_id"][:8],
                r["project"][-28:],
                (r["last"] or "")[:16].replace("T", " "),
                f"{r['hours']:.1f}",
                r["responses"],
                fmt.fmt_tokens(r["peak_context_tokens"]),
                fmt.fmt_tokens(r["weighted_units"]),
                share,
                fmt.fmt_pct(cumulative),
                fmt.fmt_usd(r["cost_usd"]),
                fmt.fmt_pct(r["resent_share"]),
            ]
        )
    out = tables.table(headers, table_rows, align="lllrrrrrrrr")
    top = rows[: min(5, len(rows))]
    top_share = sum(r["share"] for r in top)
    out += (
        f"\n{len(rows)} sessions; the top {len(top)} carry {fmt.fmt_pct(top_share)} of the weighted spend. "
        "Long sessions with a large context re-send it every turn ('re-sent' = cache-read share of the cost)."
    )
    if len(rows) > limit:
        out += f"\n({len(rows) - limit} more: --limit N or --json)"
    return out
