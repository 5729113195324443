"""`governor status`, `governor tier` and the SessionStart hook, as a person meets them."""

from __future__ import annotations

import json
import time
from pathlib import Path

from governor import paths
from tests.helpers import run_cli, run_hook
from tests.test_prompt_hook import cap_for, record_official_week, write_budget, write_week

STATUS_FIELDS = ("window", "spent", "rate", "projected", "band", "ceiling_tokens", "sessions")


def test_status_json_has_the_documented_fields_with_local_provenance() -> None:
    write_week(responses=30)
    write_budget(caps={"max20x": cap_for(1.2)})
    data = json.loads(run_cli("status", "--json").stdout)
    for key in STATUS_FIELDS:
        assert key in data
    assert data["window"]["source"] == "config"
    assert data["spent"]["source"] == "local estimate"
    assert data["spent"]["units"] > 0 and 0 < data["spent"]["fraction"] < data["projected"]["fraction"]
    assert abs(data["projected"]["fraction"] - 1.2) < 0.05
    assert data["band"]["projected_at"] == 1.1 and data["ceiling_tokens"] == 350_000
    assert data["rate"]["units_per_hour"] > 0
    assert data["sessions"][0]["session_id"] == "sess-pace" and data["sessions"][0]["share"] == 1.0
    assert "keep the context small" in data["hook_would_say"]["additionalContext"].lower()


def test_official_capture_anchors_the_week_and_wins() -> None:
    write_week(responses=10)
    record_official_week(61.0)
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["spent"]["source"] == "official"
    assert abs(data["spent"]["fraction"] - 0.61) < 1e-9
    assert data["window"]["source"] == "official"
    reset = data["window"]["reset"]
    assert abs(time.time() + 3 * 86400 - __import__("datetime").datetime.fromisoformat(reset).timestamp()) < 5


def test_status_human_output() -> None:
    write_week(responses=10)
    out = run_cli("status", env={"NO_COLOR": "1"})
    assert out.returncode == 0
    assert "spent" in out.stdout and "local estimate" in out.stdout and "projected" in out.stdout
    assert "\x1b[" not in out.stdout


def test_tier_flips_the_cap_and_keeps_the_rest_of_budget_json() -> None:
    budget = Path(paths.budget_path())
    budget.write_text(json.dumps({"_mine": "keep me", "tier": "max20x", "pacing": {"repeat_minutes": 15}}))
    out = run_cli("tier", "max5x")
    assert out.returncode == 0 and "was max20x" in out.stdout
    doc = json.loads(budget.read_text())
    assert doc == {"_mine": "keep me", "tier": "max5x", "pacing": {"repeat_minutes": 15}}
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["tier"] == "max5x" and status["cap_units"] == 175_000_000
    bad = run_cli("tier", "max50x")
    assert bad.returncode == 2 and json.loads(budget.read_text())["tier"] == "max5x"


def test_tier_refuses_an_invalid_budget_and_leaves_it_alone() -> None:
    budget = Path(paths.budget_path())
    budget.write_text("{broken")
    out = run_cli("tier", "pro")
    assert out.returncode == 2 and "invalid JSON" in out.stderr and budget.read_text() == "{broken"


def session_start(**fields: object) -> dict | None:
    payload = {
        "session_id": "s",
        "transcript_path": "/x.jsonl",
        "cwd": "/tmp",
        "hook_event_name": "SessionStart",
        **fields,
    }
    out = run_hook("session_start.py", payload)
    assert out.returncode == 0
    return json.loads(out.stdout) if out.stdout.strip() else None


def test_session_start_warns_on_resuming_a_large_or_cold_context() -> None:
    cold = session_start(
        source="resume",
        context_tokens=420_000,
        prompt_cache_likely_expired=True,
        estimated_cache_write_usd=2.63,
        seconds_since_last_response=7200,
    )
    assert cold is not None
    message = cold["systemMessage"]
    assert "420k" in message and "$2.63" in message and "fresh session" in message and len(message) <= 300
    warm_big = session_start(source="fork", context_tokens=250_000, prompt_cache_likely_expired=False)
    assert warm_big is not None and "250k" in warm_big["systemMessage"]


def test_session_start_stays_quiet_otherwise() -> None:
    assert session_start(source="startup") is None
    assert session_start(source="resume", context_tokens=30_000, prompt_cache_likely_expired=False) is None
    assert session_start(source="resume") is None
    assert (
        session_start(
            source="resume",
            context_tokens=420_000,
            prompt_cache_likely_expired=True,
        )
        is not None
    )
    out = run_hook(
        "session_start.py",
        {"source": "resume", "context_tokens": 420_000, "prompt_cache_likely_expired": True},
        env={"GOVERNOR_DISABLE": "1"},
    )
    assert out.stdout == b""
