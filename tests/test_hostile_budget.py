"""A hostile budget.json (issue 22): each gives the CLI the same kind of one-line error as any other
invalid value, never a traceback or a hang, and every hook fails open (exit 0, nothing on stdout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import run_cli, run_hook

HOSTILE: dict[str, bytes] = {
    "NaN cap": b'{"caps": {"max20x": NaN}}',
    "Infinity weight": b'{"weights": {"output": Infinity}}',
    "1e400 cap": b'{"caps": {"max20x": 1e400}}',
    "absurd cap": b'{"caps": {"pro": 1e200}}',
    "5000-digit number": b'{"version": ' + b"9" * 5000 + b"}",
    "not UTF-8": b'{"tier": "\xff\xfe"}',
    "nested 100000 deep": b"[" * 100000 + b"]" * 100000,
    "nested 40 deep": b'{"memory": ' + b'{"a": ' * 40 + b"1" + b"}" * 41,
}
EXPECTED = {
    "NaN cap": "invalid JSON: NaN is not a number JSON allows",
    "Infinity weight": "invalid JSON: Infinity is not a number JSON allows",
    "1e400 cap": "invalid JSON: 1e400 is out of range",
    "absurd cap": "caps.pro must be positive and at most 1e+13",
    "5000-digit number": "invalid JSON: a 5000-digit number is out of range",
    "not UTF-8": "not UTF-8 (byte 10)",
    "nested 100000 deep": "invalid JSON: nested deeper than 32",
    "nested 40 deep": "invalid JSON: nested deeper than 32",
}


def _budget(env: dict[str, str]) -> Path:
    return Path(env["GOVERNOR_HOME"]) / "budget.json"


def _check(path: str, env: dict[str, str]) -> str:
    result = run_cli("status", timeout=20)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"governor: {path}: ")
    payload = {"session_id": "s", "transcript_path": "/nonexistent.jsonl", "cwd": "/tmp", "prompt": "hi",
               "hook_event_name": "UserPromptSubmit"}
    for script in ("user_prompt_submit.py", "statusline.py", "session_start.py"):
        hook = run_hook(script, payload, timeout=10)
        assert hook.returncode == 0 and b"Traceback" not in hook.stderr, (script, hook.stderr)
    return result.stderr.strip()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_budget_json_is_one_line_and_hooks_fail_open(name: str, isolated_env) -> None:
    path = _budget(isolated_env)
    path.write_bytes(HOSTILE[name])
    line = _check(str(path), isolated_env)
    assert line.endswith(EXPECTED[name]), line


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/dev/urandom"])
def test_budget_json_that_is_a_fifo_or_a_device_never_hangs(target: str, isolated_env) -> None:
    path = _budget(isolated_env)
    if target == "fifo":
        os.mkfifo(path)
    else:
        os.symlink(target, path)
    assert _check(str(path), isolated_env).endswith("cannot read: not a regular file: " + repr(str(path)))
