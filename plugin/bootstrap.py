#!/usr/bin/env python3
"""When the plugin finds no governor: install it from the plugin's own source into ${CLAUDE_PLUGIN_DATA}/venv,
in the background, and say once what is happening and, if it cannot, what to run.

    bootstrap.py session-start   SessionStart: start the bootstrap (detached), print one systemMessage per state
    bootstrap.py cli             a /governor:* command: the same news for the person, as text
    bootstrap.py run             the bootstrap itself (venv + pip install, each step time-limited)

Stdlib only and never imports governor (there is none yet). Never blocks a session: SessionStart returns at
once, every step has a timeout, a stale lock expires, and any error ends in `bootstrap.failed` + the log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the plugin root = the repository
DATA = os.environ.get("CLAUDE_PLUGIN_DATA", "")
VENV = os.path.join(DATA, "venv")
STEP_TIMEOUTS = {"venv": 120, "pip": 600}  # seconds; the whole bootstrap stays under ~12 minutes
LOCK_STALE_SECONDS = 15 * 60
RETRY_AFTER_SECONDS = 24 * 3600  # a failed bootstrap is tried again a day later (the network may be back)


def _path(name: str) -> str:
    return os.path.join(DATA, name)


def _read(name: str) -> str:
    try:
        with open(_path(name), encoding="utf-8") as fh:
            return fh.read(4000).strip()
    except OSError:
        return ""


def _write(name: str, text: str) -> None:
    tmp = _path(f"{name}.{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, _path(name))


def finish_hint() -> str:
    return f"`pipx install {ROOT}` (or `uv tool install {ROOT}`), then /governor:setup for the status line"


def can_bootstrap() -> str | None:
    """Why this machine cannot bootstrap, or None."""
    if not DATA:
        return "no plugin data dir (CLAUDE_PLUGIN_DATA is unset)"
    if not os.path.isfile(os.path.join(ROOT, "pyproject.toml")):
        return f"no governor source in {ROOT}"
    if sys.version_info < (3, 10):  # noqa: UP036 - this runs under the system python3, any version
        return f"python3 is {sys.version.split()[0]}; governor needs 3.10+"
    return None


def _lock_held() -> bool:
    try:
        return time.time() - os.stat(_path("bootstrap.lock")).st_mtime < LOCK_STALE_SECONDS
    except OSError:
        return False


def start() -> str:
    """'started' | 'running' | 'failed' | 'unavailable' (and why, in bootstrap.failed / the return)."""
    why = can_bootstrap()
    if why is not None:
        return "unavailable"
    os.makedirs(DATA, exist_ok=True)
    try:
        if time.time() - os.stat(_path("bootstrap.failed")).st_mtime < RETRY_AFTER_SECONDS:
            return "failed"
        os.unlink(_path("bootstrap.failed"))
    except FileNotFoundError:
        pass
    if _lock_held():
        return "running"
    try:
        os.rmdir(_path("bootstrap.lock"))  # a stale one
    except OSError:
        pass
    try:
        os.mkdir(_path("bootstrap.lock"))
    except FileExistsError:
        return "running"
    with open(_path("bootstrap.log"), "ab") as log:
        subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__), "run"], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log, start_new_session=True, close_fds=True)
    return "started"


def news(state: str) -> str:
    if state in ("started", "running"):
        return (f"governor: installing itself in the background from {ROOT} into {VENV} (a minute or two); "
                f"its hooks start once that is done. Then /governor:setup adds the status line. "
                f"If it cannot: {finish_hint()}.")
    if state == "failed":
        reason = _read("bootstrap.failed").splitlines()[0] if _read("bootstrap.failed") else "unknown"
        return (f"governor: could not install itself ({reason}; log: {_path('bootstrap.log')}). "
                f"Finish the setup with {finish_hint()}.")
    return f"governor: the plugin's hooks need governor installed ({can_bootstrap()}): {finish_hint()}."


def session_start() -> int:
    """Say each state once (the told file keeps which), as SessionStart's systemMessage."""
    state = start()
    key = "started" if state == "running" else state
    if DATA and _read("told") == key:
        return 0
    if DATA:
        _write("told", key)
    print(json.dumps({"systemMessage": news(state)}))
    return 0


def run() -> int:
    """The bootstrap: a venv, governor from the plugin's source into it, a check, then `.ready`."""
    print(f"--- bootstrap {time.strftime('%Y-%m-%dT%H:%M:%S')} from {ROOT}", flush=True)
    python = os.path.join(VENV, "bin", "python")
    steps = [
        ("venv", [sys.executable, "-m", "venv", "--clear", VENV]),
        ("pip", [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", ROOT]),
        ("check", [python, "-I", "-c", "import governor._hooks, governor.main"]),
    ]
    try:
        for name, cmd in steps:
            print(f"$ {' '.join(cmd)}", flush=True)
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=STEP_TIMEOUTS.get(name, 60))
            if proc.returncode != 0:
                raise RuntimeError(f"{name} step exited {proc.returncode}")
        _write(os.path.join("venv", ".ready"), f"{ROOT}\n")
        print("--- ready", flush=True)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"--- failed: {exc}", flush=True)
        shutil.rmtree(VENV, ignore_errors=True)
        _write("bootstrap.failed", f"{exc}\n")
    finally:
        try:
            os.rmdir(_path("bootstrap.lock"))
        except OSError:
            pass
    return 0


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else ""
    try:
        if mode == "session-start":
            return session_start()
        if mode == "run":
            return run()
        if mode == "cli":
            print(news(start()))
    except Exception as exc:  # noqa: BLE001 - fail open: a hook never breaks the session
        if mode == "cli":
            print(f"governor is not installed: {finish_hint()} ({exc})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
