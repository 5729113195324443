"""`json.loads` / `json.dumps` for the hot paths without importing `json`.

`import json` costs a hook ~6 ms of its ~25 ms beyond a bare interpreter: json imports `re`, which
imports `enum` and `functools`, only to compile the whitespace pattern its decoder skips. The parsing
and the encoding themselves are the C accelerator `_json`, which imports nothing. This module drives
that same C scanner and encoder with the arguments `json` passes them, so the results are the same
objects and the same strings (tests/test_fastjson.py holds the two to each other). Anything unusual (a
parse error, a UTF-8 BOM, bytes that are not UTF-8 by json's own detection, an `indent`, an interpreter
without `_json`) is handed to the real `json`, which then decides and raises exactly as before.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable
    from typing import Any

_c: Any
try:
    import _json as _c  # the accelerator json itself uses
except ImportError:  # not CPython: the real json does it all
    _c = None

_WS = " \t\n\r"  # json.decoder.WHITESPACE
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Context:
    """The attributes the C scanner reads from json.JSONDecoder, at json's defaults."""

    def __init__(self, parse_float: Callable[[str], Any] | None, parse_int: Callable[[str], Any] | None,
                 parse_constant: Callable[[str], Any] | None) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = parse_float or float
        self.parse_int = parse_int or int
        self.parse_constant = parse_constant or _CONSTANTS.__getitem__


_default_scan = _c.make_scanner(_Context(None, None, None)) if _c is not None else None


def _slow_loads(s: str | bytes, kw: dict[str, Any]) -> Any:
    import json

    return json.loads(s, **kw)


def loads(s: str | bytes, *, parse_float: Callable[[str], Any] | None = None,
          parse_int: Callable[[str], Any] | None = None,
          parse_constant: Callable[[str], Any] | None = None) -> Any:
    """json.loads(s, ...) for str or bytes: the same value, or the same exception (raised by json)."""
    kw = {k: v for k, v in (("parse_float", parse_float), ("parse_int", parse_int),
                            ("parse_constant", parse_constant)) if v is not None}
    if _default_scan is None:
        return _slow_loads(s, kw)
    if not isinstance(s, str):
        # json.detect_encoding: UTF-8 unless a BOM or a NUL among the first bytes says otherwise
        if not isinstance(s, (bytes, bytearray)) or s.startswith(b"\xef\xbb\xbf") or b"\x00" in s[:4]:
            return _slow_loads(s, kw)
        try:
            text = s.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return _slow_loads(s, kw)
    else:
        text = s
    scan = _default_scan if not kw else _c.make_scanner(_Context(parse_float, parse_int, parse_constant))
    n = len(text)
    idx = 0
    while idx < n and text[idx] in _WS:
        idx += 1
    try:
        obj, end = scan(text, idx)
    except StopIteration:  # "Expecting value": json builds the message
        return _slow_loads(s, kw)
    while end < n and text[end] in _WS:
        end += 1
    if end != n:  # "Extra data"
        return _slow_loads(s, kw)
    return obj


def load(fh: Any) -> Any:
    return loads(fh.read())


def _default(o: Any) -> Any:  # json.JSONEncoder.default
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def dumps(obj: Any, *, ensure_ascii: bool = True, separators: tuple[str, str] | None = None,
          sort_keys: bool = False, indent: int | None = None) -> str:
    """json.dumps(obj, ...) for these arguments: the same string (the same C encoder, as json calls it)."""
    if _c is None or indent is not None:
        import json

        return json.dumps(obj, ensure_ascii=ensure_ascii, separators=separators, sort_keys=sort_keys,
                          indent=indent)
    if isinstance(obj, str):
        return str(_c.encode_basestring_ascii(obj) if ensure_ascii else _c.encode_basestring(obj))
    item_sep, key_sep = separators or (", ", ": ")
    # a new encoder per call, as json makes one: its circular-reference markers start empty
    encoder = _c.make_encoder({}, _default, _c.encode_basestring_ascii if ensure_ascii else _c.encode_basestring,
                              None, key_sep, item_sep, sort_keys, False, True)
    return "".join(encoder(obj, 0))
