"""The SessionStart guard: on resume/fork of a session whose context is large or whose prompt cache has
likely expired, tell the person what re-caching it costs and that a fresh session would not."""

from __future__ import annotations

from governor.config import load_config

TYPE_CHECKING = False  # typing is for type checkers only: ~3 ms (it imports re) per hook run
if TYPE_CHECKING:  # a plain dict at run time: one module fewer on every hook run
    from typing import Any

    from governor.guards.result import HookResult


def _tokens(n: float) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def handle(payload: dict[str, Any]) -> HookResult | None:
    if payload.get("source") not in ("resume", "fork"):
        return None
    config = load_config()
    if not config["pacing"]["enabled"]:
        return None
    context = payload.get("context_tokens")
    if isinstance(context, bool) or not isinstance(context, (int, float)) or context <= 0:
        return None
    expired = payload.get("prompt_cache_likely_expired") is True
    if not expired and context < int(config["pacing"]["resume_warn_tokens"]):
        return None
    usd = payload.get("estimated_cache_write_usd")
    weights = config["weights"]
    # Re-caching writes the whole context once; every later turn re-reads it.
    write_units = context * weights["cache_creation"]
    read_units = context * weights["cache_read"]
    cap = float(config["caps"][config["tier"]])
    cost = (
        f"~${usd:.2f}"
        if isinstance(usd, (int, float)) and not isinstance(usd, bool)
        else f"~{write_units / cap * 100:.2f}% of the weekly cap"
    )
    if expired:
        lead = f"governor: resuming {_tokens(context)} tokens of context with a cold cache re-writes it all ({cost})"
    else:
        lead = f"governor: this session carries {_tokens(context)} tokens of context"
    message = (
        f"{lead}, then re-reads it every turn (~{_tokens(read_units)} weighted units a turn). "
        "For a new task, a fresh session with a short summary starts near zero; /compact shrinks this one."
    )
    return {"system_message": message}
