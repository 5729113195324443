"""`governor calibrate` (manual /usage captures), the provenance they give `spent`, and the acceptance
scenario: two machines' usage in the official figure, one machine's transcripts here."""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governor import config_schema
from governor.meter import budget_state, db, ledger, official
from governor.policy.calibrate import Capture
from tests.helpers import jsonl, run_cli
from tests.official_fixtures import iso, ledger_rows, units_rows, week_resetting_in, write_budget, write_session

CAP = 1_000_000  # budget.json caps.max20x: local units / CAP is this machine's true share of the week
HOUR = 3600.0


@pytest.fixture(autouse=True)
def budget() -> None:
    write_budget(caps={"max20x": CAP}, week=week_resetting_in(3.5 * 86400))


def calibrate(*args: str) -> dict[str, Any]:
    proc = run_cli("calibrate", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_manual_capture_now_is_official() -> None:
    now = time.time()
    write_session("s1", [(100_000, now - 2 * HOUR)])
    out = calibrate("--week", "40", "--session", "12%")
    week, five = out["recorded"]
    assert (week["window"], week["used_pct"], week["source"]) == ("seven_day", 40.0, "manual")
    assert (five["window"], five["used_pct"]) == ("five_hour", 12.0)
    assert five["resets_at"] == pytest.approx(five["captured_at"] + 5 * HOUR)
    spent = out["spent"]
    assert spent["source"] == "official" and spent["fraction"] == pytest.approx(0.40)
    assert spent["k"] == pytest.approx(0.40 / 100_000)
    assert spent["unmetered_share"] == pytest.approx((0.40 - 0.10) / 0.40)
    assert out["five_hour"]["used_pct"] == 12.0
    assert ledger_rows("SELECT window, source, session_id FROM captures ORDER BY window") == [
        ("five_hour", "manual", None), ("seven_day", "manual", None)]


def test_human_output() -> None:
    write_session("s1", [(100_000, time.time() - 2 * HOUR)])
    proc = run_cli("calibrate", "--week", "40")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Recorded seven_day 40% (manual, read at ")
    assert lines[1].startswith("Week: 40% of the max20x cap (official, capture 0 min old); on pace for ")
    assert "1% of the cap ≈ 2.5k local weighted units (this machine: 100k units this cycle)" in lines[2]
    assert lines[3].startswith("Unmetered share: 75% of the official figure")


@pytest.mark.parametrize(("age_min", "source", "fraction"),
                         [(5, "official", 0.40), (30, "calibrated", 0.60), (36 * 60, "calibrated", 0.60)])
def test_provenance_moves_from_official_to_calibrated_as_the_capture_ages(age_min: float, source: str,
                                                                       fraction: float) -> None:
    now = time.time()
    at = now - age_min * 60
    write_session("s1", [(100_000, at - HOUR), (50_000, at + 60)])  # 50k units after the capture
    spent = calibrate("--week", "40", "--at", iso(at))["spent"]
    assert spent["source"] == source
    assert spent["fraction"] == pytest.approx(fraction)  # calibrated: 40 % + k × 50k, k = 40 % / 100k
    assert spent["capture_age_s"] == pytest.approx(age_min * 60, abs=30)


def test_a_capture_from_a_previous_cycle_does_not_calibrate_this_one() -> None:
    write_session("s1", [(100_000, time.time() - HOUR)])
    proc = run_cli("calibrate", "--week", "90", "--at", iso(time.time() - 8 * 86400))
    assert proc.returncode == 0, proc.stderr
    assert "(local estimate)" in proc.stdout and "outside the current weekly cycle" in proc.stdout
    assert "Week: 10% of the max20x cap" in proc.stdout


def test_k_drift_is_warned() -> None:
    now = time.time()
    write_session("s1", [(100_000, now - 30 * HOUR), (100_000, now - 5 * HOUR)])
    calibrate("--week", "20", "--at", iso(now - 29 * HOUR))
    proc = run_cli("calibrate", "--week", "60", "--at", iso(now - 4 * HOUR))
    assert "Warning: calibration moved 40% between captures" in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--week", "140"], "--week must be a percentage from 0 to 100 (got 140)"),
    (["--week", "-3"], "--week must be a percentage from 0 to 100 (got -3)"),
    (["--week", "sixty"], "--week must be a percentage from 0 to 100 (got 'sixty')"),
    (["--week", "40", "--session", "101"], "--session must be a percentage from 0 to 100 (got 101)"),
    (["--week", "40", "--at", "yesterday"], "--at must be an ISO date-time"),
    (["--week", "40", "--at", "2999-01-01T00:00Z"], "is in the future"),
])
def test_invalid_input_is_one_line_and_records_nothing(args: list[str], message: str) -> None:
    proc = run_cli("calibrate", *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and message in proc.stderr
    assert not (Path(os.environ["GOVERNOR_HOME"]) / "ledger.sqlite3").exists()


def test_two_machines_official_one_machines_transcripts() -> None:
    """The seed's v5 finding: this machine's transcripts explain half of the official figure. Each machine
    burns 100k units a day; /usage (both machines) is read three times; this machine burns 30k more since."""
    now = time.time()
    times = [now - 50 * HOUR, now - 26 * HOUR, now - 4 * HOUR]
    write_session("here", [(100_000, t) for t in times] + [(30_000, now - HOUR)])
    official_pct = 0
    for t in times:
        official_pct += 2 * 100_000 * 100 // CAP  # both machines
        calibrate("--week", str(official_pct), "--at", iso(t + 600))
    proc = run_cli("status", "--json")
    assert proc.returncode == 0, proc.stderr
    spent = json.loads(proc.stdout)["spent"]
    assert spent["source"] == "calibrated"
    assert spent["unmetered_share"] == pytest.approx(0.5, abs=0.02)  # the other machine's part
    assert spent["k"] == pytest.approx(2 / CAP)  # 1 local unit = 2 units of the account's usage
    assert spent["fraction"] == pytest.approx(0.66)  # 60 % + k × 30k
    assert spent["units"] == pytest.approx(330_000)


# --- property: captures against the real ledger -------------------------------------------------


def _config() -> dict[str, Any]:
    config = copy.deepcopy(config_schema.defaults())
    config["caps"]["max20x"] = float(CAP)
    config["week"] = week_resetting_in(3.5 * 86400)
    return config


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.lists(st.integers(1, 50_000), min_size=2, max_size=6),
       k=st.floats(1e-7, 3e-6), age_min=st.floats(1, 600))  # k × units stays under 100 %; 1/CAP = 1e-6
def test_captures_equal_to_units_times_k_reproduce_the_truth(units: list[int], k: float, age_min: float) -> None:
    """Hourly local units with an exact capture (k × units so far) after each but the last; the last
    units come after the latest capture, which is `age_min` old. The capture always wins over the
    local estimate (official while fresh), calibrated spent equals k × all units, and the unmetered
    share is never negative: under the two-rate model (3+ intervals) it is β's share, and β is 0 in a
    world where the dial moves only with local units; under the single k it is what local units ÷ the
    cap leave unexplained. Real SQLite; the autouse fixtures only isolate the environment."""
    now = time.time()
    config = _config()
    latest = now - age_min * 60
    times = [latest - 60 - (len(units) - 2 - i) * HOUR for i in range(len(units) - 1)] + [latest + age_min * 30]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "projects"
        rows = [r for i, (u, t) in enumerate(zip(units, times, strict=True)) for r in units_rows("p", u, t, f"p{i}")]
        (root / "proj").mkdir(parents=True)
        (root / "proj" / "p.jsonl").write_text(jsonl(rows))
        conn = db.connect(os.path.join(tmp, "ledger.sqlite3"))
        try:
            ledger.ingest(conn, [str(root)], parallel=False)
            assert budget_state.cycle_start_for(config, conn, now) < times[0]  # all in this cycle
            for i, t in enumerate(times[:-1]):
                pct = k * sum(units[: i + 1]) * 100
                official.record(conn, Capture("seven_day", pct, None, t + 60, "manual"))
            state = budget_state.compute(conn, config, now)
        finally:
            conn.close()
    spent = state.spent
    if age_min <= 10:
        assert spent.source == "official"
        assert spent.fraction == pytest.approx(k * sum(units[:-1]), rel=1e-9)
    else:
        assert spent.source == "calibrated"
        assert spent.fraction == pytest.approx(k * sum(units), rel=1e-6)
    assert spent.k == pytest.approx(k, rel=1e-6)
    captured, here = k * sum(units[:-1]), sum(units[:-1]) / CAP  # at the latest capture
    assert spent.unmetered_share is not None and spent.unmetered_share >= 0
    if spent.model == "marginal":
        assert len(units) >= 5 and spent.background_per_hour == pytest.approx(0.0, abs=1e-12)
        assert spent.fraction_per_unit == pytest.approx(k, rel=1e-6)
        assert spent.unmetered_share == pytest.approx(0.0, abs=1e-6)
    else:
        assert spent.model == "proportional"  # too few intervals, or units that track the clock
        assert spent.unmetered_share == pytest.approx(max(0.0, captured - here) / captured, abs=1e-9)
