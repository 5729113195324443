"""A generated multi-week Claude Code history with a weekday-heavy rhythm, as transcript files: Monday to
Friday 09:00-18:00 UTC busy (a response every few minutes), evenings and weekends light, each week and
day a little different. Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.helpers import assistant_row, write_transcript


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def monday_utc(ts: float) -> float:
    """Monday 00:00 UTC of the week holding `ts` (the default budget.json reset)."""
    day = datetime.fromtimestamp(ts, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return (day - timedelta(days=day.weekday())).timestamp()


def write_weeks(root: Path, start: float, end: float, seed: int = 7) -> int:
    """Responses from `start` to `end` (epoch s), one session file per day; returns how many."""
    rng = random.Random(seed)
    n = 0
    week_factor = 1.0
    day = start
    while day < end:
        moment = datetime.fromtimestamp(day, timezone.utc)
        if moment.weekday() == 0:
            week_factor = rng.uniform(0.8, 1.25)
        day_factor = week_factor * rng.uniform(0.8, 1.2)
        weekend = moment.weekday() >= 5
        rows = []
        ts = day
        while ts < min(day + 86400, end):
            hour = (ts - day) / 3600
            busy = not weekend and 9 <= hour < 18
            if busy:
                ts += rng.uniform(120, 360)
            else:
                ts += rng.uniform(9000, 20000) if weekend else rng.uniform(2400, 6000)
            if ts >= min(day + 86400, end):
                break
            n += 1
            rows.append(assistant_row(message_id=f"msg_{n}", request_id=f"req_{n}", session_id=f"day-{int(day)}",
                                      timestamp=_iso(ts), input_tokens=int(800 * day_factor),
                                      output_tokens=int(rng.uniform(300, 900) * day_factor),
                                      cache_creation=int(rng.uniform(2000, 6000) * day_factor),
                                      cache_read=int(rng.uniform(20_000, 60_000) * day_factor)))
        if rows:
            write_transcript(root, "-home-dev-proj", f"day-{int(day)}", rows)
        day += 86400
    return n
