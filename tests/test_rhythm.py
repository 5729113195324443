"""The rhythm projection (policy/rhythm.py): its arithmetic on hand-made profiles, the active-hours override,
the early-cycle quiet rule, and `governor status` choosing it once the ledger holds whole past weeks."""

from __future__ import annotations

import json
import time
import zoneinfo
from datetime import datetime, timezone
from pathlib import Path

import pytest

from governor.policy import rhythm
from tests.helpers import projects_root, run_cli
from tests.official_fixtures import write_budget
from tests.rhythm_weeks import monday_utc, write_weeks

H = 3600.0
MONDAY = datetime(2026, 11, 30, tzinfo=timezone.utc).timestamp()  # a cycle start (Monday 00:00 UTC)


def weekday_profile(per_busy_hour: float = 100.0) -> list[float]:
    """Mean units per hour-of-week: Monday-Friday 09-18 UTC busy, nothing else."""
    profile = [0.0] * rhythm.HOURS_OF_WEEK
    for day in range(5):
        for hour in range(9, 18):
            epoch_hour = int(MONDAY // H) + day * 24 + hour
            profile[rhythm.hour_of_week(epoch_hour)] = per_busy_hour
    return profile


def test_a_flat_shape_gives_exactly_the_recent_rate() -> None:
    flat = [1.0] * rhythm.HOURS_OF_WEEK
    now = MONDAY + 50 * H
    ahead = rhythm.units_ahead(None, flat, recent_units=2400, rate_start=now - 24 * H, now=now,
                               reset=MONDAY + 168 * H, recent_rate=100.0)
    assert ahead == pytest.approx(100.0 * 118)


def test_without_history_or_override_the_caller_keeps_the_recent_rate() -> None:
    assert rhythm.units_ahead(None, None, 2400, MONDAY, MONDAY + 24 * H, MONDAY + 168 * H, 100.0) is None
    assert rhythm.learned_profile({}, 0) is None
    assert rhythm.learned_profile({5: 0.0}, 3) is None  # history without use is no history


def test_on_friday_morning_the_rhythm_expects_one_more_workday_not_three() -> None:
    profile = weekday_profile()
    friday = MONDAY + 4 * 24 * H  # Friday 00:00, 72 h before the reset
    thursday_units = 900.0  # a typical Thursday: 9 busy hours at 100
    ahead = rhythm.units_ahead(profile, None, thursday_units, friday - 24 * H, friday, MONDAY + 168 * H,
                               recent_rate=thursday_units / 24)
    assert ahead == pytest.approx(900.0)  # Friday's nine hours; the weekend adds nothing
    by_rate = thursday_units / 24 * 72
    assert by_rate == pytest.approx(2700.0)
    # twice as busy a Thursday: the level follows, shrunk a little toward the history's mean
    busier = rhythm.units_ahead(profile, None, 1800.0, friday - 24 * H, friday, MONDAY + 168 * H, 75.0)
    assert busier is not None and 1500 < busier < 1800  # about 1.7x


def test_a_quiet_night_neither_zeroes_nor_inflates_the_next_day() -> None:
    profile = weekday_profile()
    tuesday_6am = MONDAY + 24 * H + 6 * H
    # the rate window (the last 6 hours: night) saw nothing: the history's level carries the day
    ahead = rhythm.units_ahead(profile, None, 0.0, tuesday_6am - 6 * H, tuesday_6am, tuesday_6am + 24 * H, 0.0)
    mean = sum(profile) / 168
    level = (0 + rhythm.PRIOR_HOURS * mean) / (0 + rhythm.PRIOR_HOURS)
    assert ahead == pytest.approx(level * 9 * 100 / mean)
    assert ahead == pytest.approx(900.0)  # one ordinary Tuesday
    # a small burst at night is evidence, not the level of a whole busy day (nor, as the recent rate
    # would have it, 2 units/h for a day)
    burst = rhythm.units_ahead(profile, None, 50.0, tuesday_6am - 6 * H, tuesday_6am, tuesday_6am + 24 * H, 2.0)
    assert burst is not None and 900 < burst < 900 * 1.25


def test_active_hours_override_in_the_reset_zone() -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    shape = rhythm.override_shape({"active_hours": "09:00-17:00", "active_days": ["monday", "tuesday"]},
                                  berlin, MONDAY)
    assert shape is not None
    active = [h for h in range(168) if shape[h] > 0]
    assert len(active) == 16 and sum(shape) == pytest.approx(168)
    # Monday 09:00 Berlin (winter, UTC+1) is 08:00 UTC; 17:00 Berlin is the first hour off
    monday_8_utc = rhythm.hour_of_week(int(MONDAY // H) + 8)
    assert shape[monday_8_utc] > 0 and shape[monday_8_utc - 1] == 0 and shape[monday_8_utc + 8] == 0
    night = rhythm.override_shape({"active_hours": "22:00-02:00", "active_days": ["friday"]},
                                  timezone.utc, MONDAY)
    assert night is not None
    friday_22 = rhythm.hour_of_week(int(MONDAY // H) + 4 * 24 + 22)
    assert [h for h in range(168) if night[h] > 0] == sorted(
        rhythm.hour_of_week(friday_22 + i) for i in range(4))  # Friday 22:00 into Saturday 02:00


@pytest.mark.parametrize(("elapsed", "spent", "quiet"), [
    (0.5, 0.02, True),     # a burst in the first hour: noise
    (11.9, 0.099, True),
    (11.9, 0.10, False),   # a tenth of the cap in half a day: unambiguous
    (12.0, 0.01, False),   # the quiet time is over
    (100.0, 0.0, False),
])
def test_early_quiet_rule(elapsed: float, spent: float, quiet: bool) -> None:
    assert rhythm.early_quiet(elapsed, spent, {"quiet_first_hours": 12, "quiet_unless_spent": 0.10}) is quiet


def test_budget_json_validates_the_override(tmp_path: Path) -> None:
    write_budget(week={"active_hours": "9:00-25:00"})
    out = run_cli("status")
    assert out.returncode != 0 and "week.active_hours" in out.stderr
    write_budget(week={"active_days": ["funday"]})
    out = run_cli("status")
    assert out.returncode != 0 and "week.active_days" in out.stderr
    write_budget(week={"active_hours": "09:00-18:00", "active_days": ["Friday", "monday"]}, pacing={"projection": "x"})
    out = run_cli("status")
    assert out.returncode != 0 and "pacing.projection" in out.stderr


def test_status_projects_by_rhythm_once_whole_past_weeks_exist() -> None:
    now = time.time()
    write_budget(tier="pro")
    write_weeks(projects_root(), monday_utc(now) - 3 * 7 * 86400, now)
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["projected"]["model"] == "rhythm"
    write_budget(tier="pro", pacing={"projection": "recent_rate"})
    recent = json.loads(run_cli("status", "--json").stdout)
    assert recent["projected"]["model"] == "recent_rate"
    hours_left = (datetime.fromisoformat(data["window"]["reset"]).timestamp() - now) / 3600
    assert recent["projected"]["fraction"] == pytest.approx(
        recent["spent"]["fraction"] + recent["rate"]["fraction_per_hour"] * hours_left, abs=1e-4)
    assert data["projected"]["fraction"] != pytest.approx(recent["projected"]["fraction"], abs=1e-4)


def test_the_model_is_told_which_projection_drew_the_figure() -> None:
    """The hook's note says "at your usual weekly rhythm" when the rhythm model projected, and "at the recent
    rate" when the plain rate did: the model is not told a method that was not used."""
    now = time.time()
    write_weeks(projects_root(), monday_utc(now) - 3 * 7 * 86400, now)
    write_budget(tier="pro", caps={"pro": 7e6})
    said = json.loads(run_cli("status", "--json").stdout)
    assert said["projected"]["model"] == "rhythm" and said["band"] is not None
    assert "; at your usual weekly rhythm it reaches " in said["hook_would_say"]["additionalContext"]
    write_budget(tier="pro", caps={"pro": 7e6}, pacing={"projection": "recent_rate"})
    plain = json.loads(run_cli("status", "--json").stdout)
    assert plain["projected"]["model"] == "recent_rate" and plain["band"] is not None
    assert "; at the recent rate it reaches " in plain["hook_would_say"]["additionalContext"]


def test_a_first_hour_burst_raises_no_band(tmp_path: Path) -> None:
    """An official reset an hour ago and 3 % spent since: the recent rate says ~500 %, governor says nothing."""
    from governor.meter import db, official
    from governor.policy.calibrate import Capture
    from tests.official_fixtures import write_session

    now = time.time()
    write_budget(tier="pro", calibration={})
    write_session("s1", [(int(35e6 * 0.03), now - 1800)])
    run_cli("status")
    conn = db.connect()
    official.record(conn, Capture("seven_day", 3.0, now + 167 * H, now - 60, "statusline"))
    conn.close()
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["projected"]["fraction"] > 1.3 and data["projected"]["early_quiet"] is True
    assert data["band"] is None and data["hook_would_say"] is None
    assert "at reset · early in the cycle: governor stays quiet" in run_cli("status").stdout


def test_the_learned_history_counts_the_ledgers_weighted_units() -> None:
    """The hour-of-week sums (weighted in SQL, from the hourly roll-up) add up to what usage.weighted_between
    counts over the same weeks, and a week the ledger does not cover entirely is not history."""
    from governor.config import load_config
    from governor.meter import db, rhythm_history, usage

    now = time.time()
    start = monday_utc(now)
    write_weeks(projects_root(), start - 2 * 7 * 86400 - 86400, now)
    run_cli("daily")
    conn, config = db.connect(), load_config()
    by_hour, weeks = rhythm_history.history(conn, config, start)
    assert weeks == 2 and len(by_hour) > 100
    assert sum(by_hour.values()) == pytest.approx(
        usage.weighted_between(conn, config, start - 2 * 7 * 86400, start), rel=1e-9)
    assert rhythm_history.history(conn, config, start - 2 * 7 * 86400)[1] == 0
    conn.close()


def test_an_override_shapes_the_projection_without_history() -> None:
    """Two days of use and no whole week before: the recent rate, until active hours are declared."""
    now = time.time()
    write_budget(tier="pro")
    write_weeks(projects_root(), now - 2 * 86400, now)
    plain = json.loads(run_cli("status", "--json").stdout)
    assert plain["projected"]["model"] == "recent_rate"
    write_budget(tier="pro", week={"active_hours": "09:00-18:00", "active_days": ["saturday"]})
    shaped = json.loads(run_cli("status", "--json").stdout)
    assert shaped["projected"]["model"] == "rhythm"
    assert shaped["spent"]["fraction"] == plain["spent"]["fraction"]
    assert shaped["projected"]["fraction"] != pytest.approx(plain["projected"]["fraction"], abs=1e-4)
