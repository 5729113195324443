"""The fail-open wrapper every hook runs through: stdin payload -> guard -> JSON on stdout.

Whatever goes wrong (bad stdin, a missing transcript, a locked ledger, an invalid budget.json, a bug),
the hook exits 0, prints nothing and leaves one line in governor.log. Guards are imported lazily by
event so each hook pays only for its own code.
"""

from __future__ import annotations

import os
import sys

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor import paths
from governor.guards import background_scan
from governor.log import log
from governor.paths import kill_switch_on

TYPE_CHECKING = False  # typing is for type checkers only: ~3 ms (it imports re) per hook run
if TYPE_CHECKING:  # a plain dict at run time: one module fewer on every hook run
    from typing import Any

    from governor.guards.result import HookResult

# event -> "module:function"; each guard takes the payload dict and returns a HookResult or None.
GUARDS = {
    "UserPromptSubmit": "governor.guards.prompt:handle",
    "PostToolUse": "governor.guards.memory:handle",
    "PostToolBatch": "governor.guards.run_check:handle",
    "SessionStart": "governor.guards.session:handle",
    "CodexUserPromptSubmit": "governor.guards.codex_nudge:handle",
}

# Claude Code's cap is 10,000 characters; our own limits are far below it, this is a last guard.
MAX_FIELD_CHARS = 4000


def render(event: str, result: HookResult | None) -> str:
    """The JSON line Claude Code expects, or '' when there is nothing to say."""
    if not result:
        return ""
    out: dict[str, Any] = {}
    if result.get("block_reason"):
        out["decision"] = "block"
        out["reason"] = result["block_reason"][:MAX_FIELD_CHARS]
    if result.get("system_message"):
        out["systemMessage"] = result["system_message"][:MAX_FIELD_CHARS]
    if result.get("additional_context"):
        hook_event = "UserPromptSubmit" if event == "CodexUserPromptSubmit" else event
        out["hookSpecificOutput"] = {
            "hookEventName": hook_event,
            "additionalContext": result["additional_context"][:MAX_FIELD_CHARS],
        }
    return json.dumps(out, ensure_ascii=False) if out else ""


# What a hook parses at most: a real payload is KBs (a Write of a large file a few MB); a 14 MB payload of
# 400k keys took json 7-12 s, past Claude Code's hook timeout.
MAX_PAYLOAD_CHARS = 8 * 1024 * 1024


def read_payload(stream: Any) -> dict[str, Any]:
    from governor.payload import parse

    payload = parse(stream.read(MAX_PAYLOAD_CHARS + 1), MAX_PAYLOAD_CHARS)
    if not payload:
        raise ValueError("empty stdin")
    return payload


def run(event: str) -> int:
    """Entry point of hooks/*.py. Returns 0, or 2 when a guard stops the agentic loop (`stop_reason`,
    written to stderr, which Claude Code shows)."""
    if kill_switch_on():
        return 0
    try:
        payload = read_payload(sys.stdin)
        module_name, func_name = GUARDS[event].split(":")
        # __import__ with a fromlist returns the guard module itself; importlib would import warnings too
        handler = getattr(__import__(module_name, fromlist=[func_name]), func_name)
        result = handler(payload)
        if result and result.get("stop_reason"):
            sys.stderr.write(result["stop_reason"][:MAX_FIELD_CHARS] + "\n")
            return 2
        text = render(event, result)
    except BaseException as exc:  # noqa: BLE001 - fail open on anything, KeyboardInterrupt included
        if isinstance(exc, SystemExit) and exc.code in (0, None):
            return 0
        log(f"hook {event} failed open: {type(exc).__name__}: {exc}", exc)
        if type(exc).__module__ == "sqlite3":  # a corrupt ledger: moved aside, rebuilt by the next run
            from governor.meter.db import set_aside_if_corrupt

            set_aside_if_corrupt(exc, f"hook {event}")
        return 0
    if text:
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except OSError as exc:
            log(f"hook {event}: cannot write stdout: {exc}")
    return 0


def run_and_exit(event: str) -> None:
    """run(), flush, then leave without interpreter teardown: the hook's work is committed and flushed,
    and skipping finalization (module teardown, the SQLite close-time checkpoint) saves the person ~10 ms
    per prompt. A WAL database is crash-safe, so this is no less safe than a normal exit."""
    paths.exits_without_teardown = True  # the ledger connection is left open: see meter.db.release
    code = run(event)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        background_scan.start_pending()  # after the reply: the person never waits for the once-a-minute scan
    finally:
        os._exit(code)
