"""governor's entries in a Claude Code settings document (or Codex hooks.json): pure merge and unmerge.

Marker: every command governor writes ends with the shell comment ``# governor``. The marker does not
depend on where the interpreter or the scripts live, so after a venv move (stale paths) `install`
still finds and replaces its entries instead of adding a second copy, and `uninstall` still removes
them. Commands without the marker that run ``governor/_hooks/<script>.py`` or
``-m governor statusline`` or ``_hooks/statusline.py`` are recognised too (hand-written entries).

Install removes every governor handler, then puts one canonical matcher group per event back where
the first one was (appended when new). The "install record" (one small dict per settings file, kept
by the caller) remembers what install replaced: the original statusLine and containers that already
existed empty, so uninstall gives back the original document exactly.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

MARKER = "# governor"
TIMEOUT_SECONDS = 10  # every hook; a timeout only drops that hook's output, the prompt proceeds
POST_TOOL_USE_MATCHER = "Write|Edit|MultiEdit"
# (event, matcher, script) for Claude Code and for Codex.
CLAUDE_HOOKS = (
    ("UserPromptSubmit", None, "user_prompt_submit.py"),
    ("PostToolUse", POST_TOOL_USE_MATCHER, "post_tool_use.py"),
    ("PostToolBatch", None, "post_tool_batch.py"),
    ("SessionStart", None, "session_start.py"),
)
CODEX_HOOKS = (("UserPromptSubmit", None, "codex_user_prompt_submit.py"),)

_MARKED = re.compile(r"#\s*governor\s*$")
_UNMARKED = re.compile(
    r"governor[/\\]_hooks[/\\](user_prompt_submit|post_tool_use|post_tool_batch|session_start|codex_user_prompt_submit|statusline)\.py"
    r"|-m\s+governor\s+statusline\b"
)


class ShapeError(ValueError):
    """The document has a shape governor cannot merge into without guessing (e.g. "hooks" is a list)."""


@dataclass(frozen=True)
class Wiring:
    groups: dict[str, dict[str, Any]]  # event -> the one matcher group governor owns
    status_line: str | None = None  # statusLine command; None leaves statusLine alone (Codex)


@dataclass
class Change:
    doc: dict[str, Any]
    record: dict[str, Any]
    actions: list[str] = field(default_factory=list)
    chain: str | None = None  # install: replaced status-line command, to keep as statusline.chain
    restored: str | None = None  # uninstall: status-line command handed back


def hook_command(python: str, script: str, skip_site: bool = False) -> str:
    """`python [-S] script # governor`. With -S the interpreter skips the site module (its .pth files cost
    ~2 ms a run) and the script adds its own site-packages: only for a layout where that is enough
    (installer.hooks_skip_site)."""
    flag = " -S" if skip_site else ""
    return f"{shlex.quote(python)}{flag} {shlex.quote(script)} {MARKER}"


def statusline_command(python: str, hooks_dir: str, skip_site: bool = False) -> str:
    """A script, not `-m governor`: works from a checkout, and a project's own `governor/` in the
    working directory cannot shadow the package."""
    return hook_command(python, os.path.join(hooks_dir, "statusline.py"), skip_site)


def _group(event: str, matcher: str | None, command: str) -> dict[str, Any]:
    group: dict[str, Any] = {"matcher": matcher} if matcher else {}
    group["hooks"] = [{"type": "command", "command": command, "timeout": TIMEOUT_SECONDS}]
    return group


def _groups(python: str, hooks_dir: str, table: tuple[tuple[str, str | None, str], ...],
            skip_site: bool) -> dict[str, Any]:
    return {ev: _group(ev, m, hook_command(python, os.path.join(hooks_dir, s), skip_site)) for ev, m, s in table}


def claude_wiring(python: str, hooks_dir: str, skip_site: bool = False) -> Wiring:
    return Wiring(_groups(python, hooks_dir, CLAUDE_HOOKS, skip_site), statusline_command(python, hooks_dir, skip_site))


def codex_wiring(python: str, hooks_dir: str, skip_site: bool = False) -> Wiring:
    return Wiring(_groups(python, hooks_dir, CODEX_HOOKS, skip_site))


# The Claude Code plugin runs the same table through its shim (plugin/hook.sh), which finds governor's
# interpreter and stands down when these settings entries are present (no double registration).
PLUGIN_SHIM = "${CLAUDE_PLUGIN_ROOT}/plugin/hook.sh"


def plugin_hook_command(script: str) -> str:
    return f'sh "{PLUGIN_SHIM}" {script}'


def plugin_hooks_doc() -> dict[str, Any]:
    """plugin/hooks.json: CLAUDE_HOOKS through the shim (tests/test_plugin.py checks the file equals this)."""
    return {
        "description": "governor's hooks (generated from governor/wiring/settings_merge.py CLAUDE_HOOKS; "
                       "run `python tools/gen_plugin_hooks.py`)",
        "hooks": {ev: [_group(ev, m, plugin_hook_command(s))] for ev, m, s in CLAUDE_HOOKS},
    }


def is_governor_command(command: Any) -> bool:
    return isinstance(command, str) and bool(_MARKED.search(command) or _UNMARKED.search(command))


def _ours(handler: Any) -> bool:
    return isinstance(handler, dict) and is_governor_command(handler.get("command"))


def governor_handlers(doc: Any) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(event, group, handler) for every governor handler in the document."""
    found = []
    hooks = doc.get("hooks") if isinstance(doc, dict) else None
    for event, groups in (hooks.items() if isinstance(hooks, dict) else ()):
        for group in groups if isinstance(groups, list) else ():
            handlers = group.get("hooks") if isinstance(group, dict) else None
            for handler in handlers if isinstance(handlers, list) else ():
                if _ours(handler):
                    found.append((event, group, handler))
    return found


def status_line_is_ours(doc: Any) -> bool:
    line = doc.get("statusLine") if isinstance(doc, dict) else None
    return isinstance(line, dict) and is_governor_command(line.get("command"))


def has_governor_entries(doc: Any) -> bool:
    return bool(governor_handlers(doc)) or status_line_is_ours(doc)


def _check_shape(doc: Any, events: Any) -> None:
    if not isinstance(doc, dict):
        raise ShapeError("the file must hold a JSON object at the top level")
    hooks = doc.get("hooks", {})
    if not isinstance(hooks, dict):
        raise ShapeError(f'"hooks" is {type(hooks).__name__}, expected an object')
    for event in events:
        if event in hooks and not isinstance(hooks[event], list):
            raise ShapeError(f'"hooks.{event}" is {type(hooks[event]).__name__}, expected a list')


def _strip(hooks: dict[str, Any]) -> dict[str, int]:
    """Remove governor handlers from every event; event -> index of the first group that held one."""
    first: dict[str, int] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            continue
        kept: list[Any] = []
        for group in groups:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(handlers, list) or not any(_ours(h) for h in handlers):
                kept.append(group)
                continue
            first.setdefault(event, len(kept))
            rest = [h for h in handlers if not _ours(h)]
            if rest:  # a group someone shared with governor keeps its other handlers
                kept.append({**group, "hooks": rest})
        if event in first:
            hooks[event] = kept
    return first


def _drop_emptied(doc: dict[str, Any], emptied: set[str], kept_empty: set[str]) -> None:
    hooks = doc["hooks"]
    for event in emptied:
        if hooks.get(event) == [] and event not in kept_empty:
            del hooks[event]
    if emptied and not hooks and "hooks" not in kept_empty:
        del doc["hooks"]


def install_doc(doc: Any, wiring: Wiring, record: dict[str, Any] | None = None) -> Change:
    """The document with governor's entries exactly once; `record` is the file's previous install record."""
    _check_shape(doc, wiring.groups)
    doc = copy.deepcopy(doc)
    rec = {} if record is None or not has_governor_entries(doc) else copy.deepcopy(record)
    change = Change(doc, rec)
    kept_empty = set(rec.get("kept_empty", []))
    if wiring.groups:  # none: the plugin runs the hooks, install writes the status line only
        _install_hooks(change, wiring, kept_empty)
    if wiring.status_line is not None:
        _install_status_line(change, wiring.status_line)
    if kept_empty:
        rec["kept_empty"] = sorted(kept_empty)
    return change


def _install_hooks(change: Change, wiring: Wiring, kept_empty: set[str]) -> None:
    doc = change.doc
    before = {event: handler for event, _g, handler in reversed(governor_handlers(doc))}
    if "hooks" not in doc:
        doc["hooks"] = {}
    elif not doc["hooks"]:
        kept_empty.add("hooks")
    hooks = doc["hooks"]
    first = _strip(hooks)
    for event, group in wiring.groups.items():
        if event not in hooks:
            hooks[event] = []
        elif not hooks[event] and event not in first:
            kept_empty.add(event)
        hooks[event].insert(first.get(event, len(hooks[event])), copy.deepcopy(group))
        old = before.get(event)
        verb = "added" if old is None else "unchanged" if old == group["hooks"][0] else "updated"
        change.actions.append(f"{event}: {verb}")
    _drop_emptied(doc, set(first) - set(wiring.groups), kept_empty)


def _install_status_line(change: Change, command: str) -> None:
    doc, rec = change.doc, change.record
    current = doc.get("statusLine")
    if isinstance(current, dict) and status_line_is_ours(doc):
        same = current.get("command") == command and current.get("type") == "command"
        verb = "unchanged" if same else "updated"
    else:
        rec.pop("statusLine", None)
        if "statusLine" in doc:
            rec["statusLine"] = copy.deepcopy(current)
        previous = current.get("command") if isinstance(current, dict) else None
        if isinstance(previous, str) and previous.strip():
            change.chain = previous
        verb = "added" if change.chain is None else "added (your previous status line is chained)"
    line = dict(current) if isinstance(current, dict) else {}
    line["type"] = "command"
    line["command"] = command
    doc["statusLine"] = line
    change.actions.append(f"statusLine: {verb}")


def uninstall_doc(doc: Any, record: dict[str, Any] | None = None, chain: str | None = None,
                  status_line: bool = True) -> Change:
    """The document without governor's entries; the status line comes back from `record`, else `chain`."""
    _check_shape(doc, ())
    doc = copy.deepcopy(doc)
    change = Change(doc, {})
    if isinstance(doc.get("hooks"), dict):
        first = _strip(doc["hooks"])
        change.actions.extend(f"{event}: removed" for event in first)
        _drop_emptied(doc, set(first), set((record or {}).get("kept_empty", [])))
    if status_line and status_line_is_ours(doc):
        current = doc["statusLine"]
        if record is not None and "statusLine" in record:
            original = record["statusLine"]
            if isinstance(original, dict):
                line = dict(current)
                for key in ("type", "command"):
                    if key in original:
                        line[key] = original[key]
                    else:
                        line.pop(key, None)
                doc["statusLine"] = line
                restored = original.get("command")
                change.restored = restored if isinstance(restored, str) else None
            else:
                doc["statusLine"] = copy.deepcopy(original)
        elif record is None and chain:
            doc["statusLine"] = {**current, "type": "command", "command": chain}
            change.restored = chain
        else:
            del doc["statusLine"]
        change.actions.append("statusLine: " + ("restored your previous status line" if change.restored
                                                 else "removed"))
    return change
