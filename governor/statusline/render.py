"""The status line's text: one short line from the budget state and the status-line payload (pure).

    wk 61% official → 94% at reset · 5h 22% · ctx 182k/350k · codex wk 40%
    5h 71% official → 104% at reset · wk 41% official · Sonnet 12% · ctx 90k

The binding window (the one that projects worst relative to its limit) comes first with its projection;
the all-models week, when another window binds, follows with its provenance; the 5-hour and scoped
weeks then show their % used, and extra usage its credits when it is enabled.

The weekly part always carries its provenance word. Colour (ANSI, the caller decides whether):
red once the projection reaches the lowest pacing band (the pacing hook is advising), yellow from
90 % of min(1.0, lowest band), green below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from governor.fmt import fmt_range, fmt_tokens, paint
from governor.record import Record  # a NamedTuple without exec-compiling one per class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

SEP = " · "
WORDS = {"official": "official", "calibrated": "calibrated", "local estimate": "local est."}
YELLOW_FROM = 0.9  # of min(1.0, the lowest band's projected_at)
FIVE_HOUR_YELLOW, FIVE_HOUR_RED = 80.0, 95.0


class Binding(Record):
    """The window shown first when it is not the all-models week (fractions of its own limit)."""

    short: str  # "5h" | "Sonnet" | ...
    spent: float
    source: str
    projected: float
    bands: Sequence[Mapping[str, Any]]  # its bands, for its colour


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def context_tokens(payload: Mapping[str, Any]) -> int | None:
    """The session's current context: current_usage's input + cache fields (the last response's prompt),
    else context_window.total_input_tokens; None before the first response."""
    window = payload.get("context_window")
    if not isinstance(window, dict):
        return None
    current = window.get("current_usage")
    if isinstance(current, dict):
        parts = [_count(current.get(k)) for k in
                 ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
        if any(p is not None for p in parts):
            return sum(p or 0 for p in parts)
    return _count(window.get("total_input_tokens")) or None


def week_color(projected: float, bands: Sequence[Mapping[str, Any]]) -> str:
    lowest = min((float(b["projected_at"]) for b in bands), default=1.0)
    if projected >= lowest:
        return "red"
    return "yellow" if projected >= YELLOW_FROM * min(1.0, lowest) else "green"


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.0f}%"


def render(
    spent_fraction: float,
    source: str,
    projected: float,
    bands: Sequence[Mapping[str, Any]],
    five_hour_pct: float | None = None,
    context: int | None = None,
    ceiling: int | None = None,
    codex_weekly_pct: float | None = None,
    color: bool = False,
    kept_on_claude: str | None = None,
    spent_range: tuple[float, float] | None = None,
    run_share: float | None = None,
    binding: Binding | None = None,
    scoped: Sequence[tuple[str, float]] = (),
    extra: str | None = None,
) -> str:
    """`spent_range` (low, high): a calibrated figure wider than 2 points shows as its range, "72–78%".
    `binding`: another window than the all-models week binds (it comes first); `scoped`: (word, % used) of
    the model-scoped weeks not binding; `extra`: the extra-usage credits, when enabled."""
    word = WORDS.get(source, source)
    shown = fmt_range(*spent_range) if spent_range and source == "calibrated" else None
    parts = []
    if binding is not None:
        head = f"{binding.short} {_pct(binding.spent)} {WORDS.get(binding.source, binding.source)} → " \
               f"{_pct(binding.projected)} at reset"
        parts.append(paint(head, week_color(binding.projected, binding.bands), color))
        parts.append(paint(f"wk {shown or _pct(spent_fraction)} {word}", week_color(projected, bands), color))
    else:
        week = f"wk {shown or _pct(spent_fraction)} {word} → {_pct(projected)} at reset"
        parts.append(paint(week, week_color(projected, bands), color))
    if five_hour_pct is not None and not (binding is not None and binding.short == "5h"):
        shade = "red" if five_hour_pct >= FIVE_HOUR_RED else ("yellow" if five_hour_pct >= FIVE_HOUR_YELLOW
                                                              else "")
        parts.append(paint(f"5h {five_hour_pct:.0f}%", shade, color))
    parts.extend(f"{short} {pct:.0f}%" for short, pct in scoped)
    if extra:
        parts.append(extra)
    if context is not None:
        text = f"ctx {fmt_tokens(context)}" + (f"/{fmt_tokens(ceiling)}" if ceiling else "")
        parts.append(paint(text, "red" if ceiling and context > ceiling else "", color))
    if run_share is not None:  # this run's own share of the weekly cap, once past pacing.run_warn_fraction
        parts.append(paint(f"run {run_share * 100:.1f}%" if run_share < 0.1 else f"run {run_share * 100:.0f}%",
                           "yellow", color))
    if codex_weekly_pct is not None:
        parts.append(f"codex wk {codex_weekly_pct:.0f}%")
    if kept_on_claude:  # the router saw hand-off work but kept it here: say why
        parts.append(f"kept on Claude: {kept_on_claude}")
    return SEP.join(parts)
