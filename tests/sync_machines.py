"""Several governor machines on one host for the sync tests: each with its own HOME, GOVERNOR_HOME and
transcript root, run through the real CLI (`python -m governor`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers import REPO_ROOT, assistant_row, jsonl, user_row

PROMPT_TEXT = "secret prompt text that must never leave this machine"


class Machine:
    def __init__(self, base: Path, name: str) -> None:
        self.name = name
        self.home = base / name
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "CLAUDE_CONFIG_DIR": str(self.home / ".claude"),
            "CODEX_HOME": str(self.home / ".codex"),
            "GOVERNOR_HOME": str(self.home / "governor"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "PYTHONPATH": str(REPO_ROOT),
            "NO_COLOR": "1",
        }
        self.env.pop("GOVERNOR_CONFIG", None)
        self.env.pop("GOVERNOR_DISABLE", None)
        self.projects.mkdir(parents=True, exist_ok=True)

    @property
    def projects(self) -> Path:
        return self.home / ".claude" / "projects"

    @property
    def state(self) -> Path:
        return self.home / "governor"

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "governor", *args], capture_output=True, text=True,
                              env=self.env, timeout=timeout, cwd=str(REPO_ROOT))
        if check:
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    def daily(self, *args: str) -> dict[str, Any]:
        return dict(json.loads(self.cli("daily", "--json", "--tz", "UTC", *args).stdout))

    def machine_id(self) -> str:
        return str(json.loads((self.state / "machine.json").read_text())["id"])

    def write_session(self, session: str, responses: int, day: int = 23, project: str = "-home-dev-proj",
                      prefix: str | None = None, output: int = 50) -> Path:
        """A transcript of `responses` responses (each twice, as Claude Code repeats rows per content block)
        and a user prompt, on 2026-11-`day`."""
        prefix = prefix or f"{self.name}-{session}"
        rows: list[dict[str, Any]] = [user_row(PROMPT_TEXT, session_id=session,
                                               timestamp=f"2026-11-{day:02d}T09:00:00.000Z")]
        for i in range(responses):
            stamp = f"2026-11-{day:02d}T{10 + i // 60:02d}:{i % 60:02d}:00.000Z"
            row = assistant_row(f"msg_{prefix}_{i}", f"req_{prefix}_{i}", session_id=session, timestamp=stamp,
                                output_tokens=output + i, input_tokens=100 + i, cwd=f"/home/dev/{project}")
            rows += [row, {**row, "uuid": row["uuid"] + "-b", "apiBlockIndex": 1}]
        path = self.projects / project / f"{session}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(jsonl(rows))
        return path


def truth(base: Path, *roots: Path) -> dict[str, Any]:
    """`daily --json` of one governor that reads every transcript root itself: what the union must be."""
    judge = Machine(base, "judge-" + str(len(list(base.glob("judge-*")))))
    args = [a for root in roots for a in ("--claude-dir", str(root))]
    return judge.daily(*args)


def same_usage(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["days"] == b["days"]
    assert a["totals"] == b["totals"]


def machine_dir(share: Path, machine: Machine) -> Path:
    return share / "governor" / machine.machine_id()


def copy_machine_state(src: Machine, dst: Machine) -> None:
    shutil.rmtree(dst.state, ignore_errors=True)
    shutil.copytree(src.state, dst.state)
