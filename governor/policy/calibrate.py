"""Pure calibration: official captures (the /usage dial) against local weighted units.

The local meter sees this machine only; the official figure sees every machine and the web app.
So `spent` is anchored to the latest official capture and moved between captures by k (official
fraction per local unit, fitted on this cycle's captures). No I/O, no clock reads: `now` is a
parameter, times are epoch seconds, fractions are of the weekly cap (1.0 = the cap).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from governor.fmt import fmt_tokens
from governor.record import Record  # a NamedTuple without exec-compiling one per class

OFFICIAL, CALIBRATED, LOCAL = "official", "calibrated", "local estimate"
WEEKLY = "seven_day"  # the only window that calibrates the weekly cap
MARATHON_TOP = 5  # the seed's "five marathon sessions"


class Capture(Record):
    """One official reading: `window` is e.g. "seven_day" / "five_hour"; used_pct is 0-100."""

    window: str
    used_pct: float
    resets_at: float | None
    captured_at: float
    source: str  # "statusline" | "claude.json" | "manual" | ...
    session: str | None = None

    @property
    def fraction(self) -> float:
        return self.used_pct / 100.0


def valid_used_pct(value: Any) -> float | None:
    """A used_percentage we can trust, or None.

    Claude Code caps the figure at 100, but a known bug leaks the reset epoch into it: anything
    above 101 is rejected, 100-101 is rounding noise and clamped to 100.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    pct = float(value)
    if not math.isfinite(pct) or pct < 0 or pct > 101:
        return None
    return min(pct, 100.0)


def stale(capture: Capture, now: float) -> bool:
    """The capture's window has reset, so its figure no longer describes the present."""
    return capture.resets_at is not None and capture.resets_at <= now


def capture_age(capture: Capture, now: float) -> float:
    return max(0.0, now - capture.captured_at)  # a capture stamped slightly ahead (clock skew) is new


def fresh(capture: Capture, now: float, fresh_minutes: float) -> bool:
    return not stale(capture, now) and capture_age(capture, now) <= fresh_minutes * 60


def fit_k(points: Sequence[tuple[float, float]]) -> float | None:
    """Least squares through the origin: official fraction per local unit.

    points = (local units this cycle at capture time, official fraction then). A line through the
    origin because zero local use means zero of *our* share; usage elsewhere scales k up. With one
    point this is official / units. Points without local units carry no information.
    """
    usable = [(x, y) for x, y in points if x > 0 and y >= 0]
    denominator = sum(x * x for x, _ in usable)
    if not denominator > 0:  # also catches vanishing units whose squares underflow to 0
        return None
    return sum(x * y for x, y in usable) / denominator


def calibrated_spent(latest_capture_fraction: float, k: float | None, units_since_capture: float) -> float:
    """The latest official figure plus k x the local units burnt since it was taken."""
    return latest_capture_fraction + (k or 0.0) * max(0.0, units_since_capture)


def provenance(latest: Capture | None, now: float, fresh_minutes: float) -> str:
    if latest is None or stale(latest, now):
        return LOCAL
    return OFFICIAL if fresh(latest, now, fresh_minutes) else CALIBRATED


def unmetered_share(official_fraction: float, local_units: float, cap_units: float) -> float:
    """The share of the official figure that local transcripts do not explain (0-1).

    max(0, official - local/cap) / official: other machines, the web app. 0 when the official
    figure is 0, or when the local meter explains it all (or more: our weights run hot then).
    """
    if official_fraction <= 0 or cap_units <= 0:
        return 0.0
    local = max(0.0, local_units) / cap_units
    return min(1.0, max(0.0, official_fraction - local) / official_fraction)


def k_drift(previous_k: float | None, new_k: float | None) -> float:
    """Relative change of k (0.3 = moved by 30 %); 0 when either is unknown."""
    if not previous_k or new_k is None:
        return 0.0
    return abs(new_k - previous_k) / abs(previous_k)


def units_per_percent(k: float | None) -> float | None:
    """The seed's reading of k: how many local weighted units make 1 % of the cap."""
    return 0.01 / k if k else None


def k_drift_warning(previous_k: float | None, new_k: float | None, threshold: float) -> str | None:
    drift = k_drift(previous_k, new_k)
    if drift <= threshold:
        return None
    before, after = (fmt_tokens(units_per_percent(k) or 0) for k in (previous_k, new_k))
    return (
        f"calibration moved {drift * 100:.0f}% between captures (1% of the cap ≈ {before} → {after} "
        "local units): usage on another machine or the web app, or a change of model mix."
    )


class Spent(Record):
    """Where the week stands, ready to render; `fraction_per_unit` turns a units rate into a fraction rate."""

    units: float  # local weighted units this cycle
    fraction: float
    source: str  # official | calibrated | local estimate
    capture_age_s: float | None
    k: float | None
    unmetered_share: float | None
    fraction_per_unit: float
    k_drift: float = 0.0
    warning: str | None = None


def spent_now(
    local_units: float,
    cap_units: float,
    captures: Sequence[tuple[Capture, float]],
    now: float,
    calibration_cfg: Mapping[str, Any],
) -> Spent:
    """Spent this cycle from this cycle's weekly captures, each paired with local units at its time.

    A live capture always wins over the local estimate: fresh -> the official figure itself;
    older -> official + k x units since. Without one: local units / cap, labelled as such.
    """
    fresh_minutes = float(calibration_cfg.get("fresh_minutes", 10))
    local_units = max(0.0, local_units)
    per_unit_local = 1.0 / cap_units
    live = [c for c in captures if c[0].window == WEEKLY and not stale(c[0], now)]
    live.sort(key=lambda c: c[0].captured_at)
    if not live:
        return Spent(local_units, local_units * per_unit_local, LOCAL, None, None, None, per_unit_local)
    latest, units_at = live[-1]
    points = [(u, c.fraction) for c, u in live]
    k = fit_k(points)
    previous_k = fit_k(points[:-1])
    source = provenance(latest, now, fresh_minutes)  # OFFICIAL or CALIBRATED: `latest` is live
    if source == OFFICIAL:
        fraction = latest.fraction
    else:
        fraction = calibrated_spent(latest.fraction, k or per_unit_local, local_units - units_at)
    return Spent(
        units=local_units,
        fraction=fraction,
        source=source,
        capture_age_s=capture_age(latest, now),
        k=k,
        unmetered_share=unmetered_share(latest.fraction, units_at, cap_units),
        # Until a capture has seen local use, k is unknown: pace by the configured cap meanwhile.
        fraction_per_unit=k or per_unit_local,
        k_drift=k_drift(previous_k, k),
        warning=k_drift_warning(previous_k, k, float(calibration_cfg.get("k_drift_warn", 0.25))),
    )


# --- feasibility: "would the smaller plan fit?" -------------------------------------------------


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
    budget_units: float  # local units a week for `target` of to_tier
    fit: Fit


def feasibility(
    spent_fraction: float,
    from_tier: str,
    to_tier: str,
    caps: Mapping[str, float],
    k: float | None,
    session_units: Sequence[float],
    target: float = 0.8,
) -> Feasibility:
    budget = weekly_budget(target, from_tier, to_tier, caps, k)
    return Feasibility(
        to_tier, target, rebase(spent_fraction, from_tier, to_tier, caps), budget,
        sessions_that_fit(budget, session_units),
    )
