"""Pacing policy: the week, the rate, the projection, bands, hysteresis, the clamp and the messages."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from governor.policy import pacing, pacing_messages
from governor.policy.pacing_messages import Advice

UTC = timezone.utc
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
BANDS = [
    {"projected_at": 1.3, "ceiling_tokens": 250_000},
    {"projected_at": 1.1, "ceiling_tokens": 350_000},
    {"projected_at": 1.0, "ceiling_tokens": 450_000},
]
PACING = {"long_session_hours": 4, "long_session_responses": 300, "resume_warn_tokens": 100_000}
WEEKDAYS = list(pacing.WEEKDAYS)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo"]

fractions = st.floats(0, 5, allow_nan=False)
rates = st.floats(0, 0.1, allow_nan=False)
hours = st.floats(0, 168, allow_nan=False)
instants = st.datetimes(datetime(2020, 1, 1), datetime(2035, 1, 1)).map(lambda d: d.replace(tzinfo=UTC))


def week(weekday: str = "monday", at: str = "09:00", zone: str = "Europe/Berlin") -> dict:
    return {"resets": {"weekday": weekday, "time": at, "zone": zone}}


# --- the week -------------------------------------------------------------------------------------


def test_config_week_spans_the_late_october_dst_change_in_berlin() -> None:
    now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # Saturday; clocks go back Sunday 25 Oct 03:00
    w = pacing.weekly_window(now, None, week())
    assert w.source == "config"
    assert w.reset == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert w.start == datetime(2026, 10, 19, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert w.reset.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 09:00"
    assert w.start.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 09:00"
    assert w.reset - w.start == timedelta(hours=169)


def test_config_week_spans_the_spring_dst_change_in_berlin() -> None:
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # clocks jump forward Sunday 29 Mar 02:00
    w = pacing.weekly_window(now, None, week())
    assert w.reset == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert w.reset - w.start == timedelta(hours=167)


def test_config_reset_is_strictly_after_now() -> None:
    at_reset = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 CET exactly
    w = pacing.weekly_window(at_reset, None, week())
    assert w.start == at_reset
    assert w.reset == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@given(instants, st.sampled_from(WEEKDAYS), st.integers(4, 23), st.integers(0, 59), st.sampled_from(ZONES))
def test_config_window_holds_now_and_falls_on_the_configured_local_time(
    now: datetime, weekday: str, hh: int, mm: int, zone: str
) -> None:
    cfg = week(weekday, f"{hh:02d}:{mm:02d}", zone)
    w = pacing.weekly_window(now, None, cfg)
    assert w.start <= now < w.reset
    for edge in (w.start, w.reset):
        local = edge.astimezone(zoneinfo.ZoneInfo(zone))
        assert (WEEKDAYS[local.weekday()], local.hour, local.minute) == (weekday, hh, mm)
    assert timedelta(days=7, hours=-1) <= w.reset - w.start <= timedelta(days=7, hours=1)
    # Cycles tile time: the moment this one resets, the next one starts.
    assert pacing.weekly_window(w.reset, None, cfg).start == w.reset


def test_official_reset_anchors_the_week_and_beats_the_config() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    resets_at = datetime(2026, 11, 28, 17, 41, tzinfo=UTC).timestamp()
    w = pacing.weekly_window(now, resets_at, week())
    assert w.source == "official"
    assert w.reset.timestamp() == resets_at
    assert w.start == w.reset - timedelta(days=7)


def test_window_re_anchors_when_the_official_reset_moves() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    first = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    moved = first + timedelta(hours=30)
    assert pacing.weekly_window(now, first.timestamp(), week()).reset == first
    w = pacing.weekly_window(now, moved.timestamp(), week())
    assert w.reset == moved and w.start == moved - timedelta(days=7)


def test_passed_official_reset_rolls_forward_by_whole_weeks() -> None:
    old = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    w = pacing.weekly_window(now, old.timestamp(), week())
    assert w.reset == datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    assert w.source == "official"


@given(instants, st.integers(-50_000_000, 50_000_000))  # resets_at is whole epoch seconds
def test_official_window_always_holds_now_on_the_official_grid(now: datetime, offset: int) -> None:
    resets_at = now.timestamp() + offset
    w = pacing.weekly_window(now.timestamp(), resets_at, {})
    assert w.start <= now < w.reset
    weeks = (w.reset.timestamp() - resets_at) / (7 * 86400)
    assert abs(weeks - round(weeks)) < 1e-6
    if 0 < offset <= 7 * 86400:
        assert abs(w.reset.timestamp() - resets_at) < 1e-3  # a live official reset is used as is


# --- rate and projection ------------------------------------------------------------------------


def test_rate_over_a_full_window() -> None:
    assert pacing.rate_per_hour(240, 24, 100) == 10


def test_a_fresh_cycle_is_not_diluted_by_the_last_one() -> None:
    assert pacing.rate_per_hour(100, 24, 2) == 50
    assert pacing.rate_per_hour(100, 24, 0.1) == 100  # at least one hour: no wild extrapolation


@given(st.floats(0, 1e9), st.floats(0, 1e9), st.floats(1, 168), hours)
def test_rate_is_monotone_in_units(a: float, b: float, window: float, available: float) -> None:
    lo, hi = sorted((a, b))
    assert 0 <= pacing.rate_per_hour(lo, window, available) <= pacing.rate_per_hour(hi, window, available)


@given(fractions, rates, hours)
def test_projection_never_falls_below_spent(spent: float, rate: float, left: float) -> None:
    assert pacing.project(spent, rate, left) >= spent
    assert pacing.project(spent, -rate, left) >= spent
    assert pacing.project(spent, rate, -left) >= spent


@given(fractions, rates, rates, hours)
def test_a_lower_recent_rate_never_raises_the_projection(
    spent: float, r1: float, r2: float, left: float
) -> None:
    lower, higher = sorted((r1, r2))
    assert pacing.project(spent, lower, left) <= pacing.project(spent, higher, left)


def test_a_frugal_day_relaxes_the_projection_below_the_bands() -> None:
    # A heavy Monday: 30 % spent in 24 h, 5 days to go -> on pace to blow the cap.
    heavy = pacing.project(0.30, pacing.rate_per_hour(0.30, 24, 24), 120)
    assert pacing.band_for(heavy, BANDS) is not None
    # The next day is idle: the trailing 24 h rate is near zero and the nag goes quiet.
    idle = pacing.project(0.31, pacing.rate_per_hour(0.01, 24, 48), 96)
    assert pacing.band_for(idle, BANDS) is None


# --- bands, hysteresis, clamp -------------------------------------------------------------------


def test_default_bands_and_ceilings() -> None:
    assert pacing.band_for(0.99, BANDS) is None
    assert pacing.severity(0.99, BANDS) == 0
    b1, b2, b3 = (pacing.band_for(p, BANDS) for p in (1.0, 1.2, 1.5))
    assert (b1.ceiling_tokens, b1.severity) == (450_000, 1)  # type: ignore[union-attr]
    assert (b2.ceiling_tokens, b2.severity) == (350_000, 2)  # type: ignore[union-attr]
    assert (b3.ceiling_tokens, b3.severity) == (250_000, 3)  # type: ignore[union-attr]
    assert pacing.band_for(1.5, list(reversed(BANDS))) == b3  # order in budget.json does not matter


@given(fractions, fractions, rates, hours)
def test_more_spend_never_lowers_severity_or_loosens_the_ceiling(
    a: float, b: float, rate: float, left: float
) -> None:
    lo, hi = sorted((a, b))
    p_lo, p_hi = pacing.project(lo, rate, left), pacing.project(hi, rate, left)
    assert pacing.severity(p_hi, BANDS) >= pacing.severity(p_lo, BANDS)
    c_lo, c_hi = pacing.band_for(p_lo, BANDS), pacing.band_for(p_hi, BANDS)
    if c_lo is not None:
        assert c_hi is not None and c_hi.ceiling_tokens <= c_lo.ceiling_tokens


T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_hysteresis_same_band_once_per_interval() -> None:
    said = (1, T0)
    assert pacing.should_speak(1, None, T0, 60)
    assert not pacing.should_speak(1, said, T0 + timedelta(minutes=59), 60)
    assert pacing.should_speak(1, said, T0 + timedelta(minutes=60), 60)
    assert pacing.should_speak(1, (1, T0.timestamp()), T0.timestamp() + 3600, 60)  # epoch seconds too


def test_escalation_is_said_at_once_and_de_escalation_waits() -> None:
    assert pacing.should_speak(2, (1, T0), T0 + timedelta(minutes=1), 60)
    assert not pacing.should_speak(1, (3, T0), T0 + timedelta(minutes=30), 60)
    assert pacing.should_speak(1, (3, T0), T0 + timedelta(minutes=61), 60)


def test_a_session_at_one_band_hears_it_once_an_hour() -> None:
    last = None
    spoken = []
    for minute in range(0, 180, 5):  # a prompt every 5 minutes for 3 hours
        now = T0 + timedelta(minutes=minute)
        if pacing.should_speak(2, last, now, 60):
            spoken.append(minute)
            last = (2, now)
    assert spoken == [0, 60, 120]


last_said = st.one_of(st.none(), st.tuples(st.integers(0, 5), st.floats(0, 1e9)))


@given(st.integers(-3, 0), last_said, st.floats(0, 2e9))
def test_below_the_bands_nothing_is_ever_said(sev: int, last: tuple | None, now: float) -> None:
    assert not pacing.should_speak(sev, last, now, 60)


@given(st.integers(1, 5), st.integers(0, 4), st.floats(0, 1e9), st.floats(0, 3600))
def test_escalation_always_speaks(higher: int, lower: int, when: float, later: float) -> None:
    if higher > lower:
        assert pacing.should_speak(higher, (lower, when), when + later, 60)


def test_clamp_only_at_near_lockout_with_context_over_the_ceiling() -> None:
    assert pacing.clamp_decision(0.96, 0.95, 400_000, 350_000)
    assert pacing.clamp_decision(0.95, 0.95, 350_001, 350_000)
    assert not pacing.clamp_decision(0.94, 0.95, 900_000, 250_000)  # pace alone never blocks
    assert not pacing.clamp_decision(0.99, 0.95, 350_000, 350_000)
    assert not pacing.clamp_decision(0.99, None, 900_000, 250_000)  # disabled
    assert not pacing.clamp_decision(0.99, 0.95, None, 250_000)


@given(st.floats(0, 0.9499), fractions, st.integers(0, 10_000_000))
def test_never_blocks_below_the_clamp_however_fast_the_pace(spent: float, rate: float, ctx: int) -> None:
    projected = pacing.project(spent, rate, 168)
    ceiling = pacing.clamp_ceiling(projected, BANDS)
    assert not pacing.clamp_decision(spent, 0.95, ctx, ceiling)


def test_clamp_ceiling_below_the_bands_is_the_most_lenient() -> None:
    assert pacing.clamp_ceiling(0.97, BANDS) == 450_000
    assert pacing.clamp_ceiling(1.4, BANDS) == 250_000


def test_long_session_needs_length_and_a_large_context() -> None:
    assert pacing.is_long_session(5, 40, 200_000, PACING)
    assert pacing.is_long_session(1, 400, 200_000, PACING)
    assert not pacing.is_long_session(1, 40, 400_000, PACING)
    assert not pacing.is_long_session(6, 500, 30_000, PACING)  # long but cheap per turn
    assert pacing.is_long_session(6, None, None, PACING)


# --- messages -------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # Friday
RESET = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 CET


def advice(**kw: object) -> Advice:
    base: dict = dict(spent=0.61, source="official", projected=0.94 + 0.3, reset=RESET, now=NOW, zone=BERLIN)
    base.update(kw)
    return Advice(**base)


def test_person_message_says_spent_provenance_projection_and_local_reset() -> None:
    msg = pacing_messages.person_message(advice(context_tokens=412_000, ceiling_tokens=350_000))
    assert "61% used (official)" in msg
    assert "on pace for 124%" in msg
    assert "Mon 09:00 CET (in 2d 20h)" in msg
    assert "412k" in msg and "350k" in msg and "/compact" in msg


def test_person_message_omits_compact_advice_under_the_ceiling() -> None:
    a = advice(source="local estimate", context_tokens=120_000, ceiling_tokens=350_000)
    msg = pacing_messages.person_message(a)
    assert "(local estimate)" in msg
    assert "/compact" not in msg


def test_long_session_fact_is_included() -> None:
    msg = pacing_messages.person_message(advice(session_hours=6.25, session_responses=420, long_session=True))
    assert "6.2 h, 420 responses" in msg and "session length" in msg
    assert "420 responses" not in pacing_messages.person_message(advice(session_hours=6.25, session_responses=420))


def test_model_context_carries_the_facts_and_the_instruction() -> None:
    ctx = pacing_messages.model_context(advice(context_tokens=412_000, ceiling_tokens=350_000, long_session=True,
                                      session_hours=9.0, session_responses=800))
    assert "61%" in ctx and "124%" in ctx and "(official)" in ctx and "412k" in ctx and "9.0 h" in ctx
    assert "Keep the context small; prefer /compact or a fresh session for a new task." in ctx


@given(
    st.floats(0, 1e6, allow_nan=False), st.floats(0, 1e6, allow_nan=False),
    st.sampled_from(["official", "calibrated", "local estimate"]),
    st.one_of(st.none(), st.integers(0, 10**12)), st.one_of(st.none(), st.integers(1, 10**12)),
    st.one_of(st.none(), st.floats(0, 1e6)), st.one_of(st.none(), st.integers(0, 10**9)), st.booleans(),
)
def test_messages_always_fit_their_limits(
    spent: float, projected: float, source: str, ctx: int | None, ceiling: int | None,
    hrs: float | None, responses: int | None, long: bool,
) -> None:
    a = advice(spent=spent, projected=projected, source=source, context_tokens=ctx, ceiling_tokens=ceiling,
               session_hours=hrs, session_responses=responses, long_session=long)
    person, model = pacing_messages.person_message(a), pacing_messages.model_context(a)
    assert 0 < len(person) <= 300 and person.startswith("governor:")
    assert len(model) <= 600
    assert "keep the context small; prefer /compact or a fresh session for a new task" in model.lower()


def test_clamp_reason_says_what_compacting_saves_per_turn() -> None:
    reason = pacing_messages.clamp_reason(
        advice(spent=0.96, context_tokens=400_000, ceiling_tokens=250_000), 0.1, fraction_per_unit=1 / 700e6
    )
    assert "96% used (official)" in reason
    assert "400k" in reason and "250k" in reason
    assert "~40k weighted units a turn" in reason
    assert "0.6% of the weekly cap per 100 turns" in reason
    assert "/compact" in reason and "/clear" in reason and "send your prompt again" in reason
