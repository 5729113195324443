"""The two-rate calibration as a user sees it: `governor status` (human and --json), the status line and
`governor feasibility`, on a real ledger (a desktop whose laptop governor cannot see) and on the demo week."""

from __future__ import annotations

import json
import re
import time

import pytest

from governor.meter import db, official
from governor.policy.calibrate import Capture
from tests.helpers import run_cli
from tests.official_fixtures import status_payload, write_budget, write_session

ALPHA = 1e-8  # the dial moves 1 % per 1M local units of this machine
BETA = 0.004  # the laptop: 0.4 % of the cap an hour, steady
TICK = 600
SESSION = "69ef0a1c-sess"


def two_machine_days() -> tuple[float, float]:
    """Three days of 2-hour desktop sessions every 8 hours, the status line capturing the whole-percent dial
    every ten minutes during them; then 6 hours of headless work (5 % of the cap) with no capture.
    Returns (the dial's truth now, the laptop's share of the latest official figure)."""
    now = time.time()
    start = now - 3 * 86400
    chunks: list[tuple[int, float]] = []
    captures: list[Capture] = []
    units = 0.0
    t = start
    while t < now - 6 * 3600 - 2 * 3600:
        for _ in range(12):  # a session: two hours, a capture each ten minutes
            t += TICK
            burn = 150_000 + 100_000 * (len(chunks) % 3)
            chunks.append((burn, t - 30))
            units += burn
            truth = ALPHA * units + BETA * (t - start) / 3600
            pct = float(round(truth * 100))  # the status line's whole percent
            captures.append(Capture("seven_day", pct, start + 7 * 86400, t, "statusline", SESSION))
        t += 6 * 3600
    last_capture = t
    for i in range(36):  # `claude -p` for 6 hours: no status line
        chunks.append((round(0.05 / ALPHA / 36), now - 6 * 3600 + i * TICK))
    units += 0.05 / ALPHA
    write_session(SESSION, chunks)
    write_budget(tier="max20x", caps={"max20x": 1e8, "max5x": 2.5e7, "pro": 5e6})
    conn = db.connect()
    try:
        with db.transaction(conn):
            for capture in captures:
                official.record(conn, capture)
    finally:
        conn.close()
    truth = ALPHA * units + BETA * (now - start) / 3600
    assert last_capture < now - 6 * 3600
    latest = captures[-1]
    return truth, BETA * (latest.captured_at - start) / 3600 / latest.fraction


def test_status_shows_the_two_rates_and_the_range() -> None:
    truth, laptop_share = two_machine_days()
    data = json.loads(run_cli("status", "--json").stdout)
    spent, cal = data["spent"], data["calibration"]
    assert spent["source"] == "calibrated"
    assert spent["fraction"] == pytest.approx(truth, abs=0.02)
    assert spent["low"] <= truth <= spent["high"] and spent["high"] - spent["low"] > 0.02
    assert cal["model"] == "marginal" and cal["intervals"] == 24  # official.MAX_CYCLE_CAPTURES, newest
    assert cal["alpha"] == pytest.approx(ALPHA, rel=0.1)
    assert cal["background_per_hour"] == pytest.approx(BETA, rel=0.1)
    assert cal["note"].startswith(f"two rates fitted on {cal['intervals']} intervals, RMS residual")
    assert spent["unmetered_share"] == pytest.approx(laptop_share, abs=0.05)
    # projected = spent + (α x this machine's recent rate + β) x hours left
    rate = data["rate"]
    assert rate["fraction_per_hour"] == pytest.approx(rate["units_per_hour"] * cal["alpha"]
                                                      + cal["background_per_hour"], rel=1e-4)

    human = run_cli("status", env={"NO_COLOR": "1"}).stdout
    low, high = round(spent["low"] * 100), round(spent["high"] * 100)
    assert f"spent     {spent['fraction'] * 100:.0f}% ({low}–{high}%) of the max20x cap (calibrated, capture " in human
    assert re.search(r"^calibration two rates: this machine 1% of the cap ≈ (9\d\dk|1\.\d\dM) local units; other "
                     r"surfaces 9\.\d% of the cap a day; unmetered \(other machines, web\) \d\d% of the official "
                     r"figure$", human, re.M), human
    assert f"fit       {cal['note']}" in human.splitlines()


def test_the_status_line_shows_the_range_in_its_short_form() -> None:
    two_machine_days()
    data = json.loads(run_cli("status", "--json").stdout)
    low, high = round(data["spent"]["low"] * 100), round(data["spent"]["high"] * 100)
    proc = run_cli("statusline", input=json.dumps(status_payload()), env={"NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wk {low}–{high}% calibrated → ")


def test_feasibility_counts_this_machine_with_alpha_and_the_rest_with_beta() -> None:
    two_machine_days()
    r = json.loads(run_cli("feasibility", "--tier", "max5x", "--json").stdout)
    assert r["calibration"]["model"] == "marginal"
    beta = r["calibration"]["background_per_hour"]
    others = beta * 168 * 1e8 / 2.5e7  # a week of the laptop, as a share of the smaller cap
    assert r["other_surfaces"]["week_fraction_of_target_tier"] == pytest.approx(others)
    assert r["budget"]["units"] == pytest.approx(max(0.0, 0.8 - others) * 2.5e7 / 1e8 / r["calibration"]["alpha"])
    human = run_cli("feasibility", "--tier", "max5x", env={"NO_COLOR": "1"}).stdout
    assert "of the max5x cap a week." in human and "Other surfaces (other machines, the web app, at " in human
    assert "for this machine, after the other surfaces' share." in human


def test_the_demo_week_shows_the_calibration_fields() -> None:
    from governor.reports import demo

    d = demo.build(now=1764590400.0)
    saturday = d["moments"][-1]["status"]
    assert saturday["spent"]["low"] == saturday["spent"]["high"] == saturday["spent"]["fraction"] == 0.96
    assert saturday["calibration"] == {
        "model": "proportional", "alpha": pytest.approx(0.96 / saturday["spent"]["units"], rel=0.05),
        "background_per_hour": 0.0, "intervals": 1, "rms_residual": pytest.approx(0.0, abs=1e-9),
        "note": "single k (official ∝ local units): 1 interval, two rates need 3",
    }
    tuesday = d["moments"][0]["status"]
    assert tuesday["calibration"]["model"] == "none" and tuesday["spent"]["low"] == tuesday["spent"]["fraction"]
    text = demo.render(d)
    assert "fit       single k (official ∝ local units): 1 interval, two rates need 3" in text


def test_the_status_line_shows_a_wide_calibrated_range_and_nothing_else_as_a_range() -> None:
    from governor.statusline import render

    bands = [{"projected_at": 1.1, "ceiling_tokens": 350_000}]
    assert render.render(0.75, "calibrated", 0.9, bands, spent_range=(0.72, 0.78)).startswith(
        "wk 72–78% calibrated → 90% at reset")
    assert render.render(0.75, "calibrated", 0.9, bands, spent_range=(0.745, 0.755)).startswith(
        "wk 75% calibrated → 90% at reset")  # within 2 points: the point
    assert render.render(0.75, "official", 0.9, bands, spent_range=(0.70, 0.80)).startswith("wk 75% official")


def test_the_clamp_compares_the_low_end_of_the_range() -> None:
    """A calibrated 97 % whose low end (the other surfaces idle since the capture) is 93 % only suspects a
    lockout: the prompt goes through; once the low end itself is at 95 %, the clamp blocks."""
    from governor.config import load_config
    from governor.guards.prompt import pacing_result
    from governor.meter import budget_state
    from tests.test_prompt_hook import cap_for, payload, write_week

    transcript = write_week(context=500_000)
    write_budget(caps={"max20x": cap_for(1.5)})
    config = load_config()
    conn = db.connect()
    try:
        now = time.time()
        state = budget_state.compute(conn, config, now)
        spent = state.spent._replace(source="calibrated", fraction=0.97, low=0.93, high=0.99)
        suspected = pacing_result(payload("go on", transcript), config, conn, state._replace(spent=spent), now)
        assert not (suspected or {}).get("block_reason")
        actual = pacing_result(payload("go on", transcript), config, conn,
                               state._replace(spent=spent._replace(low=0.955)), now)
        assert actual is not None and "paused this prompt: the weekly cap is 97% used (calibrated)" in actual[
            "block_reason"]
    finally:
        conn.close()
