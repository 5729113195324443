"""`governor daily`'s report: tokens, weighted units and notional USD per calendar day (and per model)."""

from __future__ import annotations

from collections import defaultdict

from governor import fmt, timeutil
from governor.policy import pricing
from governor.policy.pricing import Tokens
from governor.reports import tables

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~2 ms per report
    from typing import Any


def fields(tokens: Tokens, weighted: float, cost: float) -> dict[str, Any]:
    return {
        "input_tokens": tokens.input,
        "output_tokens": tokens.output,
        "cache_creation_input_tokens": tokens.cache_creation,
        "cache_read_input_tokens": tokens.cache_read,
        "web_search_requests": tokens.web_search,
        "weighted_units": round(weighted, 3),
        "cost_usd": round(cost, 6),
    }


def build(
    conn: Any, config: dict[str, Any], tz: Any, start: float | None, end: float | None, machine: str | None = None
) -> dict[str, Any]:
    """`machine`: one machine's records only (usage._range), else every machine's."""
    from governor.meter import usage
    from governor.meter.account import SOURCE

    prices = pricing.Prices(config)  # each model's price row looked up once, not once per bucket
    per_day, cost_of = _fold(usage.bucket_rows(conn, start, end, machine), prices, tz)
    # Of those, what Claude Code's own account counted beyond the transcript rows (compaction, tool requests)
    client: dict[Any, list[Any]] = defaultdict(lambda: [Tokens(), 0.0, 0.0])
    for bucket_ts, model, long_context, tokens in usage.source_buckets(conn, SOURCE, start, end, machine):
        for key in (timeutil.local_date(bucket_ts, tz), "total"):
            client[key][0].add(tokens)
            client[key][1] += prices.weighted_units(tokens, model)
            client[key][2] += prices.cost_usd(tokens, model, long_context)
    days, grand = [], {"tokens": Tokens(), "weighted": 0.0, "cost": 0.0}
    unknown: set[str] = set()
    fast_unpriced: set[str] = set()
    for day in sorted(per_day):
        day_tokens, day_w, day_c, models = Tokens(), 0.0, 0.0, {}
        for model, tokens in sorted(per_day[day].items()):
            w = prices.weighted_units(tokens, model)
            c = cost_of[day][model]
            if not prices.multiplier(model)[1] or not prices.price_for(model)[1]:
                unknown.add(model)
            if pricing.base_model(model)[1] and pricing.fast_factor(model, config) == 1.0:
                fast_unpriced.add(model)
            models[model] = fields(tokens, w, c)
            day_tokens.add(tokens)
            day_w, day_c = day_w + w, day_c + c
        days.append({"date": day.isoformat(), **fields(day_tokens, day_w, day_c), "models": models,
                     "client_account": fields(*client[day])})
        grand["tokens"].add(day_tokens)  # type: ignore[attr-defined]
        grand["weighted"] += day_w  # type: ignore[operator]
        grand["cost"] += day_c  # type: ignore[operator]
    totals = fields(grand["tokens"], grand["weighted"], grand["cost"])  # type: ignore[arg-type]
    totals["client_account"] = fields(*client["total"])
    return {"days": days, "totals": totals, "unknown_models": sorted(unknown),
            "applied_to_unknown": applied_to_unknown(config), "fast_mode_unpriced": sorted(fast_unpriced)}


def _fold(
    rows: list[Any], prices: pricing.Prices, tz: Any
) -> tuple[dict[Any, dict[str, Tokens]], dict[Any, dict[str, float]]]:
    """Per local day and model: the buckets' summed tokens, and their summed cost, priced bucket by bucket in
    the buckets' order (so the floats are those of pricing each bucket's Tokens and adding them up). A month
    is ~17,000 buckets: SQLite's rows as they come, each bucket start's day looked up once."""
    groups: dict[tuple[Any, str], list[Any]] = {}
    day_of: dict[float, Any] = {}  # a bucket start is shared by every model active in it
    for row in rows:
        day = day_of.get(row[0])
        if day is None:
            day = day_of[row[0]] = timeutil.local_date(row[0], tz)
        group = groups.get((day, row[1]))
        if group is None:
            group = groups[(day, row[1])] = []
        group.append(row)
    per_day: dict[Any, dict[str, Tokens]] = defaultdict(dict)
    cost_of: dict[Any, dict[str, float]] = defaultdict(dict)
    cost_at = pricing.cost_at
    for (day, model), group in groups.items():
        rates = (prices.rates(model, False), prices.rates(model, True))  # by the long-context flag, 0 or 1
        cost = 0.0
        for r in group:  # cost_at(rates, input, output, cache_creation, cache_read, cache_5m, cache_1h, web_search)
            cost += cost_at(rates[r[2]], r[3], r[4], r[5], r[6], r[7], r[8], r[10])
        cost_of[day][model] = cost
        per_day[day][model] = Tokens(*map(sum, list(zip(*group, strict=True))[3:]))  # integers: any order
    return per_day, cost_of


def applied_to_unknown(config: dict[str, Any]) -> str:
    """What a model no price row or family matches is charged: the fallback row and default multiplier."""
    price = config["fallback_price"]
    return (f"{price.get('label') or 'fallback price'}: ${price['input']:g} in / ${price['output']:g} out per MTok,"
            f" weighted x{float(config['default_multiplier']):g}")


def _cells(label: str, d: dict[str, Any]) -> list[str]:
    client = d["client_account"]["weighted_units"]
    return [label] + [fmt.fmt_tokens(d[k]) for k in (
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "weighted_units"
    )] + [fmt.fmt_tokens(client) if client else "-", str(d["web_search_requests"]), fmt.fmt_usd(d["cost_usd"])]


def render(data: dict[str, Any]) -> str:
    color = fmt.use_color()
    headers = ["date", "input", "output", "cache write", "cache read", "weighted", "of it no-row", "searches", "USD"]
    rows = [_cells(d["date"], d) for d in data["days"]]
    rows.append(_cells(fmt.paint("total", "bold", color), data["totals"]))
    out = tables.table(headers, rows)
    if not data["days"]:
        out = "No usage in that range.\n" + out
    if data["unknown_models"]:
        out += (
            "\n" + fmt.paint("note:", "yellow", color) + " unknown models priced as "
            + data["applied_to_unknown"] + ": " + ", ".join(data["unknown_models"])
        )
    if data["fast_mode_unpriced"]:
        out += ("\n" + fmt.paint("note:", "yellow", color) + " fast mode without a fast-mode multiplier in its price"
                " row (priced at standard rates): " + ", ".join(data["fast_mode_unpriced"]))
    if data["totals"]["client_account"]["weighted_units"]:
        out += ("\n'of it no-row': compaction and tool requests Claude Code's own account (cost-state) counts"
                " and no transcript row shows; included in the totals.")
    out += "\nUSD is notional (API list prices); on a subscription what counts is the cap fraction (governor status)."
    return out
