"""Pure feasibility: "would the smaller plan fit?" — the seed's v5 arithmetic on the calibration.

This machine's sessions are counted through α (official fraction per local unit); what the meter
cannot see (other machines, the web app) through β, the background rate per hour, which takes its
share of the other plan's cap off the top before any session is counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from governor.record import Record  # a NamedTuple without exec-compiling one per class

MARATHON_TOP = 5  # the seed's "five marathon sessions"
WEEK_HOURS = 168.0


def rebase(fraction: float, from_tier: str, to_tier: str, caps: Mapping[str, float]) -> float:
    """The same usage as a fraction of another tier's cap (60 % of max20x = 240 % of max5x)."""
    return fraction * caps[from_tier] / caps[to_tier]


def weekly_budget(
    target: float, from_tier: str, to_tier: str, caps: Mapping[str, float], k: float | None
) -> float:
    """Local weighted units a week that land at `target` of `to_tier`'s cap.

    k is official fraction (of from_tier, the plan the captures were read on) per local unit;
    without it the configured cap stands in for the official dial.
    """
    if not k:
        return target * caps[to_tier]
    return rebase(target, to_tier, from_tier, caps) / k


if TYPE_CHECKING:
    from typing import TypedDict

    class Fit(TypedDict):
        marathon: int | None  # whole sessions of the marathon shape that fit
        median: int | None
        marathon_units: float | None  # mean of the top five sessions
        median_units: float | None
else:  # a plain dict at run time: building a TypedDict class costs every hook import ~2 ms
    Fit = dict


def sessions_that_fit(budget_units: float, session_units: Sequence[float]) -> Fit:
    """How many sessions of this cycle's shapes fit the budget: marathon (top-5 mean) vs median."""
    import statistics  # CLI only: keeps the hooks' import cost down (statistics pulls in decimal, random)

    sizes = sorted((s for s in session_units if s >= 1), reverse=True)  # < 1 unit: no shape to fit
    if not sizes:
        return Fit(marathon=None, median=None, marathon_units=None, median_units=None)
    marathon = statistics.fmean(sizes[:MARATHON_TOP])
    median = statistics.median(sizes)
    budget = max(0.0, budget_units)
    return Fit(marathon=int(budget // marathon), median=int(budget // median),
               marathon_units=marathon, median_units=median)


class Feasibility(Record):
    to_tier: str
    target: float
    rebased: float  # this cycle's spent as a fraction of to_tier's cap
    budget_units: float  # local units a week for this machine, after the other surfaces' share
    fit: Fit
    other_surfaces: float = 0.0  # a week of the unseen surfaces at β, as a fraction of to_tier's cap


def feasibility(
    spent_fraction: float,
    from_tier: str,
    to_tier: str,
    caps: Mapping[str, float],
    k: float | None,
    session_units: Sequence[float],
    target: float = 0.8,
    background_per_hour: float = 0.0,
) -> Feasibility:
    """`k` is α under the marginal model (then `background_per_hour` is β), the single k otherwise."""
    others = rebase(max(0.0, background_per_hour) * WEEK_HOURS, from_tier, to_tier, caps)
    budget = weekly_budget(max(0.0, target - others), from_tier, to_tier, caps, k)
    return Feasibility(
        to_tier, target, rebase(spent_fraction, from_tier, to_tier, caps), budget,
        sessions_that_fit(budget, session_units), others,
    )
