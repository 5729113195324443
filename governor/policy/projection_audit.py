"""Pure: how good the weekly projection was. Projections are kept at fixed lead times before each reset and
compared, once the reset has passed, with where the cycle really ended; errors are in points of the cap
(projected % minus final %), summarised as the mean absolute error per lead time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

LEADS_HOURS = (72, 24, 6)  # hours before the reset at which the projection is kept
LIVE_SLACK_S = 3600.0  # a projection made within this long after the lead moment counts as made at it


def lead_moment(reset: float, lead_hours: float) -> float:
    return reset - lead_hours * 3600


def due_leads(reset: float, now: float, have: Iterable[int], leads: Sequence[int] = LEADS_HOURS) -> list[int]:
    """The lead times of the cycle ending at `reset` whose moment has come and that have no record yet."""
    done = set(have)
    return [lead for lead in leads if lead not in done and lead_moment(reset, lead) <= now]


def is_live(reset: float, lead_hours: int, now: float) -> bool:
    """`now` is close enough to the lead moment for the current projection to stand for it."""
    return 0 <= now - lead_moment(reset, lead_hours) <= LIVE_SLACK_S


def error_points(projected: float, final: float) -> float:
    """Signed error in points of the cap: + the projection was too high."""
    return (projected - final) * 100


def mae_by_lead(errors: Iterable[tuple[int, float]], leads: Sequence[int] = LEADS_HOURS) -> dict[int, dict[str, Any]]:
    """{lead: {"mae_points", "bias_points", "n"}} from (lead, signed error in points) pairs."""
    by: dict[int, list[float]] = {lead: [] for lead in leads}
    for lead, err in errors:
        by.setdefault(lead, []).append(err)
    return {
        lead: {
            "mae_points": round(sum(abs(e) for e in errs) / len(errs), 2) if errs else None,
            "bias_points": round(sum(errs) / len(errs), 2) if errs else None,
            "n": len(errs),
        }
        for lead, errs in sorted(by.items(), reverse=True)
    }


def summary_line(by_lead: Mapping[int, Mapping[str, Any]], cycles: int) -> str | None:
    """One line for `governor status`, or None before any cycle has been audited."""
    parts = [f"{v['mae_points']:.1f} pts at {lead} h" for lead, v in by_lead.items() if v["n"]]
    if not parts:
        return None
    plural = "s" if cycles != 1 else ""
    return f"projection audit: mean |error| {', '.join(parts)} before reset (last {cycles} cycle{plural})"
