"""What a guard returns: the hook's messages, rendered to Claude Code's JSON by guards.runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypedDict

    class HookResult(TypedDict, total=False):
        system_message: str  # shown to the person only
        additional_context: str  # handed to the model
        block_reason: str  # UserPromptSubmit: erase the prompt and show this to the person
        stop_reason: str  # PostToolBatch: stop the agentic loop (exit 2), this on stderr
else:  # at run time a plain dict: building a TypedDict class costs every hook ~2 ms
    HookResult = dict
