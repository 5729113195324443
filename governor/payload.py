"""A hook's or the status line's stdin JSON, parsed within bounds.

Claude Code sends KBs; a hostile or broken payload can be megabytes of keys, nested thousands deep, or
carry lone surrogates (`"\\ud800"`), which json accepts but SQLite cannot store: one would fail every
write of a session id, a prompt head or a capture. So: a size cap, RecursionError as a parse error, and
lone surrogates replaced by "?" (only walked when the raw text holds such an escape).
"""

from __future__ import annotations

from governor import fastjson as json  # json without importing json (re, enum): hot path

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any


class PayloadError(ValueError):
    """stdin is not a JSON object governor can use."""


def parse(data: bytes | str, limit: int) -> dict[str, Any]:
    """The JSON object in `data` ({} when blank); PayloadError when too large, not JSON or not an object."""
    if len(data) > limit:
        raise PayloadError(f"payload larger than {limit} bytes: not parsed")
    if not data.strip():
        return {}
    try:
        payload = json.loads(data)
    except RecursionError:
        raise PayloadError("payload nested too deep") from None
    except ValueError as exc:
        raise PayloadError(f"payload is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PayloadError("payload is not a JSON object")
    has_escape = b"\\u" in data if isinstance(data, bytes) else "\\u" in data
    if has_escape:  # cheap: only a payload with \u escapes can hold a lone surrogate
        scrubbed: dict[str, Any] = _scrub(payload)
        return scrubbed
    return payload


def _scrub(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys included) replaced by '?'."""
    stack: list[Any] = []
    root = [value]
    stack.append(root)
    while stack:  # iterative: a deep payload would overflow a recursive walk
        container = stack.pop()
        items = list(container.items()) if isinstance(container, dict) else list(enumerate(container))
        if isinstance(container, dict):
            container.clear()
        for key, item in items:
            if isinstance(item, str):
                item = _clean(item)
            elif isinstance(item, (dict, list)):
                stack.append(item)
            if isinstance(container, dict):
                container[_clean(key) if isinstance(key, str) else key] = item
            else:
                container[key] = item
    return root[0]


def _clean(text: str) -> str:
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")
