"""A necessary condition for a router pattern to match, checkable without `re` (pure).

`required(pattern)` finds literals one of which every match of the pattern must contain (`\\b(implement|
refactor)\\b` -> ["implement", "refactor"]), or None when it cannot tell. A prompt containing none of them
cannot match, so the hook skips the regex and, for most prompts, never imports `re` (~3 ms of every
prompt's start-up). It only ever rules a match out: `may_match` is True whenever the pattern could match.

Exactness: the patterns are compiled with IGNORECASE, so literals and text are compared lower-cased; that
equals re's case-insensitive matching only between ASCII characters (re folds 'ſ' to 's' and the Kelvin
sign to 'k'), so a pattern with a non-ASCII literal has no literals, and a non-ASCII text is always handed
to the regex.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

MAX_LITERALS = 64  # beyond this many alternatives the check costs more than it saves


def may_match(literals: list[str] | None, text: str) -> bool:
    """False only when `text` contains none of `literals` (so the pattern cannot match it)."""
    if literals is None or not text.isascii():
        return True
    folded = text.lower()
    return any(literal in folded for literal in literals)


def required(pattern: str) -> list[str] | None:
    """Lower-cased literals one of which every match must contain, or None (imports `re`)."""
    import re

    from governor.policy.router import sre_parser

    sre = sre_parser()
    try:
        parsed = sre.parse(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):
        return None
    found = _sequence(list(parsed), sre)
    if found is None or len(found) > MAX_LITERALS or not all(s and s.isascii() for s in found):
        return None
    return sorted(found)


def _sequence(items: list[tuple[Any, Any]], sre: Any) -> set[str] | None:
    """The most selective set among the sequence's items: each run of literal characters, and each group,
    alternation or required repeat that has a set of its own; a necessary condition whichever is taken."""
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, arg in items:
        if op is sre.LITERAL:
            run.append(chr(arg))
            continue
        if run:
            candidates.append({"".join(run).lower()})
            run = []
        inner = _item(op, arg, sre)
        if inner is not None:
            candidates.append(inner)
    if run:
        candidates.append({"".join(run).lower()})
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(len(s) for s in c), -len(c)))


def _item(op: Any, arg: Any, sre: Any) -> set[str] | None:
    if op is sre.SUBPATTERN:
        return _sequence(list(arg[-1]), sre)
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _sequence(list(arg), sre)
    if op is sre.BRANCH:
        union: set[str] = set()
        for branch in arg[1]:
            inner = _sequence(list(branch), sre)
            if inner is None:
                return None  # this alternative can match without any literal we know of
            union |= inner
        return union
    repeats = (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None))
    if op in repeats and arg[0] >= 1:
        return _sequence(list(arg[2]), sre)
    return None  # a class, a wildcard, an optional part, a look-around, a back-reference: no literal known
