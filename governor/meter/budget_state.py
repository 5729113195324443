"""Where this week stands: the one computation behind the pacing hook, `governor status` and the
status line. Reads the ledger (official captures, local units), applies the pure policy modules."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from governor.meter import official, rhythm_history, usage
from governor.policy import calibrate, pacing, rhythm
from governor.policy.calibrate import Capture, Spent
from governor.record import Record  # a NamedTuple without exec-compiling one per class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

WEEKLY = "seven_day"
FIVE_HOUR = "five_hour"


class BudgetState(Record):
    now: float
    window: pacing.Window
    cap_units: float
    spent: Spent
    rate_units_per_hour: float
    rate_fraction_per_hour: float  # α x rate_units_per_hour + β: the whole account's, not this machine's
    projected: float
    projection_model: str  # "rhythm" | "recent_rate" (see projection())
    early_quiet: bool  # early in the cycle and little spent: no band (policy/rhythm.early_quiet)
    band: pacing.Band | None
    ceiling_tokens: int | None  # the /compact advice threshold of the current band
    clamp_ceiling: int | None  # the ceiling the hard clamp compares against
    five_hour: Capture | None


def current_window(conn: sqlite3.Connection, config: dict[str, Any], now: float) -> pacing.Window:
    """This weekly cycle, anchored to the latest official seven_day reset when there is one."""
    weekly = official.latest(conn, WEEKLY, now)
    return pacing.weekly_window(now, weekly.resets_at if weekly else None, config["week"]["resets"])


def compute(
    conn: sqlite3.Connection, config: dict[str, Any], now: float, window: pacing.Window | None = None
) -> BudgetState:
    """The budget state at `now`; pass `window` when the caller already has it (the prompt hook)."""
    window = window or current_window(conn, config, now)
    start = window.start.timestamp()
    cap = float(config["caps"][config["tier"]])
    local_units = usage.weighted_between(conn, config, start, now + 1)
    pairs = [
        (c, usage.weighted_between(conn, config, start, c.captured_at))
        for c in official.cycle_captures(conn, WEEKLY, start, now)
    ]
    spent = calibrate.spent_now(local_units, cap, pairs, now, config["calibration"], start,
                                start_is_reset=window.source == "official")
    rate_hours = float(config["pacing"]["rate_window_hours"])
    rate_start = max(start, now - rate_hours * 3600)
    recent = usage.weighted_between(conn, config, rate_start, now + 1)
    rate = pacing.rate_per_hour(recent, rate_hours, window.hours_elapsed(now))
    # This machine's recent rate through α, plus the unseen surfaces' β (0 unless the two-rate model).
    rate_fraction = rate * spent.fraction_per_unit + spent.background_per_hour
    projected, model = projection(conn, config, window, now, spent, rate_start, recent, rate)
    bands = config["pacing"]["bands"]
    quiet = rhythm.early_quiet(window.hours_elapsed(now), spent.fraction, config["pacing"])
    band = None if quiet else pacing.band_for(projected, bands)
    return BudgetState(
        now=now,
        window=window,
        cap_units=cap,
        spent=spent,
        rate_units_per_hour=rate,
        rate_fraction_per_hour=rate_fraction,
        projected=projected,
        projection_model=model,
        early_quiet=quiet,
        band=band,
        ceiling_tokens=band.ceiling_tokens if band else None,
        clamp_ceiling=pacing.clamp_ceiling(projected, bands),
        five_hour=official.latest(conn, FIVE_HOUR, now),
    )


def projection(conn: sqlite3.Connection, config: dict[str, Any], window: pacing.Window, now: float, spent: Spent,
               rate_start: float, recent_units: float, rate: float) -> tuple[float, str]:
    """The fraction of the cap at reset and the model that projected it: the rhythm model (policy/rhythm.py)
    once there is history or an active-hours override, else (or with pacing.projection "recent_rate")
    the recent rate over every hour left. Units go through α; the unseen surfaces' β runs every hour."""
    hours_left = window.hours_left(now)
    if config["pacing"].get("projection", "rhythm") == "rhythm":
        ahead = rhythm_history.units_ahead(conn, config, window.start.timestamp(), now, window.reset.timestamp(),
                                           rate_start, recent_units, rate)
        if ahead is not None:
            base = pacing.project(spent.fraction, spent.background_per_hour, hours_left)
            return base + max(0.0, ahead * spent.fraction_per_unit), "rhythm"
    rate_fraction = rate * spent.fraction_per_unit + spent.background_per_hour
    return pacing.project(spent.fraction, rate_fraction, hours_left), "recent_rate"


def as_json(state: BudgetState) -> dict[str, Any]:
    """The `window` / `spent` / `rate` / `projected` part of `governor status --json`."""
    s = state.spent
    return {
        "window": {
            "start": state.window.start.isoformat(),
            "reset": state.window.reset.isoformat(),
            "source": state.window.source,
        },
        "spent": {
            "units": round(s.units, 3),
            "fraction": round(s.fraction, 6),
            "source": s.source,
            "capture_age_s": None if s.capture_age_s is None else round(s.capture_age_s, 1),
            "k": s.k,
            "unmetered_share": None if s.unmetered_share is None else round(s.unmetered_share, 4),
            "warning": s.warning,
            "low": round(s.low, 6),
            "high": round(s.high, 6),
        },
        "calibration": {
            "model": s.model,
            "alpha": s.fraction_per_unit if s.model != "none" else None,
            "background_per_hour": round(s.background_per_hour, 8),
            "intervals": s.intervals,
            "rms_residual": None if s.rms_residual is None else round(s.rms_residual, 6),
            "note": s.note,
        },
        "cap_units": state.cap_units,
        "rate": {
            "units_per_hour": round(state.rate_units_per_hour, 3),
            "fraction_per_hour": round(state.rate_fraction_per_hour, 8),
        },
        "projected": {"fraction": round(state.projected, 6), "model": state.projection_model,
                      "early_quiet": state.early_quiet},
        "band": None
        if state.band is None
        else {"projected_at": state.band.projected_at, "severity": state.band.severity},
        "ceiling_tokens": state.ceiling_tokens,
        "five_hour": None
        if state.five_hour is None
        else {
            "used_pct": state.five_hour.used_pct,
            "resets_at": state.five_hour.resets_at,
            "age_s": round(state.now - state.five_hour.captured_at, 1),
        },
    }


def ingest_horizon(config: dict[str, Any], window: pacing.Window) -> float:
    """What an ingest may prune before: the cycle's start minus the rate window (epoch s)."""
    return (window.start - timedelta(hours=float(config["pacing"]["rate_window_hours"]))).timestamp()


def cycle_start_for(config: dict[str, Any], conn: sqlite3.Connection, now: float) -> float:
    """ingest_horizon of the current window, for callers that have no window yet."""
    return ingest_horizon(config, current_window(conn, config, now))
