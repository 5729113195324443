"""The sample week behind `governor demo`: SAMPLE data shipped with the package (governor/data/sample-week.*),
moved to the current week and replayed into a throw-away directory that every governor path points at
while the demo runs, so the user's ledger, budget.json and transcripts are never read or written."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from governor.fastdatetime import datetime, timezone
from governor.meter import transcript
from governor.policy import pacing

DATA_PACKAGE = "governor.data"
META_FILE = "sample-week.json"
# Every location governor resolves from the environment (see paths.py) is pointed into the sandbox.
SANDBOX_VARS = ("GOVERNOR_HOME", "GOVERNOR_CONFIG", "CLAUDE_CONFIG_DIR", "CODEX_HOME")


def read_data(name: str) -> str:
    """A file of the governor.data package (works from a checkout, a wheel or a zip)."""
    return resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def project_dir(cwd: str) -> str:
    """Claude Code's project directory name: every non-alphanumeric character of the cwd becomes '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def iso_ms(ts: float) -> str:
    """Epoch seconds -> the transcript's timestamp format, e.g. 2026-11-26T14:03:11.123Z."""
    moment = datetime.fromtimestamp(ts, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class SampleWeek:
    """The sample, its times moved by `shift` seconds so that its week is the current cycle."""

    meta: dict[str, Any]
    rows: list[tuple[float, dict[str, Any]]]  # (epoch s, transcript row), in file (= time) order
    shift: float
    start: float  # the cycle the sample now occupies
    reset: float

    def at(self, text: str) -> float:
        """A time written in the sample's base week -> epoch seconds in the current week."""
        return transcript.parse_timestamp(text) + self.shift

    def rate_limits(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """A status line `rate_limits` object with its resets_at moved to the current week."""
        return {name: {**window, "resets_at": window["resets_at"] + self.shift} for name, window in raw.items()}

    @property
    def responses(self) -> int:
        return len({row["message"]["id"] for _, row in self.rows if row.get("type") == "assistant"})

    @property
    def sessions(self) -> int:
        return len({row["sessionId"] for _, row in self.rows})


def read_meta() -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(read_data(META_FILE))
    return meta


def load(now: float, week_cfg: Mapping[str, Any], meta: dict[str, Any] | None = None) -> SampleWeek:
    """The sample week moved into the cycle that holds `now` (so the demo always shows "this week")."""
    meta = meta or read_meta()
    window = pacing.weekly_window(now, None, week_cfg)
    shift = window.start.timestamp() - transcript.parse_timestamp(meta["week_start"])
    rows = []
    for line in read_data(meta["transcripts"]).splitlines():
        if line.strip():
            row = json.loads(line)
            ts = transcript.parse_timestamp(row["timestamp"]) + shift
            row["timestamp"] = iso_ms(ts)
            rows.append((ts, row))
    return SampleWeek(meta, rows, shift, window.start.timestamp(), window.reset.timestamp())


@contextlib.contextmanager
def sandbox(tier: str) -> Iterator[str]:
    """A temporary directory holding the demo's state, config (the defaults, at the sample's tier) and
    transcripts; the environment points governor at it until the block ends, then it is deleted."""
    saved = {name: os.environ.get(name) for name in SANDBOX_VARS}
    with tempfile.TemporaryDirectory(prefix="governor-demo-") as tmp:
        home = os.path.join(tmp, "governor")
        env = {
            "GOVERNOR_HOME": home,
            "GOVERNOR_CONFIG": os.path.join(home, "budget.json"),
            "CLAUDE_CONFIG_DIR": os.path.join(tmp, "claude"),
            "CODEX_HOME": os.path.join(tmp, "codex"),
        }
        try:
            os.environ.update(env)
            for name in ("GOVERNOR_HOME", "CLAUDE_CONFIG_DIR", "CODEX_HOME"):
                os.makedirs(env[name], mode=0o700, exist_ok=True)
            with open(env["GOVERNOR_CONFIG"], "w", encoding="utf-8") as fh:
                json.dump({"tier": tier}, fh)
            yield tmp
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@dataclass
class Replay:
    """Appends the sample's rows to <root>/<project>/<session>.jsonl as the week's clock moves on,
    the way Claude Code writes them, so an incremental ingest sees the week unfold."""

    week: SampleWeek
    root: str  # a Claude Code `projects` directory
    written: int = 0
    paths: dict[str, str] = field(default_factory=dict)

    def path(self, session_id: str, cwd: str) -> str:
        if session_id not in self.paths:
            directory = os.path.join(self.root, project_dir(cwd))
            os.makedirs(directory, mode=0o700, exist_ok=True)
            self.paths[session_id] = os.path.join(directory, f"{session_id}.jsonl")
        return self.paths[session_id]

    def advance(self, until: float) -> None:
        """Write every row stamped at or before `until` that is not written yet."""
        chunks: dict[str, list[str]] = {}
        while self.written < len(self.week.rows) and self.week.rows[self.written][0] <= until:
            row = self.week.rows[self.written][1]
            target = self.path(str(row["sessionId"]), str(row.get("cwd") or "/"))
            chunks.setdefault(target, []).append(json.dumps(row, separators=(",", ":")) + "\n")
            self.written += 1
        for target, lines in chunks.items():
            with open(target, "a", encoding="utf-8") as fh:
                fh.write("".join(lines))
