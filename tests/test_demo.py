"""`governor demo`: the SAMPLE week, three moments (silent, advice, block), and nothing of the user's touched."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from governor.meter import transcript
from tests.helpers import run_cli

TITLES = ("Tuesday morning", "Thursday evening", "Saturday noon")
BASE_WEEK = datetime(2026, 11, 23, tzinfo=timezone.utc)  # the sample's own week (a Monday)


def _files_under(env: dict[str, str]) -> list[str]:
    """Every file in the isolated HOME, which holds GOVERNOR_HOME, CLAUDE_CONFIG_DIR, CODEX_HOME and the XDG dirs."""
    found = []
    for dirpath, _dirs, files in os.walk(env["HOME"]):
        found += [os.path.join(dirpath, f) for f in files]
    return sorted(found)


def test_demo_prints_the_three_moments_in_order(isolated_env: dict[str, str]) -> None:
    proc = run_cli("demo", env={"NO_COLOR": "1", "COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "SAMPLE DATA" in out.splitlines()[0]
    assert "\x1b[" not in out  # NO_COLOR honoured
    positions = [out.index(t) for t in TITLES]
    assert positions == sorted(positions)
    tuesday, thursday, saturday = (out[a:b] for a, b in zip(positions, positions[1:] + [len(out)], strict=True))
    assert "UserPromptSubmit hook prints: nothing" in tuesday
    assert "below every band" in tuesday
    assert "systemMessage (shown to you)" in thursday and "additionalContext (handed to Claude)" in thursday
    assert "/compact" in thursday and "local estimate" in thursday
    assert "paused this prompt" in saturday and '"decision": "block"' in saturday
    assert "96%" in saturday and "official" in saturday
    assert "SessionStart hook prints" in saturday and "cold cache" in saturday
    assert "class handoff" in saturday and "class hold" in saturday  # the router section follows the moments
    assert "governor install" in out and "governor status" in out
    assert "your budget.json is ignored" in " ".join(out.split())
    assert _files_under(isolated_env) == []  # GOVERNOR_HOME, CLAUDE_CONFIG_DIR, CODEX_HOME, XDG dirs stay empty


def test_demo_json_has_the_same_story_as_data(isolated_env: dict[str, str]) -> None:
    proc = run_cli("demo", "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["sample"] is True and "SAMPLE" in d["label"]
    assert d["config"]["tier"] == "pro" and d["config"]["cap_units"] == 35_000_000
    assert d["transcripts"]["rows"] > d["transcripts"]["responses"] > 100  # multi-block rows de-duplicated
    assert [m["key"] for m in d["moments"]] == ["tuesday", "thursday", "saturday"]
    ats = [datetime.fromisoformat(m["at"]) for m in d["moments"]]
    start, reset = (datetime.fromisoformat(d["week"][k]) for k in ("start", "reset"))
    assert start < ats[0] < ats[1] < ats[2] < reset
    tue, thu, sat = d["moments"]
    hooks = [m["hooks"]["UserPromptSubmit"] for m in d["moments"]]
    assert [h["verdict"] for h in hooks] == ["silent", "advice", "block"]
    assert hooks[0]["stdout"] == "" and hooks[0]["output"] is None
    assert tue["status"]["band"] is None and tue["status"]["spent"]["source"] == "local estimate"
    advice = hooks[1]["output"]
    assert "/compact" in advice["systemMessage"] and len(advice["systemMessage"]) <= 300
    assert advice["hookSpecificOutput"]["hookEventName"] == "UserPromptSubmit"
    assert len(advice["hookSpecificOutput"]["additionalContext"]) <= 600
    assert thu["status"]["projected"]["fraction"] >= 1.0 and thu["context_tokens"] > thu["status"]["ceiling_tokens"]
    assert json.loads(hooks[1]["stdout"]) == advice
    assert hooks[2]["output"]["decision"] == "block" and "/compact" in hooks[2]["output"]["reason"]
    assert sat["status"]["spent"]["source"] == "official" and abs(sat["status"]["spent"]["fraction"] - 0.96) < 1e-9
    assert sat["status"]["window"]["source"] == "official" and sat["context_tokens"] > 450_000
    assert sat["captures"][0]["used_pct"] == 96 and sat["status"]["spent"]["k"] > 0
    start_hook = sat["hooks"]["SessionStart"]
    assert start_hook["verdict"] == "advice" and "398k" in start_hook["output"]["systemMessage"]
    assert "transcript_path" not in start_hook["payload"]
    examples = d["router"]["examples"]
    assert [e["class"] for e in examples] == ["handoff", "hold"]
    assert [s["command"] for s in d["next_steps"]][:2] == ["governor install", "governor status"]
    assert _files_under(isolated_env) == []


def test_demo_ignores_the_users_config_and_transcripts(isolated_env: dict[str, str]) -> None:
    budget = Path(isolated_env["GOVERNOR_HOME"]) / "budget.json"
    budget.write_text('{"tier": "max20x", "pacing": {"enabled": false}}')
    mine = Path(isolated_env["CLAUDE_CONFIG_DIR"]) / "projects" / "-home-me-x" / "s.jsonl"
    mine.parent.mkdir(parents=True)
    mine.write_text("")
    before = {p: (os.stat(p).st_mtime_ns, Path(p).read_bytes()) for p in _files_under(isolated_env)}
    d = json.loads(run_cli("demo", "--json").stdout)
    assert [m["hooks"]["UserPromptSubmit"]["verdict"] for m in d["moments"]] == ["silent", "advice", "block"]
    assert d["config"]["tier"] == "pro"
    after = {p: (os.stat(p).st_mtime_ns, Path(p).read_bytes()) for p in _files_under(isolated_env)}
    assert after == before  # nothing added, nothing changed


def test_demo_moves_the_sample_into_the_current_week(isolated_env: dict[str, str]) -> None:
    from governor.reports import demo

    saved = {k: os.environ.get(k) for k in ("GOVERNOR_HOME", "GOVERNOR_CONFIG", "CLAUDE_CONFIG_DIR", "CODEX_HOME")}
    later = datetime(2027, 3, 18, 15, 0, tzinfo=timezone.utc).timestamp()  # a Thursday, 16 weeks on
    d = demo.build(now=later)
    assert d["week"]["start"] == "2027-03-15T00:00:00+00:00"
    assert [m["at"][:10] for m in d["moments"]] == ["2027-03-16", "2027-03-18", "2027-03-20"]
    assert [m["hooks"]["UserPromptSubmit"]["verdict"] for m in d["moments"]] == ["silent", "advice", "block"]
    assert {k: os.environ.get(k) for k in saved} == saved  # the sandbox's environment is undone
    assert _files_under(isolated_env) == []


def test_sample_week_ships_as_package_data() -> None:
    data = resources.files("governor.data")
    raw = data.joinpath("sample-week.jsonl").read_bytes()
    meta = json.loads(data.joinpath("sample-week.json").read_text())
    assert len(raw) <= 300 * 1024 and "SAMPLE" in meta["label"]
    records, bad = transcript.parse_block(raw, "sample")
    assert bad == 0 and len({r.key for r in records}) < len(records)  # multi-block responses repeat their key
    rows = [json.loads(line) for line in raw.splitlines()]
    assert {r["version"] for r in rows} == {"2.1.328"}
    start = BASE_WEEK.timestamp()
    assert all(start <= transcript.parse_timestamp(r["timestamp"]) < start + 7 * 86400 for r in rows)
    assert max(r.cache_read + r.cache_creation + r.input for r in records) > 500_000  # the marathon's context
