"""Where this week stands: the one computation behind the pacing hook, `governor status` and the
status line. Reads the ledger (official captures, local units), applies the pure policy modules."""

from __future__ import annotations

from governor.fastdatetime import datetime, timedelta
from governor.fastsqlite import sqlite3
from governor.meter import official, rhythm_history, usage
from governor.policy import calibrate, pacing, rhythm, windows
from governor.policy.calibrate import Capture, Spent
from governor.record import Record  # a NamedTuple without exec-compiling one per class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

WEEKLY = "seven_day"
FIVE_HOUR = "five_hour"
FIVE_HOURS_S = 5 * 3600.0
FIVE_HOUR_RATE_HOURS = 1.0  # the 5-hour window's recent rate: its last hour (a day's rate is most of a day off)


class WindowState(Record):
    """One limit window's standing: fractions are of that window's own cap (1.0 = its limit)."""

    spec: windows.Spec
    start: datetime
    reset: datetime
    reset_source: str  # "official" (the capture's reset) | "config" (budget.json's week) | "manual"
    spent: Spent
    rate_fraction_per_hour: float
    projected: float
    band: pacing.Band | None
    capture: Capture | None  # the latest live capture, None for a local estimate

    def view(self, now: float) -> windows.View:
        left = max(0.0, (self.reset - pacing.as_utc(now)).total_seconds() / 3600)
        return windows.View(self.spec.name, self.spent.fraction, self.projected, left, self.spec.kind)


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
    others: tuple[WindowState, ...] = ()  # the 5-hour and model-scoped weekly windows with a live capture
    week_capture: Capture | None = None  # the latest live seven_day capture
    extra: windows.Extra | None = None  # extra usage (paid overage), when a reading exists

    @property
    def week(self) -> WindowState:
        """The all-models week as a window (from the fields above, so a replaced `spent` carries over)."""
        spec = windows.spec_for(WEEKLY)
        assert spec is not None
        return WindowState(spec, self.window.start, self.window.reset, self.window.source, self.spent,
                           self.rate_fraction_per_hour, self.projected, self.band, self.week_capture)

    @property
    def windows(self) -> tuple[WindowState, ...]:
        """Every known window, the all-models week first."""
        return (self.week, *self.others)

    @property
    def pace(self) -> WindowState:
        """The binding window, the one pacing speaks about: it projects worst relative to its cap."""
        known = self.windows
        chosen = windows.binding([w.view(self.now) for w in known])
        return next((w for w in known if chosen and w.spec.name == chosen.name), known[0])

    @property
    def clamp_window(self) -> WindowState:
        """The window the clamp acts on: the worst weekly one (the 5-hour window's bands are warn-only)."""
        weekly = [w for w in self.windows if w.spec.kind != windows.SESSION]
        chosen = windows.binding([w.view(self.now) for w in weekly])
        return next((w for w in weekly if chosen and w.spec.name == chosen.name), self.windows[0])


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
    meter = usage.Suffix(conn, config, now + 1)  # every window's sums from the same few moments
    local_units = meter.between(start, now + 1)
    pairs = [(c, meter.between(start, c.captured_at)) for c in official.cycle_captures(conn, WEEKLY, start, now)]
    spent = calibrate.spent_now(local_units, cap, pairs, now, config["calibration"], start,
                                start_is_reset=window.source == "official")
    rate_hours = float(config["pacing"]["rate_window_hours"])
    rate_start = max(start, now - rate_hours * 3600)
    recent = meter.between(rate_start, now + 1)
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
        others=tuple(other_windows(conn, meter, config, cap, now)),
        week_capture=official.latest(conn, WEEKLY, now),
        extra=official.latest_extra(conn, now),
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


def window_projection(meter: usage.Suffix, config: dict[str, Any], spec: windows.Spec, start: datetime,
               reset: datetime, spent: Spent, now: float) -> tuple[float, float, float]:
    """(local units per hour, fraction of the window's cap per hour, projected fraction at its reset) of a
    5-hour or model-scoped window: the recent-rate model, the one place their projection is made (the
    all-models week's is projection()'s, by the rhythm model). The rate is the trailing
    pacing.rate_window_hours (the 5-hour window: its last FIVE_HOUR_RATE_HOURS) of the window's own
    models, through the window's α, plus the unseen surfaces' β."""
    rate_hours = FIVE_HOUR_RATE_HOURS if spec.kind == windows.SESSION else float(config["pacing"]["rate_window_hours"])
    begin = start.timestamp()
    rate_start = max(begin, now - rate_hours * 3600)
    recent = meter.between(rate_start, now + 1, spec.family)
    elapsed = max(0.0, now - begin) / 3600
    rate = pacing.rate_per_hour(recent, rate_hours, elapsed)
    rate_fraction = rate * spent.fraction_per_unit + spent.background_per_hour
    hours_left = max(0.0, (reset - pacing.as_utc(now)).total_seconds() / 3600)
    return rate, rate_fraction, pacing.project(spent.fraction, rate_fraction, hours_left)


def other_windows(conn: sqlite3.Connection, meter: usage.Suffix, config: dict[str, Any], cap: float, now: float
                  ) -> list[WindowState]:
    """The 5-hour and model-scoped weekly windows with a live capture, the 5-hour first, then by name.

    Each is calibrated against its own captures like the week (its cycle's start as a 0 % reading when the
    reset is official); its local units are its models' (by family). Until a capture has seen local use
    the configured weekly cap stands in for the window's own (which no source states)."""
    found = []
    for name, display in sorted(official.live_windows(conn, now).items(), key=lambda kv: (kv[0] != FIVE_HOUR, kv[0])):
        spec = windows.spec_for(name, display)
        latest = official.latest(conn, name, now) if spec and name != WEEKLY else None
        if spec is None or latest is None:
            continue
        if spec.kind == windows.SESSION:
            reset_at = latest.resets_at if latest.resets_at is not None else latest.captured_at + FIVE_HOURS_S
            if reset_at <= now:
                continue  # a reading without a reset, older than five hours: the window has rolled over
            reset, source = pacing.as_utc(reset_at), "official" if latest.resets_at is not None else "manual"
            start = reset - timedelta(seconds=FIVE_HOURS_S)
        else:
            cycle = pacing.weekly_window(now, latest.resets_at, config["week"]["resets"])
            start, reset, source = cycle.start, cycle.reset, cycle.source
        begin = start.timestamp()
        if spec.kind != windows.SESSION and latest.captured_at < begin - 1:
            continue  # read in an earlier cycle (a manual figure without a reset): nothing known of this one
        local = meter.between(begin, now + 1, spec.family)
        pairs = [(c, meter.between(begin, c.captured_at, spec.family))
                 for c in official.cycle_captures(conn, name, begin, now)]
        spent = calibrate.spent_now(local, cap, pairs, now, config["calibration"], begin,
                                    start_is_reset=source == "official", window=name)
        _rate, rate_fraction, projected = window_projection(meter, config, spec, start, reset, spent, now)
        bands = config["pacing"]["five_hour_bands" if spec.kind == windows.SESSION else "bands"]
        # A scoped week's first hours are as noisy as the all-models week's: the same early-quiet rule.
        quiet = spec.kind != windows.SESSION and rhythm.early_quiet(
            max(0.0, now - begin) / 3600, spent.fraction, config["pacing"])
        found.append(WindowState(spec, start, reset, source, spent, rate_fraction, projected,
                                 None if quiet else pacing.band_for(projected, bands), latest))
    return found


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
        "windows": [window_json(w, state) for w in state.windows],
        "binding": state.pace.spec.name,
        "extra_usage": extra_json(state.extra),
        "five_hour": None
        if state.five_hour is None
        else {
            "used_pct": state.five_hour.used_pct,
            "resets_at": state.five_hour.resets_at,
            "age_s": round(state.now - state.five_hour.captured_at, 1),
        },
    }


def ceiling_for(state: BudgetState) -> int | None:
    """The context ceiling of the binding window's band; the 5-hour bands have none: the week's then."""
    band = state.pace.band
    return band.ceiling_tokens if band and band.ceiling_tokens else state.ceiling_tokens


def last_said(value: Any, name: str) -> tuple[int, float] | None:
    """(severity, when) last said about window `name`, from the pacing hook state; None when nothing was.
    Each window keeps its own, so a binding window that changes back and forth is not news each time.
    A state written before windows were named was about the all-models week."""
    if not isinstance(value, dict):
        return None
    if value.get("window", WEEKLY) == name and "severity" in value and "at" in value:  # the latest message
        return int(value["severity"]), float(value["at"])
    per = value.get("said")
    entry = per.get(name) if isinstance(per, dict) else None
    if isinstance(entry, list) and len(entry) == 2:
        return int(entry[0]), float(entry[1])
    return None


def said(state: BudgetState, now: float, previous: Any = None) -> dict[str, Any]:
    """What the pacing hook state keeps of a message: the binding window's severity and name, and what was
    last said about each window (`previous`: the state this replaces)."""
    pace = state.pace
    severity = pace.band.severity if pace.band else 0
    per = previous.get("said") if isinstance(previous, dict) else None
    kept = {k: v for k, v in per.items() if isinstance(k, str)} if isinstance(per, dict) else {}
    if isinstance(previous, dict) and "said" not in previous and "severity" in previous and "at" in previous:
        kept[str(previous.get("window", WEEKLY))] = [previous["severity"], previous["at"]]
    kept.pop(pace.spec.name, None)
    kept[pace.spec.name] = [severity, now]
    kept = dict(list(kept.items())[-8:])  # bounded: the most recently said few windows
    return {"severity": severity, "at": now, "window": pace.spec.name, "said": kept}


def advice_fields(state: BudgetState, config: dict[str, Any], w: WindowState | None = None) -> dict[str, Any]:
    """The window part of a pacing_messages.Advice for `w` (the binding window by default)."""
    w = w or state.pace
    fields: dict[str, Any] = {"spent": w.spent.fraction, "source": w.spent.source, "projected": w.projected,
                              "reset": w.reset, "subject": windows.subject(w.spec), "kind": w.spec.kind,
                              "codex": bool(config["lanes"]["codex"]["enabled"])}
    if w.spec.name == WEEKLY:  # only the all-models week is projected by the rhythm model
        fields["projection_model"] = state.projection_model
    left = windows.hours_to_cap(w.spent.fraction, w.rate_fraction_per_hour)
    if w.spec.kind == windows.SESSION and left is not None and state.now + left * 3600 < w.reset.timestamp():
        fields["hits_at"] = pacing.as_utc(state.now + left * 3600)
    views = [x.view(state.now) for x in state.windows]
    room = windows.headroom(w.view(state.now), views)
    other = next((x for x in state.windows if room and x.spec.name == room.name), None)
    if other is not None:
        fields["headroom"] = f"{windows.subject(other.spec)} has headroom ({other.spent.fraction * 100:.0f}%)"
        fields["model_alias"] = windows.model_alias(other.spec)
    if windows.spills(w.projected, state.extra):
        fields["extra_usage"] = windows.extra_text(state.extra)
    return fields


def window_json(w: WindowState, state: BudgetState) -> dict[str, Any]:
    """One entry of `governor status --json`'s `windows` list."""
    left = windows.hours_to_cap(w.spent.fraction, w.rate_fraction_per_hour)
    # At the recent rate; said only when the window's own projection reaches the cap too (the week's is the
    # rhythm model's, which may see the rest of the week quieter than the last day).
    hits = None if left is None or w.projected < 1.0 else state.now + left * 3600
    return {
        "name": w.spec.name,
        "label": w.spec.label,
        "kind": w.spec.kind,
        "binding": w.spec.name == state.pace.spec.name,
        "used_pct": round(w.spent.fraction * 100, 2),
        "source": w.spent.source,
        "capture_source": None if w.capture is None else w.capture.source,
        "capture_age_s": None if w.spent.capture_age_s is None else round(w.spent.capture_age_s, 1),
        "low_pct": round(w.spent.low * 100, 2),
        "high_pct": round(w.spent.high * 100, 2),
        "local_units": round(w.spent.units, 3),
        "projected_pct": round(w.projected * 100, 2),
        "hits_limit_at": None if hits is None or hits >= w.reset.timestamp() else pacing.as_utc(hits).isoformat(),
        "start": w.start.isoformat(),
        "reset": w.reset.isoformat(),
        "reset_source": w.reset_source,
        "band": None if w.band is None else {"projected_at": w.band.projected_at, "severity": w.band.severity},
        "spills_into_extra_usage": windows.spills(w.projected, state.extra),
    }


def extra_json(extra: windows.Extra | None) -> dict[str, Any] | None:
    if extra is None:
        return None
    return {"is_enabled": extra.is_enabled, "monthly_limit": extra.monthly_limit, "used_credits": extra.used_credits,
            "utilization": extra.utilization, "currency": extra.currency, "source": extra.source,
            "captured_at": extra.captured_at}


def ingest_horizon(config: dict[str, Any], window: pacing.Window) -> float:
    """What an ingest may prune before: the cycle's start minus the rate window (epoch s)."""
    return (window.start - timedelta(hours=float(config["pacing"]["rate_window_hours"]))).timestamp()


def cycle_start_for(config: dict[str, Any], conn: sqlite3.Connection, now: float) -> float:
    """ingest_horizon of the current window, for callers that have no window yet."""
    return ingest_horizon(config, current_window(conn, config, now))
