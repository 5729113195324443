"""`governor status`'s week line: each day of the cycle spent against the even pace (the cap / days in the
cycle), as Unicode blocks where the terminal can show them and plain percentages where it cannot."""

from __future__ import annotations

import os
import sys
from typing import Any

from governor.fastdatetime import datetime, timedelta

BLOCKS = "▁▂▃▄▅▆▇█"  # the pace sits at ▄: a full block is twice the pace or more


def cycle_days(conn: Any, config: dict[str, Any], state: Any, tz: Any) -> dict[str, Any]:
    """Each local day of the cycle so far with its share of the cap (calibrated like the headline figure)."""
    from governor.reports import daily

    start, now = state.window.start.timestamp(), state.now
    scale = state.spent.fraction / state.spent.units if state.spent.units else state.spent.fraction_per_unit
    spent = {d["date"]: d["weighted_units"] * scale
             for d in daily.build(conn, config, tz, start, now + 1)["days"]}
    first = datetime.fromtimestamp(start, tz).date()
    total_days = max(1, round(state.window.hours_elapsed(state.window.reset) / 24))
    today = datetime.fromtimestamp(now, tz).date()
    days = []
    for i in range(total_days):
        day = first + timedelta(days=i)
        days.append({"date": day.isoformat(), "fraction": None if day > today else round(spent.get(
            day.isoformat(), 0.0), 6)})
    return {"pace_per_day": round(1 / total_days, 6), "days": days}


def can_draw(stream: Any = None) -> bool:
    """Blocks only on a UTF-8 stream, and not under NO_COLOR (which also asks for plain output)."""
    stream = stream or sys.stdout
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return not os.environ.get("NO_COLOR") and encoding == "utf8"


def render(week: dict[str, Any], blocks: bool) -> str:
    pace = week["pace_per_day"]
    days = week["days"]
    label = f"(a day's pace {pace * 100:.0f}% of the cap)"
    if blocks:
        cells = "".join("·" if d["fraction"] is None else " " if not d["fraction"] else
                        BLOCKS[min(7, max(0, round(d["fraction"] / pace * 4) - 1))] for d in days)
        return f"per day   {cells}  ▄ = pace {label}"
    parts = [datetime.fromisoformat(d["date"]).strftime("%a") + " " + (
        "-" if d["fraction"] is None else f"{d['fraction'] * 100:.0f}%" + ("!" if d["fraction"] > pace else ""))
        for d in days]
    return "per day   " + " ".join(parts) + f"  (! = over pace) {label}"
