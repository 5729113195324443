"""`governor status`'s per-day line: blocks against the pace on a UTF-8 terminal, plain text otherwise."""

from __future__ import annotations

import io

import pytest

from governor.reports import sparkline

WEEK = {"pace_per_day": 1 / 7, "days": [
    {"date": "2026-11-30", "fraction": 0.0},
    {"date": "2026-12-01", "fraction": 1 / 7},  # exactly the pace
    {"date": "2026-12-02", "fraction": 0.40},  # nearly three times it
    {"date": "2026-12-03", "fraction": 0.02},
    {"date": "2026-12-04", "fraction": None},  # still to come
    {"date": "2026-12-05", "fraction": None},
    {"date": "2026-12-06", "fraction": None},
]}


def test_blocks() -> None:
    assert sparkline.render(WEEK, blocks=True) == "per day    ▄█▁···  ▄ = pace (a day's pace 14% of the cap)"


def test_plain_fallback() -> None:
    assert sparkline.render(WEEK, blocks=False) == (
        "per day   Mon 0% Tue 14% Wed 40%! Thu 2% Fri - Sat - Sun -  (! = over pace) (a day's pace 14% of the cap)")


@pytest.mark.parametrize(("encoding", "no_color", "expected"), [
    ("utf-8", None, True), ("UTF8", None, True), ("ascii", None, False), ("utf-8", "1", False)])
def test_blocks_only_on_utf8_without_no_color(encoding: str, no_color: str | None, expected: bool,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", no_color)
    stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    assert sparkline.can_draw(stream) is expected


def test_status_shows_the_cycle_per_day_and_it_adds_up_to_the_spent_figure() -> None:
    import json

    from tests.helpers import run_cli
    from tests.test_prompt_hook import record_official_week, write_week

    write_week(responses=10)
    record_official_week(61.0)
    data = json.loads(run_cli("status", "--json").stdout)
    days = data["week_days"]["days"]
    assert len(days) == 7 and days[-1]["fraction"] is None
    assert sum(d["fraction"] or 0 for d in days) == pytest.approx(data["spent"]["fraction"], rel=1e-4)
    drawn = run_cli("status", env={"PYTHONIOENCODING": "utf-8"}).stdout.splitlines()
    plain = run_cli("status", env={"NO_COLOR": "1"}).stdout.splitlines()
    assert drawn[3] == sparkline.render(data["week_days"], blocks=True)
    assert plain[3] == sparkline.render(data["week_days"], blocks=False)
    assert drawn[3] != plain[3] and "▄ = pace" in drawn[3] and "(! = over pace)" in plain[3]
