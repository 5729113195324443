"""`governor report`: the HTML file's embedded data and figures equal what `governor status / daily / sessions
--json` say about the same ledger; it needs no network; a missing plotly or session is one line, exit 2."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from governor import paths
from tests.helpers import REPO_ROOT, assistant_row, projects_root, run_cli, write_transcript

NOW = time.time()
BIG = "sess-big-0001"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def budget_with_cycle_started_days_ago(days: int = 3) -> None:
    """A cycle that opened `days` days ago at 00:00 UTC, so the generated week lies inside it whatever today is."""
    weekday = (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%A").lower()
    Path(paths.budget_path()).parent.mkdir(parents=True, exist_ok=True)
    Path(paths.budget_path()).write_text(json.dumps({"week": {"resets": {"weekday": weekday, "time": "00:00",
                                                                        "zone": "UTC"}}}))


def generated_ledger() -> None:
    """Four sessions over the last two days: a big one whose context climbs, is compacted and is resumed after
    40 idle minutes; a router hand-off and hold; a Codex response."""
    budget_with_cycle_started_days_ago()
    root = projects_root()
    t0 = NOW - 30 * 3600
    rows = []
    for i in range(30):
        ts = t0 + i * 60 + (40 * 60 if i >= 25 else 0)
        context = 20_000 + i * 15_000 if i < 20 else 30_000 + (i - 20) * 5_000
        rows.append(assistant_row(f"msg_b{i}", f"req_b{i}", session_id=BIG, timestamp=iso(ts), input_tokens=50,
                                  output_tokens=800, cache_creation=2_000, cache_read=context - 2_050))
    write_transcript(root, "-home-dev-api", BIG, rows)
    for n, (sid, count, model) in enumerate([("sess-mid-0002", 12, "claude-sonnet-4-5-20250929"),
                                             ("sess-small-03", 4, "claude-opus-4-5-20251101"),
                                             ("sess-tiny-004", 2, "claude-haiku-4-5-20251001")]):
        start = NOW - (8 + n * 10) * 3600
        write_transcript(root, f"-home-dev-web{n}", sid, [
            assistant_row(f"msg_{sid}_{i}", f"req_{sid}_{i}", session_id=sid, model=model,
                          timestamp=iso(start + i * 120), cache_read=5_000 * (i + 1)) for i in range(count)])
    from governor.meter import db

    db.connect().close()
    conn = sqlite3.connect(paths.ledger_path())
    conn.execute("INSERT INTO router_events(ts, session_id, decision) VALUES(?, 's', 'handoff')", (NOW - 7200,))
    conn.execute("INSERT INTO router_events(ts, session_id, decision) VALUES(?, 's', 'hold')", (NOW - 7100,))
    conn.execute("INSERT INTO codex_usage(key, ts, model, input, cached_input, output, reasoning, total)"
                 " VALUES('k1', ?, 'gpt-5', 1000, 0, 500, 0, 1500)", (NOW - 7000,))
    conn.commit()
    conn.close()


def embedded(html: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The report's data block and each figure's plotly JSON, parsed back out of the file."""
    def load(text: str) -> Any:
        return json.loads(text.replace("<\\/", "</"))

    data = load(re.search(r'<script type="application/json" id="governor-data">(.*?)</script>', html, re.S)[1])
    figs = {m[1]: load(m[2]) for m in re.finditer(
        r'<script type="application/json" class="governor-figure" data-key="(\w+)">(.*?)</script>', html, re.S)}
    return data, figs


def cli_json(*args: str) -> Any:
    proc = run_cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def days_args() -> list[str]:
    today = datetime.now().date()
    return ["--since", (today - timedelta(days=2)).isoformat(), "--until", today.isoformat()]


@pytest.fixture()
def report(tmp_path: Path) -> tuple[str, dict[str, Any], dict[str, dict[str, Any]]]:
    generated_ledger()
    out = tmp_path / "r.html"
    proc = run_cli("report", "--html", str(out), *days_args())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{out}\n"
    html = out.read_text()
    return html, *embedded(html)


def test_report_data_equals_status_daily_and_sessions_json(report: Any) -> None:
    html, data, figs = report
    status = cli_json("status")
    sessions = cli_json("sessions", *days_args())["sessions"]
    daily = cli_json("daily", *days_args())
    mine = data["status"]
    for key in ("window", "cap_units", "band", "ceiling_tokens", "tier", "five_hour", "week_days"):
        assert mine[key] == status[key], key
    assert mine["spent"]["units"] == status["spent"]["units"]
    assert mine["spent"]["source"] == status["spent"]["source"] == "local estimate"
    assert mine["projected"]["fraction"] == pytest.approx(status["projected"]["fraction"], rel=1e-3)
    assert mine["sessions"] == status["sessions"]
    assert [{k: v for k, v in s.items() if k not in ("marathon", "parts")} for s in data["sessions"]] == sessions
    assert [s["session_id"] for s in sessions] == [BIG, "sess-mid-0002", "sess-small-03", "sess-tiny-004"]
    assert data["days"]["daily"] == daily

    # The figures draw those numbers: bars in the sessions' order (largest on top), split summing to each total.
    bars = [t for t in figs["sessions"]["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars] == ["input", "cache write", "cache read", "output"]
    assert [c for c in bars[0]["customdata"]] == [s["session_id"] for s in reversed(sessions)]
    for i, s in enumerate(reversed(sessions)):
        assert sum(t["x"][i] for t in bars) == pytest.approx(s["weighted_units"], rel=1e-6)
    week = {t["name"]: t for t in figs["week"]["data"]}
    assert week["spent (local estimate)"]["y"][-1] == pytest.approx(status["spent"]["fraction"], rel=1e-4)
    assert week["projection at the recent rate"]["y"][-1] == pytest.approx(status["projected"]["fraction"], rel=1e-3)
    assert week["the cap"]["y"] == [1, 1]
    tokens = {t["name"]: t for t in figs["days"]["data"]}
    assert sum(tokens["notional USD"]["y"]) == pytest.approx(daily["totals"]["cost_usd"], rel=1e-6)
    raw = sum(daily["totals"][k] for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                           "cache_read_input_tokens"))
    assert sum(tokens["raw tokens"]["y"]) == raw

    # Captions state the numbers.
    top = sessions[0]
    assert f"the largest, {BIG[:8]}, {round(top['share'] * 100)}%" in html
    assert f"{round(status['spent']['fraction'] * 100)}% of the {status['tier']} cap spent (local estimate)" in html


def test_one_session_codex_and_router(report: Any) -> None:
    _html, data, figs = report
    one = data["one_session"]
    assert one["session"]["session_id"] == BIG
    curve = one["curve"]
    assert curve["responses"] == 30 and max(curve["context"]) == 305_000
    assert [(c["from"], c["to"]) for c in curve["compactions"]] == [(305_000, 30_000)]
    assert [r["idle_min"] for r in curve["resumes"]] == [41]
    names = [t["name"] for t in figs["session"]["data"]]
    assert names[0] == "context per response" and "compaction" in names and "resume" in names
    assert sum(1 for n in names if n.startswith("compaction ceiling")) == 3
    pie = figs["session_cost"]["data"][0]
    assert sum(pie["values"]) == pytest.approx(one["session"]["cost_usd"], rel=1e-3)
    rows = data["days"]["rows"]
    assert sum(r["handoff"] for r in rows) == 1 and sum(r["hold"] for r in rows) == 1
    assert sum(r["codex_tokens"] for r in rows) == 1500
    assert "of the tokens ran on Codex; 1 hand-offs and 1 holds.</p>" in _html


def test_report_is_self_contained(report: Any) -> None:
    html = report[0]
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    style = html[html.index("<style>"):html.index("</style>")]
    assert "@import" not in style and "url(" not in style  # no fetched fonts or sheets
    assert html.count("class=\"governor-figure\"") == 6


def test_session_flag_picks_one_and_rejects_unknown(tmp_path: Path) -> None:
    generated_ledger()
    out = tmp_path / "r.html"
    assert run_cli("report", "--html", str(out), "--session", "sess-mid").returncode == 0
    assert embedded(out.read_text())[0]["one_session"]["session"]["session_id"] == "sess-mid-0002"
    proc = run_cli("report", "--html", str(out), "--session", "nope")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "governor: --session nope: no sessions match in the report's range (see governor sessions)\n"


def test_without_plotly_one_line_and_exit_2() -> None:
    code = ("import sys; sys.modules['plotly'] = None\n"
            "from governor.main import main; sys.exit(main(['report']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(REPO_ROOT))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "governor: governor report needs plotly: pip install 'token-budget-governor[report]'\n"


def test_demo_report_is_labelled_sample(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    plain = run_cli("demo", env={"NO_COLOR": "1"})
    proc = run_cli("demo", "--report", str(out), env={"NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == plain.stdout + f"sample report: {out}\n"
    data, figs = embedded(out.read_text())
    assert data["sample"].startswith("SAMPLE DATA") and data["tier"] == "pro"
    assert "<title>governor report (sample data)</title>" in out.read_text()
    assert data["sessions"] and data["status"]["spent"]["source"] == "official"
    assert len(figs) == 6


def test_open_hands_the_file_to_the_platform_browser(tmp_path: Path) -> None:
    generated_ledger()
    seen = tmp_path / "seen.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {seen}\n')
    browser.chmod(0o755)
    out = tmp_path / "r.html"
    proc = run_cli("report", "--html", str(out), "--open", env={"BROWSER": str(browser)})
    assert proc.returncode == 0, proc.stderr
    for _ in range(50):  # webbrowser may start it in the background
        if seen.exists():
            break
        time.sleep(0.1)
    assert seen.read_text() == f"file://{out}\n"
