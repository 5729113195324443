"""`governor demo`, whole, at a fixed moment: what a new user sees first may only change on purpose.
Regenerate with `python tests/test_demo_snapshot.py` after a deliberate change, and review the diff."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "demo"
STAMP = "sample-week-2025-12-01T12Z"
NOW = 1764590400.0  # Mon 01 Dec 2025 12:00 UTC: the sample week is moved into the cycle holding it
PROGRAM = (
    "import json, sys\n"
    "from governor.reports.demo import build, render\n"
    f"d = build(now={NOW})\n"
    "sys.stdout.write(render(d) + '\\n' + '\\x00' + json.dumps(d, indent=2, ensure_ascii=False, default=str))\n"
)


def demo_now() -> tuple[str, str]:
    repo = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "TZ": "UTC", "NO_COLOR": "1", "COLUMNS": "100", "PYTHONPATH": repo}
    proc = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text, _, data = proc.stdout.partition("\x00")
    return text, data + "\n"


def test_demo_text_and_json_are_unchanged() -> None:
    text, data = demo_now()
    assert text == (FIXTURES / f"{STAMP}.txt").read_text()
    assert json.loads(data) == json.loads((FIXTURES / f"{STAMP}.json").read_text())


if __name__ == "__main__":  # regenerate (run in an isolated environment: the demo touches nothing of yours)
    text, data = demo_now()
    (FIXTURES / f"{STAMP}.txt").write_text(text)
    (FIXTURES / f"{STAMP}.json").write_text(data)
