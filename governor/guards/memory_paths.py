"""Which files are memory files: the default index, `memory.paths` globs, and a raw-bytes pre-check.

`quick_skip` is the PostToolUse hot path: it reads the stdin bytes with `os` alone (no json, re or
typing, which together cost more than the interpreter's own start) and says "certainly not a memory
file" or "maybe". Everything else here runs only for a maybe, or in the CLI.
"""

from __future__ import annotations

import os
import stat

from governor import paths

INDEX_NAME = "MEMORY.md"
ARCHIVE_SUFFIX = ".overflow.md"


def _translate(pattern: str) -> str:
    """Glob -> regex body: `**` crosses directories, `*` and `?` do not, `[...]` is a class."""
    import re

    out, i, n = [], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def _literal_prefix(pattern: str) -> str:
    """The leading directories of an absolute pattern that hold no wildcard."""
    parts = pattern.split("/")
    k = next((i for i, p in enumerate(parts) if any(c in p for c in "*?[")), len(parts))
    return "/".join(parts[: max(k, 1)])


def glob_matches(path: str, pattern: str) -> bool:
    """Does absolute `path` match a `memory.paths` glob? Relative globs match the trailing components
    (`AI_CONTEXT.md` matches that name in any directory), as in .gitignore."""
    import re

    pattern = os.path.expandvars(os.path.expanduser(pattern.strip()))
    if not pattern:
        return False
    if not os.path.isabs(pattern):
        return re.fullmatch("(?:.*/)?" + _translate(pattern), path) is not None
    candidates = {pattern}
    prefix = _literal_prefix(pattern)
    # The pattern's own directories may be symlinks; the file is judged by its resolved path.
    candidates.add(os.path.realpath(prefix) + pattern[len(prefix) :])
    return any(re.fullmatch(_translate(p), path) for p in candidates)


def _is_default_index(real: str) -> bool:
    """`<Claude config dir>/projects/<project>/memory/MEMORY.md`, config dirs resolved."""
    memory_dir = os.path.dirname(real)
    if os.path.basename(real) != INDEX_NAME or os.path.basename(memory_dir) != "memory":
        return False
    projects = os.path.dirname(os.path.dirname(memory_dir))
    return any(os.path.realpath(os.path.join(d, "projects")) == projects for d in paths.claude_config_dirs())


def is_memory_file(real: str, globs: list[str]) -> bool:
    """`real` must already be resolved: a symlink is judged by where it leads."""
    if real.endswith(ARCHIVE_SUFFIX):
        return False
    return _is_default_index(real) or any(glob_matches(real, g) for g in globs)


def find_memory_files(globs: list[str]) -> list[str]:
    """Every existing memory file (resolved, sorted): the default indexes plus `memory.paths` matches
    (relative globs are looked up from the current directory)."""
    import glob

    found = []
    for d in paths.claude_config_dirs():
        found += glob.glob(os.path.join(glob.escape(d), "projects", "*", "memory", INDEX_NAME))
    for g in globs:
        found += glob.glob(os.path.expandvars(os.path.expanduser(g.strip())), recursive=True)
    reals = {os.path.realpath(p) for p in found if os.path.isfile(p)}
    return sorted(r for r in reals if is_memory_file(r, globs))


# --- the hot path: raw bytes in, "certainly not a memory file" out; imports nothing beyond os ---

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = frozenset("0123456789abcdefABCDEF")


def _skip_ws(text: str, i: int) -> int:
    while text[i : i + 1] in (" ", "\t", "\r", "\n"):
        i += 1
    return i


def _json_string(text: str, i: int) -> tuple[str, int] | None:
    """(value, index after it) of the JSON string literal at text[i], or None if it is not a plain one."""
    if text[i : i + 1] != '"':
        return None
    out: list[str] = []
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch != "\\":
            out.append(ch)
            i += 1
        elif text[i + 1 : i + 2] == "u":
            code = text[i + 2 : i + 6]
            if len(code) != 4 or not _HEX.issuperset(code) or 0xD800 <= int(code, 16) <= 0xDFFF:
                return None  # surrogate pairs are left to the json module
            out.append(chr(int(code, 16)))
            i += 6
        elif text[i + 1 : i + 2] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            return None
    return None


def _json_value(text: str, i: int) -> tuple[str | list[str], int] | None:
    """A string or an array of strings at text[i]; None for anything else."""
    if text[i : i + 1] != "[":
        return _json_string(text, i)
    items: list[str] = []
    i = _skip_ws(text, i + 1)
    if text[i : i + 1] == "]":
        return items, i + 1
    while True:
        got = _json_string(text, i)
        if got is None:
            return None
        items.append(got[0])
        i = _skip_ws(text, got[1])
        if text[i : i + 1] == "]":
            return items, i + 1
        if text[i : i + 1] != ",":
            return None
        i = _skip_ws(text, i + 1)


def _values_of(text: str, key: str) -> list[str | list[str]] | None:
    """Every value stored under `"key":` anywhere in raw JSON text; None when one is not a string or an
    array of strings. Inside a JSON string the quotes of `"key"` would be escaped, so every real key is
    found, and a stray match can only add a value: conservative either way."""
    needle, values = f'"{key}"', []
    start = text.find(needle)
    while start != -1:
        i = _skip_ws(text, start + len(needle))
        if text[i : i + 1] == ":":
            got = _json_value(text, _skip_ws(text, i + 1))
            if got is None:
                return None
            values.append(got[0])
        start = text.find(needle, start + 1)
    return values


def _may_match(real: str, pattern: str) -> bool:
    """A superset of glob_matches() judged on the last path component, without `re`."""
    pattern = os.path.expanduser(pattern.strip()).rstrip("/")
    last = pattern.rsplit("/", 1)[-1]
    name = os.path.basename(real)
    if not last or "$" in pattern or "[" in last or "**" in last:
        return True
    wild = [k for k, c in enumerate(last) if c in "*?"]
    if not wild:
        return name == last
    head, tail = last[: wild[0]], last[wild[-1] + 1 :]
    return len(name) >= len(head) + len(tail) and name.startswith(head) and name.endswith(tail)


_BUDGET_MAX_BYTES = 1024 * 1024  # config.MAX_BYTES


def _budget_globs() -> list[str] | None:
    """`memory.paths` read without json: [] when budget.json has none, None when unsure."""
    try:  # fsutil.read_regular's rule with os alone (this path runs on every Write): no FIFO, bounded
        fd = os.open(paths.budget_path(), os.O_RDONLY | os.O_NONBLOCK)
        try:
            data = os.read(fd, _BUDGET_MAX_BYTES + 1) if stat.S_ISREG(os.fstat(fd).st_mode) else None
        finally:
            os.close(fd)
        if data is None or len(data) > _BUDGET_MAX_BYTES:
            return None
        text = data.decode("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, ValueError):  # ValueError: not UTF-8
        return None
    found = _values_of(text, "paths")
    if found is None or any(isinstance(v, str) for v in found):
        return None
    return [g for v in found for g in v]


def quick_skip(data: bytes) -> bool:
    """True when this PostToolUse stdin certainly concerns no memory file, decided with `os` alone.

    False means "maybe": the caller goes on to the full hook, which parses the payload properly. Every
    `file_path` in the payload must be absolute and resolve to something that cannot be a memory file.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    found = _values_of(text, "file_path")
    if not found:
        return False
    globs: list[str] | None = None
    for value in found:
        if not isinstance(value, str) or not os.path.isabs(value):
            return False
        if "\0" in value:
            continue  # not a path the full guard would look at either
        real = os.path.realpath(value)
        if os.path.basename(real) == INDEX_NAME and os.path.basename(os.path.dirname(real)) == "memory":
            return False
        globs = _budget_globs() if globs is None else globs
        if globs is None or any(_may_match(real, g) for g in globs):
            return False
    return True
