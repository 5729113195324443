"""The whole text of every message a hook can say, pinned: the person reads these and the model is handed
them (and, inside a run, keeps them for the rest of the session), so no refactor may change a word of
them without a test saying so. The demo's snapshot (tests/test_demo_snapshot.py) pins them in context."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from governor.guards import codex_nudge, route
from governor.guards.memory import describe
from governor.guards.memory_file import Applied
from governor.policy import pacing_messages
from governor.policy.memory_cap import Capped, LoadStatus

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # a Friday
RESET = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)  # Monday 09:00 in Berlin
BRIEF = "/home/dev/.local/state/governor/handoffs/20261127-1200-add-flag.md"


def advice(**kw: object) -> pacing_messages.Advice:
    base: dict = dict(spent=0.61, source="official", projected=1.24, reset=RESET, now=NOW,
                      zone=ZoneInfo("Europe/Berlin"))
    base.update(kw)
    return pacing_messages.Advice(**base)


def test_pacing_advice_over_the_ceiling_in_a_long_session() -> None:
    a = advice(context_tokens=412_000, ceiling_tokens=350_000, session_hours=6.25, session_responses=420,
               long_session=True)
    assert pacing_messages.person_message(a) == PERSON
    assert pacing_messages.model_context(a) == MODEL


def test_the_model_is_told_when_the_weekly_rhythm_drew_the_projection() -> None:
    a = advice(projection_model="rhythm")
    assert pacing_messages.model_context(a) == (
        "Weekly usage budget (governor): 61% of the weekly cap used (official); at your usual weekly rhythm "
        "it reaches 124% by the reset, Mon 09:00 CET (in 2d 20h). Keep the context small; prefer /compact "
        "or a fresh session for a new task. Avoid re-reading large files or printing long outputs."
    )


def test_pacing_advice_without_context_facts() -> None:
    assert pacing_messages.person_message(advice(source="calibrated", projected=1.05)) == PERSON_PLAIN


def test_the_clamp_reason() -> None:
    a = advice(spent=0.96, context_tokens=400_000, ceiling_tokens=250_000)
    assert pacing_messages.clamp_reason(a, 0.1, fraction_per_unit=1 / 700e6) == CLAMP


def test_the_codex_side_nudge() -> None:
    assert codex_nudge.message(0.92, 0.85, NOW.timestamp() + 3 * 86400, NOW.timestamp()) == NUDGE


def test_the_handoff_offer() -> None:
    command = f'codex exec --cd /home/dev/proj --sandbox workspace-write "$(cat {BRIEF})"'
    assert route.hook_result(BRIEF, command, "claude over pace") == HANDOFF


def test_the_memory_guard_note() -> None:
    changes = [
        Capped(3, "- [Deploy notes](deploy.md) — the staging cluster needs the VPN and the rollout takes "
               + "x" * 200, "- [Deploy notes](deploy.md) — the staging…"),
        Capped(9, "- a very long entry " * 20, "- a very long entry…"),
        Capped(12, "- third " * 50, "- third…"),
    ]
    memory = "/home/dev/.claude/projects/-home-dev-proj/memory"
    applied = Applied(f"{memory}/MEMORY.md", f"{memory}/MEMORY.overflow.md", changes,
                      LoadStatus(240, 31000, 200, 24000))
    assert describe(applied, 150) == MEMORY


PERSON = (
    "governor: week 61% used (official), on pace for 124% by reset Mon 09:00 CET (in 2d 20h). "
    "Context 412k is over the 350k ceiling: /compact now, or /clear before a new task. This session: "
    "6.2 h, 420 responses; session length, not session count, drives cost."
)
MODEL = (
    "Weekly usage budget (governor): 61% of the weekly cap used (official); at the recent rate it "
    "reaches 124% by the reset, Mon 09:00 CET (in 2d 20h). This session's context is 412k tokens, "
    "over the 350k compaction ceiling. The session has run 6.2 h, 420 responses; every turn re-reads "
    "the whole context. Keep the context small; prefer /compact or a fresh session for a new task. "
    "Avoid re-reading large files or printing long outputs."
)
PERSON_PLAIN = (
    "governor: week 61% used (calibrated), on pace for 105% by reset Mon 09:00 CET (in 2d 20h)."
)
CLAMP = (
    "governor: paused this prompt: the weekly cap is 96% used (official), resets Mon 09:00 CET (in "
    "2d 20h), and this session's context is 400k tokens, over the 250k ceiling. Every turn re-reads "
    "it: ~40k weighted units a turn (~0.6% of the weekly cap per 100 turns). Run /compact (keeps the "
    "thread) or /clear (new task), then send your prompt again. To turn this off: set "
    "pacing.hard_clamp_at to null in budget.json."
)
NUDGE = {
    "system_message": (
        "governor: Codex weekly limit at 92% (hot from 85%, resets in 3.0 d); Claude Code's week has "
        "headroom. Consider taking substantial work back to Claude Code."
    ),
    "additional_context": (
        "governor: the person's Codex weekly usage limit is at 92%, resets in 3.0 d, while their Claude "
        "Code weekly budget has headroom. If this request is substantial (multi-file implementation, "
        "long investigation), briefly suggest continuing it in Claude Code to save the remaining Codex "
        "budget; do small tasks here as usual. Mention it once, not on every reply."
    ),
}
HANDOFF = {
    "system_message": (
        "governor: bounded implementation work, Codex has room: codex exec --cd /home/dev/proj --sandbox "
        "workspace-write \"$(cat /home/dev/.local/state/governor/handoffs/20261127-1200-add-flag.md)\""
    ),
    "additional_context": (
        "governor router: this request looks like bounded implementation work and the Codex lane has "
        "budget. Claude's weekly budget is running ahead of pace. Before you start implementing, offer "
        "the person a hand-off to Codex: the brief is at "
        "/home/dev/.local/state/governor/handoffs/20261127-1200-add-flag.md and `governor handoff --last "
        "--run` runs it (or the command shown to them). If they prefer to keep it here, or it needs "
        "design work first, proceed normally."
    ),
}
MEMORY = (
    "governor memory guard cut 3 over-long entries of "
    "/home/dev/.claude/projects/-home-dev-proj/memory/MEMORY.md to 150 chars: line 3 ('- [Deploy "
    "notes](deploy.md) — the stagi…'), line 9 ('- a very long entry - a very long entry…') and 1 "
    "more. Full text is in MEMORY.overflow.md beside it; do not re-add it. Keep entries to one line, "
    "detail in topic files. MEMORY.md is over Claude Code's load limit (200 lines / 25,000 UTF-16 "
    "units): lines 201-240 of 240 (31,000 units in all) are not loaded. Move detail into topic "
    "files; do not drop entries."
)
