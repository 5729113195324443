"""`governor statusline` as Claude Code runs it: real-shaped status-line JSON on stdin, a subprocess,
the captures it leaves in the ledger and the line it prints."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governor.statusline import render
from tests.helpers import run_cli
from tests.official_fixtures import (
    iso,
    ledger_rows,
    status_payload,
    units_rows,
    window,
    write_budget,
    write_session,
)

EPOCH_LEAK = 1795844861  # the reset timestamp leaked into used_percentage (issues 52326, 60263)
PLAIN = {"NO_COLOR": "1"}


def run_statusline(payload: Any, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return run_cli("statusline", input=data, env={**PLAIN, **(env or {})}, timeout=timeout)


def captures() -> list[tuple[Any, ...]]:
    return ledger_rows("SELECT window, used_pct, source, session_id FROM captures ORDER BY window")


def only_line(proc: Any) -> str:
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return lines[0]


def test_rate_limits_are_captured_and_shown_as_official() -> None:
    payload = status_payload({"five_hour": window(22, 3600), "seven_day": window(61)}, context=182_000)
    line = only_line(run_statusline(payload))
    assert line == "wk 61% official → 61% at reset · 5h 22% · ctx 182k"
    assert captures() == [("five_hour", 22.0, "statusline", "69ef0a1c-sess"),
                          ("seven_day", 61.0, "statusline", "69ef0a1c-sess")]
    only_line(run_statusline(payload))  # unchanged figures refresh the capture, no new row
    assert len(captures()) == 2


def test_a_redraw_with_unchanged_figures_writes_nothing_until_the_reading_is_half_a_minute_old() -> None:
    payload = status_payload({"seven_day": window(61)})
    assert only_line(run_statusline(payload)).startswith("wk 61% official")
    ledger = Path(os.environ["GOVERNOR_HOME"]) / "ledger.sqlite3"
    (stamp,), = ledger_rows("SELECT captured_at FROM captures")
    stored = ledger.read_bytes()
    assert only_line(run_statusline(payload)).startswith("wk 61% official")
    assert ledger_rows("SELECT captured_at FROM captures") == [(stamp,)]  # not refreshed: nothing written
    assert ledger.read_bytes() == stored
    conn = sqlite3.connect(ledger)
    with conn:
        conn.execute("UPDATE captures SET captured_at = captured_at - 31")  # the reading is now 31 s old
    conn.close()
    before = time.time()
    assert only_line(run_statusline(payload)).startswith("wk 61% official")
    (refreshed,), = ledger_rows("SELECT captured_at FROM captures")
    assert refreshed >= before
    changed = status_payload({"seven_day": window(62)})  # a new figure is stored at once, whatever its age
    assert only_line(run_statusline(changed)).startswith("wk 62% official")
    assert [pct for pct, in ledger_rows("SELECT used_pct FROM captures ORDER BY captured_at")] == [61.0, 62.0]


def test_without_rate_limits_the_line_is_a_local_estimate() -> None:
    line = only_line(run_statusline(status_payload(None)))
    assert line.startswith("wk 0% local est. → 0% at reset")
    assert "5h" not in line and "ctx 33.2k" in line
    assert captures() == []


@pytest.mark.parametrize(
    ("rate_limits", "expected"),
    [
        ({"five_hour": window(22, 3600), "seven_day": window(EPOCH_LEAK)}, [("five_hour", 22.0)]),
        ({"five_hour": window(EPOCH_LEAK, 3600), "seven_day": window(40)}, [("seven_day", 40.0)]),
        ({"five_hour": window(22, 3600), "seven_day": window(61, -60)}, [("five_hour", 22.0)]),  # reset passed
        ({"five_hour": None, "seven_day": window(61)}, [("seven_day", 61.0)]),
        ({"five_hour": window(100.6, 3600), "seven_day": {"used_percentage": None, "resets_at": None}},
         [("five_hour", 100.0)]),
        ({"five_hour": window(-1, 3600), "seven_day": window("61")}, []),
    ],
    ids=["epoch-leak-week", "epoch-leak-5h", "past-reset", "null-window", "rounding-and-nulls", "junk"],
)
def test_impossible_stale_and_null_windows_are_ignored(rate_limits: dict[str, Any],
                                                       expected: list[tuple[str, float]]) -> None:
    line = only_line(run_statusline(status_payload(rate_limits)))
    assert [(w, pct) for w, pct, _s, _id in captures()] == expected
    week = next(part for part in line.split(" · ") if part.startswith("wk "))  # another window may bind first
    assert ("official" in week) == any(w == "seven_day" for w, _ in expected)
    assert "local est." in line or "official" in line


def _claude_json(fetched_ago_s: float, **extra: Any) -> None:
    now = time.time()
    body = {"numStartups": 42, "cachedUsageUtilization": {
        "fetchedAtMs": int((now - fetched_ago_s) * 1000), "accountUuid": "acc-1",
        "utilization": {"five_hour": {"utilization": 22.0, "resets_at": iso(now + 3600)},
                        "seven_day": {"utilization": 61.0, "resets_at": iso(now + 3 * 86400)},
                        "seven_day_sonnet": {"utilization": 12.0, "resets_at": iso(now + 3 * 86400)},
                        "seven_day_opus": None, "seven_day_oauth_apps": None, **extra}}}
    (Path(os.environ["CLAUDE_CONFIG_DIR"]) / ".claude.json").write_text(json.dumps(body))


def test_fresh_claude_json_cache_is_an_official_source_with_per_model_windows() -> None:
    _claude_json(fetched_ago_s=120)
    line = only_line(run_statusline(status_payload(None)))
    assert line.startswith("wk 61% official") and "5h 22%" in line
    assert captures() == [("five_hour", 22.0, "claude.json", None), ("seven_day", 61.0, "claude.json", None),
                          ("seven_day_sonnet", 12.0, "claude.json", None)]


def test_stale_claude_json_cache_is_ignored() -> None:
    _claude_json(fetched_ago_s=2 * 3600)  # calibration.claude_json_max_age_minutes defaults to 60
    line = only_line(run_statusline(status_payload(None)))
    assert line.startswith("wk 0% local est.")
    assert captures() == []


def test_status_line_figures_win_over_an_older_claude_json() -> None:
    _claude_json(fetched_ago_s=600)
    line = only_line(run_statusline(status_payload({"seven_day": window(64)})))
    assert line.startswith("wk 64% official")


def test_provenance_turns_calibrated_once_the_capture_ages() -> None:
    assert run_cli("calibrate", "--week", "30", "--at", iso(time.time() - 3600)).returncode == 0
    assert only_line(run_statusline(status_payload(None))).startswith("wk 30% calibrated → ")


def test_this_sessions_transcript_is_ingested_incrementally() -> None:
    write_budget(caps={"max20x": 1_000_000})
    now = time.time()
    path = write_session("sess-a", [(100_000, now - 3600)])
    payload = status_payload(None, session="sess-a", transcript=str(path))
    assert only_line(run_statusline(payload)).startswith("wk 10% local est.")
    with path.open("a") as fh:
        fh.write(json.dumps(units_rows("sess-a", 50_000, now - 60, "late")[0]) + "\n")
    assert only_line(run_statusline(payload)).startswith("wk 15% local est.")
    assert ledger_rows("SELECT COUNT(*), SUM(input) FROM usage") == [(2, 150_000)]


def test_subagent_transcripts_of_the_session_are_ingested_too() -> None:
    write_budget(caps={"max20x": 1_000_000})
    path = write_session("sess-b", [(100_000, time.time() - 3600)])
    agent = path.with_suffix("") / "subagents" / "agent-a1.jsonl"
    agent.parent.mkdir(parents=True)
    row = units_rows("sess-b", 20_000, time.time() - 600, "agent")[0]
    agent.write_text(json.dumps({**row, "isSidechain": True}) + "\n")
    assert only_line(run_statusline(status_payload(None, session="sess-b", transcript=str(path)))).startswith(
        "wk 12% local est.")


def test_a_large_backlog_is_left_to_the_hooks() -> None:
    path = write_session("sess-c", [(100_000, time.time() - 3600)])
    filler = json.dumps({"type": "user", "message": {"role": "user", "content": "x" * 10_000}}) + "\n"
    with path.open("a") as fh:
        fh.write(filler * 900)  # ~9 MB never ingested: more than one refresh should read
    only_line(run_statusline(status_payload(None, session="sess-c", transcript=str(path))))
    assert ledger_rows("SELECT COUNT(*) FROM usage") == [(0,)]


def test_transcript_outside_the_claude_dirs_is_not_ingested(tmp_path: Path) -> None:
    elsewhere = tmp_path / "other" / "proj" / "s.jsonl"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text(json.dumps(units_rows("s", 100_000, time.time() - 60, "x")[0]) + "\n")
    only_line(run_statusline(status_payload(None, transcript=str(elsewhere))))
    assert ledger_rows("SELECT COUNT(*) FROM usage") == [(0,)]


@pytest.mark.parametrize(("pct", "colour"), [(61, "32"), (95, "33"), (100, "31")])
def test_colour_follows_the_projection(pct: int, colour: str) -> None:
    proc = run_cli("statusline", input=json.dumps(status_payload({"seven_day": window(pct)})))
    assert proc.stdout.startswith(f"\x1b[{colour}mwk {pct}% official")


def test_no_color_means_plain_text() -> None:
    proc = run_statusline(status_payload({"seven_day": window(100)}, context=500_000))
    assert "\x1b" not in proc.stdout
    assert "ctx 500k/450k" in proc.stdout  # over the 1.0 band: its ceiling is shown


def test_codex_weekly_shown_only_when_fresh_and_enabled() -> None:
    only_line(run_statusline(status_payload(None)))  # creates the ledger
    now = time.time()
    conn = sqlite3.connect(Path(os.environ["GOVERNOR_HOME"]) / "ledger.sqlite3")
    conn.execute("INSERT INTO codex_limits VALUES('codex', 'weekly', 40.0, 10080, ?, ?, NULL, 'plus')",
                 (now + 86400, now - 600))
    conn.commit()
    assert only_line(run_statusline(status_payload(None))).endswith(" · codex wk 40%")
    write_budget(statusline={"show_codex": False})
    assert "codex" not in only_line(run_statusline(status_payload(None)))
    write_budget(lanes={"codex": {"enabled": False}})
    assert "codex" not in only_line(run_statusline(status_payload(None)))
    write_budget()
    codex_home = Path(os.environ["CODEX_HOME"])
    codex_home.rename(codex_home.with_name("codex-gone"))  # Codex removed from this machine
    assert "codex" not in only_line(run_statusline(status_payload(None)))
    codex_home.with_name("codex-gone").rename(codex_home)
    assert only_line(run_statusline(status_payload(None))).endswith(" · codex wk 40%")
    conn.execute("UPDATE codex_limits SET observed_at=?", (now - 7 * 3600,))
    conn.commit()
    conn.close()
    assert "codex" not in only_line(run_statusline(status_payload(None)))


READ_MODEL = f"{sys.executable} -c \"import json,sys; print('chained', json.load(sys.stdin)['model']['display_name'])\""


def test_chain_gets_the_same_stdin_and_prints_first() -> None:
    write_budget(statusline={"chain": READ_MODEL})
    proc = run_statusline(status_payload({"seven_day": window(61)}))
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["chained Opus 5.5", "wk 61% official → 61% at reset · ctx 33.2k"]


def test_failing_chain_still_shows_its_output_and_governors_line() -> None:
    write_budget(statusline={"chain": "echo partial; echo oops >&2; exit 3"})
    proc = run_statusline(status_payload(None))
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == "partial"
    assert proc.stdout.splitlines()[1].startswith("wk 0% local est.")


def test_slow_chain_is_cut_at_its_timeout() -> None:
    write_budget(statusline={"chain": "echo early; sleep 20; echo late", "chain_timeout_ms": 500})
    started = time.monotonic()
    proc = run_statusline(status_payload(None), timeout=15)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0 and "late" not in proc.stdout and "early" not in proc.stdout
    assert only_line(proc).startswith("wk 0% local est.")
    assert elapsed < 10  # the sleep's 20 s would show; the log says why
    assert "timed out after 500 ms" in (Path(os.environ["GOVERNOR_HOME"]) / "governor.log").read_text()


@pytest.mark.parametrize("stdin", ["{not json", "[1, 2]", "\x00\xff garbage"])
def test_garbage_stdin_fails_open(stdin: str) -> None:
    proc = run_statusline(stdin)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    assert "statusline failed open" in (Path(os.environ["GOVERNOR_HOME"]) / "governor.log").read_text()


def test_garbage_stdin_still_prints_the_chain() -> None:
    write_budget(statusline={"chain": "cat"})
    proc = run_statusline("{not json")
    assert proc.returncode == 0 and proc.stdout == "{not json\n"


def test_invalid_budget_fails_open_but_keeps_the_chain() -> None:
    budget = Path(os.environ["GOVERNOR_HOME"]) / "budget.json"
    budget.write_text('{"tier": "max99x"}')
    proc = run_statusline(status_payload({"seven_day": window(61)}))
    assert proc.returncode == 0 and proc.stdout == ""
    assert "governor's line skipped" in (Path(os.environ["GOVERNOR_HOME"]) / "governor.log").read_text()
    budget.write_text('{"tier": "max99x", "statusline": {"chain": "echo mine"}}')
    assert run_statusline(status_payload(None)).stdout == "mine\n"
    budget.write_text('{"statusline": {"chain": "echo mine"}')  # not even JSON
    assert run_statusline(status_payload(None)).stdout == ""


def test_kill_switch_leaves_only_the_chain() -> None:
    write_budget(statusline={"chain": "echo mine"})
    proc = run_statusline(status_payload({"seven_day": window(61)}), env={"GOVERNOR_DISABLE": "1"})
    assert proc.stdout == "mine\n"
    assert not (Path(os.environ["GOVERNOR_HOME"]) / "ledger.sqlite3").exists()


def test_warm_path_imports_neither_pydantic_nor_filelock() -> None:
    payload = json.dumps(status_payload({"seven_day": window(61)}))
    run_statusline(payload)  # the first run validates budget defaults (pydantic) and caches them
    proc = run_cli("statusline", input=payload, env={"PYTHONPROFILEIMPORTTIME": "1", **PLAIN})
    assert proc.stdout.startswith("wk 61% official")
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "governor.statusline.render" in imported
    assert not {m for m in imported if m.split(".")[0] in ("pydantic", "filelock", "platformdirs")}


def test_help() -> None:
    proc = run_cli("statusline", "--help")
    assert proc.returncode == 0 and "statusLine" in proc.stdout


# --- the pure renderer ----------------------------------------------------------------------------

BANDS = [{"projected_at": 1.3, "ceiling_tokens": 250_000}, {"projected_at": 1.0, "ceiling_tokens": 450_000}]


def test_render_full_line() -> None:
    line = render.render(0.61, "calibrated", 0.94, BANDS, five_hour_pct=22, context=182_000,
                             ceiling=350_000, codex_weekly_pct=40)
    assert line == "wk 61% calibrated → 94% at reset · 5h 22% · ctx 182k/350k · codex wk 40%"


@given(spent=st.floats(0, 5), extra=st.floats(0, 5),
       source=st.sampled_from(["official", "calibrated", "local estimate"]),
       five=st.none() | st.floats(0, 100), ctx=st.none() | st.integers(0, 2_000_000),
       ceiling=st.none() | st.integers(1, 1_000_000), codex=st.none() | st.floats(0, 100), color=st.booleans())
def test_render_is_one_short_line_with_its_provenance(spent: float, extra: float, source: str, five: float | None,
                                                      ctx: int | None, ceiling: int | None, codex: float | None,
                                                      color: bool) -> None:
    line = render.render(spent, source, spent + extra, BANDS, five, ctx, ceiling, codex, color)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
    assert "\n" not in line and plain.startswith("wk ") and len(plain) <= 80
    assert plain.split(" ")[2] == render.WORDS[source].split(" ")[0]
    assert ("\x1b[" in line) == color


def test_context_tokens_prefers_current_usage() -> None:
    assert render.context_tokens({"context_window": {"total_input_tokens": 9, "current_usage": {
        "input_tokens": 1, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 3}}}) == 6
    assert render.context_tokens({"context_window": {"total_input_tokens": 9, "current_usage": None}}) == 9
    assert render.context_tokens({"context_window": {"total_input_tokens": 0, "current_usage": None}}) is None
    assert render.context_tokens({}) is None


def test_cancelled_status_line_takes_its_chain_along(tmp_path: Path) -> None:
    """Claude Code cancels a running status line when a new refresh starts (SIGTERM): no orphan chain."""
    import signal
    import subprocess

    from tests.helpers import REPO_ROOT

    pidfile = tmp_path / "chain.pid"
    write_budget(statusline={"chain": f"echo $$ > {pidfile}; exec sleep 30", "chain_timeout_ms": 20_000})
    proc = subprocess.Popen([sys.executable, "-m", "governor", "statusline"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(status_payload(None)).encode())
    proc.stdin.close()
    deadline = time.monotonic() + 20
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    chain_pid = int(pidfile.read_text())
    time.sleep(0.5)  # let governor finish its own line and wait on the chain
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    while time.monotonic() < deadline:
        try:
            os.kill(chain_pid, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{chain_pid}/stat").read_text().split()[2] == "Z":
            break  # killed, waiting to be reaped
        time.sleep(0.05)
    else:
        pytest.fail("the chain outlived the cancelled status line")


def test_the_line_says_why_hand_off_work_stayed_on_claude() -> None:
    import time as _time

    from governor.meter import db

    conn = db.connect()
    conn.execute("INSERT INTO router_events(ts, session_id, decision, prompt_head, reason) VALUES(?,?,?,?,?)",
                 (_time.time() - 60, "sl-why", "skipped", "refactor the auth module", "codex weekly 91% >= 85%"))
    conn.close()
    out = run_cli("statusline", input=json.dumps({"session_id": "sl-why", "model": {"id": "claude-opus-4-5"}}),
                  env={"NO_COLOR": "1"})
    assert out.returncode == 0
    assert "kept on Claude: codex weekly 91% >= 85%" in out.stdout
    other = run_cli("statusline", input=json.dumps({"session_id": "someone-else"}), env={"NO_COLOR": "1"})
    assert "kept on Claude" not in other.stdout
