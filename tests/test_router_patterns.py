"""A catastrophic router pattern never stalls a prompt (issue 22): vetted out when first compiled (it
never matches), named by `governor doctor`; the prompt hook answers within its budget."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from governor.policy import router
from tests.helpers import run_cli, run_hook

CATASTROPHIC = [r"(\w+\s?)+$", r"(a+)+b", r"(a*)*b", r"(?:x{1,5})+y", r"(.*a){20}", r"((ab)*c)*$"]
SAFE = [r"\b(implement|refactor)\b", r"\b(foo|bar)+\b", r"(\d+) files", r"(?>a+)+b", r"a++b", r"x{2,5}"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_nested_repeats_are_vetted_out(pattern: str) -> None:
    assert router.slow_reason(pattern) == "a repeat inside a repeat: exponential backtracking on a near-miss"


@pytest.mark.parametrize("pattern", SAFE)
def test_plain_patterns_pass(pattern: str) -> None:
    assert router.slow_reason(pattern) is None


def test_the_default_patterns_pass() -> None:
    from governor.config_schema import DEFAULT_ARCHITECTURE, DEFAULT_BREADTH, DEFAULT_IMPL_VERB

    assert [router.slow_reason(p) for p in (DEFAULT_IMPL_VERB, DEFAULT_BREADTH, DEFAULT_ARCHITECTURE)] == [None] * 3


def test_a_catastrophic_pattern_skips_and_the_others_still_classify() -> None:
    cfg = {"impl_verb": r"\b(implement)\b", "breadth": r"\b(across)\b", "architecture": r"(\w+\s?)+$",
           "scan_chars": 4000}
    near_miss = "why " + "word " * 3000 + "!"
    start = time.monotonic()
    assert router.classify(near_miss, cfg) == "none"  # the vetted pattern never matches
    assert router.classify("implement it across the repo", cfg) == "handoff"
    assert time.monotonic() - start < 1.0


def test_the_prompt_hook_answers_and_doctor_names_the_pattern() -> None:
    budget = Path(os.environ["GOVERNOR_HOME"]) / "budget.json"
    budget.write_text(json.dumps({"router": {"architecture": r"(\w+\s?)+$", "mode": "always"}}))
    payload = {"session_id": "s", "transcript_path": "/nonexistent.jsonl", "cwd": "/tmp",
               "hook_event_name": "UserPromptSubmit", "prompt": "why " + "word " * 800 + "!"}
    start = time.monotonic()
    proc = run_hook("user_prompt_submit.py", payload, timeout=10)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    assert time.monotonic() - start < 10
    out = run_cli("doctor", "--no-run").stdout
    assert "router.architecture: a repeat inside a repeat" in out and "skipped (never matches)" in out


def test_doctor_warns_when_claude_code_deletes_transcripts_within_the_week() -> None:
    settings = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json"
    settings.write_text(json.dumps({"cleanupPeriodDays": 3}))
    out = run_cli("doctor", "--no-run").stdout
    assert "cleanupPeriodDays is 3: Claude Code deletes transcripts before the week" in out
    settings.write_text(json.dumps({"cleanupPeriodDays": 90}))
    out = run_cli("doctor", "--no-run").stdout
    assert "cleanupPeriodDays 90: older history lives only in governor's ledger" in out


# Slow without a repeat inside a repeat: an overlapping alternation under one repeat, stacked repeats.
SLOW_UNVETTED = [r"(\w|\w\w)+$", r"(a|ab|b)*c", r"\w*\w*\w*\w*\w*\w*\w*\w*\w*q"]


@pytest.mark.parametrize("pattern", SLOW_UNVETTED)
def test_slow_patterns_the_static_check_misses_are_stopped_by_the_time_bound(pattern: str) -> None:
    from governor.guards import pattern_time

    assert router.slow_reason(pattern) is None
    assert pattern_time.probe(pattern) is not None
    assert pattern_time.timed_search(pattern, "ab" * 48 + "!") is None  # stopped, not left to run


def test_the_default_and_plain_patterns_pass_the_probes() -> None:
    from governor.config_schema import DEFAULT_ARCHITECTURE, DEFAULT_BREADTH, DEFAULT_IMPL_VERB
    from governor.guards import pattern_time

    patterns = [DEFAULT_IMPL_VERB, DEFAULT_BREADTH, DEFAULT_ARCHITECTURE, *SAFE]
    assert [pattern_time.probe(p) for p in patterns] == [None] * len(patterns)


def test_a_slow_pattern_on_a_real_prompt_is_stopped_remembered_and_named_by_doctor() -> None:
    from governor.meter import db

    budget = Path(os.environ["GOVERNOR_HOME"]) / "budget.json"
    budget.write_text(json.dumps({"router": {"architecture": r"(\w|\w\w)+$", "mode": "always"}}))
    payload = {"session_id": "s", "transcript_path": "/nonexistent.jsonl", "cwd": "/tmp",
               "hook_event_name": "UserPromptSubmit", "prompt": "why " + "word" * 800 + "!"}
    runs = []
    for _ in range(2):
        start = time.monotonic()
        proc = run_hook("user_prompt_submit.py", payload, timeout=10)
        runs.append(time.monotonic() - start)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
    assert max(runs) < 10  # Claude Code's hook timeout: unbounded, this one search takes hours
    log = (Path(os.environ["GOVERNOR_HOME"]) / "governor.log").read_text()
    assert log.count(r"router: pattern(s) '(\\w|\\w\\w)+$' ran past 100 ms: skipped from now on") == 1
    conn = db.connect()
    assert json.loads(db.get_meta(conn, "router_slow") or "{}") == {r"(\w|\w\w)+$": "took over 100 ms on a prompt"}
    assert [r[0] for r in conn.execute("SELECT decision FROM router_events")] == ["pass", "pass"]
    conn.close()
    out = run_cli("doctor", "--no-run").stdout
    assert r"router.architecture: took over 100 ms on a prompt; it is skipped (never matches) until rewritten" in out


def test_doctor_probes_a_slow_pattern_before_any_prompt_meets_it() -> None:
    budget = Path(os.environ["GOVERNOR_HOME"]) / "budget.json"
    budget.write_text(json.dumps({"router": {"breadth": r"\w*\w*\w*\w*\w*\w*\w*\w*\w*q"}}))
    out = run_cli("doctor", "--no-run").stdout
    assert ("✗ router patterns: 1 pattern(s) could stall a prompt\n    router.breadth: runs past 100 ms on"
            " 'aaaaaaaaaaaa'… (49 characters); on such a prompt the hook stops it and skips it from then on:"
            " rewrite it\n") in out


def test_the_retention_governor_needs_grows_with_the_rate_window() -> None:
    settings = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json"
    settings.write_text(json.dumps({"cleanupPeriodDays": 10}))
    out = run_cli("doctor", "--no-run").stdout
    assert "✓ transcript retention: cleanupPeriodDays 10: older history lives only in governor's ledger" \
           " (it reads back 8 days)\n" in out
    (Path(os.environ["GOVERNOR_HOME"]) / "budget.json").write_text(json.dumps({"pacing": {"rate_window_hours": 168}}))
    out = run_cli("doctor", "--no-run").stdout
    assert (f"✗ transcript retention: cleanupPeriodDays is 10: Claude Code deletes transcripts before the week"
            " governor paces is over (it reads back 14 days: the 7-day cycle and pacing.rate_window_hours before"
            f" it); set it to at least 14 in {settings}\n") in out
