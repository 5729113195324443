"""What the run check says (pure). Short on purpose: every injection stays in the model's context for
the rest of the session. The model's text and the person's line are built from the same facts."""

from __future__ import annotations

from governor.fmt import fmt_tokens
from governor.policy import pacing_messages
from governor.policy.pacing_messages import Advice, _span, reset_label
from governor.policy.run_pacing import RunFacts, Say

PREFIX = "governor: "


def _pct(fraction: float) -> str:
    """'7.2%' under 10 %, '14%' above: a run's share is small and its first decimal matters."""
    value = fraction * 100
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def band_for_model(a: Advice) -> str:
    pace = (f"on pace for {pacing_messages._pct(a.projected)} of {a.cap_name} by the reset, "
            f"{reset_label(a.reset, a.now, a.zone)}") if a.hits_at is None else pacing_messages.pace_fact(a)
    return (
        f"the {a.subject} is {pace}; {pacing_messages._pct(a.spent)} used ({a.source}). "
        "Keep this run lean: avoid re-reading large files and printing long outputs."
    )


def crossing_for_model(context: int, ceiling: int) -> str:
    return (
        f"this session's context is {fmt_tokens(context)} tokens, over this week's "
        f"{fmt_tokens(ceiling)} ceiling. Finish the current step, then suggest /compact or a fresh "
        "session to the person."
    )


def crossing_for_person(context: int, ceiling: int) -> str:
    return (f"context {fmt_tokens(context)} is over the {fmt_tokens(ceiling)} ceiling; "
            "the model was asked to suggest /compact after this step.")


def share_line(f: RunFacts) -> str:
    return (
        f"this run: {_span(f.now - f.started)}, {f.responses} responses, {_pct(f.share)} of the "
        f"weekly cap; at this rate {_pct(f.share_per_hour)} more per hour."
    )


def _clamp_facts(a: Advice) -> str:
    return (f"{a.cap_name} is {pacing_messages._pct(a.spent)} used ({a.source}) and this session's context "
            f"({fmt_tokens(a.context_tokens or 0)}) is over the {fmt_tokens(a.ceiling_tokens or 0)} ceiling")


def clamp_for_model(a: Advice) -> str:
    return (f"{_clamp_facts(a)}. Stop here: summarise for the person what is done and what is "
            "left, and suggest /compact or a fresh session.")


def clamp_for_person(a: Advice) -> str:
    return f"{_clamp_facts(a)}: the model was asked to stop and summarise."


def clamp_stop(a: Advice) -> str:
    return (f"governor stopped this run: {_clamp_facts(a)}. Summarise what is done; /compact or start a "
            "fresh session before going on (pacing.stop_runs_at_clamp).")


def messages(say: Say, advice: Advice, facts: RunFacts) -> tuple[str, str]:
    """(the model's text, the person's line) for what `say` selects, each 'governor: ' once; ('', '')
    for nothing."""
    if say.clamp:
        return PREFIX + _sentences([clamp_for_model(advice)]), PREFIX + _sentences([clamp_for_person(advice)])
    model: list[str] = []
    person: list[str] = []
    if say.band:
        model.append(band_for_model(advice))
        week = pacing_messages.person_message(advice._replace(context_tokens=None, long_session=False))
        person.append(week.removeprefix(PREFIX))
    if say.crossing and advice.context_tokens is not None and advice.ceiling_tokens is not None:
        model.append(crossing_for_model(advice.context_tokens, advice.ceiling_tokens))
        person.append(crossing_for_person(advice.context_tokens, advice.ceiling_tokens))
    if say.share:
        model.append(share_line(facts))
        person.append(share_line(facts))
    if not model:
        return "", ""
    return PREFIX + _sentences(model), PREFIX + _sentences(person)


def _sentences(parts: list[str]) -> str:
    return " ".join(p[:1].upper() + p[1:] for p in parts)
