"""Human output for the CLI: tables, colour (NO_COLOR honoured), number formats, --json."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

_CODES = {
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "dim": "2",
    "bold": "1",
}


def use_color(stream: Any = None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def paint(text: str, color: str, enabled: bool) -> str:
    return f"\x1b[{_CODES[color]}m{text}\x1b[0m" if enabled and color in _CODES else text


def fmt_tokens(n: float) -> str:
    """Compact token count: 950, 12.3k, 4.56M, 1.23B."""
    n = float(n)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            value = n / size
            return f"{value:.3g}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return f"{n:.0f}"


def fmt_int(n: float) -> str:
    return f"{int(round(n)):,}"


def fmt_usd(x: float) -> str:
    return f"${x:,.2f}"


def fmt_pct(fraction: float | None, digits: int = 0) -> str:
    return "—" if fraction is None else f"{fraction * 100:.{digits}f}%"


RANGE_SHOWN_ABOVE = 0.02  # a calibrated range narrower than 2 points of the cap is the point itself


def fmt_range(low: float, high: float) -> str | None:
    """"72–78%" when the range is wide enough to matter, else None."""
    return f"{low * 100:.0f}–{high * 100:.0f}%" if high - low > RANGE_SHOWN_ABOVE else None


