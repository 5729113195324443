"""Acceptance: on a generated multi-week ledger with a weekday-heavy rhythm, `governor backtest` reports both
models and the rhythm model's mean absolute error 72 h before reset is lower than the recent rate's; and
`governor status` shows the projection audit of the past cycles (a line, and `projection_audit` in --json)."""

from __future__ import annotations

import json
import time

from tests.helpers import projects_root, run_cli
from tests.official_fixtures import write_budget
from tests.rhythm_weeks import monday_utc, write_weeks

WEEK = 7 * 86400


def test_backtest_rhythm_beats_recent_rate_72h_before_reset() -> None:
    now = time.time()
    write_budget(tier="pro")
    write_weeks(projects_root(), monday_utc(now) - 6 * WEEK - 86400, now)
    data = json.loads(run_cli("backtest", "--json").stdout)
    assert set(data["models"]) == {"recent_rate", "rhythm"}
    assert len(data["cycles"]) == 6
    # the oldest cycle has no whole week before it: the rhythm falls back to the recent rate there
    assert [lead["rhythm_had_history"] for lead in data["cycles"][0]["leads"]] == [False] * 3
    assert all(lead["rhythm_had_history"] for c in data["cycles"][1:] for lead in c["leads"])
    rate72, rhythm72 = data["models"]["recent_rate"]["72"], data["models"]["rhythm"]["72"]
    assert rate72["n"] == rhythm72["n"] == 6
    assert rhythm72["mae_points"] < rate72["mae_points"]
    # Friday 00:00: the recent rate stretches a busy Thursday over the weekend and overshoots
    assert rate72["bias_points"] > 5 and abs(rhythm72["bias_points"]) < rate72["bias_points"] / 2
    text = run_cli("backtest").stdout
    lines = text.splitlines()
    assert lines[0].split() == ["model", "MAE", "at", "72", "h", "MAE", "at", "24", "h", "MAE", "at", "6", "h",
                                "bias", "at", "72", "h"]
    assert lines[2].startswith("recent-rate") and lines[3].startswith("rhythm")
    assert f"{rhythm72['mae_points']:.1f} pts" in lines[3] and f"{rate72['mae_points']:.1f} pts" in lines[2]
    assert "6 past cycle(s) replayed from the ledger" in text


def test_backtest_without_whole_cycles_says_so() -> None:
    now = time.time()
    write_weeks(projects_root(), now - 2 * 86400, now)
    assert "No whole past cycle in the ledger yet" in run_cli("backtest").stdout
    assert json.loads(run_cli("backtest", "--json").stdout)["cycles"] == []
    assert run_cli("backtest", "--weeks", "0").returncode != 0


def test_status_shows_the_projection_audit_of_past_cycles() -> None:
    now = time.time()
    write_budget(tier="pro")
    write_weeks(projects_root(), monday_utc(now) - 3 * WEEK - 86400, now)
    data = json.loads(run_cli("status", "--json").stdout)
    audit = data["projection_audit"]
    assert audit["cycles"] == 3
    assert {r["lead_hours"] for r in audit["records"]} == {72, 24, 6}
    assert all(r["recorded"] == "replay" and r["final_source"] == "local estimate" for r in audit["records"])
    for r in audit["records"]:
        assert r["error_points"] == round((r["projected"] - r["final"]) * 100, 2)
    maes = audit["by_lead"]
    assert all(maes[k]["n"] == 3 for k in ("72", "24", "6"))
    assert maes["72"]["mae_points"] == round(
        sum(abs(r["error_points"]) for r in audit["records"] if r["lead_hours"] == 72) / 3, 2)
    text = run_cli("status").stdout
    assert audit["line"] in text and audit["line"].startswith("projection audit: mean |error| ")
    assert "before reset (last 3 cycles)" in audit["line"]
    again = json.loads(run_cli("status", "--json").stdout)["projection_audit"]
    assert again["records"] == audit["records"]  # kept, not recomputed


def test_audit_records_the_live_projection_at_a_lead_moment_and_ends_on_the_official_figure() -> None:
    """The current cycle resets in 71 h 50 min (official): its 72 h projection is the one status shows now.
    The cycle before ended on an official capture 2 h before its reset: its final is calibrated to it."""
    from governor.meter import db, official
    from governor.policy.calibrate import Capture
    from tests.official_fixtures import write_session

    now = time.time()
    reset = now + 72 * 3600 - 600
    write_budget(tier="pro")
    hour = 3600.0
    cap = 35e6
    # 1 % of the cap every 6 hours for the last two weeks and a bit
    first = reset - 2 * WEEK - 3 * hour
    chunks = [(int(cap * 0.01), first + i * 6 * hour) for i in range(int((now - first) / (6 * hour)) + 1)]
    write_session("s1", [c for c in chunks if c[1] < now])
    run_cli("status")
    conn = db.connect()
    official.record(conn, Capture("seven_day", 33.0, reset - WEEK, reset - WEEK - 2 * hour, "statusline"))
    official.record(conn, Capture("seven_day", 16.0, reset, now - 300, "statusline"))
    conn.close()
    data = json.loads(run_cli("status", "--json").stdout)
    audit = data["projection_audit"]
    assert audit["cycles"] == 1  # the cycle before: the one before that began before the ledger
    past = {r["lead_hours"]: r for r in audit["records"]}
    assert set(past) == {72, 24, 6} and all(r["recorded"] == "replay" for r in past.values())
    assert {r["final_source"] for r in past.values()} == {"calibrated"}
    # 33 % two hours before the reset, and nothing spent in the last two hours by the 6-hourly pattern
    assert [r["final"] for r in past.values()] == [0.33] * 3
    conn = db.connect()
    live = conn.execute("SELECT lead_h, projected, how, final FROM projection_audit WHERE reset=?",
                        (round(reset),)).fetchall()
    conn.close()
    assert live == [(72, live[0][1], "live", None)]
    assert abs(live[0][1] - data["projected"]["fraction"]) < 1e-6
