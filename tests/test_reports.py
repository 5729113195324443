"""`governor daily` and `governor sessions` as a person runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.helpers import assistant_row, jsonl, projects_root, run_cli


def seed_two_days() -> None:
    root = projects_root()
    rows_a = [
        assistant_row(
            "m1",
            "r1",
            session_id="long-sess",
            timestamp="2026-11-20T23:30:00.000Z",
            model="claude-opus-4-5-20251101",
            input_tokens=1000,
            output_tokens=200,
            cache_creation=4000,
            cache_read=200_000,
            cache_1h=4000,
        ),
        assistant_row(
            "m1",
            "r1",
            session_id="long-sess",
            timestamp="2026-11-20T23:30:00.000Z",
            model="claude-opus-4-5-20251101",
            input_tokens=1000,
            output_tokens=1,
            cache_creation=4000,
            cache_read=200_000,
            cache_1h=4000,
            block_index=1,
        ),
        assistant_row(
            "m2",
            "r2",
            session_id="long-sess",
            timestamp="2026-11-21T05:00:00.000Z",
            model="claude-opus-4-5-20251101",
            input_tokens=10,
            output_tokens=500,
            cache_creation=1000,
            cache_read=300_000,
        ),
    ]
    rows_b = [
        assistant_row(
            "m3",
            "r3",
            session_id="short-sess",
            timestamp="2026-11-21T12:00:00.000Z",
            model="claude-haiku-4-5-20251001",
            input_tokens=50,
            output_tokens=20,
            cache_creation=0,
            cache_read=1000,
        )
    ]
    (root / "-home-dev-a").mkdir()
    (root / "-home-dev-a" / "long-sess.jsonl").write_text(jsonl(rows_a))
    (root / "-home-dev-b").mkdir()
    (root / "-home-dev-b" / "short-sess.jsonl").write_text(jsonl(rows_b))


def test_daily_json_days_models_and_totals_in_utc() -> None:
    seed_two_days()
    out = run_cli("daily", "--json", "--tz", "UTC")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [d["date"] for d in data["days"]] == ["2026-11-20", "2026-11-21"]
    day1 = data["days"][0]
    assert day1["output_tokens"] == 200  # multi-block response counted once, with its final usage
    assert day1["cache_read_input_tokens"] == 200_000
    # Opus 4.5: 1000 in x $5 + 200 out x $25 + 4000 1h-writes x $10 + 200k reads x $0.50, per MTok
    assert abs(day1["cost_usd"] - (1000 * 5 + 200 * 25 + 4000 * 10 + 200_000 * 0.5) / 1e6) < 1e-9
    assert set(data["days"][1]["models"]) == {"claude-opus-4-5-20251101", "claude-haiku-4-5-20251001"}
    assert data["totals"]["output_tokens"] == 720
    weighted = (
        (1000 + 200 * 5 + 4000 * 1.25 + 200_000 * 0.1)
        + (10 + 500 * 5 + 1000 * 1.25 + 300_000 * 0.1)
        + (50 + 20 * 5 + 1000 * 0.1) * 0.2
    )
    assert abs(data["totals"]["weighted_units"] - weighted) < 0.01


def test_daily_days_follow_the_zone() -> None:
    seed_two_days()
    data = json.loads(run_cli("daily", "--json", "--tz", "Asia/Tokyo").stdout)
    assert [d["date"] for d in data["days"]] == ["2026-11-21"]  # 23:30Z and 05:00Z are both the 21st in Tokyo
    ranged = json.loads(run_cli("daily", "--json", "--tz", "UTC", "--since", "2026-11-21").stdout)
    assert [d["date"] for d in ranged["days"]] == ["2026-11-21"]


def test_daily_human_table_and_no_color() -> None:
    seed_two_days()
    out = run_cli("daily", "--tz", "UTC", env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert out.returncode == 0
    assert "2026-11-20" in out.stdout and "total" in out.stdout and "\x1b[" not in out.stdout


def test_sessions_ranks_marathons_with_share_and_resent() -> None:
    seed_two_days()
    data = json.loads(run_cli("sessions", "--json").stdout)["sessions"]
    assert [s["session_id"] for s in data] == ["long-sess", "short-sess"]
    long = data[0]
    assert long["responses"] == 2
    assert long["peak_context_tokens"] == 10 + 1000 + 300_000  # the largest single response's context
    assert long["project"] == "-home-dev-a"
    assert 0.9 < long["share"] <= 1 and abs(sum(s["share"] for s in data) - 1) < 0.001
    assert 0 < long["resent_share"] < 1
    table = run_cli("sessions").stdout
    assert "long-ses" in table and "top 2 carry" in table


def test_no_transcripts_says_where_it_looked() -> None:
    out = run_cli("daily")
    assert out.returncode == 0
    assert "No Claude Code transcripts found" in out.stdout
    assert str(Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects") in out.stdout
    assert "--claude-dir" in out.stdout


def test_claude_dir_overrides_the_roots(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "projects" / "-p"
    other.mkdir(parents=True)
    (other / "s.jsonl").write_text(jsonl([assistant_row("mx", "rx", output_tokens=77)]))
    data = json.loads(run_cli("daily", "--json", "--claude-dir", str(tmp_path / "elsewhere")).stdout)
    assert data["totals"]["output_tokens"] == 77


def test_bad_arguments_are_one_clear_line() -> None:
    for args in (
        ["daily", "--since", "yesterday"],
        ["daily", "--tz", "Mars/Olympus"],
        ["sessions", "--until", "2026-02-30"],
        ["daily", "--frobnicate"],
    ):
        out = run_cli(*args)
        assert out.returncode == 2, args
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("governor: "), out.stderr


def test_daily_shows_web_searches_and_the_client_account_records() -> None:
    """A resumed session whose /compact and WebSearch requests left no row: Claude Code's cost-state counts
    them; `governor daily` includes them, shows them apart and counts the web search (human and --json)."""
    session = "aaaaaaaa-0000-4000-8000-000000000001"
    row = assistant_row("m1", "r1", session_id=session, timestamp="2026-11-21T10:00:00.000Z",
                        model="claude-opus-5-5", input_tokens=1000, output_tokens=100, cache_creation=0,
                        cache_read=0)
    account = {"type": "cost-state", "sessionId": session, "startTime": 1795255200000, "modelUsage": {
        "claude-opus-5-5": {"inputTokens": 6000, "outputTokens": 800, "cacheReadInputTokens": 0,
                            "cacheCreationInputTokens": 0, "webSearchRequests": 1}}}
    (projects_root() / "-home-dev-a").mkdir()
    (projects_root() / "-home-dev-a" / f"{session}.jsonl").write_text(jsonl([row, account]))
    data = json.loads(run_cli("daily", "--json", "--tz", "UTC").stdout)
    day = data["days"][0]
    assert (day["input_tokens"], day["output_tokens"], day["web_search_requests"]) == (6000, 800, 1)
    client = day["client_account"]
    assert (client["input_tokens"], client["output_tokens"], client["web_search_requests"]) == (5000, 700, 1)
    # Opus 5.5 at $4 / $20 per MTok, and $10 per 1,000 web searches
    assert client["cost_usd"] == round(5000 * 4 / 1e6 + 700 * 20 / 1e6 + 0.01, 6)
    assert data["totals"]["client_account"] == client
    out = run_cli("daily", "--tz", "UTC", env={"NO_COLOR": "1"}).stdout
    assert out.splitlines() == [
        "date        input  output  cache write  cache read  weighted  of it no-row  searches    USD",
        "----------  -----  ------  -----------  ----------  --------  ------------  --------  -----",
        "2026-11-21     6k     800            0           0       10k          8.5k         1  $0.05",
        "total          6k     800            0           0       10k          8.5k         1  $0.05",
        "'of it no-row': compaction and tool requests Claude Code's own account (cost-state) counts and no"
        " transcript row shows; included in the totals.",
        "USD is notional (API list prices); on a subscription what counts is the cap fraction (governor status).",
    ]
