"""Pure calibration: official captures (the /usage dial) against local weighted units.

The local meter sees this machine only; the official figure sees every machine and the web app.
So `spent` is anchored to the latest official capture and moved between captures by k (official
fraction per local unit, fitted on this cycle's captures). No I/O, no clock reads: `now` is a
parameter, times are epoch seconds, fractions are of the weekly cap (1.0 = the cap).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from governor.fmt import fmt_tokens
from governor.policy import calibration_fit
from governor.policy.calibration_fit import MARGINAL, CalibrationFit
from governor.record import Record  # a NamedTuple without exec-compiling one per class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

OFFICIAL, CALIBRATED, LOCAL = "official", "calibrated", "local estimate"
WEEKLY = "seven_day"  # the only window that calibrates the weekly cap


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
    """The single k: official fraction per local unit, through the origin (see calibration_fit)."""
    return calibration_fit.proportional_k(points)


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
    k: float | None  # the single k (through the origin), whatever the model in use
    unmetered_share: float | None
    fraction_per_unit: float  # α: the marginal rate of this machine's units
    k_drift: float = 0.0
    warning: str | None = None
    low: float = 0.0  # the range: the unseen surfaces idle since the capture ...
    high: float = 0.0  # ... or at twice their fitted rate (both widened by rounding and fit error)
    background_per_hour: float = 0.0  # β: official fraction per hour from what the meter cannot see
    model: str = "none"  # marginal | proportional | none
    intervals: int = 0
    note: str | None = None  # the fit's quality: model, intervals used, residual
    rms_residual: float | None = None


def calibrated_range(fit: CalibrationFit, latest: float, units_since: float, hours_since: float
                     ) -> tuple[float, float, float]:
    """(low, point, high) from the latest official figure: low = the unseen surfaces idle since it,
    high = at twice their rate; widened by two standard errors and a rounding step (half below)."""
    alpha, units, hours = fit.alpha or 0.0, max(0.0, units_since), max(0.0, hours_since)
    point = latest + alpha * units + fit.beta * hours
    low = latest - fit.step / 2 + max(0.0, alpha - 2 * fit.alpha_se) * units
    # A whole step above: the latest reading's own rounding, plus the rates' error that rounding hides from
    # the residuals (β fitted a little low, doubled over hours, fell 0.03 points short of the truth).
    high = latest + fit.step + (alpha + 2 * fit.alpha_se) * units + 2 * (fit.beta + 2 * fit.beta_se) * hours
    return max(0.0, min(low, point)), point, max(high, point)


def fit_warning(fit: CalibrationFit, previous_k: float | None, cfg: Mapping[str, Any]) -> str | None:
    """The marginal model warns on a poor fit; the single k on a k that moved between captures."""
    if fit.model == MARGINAL:
        limit = float(cfg.get("fit_warn_points", 1.5)) / 100
        if fit.rms_residual is None or fit.rms_residual <= limit:
            return None
        return (f"calibration fits poorly (RMS residual {fit.rms_residual * 100:.1f} points over "
                f"{fit.intervals} intervals): the other surfaces' use is irregular, or the model mix changed.")
    return k_drift_warning(previous_k, fit.alpha, float(cfg.get("k_drift_warn", 0.25)))


def spent_now(
    local_units: float,
    cap_units: float,
    captures: Sequence[tuple[Capture, float]],
    now: float,
    calibration_cfg: Mapping[str, Any],
    cycle_start: float | None = None,
    start_is_reset: bool = False,
    window: str = WEEKLY,
) -> Spent:
    """Spent this cycle from this cycle's weekly captures, each paired with local units at its time.

    A live capture always wins over the local estimate: fresh -> the official figure itself;
    older -> official + α x units since + β x hours since (the fit's range around it). Without one:
    local units / cap, labelled as such. `cycle_start` (epoch s) measures the unmetered share; when
    it is the official reset (`start_is_reset`) it is also a reading of 0 % for the fit. `window`: which
    window's captures count (another window's spent is computed the same way, against its own cap).
    """
    fresh_minutes = float(calibration_cfg.get("fresh_minutes", 10))
    local_units = max(0.0, local_units)
    per_unit_local = 1.0 / cap_units
    live = [c for c in captures if c[0].window == window and not stale(c[0], now)]
    live.sort(key=lambda c: c[0].captured_at)
    if not live:
        fraction = local_units * per_unit_local
        return Spent(local_units, fraction, LOCAL, None, None, None, per_unit_local, low=fraction, high=fraction,
                     note="no official capture this cycle: local estimate")
    latest, units_at = live[-1]
    step = calibration_fit.resolution([c.used_pct for c, _ in live])
    readings = [(c.captured_at, c.resets_at, c.fraction, u) for c, u in live]
    series = calibration_fit.observations(readings, cycle_start if start_is_reset else None, step)
    fit = calibration_fit.fit(series, step)
    points = [(u, c.fraction) for c, u in live]
    k, previous_k = fit_k(points), fit_k(points[:-1])
    alpha = fit.alpha or per_unit_local  # until a capture has seen local use: the configured cap
    source = provenance(latest, now, fresh_minutes)  # OFFICIAL or CALIBRATED: `latest` is live
    if source == OFFICIAL:
        low = fraction = high = latest.fraction
    else:
        low, fraction, high = calibrated_range(
            fit._replace(alpha=alpha), latest.fraction, local_units - units_at, capture_age(latest, now) / 3600)
    if fit.model == MARGINAL and cycle_start is not None:
        hours = max(0.0, latest.captured_at - cycle_start) / 3600
        unmetered = min(1.0, fit.beta * hours / latest.fraction) if latest.fraction > 0 else 0.0
    else:
        unmetered = unmetered_share(latest.fraction, units_at, cap_units)
    return Spent(
        units=local_units,
        fraction=fraction,
        source=source,
        capture_age_s=capture_age(latest, now),
        k=k,
        unmetered_share=unmetered,
        fraction_per_unit=alpha,
        k_drift=k_drift(previous_k, k),
        warning=fit_warning(fit, previous_k, calibration_cfg),
        low=low,
        high=high,
        background_per_hour=fit.beta,
        model=fit.model,
        intervals=fit.intervals,
        note=fit.note,
        rms_residual=fit.rms_residual,
    )
