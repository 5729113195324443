"""governor itself in an e2e Workspace: its CLI as a subprocess, `governor install`, budget.json edits and a
pre-seeded heavy week. Everything goes through the CLI or files on disk, never governor's modules in-process.

    install_governor(ws)                        # `governor install` into ws.claude_dir/settings.json
    write_budget(ws, router={"mode": "always"}) # merge top-level sections into $GOVERNOR_HOME/budget.json
    seed_heavy_week(ws, projected=1.5)          # a busy transcript + the cap that projects it at 150 %
    governor_json(ws, "status", "--json")       # run the CLI, parse its JSON (asserts exit 0)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .workspace import HOOKS_DIR, REPO_ROOT, Workspace

# Lets `python -m governor …` CLI calls import governor from this checkout, as a pip-installed governor would
# be importable. The installed hooks and status line are scripts that find the checkout themselves.
GOVERNOR_ENV = {"PYTHONPATH": str(REPO_ROOT)}
SEED_PROJECT = "-home-dev-seed"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def governor(
    ws: Workspace, *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m governor ARGS` in the workspace's from-scratch environment, cwd = the project."""
    return subprocess.run(
        [sys.executable, "-m", "governor", *args],
        cwd=ws.project,
        env={**ws.base_env(), **GOVERNOR_ENV, **(env or {})},
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def governor_json(ws: Workspace, *args: str, env: dict[str, str] | None = None) -> Any:
    proc = governor(ws, *args, env=env)
    assert proc.returncode == 0, f"governor {' '.join(args)}: rc={proc.returncode} {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def budget_path(ws: Workspace) -> Path:
    return ws.governor_home / "budget.json"


def install_governor(ws: Workspace) -> dict[str, Any]:
    """`governor install` (user scope = $CLAUDE_CONFIG_DIR/settings.json); returns the written settings."""
    proc = governor(ws, "install")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads((ws.claude_dir / "settings.json").read_text()))


def write_budget(ws: Workspace, **sections: Any) -> None:
    """Replace top-level sections of budget.json (created from the defaults by `governor install`)."""
    path = budget_path(ws)
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(sections)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2))


def week_anchored_days_ago(days: int = 3) -> dict[str, Any]:
    """A `week` section whose cycle opened 3-4 days ago, so a seed of the last hours lies inside it."""
    anchor = datetime.now(timezone.utc) - timedelta(days=days)
    return {"resets": {"weekday": WEEKDAYS[anchor.weekday()], "time": "00:00", "zone": "UTC"}}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def seed_transcript(
    ws: Workspace, responses: int = 40, context: int = 120_000, session: str = "seed-session", hours: float = 3.0
) -> Path:
    """A session that has been busy over the last `hours`, as Claude Code 2.1.328 writes its transcript
    (one assistant row per response here; the real multi-block shape is exercised by the live runs)."""
    now = time.time()
    rows = []
    for i in range(responses):
        ts = now - hours * 3600 + i * (hours * 3600 / responses)
        rows.append({
            "parentUuid": None, "isSidechain": False, "type": "assistant", "uuid": f"seed-{i}",
            "timestamp": _iso(ts), "cwd": "/home/dev/seed", "sessionId": session, "version": "2.1.328",
            "requestId": f"req_seed{i:04d}", "apiBlockIndex": 0,
            "message": {
                "id": f"msg_seed{i:04d}", "type": "message", "role": "assistant", "model": "claude-opus-5-5",
                "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 50, "cache_creation_input_tokens": 3000,
                          "cache_read_input_tokens": context - 3050, "output_tokens": 800,
                          "service_tier": "standard"},
            },
        })
    path = ws.claude_dir / "projects" / SEED_PROJECT / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return path


def seed_heavy_week(ws: Workspace, projected: float = 1.5) -> float:
    """Seed a busy week and set caps.max20x so that `governor status` projects it at `projected` of the cap
    (the projection scales with 1/cap). Returns the cap."""
    seed_transcript(ws)
    write_budget(ws, week=week_anchored_days_ago(), caps={"max20x": 1.0})
    unit = float(governor_json(ws, "status", "--json")["projected"]["fraction"])
    assert unit > 0, "the seeded week did not register"
    cap = unit / projected
    write_budget(ws, caps={"max20x": cap})
    status = governor_json(ws, "status", "--json")
    assert status["band"] is not None and status["hook_would_say"], status
    return cap


def run_hook(ws: Workspace, script: str, payload: dict[str, Any], env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    """Run hooks/<script> the way Claude Code does (payload on stdin), in the workspace environment."""
    return subprocess.run(
        [sys.executable, str(HOOKS_DIR / script)],
        cwd=ws.project,
        env={**ws.base_env(), **(env or {})},
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
    )
