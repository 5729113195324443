"""Pacing inside one autonomous run (pure): what the run check says, and when.

A run is what a session does after a person's prompt: model steps, their tool calls, sub-agents,
`/loop` and task-notification prompts. Advice injected during a run stays in the model's context for
the rest of the session, so each fact is said once, on a change:
- the week's band rose or was first reached (what either hook said last counts: `band_said`);
- the context crossed the band's ceiling (once per crossing: falling below re-arms it);
- the run's own share of the weekly cap reached `run_warn_fraction`, then each doubling of it;
- the clamp (once per run); it replaces the other messages of that check.
"""

from __future__ import annotations

from collections.abc import Mapping

from governor.record import Record  # a NamedTuple without exec-compiling one per class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any


class RunFacts(Record):
    started: float  # epoch s of the prompt that began the run
    now: float
    responses: int  # model responses since then, sub-agents' included
    share: float  # of the weekly cap

    @property
    def hours(self) -> float:
        return max(0.0, self.now - self.started) / 3600

    @property
    def share_per_hour(self) -> float:
        return self.share / self.hours if self.hours > 0 else 0.0


class Say(Record):
    band: bool = False
    crossing: bool = False
    share: bool = False
    clamp: bool = False

    @property
    def anything(self) -> bool:
        return self.band or self.crossing or self.share or self.clamp


def new_run(started: float, over_ceiling: bool) -> dict[str, Any]:
    """The state of a run that has just begun (what the person's prompt already covered)."""
    return {"started": started, "over": over_ceiling, "share_level": -1, "clamped": False}


def share_level(share: float, warn_fraction: float) -> int:
    """-1 below `warn_fraction`; else the k with warn_fraction * 2**k <= share < warn_fraction * 2**(k+1)."""
    if warn_fraction <= 0 or share < warn_fraction:
        return -1
    level = 0
    while share >= warn_fraction * 2 ** (level + 1):
        level += 1
    return level


def decide(
    run: Mapping[str, Any],
    facts: RunFacts,
    band_severity: int,
    band_said: int,
    over_ceiling: bool,
    clamp: bool,
    warn_fraction: float,
) -> tuple[Say, dict[str, Any]]:
    """(what to say now, the run's next state). `band_said` is the severity last said this cycle (0: none)."""
    level = share_level(facts.share, warn_fraction)
    state = {
        "started": facts.started,
        "over": over_ceiling,
        "share_level": max(level, int(run.get("share_level", -1))),
        "clamped": bool(run.get("clamped")) or clamp,
    }
    if clamp and not run.get("clamped"):
        return Say(clamp=True), state
    say = Say(
        band=band_severity > max(0, band_said),
        crossing=over_ceiling and not run.get("over"),
        share=level > int(run.get("share_level", -1)),
    )
    return say, state
