"""`governor daily`: tokens, weighted units and notional USD per calendar day (and per model)."""

from __future__ import annotations

import argparse
from collections import defaultdict
from typing import Any

from governor import pricing, report, timeutil
from governor.pricing import Tokens
from governor.refresh import add_source_args, day_range, has_any_usage, nothing_found_message, refreshed


def register(sub: Any) -> None:
    p = sub.add_parser(
        "daily", help="usage per day", description="Tokens, weighted units and notional USD per day."
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="first day to include")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="last day to include")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone for day boundaries (default: local)")
    add_source_args(p)
    p.set_defaults(func=run)


def fields(tokens: Tokens, weighted: float, cost: float) -> dict[str, Any]:
    return {
        "input_tokens": tokens.input,
        "output_tokens": tokens.output,
        "cache_creation_input_tokens": tokens.cache_creation,
        "cache_read_input_tokens": tokens.cache_read,
        "weighted_units": round(weighted, 3),
        "cost_usd": round(cost, 6),
    }


def build(
    conn: Any, config: dict[str, Any], tz: Any, start: float | None, end: float | None
) -> dict[str, Any]:
    per_day: dict[Any, dict[str, Tokens]] = defaultdict(lambda: defaultdict(Tokens))
    cost_of: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    from governor import usage

    for bucket_ts, model, long_context, tokens in usage.buckets(conn, start, end):
        day = timeutil.local_date(bucket_ts, tz)
        per_day[day][model].add(tokens)
        cost_of[day][model] += pricing.cost_usd(tokens, model, config, long_context)
    days, grand = [], {"tokens": Tokens(), "weighted": 0.0, "cost": 0.0}
    unknown: set[str] = set()
    for day in sorted(per_day):
        day_tokens, day_w, day_c, models = Tokens(), 0.0, 0.0, {}
        for model, tokens in sorted(per_day[day].items()):
            w = pricing.weighted_units(tokens, model, config)
            c = cost_of[day][model]
            if not pricing.multiplier(model, config)[1] or not pricing.price_for(model, config)[1]:
                unknown.add(model)
            models[model] = fields(tokens, w, c)
            day_tokens.add(tokens)
            day_w, day_c = day_w + w, day_c + c
        days.append({"date": day.isoformat(), **fields(day_tokens, day_w, day_c), "models": models})
        grand["tokens"].add(day_tokens)  # type: ignore[attr-defined]
        grand["weighted"] += day_w  # type: ignore[operator]
        grand["cost"] += day_c  # type: ignore[operator]
    totals = fields(grand["tokens"], grand["weighted"], grand["cost"])  # type: ignore[arg-type]
    return {"days": days, "totals": totals, "unknown_models": sorted(unknown)}


def run(args: argparse.Namespace) -> int:
    from governor.main import CliError

    tz, start, end = day_range(args)
    if start is not None and end is not None and end <= start:
        raise CliError("--until is before --since")
    conn, stats, config = refreshed(args, since=start)
    if not has_any_usage(conn) and stats.files_seen == 0:
        if args.json:
            report.print_json(
                {
                    "days": [],
                    "totals": fields(Tokens(), 0, 0),
                    "unknown_models": [],
                    "note": nothing_found_message(stats),
                }
            )
        else:
            print(nothing_found_message(stats))
        return 0
    data = build(conn, config, tz, start, end)
    if args.json:
        report.print_json(data)
        return 0
    print(render(data))
    return 0


def _cells(label: str, d: dict[str, Any]) -> list[str]:
    return [label] + [report.fmt_tokens(d[k]) for k in (
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "weighted_units"
    )] + [report.fmt_usd(d["cost_usd"])]


def render(data: dict[str, Any]) -> str:
    color = report.use_color()
    headers = ["date", "input", "output", "cache write", "cache read", "weighted", "USD"]
    rows = [_cells(d["date"], d) for d in data["days"]]
    rows.append(_cells(report.paint("total", "bold", color), data["totals"]))
    out = report.table(headers, rows)
    if not data["days"]:
        out = "No usage in that range.\n" + out
    if data["unknown_models"]:
        out += (
            "\n" + report.paint("note:", "yellow", color) + " unknown models priced at the fallback rate and "
            "weighted with default_multiplier: " + ", ".join(data["unknown_models"])
        )
    out += "\nUSD is notional (API list prices); on a subscription what counts is the cap fraction (governor status)."
    return out
