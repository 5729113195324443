"""What pacing says: the person's message, the model's context and the clamp's reason (pure)."""

from __future__ import annotations

from governor.fastdatetime import datetime, tzinfo
from governor.fmt import fmt_tokens
from governor.policy.pacing import Instant, as_utc
from governor.record import Record  # a NamedTuple without exec-compiling one per class

PERSON_MAX = 300  # characters the person is shown, at most
MODEL_MAX = 600  # characters handed to the model, at most



class Advice(Record):
    """The facts every pacing message is built from (fractions of the weekly cap)."""

    spent: float
    source: str  # "official" | "calibrated" | "local estimate"
    projected: float
    reset: datetime
    now: datetime
    zone: tzinfo | None = None  # the person's zone; None = the system's local zone
    context_tokens: int | None = None
    ceiling_tokens: int | None = None
    session_hours: float | None = None
    session_responses: int | None = None
    long_session: bool = False
    # Which window this is about (the binding one); the defaults are the all-models week.
    subject: str = "week"  # "week" | "Sonnet week" | "5-hour window"
    kind: str = "weekly_all"  # policy.windows kinds: session | weekly_all | weekly_scoped
    hits_at: datetime | None = None  # when the recent rate reaches the limit, if before the reset
    headroom: str | None = None  # another model's week with room: "Opus week has headroom (41%)"
    model_alias: str | None = None  # what /model takes to switch to it ("opus")
    extra_usage: str | None = None  # "extra usage $12.40 of $50.00 this month", when a projection spills
    codex: bool = False  # the Codex lane is on: work can move there
    projection_model: str = "recent_rate"  # "rhythm" when the hour-of-week profile drew `projected`

    @property
    def basis(self) -> str:
        """How the projection was made, as the model is told it."""
        return "at your usual weekly rhythm" if self.projection_model == "rhythm" else "at the recent rate"

    @property
    def cap_name(self) -> str:
        if self.kind == "session":
            return "the 5-hour limit"
        return "the weekly cap" if self.kind == "weekly_all" else f"the {self.subject} cap"

    @property
    def over_ceiling(self) -> bool:
        return self.context_tokens is not None and self.ceiling_tokens is not None and (
            self.context_tokens > self.ceiling_tokens
        )


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.0f}%"


def _span(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def reset_label(reset: datetime, now: Instant, zone: tzinfo | None = None) -> str:
    """'Mon 09:00 CET (in 2d 5h)' in the person's zone."""
    local = reset.astimezone(zone) if zone is not None else reset.astimezone()
    left = _span((reset - as_utc(now)).total_seconds())
    return f"{local:%a %H:%M} {local.tzname() or ''}".rstrip() + f" (in {left})"


def _session_fact(a: Advice) -> str:
    bits = []
    if a.session_hours is not None:
        bits.append(f"{a.session_hours:.1f} h")
    if a.session_responses is not None:
        bits.append(f"{a.session_responses} responses")
    return ", ".join(bits)


def _fit(parts: list[str], limit: int) -> str:
    """Join the parts, dropping optional ones from the end (never the first) until it fits."""
    while len(parts) > 1 and len(" ".join(parts)) > limit:
        parts = parts[:-1]
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clock(moment: datetime, zone: tzinfo | None = None) -> str:
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    return f"{local:%H:%M}"


def pace_fact(a: Advice) -> str:
    """'on pace for 94% by reset Mon 09:00 CET (in 2d 5h)', or, when the limit comes first,
    'on pace to hit the limit at 15:40, 50m before it resets'."""
    if a.hits_at is not None and a.hits_at < a.reset:
        return (f"on pace to hit the limit at {clock(a.hits_at, a.zone)}, "
                f"{_span((a.reset - a.hits_at).total_seconds())} before it resets")
    return f"on pace for {_pct(a.projected)} by reset {reset_label(a.reset, a.now, a.zone)}"


def window_advice(a: Advice) -> list[str]:
    """What to do about a window other than the all-models week, and when a projection turns paid."""
    parts = []
    if a.kind == "session" and a.projected >= 1.0:
        codex = " or move the next task to Codex" if a.codex else ""
        parts.append(f"Pause until it resets at {clock(a.reset, a.zone)}{codex}; /compact alone will not stop it.")
    if a.headroom:
        switch = f": /model {a.model_alias} for what is left" if a.model_alias else ""
        parts.append(f"{a.headroom}{switch}.")
    if a.extra_usage:
        parts.append(f"Past the limit it runs on paid extra usage ({a.extra_usage}).")
    return parts


def person_message(a: Advice) -> str:
    """The person's line (<= 300 chars): spent with provenance, projection at reset, ceiling advice."""
    parts = [f"governor: {a.subject} {_pct(a.spent)} used ({a.source}), {pace_fact(a)}.", *window_advice(a)]
    if a.over_ceiling:
        parts.append(
            f"Context {fmt_tokens(a.context_tokens or 0)} is over the {fmt_tokens(a.ceiling_tokens or 0)} "
            "ceiling: /compact now, or /clear before a new task."
        )
    fact = _session_fact(a)
    if a.long_session and fact:
        parts.append(f"This session: {fact}; session length, not session count, drives cost.")
    return _fit(parts, PERSON_MAX)


def model_context(a: Advice) -> str:
    """The model's note (<= 600 chars): the same facts plus how to keep this session cheap."""
    if a.kind == "weekly_all":
        first = (f"Weekly usage budget (governor): {_pct(a.spent)} of the weekly cap used ({a.source}); {a.basis} "
                f"it reaches {_pct(a.projected)} by the reset, {reset_label(a.reset, a.now, a.zone)}.")
    else:
        first = (f"Usage limit (governor): the {a.subject} is {_pct(a.spent)} used ({a.source}); {a.basis} "
                f"it is {pace_fact(a)}.")
    parts = [first, *window_advice(a)]
    if a.context_tokens is not None:
        over = a.over_ceiling and a.ceiling_tokens is not None
        ceiling = f", over the {fmt_tokens(a.ceiling_tokens or 0)} compaction ceiling" if over else ""
        parts.append(f"This session's context is {fmt_tokens(a.context_tokens)} tokens{ceiling}.")
    fact = _session_fact(a)
    if a.long_session and fact:
        parts.append(f"The session has run {fact}; every turn re-reads the whole context.")
    parts.append("Keep the context small; prefer /compact or a fresh session for a new task.")
    parts.append("Avoid re-reading large files or printing long outputs.")
    # The instruction must survive trimming: drop optional facts first, never the advice.
    head, advice = parts[:-2], parts[-2:]
    while len(head) > 1 and len(" ".join(head + advice)) > MODEL_MAX:
        head = head[:-1]
    return _fit(head + advice, MODEL_MAX)


def clamp_reason(a: Advice, cache_read_weight: float = 0.1, fraction_per_unit: float | None = None) -> str:
    """Why the prompt was blocked and what /compact or /clear saves per turn.

    Each turn re-sends the whole context, billed at cache-read weight: context x weight weighted
    units per turn, nearly all of which /clear saves and most of which /compact saves.
    """
    ctx = a.context_tokens or 0
    per_turn = ctx * cache_read_weight
    share = f" (~{per_turn * 100 * fraction_per_unit * 100:.1f}% of the weekly cap per 100 turns)" if (
        fraction_per_unit
    ) else ""
    ceiling = f", over the {fmt_tokens(a.ceiling_tokens)} ceiling" if a.ceiling_tokens else ""
    parts = [
        f"governor: paused this prompt: {a.cap_name} is {_pct(a.spent)} used ({a.source}), resets "
        f"{reset_label(a.reset, a.now, a.zone)}, and this session's context is {fmt_tokens(ctx)} tokens"
        f"{ceiling}.",
        f"Every turn re-reads it: ~{fmt_tokens(per_turn)} weighted units a turn{share}.",
        "Run /compact (keeps the thread) or /clear (new task), then send your prompt again.",
        "To turn this off: set pacing.hard_clamp_at to null in budget.json.",
    ]
    return " ".join(parts)
