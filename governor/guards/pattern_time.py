"""Router patterns bounded in time on the prompt hook, whatever the person wrote in budget.json.

router.slow_reason vets the usual catastrophic shapes (a repeat inside a repeat) out statically, but
not every slow pattern has that shape (`(\\w|\\w\\w)+$`, `\\w*\\w*\\w*\\w*\\w*\\w*!`). Each search here runs
under a SIGALRM timer: stdlib `re` checks for signals while it backtracks, so the handler's exception
stops a runaway match. A pattern that runs past PATTERN_BUDGET_S is vetted out for the process
(router.mark_slow), remembered in the ledger's meta (`router_slow`, so later prompts skip it without
paying the budget again) and named by `governor doctor`, which also probes every pattern itself.
Off the main thread (no SIGALRM there) the search is unbounded, as it was.
"""

from __future__ import annotations

from collections.abc import Mapping

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor.fastsqlite import sqlite3
from governor.log import log
from governor.policy import router, router_literals

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

PATTERN_BUDGET_S = 0.1  # one search of the scanned prompt (4,000 characters): real patterns take microseconds
SLOW_KEY = "router_slow"  # meta: {pattern: reason} of the patterns found slow on a prompt
LITERALS_KEY = "router_literals"  # meta: {pattern: [literal, ...] | null} (policy.router_literals)
# Near-misses that make a backtracking pattern explode: what doctor tries each pattern on.
PROBES = tuple(s * 48 + end for s in ("a", "ab", "word ", "1", "a1 ", "x-") for end in ("!", "\u00a7"))


try:  # the C module `signal` wraps: already loaded at start-up, where `signal` costs the hook ~0.7 ms (enums)
    import _signal as signal  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # not CPython
    import signal


class _TooSlow(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _TooSlow


def timed_search(pattern: str, text: str, budget_s: float = PATTERN_BUDGET_S) -> bool | None:
    """router.search bounded to `budget_s`: None when it ran out of time."""
    try:
        previous = signal.signal(signal.SIGALRM, _alarm)
    except (ValueError, AttributeError, OSError):  # not the main thread, or no SIGALRM here
        return router.search(pattern, text)
    try:
        signal.setitimer(signal.ITIMER_REAL, budget_s)
        try:
            return router.search(pattern, text)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _TooSlow:
        return None
    finally:
        signal.signal(signal.SIGALRM, previous)


def _meta_dict(conn: sqlite3.Connection, key: str) -> dict[str, Any]:
    """A JSON object the ledger's meta keeps under `key`; {} when absent or unreadable."""
    from governor.meter import db

    try:
        found = json.loads(db.get_meta(conn, key) or "{}")
    except (ValueError, sqlite3.Error):
        return {}
    return found if isinstance(found, dict) else {}


def known_slow(conn: sqlite3.Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in _meta_dict(conn, SLOW_KEY).items()}


def known_literals(conn: sqlite3.Connection) -> dict[str, list[str] | None]:
    """The patterns' literals (policy.router_literals), as the ledger's meta remembers them."""
    return {str(k): v if isinstance(v, list) and all(isinstance(s, str) for s in v) else None
            for k, v in _meta_dict(conn, LITERALS_KEY).items()}


def classify(prompt: str, cfg: Mapping[str, Any], conn: sqlite3.Connection) -> str:
    """router.classify with every search bounded; a pattern that runs out of time counts as no match
    from then on and is remembered for doctor. A prompt without any of a pattern's literals
    (policy.router_literals) is not searched at all: most prompts never import `re`."""
    remembered = known_slow(conn)
    for pattern, reason in remembered.items():
        router.mark_slow(pattern, reason)
    literals = known_literals(conn)
    learned: dict[str, list[str] | None] = {}
    slow: list[str] = []

    def matches(pattern: str, text: str) -> bool:
        if pattern not in literals:  # a new pattern: its literals found once (with `re`), then remembered
            literals[pattern] = learned[pattern] = router_literals.required(pattern)
        if not router_literals.may_match(literals[pattern], text):
            return False
        found = timed_search(pattern, text)
        if found is None:
            reason = f"took over {PATTERN_BUDGET_S * 1000:.0f} ms on a prompt"
            router.mark_slow(pattern, reason)
            slow.append(pattern)
            return False
        return found

    cls = router.classify(prompt, cfg, matches)
    if learned:  # kept for the patterns in use only, so an edited budget.json does not grow it
        current = {cfg[key] for key in router.PATTERN_KEYS if isinstance(cfg.get(key), str)}
        _store(conn, LITERALS_KEY, {p: v for p, v in literals.items() if p in current}, "pattern literals")
    if slow:
        log(f"router: pattern(s) {', '.join(repr(p) for p in slow)} ran past {PATTERN_BUDGET_S * 1000:.0f} ms:"
            " skipped from now on; rewrite them (governor doctor names them)")
        _store(conn, SLOW_KEY, {**remembered, **{p: router.slow_reason(p) or "" for p in slow}}, "slow pattern")
    return cls


def _store(conn: sqlite3.Connection, key: str, value: dict[str, Any], what: str) -> None:
    from governor.meter import db

    try:
        with db.transaction(conn):
            db.set_meta(conn, key, json.dumps(value, sort_keys=True))
    except sqlite3.Error as exc:  # busy: found again on a later prompt, at the cost of one more look
        log(f"router: {what} not remembered: {exc}")


def probe(pattern: str) -> str | None:
    """Why `pattern` is too slow for a prompt: a probe string it runs out of time on; None when it is fine
    (router.slow_reason is the static check)."""
    for text in PROBES:
        if timed_search(pattern, text) is None:
            return f"runs past {PATTERN_BUDGET_S * 1000:.0f} ms on {text[:12]!r}… ({len(text)} characters)"
    return None
