"""Intent classification for the second lane: pure, stdlib `re` only (imported when a pattern is first
compiled: a prompt that policy.router_literals rules out never needs it), imported by the prompt hook.

`classify` decides what a prompt *is* (handoff / hold / none); `routing_decision` decides what to
*do* given the router mode, Claude's pace and the Codex lane. Neither does I/O.

Cost bound: only the first `router.scan_chars` characters are read (whitespace collapsed), so a
1 MB prompt costs what a 4 KB one does. The patterns come from budget.json and are user-supplied, and
stdlib `re` backtracks: a pattern with a repeat inside a repeat (`(\\w+\\s?)+$`) takes exponential time
on a prompt that almost matches, and `re` holds the GIL, so no timeout can stop it. Such a pattern is
vetted out when it is first compiled (`slow_reason`): it never matches, and `governor doctor` names it.
Compiled patterns are cached per process by pattern string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from governor.record import Record  # a NamedTuple without exec-compiling one per class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    import re
    from typing import Any

DEFAULT_SCAN_CHARS = 4000
PATTERN_KEYS = ("impl_verb", "breadth", "architecture")  # router.* settings that hold a pattern
_PATTERNS: dict[str, re.Pattern[str] | None] = {}

# Prompts Claude Code submits on nobody's behalf (background agents, /loop and scheduled wake-ups,
# local-command echoes, pasted system reminders). Compared against the start of the stripped prompt.
NON_HUMAN_PREFIXES = (
    "<task-notification>",
    "<task-notification ",
    "<command-",  # <command-name>, <command-message>, <command-args>
    "<local-command-",  # <local-command-stdout>, <local-command-caveat>
    "<system-reminder>",
    "<user-prompt-submit-hook>",
    "<bash-input>",
    "<bash-stdout>",
    "<scheduled-",
    "<cross-session-",
    "<teammate-message",
    "caveat: the messages below",
    "[request interrupted by user",
)


_SLOW: dict[str, str] = {}


def sre_parser() -> Any:
    """What re.compile itself parses with (re._parser; sre_parse on Python 3.10); imports `re` (~3 ms)."""
    try:
        import re._parser as parser
    except ImportError:  # Python 3.10
        import sre_parse as parser  # type: ignore[no-redef, unused-ignore]
    return parser


def slow_reason(pattern: str) -> str | None:
    """Why `pattern` can backtrack catastrophically (a repeat of more than one inside another repeat of
    more than one, either unbounded), or None. Conservative: a possessive or atomic inner repeat, which
    cannot backtrack, passes; an overlapping alternation under a repeat (`(a|a)*`) is not detected."""
    if pattern not in _SLOW:
        import re

        try:
            sre = sre_parser()
            _SLOW[pattern] = _nested_repeat(sre.parse(pattern, re.IGNORECASE), None, sre) or ""
        except (re.error, RecursionError, OverflowError):
            _SLOW[pattern] = ""  # re.compile reports it
    return _SLOW[pattern] or None


def _nested_repeat(items: Any, outer: tuple[int, int] | None, sre_parse: Any) -> str | None:
    # possessive repeats and atomic groups (Python 3.11+) cannot be backtracked into
    no_backtrack = tuple(op for op in (getattr(sre_parse, "POSSESSIVE_REPEAT", None),
                                       getattr(sre_parse, "ATOMIC_GROUP", None)) if op is not None)
    for op, arg in items:
        if op in no_backtrack:
            continue
        if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
            low, high, body = arg
            many = high > 1
            unbounded = high == sre_parse.MAXREPEAT
            if outer is not None and many and (unbounded or outer[1] == sre_parse.MAXREPEAT):
                return "a repeat inside a repeat: exponential backtracking on a near-miss"
            found = _nested_repeat(body, (low, high) if many else outer, sre_parse)
        elif op is sre_parse.SUBPATTERN:
            found = _nested_repeat(arg[-1], outer, sre_parse)
        elif op is sre_parse.BRANCH:
            found = next((r for branch in arg[1] if (r := _nested_repeat(branch, outer, sre_parse))), None)
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            found = _nested_repeat(arg[1], outer, sre_parse)
        else:
            found = None
        if found:
            return found
    return None


def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The compiled pattern, or None for one slow_reason vets out (it never matches)."""
    rx = _PATTERNS.get(pattern)
    if rx is None and pattern not in _PATTERNS:
        import re

        rx = _PATTERNS[pattern] = None if slow_reason(pattern) else re.compile(pattern, re.IGNORECASE)
    return rx


def search(pattern: str, text: str) -> bool:
    rx = _compiled(pattern)
    return rx is not None and rx.search(text) is not None



def mark_slow(pattern: str, reason: str) -> None:
    """Vet `pattern` out for this process (it never matches; slow_reason gives `reason`): one that took
    too long on a real prompt (guards/pattern_time.py), where the static check let it through."""
    _SLOW[pattern] = reason
    _PATTERNS[pattern] = None


def scan_text(prompt: str, scan_chars: int = DEFAULT_SCAN_CHARS) -> str:
    """The bounded, whitespace-collapsed prefix the patterns see ("write the\\ntests" matches)."""
    return " ".join(prompt[: max(0, int(scan_chars))].split())


def classify(prompt: str, router_cfg: Mapping[str, Any],
             matches: Callable[[str, str], bool] = search) -> str:
    """'handoff' (implementation verb AND breadth), else 'hold' (architecture), else 'none'. `matches`
    (pattern, text) is `search`, or the hook's time-bounded one."""
    text = scan_text(prompt, router_cfg.get("scan_chars", DEFAULT_SCAN_CHARS))
    if not text:
        return "none"
    if matches(router_cfg["impl_verb"], text) and matches(router_cfg["breadth"], text):
        return "handoff"
    if matches(router_cfg["architecture"], text):
        return "hold"
    return "none"


def _is_slash_command(head: str) -> bool:
    """"/name args" (also "/plugin:name"); "/home/dev/x.py is broken" is a path, not a command."""
    token = head.split(None, 1)[0]
    return len(token) > 1 and token[0] == "/" and token[1].isalnum() and "/" not in token[1:]


def is_human_prompt(payload: Mapping[str, Any]) -> bool:
    """True for a prompt a person typed; False for slash commands, empty prompts and machine prompts.

    Machine prompts: a `source` other than "user" (Claude Code's schema lists sdk, system,
    loop_wakeup, schedule_wakeup, poll_event), a payload from a subagent (`agent_id`), and text that
    starts with one of NON_HUMAN_PREFIXES (task notifications, command echoes, system reminders).
    """
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        return False
    source = payload.get("source")
    if source is not None and source != "user":
        return False
    if payload.get("agent_id"):
        return False
    head = prompt[:200].lstrip()
    if not head:
        return False
    if _is_slash_command(head):
        return False
    return not head.lower().startswith(NON_HUMAN_PREFIXES)


class CodexState(Record):
    """The Codex lane as the router sees it. weekly_used is a fraction (0.91), None when unknown.

    (A NamedTuple, not a dataclass: `dataclasses` pulls in `inspect`, ~10-30 ms on the hook path.)
    """

    enabled: bool
    installed: bool
    weekly_used: float | None = None
    hot_at: float = 0.85

    @property
    def hot(self) -> bool:
        return self.weekly_used is not None and self.weekly_used >= self.hot_at


def routing_decision(cls: str, mode: str, over_pace: bool, codex: CodexState) -> tuple[str, str]:
    """(decision, reason); decision is handoff | hold | pass | skipped | off.

    'skipped' = hand-off class kept on Claude; the reason is short enough for a status line.
    """
    if mode == "off":
        return "off", "router off"
    if cls == "hold":
        return "hold", "architecture: stays on Claude"
    if cls != "handoff":
        return "pass", ""
    if not codex.enabled:
        return "skipped", "codex lane disabled"
    if not codex.installed:
        return "skipped", "codex not installed"
    if codex.hot:
        return "skipped", f"codex weekly {codex.weekly_used or 0:.0%} >= {codex.hot_at:.0%}"
    if mode == "when_over_pace" and not over_pace:
        return "skipped", "claude on pace"
    return "handoff", "claude over pace" if over_pace else "router mode always"
