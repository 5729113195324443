"""settings.json as a hostile world leaves it (issue 22): whatever governor writes parses as strict JSON
and keeps every foreign value exactly; what it cannot edit gives one line and no change; and an edit by
a writer that does not take governor's lock (Claude Code) is never lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from governor.wiring import installer
from tests.helpers import run_cli


def _settings(env: dict[str, str]) -> Path:
    return Path(env["CLAUDE_CONFIG_DIR"]) / "settings.json"


def _strict(data: bytes) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the written file")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def test_foreign_huge_numbers_and_lone_surrogates_survive_install_and_uninstall(isolated_env) -> None:
    path = _settings(isolated_env)
    original = b'{\n  "big": 1e400,\n  "neg": -2E+999,\n  "odd": "\\ud800x",\n  "keep": [1.5, 10]\n}\n'
    path.write_bytes(original)
    result = run_cli("install")
    assert result.returncode == 0, result.stderr
    written = path.read_bytes()
    assert b'"big": 1e400' in written and b'"neg": -2E+999' in written and b'"\\ud800x"' in written
    doc = _strict(written)
    assert doc["keep"] == [1.5, 10] and "hooks" in doc
    result = run_cli("uninstall")
    assert result.returncode == 0, result.stderr
    exact = {"parse_float": str, "parse_constant": str}  # every number's text, not its float
    assert json.loads(path.read_bytes(), **exact) == json.loads(original, **exact)


def test_what_governor_cannot_edit_is_one_line_and_left_alone(isolated_env) -> None:
    path = _settings(isolated_env)
    for body, says in ((b"[" * 100000 + b"]" * 100000, "nested too deep"),
                       (b'{"a": NaN}', "NaN is not valid JSON"),
                       (b'{"a": "\xff"}', "not UTF-8")):
        path.write_bytes(body)
        result = run_cli("install")
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert says in result.stderr and "Traceback" not in result.stderr
        assert path.read_bytes() == body
    path.unlink()
    os.mkfifo(path)
    result = run_cli("install", timeout=20)
    assert result.returncode == 2 and "not a regular file" in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1


# A writer like Claude Code: read settings.json, add one key, write a temp file, rename over it; no lock.
WRITER = r"""
import json, os, sys
path, edit = sys.argv[1], sys.argv[2]
with open(path, "rb") as fh:
    doc = json.loads(fh.read() or b"{}")
doc.setdefault("permissions", {}).setdefault("allow", []).append(edit)
tmp = f"{path}.claude.{os.getpid()}.tmp"
with open(tmp, "w") as fh:
    json.dump(doc, fh, indent=2)
os.replace(tmp, path)
"""


def test_an_edit_made_while_governor_edits_is_redone_not_lost(isolated_env, monkeypatch) -> None:
    """The race made certain: the other writer (a real process, no lock) replaces the file after
    governor read it and before governor's rename, on the first two attempts of each command."""
    path = _settings(isolated_env)
    path.write_text('{"permissions": {"allow": []}}\n')
    real_backup = installer.settings_file.backup
    edits: list[str] = []

    def backup_then_race(target: str, data: bytes) -> str:
        if len(edits) % 3 != 2:  # two races, then let governor through
            edits.append(f"Bash(edit-{len(edits)})")
            subprocess.run([sys.executable, "-c", WRITER, str(path), edits[-1]], check=True)
        else:
            edits.append("")
        return real_backup(target, data)

    monkeypatch.setattr(installer.settings_file, "backup", backup_then_race)
    installer.install(str(path), installer.claude_wiring())
    doc = _strict(path.read_bytes())
    assert doc["permissions"]["allow"] == ["Bash(edit-0)", "Bash(edit-1)"] and doc["hooks"]
    installer.uninstall(str(path))
    doc = _strict(path.read_bytes())
    assert doc["permissions"]["allow"] == ["Bash(edit-0)", "Bash(edit-1)", "Bash(edit-3)", "Bash(edit-4)"]
    assert "hooks" not in doc


LOOP_WRITER = r"""
import json, os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(path, "rb") as fh:
        doc = json.loads(fh.read() or b"{}")
    doc.setdefault("permissions", {}).setdefault("allow", []).append(f"Bash(edit-{i})")
    tmp = f"{path}.claude.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=2)
    os.replace(tmp, path)
    time.sleep(0.05)
"""


def test_edits_by_a_free_running_writer_survive_install_and_uninstall(isolated_env) -> None:
    """A writer at Claude Code's pace against back-to-back install/uninstall: no edit lost (what is left
    is the microseconds between governor's last read and its rename)."""
    path = _settings(isolated_env)
    path.write_text("{}\n")
    writer = subprocess.Popen([sys.executable, "-c", LOOP_WRITER, str(path), "40"])
    rounds = 0
    try:
        while writer.poll() is None:
            installer.install(str(path), installer.claude_wiring())
            installer.uninstall(str(path))
            rounds += 1
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == 0 and rounds > 10
    kept = _strict(path.read_bytes())["permissions"]["allow"]
    # The compare-and-swap leaves the moment between its last read and the rename: a writer that takes no
    # lock can still land an edit in it. Measured on this test: 0-2 of the 40 edits lost with the re-check,
    # most of them lost without it (governor's copy overwrote the writer's on nearly every round). So more
    # than 3 means the re-check is not doing its job; the exact-window race above is the strict test.
    lost = [f"Bash(edit-{i})" for i in range(40) if f"Bash(edit-{i})" not in kept]
    assert len(lost) <= 3, lost
    assert kept == [f"Bash(edit-{i})" for i in range(40) if f"Bash(edit-{i})" not in lost]
