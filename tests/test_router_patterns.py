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
