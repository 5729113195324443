"""The ledger side of the rhythm model (policy/rhythm.py): units per hour-of-week over the last whole weeks
before a cycle, from the hourly roll-up (a few hundred rows however large the corpus), and the shape and
units ahead that the weekly projection uses."""

from __future__ import annotations

import math

from governor.fastsqlite import sqlite3
from governor.meter import usage
from governor.policy import pricing, rhythm

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

WEEK_S = 7 * 86400


def history(conn: sqlite3.Connection, config: dict[str, Any], cycle_start: float,
            max_weeks: int = rhythm.HISTORY_WEEKS) -> tuple[dict[int, float], int]:
    """({hour of week: units summed over the history weeks}, how many weeks): the whole weeks before
    `cycle_start` that the ledger covers entirely (its first response before the week began)."""
    first = conn.execute("SELECT MIN(ts) FROM usage").fetchone()[0]
    if first is None:
        return {}, 0
    weeks = min(max_weeks, math.floor((cycle_start - float(first)) / WEEK_S))
    if weeks <= 0:
        return {}, 0
    lo = math.ceil((cycle_start - weeks * WEEK_S) / 3600)
    hi = math.floor(cycle_start / 3600)
    w = config["weights"]
    # Σ tokens × weight in SQL (pricing.weighted_units before its model multiplier), per hour of week and model
    rows = conn.execute(
        f"SELECT hour % {rhythm.HOURS_OF_WEEK}, model, SUM(input) * ? + SUM(output) * ? + SUM(cache_creation) * ?"
        " + SUM(cache_read) * ? FROM usage_hourly WHERE hour >= ? AND hour < ? GROUP BY 1, 2",
        (w["input"], w["output"], w["cache_creation"], w["cache_read"], lo, hi),
    )
    units: dict[int, float] = {}
    factor: dict[str, float] = {}  # the model multiplier, looked up once per model (it matches patterns)
    for how, model, raw in rows:
        if model not in factor:
            factor[model] = pricing.multiplier(model, config)[0]
        units[int(how)] = units.get(int(how), 0.0) + float(raw or 0) * factor[model]
    return units, weeks


def _zone(config: dict[str, Any]) -> Any:
    name = str(config["week"]["resets"].get("zone", "UTC"))
    if name.upper() == "UTC":
        from governor.fastdatetime import timezone

        return timezone.utc
    import zoneinfo  # only with an override in a non-UTC zone

    return zoneinfo.ZoneInfo(name)


def units_ahead(conn: sqlite3.Connection, config: dict[str, Any], cycle_start: float, now: float, reset: float,
                rate_start: float, recent_units: float, recent_rate: float) -> float | None:
    """What the rhythm model expects from `now` to `reset` (None: no history and no override)."""
    week = config["week"]
    override = None
    if week.get("active_hours") or week.get("active_days"):
        override = rhythm.override_shape(week, _zone(config), now)
    by_hour, weeks = history(conn, config, cycle_start)
    profile = rhythm.learned_profile(by_hour, weeks)
    return rhythm.units_ahead(profile, override, recent_units, rate_start, now, reset, recent_rate)


def recent(conn: sqlite3.Connection, config: dict[str, Any], cycle_start: float, now: float
           ) -> tuple[float, float, float]:
    """(rate window start, units in it, recent rate per hour) as the weekly projection reads them."""
    from governor.policy import pacing

    rate_hours = float(config["pacing"]["rate_window_hours"])
    rate_start = max(cycle_start, now - rate_hours * 3600)
    units = usage.weighted_between(conn, config, rate_start, now + 1)
    return rate_start, units, pacing.rate_per_hour(units, rate_hours, max(0.0, now - cycle_start) / 3600)
