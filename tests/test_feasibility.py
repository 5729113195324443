"""`governor feasibility`: the seed's v5 arithmetic end to end (60 % of max20x is 240 % of max5x; the
80 % budget is ~1.08 B local units; marathon sessions vs the median one)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.helpers import run_cli
from tests.official_fixtures import week_resetting_in, write_budget, write_session

HOUR = 3600.0
MARATHON, SCOPED = 500_000_000, 73_000_000  # 5 × 500 M + 10 × 73 M = 3.23 B, the seed's week


@pytest.fixture(autouse=True)
def budget() -> None:
    write_budget(tier="max20x", week=week_resetting_in(3.5 * 86400))  # default caps: max5x = max20x / 4


def seed_week() -> None:
    """The seed's week on this machine, all over a day old (no recent rate: projected = spent)."""
    now = time.time()
    for i in range(5):
        write_session(f"marathon-{i}", [(MARATHON, now - (30 + 6 * i) * HOUR)])
    for i in range(10):
        write_session(f"scoped-{i}", [(SCOPED, now - (28 + 3 * i) * HOUR)])


def feasibility(*args: str) -> dict[str, Any]:
    proc = run_cli("feasibility", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_seed_arithmetic() -> None:
    seed_week()
    assert run_cli("calibrate", "--week", "60").returncode == 0
    r = feasibility("--tier", "max5x")
    assert (r["from_tier"], r["to_tier"], r["target"]) == ("max20x", "max5x", 0.8)
    assert r["spent"]["source"] == "official"
    assert r["spent"]["fraction"] == pytest.approx(0.60)
    assert r["spent"]["rebased"] == pytest.approx(2.40)  # 60 % of max20x → 240 % of max5x
    assert r["projected"]["rebased"] == pytest.approx(2.40)
    assert r["budget"]["fraction_of_current_tier"] == pytest.approx(0.20)  # 80 % of 5× = 20 % of 20×
    assert r["budget"]["units"] == pytest.approx(3.23e9 * 0.20 / 0.60)  # ≈ 1.08 B local units a week
    assert r["sessions"] == {"count": 15, "marathon": 2, "median": 14,
                             "marathon_units": pytest.approx(MARATHON), "median_units": pytest.approx(SCOPED)}
    assert r["verdict"] == ("max5x would not fit: this cycle is on pace for 240% of its cap at reset; a week at "
                            "80% of it holds ~2 marathon sessions or ~14 median ones.")


def test_the_seed_table() -> None:
    seed_week()
    run_cli("calibrate", "--week", "60")
    proc = run_cli("feasibility", "--tier", "max5x", env={"NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["%", "of", "max20x", "(now)", "%", "of", "max5x"]
    assert lines[2].split()[-2:] == ["60%", "240%"] and lines[2].startswith("this cycle so far (official)")
    assert lines[4].startswith("weekly budget for 80% of max5x") and lines[4].split()[-2:] == ["20%", "80%"]
    assert "Weekly budget: 1.08B local weighted units." in lines
    assert ("This machine: 15 sessions this cycle; marathon (mean of the top 5) 500M units → 2 fit; "
            "median 73M → 14 fit.") in lines
    assert lines[-1].startswith("max5x would not fit")


def test_other_tiers_and_targets() -> None:
    seed_week()
    run_cli("calibrate", "--week", "60")
    pro = feasibility("--tier", "pro", "--target", "0.5")
    assert pro["spent"]["rebased"] == pytest.approx(0.60 * 700 / 35)
    assert pro["budget"]["fraction_of_current_tier"] == pytest.approx(0.5 * 35 / 700)
    same = feasibility("--tier", "max20x")
    assert same["spent"]["rebased"] == pytest.approx(0.60)
    assert same["verdict"].startswith("max20x would fit: this cycle is on pace for 60% of its cap")
    assert same["sessions"]["marathon"] == int(0.8 / (0.6 / 3.23e9) // MARATHON)


def test_without_a_capture_it_says_local_estimate() -> None:
    write_session("s", [(35_000_000, time.time() - 30 * HOUR)])  # 5 % of the default max20x cap
    r = feasibility("--tier", "max5x")
    assert r["spent"]["source"] == "local estimate" and r["k"] is None
    assert r["spent"]["rebased"] == pytest.approx(0.20)
    assert r["budget"]["units"] == pytest.approx(0.8 * 175_000_000)  # the configured cap stands in
    assert r["verdict"].startswith("max5x would fit") and "Local estimate: this machine only" in r["verdict"]


def test_no_sessions_yet() -> None:
    r = feasibility("--tier", "max5x")
    assert r["sessions"] == {"count": 0, "marathon": None, "median": None, "marathon_units": None,
                             "median_units": None}
    assert r["spent"]["rebased"] == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--tier", "max99x"], "unknown tier 'max99x' (known: max20x, max5x, pro)"),
    (["--tier", "max5x", "--target", "0"], "--target must be a fraction of the cap in (0, 2]"),
    (["--tier", "max5x", "--target", "80"], "--target must be a fraction of the cap in (0, 2]"),
])
def test_bad_arguments(args: list[str], message: str) -> None:
    proc = run_cli("feasibility", *args)
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.splitlines()) == 1
