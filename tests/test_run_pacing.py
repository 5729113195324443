"""Pacing inside a run, the pure part: when the run check speaks and its whole text."""

from __future__ import annotations

from datetime import datetime, timezone

from governor.policy import run_messages, run_pacing
from governor.policy.pacing_messages import Advice
from governor.policy.run_pacing import RunFacts, Say

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
ADVICE = Advice(spent=0.96, source="official", projected=1.31, reset=datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc),
                now=NOW, zone=timezone.utc, context_tokens=480_000, ceiling_tokens=350_000)
FACTS = RunFacts(NOW.timestamp() - 7800, NOW.timestamp(), 412, 0.07)

BAND = ("The week is on pace for 131% of the weekly cap by the reset, Mon 09:00 UTC (in 4d 23h); 96% used "
        "(official). Keep this run lean: avoid re-reading large files and printing long outputs.")
CROSSING = ("This session's context is 480k tokens, over this week's 350k ceiling. Finish the current step, then "
            "suggest /compact or a fresh session to the person.")
SHARE = "This run: 2h 10m, 412 responses, 7.0% of the weekly cap; at this rate 3.2% more per hour."


def test_each_message_whole() -> None:
    assert run_messages.messages(Say(band=True), ADVICE, FACTS) == (
        "governor: " + BAND, "governor: Week 96% used (official), on pace for 131% by reset Mon 09:00 UTC (in 4d 23h).")
    assert run_messages.messages(Say(crossing=True), ADVICE, FACTS) == (
        "governor: " + CROSSING,
        "governor: Context 480k is over the 350k ceiling; the model was asked to suggest /compact after this step.")
    assert run_messages.messages(Say(share=True), ADVICE, FACTS) == ("governor: " + SHARE, "governor: " + SHARE)
    assert run_messages.messages(Say(clamp=True), ADVICE, FACTS) == (
        "governor: The weekly cap is 96% used (official) and this session's context (480k) is over the 350k "
        "ceiling. Stop here: summarise for the person what is done and what is left, and suggest /compact or a "
        "fresh session.",
        "governor: The weekly cap is 96% used (official) and this session's context (480k) is over the 350k "
        "ceiling: the model was asked to stop and summarise.")
    assert run_messages.clamp_stop(ADVICE) == (
        "governor stopped this run: the weekly cap is 96% used (official) and this session's context (480k) is "
        "over the 350k ceiling. Summarise what is done; /compact or start a fresh session before going on "
        "(pacing.stop_runs_at_clamp).")
    assert run_messages.messages(Say(), ADVICE, FACTS) == ("", "")


def test_all_three_at_once_stay_short_and_say_governor_once() -> None:
    model, person = run_messages.messages(Say(band=True, crossing=True, share=True), ADVICE, FACTS)
    assert model == f"governor: {BAND} {CROSSING} {SHARE}"
    assert model.count("governor") == 1 and len(model) <= 600 and len(person) <= 300


def test_share_levels_double() -> None:
    levels = [run_pacing.share_level(s, 0.05) for s in (0.0, 0.049, 0.05, 0.099, 0.10, 0.2, 0.39, 0.4)]
    assert levels == [-1, -1, 0, 0, 1, 2, 2, 3]


def facts(share: float) -> RunFacts:
    return RunFacts(0.0, 3600.0, 10, share)


def test_decide_says_each_fact_once_and_on_change_only() -> None:
    run = run_pacing.new_run(0.0, False)
    say, run = run_pacing.decide(run, facts(0.01), 1, 0, False, False, 0.05)
    assert say == Say(band=True)  # first reached
    say, run = run_pacing.decide(run, facts(0.02), 1, 1, False, False, 0.05)
    assert not say.anything  # same band, already said (by either hook)
    say, run = run_pacing.decide(run, facts(0.06), 1, 1, True, False, 0.05)
    assert say == Say(crossing=True, share=True)
    say, run = run_pacing.decide(run, facts(0.09), 1, 1, True, False, 0.05)
    assert not say.anything  # still over, share below the doubling
    say, run = run_pacing.decide(run, facts(0.10), 2, 1, False, False, 0.05)
    assert say == Say(band=True, share=True)  # escalation at once; 10 % = twice 5 %
    say, run = run_pacing.decide(run, facts(0.11), 2, 2, True, False, 0.05)
    assert say == Say(crossing=True)  # fell below the ceiling, crossed it again: a new crossing
    say, run = run_pacing.decide(run, facts(0.12), 1, 2, True, False, 0.05)
    assert not say.anything  # a lower band is not news inside a run


def test_the_clamp_is_said_once_and_alone() -> None:
    run = run_pacing.new_run(0.0, False)
    say, run = run_pacing.decide(run, facts(0.3), 3, 0, True, True, 0.05)
    assert say == Say(clamp=True)
    say, run = run_pacing.decide(run, facts(0.3), 3, 3, True, True, 0.05)
    assert not say.anything and run["clamped"] is True


def test_a_prompt_over_the_ceiling_starts_the_run_already_crossed() -> None:
    say, _ = run_pacing.decide(run_pacing.new_run(0.0, True), facts(0.0), 0, 0, True, False, 0.05)
    assert not say.anything  # the person's prompt already carried the /compact advice
