"""The acceptance path: a fresh venv, `pip install <checkout>`, `governor install --settings`, then every
installed command line run through `sh -c` with a sample payload, another python first on PATH.

The venv uses --system-site-packages (pydantic, filelock, platformdirs, setuptools and wheel come from the
running interpreter, nothing is downloaded) and --without-pip (the running pip installs into it with
--python), which keeps the test near 12 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from governor.wiring import settings_merge as gs
from tests.helpers import REPO_ROOT

IGNORE = shutil.ignore_patterns(".git", "__pycache__", "build", "*.egg-info", ".*_cache", ".hypothesis",
                                "tests", "bench", ".venv", "venv")
PAYLOADS: dict[str, dict[str, object]] = {
    "UserPromptSubmit": {"prompt": "implement the parser across all modules"},
    "PostToolUse": {"tool_name": "Write", "tool_input": {"file_path": "/tmp/none.txt", "content": "x"},
                    "tool_response": {"type": "create", "filePath": "/tmp/none.txt"},
                    "tool_use_id": "toolu_1"},
    "PostToolBatch": {"prompt_id": "p1", "tool_calls": [{"tool_name": "Bash", "tool_input": {"command": "true"},
                                                          "tool_use_id": "toolu_2", "tool_response": ""}]},
    "SessionStart": {"source": "startup"},
}


def run(*cmd: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if subprocess.run([sys.executable, "-c", "import wheel, setuptools"]).returncode:
        pytest.skip("needs setuptools and wheel in the running interpreter (the build requirements)")
    base = tmp_path_factory.mktemp("venv")
    src = base / "src"
    shutil.copytree(REPO_ROOT, src, ignore=IGNORE)
    if not (src / "README.md").exists():
        (src / "README.md").write_text("# governor\n")
    env = base / "env"
    made = run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env))
    assert made.returncode == 0, made.stderr
    # When the tests themselves run in a venv (CI), its packages are not the base interpreter's
    # "system" ones: point the new venv at the running interpreter's site-packages too.
    import site

    target = next((env / "lib").glob("python3*/site-packages"))
    (target / "_running_interpreter.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    pip = run(sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--no-deps",
              "--no-build-isolation", "--no-index", "--quiet", str(src))
    assert pip.returncode == 0, pip.stderr
    return env


def test_fresh_venv_install_wires_commands_that_run(venv: Path, tmp_path: Path) -> None:
    settings_path = tmp_path / "settings.json"
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    for name in ("python", "python3"):
        (decoy / name).write_text("#!/bin/sh\necho decoy >&2\nexit 42\n")
        (decoy / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{decoy}:{env['PATH']}"
    result = run(str(venv / "bin" / "governor"), "install", "--settings", str(settings_path), env=env,
                 cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    doc = json.loads(settings_path.read_text())
    handlers = gs.governor_handlers(doc)
    assert [event for event, _g, _h in handlers] == list(PAYLOADS)
    site = next((venv / "lib").glob("python3*/site-packages"))
    for event, _group, handler in handlers:
        command = handler["command"]
        assert command.startswith(str(venv / "bin" / "python") + " ")
        assert str(site / "governor" / "_hooks") in command and str(REPO_ROOT) not in command
        payload = {"session_id": "venv-test", "transcript_path": str(tmp_path / "none.jsonl"),
                   "cwd": str(tmp_path), "hook_event_name": event, **PAYLOADS[event]}
        proc = run("sh", "-c", command, input=json.dumps(payload), env=env, cwd=str(tmp_path))
        assert proc.returncode == 0 and "decoy" not in proc.stderr, (event, proc.stderr)
        assert not proc.stdout.strip() or json.loads(proc.stdout)
    status = doc["statusLine"]["command"]
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert status == f"{venv / 'bin' / 'python'} {site / 'governor' / '_hooks' / 'statusline.py'} # governor"
    if (site / "governor" / "commands" / "statusline.py").exists():
        proc = run("sh", "-c", status, input=json.dumps({"session_id": "venv-test", "cwd": str(tmp_path)}),
                   env=env, cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stderr
    removed = run(str(venv / "bin" / "governor"), "uninstall", "--settings", str(settings_path), env=env)
    assert removed.returncode == 0 and not settings_path.exists()
