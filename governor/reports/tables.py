"""Tables and --json output for the CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~2 ms per report
    from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """Plain-text table; `align` has one char per column, 'l' or 'r' (default: first left, rest right)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(_strip_ansi(r[i])) for r in cells) for i in range(len(headers))]
    align = align or ("l" + "r" * (len(headers) - 1))
    lines = []
    for idx, row in enumerate(cells):
        parts = []
        for i, cell in enumerate(row):
            pad = widths[i] - len(_strip_ansi(cell))
            parts.append(cell + " " * pad if align[i] == "l" else " " * pad + cell)
        lines.append("  ".join(parts).rstrip())
        if idx == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
