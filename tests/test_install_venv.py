"""The acceptance path: a fresh venv, `pip install <checkout>`, `governor install --settings`, then every
installed command line run through `sh -c` with a sample payload, another python first on PATH.

The venv uses --system-site-packages (pydantic, filelock, platformdirs, setuptools and wheel come from the
running interpreter, nothing is downloaded) and --without-pip (the running pip installs into it with
--python), which keeps the test near 12 s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

from governor.wiring import installer
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


def _closure(name: str) -> list[metadata.Distribution]:
    """The running interpreter's distributions governor needs: itself excluded, extras skipped."""
    found: dict[str, metadata.Distribution] = {}
    todo = [name]
    while todo:
        for dep in installer.runtime_requirements(metadata.distribution(todo.pop())):
            key = re.sub(r"[-_.]+", "-", dep).lower()
            if key not in found:
                try:
                    found[key] = metadata.distribution(dep)
                except metadata.PackageNotFoundError:
                    continue  # a marker excludes this interpreter
                todo.append(dep)
    return list(found.values())


@pytest.fixture(scope="module")
def own_site_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv as pip or pipx makes it: no system site packages, governor and every dependency in its own
    site-packages (the dependencies copied file by file from the running interpreter's installs)."""
    if subprocess.run([sys.executable, "-c", "import wheel, setuptools"]).returncode:
        pytest.skip("needs setuptools and wheel in the running interpreter (the build requirements)")
    base = tmp_path_factory.mktemp("own-site")
    src = base / "src"
    shutil.copytree(REPO_ROOT, src, ignore=IGNORE)
    env = base / "env"
    made = run(sys.executable, "-m", "venv", "--without-pip", str(env))
    assert made.returncode == 0, made.stderr
    target = next((env / "lib").glob("python3*/site-packages"))
    for dist in _closure("token-budget-governor"):
        for file in dist.files or []:
            if file.parts[0] == ".." or file.suffix == ".pyc":
                continue
            dest = target / file
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(dist.locate_file(file))), dest)
    wheels = base / "wheels"  # built here: the new venv has no build backend, and a wheel installs without one
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
                "-w", str(wheels), str(src))
    assert built.returncode == 0, built.stderr
    pip = run(sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--no-deps",
              "--no-index", "--quiet", str(next(wheels.glob("*.whl"))))
    assert pip.returncode == 0, pip.stderr
    return env


def test_a_venv_holding_every_dependency_gets_python_s_commands_that_answer_as_the_plain_ones(
        own_site_venv: Path, tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "NO_COLOR": "1"}
    settings_path = tmp_path / "settings.json"
    result = run(str(own_site_venv / "bin" / "governor"), "install", "--settings", str(settings_path), env=env,
                 cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    doc = json.loads(settings_path.read_text())
    site = next((own_site_venv / "lib").glob("python3*/site-packages"))
    python = own_site_venv / "bin" / "python"
    assert doc["statusLine"]["command"] == f"{python} -S {site / 'governor' / '_hooks' / 'statusline.py'} # governor"
    transcript = tmp_path / "session.jsonl"
    shutil.copy(REPO_ROOT / "tests" / "fixtures" / "claude" / "transcript-2.1.328-write-bash.jsonl", transcript)
    commands = [(event, handler["command"], {"session_id": "venv-s", "transcript_path": str(transcript),
                                             "cwd": str(tmp_path), "hook_event_name": event, **PAYLOADS[event]})
                for event, _group, handler in gs.governor_handlers(doc)]
    commands.append(("statusLine", doc["statusLine"]["command"], {
        "session_id": "venv-s", "transcript_path": str(transcript), "cwd": str(tmp_path),
        "rate_limits": {"seven_day": {"used_percentage": 41, "resets_at": int(time.time()) + 3 * 86400}}}))
    for event, command, payload in commands:
        assert command.startswith(f"{python} -S "), command
        answers = []
        for flags, state in ((" -S ", "fast"), (" ", "plain")):  # each in its own fresh state: no once-only advice
            home = tmp_path / f"{event}-{state}"
            home.mkdir()
            proc = run("sh", "-c", command.replace(" -S ", flags, 1), input=json.dumps(payload),
                       env={**env, "GOVERNOR_HOME": str(home)}, cwd=str(tmp_path))
            assert proc.returncode == 0 and not proc.stderr, (event, state, proc.stderr)
            log = home / "governor.log"
            assert not log.exists() or "Traceback" not in log.read_text(), (event, state, log.read_text())
            answers.append(proc.stdout)
        assert answers[0] == answers[1], event
        if event == "statusLine":
            assert answers[0].startswith("wk 41% official"), answers[0]
