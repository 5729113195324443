"""Calibration against the official /usage figure, and the feasibility arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from governor.config_schema import DEFAULT_CAPS
from governor.policy import calibrate, feasibility
from governor.policy.calibrate import Capture

CAL = {"fresh_minutes": 10, "k_drift_warn": 0.25}
CAP = DEFAULT_CAPS["max20x"]
NOW = 1_795_500_000.0
RESETS = NOW + 3 * 86400


def cap(pct: float, at: float, resets_at: float | None = RESETS, window: str = "seven_day") -> Capture:
    return Capture(window, pct, resets_at, at, "statusline", "sess-1")


# --- validating captures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42, 42.0), (0, 0.0), (61.5, 61.5), (100, 100.0), (100.7, 100.0), (101, 100.0),
     (1795844861, None), (101.2, None), (-0.1, None), ("42", None), (None, None), (True, None),
     (float("nan"), None), (float("inf"), None)],
)
def test_valid_used_pct(value: object, expected: float | None) -> None:
    assert calibrate.valid_used_pct(value) == expected


@given(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(), st.none(), st.booleans()))
def test_valid_used_pct_is_none_or_a_percentage(value: object) -> None:
    pct = calibrate.valid_used_pct(value)
    assert pct is None or 0 <= pct <= 100


def test_fresh_stale_and_provenance() -> None:
    recent, older = cap(40, NOW - 300), cap(40, NOW - 11 * 60)
    passed = cap(40, NOW - 60, resets_at=NOW - 1)
    assert calibrate.fresh(recent, NOW, 10) and not calibrate.fresh(older, NOW, 10)
    assert calibrate.stale(passed, NOW) and not calibrate.fresh(passed, NOW, 10)
    assert not calibrate.stale(cap(40, NOW, resets_at=None), NOW)
    assert calibrate.provenance(recent, NOW, 10) == "official"
    assert calibrate.provenance(older, NOW, 10) == "calibrated"
    assert calibrate.provenance(passed, NOW, 10) == "local estimate"
    assert calibrate.provenance(None, NOW, 10) == "local estimate"


# --- k and spent ----------------------------------------------------------------------------------


def test_fit_k_single_capture_and_zero_units() -> None:
    assert calibrate.fit_k([(3.23e9, 0.60)]) == pytest.approx(0.60 / 3.23e9)
    assert calibrate.fit_k([(0, 0.2)]) is None
    assert calibrate.fit_k([]) is None


@given(st.floats(1e-11, 1e-8), st.lists(st.floats(1e3, 1e8), min_size=1, max_size=8))
def test_fit_k_recovers_an_exact_line(k: float, xs: list[float]) -> None:
    assert calibrate.fit_k([(x, k * x) for x in xs]) == pytest.approx(k, rel=1e-9)


@given(st.floats(1e-11, 1e-8), st.lists(st.floats(1e3, 1e7), min_size=1, max_size=6), st.floats(0, 1e7))
def test_captures_on_an_exact_line_make_the_calibrated_figure_the_official_one(
    k: float, steps: list[float], more: float
) -> None:
    units = [sum(steps[: i + 1]) for i in range(len(steps))]
    total = units[-1] + more
    assume(k * total <= 1.0)
    # One capture an hour, the last one 30 minutes ago (no longer fresh).
    captures = [
        (cap(k * u * 100, NOW - 1800 - 3600 * (len(units) - 1 - i)), u) for i, u in enumerate(units)
    ]
    spent = calibrate.spent_now(total, CAP, captures, NOW, CAL)
    assert spent.source == "calibrated"
    assert spent.fraction == pytest.approx(k * total, rel=1e-9, abs=1e-12)
    assert spent.k == pytest.approx(k, rel=1e-9)
    assert spent.warning is None


@given(st.floats(0, 1e10), st.floats(0, 100), st.floats(0, 1), st.floats(1e6, 1e10), st.floats(0, 3600 * 24))
def test_a_capture_always_wins_over_an_older_estimate(
    local_units: float, pct: float, share_at_capture: float, cap_units: float, age: float
) -> None:
    units_at = local_units * share_at_capture
    spent = calibrate.spent_now(local_units, cap_units, [(cap(pct, NOW - age), units_at)], NOW, CAL)
    assert spent.source in ("official", "calibrated")
    assert spent.fraction >= pct / 100  # never back below what /usage said
    if age <= 600:
        assert spent.source == "official" and spent.fraction == pct / 100  # fresh: the official figure itself


def test_calibration_anchors_to_the_seed_weeks_official_figure() -> None:
    # The local meter alone says 18.7 %; /usage says 60 % (two more machines and the web app).
    local_units = 0.187 * CAP
    alone = calibrate.spent_now(local_units, CAP, [], NOW, CAL)
    assert alone.source == "local estimate" and alone.fraction == pytest.approx(0.187)
    spent = calibrate.spent_now(local_units, CAP, [(cap(60, NOW - 60), local_units)], NOW, CAL)
    assert spent.source == "official" and spent.fraction == pytest.approx(0.60)
    assert spent.unmetered_share == pytest.approx((0.60 - 0.187) / 0.60)
    assert spent.capture_age_s == 60
    # Local use since the capture now counts ~3.2x: the other surfaces burn alongside this one.
    later = calibrate.spent_now(local_units * 1.1, CAP, [(cap(60, NOW - 3600), local_units)], NOW, CAL)
    assert later.source == "calibrated"
    assert later.fraction == pytest.approx(0.66)
    assert later.fraction_per_unit == pytest.approx(0.60 / local_units)


def test_two_machines_unmetered_share_is_the_other_machines_part() -> None:
    # Machine A (ours) and machine B burn alike; the official dial sees both, we see A.
    units = [10e6, 20e6, 30e6, 40e6]
    captures = [(cap(2 * 100 * u / CAP, NOW - 3600 * (4 - i)), u) for i, u in enumerate(units)]
    spent = calibrate.spent_now(45e6, CAP, captures, NOW, CAL)
    assert spent.source == "calibrated"
    assert spent.unmetered_share == pytest.approx(0.5)
    assert spent.fraction == pytest.approx(2 * 45e6 / CAP)


def test_stale_and_other_windows_do_not_calibrate() -> None:
    last_week = cap(90, NOW - 86400, resets_at=NOW - 3600)
    five_hour = cap(70, NOW - 60, window="five_hour")
    spent = calibrate.spent_now(0.1 * CAP, CAP, [(last_week, 1e6), (five_hour, 1e6)], NOW, CAL)
    assert spent.source == "local estimate" and spent.fraction == pytest.approx(0.1)
    assert spent.capture_age_s is None and spent.unmetered_share is None


def test_capture_before_any_local_use_paces_by_the_cap() -> None:
    spent = calibrate.spent_now(7e6, CAP, [(cap(20, NOW - 3600), 0.0)], NOW, CAL)
    assert spent.k is None
    assert spent.fraction == pytest.approx(0.20 + 7e6 / CAP)


@given(st.floats(0, 2), st.floats(0, 1e12), st.floats(1, 1e12))
def test_unmetered_share_is_never_negative(official: float, local: float, cap_units: float) -> None:
    share = calibrate.unmetered_share(official, local, cap_units)
    assert 0 <= share <= 1


def test_unmetered_share_edges() -> None:
    assert calibrate.unmetered_share(0, 1e6, CAP) == 0
    assert calibrate.unmetered_share(0.2, 0.3 * CAP, CAP) == 0  # local explains it all
    assert calibrate.unmetered_share(0.6, 0.2 * CAP, CAP) == pytest.approx(2 / 3)


def test_k_drift_warns_past_the_threshold() -> None:
    assert calibrate.k_drift(1.0, 1.3) == pytest.approx(0.3)
    assert calibrate.k_drift(None, 1.3) == 0
    assert calibrate.k_drift_warning(1.0, 1.2, 0.25) is None
    warning = calibrate.k_drift_warning(1e-9, 1.5e-9, 0.25)
    assert warning is not None and "50%" in warning and "10M" in warning and "6.67M" in warning


def test_spent_warns_when_a_capture_moves_k() -> None:
    # The first captures track local use; then another machine starts and the dial jumps.
    captures = [(cap(10, NOW - 7200), 70e6), (cap(40, NOW - 1200), 80e6)]
    spent = calibrate.spent_now(80e6, CAP, captures, NOW, CAL)
    assert spent.k_drift > 0.25 and spent.warning is not None and "between captures" in spent.warning


# --- feasibility -----------------------------------------------------------------------------------


def test_feasibility_reproduces_the_seed_arithmetic() -> None:
    assert feasibility.rebase(0.60, "max20x", "max5x", DEFAULT_CAPS) == pytest.approx(2.40)
    k = 0.60 / 3.23e9  # 60 % official over 3.23 B local tokens that week
    budget = feasibility.weekly_budget(0.80, "max20x", "max5x", DEFAULT_CAPS, k)
    assert budget == pytest.approx(1.08e9, rel=0.01)  # "about 1.08 B tokens/week"
    sessions = [665e6, 540e6, 470e6, 400e6, 337e6] + [150e6] * 40 + [20e6] * 300
    fit = feasibility.sessions_that_fit(budget, sessions)
    assert fit["marathon"] == 2  # "only ~2 fit"
    assert fit["median_units"] == 20e6
    scoped = [665e6, 540e6, 470e6, 400e6, 337e6] + [150e6] * 40
    assert feasibility.sessions_that_fit(budget, scoped)["median"] == 7  # "5-7 fit"
    report = feasibility.feasibility(0.60, "max20x", "max5x", DEFAULT_CAPS, k, sessions)
    assert report.rebased == pytest.approx(2.40) and report.fit == fit and report.target == 0.8


def test_weekly_budget_without_k_uses_the_configured_cap() -> None:
    assert feasibility.weekly_budget(0.8, "max20x", "max5x", DEFAULT_CAPS, None) == pytest.approx(0.8 * 175e6)
    k_local = 1 / DEFAULT_CAPS["max20x"]  # a k equal to the local cap gives the same answer
    with_k = feasibility.weekly_budget(0.8, "max20x", "max5x", DEFAULT_CAPS, k_local)
    assert with_k == pytest.approx(0.8 * 175e6)


@given(st.floats(0, 5), st.sampled_from(list(DEFAULT_CAPS)), st.sampled_from(list(DEFAULT_CAPS)))
def test_rebase_round_trips_and_smaller_plans_read_higher(fraction: float, a: str, b: str) -> None:
    there = feasibility.rebase(fraction, a, b, DEFAULT_CAPS)
    assert feasibility.rebase(there, b, a, DEFAULT_CAPS) == pytest.approx(fraction)
    if DEFAULT_CAPS[b] < DEFAULT_CAPS[a]:
        assert there >= fraction


@given(st.floats(0, 1e10), st.lists(st.floats(0, 1e9), max_size=30))
def test_marathons_never_fit_more_often_than_the_median(budget: float, sessions: list[float]) -> None:
    fit = feasibility.sessions_that_fit(budget, sessions)
    positive = [s for s in sessions if s >= 1]
    if not positive:
        assert fit["marathon"] is None and fit["median"] is None
        return
    assert fit["marathon"] is not None and fit["marathon_units"] is not None
    assert fit["marathon"] * fit["marathon_units"] <= budget * (1 + 1e-9)
    if len(positive) >= 9:  # then the top five all sit at or above the median session
        assert fit["median"] is not None and fit["marathon"] <= fit["median"]
