"""`governor memory check [PATH...] [--fix] [--json]` run as a subprocess on real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.helpers import projects_root, run_cli

LONG = "- [Router](router.md) — " + "bounded implementation work goes to the second lane, review stays " * 7
SHORT = "- [Short](short.md) — fine"


def memory_index(project: str, text: str) -> Path:
    path = projects_root() / project / "memory" / "MEMORY.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_memory_files_is_fine() -> None:
    proc = run_cli("memory", "check")
    assert proc.returncode == 0, proc.stderr
    assert "no memory files found" in proc.stdout


def test_reports_over_long_lines_without_changing_anything() -> None:
    bad = memory_index("-home-dev-a", f"# A\n{LONG}\n{SHORT}\n")
    good = memory_index("-home-dev-b", f"# B\n{SHORT}\n")
    proc = run_cli("memory", "check")
    assert proc.returncode == 1, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.startswith("~/")}
    assert "1 over cap" in rows["~/.claude/projects/-home-dev-a/memory/MEMORY.md"]
    assert rows["~/.claude/projects/-home-dev-b/memory/MEMORY.md"].rstrip().endswith("ok")
    assert "--fix" in proc.stdout
    assert bad.read_text() == f"# A\n{LONG}\n{SHORT}\n" and good.read_text() == f"# B\n{SHORT}\n"


def test_fix_caps_archives_and_then_reports_ok() -> None:
    path = memory_index("-home-dev-a", f"# A\n{LONG}\n{SHORT}\n")
    proc = run_cli("memory", "check", "--fix")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fixed 1" in proc.stdout
    lines = path.read_text().split("\n")
    assert len(lines[1]) <= 350 and lines[1].endswith(" …") and lines[2] == SHORT
    assert LONG in (path.parent / "MEMORY.overflow.md").read_text()
    again = run_cli("memory", "check")
    assert again.returncode == 0 and "over cap" not in again.stdout


def test_json_output_and_load_limit_is_not_fixable() -> None:
    text = f"# A\n{LONG}\n" + "".join(f"- [E{i}](e{i}.md) — x\n" for i in range(220))
    path = memory_index("-home-dev-a", text)
    proc = run_cli("memory", "check", "--fix", "--json")
    assert proc.returncode == 1  # capped, but still over 200 lines: lines are never deleted
    data = json.loads(proc.stdout)
    assert data["line_cap"] == 350 and data["ok"] is False
    (entry,) = data["files"]
    assert entry["path"] == str(path) and entry["fixed"] == 1 and entry["over_cap_lines"] == []
    assert entry["lines"] == 222 and entry["load"]["over"] is True
    assert entry["load"]["loaded_lines"] == 200 and entry["load"]["not_loaded_lines"] == 22
    assert entry["archive"] == str(path.parent / "MEMORY.overflow.md")
    assert len(path.read_text().split("\n")) == 223


def test_json_lists_over_cap_lines_with_their_length() -> None:
    memory_index("-home-dev-a", f"{SHORT}\n{LONG}\n")
    data = json.loads(run_cli("memory", "check", "--json").stdout)
    assert data["files"][0]["over_cap_lines"] == [{"line": 2, "chars": len(LONG)}]
    assert data["files"][0]["load"]["over"] is False


def test_explicit_paths_and_line_cap_from_config(tmp_path: Path) -> None:
    Path(os.environ["GOVERNOR_HOME"], "budget.json").write_text(json.dumps({"memory": {"line_cap": 120}}))
    notes = tmp_path / "AI_CONTEXT.md"
    notes.write_text(f"{LONG}\n")
    memory_index("-home-dev-a", f"{LONG}\n")  # not named: not checked
    proc = run_cli("memory", "check", str(notes), "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and [f["path"] for f in data["files"]] == [str(notes)]
    assert data["line_cap"] == 120
    assert run_cli("memory", "check", "--fix", str(notes)).returncode == 0
    assert len(notes.read_text().rstrip("\n")) <= 120


def test_fix_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.md"
    target.write_text(f"{LONG}\n")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    assert run_cli("memory", "check", "--fix", str(link)).returncode == 0
    assert link.is_symlink() and len(target.read_text().rstrip("\n")) <= 350


def test_memory_paths_globs_are_discovered(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "AI_CONTEXT.md").write_text(f"{LONG}\n")
    (repo / "AI_CONTEXT.overflow.md").write_text(f"{LONG}\n")  # an archive is never a memory file
    budget = {"memory": {"paths": [str(tmp_path / "**" / "AI_CONTEXT*.md")]}}
    Path(os.environ["GOVERNOR_HOME"], "budget.json").write_text(json.dumps(budget))
    data = json.loads(run_cli("memory", "check", "--json").stdout)
    assert [f["path"] for f in data["files"]] == [str(repo / "AI_CONTEXT.md")]


def test_missing_path_is_one_line_error() -> None:
    proc = run_cli("memory", "check", "/nonexistent/MEMORY.md")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "governor: /nonexistent/MEMORY.md: no such file"


def test_non_utf8_file_is_reported_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "MEMORY.md"
    path.write_bytes(b"\xff\xfe broken " * 60)
    proc = run_cli("memory", "check", "--fix", str(path))
    assert proc.returncode == 1 and "not UTF-8" in proc.stdout
    assert path.read_bytes() == b"\xff\xfe broken " * 60
