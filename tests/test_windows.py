"""Every limit window as data (issue 17): the 5-hour, all-models and model-scoped weekly windows and extra
usage, read from real-shaped `.claude.json` and status-line payloads; the binding-window choice; what
pacing, `governor status` and the status line say about them."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from governor import paths
from governor.config import load_config
from governor.meter import budget_state, db, ledger, official, usage
from governor.policy import pacing_messages, windows
from governor.policy.calibrate import Capture
from governor.policy.windows import SESSION, WEEKLY_ALL, WEEKLY_SCOPED, View
from governor.reports import status
from governor.statusline import render
from tests.helpers import assistant_row, projects_root, run_cli, run_hook, write_transcript
from tests.official_fixtures import OPUS, PROJECT, iso, status_payload, write_budget

SONNET_MODEL = "claude-sonnet-4-5-20250929"
UTC = timezone.utc
BANDS = [{"projected_at": 1.0, "ceiling_tokens": 450_000}, {"projected_at": 1.1, "ceiling_tokens": 350_000}]


# --- the binding window, table-tested -----------------------------------------------------------------

BINDING_CASES = [
    ("only the week", [View("seven_day", 0.2, 0.5, 90)], "seven_day"),
    ("the 5-hour window projects worse",
     [View("seven_day", 0.41, 0.94, 60), View("five_hour", 0.71, 1.04, 0.8, SESSION)], "five_hour"),
    ("a scoped week below the week's projection", [View("seven_day", 0.61, 0.94, 60),
                                                    View("seven_day_sonnet", 0.88, 0.9, 40, WEEKLY_SCOPED)],
     "seven_day"),
    ("the Sonnet week projects worst", [View("seven_day", 0.61, 0.94, 60), View("five_hour", 0.3, 0.5, 2, SESSION),
                                         View("seven_day_sonnet", 0.88, 1.04, 40, WEEKLY_SCOPED)], "seven_day_sonnet"),
    ("a tie goes to the earlier reset", [View("seven_day", 0.9, 1.0, 50), View("five_hour", 0.5, 1.0, 1, SESSION)],
     "five_hour"),
    ("then to the larger spend", [View("seven_day_opus", 0.5, 1.2, 30, WEEKLY_SCOPED),
                                  View("seven_day_sonnet", 0.7, 1.2, 30, WEEKLY_SCOPED)], "seven_day_sonnet"),
    ("a spent window binds even without a rate", [View("seven_day", 0.2, 0.3, 90),
                                                  View("five_hour", 1.0, 1.0, 3, SESSION)], "five_hour"),
]


@pytest.mark.parametrize(("views", "expected"), [c[1:] for c in BINDING_CASES], ids=[c[0] for c in BINDING_CASES])
def test_the_binding_window_is_the_one_that_projects_worst(views: list[View], expected: str) -> None:
    chosen = windows.binding(views)
    assert chosen is not None and chosen.name == expected
    assert windows.binding(list(reversed(views))) == chosen  # the order they come in does not matter


def test_no_window_binds_when_none_is_known() -> None:
    assert windows.binding([]) is None


HEADROOM_CASES = [
    ("Opus has room", 0.7, 0.3, "seven_day_opus"),
    ("Opus projects too high to take the work", 0.7, 0.85, None),
    ("the all-models week runs out anyway", 1.05, 0.3, None),
]


@pytest.mark.parametrize(("week", "opus", "expected"), [c[1:] for c in HEADROOM_CASES],
                         ids=[c[0] for c in HEADROOM_CASES])
def test_a_binding_scoped_week_suggests_the_other_model_only_when_that_helps(week: float, opus: float,
                                                                             expected: str | None) -> None:
    sonnet = View("seven_day_sonnet", 0.88, 1.04 if week < 1.04 else 1.1, 40, WEEKLY_SCOPED)
    views = [View("seven_day", 0.5, week, 60), sonnet, View("seven_day_opus", opus / 2, opus, 60, WEEKLY_SCOPED)]
    room = windows.headroom(sonnet, views)
    assert (room.name if room else None) == expected
    assert windows.headroom(views[0], views) is None  # the all-models week binding: no other model helps


def test_window_names_are_the_ones_usage_shows() -> None:
    assert [(s.label, s.short, s.kind, s.family) for s in (
        windows.spec_for("five_hour"), windows.spec_for("seven_day"), windows.spec_for("seven_day_sonnet"),
        windows.spec_for("seven_day_opus"), windows.spec_for("seven_day_fable_5", "Fable 5"))
        if s is not None] == [
        ("Current session", "5h", SESSION, None),
        ("Current week (all models)", "wk", WEEKLY_ALL, None),
        ("Current week (Sonnet only)", "Sonnet", WEEKLY_SCOPED, "sonnet"),
        ("Current week (Opus)", "Opus", WEEKLY_SCOPED, "opus"),
        ("Current week (Fable 5)", "Fable 5", WEEKLY_SCOPED, "fable"),
    ]
    assert windows.spec_for("seven_day_oauth_apps") is None and windows.spec_for("extra_usage") is None
    assert windows.scoped_name("Sonnet 5") == "seven_day_sonnet_5" and windows.scoped_name(" ·· ") is None


# --- reading every window from real-shaped sources -------------------------------------------------


def limit_row(kind: str, pct: float, resets_at: str | None, model: str | None = None,
              surface: str | None = None, severity: str = "normal", active: bool = False) -> dict[str, Any]:
    scope = None if model is None and surface is None else {
        "model": None if model is None else {"display_name": model},
        "surface": None if surface is None else {"display_name": surface}}
    return {"kind": kind, "group": "session" if kind == "session" else "weekly", "percent": pct,
            "resets_at": resets_at, "severity": severity, "is_active": active, "scope": scope}


def usage_body(now: float, extra_enabled: bool = True, **windows_over: Any) -> dict[str, Any]:
    """`cachedUsageUtilization.utilization` as Claude Code 2.1.328 keeps it: named windows (some null), the
    extra-usage block and the `limits[]` rows, the scoped ones resetting at their own times."""
    body: dict[str, Any] = {
        "five_hour": {"utilization": 71.0, "resets_at": iso(now + 50 * 60)},
        "seven_day": {"utilization": 41.0, "resets_at": iso(now + 3 * 86400)},
        "seven_day_oauth_apps": None,
        "seven_day_opus": None,
        "seven_day_sonnet": {"utilization": 88.0, "resets_at": iso(now + 2 * 86400)},
        "extra_usage": {"is_enabled": extra_enabled, "monthly_limit": 5000, "used_credits": 1240,
                        "utilization": 24.8, "currency": "USD"},
        "limits": [
            limit_row("session", 71, iso(now + 50 * 60), severity="warning", active=True),
            limit_row("weekly_all", 41, iso(now + 3 * 86400)),
            limit_row("weekly_scoped", 88, iso(now + 2 * 86400), model="Sonnet", severity="warning"),
            limit_row("weekly_scoped", 30, iso(now + 4 * 86400 + 1800), model="Opus"),
            limit_row("weekly_scoped", 12, iso(now + 86400), surface="Claude Design"),  # a surface: no model's
            limit_row("monthly_mystery", 50, iso(now + 86400)),
        ],
    }
    body.update(windows_over)
    return body


def write_claude_json(now: float, fetched_ago_s: float = 60, **over: Any) -> None:
    doc = {"numStartups": 7, "cachedUsageUtilization": {
        "fetchedAtMs": int((now - fetched_ago_s) * 1000), "accountUuid": "acc-1",
        "utilization": usage_body(now, **over)}}
    Path(paths.claude_json_path()).write_text(json.dumps(doc))


def stored(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT window, used_pct, round(resets_at), source FROM captures ORDER BY window").fetchall()


def parse(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_claude_json_gives_every_window_with_its_own_reset_and_extra_usage() -> None:
    now = time.time()
    write_claude_json(now)
    conn = db.connect()
    with db.transaction(conn):
        official.import_claude_json(conn, now, 60)
    body = usage_body(now)
    assert stored(conn) == [
        ("five_hour", 71.0, round(parse(body["five_hour"]["resets_at"])), "claude.json"),
        ("seven_day", 41.0, round(parse(body["seven_day"]["resets_at"])), "claude.json"),
        ("seven_day_opus", 30.0, round(parse(body["limits"][3]["resets_at"])), "claude.json"),  # from limits[] only
        ("seven_day_sonnet", 88.0, round(parse(body["seven_day_sonnet"]["resets_at"])), "claude.json"),
    ]  # the null windows, the surface row, the unknown kind and extra_usage's own "utilization" are no window
    assert conn.execute("SELECT window, display_name FROM window_labels ORDER BY window").fetchall() == [
        ("seven_day_opus", "Opus"), ("seven_day_sonnet", "Sonnet")]
    extra = official.latest_extra(conn, now)
    assert extra is not None and extra._replace(captured_at=0) == windows.Extra(True, 5000.0, 1240.0, 24.8, "USD", 0,
                                                                                 "claude.json")
    assert extra.captured_at == pytest.approx(now - 60, abs=0.01)  # the fetch's time, not the read's


def test_a_stale_claude_json_adds_no_window_and_a_missing_one_changes_nothing() -> None:
    now = time.time()
    conn = db.connect()
    with db.transaction(conn):
        assert official.import_claude_json(conn, now, 60) == []  # no file
    write_claude_json(now, fetched_ago_s=2 * 3600)
    with db.transaction(conn):
        assert official.import_claude_json(conn, now, 60) == []
    assert stored(conn) == [] and official.latest_extra(conn, now) is None


def test_status_line_rate_limits_with_null_and_missing_windows() -> None:
    now = time.time()
    conn = db.connect()
    with db.transaction(conn):
        official.record_rate_limits(conn, {"five_hour": None, "seven_day": {"used_percentage": 41,
                                                                            "resets_at": int(now + 86400)}}, now, "s-1")
        official.record_rate_limits(conn, {}, now + 1, "s-1")
        official.record_rate_limits(conn, None, now + 2, "s-1")
    assert [r[:2] for r in stored(conn)] == [("seven_day", 41.0)]
    state = budget_state.compute(conn, load_config(), now + 3)
    assert [w.spec.name for w in state.windows] == ["seven_day"] and state.pace.spec.name == "seven_day"


def test_extra_usage_off_is_kept_but_never_shown_or_spilled_into() -> None:
    now = time.time()
    write_claude_json(now, extra_enabled=False)
    conn = db.connect()
    with db.transaction(conn):
        official.import_claude_json(conn, now, 60)
    extra = official.latest_extra(conn, now)
    assert extra is not None and extra.is_enabled is False
    assert windows.extra_text(extra) is None and not windows.spills(1.3, extra)
    on = extra._replace(is_enabled=True)
    assert windows.extra_text(on) == "extra usage $12.40 of $50.00 this month" and windows.spills(1.3, on)
    assert not windows.spills(0.99, on)


def sonnet_rows(session: str, units: int, at: float, tag: str) -> list[dict[str, Any]]:
    return [assistant_row(message_id=f"msg_{tag}", request_id=f"req_{tag}", session_id=session, timestamp=iso(at),
                          model=SONNET_MODEL, input_tokens=units, output_tokens=0, cache_creation=0, cache_read=0)]


def opus_rows(session: str, units: int, at: float, tag: str) -> list[dict[str, Any]]:
    return [assistant_row(message_id=f"msg_{tag}", request_id=f"req_{tag}", session_id=session, timestamp=iso(at),
                          model=OPUS, input_tokens=units, output_tokens=0, cache_creation=0, cache_read=0)]


def ingested(now: float) -> sqlite3.Connection:
    conn = db.connect()
    ledger.ingest(conn, paths.transcript_roots(), parallel=False)
    with db.transaction(conn):
        official.import_claude_json(conn, now, 60)
    return conn


def test_each_window_gets_spent_projection_band_and_the_scoped_one_counts_its_models_only() -> None:
    now = time.time()
    write_transcript(projects_root(), PROJECT, "s-mix", [
        *opus_rows("s-mix", 40_000, now - 1800, "o1"), *sonnet_rows("s-mix", 20_000, now - 1700, "s1")])
    write_claude_json(now)
    conn = ingested(now)
    config = load_config()
    state = budget_state.compute(conn, config, now)
    by_name = {w.spec.name: w for w in state.windows}
    assert list(by_name) == ["seven_day", "five_hour", "seven_day_opus", "seven_day_sonnet"]
    sonnet, opus = by_name["seven_day_sonnet"], by_name["seven_day_opus"]
    everything = usage.weighted_between(conn, config, None, None)
    assert sonnet.spent.units == pytest.approx(everything - 40_000)  # Opus input weighs 1.0: 40k units
    assert opus.spent.units == pytest.approx(40_000)
    assert sonnet.reset.timestamp() == pytest.approx(parse(usage_body(now)["seven_day_sonnet"]["resets_at"]), abs=1)
    assert opus.reset != sonnet.reset != state.week.reset  # each scoped week resets at its own time
    assert sonnet.spent.source == "official" and sonnet.spent.fraction == pytest.approx(0.88)
    assert sonnet.projected > sonnet.spent.fraction  # its own units over its own rate window
    five = by_name["five_hour"]
    assert five.reset.timestamp() - five.start.timestamp() == 5 * 3600
    # The 5-hour window's bands are its own (warn-only, no ceiling).
    assert (five.band is None) == (five.projected < 1.0) and (five.band is None or five.band.ceiling_tokens == 0)
    assert state.extra is not None and state.extra.used_credits == 1240
    data = budget_state.as_json(state)
    assert [w["label"] for w in data["windows"]] == [
        "Current week (all models)", "Current session", "Current week (Opus)", "Current week (Sonnet only)"]
    assert [w["binding"] for w in data["windows"]].count(True) == 1
    assert data["binding"] == state.pace.spec.name


def test_a_scoped_window_whose_reset_passed_is_not_a_window_any_more() -> None:
    now = time.time()
    conn = db.connect()
    with db.transaction(conn):
        official.record(conn, Capture("seven_day_sonnet", 97.0, now - 3600, now - 3 * 86400, "claude.json"))
        official.record(conn, Capture("five_hour", 90.0, now - 60, now - 3 * 3600, "statusline"))
        official.record(conn, Capture("five_hour_manual", 90.0, None, now - 6 * 3600, "manual"))
        # A manual Sonnet figure without a reset, typed in two cycles ago: it says nothing of this week.
        official.record(conn, Capture("seven_day_sonnet", 50.0, None, now - 15 * 86400, "manual"))
    state = budget_state.compute(conn, load_config(), now)
    assert [w.spec.name for w in state.windows] == ["seven_day"]


def test_a_manual_five_hour_capture_without_a_reset_rolls_over_after_five_hours() -> None:
    now = time.time()
    conn = db.connect()
    with db.transaction(conn):
        official.record(conn, Capture("five_hour", 40.0, None, now - 6 * 3600, "manual"))
    assert [w.spec.name for w in budget_state.compute(conn, load_config(), now).windows] == ["seven_day"]
    with db.transaction(conn):
        official.record(conn, Capture("five_hour", 45.0, None, now - 3600, "manual"))
    five = budget_state.compute(conn, load_config(), now).windows[1]
    assert (five.spec.name, five.reset_source) == ("five_hour", "manual")
    assert five.reset.timestamp() == pytest.approx(now + 4 * 3600)


# --- what is said: pacing messages (pure, whole) ---------------------------------------------------------

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def advice(**kw: Any) -> pacing_messages.Advice:
    base: dict[str, Any] = {"spent": 0.71, "source": "official", "projected": 1.3, "now": NOW, "zone": UTC}
    return pacing_messages.Advice(**{**base, **kw})


def test_the_five_hour_message_says_when_it_hits_the_limit_and_advises_a_pause_or_codex() -> None:
    from datetime import timedelta

    a = advice(reset=NOW + timedelta(minutes=90), subject="5-hour window", kind="session",
               hits_at=NOW + timedelta(minutes=40), codex=True)
    assert pacing_messages.person_message(a) == (
        "governor: 5-hour window 71% used (official), on pace to hit the limit at 14:40, 50m before it resets. "
        "Pause until it resets at 15:30 or move the next task to Codex; /compact alone will "
        "not stop it.")
    assert pacing_messages.model_context(a) == (
        "Usage limit (governor): the 5-hour window is 71% used (official); at the recent rate it is on pace to "
        "hit the limit at 14:40, 50m before it resets. Pause until it resets at 15:30 or move the next task to "
        "Codex; /compact alone will not stop it. Keep the context small; prefer /compact or a "
        "fresh session for a new task. Avoid re-reading large files or printing long outputs.")
    no_codex = pacing_messages.person_message(a._replace(codex=False))
    assert no_codex.endswith("Pause until it resets at 15:30; /compact alone will not stop it.")


def test_a_binding_sonnet_week_names_itself_and_the_opus_week_with_headroom() -> None:
    from datetime import timedelta

    a = advice(spent=0.88, projected=1.04, reset=NOW + timedelta(days=2), subject="Sonnet week",
               kind="weekly_scoped", headroom="Opus week has headroom (30%)", model_alias="opus")
    assert pacing_messages.person_message(a) == (
        "governor: Sonnet week 88% used (official), on pace for 104% by reset Fri 14:00 UTC (in 2d 0h). "
        "Opus week has headroom (30%): /model opus for what is left.")
    blocked = pacing_messages.clamp_reason(a._replace(context_tokens=500_000, ceiling_tokens=450_000))
    assert blocked.startswith("governor: paused this prompt: the Sonnet week cap is 88% used (official), resets ")


def test_a_projection_past_the_limit_with_extra_usage_on_says_it_turns_paid() -> None:
    from datetime import timedelta

    a = advice(spent=0.61, projected=1.12, reset=NOW + timedelta(days=3),
               extra_usage="extra usage $12.40 of $50.00 this month")
    assert pacing_messages.person_message(a) == (
        "governor: week 61% used (official), on pace for 112% by reset Sat 14:00 UTC (in 3d 0h). "
        "Past the limit it runs on paid extra usage (extra usage $12.40 of $50.00 this month).")


# --- the status line ---------------------------------------------------------------------------------------


def test_render_puts_the_binding_window_first() -> None:
    five = render.Binding("5h", 0.71, "official", 1.04, [{"projected_at": 1.0}])
    assert render.render(0.41, "official", 0.6, BANDS, five_hour_pct=71, context=90_000, binding=five,
                         scoped=[("Sonnet", 12)]) == (
        "5h 71% official → 104% at reset · wk 41% official · Sonnet 12% · ctx 90k")
    assert render.render(0.61, "official", 0.94, BANDS, five_hour_pct=22, scoped=[("Sonnet", 88)],
                         extra="extra $12.40/$50.00") == (
        "wk 61% official → 94% at reset · 5h 22% · Sonnet 88% · extra $12.40/$50.00")
    sonnet = render.Binding("Sonnet", 0.88, "calibrated", 1.04, BANDS)
    assert render.render(0.61, "official", 0.94, BANDS, binding=sonnet, color=True) == (
        "\x1b[31mSonnet 88% calibrated → 104% at reset\x1b[0m · \x1b[33mwk 61% official\x1b[0m")


def busy_last_hour(now: float, units: int = 50_000) -> None:
    write_transcript(projects_root(), PROJECT, "69ef0a1c-sess", opus_rows("69ef0a1c-sess", units, now - 1800, "b1"))


def run_statusline(payload: Any) -> str:
    proc = run_cli("statusline", input=json.dumps(payload), env={"NO_COLOR": "1"})
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return lines[0]


def test_the_status_line_leads_with_a_binding_five_hour_window() -> None:
    now = time.time()
    busy_last_hour(now)
    rate_limits = {"five_hour": {"used_percentage": 71, "resets_at": int(now + 50 * 60)},
                   "seven_day": {"used_percentage": 41, "resets_at": int(now + 2 * 3600)}}
    line = run_statusline(status_payload(rate_limits))
    # All of the window's local use fell in its last hour: 71 % in one hour, 50 min left -> ~130 %.
    assert re.fullmatch(r"5h 71% official → 1[23]\d% at reset · wk 41% official · ctx 33\.2k", line), line


def test_the_status_line_shows_scoped_weeks_and_extra_usage_from_claude_json() -> None:
    now = time.time()
    write_claude_json(now, fetched_ago_s=30, five_hour=None,
                      limits=[limit_row("weekly_scoped", 30, iso(now + 4 * 86400), model="Opus")])
    line = run_statusline(status_payload(None))
    # The Sonnet week is 88 % used and projects no further (no Sonnet use here): it binds over the week's 41 %.
    assert line == ("Sonnet 88% official → 88% at reset · wk 41% official · Opus 30% · extra $12.40/$50.00 · ctx 33.2k")


def test_the_status_line_without_extra_usage_enabled_shows_no_credits() -> None:
    now = time.time()
    write_claude_json(now, fetched_ago_s=30, extra_enabled=False, limits=[], seven_day_sonnet=None, five_hour=None)
    assert run_statusline(status_payload(None)) == "wk 41% official → 41% at reset · ctx 33.2k"


# --- governor status -----------------------------------------------------------------------------------


@pytest.fixture
def utc_zone(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_status_lists_every_window_on_its_own_line(utc_zone: None) -> None:
    d = {"windows": [
        {"label": "Current week (all models)", "kind": "weekly_all", "binding": False, "used_pct": 41.0,
         "source": "official", "capture_source": "claude.json", "capture_age_s": 120.0, "projected_pct": 58.4,
         "hits_limit_at": None, "spills_into_extra_usage": False, "reset": "2026-12-05T09:00:00+00:00"},
        {"label": "Current session", "kind": "session", "binding": True, "used_pct": 71.0, "source": "official",
         "capture_source": "statusline", "capture_age_s": 30.0, "projected_pct": 130.0,
         "hits_limit_at": "2026-12-02T14:40:00+00:00", "spills_into_extra_usage": True,
         "reset": "2026-12-02T15:30:00+00:00"},
        {"label": "Current week (Sonnet only)", "kind": "weekly_scoped", "binding": False, "used_pct": 88.0,
         "source": "calibrated", "capture_source": "manual", "capture_age_s": 5400.0, "projected_pct": 96.0,
         "hits_limit_at": None, "spills_into_extra_usage": False, "reset": "2026-12-04T09:00:00+00:00"},
        {"label": "Current week (Opus)", "kind": "weekly_scoped", "binding": False, "used_pct": 3.0,
         "source": "local estimate", "capture_source": None, "capture_age_s": None, "projected_pct": 4.0,
         "hits_limit_at": None, "spills_into_extra_usage": False, "reset": "2026-12-05T09:00:00+00:00"},
    ], "extra_usage": {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1240, "utilization": 24.8,
                       "currency": "USD", "source": "claude.json", "captured_at": 0}}
    assert "\n".join(status.window_lines(d)).split("\n") == [
        '',
        '  window (▸ binds)            used  provenance                         projection         '
        '                          reset',
        '----------------------------  ----  ---------------------------------  -------------------'
        '------------------------  --------------------',
        '  Current week (all models)    41%  official (claude.json, 2 min old)  → 58% at reset     '
        '                          resets Sat 09:00 UTC',
        '▸ Current session              71%  official (statusline, 0 min old)   hits the limit 14:4'
        '0 UTC (into extra usage)  resets 15:30 UTC',
        '  Current week (Sonnet only)   88%  calibrated (manual, 90 min old)    → 96% at reset     '
        '                          resets Fri 09:00 UTC',
        '  Current week (Opus)           3%  local estimate                     → 4% at reset      '
        '                          resets Sat 09:00 UTC',
        'extra     $12.40 of $50.00 extra usage this month (claude.json): past a limit, use is billed',
    ]


def test_status_json_has_the_windows_as_a_list() -> None:
    now = time.time()
    write_claude_json(now, fetched_ago_s=30)
    proc = run_cli("status", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    names = [(w["name"], w["label"], w["source"], w["capture_source"]) for w in data["windows"]]
    assert names == [
        ("seven_day", "Current week (all models)", "official", "claude.json"),
        ("five_hour", "Current session", "official", "claude.json"),
        ("seven_day_opus", "Current week (Opus)", "official", "claude.json"),
        ("seven_day_sonnet", "Current week (Sonnet only)", "official", "claude.json"),
    ]
    # No local use: nothing moves, so the 88 % Sonnet week projects worst.
    assert data["binding"] == "seven_day_sonnet"
    assert [w["name"] for w in data["windows"] if w["binding"]] == ["seven_day_sonnet"]
    assert data["extra_usage"]["used_credits"] == 1240 and data["extra_usage"]["is_enabled"] is True
    text = run_cli("status", env={"NO_COLOR": "1"})
    assert text.returncode == 0, text.stderr
    assert "▸ Current week (Sonnet only)   88%  official (claude.json, 1 min old)" in text.stdout or (
        "▸ Current week (Sonnet only)   88%  official (claude.json, 0 min old)" in text.stdout), text.stdout
    assert "extra     $12.40 of $50.00 extra usage this month (claude.json)" in text.stdout


# --- governor calibrate --sonnet / --model ----------------------------------------------------------


def test_calibrate_records_the_scoped_weeks_by_hand() -> None:
    proc = run_cli("calibrate", "--sonnet", "88", "--model", "Opus=30", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [(r["window"], r["used_pct"], r["source"]) for r in data["recorded"]] == [
        ("seven_day_sonnet", 88.0, "manual"), ("seven_day_opus", 30.0, "manual")]
    assert [w["label"] for w in data["windows"]] == [
        "Current week (all models)", "Current week (Opus)", "Current week (Sonnet only)"]
    assert data["binding"] == "seven_day_sonnet"
    text = run_cli("calibrate", "--model", "Fable 5=12")
    assert text.returncode == 0, text.stderr
    assert "Current week (Fable 5): 12% (official); on pace for 12% at reset" in text.stdout


@pytest.mark.parametrize(("args", "error"), [
    ((), "give at least one figure from /usage"),
    (("--model", "Opus"), "--model takes NAME=PCT"),
    (("--model", "=40"), "--model takes NAME=PCT"),
    (("--model", "Opus=140"), "--model Opus must be a percentage from 0 to 100"),
    (("--sonnet", "12", "--model", "sonnet=40"), "each model's week may be given once"),
])
def test_calibrate_rejects_bad_model_figures_in_one_line(args: tuple[str, ...], error: str) -> None:
    proc = run_cli("calibrate", *args)
    assert proc.returncode != 0 and error in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not Path(paths.ledger_path()).exists() or sqlite3.connect(paths.ledger_path()).execute(
        "SELECT COUNT(*) FROM captures").fetchone()[0] == 0


# --- the pacing hook acts on the binding window --------------------------------------------------


def hook_payload(prompt: str, transcript: Path) -> dict[str, Any]:
    return {"session_id": "69ef0a1c-sess", "transcript_path": str(transcript), "cwd": "/home/dev/proj",
            "prompt_id": "p-1", "permission_mode": "default", "hook_event_name": "UserPromptSubmit", "prompt": prompt}


def test_the_prompt_hook_speaks_about_a_binding_five_hour_window() -> None:
    now = time.time()
    write_budget(lanes={"codex": {"enabled": False}}, router={"mode": "off"})
    path = write_transcript(projects_root(), PROJECT, "69ef0a1c-sess",
                            opus_rows("69ef0a1c-sess", 50_000, now - 1800, "h1"))
    conn = db.connect()
    with db.transaction(conn):
        official.record_rate_limits(conn, {"five_hour": {"used_percentage": 71, "resets_at": int(now + 50 * 60)},
                                           "seven_day": {"used_percentage": 41, "resets_at": int(now + 2 * 3600)}},
                                    now, "69ef0a1c-sess")
    conn.close()
    out = run_hook("user_prompt_submit.py", hook_payload("add a docstring", path))
    assert out.returncode == 0, out.stderr
    said = json.loads(out.stdout)
    assert re.fullmatch(
        r"governor: 5-hour window 71% used \(official\), on pace to hit the limit at \d\d:\d\d, \d+m before it "
        r"resets\. Pause until it resets at \d\d:\d\d; /compact alone will not stop it\.", said["systemMessage"]), said
    value = json.loads(sqlite3.connect(paths.ledger_path()).execute(
        "SELECT value FROM hook_state WHERE guard='pacing'").fetchone()[0])
    assert value["window"] == "five_hour" and value["severity"] == 2  # ~130 %: over the 125 % band
    again = run_hook("user_prompt_submit.py", hook_payload("and another", path))
    assert again.returncode == 0 and not again.stdout.strip()  # the same window and band: said once


# --- the ledger schema --------------------------------------------------------------------------------


def test_a_schema_10_ledger_gains_the_window_tables_without_reading_anything_again(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.sqlite3")
    conn = db.connect(path)
    conn.execute("DROP TABLE window_labels")
    conn.execute("DROP TABLE extra_usage")
    conn.execute("INSERT INTO captures(window, used_pct, captured_at, source) VALUES('seven_day', 41, 1, 'manual')")
    conn.execute("INSERT INTO files(path, kind, dev, ino, offset, size, mtime_ns) VALUES('/t.jsonl', 'claude', 1, 2,"
                 " 500, 500, 0)")
    conn.execute("PRAGMA user_version=10")
    conn.close()
    upgraded = db.connect(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION == 12
    assert upgraded.execute("SELECT COUNT(*) FROM window_labels").fetchone() == (0,)
    assert upgraded.execute("SELECT COUNT(*) FROM extra_usage").fetchone() == (0,)
    assert upgraded.execute("SELECT window, used_pct FROM captures").fetchall() == [("seven_day", 41.0)]
    assert upgraded.execute("SELECT offset, dev FROM files").fetchall() == [(500, 1)]  # transcripts not re-read
    assert not list(tmp_path.glob("*.broken-*"))


def test_the_shared_suffix_sums_equal_the_direct_ones_exactly() -> None:
    """budget_state reads every window's units as differences of sums from shared moments: they must be
    the very figures a direct query gives, for any range and model family."""
    now = time.time()
    rows = []
    for i in range(60):  # a response every 37 minutes over the last ~37 hours, models alternating
        at, tag = now - i * 37 * 60 - 11, f"m{i}"
        rows += (sonnet_rows if i % 3 == 0 else opus_rows)("s-suffix", 1000 + 17 * i, at, tag)
    write_transcript(projects_root(), PROJECT, "s-suffix", rows)
    conn = db.connect()
    ledger.ingest(conn, paths.transcript_roots(), parallel=False)
    config = load_config()
    meter = usage.Suffix(conn, config, now + 1)
    moments = [now - 40 * 3600, now - 24 * 3600 - 5, now - 5 * 3600 + 0.5, now - 3600, now - 61, now + 1]
    for a in moments:
        for b in moments:
            for family in (None, "sonnet", "opus", "haiku"):
                direct = usage.weighted_between(conn, config, a, b, family) if b > a else 0.0
                assert meter.between(a, b, family) == direct, (a, b, family)


def test_the_run_check_names_the_binding_window_too() -> None:
    from datetime import timedelta

    from governor.policy import run_messages
    from governor.policy.run_pacing import RunFacts, Say

    a = advice(reset=NOW + timedelta(minutes=90), subject="5-hour window", kind="session",
               hits_at=NOW + timedelta(minutes=40))
    model, person = run_messages.messages(Say(band=True), a, RunFacts(NOW.timestamp() - 600, NOW.timestamp(), 3, 0.0))
    assert model == (
        "governor: The 5-hour window is on pace to hit the limit at 14:40, 50m before it resets; 71% used "
        "(official). Keep this run lean: avoid re-reading large files and printing long outputs.")
    assert person == ("governor: 5-hour window 71% used (official), on pace to hit the limit at 14:40, 50m before "
                      "it resets. Pause until it resets at 15:30; /compact alone will not stop it.")
    week = advice(spent=0.61, projected=1.12, reset=NOW + timedelta(days=3))
    model, _person = run_messages.messages(Say(band=True), week, RunFacts(0, 1, 1, 0.0))
    assert model.startswith("governor: The week is on pace for 112% of the weekly cap by the reset, Sat 14:00 UTC")


def test_each_window_keeps_its_own_hysteresis() -> None:
    """A binding window that changes back and forth is not news each time: what was said about each window
    is kept apart; a state from before windows were named was about the all-models week."""
    legacy = {"severity": 2, "at": 100.0}
    assert budget_state.last_said(legacy, "seven_day") == (2, 100.0)
    assert budget_state.last_said(legacy, "five_hour") is None
    now = time.time()
    conn = db.connect()
    with db.transaction(conn):
        official.record(conn, Capture("five_hour", 99.0, now + 600, now, "statusline"))
    state = budget_state.compute(conn, load_config(), now)
    assert state.pace.spec.name == "five_hour"
    value = budget_state.said(state, 200.0, legacy)
    assert value["window"] == "five_hour" and value["said"] == {"seven_day": [2, 100.0],
                                                                "five_hour": [value["severity"], 200.0]}
    assert budget_state.last_said(value, "seven_day") == (2, 100.0)  # back to the week: the same band, not news
    assert budget_state.last_said(value, "five_hour") == (value["severity"], 200.0)
    assert budget_state.last_said(value, "seven_day_sonnet") is None
    assert budget_state.last_said("junk", "seven_day") is None
