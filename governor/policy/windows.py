"""Every limit window that can lock a person out, and which of them binds (pure).

Claude Code's `/usage` shows "Current session" (five_hour), "Current week (all models)" (seven_day),
"Current week (Sonnet only)" (seven_day_sonnet) and one "Current week (<model>)" per model-scoped weekly
limit. governor names a scoped window `seven_day_<model>` (the display name folded to an identifier)
and counts a model's local units toward it by family: a model id containing the window's family word.

The binding window is the one that projects worst relative to its own cap: every fraction here is of
that window's cap (1.0 = the limit), so the largest projection binds; a tie goes to the window that
resets first (it would lock out sooner), then to the larger spend.
"""

from __future__ import annotations

from collections.abc import Sequence

from governor.record import Record  # a NamedTuple without exec-compiling one per class

FIVE_HOUR, WEEKLY, SONNET = "five_hour", "seven_day", "seven_day_sonnet"
SESSION, WEEKLY_ALL, WEEKLY_SCOPED = "session", "weekly_all", "weekly_scoped"
SCOPED_PREFIX = "seven_day_"
# Windows the usage endpoint reports that no /usage row shows and no limit of the person's is behind.
NOT_LIMITS = frozenset({"seven_day_oauth_apps", "seven_day_cowork", "extra_usage", "limits"})
HEADROOM_BELOW = 0.8  # another model's week projecting under this has room to take the work


class Spec(Record):
    """What a window is: its id, /usage's name for it, its status-line word, its kind and model family."""

    name: str
    label: str
    short: str
    kind: str
    family: str | None = None  # weekly_scoped: the model family whose units count toward it


def slug(display_name: str) -> str:
    """'Opus' -> 'opus', 'Sonnet 5' -> 'sonnet_5': the id part of a scoped window's name."""
    out = "".join(ch.lower() if ch.isascii() and ch.isalnum() else "_" for ch in display_name.strip())
    return "_".join(part for part in out.split("_") if part)


def scoped_name(display_name: str) -> str | None:
    """The window id of a `weekly_scoped` limit for `display_name`, or None when nothing is left of it."""
    word = slug(display_name)
    return SCOPED_PREFIX + word if word else None


def spec_for(name: str, display_name: str | None = None) -> Spec | None:
    """The Spec of a window id; None for ids that are not a limit (seven_day_oauth_apps, ...)."""
    if name in NOT_LIMITS:
        return None
    if name == FIVE_HOUR:
        return Spec(name, "Current session", "5h", SESSION)
    if name == WEEKLY:
        return Spec(name, "Current week (all models)", "wk", WEEKLY_ALL)
    if name.startswith(SCOPED_PREFIX) and len(name) > len(SCOPED_PREFIX):
        word = name[len(SCOPED_PREFIX):]
        shown = display_name.strip() if display_name and display_name.strip() else word.replace("_", " ").title()
        label = "Current week (Sonnet only)" if name == SONNET else f"Current week ({shown})"
        return Spec(name, label, shown, WEEKLY_SCOPED, word.split("_")[0])
    return None


def in_family(model: str | None, family: str | None) -> bool:
    """Whether a response's model counts toward a scoped window of `family` (None: every model)."""
    if family is None:
        return True
    return bool(model) and family in str(model).lower()


class View(Record):
    """One window's standing, as the binding choice and the messages need it (fractions of its cap)."""

    name: str
    spent: float
    projected: float
    hours_left: float
    kind: str = WEEKLY_ALL


def binding(views: Sequence[View]) -> View | None:
    """The window that projects worst relative to its cap; ties to the earlier reset, then the larger spend."""
    if not views:
        return None
    return min(views, key=lambda v: (-round(v.projected, 9), v.hours_left, -v.spent, v.name))


def hours_to_cap(spent: float, rate_per_hour: float) -> float | None:
    """Hours until the window reaches its cap at this rate; 0 when already there, None when it never will."""
    if spent >= 1.0:
        return 0.0
    if rate_per_hour <= 0:
        return None
    return (1.0 - spent) / rate_per_hour


def headroom(bound: View, views: Sequence[View]) -> View | None:
    """When a model-scoped week binds: the other scoped week (a real alternative model) with the most room,
    if it projects under HEADROOM_BELOW and under the bound one, and the all-models week is not on pace
    for its cap; None otherwise."""
    if bound.kind != WEEKLY_SCOPED or any(v.kind == WEEKLY_ALL and v.projected >= 1.0 for v in views):
        return None  # switching models does not help when the all-models week runs out too
    others = [v for v in views if v.kind == WEEKLY_SCOPED and v.name != bound.name
              and v.projected < HEADROOM_BELOW and v.projected < bound.projected]
    return min(others, key=lambda v: (v.projected, v.name)) if others else None


class Extra(Record):
    """Extra usage (paid overage) for the billing period; amounts in minor units of `currency` (cents)."""

    is_enabled: bool
    monthly_limit: float | None
    used_credits: float | None
    utilization: float | None
    currency: str | None
    captured_at: float
    source: str


def money(minor_units: float, currency: str | None) -> str:
    """12345 (cents) -> '$123.45'; another currency by its code: 'EUR 123.45'."""
    code = (currency or "USD").upper()
    amount = f"{minor_units / 100:,.2f}"
    return f"${amount}" if code == "USD" else f"{code} {amount}"


def extra_text(extra: Extra | None) -> str | None:
    """'extra usage $12.40 of $50.00 this month', or None when extra usage is off or unknown."""
    if extra is None or not extra.is_enabled or extra.used_credits is None:
        return None
    limit = f" of {money(extra.monthly_limit, extra.currency)}" if extra.monthly_limit else ""
    return f"extra usage {money(extra.used_credits, extra.currency)}{limit} this month"


def spills(projected: float, extra: Extra | None) -> bool:
    """A projection past the cap runs on paid extra usage when it is enabled (instead of stopping)."""
    return projected > 1.0 and extra is not None and extra.is_enabled


SUBJECTS = {SESSION: "5-hour window", WEEKLY_ALL: "week"}
MODEL_ALIASES = ("opus", "sonnet", "haiku")  # what Claude Code's /model takes as a family alias


def subject(spec: Spec) -> str:
    """How a message names the window: 'week', '5-hour window', 'Sonnet week'."""
    return SUBJECTS.get(spec.kind, f"{spec.short} week")


def model_alias(spec: Spec) -> str | None:
    return spec.family if spec.family in MODEL_ALIASES else None
