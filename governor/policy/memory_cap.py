"""The memory-index line cap: pure rules (safe_truncate, cap_text, load_status) and one locked apply.

Deterministic on purpose: a line-length rule, never a model call. Every shortened line's full text is
appended to `<name>.overflow.md` beside the file before the file itself is replaced, so nothing is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ELLIPSIS = " …"
LOAD_MAX_LINES = 200  # Claude Code loads the first 200 lines of MEMORY.md ...
LOAD_MAX_UNITS = 25_000  # ... or 25,000 UTF-16 code units (JS string length), whichever comes first

# Any line that looks like a fence delimiter is never touched: shortening "```py `x`" to "```py …"
# would turn prose into a fence opener and change the structure of everything after it.
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True)
class Capped:
    line_no: int  # 1-based
    original: str  # the full line, without its line ending
    kept: str  # what the line now reads, ending in ELLIPSIS


@dataclass(frozen=True)
class LoadStatus:
    lines: int
    units: int  # UTF-16 code units of the whole file
    loaded_lines: int
    loaded_units: int

    @property
    def over(self) -> bool:
        return self.loaded_lines < self.lines

    @property
    def not_loaded_lines(self) -> int:
        return self.lines - self.loaded_lines

    @property
    def not_loaded_units(self) -> int:
        return self.units - self.loaded_units


def _link_spans(line: str) -> list[tuple[int, int]]:
    """(open, close) index pairs of matched [ ] and ( ); stray brackets belong to no span."""
    spans: list[tuple[int, int]] = []
    stacks: dict[str, list[int]] = {"[": [], "(": []}
    for i, ch in enumerate(line):
        if ch in stacks:
            stacks[ch].append(i)
        elif ch == "]" and stacks["["]:
            spans.append((stacks["["].pop(), i))
        elif ch == ")" and stacks["("]:
            spans.append((stacks["("].pop(), i))
    # `[text](url)` is one unit: no cut between `]` and `(`; an image's `!` goes with it.
    paren_close = {o: c for o, c in spans if line[o] == "("}
    for o, c in list(spans):
        if line[o] == "[" and c + 1 in paren_close:
            spans.append((o - 1 if o and line[o - 1] == "!" else o, paren_close[c + 1]))
    return spans


def _crossing(spans: list[tuple[int, int]], keep: int) -> int | None:
    """The leftmost opener that keeping line[:keep] would separate from its partner, if any."""
    opens = [o for o, c in spans if o < keep <= c]
    return min(opens) if opens else None


def safe_truncate(line: str, cap: int) -> str:
    """`line` if it fits in `cap` characters, else a prefix ending in ' …' that fits in `cap`.

    Cut at the last space that fits, backing off while the kept part would leave a [ ] or ( ) pair
    open (a markdown link is kept whole or dropped whole). With no usable space, cut hard, still
    before any link if one can be avoided.
    """
    if len(line) <= cap:
        return line
    limit = max(cap - len(ELLIPSIS), 1)
    spans = [s for s in _link_spans(line) if s[0] < limit]  # only pairs opened in the kept zone matter
    end = line.rfind(" ", 0, limit + 1)
    while end > 0:
        kept = line[:end].rstrip()
        opener = _crossing(spans, len(kept))
        if kept and opener is None:
            return kept + ELLIPSIS
        end = line.rfind(" ", 0, end if opener is None else min(end, opener + 1))
    keep: int | None = limit
    while keep:  # hard cut: the longest prefix that splits no pair, else simply `limit` characters
        opener = _crossing(spans, keep)
        if opener is None:
            break
        keep = opener
    return line[: keep or limit] + ELLIPSIS


def _split(text: str) -> tuple[list[str], list[str]]:
    """Lines without endings and their endings ('\\r' or ''); rejoining with '\\n' is exact."""
    contents, crs = [], []
    for piece in text.split("\n"):
        if piece.endswith("\r"):
            contents.append(piece[:-1])
            crs.append("\r")
        else:
            contents.append(piece)
            crs.append("")
    return contents, crs


def protected_lines(contents: list[str]) -> list[bool]:
    """Which lines the cap must not touch: YAML front matter and fenced code blocks (delimiters included)."""
    n = len(contents)
    protected = [False] * n
    start = 0
    if n and contents[0].lstrip("\ufeff").rstrip() == "---":
        close = next((j for j in range(1, n) if contents[j].rstrip() in ("---", "...")), None)
        if close is not None:  # without a closing line, '---' is a thematic break, not front matter
            protected[: close + 1] = [True] * (close + 1)
            start = close + 1
    fence: tuple[str, int] | None = None
    for i in range(start, n):
        m = _FENCE.match(contents[i])
        if fence is None:
            if m:
                protected[i] = True
                marker, info = m.group(1), m.group(2)
                if not (marker[0] == "`" and "`" in info):  # CommonMark: no backtick in a ``` info string
                    fence = (marker[0], len(marker))
        else:
            protected[i] = True  # an unclosed fence runs to the end of the file
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= fence[1] and not m.group(2).strip():
                fence = None
    return protected


def cap_text(text: str, cap: int) -> tuple[str, list[Capped]]:
    """Apply safe_truncate to every unprotected line; endings, final newline and line count unchanged."""
    contents, crs = _split(text)
    protected = protected_lines(contents)
    changes: list[Capped] = []
    for i, line in enumerate(contents):
        if len(line) > cap and not protected[i]:
            kept = safe_truncate(line, cap)
            changes.append(Capped(i + 1, line, kept))
            contents[i] = kept
    if not changes:
        return text, changes
    return "\n".join(c + cr for c, cr in zip(contents, crs, strict=True)), changes


def utf16_len(text: str) -> int:
    """JavaScript's string.length: characters outside the BMP count twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def load_status(text: str) -> LoadStatus:
    """How much of `text` Claude Code loads: lines 1-200, then cut at the last newline within 25,000 units."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # a final newline ends the last line; it does not start another
    loaded_lines = loaded_units = 0
    for i, line in enumerate(lines[:LOAD_MAX_LINES]):
        units = utf16_len(line) + (1 if i else 0)  # the newline before every line but the first
        if loaded_units + units > LOAD_MAX_UNITS:
            break
        loaded_lines += 1
        loaded_units += units
    total = utf16_len(text)
    if loaded_lines == len(lines):
        loaded_units = total
    return LoadStatus(len(lines), total, loaded_lines, loaded_units)


