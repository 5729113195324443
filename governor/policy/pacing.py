"""Pure pacing policy: the weekly window, burn rate, projection, bands, hysteresis and the clamp.

No I/O and no clock reads: every function takes `now` and plain data. Times are aware datetimes
(UTC inside) or epoch seconds; fractions are of the weekly cap (1.0 = the cap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from governor.fastdatetime import date, datetime, time, timedelta, timezone, tzinfo
from governor.record import Record  # a NamedTuple without exec-compiling one per class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

UTC = timezone.utc
WEEK = timedelta(days=7)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Instant = datetime | float  # an aware datetime or epoch seconds


def as_utc(value: Instant) -> datetime:
    """Epoch seconds or an aware datetime -> aware UTC datetime (naive datetimes are read as UTC)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromtimestamp(float(value), tz=UTC)


class Window(Record):
    """One weekly cycle [start, reset); source says where the reset came from ("official" | "config")."""

    start: datetime
    reset: datetime
    source: str

    def hours_left(self, now: Instant) -> float:
        return max(0.0, (self.reset - as_utc(now)).total_seconds() / 3600)

    def hours_elapsed(self, now: Instant) -> float:
        return max(0.0, (as_utc(now) - self.start).total_seconds() / 3600)


def weekly_window(now: Instant, official_resets_at: float | None, week_cfg: Mapping[str, Any]) -> Window:
    """The cycle containing `now`: anchored to the official seven_day reset when known, else budget.json's.

    An official reset that has passed (or is oddly far ahead) is moved by whole weeks until the cycle
    holds `now`; it stays "official" because the account's reset moment is still what anchors it.
    """
    now_utc = as_utc(now)
    if official_resets_at is not None:
        reset = as_utc(official_resets_at)
        reset += WEEK * ((now_utc - reset) // WEEK + 1)  # whole weeks so that reset - 7 d <= now < reset
        return Window(reset - WEEK, reset, "official")
    resets = week_cfg.get("resets", week_cfg)
    zone_name = str(resets.get("zone", "UTC"))
    if zone_name.upper() == "UTC":
        zone: tzinfo = UTC
    else:
        import zoneinfo  # only for a configured non-UTC reset: keeps the hook's imports light

        zone = zoneinfo.ZoneInfo(zone_name)
    weekday = WEEKDAYS.index(str(resets.get("weekday", "monday")).lower())
    hh, mm = (int(p) for p in str(resets.get("time", "00:00")).split(":"))
    local_today = now_utc.astimezone(zone).date()
    # The first local occurrence strictly after now; the start is the occurrence a calendar week
    # earlier, so a cycle spanning a DST change is 167 or 169 hours long, as wall clocks say.
    for days in range(8):
        day = local_today + timedelta(days=days)
        if day.weekday() == weekday:
            reset = _local(day, hh, mm, zone)
            if reset > now_utc:
                return Window(_local(day - WEEK, hh, mm, zone), reset, "config")
    raise AssertionError("unreachable: a weekday occurs in every 8 days")


def _local(day: date, hh: int, mm: int, zone: tzinfo) -> datetime:
    # fold=0: an ambiguous time means its first occurrence; a time in a spring-forward gap maps
    # to the instant the clock would show had it not jumped (zoneinfo's rule), still monotone.
    return datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)


def rate_per_hour(
    units_in_rate_window: float, rate_window_hours: float, hours_of_data_available: float
) -> float:
    """Units per hour over the trailing window.

    Early in a cycle (less than the window since it began) the units are divided by the elapsed
    time instead, at least 1 h: a fresh cycle's burn is not diluted by hours that belong to the last
    cycle, and a single minute's burst is not extrapolated to a wild hourly rate.
    """
    hours = min(float(rate_window_hours), max(1.0, float(hours_of_data_available)))
    return max(0.0, float(units_in_rate_window)) / hours


def project(spent_fraction: float, rate_fraction_per_hour: float, hours_left: float) -> float:
    """Fraction of the cap at reset if the recent rate holds; never below what is already spent."""
    return spent_fraction + max(0.0, rate_fraction_per_hour) * max(0.0, hours_left)


class Band(Record):
    """A pacing band: at or above `projected_at`, advise /compact above `ceiling_tokens`.

    severity counts from 1 (the lowest band) up; 0 means below every band.
    """

    projected_at: float
    ceiling_tokens: int
    severity: int


def _bands(bands: Sequence[Mapping[str, Any]]) -> list[Band]:
    ordered = sorted(bands, key=lambda b: float(b["projected_at"]))
    # A warn-only band (pacing.five_hour_bands) has no ceiling: 0, and no context advice from it.
    return [Band(float(b["projected_at"]), int(b.get("ceiling_tokens") or 0), i + 1) for i, b in enumerate(ordered)]


def band_for(projected: float, bands: Sequence[Mapping[str, Any]]) -> Band | None:
    """The highest band whose threshold the projection reaches, or None below them all."""
    reached = [b for b in _bands(bands) if b.projected_at <= projected]
    return reached[-1] if reached else None


def severity(projected: float, bands: Sequence[Mapping[str, Any]]) -> int:
    band = band_for(projected, bands)
    return band.severity if band else 0


def clamp_ceiling(projected: float, bands: Sequence[Mapping[str, Any]]) -> int | None:
    """The ceiling the clamp compares against: the current band's, else the most lenient band's.

    At >= hard_clamp_at actual spend a lockout is near whatever the pace says, so a frugal
    projection below the bands must not switch the clamp off; it only earns the loosest ceiling.
    """
    band = band_for(projected, bands)
    if band:
        return band.ceiling_tokens
    all_bands = _bands(bands)
    return all_bands[0].ceiling_tokens if all_bands else None


def should_speak(
    band_severity: int, last_said: tuple[int, Instant] | None, now: Instant, repeat_minutes: float
) -> bool:
    """Hysteresis for one session's pacing message.

    Below the bands: never. Escalation above what was last said: at once. The same band, or a
    drop to a lower non-empty band: only once the repeat interval since the last message has passed
    (a relaxing projection is good news, not worth an extra interruption). A last-said time in the
    future (clock moved back) is treated as expired.
    """
    if band_severity <= 0:
        return False
    if last_said is None:
        return True
    last_severity, when = last_said
    if band_severity > last_severity:
        return True
    elapsed = (as_utc(now) - as_utc(when)).total_seconds()
    return elapsed < 0 or elapsed >= repeat_minutes * 60


def clamp_decision(
    actual_spent_fraction: float,
    hard_clamp_at: float | None,
    context_tokens: int | None,
    ceiling_tokens: int | None,
) -> bool:
    """Block only at a genuine near-lockout: actual spend >= hard_clamp_at AND context over the ceiling."""
    if hard_clamp_at is None or context_tokens is None or ceiling_tokens is None:
        return False
    return actual_spent_fraction >= hard_clamp_at and context_tokens > ceiling_tokens


def is_long_session(
    hours: float | None, responses: int | None, context_tokens: int | None, cfg_pacing: Mapping[str, Any]
) -> bool:
    """Long by wall time or response count, and carrying a large context (>= resume_warn_tokens).

    A six-hour session with a 30k context costs little per turn; telling its owner that length
    drives cost would be nagging. An unknown context does not veto.
    """
    by_hours = (hours or 0) >= float(cfg_pacing.get("long_session_hours", 4))
    long = by_hours or (responses or 0) >= int(cfg_pacing.get("long_session_responses", 300))
    large = context_tokens is None or context_tokens >= int(cfg_pacing.get("resume_warn_tokens", 100_000))
    return long and large


# --- messages ---------------------------------------------------------------------------------


