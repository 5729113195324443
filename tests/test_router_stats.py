"""`governor router stats`: counts per day and this cycle, recent decisions, never whole prompts."""

from __future__ import annotations

import json
import time
from collections import Counter

from governor import timeutil
from governor.lanes import router_events
from governor.meter import db
from tests.helpers import run_cli

LONG = "refactor the auth module across all call sites and then also " + "SECRET-TAIL " * 50
HOUR = 3600.0
DAY = 86400.0
DECISIONS = ("handoff", "hold", "skipped", "pass")


def _seed(now: float) -> list[tuple[float, str]]:
    conn = db.connect()
    conn.execute("INSERT INTO captures(window, used_pct, resets_at, captured_at, source)"
                 " VALUES('seven_day', 40.0, ?, ?, 'statusline')", (now + 2 * DAY, now - HOUR))
    events = [
        (now - 60, "handoff", LONG, "/x/brief.md", "claude over pace"),
        (now - 120, "hold", "why does the worker deadlock?", None, "architecture: stays on Claude"),
        (now - 180, "pass", "run the tests", None, ""),
        (now - 240, "pass", "ok", None, ""),
        (now - DAY - HOUR, "skipped", "migrate the db layer", None, "codex weekly 91% >= 85%"),
        (now - 6 * DAY, "hold", "should we split the service?", None, "architecture: stays on Claude"),
        (now - 10 * DAY, "handoff", "rewrite the scheduler module", "/x/old.md", "claude over pace"),
    ]
    for ts, decision, prompt, brief, reason in events:
        router_events.record_event(conn, ts, "s1", decision, prompt, brief, reason)
    conn.execute("INSERT INTO handoff_runs(ts, brief_path, exit_code, thread_id, input, cached_input, output,"
                 " reasoning) VALUES(?, '/x/brief.md', 0, 't', 3000, 750, 375, 225)", (now - 30,))
    conn.close()
    return [(e[0], e[1]) for e in events]


def test_stats_json() -> None:
    now = time.time()
    events = _seed(now)
    r = run_cli("router", "stats", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    tz = timeutil.local_zone()
    days = {d["date"]: d for d in data["days"]}
    assert len(days) == 7 and max(days) == timeutil.local_date(now, tz).isoformat()
    expected = Counter((timeutil.local_date(ts, tz).isoformat(), d) for ts, d in events)
    for date, row in days.items():
        assert {k: row[k] for k in DECISIONS} == {k: expected[(date, k)] for k in DECISIONS}
    total = {k: sum(d[k] for d in data["days"]) for k in DECISIONS}
    assert total == {"handoff": 1, "hold": 2, "skipped": 1, "pass": 2}  # the 10-day-old event is out
    cycle = data["cycle"]
    assert cycle["source"] == "official"
    assert (cycle["handoff"], cycle["hold"], cycle["skipped"], cycle["pass"]) == (1, 1, 1, 2)
    runs = (cycle["runs"], cycle["runs_ok"], cycle["run_input_tokens"], cycle["run_output_tokens"])
    assert runs == (1, 1, 3000, 375)
    recent = data["recent"]
    assert [e["decision"] for e in recent[:3]] == ["handoff", "hold", "pass"]
    assert len(recent) == 7 and all(len(e["prompt_head"]) <= 60 for e in recent)
    assert "SECRET-TAIL SECRET-TAIL SECRET-TAIL" not in r.stdout


def test_stats_days_and_text() -> None:
    now = time.time()
    _seed(now)
    r = run_cli("router", "stats", "--days", "1", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)["days"]) == 1
    r = run_cli("router", "stats", env={"NO_COLOR": "1"})
    assert r.returncode == 0, r.stderr
    assert "hand-offs" in r.stdout and "this cycle" in r.stdout and "recent decisions" in r.stdout
    assert "refactor the auth module across all call sites and then" in r.stdout
    assert "codex weekly 91% >= 85%" in r.stdout and "\x1b[" not in r.stdout
    assert "SECRET-TAIL SECRET-TAIL SECRET-TAIL" not in r.stdout


def test_stats_empty_and_errors() -> None:
    r = run_cli("router", "stats")
    assert r.returncode == 0 and "no router decisions yet" in r.stdout
    r = run_cli("router", "stats", "--json")
    data = json.loads(r.stdout)
    assert data["recent"] == [] and data["cycle"]["source"] == "config"
    r = run_cli("router", "stats", "--days", "0")
    assert r.returncode == 2 and r.stderr.strip() == "governor: --days must be between 1 and 366"
    r = run_cli("router")
    assert r.returncode == 0 and "stats" in r.stdout
