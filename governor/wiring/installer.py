"""Apply install/uninstall to a settings file: lock, re-read, merge (governor.wiring.settings_merge), record, the
status-line chain in budget.json, backup, atomic write. Also where the files and the commands are."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from governor import paths
from governor.errors import SettingsError
from governor.wiring import settings_file, settings_merge

if TYPE_CHECKING:
    from importlib import metadata

SCOPES = ("user", "project", "local")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # PEP 508: the name before any extras or marker
_REQUIREMENT_NAME_SEPARATORS = re.compile(r"[-_.]+")
_EXTRA_MARKER = re.compile(r"\bextra\s*==")


@dataclass
class Outcome:
    path: str
    changed: bool
    actions: list[str] = field(default_factory=list)
    diff: str = ""
    backup: str | None = None
    notes: list[str] = field(default_factory=list)


def scope_path(scope: str, cwd: str | None = None) -> str:
    if scope == "user":
        return paths.user_settings_path()
    name = "settings.json" if scope == "project" else "settings.local.json"
    return os.path.join(os.path.abspath(cwd or os.getcwd()), ".claude", name)


def codex_hooks_path() -> str:
    return os.path.join(paths.codex_home(), "hooks.json")


def hooks_dir() -> str:
    """Where the hook scripts are: site-packages/governor/_hooks, or <checkout>/hooks."""
    try:
        import governor._hooks as hooks_pkg

        return os.path.dirname(os.path.abspath(hooks_pkg.__file__ or ""))
    except ImportError:
        import governor

        return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(governor.__file__))), "hooks")


def python() -> str:
    """The interpreter governor is installed in (a venv's bin/python is kept as is, not resolved)."""
    return os.path.abspath(sys.executable)


DISTRIBUTION = "token-budget-governor"


def hooks_skip_site() -> bool:
    """Whether the hook commands can run `python -S`: the scripts are an installed package's
    (site-packages/governor/_hooks) and governor and every dependency it needs were installed into that
    same directory (a pip or pipx venv), which is all the scripts add to sys.path under -S. A checkout, an
    editable install or a dependency from another directory (--system-site-packages, --user) keeps the site
    module."""
    from importlib import metadata

    hooks = hooks_dir()
    if os.path.basename(hooks) != "_hooks":
        return False
    site_dir = os.path.realpath(os.path.dirname(os.path.dirname(hooks)))
    todo, seen = [DISTRIBUTION], set()
    while todo:
        name = todo.pop()
        key = _REQUIREMENT_NAME_SEPARATORS.sub("-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        dist = next(iter(metadata.distributions(name=name, path=[site_dir])), None)
        if dist is None:
            try:
                metadata.distribution(name)
            except metadata.PackageNotFoundError:
                if name != DISTRIBUTION:
                    continue  # not installed anywhere: a requirement whose marker excludes this interpreter
            return False  # installed, but not in governor's directory
        todo.extend(runtime_requirements(dist))
    return True


def runtime_requirements(dist: metadata.Distribution) -> list[str]:
    """The names of a distribution's requirements that are not behind an extra (PEP 508: the name comes
    first; an extra's requirements carry `extra == "…"` in their marker)."""
    names = []
    for requirement in dist.requires or []:
        head = _REQUIREMENT_NAME.match(requirement)
        if head and not _EXTRA_MARKER.search(requirement):
            names.append(head.group(0))
    return names


def claude_wiring() -> settings_merge.Wiring:
    return settings_merge.claude_wiring(python(), hooks_dir(), hooks_skip_site())


def codex_wiring() -> settings_merge.Wiring:
    return settings_merge.codex_wiring(python(), hooks_dir(), hooks_skip_site())


def plugin_wiring() -> settings_merge.Wiring:
    """The Claude Code plugin runs the hooks; settings get only what a plugin cannot set: the status line."""
    return settings_merge.Wiring({}, claude_wiring().status_line)


def interpreter_record_path() -> str:
    return os.path.join(paths.state_dir(), "interpreter")


def record_interpreter() -> str:
    """Leave this interpreter where the plugin's shim (plugin/hook.sh) looks first, so a venv that is not
    on PATH still serves the plugin's hooks."""
    from governor.fsutil import update_file

    path = interpreter_record_path()
    paths.ensure_private_dir(os.path.dirname(path))
    update_file(path, lambda _current: (python() + "\n").encode(), mode=0o600)
    return path


# --- install record: what install replaced, per settings file (state dir) ---------------------

def record_path() -> str:
    return os.path.join(paths.state_dir(), "install-record.json")


def _records(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return data["files"] if isinstance(data, dict) and isinstance(data.get("files"), dict) else {}
    except (OSError, ValueError):
        return {}


def get_record(settings_path: str, store: str | None = None) -> dict[str, Any] | None:
    rec = _records(store or record_path()).get(os.path.abspath(settings_path))
    return rec if isinstance(rec, dict) else None


def put_record(settings_path: str, rec: dict[str, Any] | None, store: str | None = None) -> None:
    from governor.fsutil import update_file

    store = store or record_path()
    paths.ensure_private_dir(os.path.dirname(store))

    def change(current: bytes | None) -> bytes:
        files = _records(store) if current is not None else {}
        files.pop(os.path.abspath(settings_path), None)
        if rec is not None:
            files[os.path.abspath(settings_path)] = rec
        return json.dumps({"version": 1, "files": files}, indent=2, ensure_ascii=False).encode() + b"\n"

    update_file(store, change, mode=0o600)


# --- budget.json: created from the example, statusline.chain ----------------------------------

def example_budget() -> bytes:
    """The packaged budget.example.json, else the checkout's, else the schema defaults."""
    package = os.path.dirname(os.path.abspath(settings_merge.__file__))
    for candidate in (os.path.join(package, "data", "budget.example.json"),
                      os.path.join(os.path.dirname(package), "budget.example.json")):
        if os.path.isfile(candidate):
            with open(candidate, "rb") as fh:
                return fh.read()
    from governor.config_schema import defaults

    return json.dumps(defaults(), indent=2).encode() + b"\n"


def read_chain(budget: str) -> str | None:
    try:
        with open(budget, encoding="utf-8") as fh:
            chain = json.load(fh).get("statusline", {}).get("chain")
    except (OSError, ValueError, AttributeError):
        return None
    return chain if isinstance(chain, str) else None


def update_budget(budget: str, chain: str | None, set_chain: bool) -> list[str]:
    """Create budget.json from the example when absent; set statusline.chain when `set_chain`."""
    from governor.fsutil import update_file

    notes: list[str] = []

    def change(current: bytes | None) -> bytes | None:
        notes.clear()
        base = current if current is not None else example_budget()
        if current is None:
            notes.append(f"created {budget} from the example")
        if not set_chain:
            return base
        try:
            doc = json.loads(base.decode("utf-8")) if base.strip() else {}
            section = doc.setdefault("statusline", {})
            if not isinstance(section, dict):
                raise ValueError('"statusline" is not an object')
        except (ValueError, AttributeError) as exc:
            raise SettingsError(f"{budget}: cannot record statusline.chain ({exc}). Nothing was "
                                "changed; fix budget.json (`governor doctor` shows the problem)") from None
        if section.get("chain") == chain:
            return base
        section["chain"] = chain
        notes.append(f"statusline.chain in {budget} = {chain!r}" if chain else
                     f"cleared statusline.chain in {budget}")
        return settings_file.render(doc, base)

    paths.ensure_private_dir(os.path.dirname(budget))
    update_file(budget, change, mode=0o600)
    return notes


# --- install / uninstall ---------------------------------------------------------------------

def install(path: str, wiring: settings_merge.Wiring, dry_run: bool = False, budget: str | None = None,
            store: str | None = None) -> Outcome:
    budget = budget or paths.budget_path()
    settings_file.refuse_symlink(path)
    if dry_run:
        return _install_locked(path, wiring, True, budget, store)
    with settings_file.locked(path):
        return _redo_on_change(path, lambda: _install_locked(path, wiring, False, budget, store))


CAS_ATTEMPTS = 20  # Claude Code rewrites settings.json itself, without governor's lock


def _redo_on_change(path: str, edit: Callable[[], Outcome]) -> Outcome:
    """Run `edit` (read, merge, write with compare-and-swap) again on the new content whenever another
    writer replaced the file in between, so that writer's change is never lost."""
    from governor.fsutil import Changed

    for _attempt in range(CAS_ATTEMPTS):
        try:
            return edit()
        except Changed:
            time.sleep(0.005 * (1 + _attempt))  # back off: the other writer is mid-burst
    raise SettingsError(f"{path} kept changing while governor edited it ({CAS_ATTEMPTS} tries). "
                        "Nothing was changed; run again when Claude Code is idle")


def _install_locked(path: str, wiring: settings_merge.Wiring, dry_run: bool, budget: str,
                    store: str | None) -> Outcome:
    old, doc = settings_file.read(path)
    try:
        change = settings_merge.install_doc(doc, wiring, get_record(path, store))
    except settings_merge.ShapeError as exc:
        raise SettingsError(f"{path}: {exc}. Nothing was changed") from None
    changed = old is None or not settings_file.same(doc, change.doc)
    new = settings_file.render(change.doc, old) if changed else (old or b"")
    out = Outcome(path, changed, change.actions, settings_file.diff(path, old, new) if changed else "")
    if dry_run:
        if not os.path.exists(budget) and wiring.status_line is not None:
            out.notes.append(f"would create {budget} from the example")
        if change.chain is not None:
            out.notes.append(f"would keep your status line {change.chain!r} as statusline.chain in {budget}")
        return out
    if changed:
        settings_file.check_writable(path)
    if wiring.status_line is not None:
        out.notes += update_budget(budget, change.chain, set_chain=change.chain is not None)
    if changed:
        if old is None:
            change.record["created_file"] = True  # uninstall deletes the file again once it is {}
        put_record(path, change.record, store)  # a redone edit (fsutil.Changed) records it again
        if old is not None:
            out.backup = settings_file.backup(path, old)
        settings_file.write(path, new, expect=old)
    return out


def uninstall(path: str, status_line: bool = True, dry_run: bool = False, budget: str | None = None,
              store: str | None = None) -> Outcome:
    budget = budget or paths.budget_path()
    if not os.path.lexists(path):
        return Outcome(path, False, notes=[f"{path} does not exist: nothing to remove"])
    settings_file.refuse_symlink(path)
    if dry_run:
        return _uninstall_locked(path, status_line, True, budget, store)
    with settings_file.locked(path):
        return _redo_on_change(path, lambda: _uninstall_locked(path, status_line, False, budget, store))


def _uninstall_locked(path: str, status_line: bool, dry_run: bool, budget: str, store: str | None) -> Outcome:
    old, doc = settings_file.read(path)
    chain = read_chain(budget)
    record = get_record(path, store)
    try:
        change = settings_merge.uninstall_doc(doc, record, chain, status_line)
    except settings_merge.ShapeError as exc:
        raise SettingsError(f"{path}: {exc}. Nothing was changed") from None
    if settings_file.same(doc, change.doc):
        return Outcome(path, False, notes=[f"no governor entries in {path}: nothing to remove"])
    delete = bool(record and record.get("created_file")) and change.doc == {}
    new = b"" if delete else settings_file.render(change.doc, old)
    out = Outcome(path, True, change.actions, settings_file.diff(path, old, new))
    if delete:
        out.actions.append(f"deleted {path} (governor had created it)")
    if dry_run:
        return out
    settings_file.check_writable(path)
    out.backup = settings_file.backup(path, old or b"")
    if delete:
        settings_file.remove(path, expect=old)
    else:
        settings_file.write(path, new, expect=old)
    put_record(path, None, store)
    if change.restored and change.restored == chain:
        out.notes += update_budget(budget, None, set_chain=True)
    return out
