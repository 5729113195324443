"""Pure: the rest of a cycle projected by the person's own hour-of-week rhythm, and the early-cycle quiet rule.

The recent-rate model stretches the last `rate_window_hours` over every hour left, nights and weekends
alike. The rhythm model spreads what is left over the hours by how this person used them in past cycles:

    shape S[h]  the mean units of hour-of-week h in the history weeks (the ledger's last whole weeks
                before this cycle), divided by their mean, so an average hour is 1; or, with
                `week.active_hours` / `week.active_days` in budget.json, 1 in the active hours and 0
                outside, scaled to the same mean
    level       units per average hour this cycle:
                    (units in the rate window + PRIOR_HOURS x prior) / (S summed over the rate window
                    + PRIOR_HOURS)
                the prior being the history's mean units per hour, or the plain recent rate while
                there is no history; the pseudo-hours keep a quiet night (S near 0) from dividing by
                nearly nothing, and a flat shape gives exactly the recent rate
    ahead       level x S summed over the hours left until the reset

Hours of the week are UTC hours (epoch hour mod 168); active hours are read in week.resets.zone.
No I/O and no clock reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from governor.fastdatetime import datetime, timedelta, timezone, tzinfo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

HOURS_OF_WEEK = 168
PRIOR_HOURS = 12.0  # pseudo-hours (average hours) of the prior level in the level's estimate: half a day
HISTORY_WEEKS = 4  # the last whole weeks before the cycle that the shape is learned from
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def hour_of_week(epoch_hour: int) -> int:
    """The hour-of-week index of an epoch hour (0 = Thursday 00:00 UTC, the epoch's weekday)."""
    return epoch_hour % HOURS_OF_WEEK


def learned_profile(units_by_hour_of_week: Mapping[int, float], weeks: int) -> list[float] | None:
    """Mean units per hour-of-week over `weeks` history weeks; None without history or without use."""
    if weeks <= 0:
        return None
    profile = [max(0.0, float(units_by_hour_of_week.get(h, 0.0))) / weeks for h in range(HOURS_OF_WEEK)]
    return profile if sum(profile) > 0 else None


def parse_active_hours(text: str) -> tuple[int, int]:
    """"09:00-18:00" -> (540, 1080) minutes of the day; an end at or before the start wraps past midnight."""
    start, end = (part.strip() for part in text.split("-"))

    def minutes(part: str) -> int:
        hh, mm = part.split(":")
        value = int(hh) * 60 + int(mm)
        if not (0 <= int(hh) <= 24 and 0 <= int(mm) < 60 and value <= 24 * 60):
            raise ValueError(part)
        return value

    return minutes(start), minutes(end)


def override_shape(week_cfg: Mapping[str, Any], zone: tzinfo, around: float) -> list[float] | None:
    """S from week.active_hours / active_days (None when neither is set): 1 in the active hours of the
    active days (read in `zone`, for the week around `around`), 0 elsewhere, scaled to mean 1."""
    hours_text = week_cfg.get("active_hours")
    days = week_cfg.get("active_days")
    if not hours_text and not days:
        return None
    lo, hi = parse_active_hours(str(hours_text)) if hours_text else (0, 24 * 60)
    active_days = {WEEKDAYS.index(str(d).lower()) for d in days} if days else set(range(7))
    base = int(around // 3600)
    shape = [0.0] * HOURS_OF_WEEK
    for epoch_hour in range(base, base + HOURS_OF_WEEK):
        local = datetime.fromtimestamp(epoch_hour * 3600, timezone.utc).astimezone(zone)
        minute = local.hour * 60 + local.minute
        inside = lo <= minute < hi if lo < hi else (minute >= lo or minute < hi)
        # a wrapped range's small hours belong to the day it started on
        weekday = local.weekday() if lo < hi or minute >= lo else (local - timedelta(days=1)).weekday()
        if inside and weekday in active_days:
            shape[hour_of_week(epoch_hour)] = 1.0
    return _unit_mean(shape)


def _unit_mean(values: Sequence[float]) -> list[float] | None:
    mean = sum(values) / len(values)
    return [v / mean for v in values] if mean > 0 else None


def shape_sum(shape: Sequence[float], start: float, end: float) -> float:
    """S summed over [start, end) (epoch s), partial hours pro rata."""
    if end <= start:
        return 0.0
    total = 0.0
    hour = math.floor(start / 3600)
    while hour * 3600 < end:
        lo, hi = max(start, hour * 3600.0), min(end, (hour + 1) * 3600.0)
        total += shape[hour_of_week(hour)] * (hi - lo) / 3600
        hour += 1
    return total


def units_ahead(
    profile: Sequence[float] | None,
    override: Sequence[float] | None,
    recent_units: float,
    rate_start: float,
    now: float,
    reset: float,
    recent_rate: float,
) -> float | None:
    """Units expected from `now` to `reset` by the rhythm (module docstring); None when there is neither a
    learned profile nor an override, so the caller keeps the recent rate."""
    if profile is None and override is None:
        return None
    learned = _unit_mean(profile) if profile is not None else None
    shape = override if override is not None else learned
    if shape is None:
        return None
    prior = sum(profile) / HOURS_OF_WEEK if profile is not None else max(0.0, recent_rate)
    seen = shape_sum(shape, rate_start, now)
    level = (max(0.0, recent_units) + PRIOR_HOURS * prior) / (seen + PRIOR_HOURS)
    return level * shape_sum(shape, now, reset)


def early_quiet(hours_elapsed: float, spent_fraction: float, cfg_pacing: Mapping[str, Any]) -> bool:
    """Early in a cycle the projection is mostly noise: no pacing band until `quiet_first_hours` of the
    cycle have passed, unless `quiet_unless_spent` of the cap is already spent (then the pace is
    unambiguous: that much in so few hours)."""
    quiet_hours = float(cfg_pacing.get("quiet_first_hours", 12))
    unless = float(cfg_pacing.get("quiet_unless_spent", 0.10))
    return hours_elapsed < quiet_hours and spent_fraction < unless
