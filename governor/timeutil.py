"""Time zones and day boundaries (stdlib zoneinfo; the local zone resolved to its IANA name so days
stay correct across DST changes)."""

from __future__ import annotations

import os

from governor.fastdatetime import date, datetime, timedelta, timezone, tzinfo

# zoneinfo is imported where a zone is looked up by name: ~4 ms (it reads sysconfig for its search path)
# that a report in UTC does not need.


def local_zone() -> tzinfo:
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            link = os.path.realpath("/etc/localtime")
            if "zoneinfo/" in link:
                name = link.split("zoneinfo/", 1)[1]
        except OSError:
            name = ""
    if name:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return datetime.now().astimezone().tzinfo or timezone.utc


def zone(name: str | None) -> tzinfo:
    """ZoneInfo for `name` (None: the local zone); ValueError with a clear message when unknown."""
    if not name:
        return local_zone()
    if name.upper() in ("UTC", "Z"):
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like Europe/Berlin or UTC)") from None


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


def day_start(day: date, tz: tzinfo) -> float:
    """Epoch seconds of local midnight starting `day` in `tz`."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def day_end(day: date, tz: tzinfo) -> float:
    return day_start(day + timedelta(days=1), tz)


def local_date(ts: float, tz: tzinfo) -> date:
    return datetime.fromtimestamp(ts, tz).date()


def iso(ts: float | None, tz: tzinfo | None = None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz or timezone.utc).isoformat(timespec="seconds")
