"""budget.json loading: validated with pydantic only when the file changed.

`load_config()` returns the validated, defaults-filled config as a plain dict. The validated form
is cached in the state dir keyed by the file's (mtime_ns, size), so a hook pays one stat and one
small JSON read, never the pydantic import.
"""

from __future__ import annotations

import os

from governor import fastjson, paths
from governor.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

CACHE_FORMAT = 2  # bump when config_schema's output shape changes

Config = dict[str, "Any"]  # Any for type checkers only (no typing import)


def _signature(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _read_cache(path: str, signature: list[int] | None) -> Config | None:
    try:
        with open(paths.config_cache_path(), encoding="utf-8") as fh:
            cached = fastjson.load(fh)
    except (OSError, ValueError):
        return None
    if (
        isinstance(cached, dict)
        and cached.get("format") == CACHE_FORMAT
        and cached.get("path") == path
        and cached.get("signature") == signature
        and isinstance(cached.get("config"), dict)
    ):
        config: Config = cached["config"]
        return config
    return None


def _write_cache(path: str, signature: list[int] | None, config: Config) -> None:
    from governor.fsutil import atomic_write_text

    payload = {"format": CACHE_FORMAT, "path": path, "signature": signature, "config": config}
    try:
        paths.ensure_private_dir(paths.state_dir())
        atomic_write_text(paths.config_cache_path(), fastjson.dumps(payload), lock=False)
    except OSError:
        pass  # a read-only state dir only costs the next caller a re-validation


MAX_BYTES = 1024 * 1024  # a budget.json is a few KB; more is not one (a link to /dev/zero never ends)
MAX_DEPTH = 32  # budget.json nests four deep


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 30:
        raise ValueError(f"a {len(text)}-digit number is out of range")
    return int(text)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed document, stopping past `limit`."""
    stack, deepest = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def read_raw(path: str) -> Any:
    """The JSON document in budget.json: strict JSON (no NaN/Infinity, no numbers past a float), UTF-8,
    a regular file of at most MAX_BYTES, nested at most MAX_DEPTH; ConfigError otherwise."""
    import json  # budget.json itself is read only when it changed: the cache is read with fastjson

    from governor.fsutil import read_regular

    try:
        text = read_regular(path, MAX_BYTES).decode("utf-8")
        raw = json.loads(text, parse_constant=_no_constant, parse_float=_finite, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid JSON: nested deeper than {MAX_DEPTH}") from None
    except ValueError as exc:  # TooLarge, NaN, Infinity, 1e400, a 5000-digit number
        raise ConfigError(f"{path}: invalid JSON: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if _depth(raw, MAX_DEPTH) > MAX_DEPTH:
        raise ConfigError(f"{path}: invalid JSON: nested deeper than {MAX_DEPTH}")
    return raw


def update_budget(path: str, edit: Any) -> None:
    """Rewrite budget.json under its lock: `edit(doc)` changes the document (re-read inside the lock, {} when
    absent) in place; the result is validated (ConfigError, nothing written) and every other key and its
    order are kept."""
    from governor.fsutil import update_file

    def change(current: bytes | None) -> bytes:
        doc: Any = {} if current is None else read_raw(path)
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: must hold a JSON object")
        edit(doc)
        from governor import config_schema

        try:
            config_schema.validate(doc)
        except ValueError as exc:
            raise ConfigError("\n".join(f"{path}: {line}" for line in str(exc).splitlines())) from None
        return (fastjson.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()

    paths.ensure_private_dir(os.path.dirname(path))
    update_file(path, change)


def validate_file(path: str) -> Config:
    """Validate budget.json with pydantic; the defaults when it does not exist."""
    if not os.path.lexists(path):
        return _packaged_defaults()
    from governor import config_schema

    raw = read_raw(path)
    try:
        return config_schema.validate(raw)
    except ValueError as exc:
        raise ConfigError("\n".join(f"{path}: {line}" for line in str(exc).splitlines())) from None


def _packaged_defaults() -> Config:
    """The schema's defaults, read from the packaged budget.example.json (its non-comment keys; a test
    holds them equal): a first run without budget.json need not import pydantic (~0.4 s)."""
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "budget.example.json")
    try:
        with open(example, encoding="utf-8") as fh:
            raw = fastjson.load(fh)
    except (OSError, ValueError):
        raw = None
    if isinstance(raw, dict):
        return {key: value for key, value in raw.items() if not key.startswith("_")}
    from governor import config_schema

    return config_schema.defaults()


def load_config(path: str | None = None) -> Config:
    """The current config: cached validated form when budget.json is unchanged, else re-validated."""
    path = path or paths.budget_path()
    signature = _signature(path)
    cached = _read_cache(path, signature)
    if cached is not None:
        return cached
    config = validate_file(path)
    _write_cache(path, signature, config)
    return config


def cap_units(config: Config, tier: str | None = None) -> float:
    """Weekly cap in weighted units for `tier` (default: the configured tier)."""
    return float(config["caps"][tier or config["tier"]])
