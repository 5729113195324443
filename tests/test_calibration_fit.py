"""The two-rate calibration on synthetic weeks: captures generated from a known α (this machine), β (the
surfaces the meter cannot see) and whole-percent rounding, the way the status line and the captures
table produce them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governor.policy import calibration_fit
from governor.policy.calibration_fit import Observation
from tests.calibration_weeks import START, Week, active_week, headless

ALPHA = 1e-8  # 1 % of the cap = 1M local units
seeds = st.integers(0, 2**32)
betas = st.floats(0.0005, 0.006)  # the unseen surfaces: 1.2-14 % of the cap a day


def test_the_two_machine_week_of_the_issue() -> None:
    """Desktop + a laptop governor cannot see doing ~70 % of the week at a steady pace; whole-percent
    captures every 10 min while the desktop is active; then 6 h of headless work on the desktop (no
    captures) burning 5 %. The single k multiplies those 5 points by the laptop's share (~13 points
    hot); the two rates land within 2 points of the truth, 72 %."""
    week = active_week(seed=2, alpha=ALPHA, beta=0.005, days=4, unit_rate=0.24)
    desktop_before = ALPHA * week.units
    headless(week, hours=6, fraction=0.05, background=0.005)
    assert ALPHA * week.units - desktop_before == pytest.approx(0.05)
    assert week.truth == pytest.approx(0.72, abs=0.01)
    laptop = week.truth - ALPHA * week.units
    assert laptop / week.truth == pytest.approx(0.70, abs=0.05)
    assert len(week.rows) > 30  # one row per change of the dial
    assert week.single_k() == pytest.approx(0.85, abs=0.02)  # the old model
    spent = week.spent()
    assert (spent.source, spent.model) == ("calibrated", "marginal")
    assert spent.intervals == len(week.rows)  # every capture row, against the reset's 0 %
    assert spent.fraction == pytest.approx(week.truth, abs=0.02)
    assert spent.fraction_per_unit == pytest.approx(ALPHA, rel=0.1)
    assert spent.background_per_hour == pytest.approx(0.005, rel=0.05)
    assert spent.low <= week.truth <= spent.high
    assert spent.unmetered_share == pytest.approx(1 - desktop_before / week.rows[-1][0].fraction, abs=0.03)
    assert spent.note is not None and spent.note.startswith(f"two rates fitted on {spent.intervals} intervals")


def test_the_two_machine_week_with_the_laptop_resting_stays_inside_the_range() -> None:
    """The same week, the laptop shut during the 6 headless hours: the point assumes it kept its pace
    (3 points high), the low end is about the desktop's 5 points on the last capture, the truth between."""
    week = active_week(seed=2, alpha=ALPHA, beta=0.005, days=4, unit_rate=0.24)
    latest = week.rows[-1][0].fraction
    headless(week, hours=6, fraction=0.05, background=0.0)
    spent = week.spent()
    assert week.single_k() - week.truth > 0.12
    assert spent.low <= week.truth <= spent.high
    assert latest + 0.03 <= spent.low <= latest + 0.05  # less half a step of rounding and the fit's error
    assert spent.fraction - week.truth == pytest.approx(6 * 0.005, abs=0.01)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, headless_share=st.floats(0.0, 0.08))
def test_without_unseen_surfaces_the_figure_never_runs_hot_by_more_than_the_rounding(
    seed: int, headless_share: float
) -> None:
    week = active_week(seed, ALPHA, beta=0.0)
    headless(week, hours=6, fraction=headless_share, background=0.0)
    assert week.spent().fraction <= week.truth + 0.01


@settings(max_examples=60, deadline=None)
@given(seed=seeds, beta=betas, headless_share=st.floats(0.0, 0.08))
def test_steady_unseen_surfaces_keep_the_point_within_two_points_after_six_hours(
    seed: int, beta: float, headless_share: float
) -> None:
    week = active_week(seed, ALPHA, beta)
    headless(week, hours=6, fraction=headless_share, background=beta)
    spent = week.spent()
    assert abs(spent.fraction - week.truth) <= 0.02


@settings(max_examples=60, deadline=None)
@given(seed=seeds, beta=betas, headless_share=st.floats(0.0, 0.08), pace=st.sampled_from([0.0, 1.0, 2.0]))
def test_the_truth_stays_inside_the_range_whether_the_unseen_surfaces_idle_or_double(
    seed: int, beta: float, headless_share: float, pace: float
) -> None:
    week = active_week(seed, ALPHA, beta)
    headless(week, hours=6, fraction=headless_share, background=beta * pace)
    spent = week.spent()
    assert spent.low <= week.truth <= spent.high
    assert spent.low <= spent.fraction <= spent.high


@settings(max_examples=40, deadline=None)
@given(seed=seeds, beta=st.floats(0.0, 0.006), more=st.floats(0, 5e6))
def test_more_local_units_never_lower_the_figure(seed: int, beta: float, more: float) -> None:
    week = active_week(seed, ALPHA, beta)
    headless(week, hours=3, fraction=0.02, background=beta)
    before, after = week.spent(), week.spent(week.units + more)
    assert after.fraction >= before.fraction
    assert after.low >= before.low and after.high >= before.high


@settings(max_examples=40, deadline=None)
@given(seed=seeds, share=st.floats(0.5, 3.0), headless_share=st.floats(0.0, 0.05))
def test_other_surfaces_proportional_to_this_machine_keep_the_single_k_answer(
    seed: int, share: float, headless_share: float
) -> None:
    """The world the single k fits: the laptop works exactly when the desktop does, `share` x as hard.
    The fit finds no background, and the figure is what the single k says (within the rounding)."""
    alpha = ALPHA * (1 + share)  # what a local unit moves the dial by, the laptop's shadow included
    week = active_week(seed, alpha, beta=0.0)
    headless(week, hours=6, fraction=headless_share, background=0.0)
    spent = week.spent()
    assert spent.background_per_hour <= 0.0005
    assert spent.fraction == pytest.approx(week.single_k(), abs=0.01)
    assert spent.fraction == pytest.approx(week.truth, abs=0.01)


# --- the cleaning of the series -----------------------------------------------------------------------

def _reading(at_h: float, pct: float, units: float, resets: float | None = START + 7 * 86400):
    return (START + at_h * 3600, resets, pct / 100, units)


def test_out_of_order_and_duplicate_captures_make_one_ordered_series() -> None:
    readings = [_reading(2, 20, 200), _reading(1, 10, 100), _reading(2, 20, 200), _reading(3, 30, 300)]
    series = calibration_fit.observations(readings, None, 0.01)
    assert series == [Observation(START + 3600, 100, 0.10), Observation(START + 7200, 200, 0.20),
                      Observation(START + 10800, 300, 0.30)]


def test_a_fall_of_the_dial_starts_the_series_again_and_another_reset_is_dropped() -> None:
    readings = [_reading(1, 40, 100, resets=START), _reading(2, 50, 200), _reading(3, 2, 300),
                _reading(4, 5, 400)]
    series = calibration_fit.observations(readings, START, 0.01)
    assert [o.fraction for o in series] == [0.02, 0.05]  # no (0, 0) origin: that reset was not this one
    assert [o.fraction for o in calibration_fit.observations(readings[:2], START, 0.01)] == [0.0, 0.5]


def test_too_few_intervals_fall_back_to_the_single_k_and_say_why() -> None:
    series = [Observation(START, 0, 0), Observation(START + 3600, 1e6, 0.02)]
    fit = calibration_fit.fit(series, 0.01)
    assert fit.model == "proportional" and fit.alpha == pytest.approx(2e-8) and fit.beta == 0
    assert fit.note == "single k (official ∝ local units): 1 interval, two rates need 3"


def test_use_that_tracks_the_clock_cannot_tell_the_rates_apart() -> None:
    series = [Observation(START + h * 3600, h * 1e6, h * 0.02) for h in range(6)]
    fit = calibration_fit.fit(series, 0.01)
    assert fit.model == "proportional"
    assert fit.note.endswith("this machine's use tracks the clock, so the two rates cannot be told apart")


def test_no_local_use_at_all_is_no_model() -> None:
    series = [Observation(START + h * 3600, 0.0, h * 0.01) for h in range(6)]
    assert calibration_fit.fit(series, 0.01).model == "none"


def test_nnls_clamps_a_negative_rate_to_zero() -> None:
    # y falls with h where x rises: the unconstrained b < 0; the constrained optimum has b = 0.
    xs, hs, ys = [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [1.0, 2.5, 4.0]
    a, b = calibration_fit.nnls2(xs, hs, ys)
    assert b == 0.0 and a == pytest.approx((1 + 5 + 12) / 14)


def test_a_week_at_one_decimal_reads_at_its_own_resolution() -> None:
    assert calibration_fit.resolution([12.0, 13.0]) == 0.01
    assert calibration_fit.resolution([12.0, 13.4]) == 0.001


def test_week_helper_matches_the_captures_table() -> None:
    week = Week(ALPHA, 0.0)
    for _ in range(3):
        week.tick(1e5)  # 0.1 % each: the dial reads 0 % three times, one row
    assert len(week.rows) == 1 and week.rows[0][0].captured_at == week.t
