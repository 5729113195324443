"""The checks `governor doctor` runs. Each returns Check(s): status ok / fail / info (info never fails).

Hook commands are probed the way Claude Code runs them: through `sh -c`, a sample payload on stdin,
the kill switch removed from the environment, within the entry's own timeout; a new "failed open"
line in governor.log during the probe counts as a failure (a fail-open hook always exits 0).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from governor import paths
from governor.errors import SettingsError
from governor.wiring import installer, settings_file, settings_merge


@dataclass
class Check:
    name: str
    status: str  # ok | fail | info
    detail: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Wired:
    """A governor command found in a settings file (or the one install would write)."""

    event: str
    command: str
    timeout: float
    where: str


def check_python() -> Check:
    version = ".".join(str(p) for p in sys.version_info[:3])
    ok = sys.version_info >= (3, 10)
    detail = f"{version} at {sys.executable}" + ("" if ok else ", need ≥ 3.10")
    return Check("python", "ok" if ok else "fail", detail)


def check_config() -> Check:
    from governor.config import validate_file
    from governor.errors import ConfigError

    path = paths.budget_path()
    try:
        validate_file(path)
    except ConfigError as exc:
        return Check("config", "fail", f"{path} is invalid", str(exc).splitlines())
    return Check("config", "ok", f"{path} valid" if os.path.exists(path) else f"defaults (no {path})")


def _wiring_targets() -> list[tuple[str, str]]:
    targets = [(scope, installer.scope_path(scope)) for scope in installer.SCOPES]
    return targets + [("codex", installer.codex_hooks_path())]


def check_wiring(plugin_active: bool = False) -> tuple[list[Check], list[Wired]]:
    """With governor's plugin active the hooks come from the plugin: settings need only the status line."""
    checks: list[Check] = []
    wired: list[Wired] = []
    expected = {ev for ev, _m, _s in settings_merge.CLAUDE_HOOKS}
    for scope, path in _wiring_targets():
        name = f"wiring {scope}"
        if not os.path.lexists(path):
            checks.append(Check(name, "info", f"no {path}"))
            continue
        try:
            _raw, doc = settings_file.read(path)
        except SettingsError as exc:
            checks.append(Check(name, "fail", str(exc)))
            continue
        events = {ev for ev, _g, _h in settings_merge.governor_handlers(doc)}
        for event, _group, handler in settings_merge.governor_handlers(doc):
            timeout = handler.get("timeout", 600)
            wired.append(Wired(event, handler["command"], float(timeout) if isinstance(timeout, (int, float))
                               else 600.0, f"{scope}:{event}"))
        if settings_merge.status_line_is_ours(doc):
            events.add("statusLine")
            wired.append(Wired("statusLine", doc["statusLine"]["command"], 5.0, f"{scope}:statusLine"))
        if not events:
            checks.append(Check(name, "info", f"{path}: governor not wired here"))
            continue
        needed = {"statusLine"} | (set() if plugin_active else expected)
        missing = sorted(({"UserPromptSubmit"} if scope == "codex" else needed) - events)
        fix = f"governor install {'--codex' if scope == 'codex' else '--scope ' + scope}"
        fix += " --plugin" if plugin_active and scope != "codex" else ""
        detail = f"{path}: {', '.join(sorted(events))}" + (f"; missing {', '.join(missing)} (run {fix})"
                                                          if missing else "")
        checks.append(Check(name, "fail" if missing else "ok", detail))
    if not plugin_active and not any(w.where.split(":")[0] in installer.SCOPES for w in wired):
        checks.append(Check("wiring", "fail", "governor is not wired into any Claude Code settings file; "
                                              "run `governor install`"))
    return checks, wired


def planned_commands() -> list[Wired]:
    """The commands install would write, probed when nothing is wired yet."""
    wiring = installer.claude_wiring()
    found = [Wired(ev, g["hooks"][0]["command"], g["hooks"][0]["timeout"], f"would install:{ev}")
             for ev, g in wiring.groups.items()]
    return found + [Wired("statusLine", wiring.status_line or "", 5.0, "would install:statusLine")]


def _sample(event: str, scratch: str) -> dict[str, Any]:
    base = {"session_id": "governor-doctor", "transcript_path": os.path.join(scratch, "none.jsonl"),
            "cwd": os.getcwd(), "hook_event_name": event}
    if event == "UserPromptSubmit":
        return {**base, "prompt": "governor doctor: sample prompt"}
    if event == "PostToolUse":
        target = os.path.join(scratch, "doctor.txt")
        return {**base, "tool_name": "Write", "tool_input": {"file_path": target, "content": "x"},
                "tool_response": {"type": "create", "filePath": target}, "tool_use_id": "toolu_doctor"}
    if event == "SessionStart":
        return {**base, "source": "startup"}
    if event == "PostToolBatch":
        call = {"tool_name": "Bash", "tool_input": {"command": "true"}, "tool_use_id": "toolu_doctor",
                "tool_response": ""}
        return {**base, "prompt_id": "governor-doctor", "tool_calls": [call]}
    return {"session_id": "governor-doctor", "cwd": os.getcwd(), "model": {"id": "claude-opus-4-5",
            "display_name": "Opus"}, "workspace": {"current_dir": os.getcwd()}, "version": "doctor"}


def _log_size() -> int:
    try:
        return os.path.getsize(paths.log_path())
    except OSError:
        return 0


def _new_failures(offset: int) -> list[str]:
    try:
        with open(paths.log_path(), "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if "failed open" in line]


def probe(w: Wired) -> Check:
    """Run one command line through `sh -c` with a sample payload; time it."""
    name = f"run {w.where}"
    try:
        argv = shlex.split(w.command, comments=True)
    except ValueError:  # unbalanced quotes: let sh report it
        argv = []
    missing = [p for p in argv[:2] if p.startswith("/") and not os.path.exists(p)]
    if missing:
        return Check(name, "fail", f"{missing[0]} does not exist (venv moved or removed? "
                                   "run `governor install` again)")
    env = {k: v for k, v in os.environ.items() if k != "GOVERNOR_DISABLE"}
    env["NO_COLOR"] = "1"  # the probe's output is quoted in doctor's line
    with tempfile.TemporaryDirectory(prefix="governor-doctor-") as scratch:
        payload = json.dumps(_sample(w.event, scratch))
        offset, start = _log_size(), time.perf_counter()
        try:
            proc = subprocess.run(["sh", "-c", w.command], input=payload, capture_output=True, text=True,
                                  env=env, timeout=w.timeout)
        except subprocess.TimeoutExpired:
            return Check(name, "fail", f"no answer within its {w.timeout:g} s timeout")
        ms = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return Check(name, "fail", f"exit {proc.returncode} after {ms:.0f} ms: {tail}")
    out = proc.stdout.strip()
    if out and w.event != "statusLine":
        try:
            json.loads(out)
        except ValueError:
            return Check(name, "fail", f"{ms:.0f} ms, but stdout is not JSON: {out[:80]}")
    failures = _new_failures(offset)
    if failures:
        return Check(name, "fail", f"{ms:.0f} ms, but it failed open (governor.log):", failures[-3:])
    return Check(name, "ok", f"{ms:.0f} ms" + (f", said: {out[:60]}" if out else ", silent"))


def check_commands(wired: list[Wired]) -> list[Check]:
    seen: set[str] = set()
    checks = []
    for w in wired or planned_commands():
        if w.command not in seen:
            seen.add(w.command)
            checks.append(probe(w))
    return checks


def check_transcripts() -> Check:
    count = size = 0
    roots = paths.transcript_roots()
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.endswith(".jsonl"):
                    count += 1
                    try:
                        size += os.path.getsize(os.path.join(dirpath, name))
                    except OSError:
                        pass
    if not count:
        return Check("transcripts", "fail", f"none under {', '.join(roots)} (has Claude Code run here? "
                                            "set CLAUDE_CONFIG_DIR if it uses another directory)")
    return Check("transcripts", "ok", f"{count} files, {size / 1e6:.1f} MB under {', '.join(roots)}")


def check_codex() -> Check:
    from governor.config import load_config
    from governor.errors import ConfigError

    try:
        command = load_config()["lanes"]["codex"]["command"]
    except (ConfigError, KeyError, TypeError):
        command = "codex"
    exe = shutil.which((shlex.split(command) or ["codex"])[0])
    home = paths.codex_home()
    home_note = f"CODEX_HOME {home} {'exists' if os.path.isdir(home) else 'missing'}"
    if exe:
        return Check("codex", "ok", f"{exe}; {home_note}")
    return Check("codex", "info", f"{command!r} not on PATH (the Codex lane stays idle); {home_note}")


def check_kill_switch() -> Check:
    if paths.kill_switch_on():
        return Check("kill switch", "fail", f"ON (GOVERNOR_DISABLE={os.environ['GOVERNOR_DISABLE']}): "
                                            "every hook is a no-op in this environment")
    return Check("kill switch", "ok", "off (set GOVERNOR_DISABLE=1 to turn every hook into a no-op)")


def check_router() -> Check:
    """Router patterns that could stall a prompt: vetted out by the router (they never match). Each is
    checked statically, run on near-miss probes under the hook's time bound, and looked up among those a
    real prompt found slow (the ledger's meta, guards/pattern_time.py)."""
    from governor.config import load_config
    from governor.errors import ConfigError
    from governor.guards.pattern_time import SLOW_KEY, probe
    from governor.policy.router import PATTERN_KEYS, slow_reason

    try:
        router = load_config()["router"]
    except (ConfigError, KeyError, TypeError):
        return Check("router patterns", "info", "not checked (budget.json invalid)")
    seen = _slow_on_prompts(SLOW_KEY)
    slow = []
    for key in PATTERN_KEYS:
        pattern = router[key]
        if reason := slow_reason(pattern) or seen.get(pattern):
            slow.append(f"router.{key}: {reason}; it is skipped (never matches) until rewritten")
        elif reason := probe(pattern):
            slow.append(f"router.{key}: {reason}; on such a prompt the hook stops it and skips it from then on:"
                        " rewrite it")
    if slow:
        return Check("router patterns", "fail", f"{len(slow)} pattern(s) could stall a prompt", slow)
    return Check("router patterns", "ok", "no pattern with catastrophic backtracking")


def _slow_on_prompts(key: str) -> dict[str, str]:
    """{pattern: reason} the prompt hook recorded in the ledger's meta (read-only; {} without a ledger)."""
    import json

    from governor.fastsqlite import sqlite3

    path = paths.ledger_path()
    if not os.path.exists(path):
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        finally:
            conn.close()
        found = json.loads(row[0]) if row else {}
    except (sqlite3.Error, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) or "ran out of time on a prompt" for k, v in found.items()}


CYCLE_DAYS = 7


def history_days() -> int:
    """The history governor is asked to keep readable from the transcripts: the ingest horizon, i.e. the
    weekly cycle plus `pacing.rate_window_hours` before it (the burn rate at the cycle's start), in whole
    days (8 by default). Calibration uses only this cycle's captures, and no setting keeps more: older
    history lives in the ledger alone (and is salvaged from it if it is ever corrupt)."""
    import math

    from governor.config import load_config
    from governor.errors import ConfigError

    try:
        hours = float(load_config()["pacing"]["rate_window_hours"])
    except (ConfigError, KeyError, TypeError, ValueError):
        hours = 24.0
    return CYCLE_DAYS + math.ceil(hours / 24)


def check_transcript_retention() -> Check:
    """Claude Code deletes transcripts older than `cleanupPeriodDays` (default 30): past that, the ledger
    alone holds the history; shorter than history_days(), a rebuilt ledger cannot see the current week."""
    days: Any = None
    for path in (installer.scope_path("user"),):
        try:
            _raw, doc = settings_file.read(path)
        except Exception:  # noqa: BLE001 - check_wiring reports an unreadable settings file
            return Check("transcript retention", "info", f"{path} unreadable")
        days = doc.get("cleanupPeriodDays")
    if not isinstance(days, (int, float)) or isinstance(days, bool):
        return Check("transcript retention", "ok", "Claude Code keeps transcripts 30 days (the default); "
                                                   "older history lives only in governor's ledger")
    needed = history_days()
    if days < needed:
        return Check("transcript retention", "fail",
                     f"cleanupPeriodDays is {days:g}: Claude Code deletes transcripts before the week governor "
                     f"paces is over (it reads back {needed} days: the {CYCLE_DAYS}-day cycle and"
                     f" pacing.rate_window_hours before it); set it to at least {needed} in"
                     f" {installer.scope_path('user')}")
    return Check("transcript retention", "ok", f"cleanupPeriodDays {days:g}: older history lives only in "
                                               f"governor's ledger (it reads back {needed} days)")
