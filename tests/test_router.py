"""router.py: the intent table (how people really phrase work), non-human prompts, routing decisions,
the bounded scan on hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governor.config_schema import defaults
from governor.policy import router
from governor.policy.router import CodexState

CFG = defaults()["router"]

HANDOFF = [
    "refactor the auth module across all call sites",  # the seed's example
    "implement the parser across all modules",  # the observed Claude Code payload
    "can you refactor the payment service so it uses the new http client everywhere",
    "pls migrate the db layer from sqlalchemy 1.4 to 2.0",
    "Implement retry with exponential backoff across every HTTP call in the sync module",
    "rewrite the config loader module to use pydantic v2, lots of files import it",
    "we need to migrate all the tests from unittest to pytest",
    "fix the bug where sessions leak across tenants",
    "write tests for the billing module, we have basically zero coverage there",
    "build a CLI wrapper around the export module",
    "Implement end-to-end encryption for attachments",
    "implement the new permissions check in multiple files (api, worker, cli)",
    "can u refactor teh logging setup so every handler uses structlog",
    "i want to rewrite the scheduler module in async, its a mess rn",
    "Please implement pagination across all list endpoints.\n\nContext: we have ~40 endpoints, most of them "
    "return everything at once and the mobile app times out. Use cursor pagination like /v2/orders does.",
    "migrate the frontend build from webpack to vite",
    "IMPLEMENT THE FEATURE FLAG CHECKS ACROSS THE APP",
    "build the importer module for CSV and parquet files",
    "fix the bug in the cache module where keys collide on unicode input",
    "write tests that exercise the upload flow end-to-end",
    "refactor: pull the retry logic out of client.py and worker.py into one helper",
    "Could you implement the rate limiter and wire it up across the gateway and the workers?",
    "rewrite all call sites of legacy_fetch to use the new fetch API",
    "ok now implement it across the remaining services, same pattern as before",
    "Here is the traceback from prod:\n" + "  File \"app/x.py\", line 12, in run\n" * 20
    + "\nfix the bug, it shows up across both workers",
    "migrate to the new logging api",
    "implement the storage module following the design doc we agreed on",
    "Build a small end-to-end test harness for the webhook flow pls",
    "write the test suite for the new module and make sure it runs in CI",
]

HOLD = [
    "why does the worker deadlock when the queue is empty?",
    "what's the tradeoff between redis streams and kafka here",
    "can you review my PR before I merge",
    "explain how the auth flow works end to end",
    "should we split this service into two?",
    "how would you design the caching layer for multi-region?",
    "what do you think about using sqlite instead of postgres for the cli",
    "pros and cons of a monorepo vs polyrepo for us",
    "let's plan the migration to python 3.12 first",
    "compare these two approaches to retries",
    "Is this architecture going to hold up at 10k rps?",
    "evaluate whether we need a message queue at all",
    "whats the best strategy for rolling out the schema change",
    "Before writing any code, explain the current data flow",
    "why did you pick a thread pool there",
    "review the error handling in payments.py, anything missing?",
    "can u explain the difference between the two config loaders",
    "should i use a dataclass or a pydantic model for this",
    "I'm not sure about the approach, walk me through the alternatives",
    "give me an architectural overview of this repo",
    "what's the plan for handling timezone changes",
    "Design question: where should validation live, api layer or model?",
    "hmm why is this test flaky only on CI",
    "think about the trade-offs of caching the token for an hour",
    "we're debating event sourcing for the ledger. what do you think?",
    "Review the design doc in docs/adr-12.md and poke holes in it",
    "WHY is the p99 so high after the deploy",
]

NONE = [
    "run the tests",
    "fix the typo in the README",
    "ok",
    "yes go ahead",
    "thanks!",
    "commit this with a good message",
    "what's in src/utils.py",
    "add a docstring to parse_args",
    "rename foo to bar in main.py",
    "bump the version to 1.2.3",
    "show me the git log for the last week",
    "the build is failing, here's the output: error TS2304: Cannot find name 'x'",
    "fix the failing test in test_api.py",
    "change the default timeout to 30s",
    "where is the retry logic defined?",
    "format the code with black",
    "add logging to the download function",
    "delete the unused imports in cli.py",
    "what does this error mean: KeyError: 'user'",
    "continue",
    "pls update the changelog",
    "make the button blue",
    "can you check if the dev server is running",
    "install the deps and try again",
    "implement __repr__ for Point",  # a verb without breadth: small, stays put
    "fix the bug in parse_date",
    "npm install fails with EACCES, help",
]


@pytest.mark.parametrize("prompt", HANDOFF)
def test_handoff_prompts(prompt: str) -> None:
    assert router.classify(prompt, CFG) == "handoff"


@pytest.mark.parametrize("prompt", HOLD)
def test_hold_prompts(prompt: str) -> None:
    assert router.classify(prompt, CFG) == "hold"


@pytest.mark.parametrize("prompt", NONE)
def test_none_prompts(prompt: str) -> None:
    assert router.classify(prompt, CFG) == "none"


def test_table_sizes() -> None:
    assert min(len(HANDOFF), len(HOLD), len(NONE)) >= 25


def test_handoff_beats_architecture_words() -> None:
    # the seed's order: verb AND breadth first, even when the prompt also asks why
    assert router.classify("refactor the auth module, and explain why", CFG) == "handoff"


def test_whitespace_between_words_is_collapsed() -> None:
    assert router.classify("write the\n  tests for the billing\tmodule", CFG) == "handoff"
    assert router.classify("build\na parser module", CFG) == "handoff"


def test_only_the_bounded_prefix_is_scanned() -> None:
    cfg = {**CFG, "scan_chars": 100}
    late = "x " * 100 + "refactor the auth module"
    assert router.classify(late, cfg) == "none"
    assert router.classify(late, {**CFG, "scan_chars": 4000}) == "handoff"


def test_custom_patterns_and_case() -> None:
    cfg = {**CFG, "impl_verb": r"\bport\b", "breadth": r"\bcodebase\b", "architecture": r"\bRFC\b"}
    assert router.classify("PORT the whole CODEBASE to rust", cfg) == "handoff"
    assert router.classify("write an rfc for it", cfg) == "hold"
    assert router.classify("refactor the auth module", cfg) == "none"


NEAR_MISSES = ["implemen ", "refacto ", "migrat ", "build an ", "write th ", "acros ", "modul ",
               "all call site ", "end-to-en ", "integration tes ", "desig ", "pros and con ", "fix the bu ",
               "xmodule ", "modulex "]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(NEAR_MISSES), min_size=1, max_size=6), st.booleans())
def test_hostile_megabyte_prompt(fragments: list[str], tail_match: bool) -> None:
    """1 MB of repeated near-matches: never matches, and a real match after the prefix is not seen."""
    unit = "".join(fragments)
    prompt = unit * (1_000_000 // len(unit) + 1)
    if tail_match:
        prompt += " refactor the auth module across all call sites"
    assert len(prompt) >= 1_000_000
    assert router.classify(prompt, CFG) == "none"
    assert router.classify("refactor the auth module. " + prompt, CFG) == "handoff"


def test_patterns_compiled_once() -> None:
    router.classify("refactor the auth module", CFG)
    before = dict(router._PATTERNS)
    router.classify("why", CFG)
    assert router._PATTERNS.keys() == before.keys()
    assert all(router._PATTERNS[k] is v for k, v in before.items())


def _payload(prompt: object, **extra: object) -> dict[str, object]:
    return {"session_id": "s", "hook_event_name": "UserPromptSubmit", "prompt": prompt, **extra}


@pytest.mark.parametrize("prompt", [
    "refactor the auth module across all call sites",
    "/home/dev/proj/app.py is broken, fix the bug across it",
    "  why is this slow?",
    "<div> renders twice, why?",
])
def test_human_prompts(prompt: str) -> None:
    assert router.is_human_prompt(_payload(prompt))
    assert router.is_human_prompt(_payload(prompt, source="user"))


@pytest.mark.parametrize("prompt", [
    "", "   \n ", "/compact", "/review the auth module", "/plugin:deploy staging", "  /clear",
    "<task-notification>\n<task-id>b1</task-id><status>completed</status>refactor the module"
    "</task-notification>",
    "<command-name>/model</command-name>\n<command-message>model</command-message>",
    "<local-command-stdout>Set model to opus</local-command-stdout>",
    "Caveat: The messages below were generated by the user while running local commands.",
    "<system-reminder>The user opened app.py</system-reminder> refactor the auth module",
    "<scheduled-wakeup>check the deploy</scheduled-wakeup>",
])
def test_non_human_prompts(prompt: str) -> None:
    assert not router.is_human_prompt(_payload(prompt))


@pytest.mark.parametrize("extra", [{"source": "loop_wakeup"}, {"source": "schedule_wakeup"},
                                   {"source": "sdk"}, {"source": "system"}, {"source": "poll_event"},
                                   {"agent_id": "a-1"}])
def test_machine_sources(extra: dict[str, str]) -> None:
    assert not router.is_human_prompt(_payload("refactor the auth module across all call sites", **extra))


def test_non_string_prompt() -> None:
    assert not router.is_human_prompt(_payload(None))
    assert not router.is_human_prompt({"session_id": "s"})


COOL = CodexState(enabled=True, installed=True, weekly_used=0.40, hot_at=0.85)


@pytest.mark.parametrize(("cls", "mode", "over", "codex", "decision", "reason"), [
    ("handoff", "always", False, COOL, "handoff", "router mode always"),
    ("handoff", "when_over_pace", True, COOL, "handoff", "claude over pace"),
    ("handoff", "when_over_pace", False, COOL, "skipped", "claude on pace"),
    ("handoff", "always", True, CodexState(True, True, 0.85, 0.85), "skipped", "codex weekly 85% >= 85%"),
    ("handoff", "always", True, CodexState(True, True, None, 0.85), "handoff", "claude over pace"),
    ("handoff", "always", True, CodexState(True, False, 0.1), "skipped", "codex not installed"),
    ("handoff", "always", True, CodexState(False, True, 0.1), "skipped", "codex lane disabled"),
    ("handoff", "off", True, COOL, "off", "router off"),
    ("hold", "always", True, COOL, "hold", "architecture: stays on Claude"),
    ("hold", "when_over_pace", False, CodexState(False, False), "hold", "architecture: stays on Claude"),
    ("none", "always", True, COOL, "pass", ""),
])
def test_routing_decision(cls: str, mode: str, over: bool, codex: CodexState, decision: str,
                          reason: str) -> None:
    assert router.routing_decision(cls, mode, over, codex) == (decision, reason)


def test_hot_is_inclusive() -> None:
    assert CodexState(True, True, 0.85, 0.85).hot
    assert not CodexState(True, True, 0.8499, 0.85).hot
    assert not CodexState(True, True, None, 0.85).hot
