"""`governor sessions`: per-session spend, so the few marathon sessions that dominate stand out."""

from __future__ import annotations

import argparse
from typing import Any

from governor import pricing, report, timeutil, usage
from governor.pricing import Tokens
from governor.refresh import add_source_args, day_range, has_any_usage, nothing_found_message, refreshed


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sessions",
        help="usage per session",
        description="Per-session spend, sorted by weighted units, with each session's share.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="first day to include (local zone unless --tz)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="last day to include")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone for --since/--until and the table's times")
    p.add_argument(
        "--limit", type=int, default=20, metavar="N", help="rows in the table (default 20; --json: all)"
    )
    add_source_args(p)
    p.set_defaults(func=run)


def build(
    conn: Any, config: dict[str, Any], start: float | None, end: float | None, tz: Any
) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for row in usage.session_totals(conn, start, end):
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


def run(args: argparse.Namespace) -> int:
    from governor.main import CliError

    tz, start, end = day_range(args)
    if args.limit < 1:
        raise CliError("--limit must be at least 1")
    conn, stats, config = refreshed(args, since=start)
    if not has_any_usage(conn) and stats.files_seen == 0:
        if args.json:
            report.print_json({"sessions": [], "note": nothing_found_message(stats)})
        else:
            print(nothing_found_message(stats))
        return 0
    rows = build(conn, config, start, end, tz)
    if args.json:
        report.print_json({"sessions": rows})
        return 0
    print(render(rows, args.limit))
    return 0


def render(rows: list[dict[str, Any]], limit: int) -> str:
    if not rows:
        return "No sessions in that range."
    color = report.use_color()
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
        share = report.fmt_pct(r["share"])
        if r["share"] >= 0.10:
            share = report.paint(share, "yellow", color)
        table_rows.append(
            [
                r["session_id"][:8],
                r["project"][-28:],
                (r["last"] or "")[:16].replace("T", " "),
                f"{r['hours']:.1f}",
                r["responses"],
                report.fmt_tokens(r["peak_context_tokens"]),
                report.fmt_tokens(r["weighted_units"]),
                share,
                report.fmt_pct(cumulative),
                report.fmt_usd(r["cost_usd"]),
                report.fmt_pct(r["resent_share"]),
            ]
        )
    out = report.table(headers, table_rows, align="lllrrrrrrrr")
    top = rows[: min(5, len(rows))]
    top_share = sum(r["share"] for r in top)
    out += (
        f"\n{len(rows)} sessions; the top {len(top)} carry {report.fmt_pct(top_share)} of the weighted spend. "
        "Long sessions with a large context re-send it every turn ('re-sent' = cache-read share of the cost)."
    )
    if len(rows) > limit:
        out += f"\n({len(rows) - limit} more: --limit N or --json)"
    return out
