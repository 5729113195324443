"""hooks/post_tool_use.py as Claude Code runs it: real PostToolUse payloads on stdin, real files."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governor.guards.memory import handle, quick_skip
from governor.guards.memory_paths import _may_match, glob_matches
from tests.helpers import HOOKS_DIR, projects_root, run_hook

LONG = "- [Pacing](pacing.md) — " + "the projection relaxes on idle days and tightens on heavy ones " * 8
ENTRY = re.compile(r"^## \S+ · .+ line (\d+)\n\n(.*)\n\n", re.M)


def memory_index(project: str = "-home-dev-proj", text: str | None = None) -> Path:
    path = projects_root() / project / "memory" / "MEMORY.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else f"# Memory\n{LONG}\n- [Short](short.md) — ok\n")
    return path


def payload(tool: str, path: Path | str, cwd: str = "/home/dev/proj") -> dict[str, Any]:
    common = {
        "session_id": "ad9d002c-4cc6-47ab-a2d2-189930c54094",
        "transcript_path": "/home/dev/.claude/projects/-home-dev-proj/ad9d002c.jsonl",
        "cwd": cwd,
        "permission_mode": "acceptEdits",
        "effort": {"level": "medium"},
        "hook_event_name": "PostToolUse",
        "tool_name": tool,
        "tool_use_id": "toolu_01",
        "duration_ms": 12,
    }
    fp = str(path)
    if tool == "Write":
        common["tool_input"] = {"file_path": fp, "content": "x"}
        common["tool_response"] = {"type": "create", "filePath": fp, "content": "x", "structuredPatch": [],
                                   "originalFile": None, "userModified": False}
    elif tool == "Edit":
        common["tool_input"] = {"file_path": fp, "old_string": "a", "new_string": "b", "replace_all": False}
        common["tool_response"] = {"filePath": fp, "oldString": "a", "newString": "b", "originalFile": "a",
                                   "structuredPatch": [], "userModified": False, "replaceAll": False}
    elif tool == "MultiEdit":
        common["tool_input"] = {"file_path": fp, "edits": [{"old_string": "a", "new_string": "b"}]}
        common["tool_response"] = {"filePath": fp, "edits": [{"old_string": "a", "new_string": "b"}],
                                   "originalFileContents": "a", "structuredPatch": [], "userModified": False}
    else:
        common["tool_input"] = {"file_path": fp}
        common["tool_response"] = {"type": "text", "file": {"filePath": fp, "content": "x"}}
    return common


def context_of(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["hookSpecificOutput"]["hookEventName"] == "PostToolUse"
    return out["hookSpecificOutput"]["additionalContext"]


def assert_silent(proc: subprocess.CompletedProcess) -> None:
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def write_budget(memory: dict[str, Any]) -> None:
    Path(os.environ["GOVERNOR_HOME"], "budget.json").write_text(json.dumps({"memory": memory}))


@pytest.mark.parametrize("tool", ["Write", "Edit", "MultiEdit"])
def test_long_entry_is_capped_and_archived(tool: str) -> None:
    path = memory_index()
    proc = run_hook("post_tool_use.py", payload(tool, path))
    lines = path.read_text().split("\n")
    assert lines[0] == "# Memory" and lines[2] == "- [Short](short.md) — ok" and lines[3] == ""
    assert len(lines[1]) <= 350 and lines[1].endswith(" …") and LONG.startswith(lines[1][:-2])
    archive = path.parent / "MEMORY.overflow.md"
    assert ENTRY.findall(archive.read_text()) == [("2", LONG)]
    ctx = context_of(proc)
    assert "line 2" in ctx and str(path) in ctx and "MEMORY.overflow.md" in ctx and "do not re-add" in ctx
    assert len(ctx) <= 600


def test_memory_file_within_the_cap_is_left_alone_silently() -> None:
    path = memory_index(text="# Memory\n- [Short](short.md) — ok\n")
    before = path.read_bytes()
    assert_silent(run_hook("post_tool_use.py", payload("Edit", path)))
    assert path.read_bytes() == before
    assert not (path.parent / "MEMORY.overflow.md").exists()


@pytest.mark.parametrize("where", ["project_notes", "memory_md_outside_projects", "topic_file"])
def test_other_files_are_never_touched(tmp_path: Path, where: str) -> None:
    if where == "project_notes":
        path = tmp_path / "proj" / "NOTES.md"
    elif where == "memory_md_outside_projects":
        path = tmp_path / "proj" / "memory" / "MEMORY.md"
    else:
        path = projects_root() / "-home-dev-proj" / "memory" / "pacing.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LONG + "\n")
    for tool in ("Write", "Edit", "MultiEdit"):
        assert_silent(run_hook("post_tool_use.py", payload(tool, path)))
    assert path.read_text() == LONG + "\n"
    assert not list(path.parent.glob("*.overflow.md"))


PROBE = (  # report sys.modules however the hook leaves: normal exit, SystemExit, or os._exit
    "import atexit, os, sys\n"
    "def _report(*_a):\n"
    "    sys.stderr.write('MODS ' + ' '.join(sys.modules) + '\\n'); sys.stderr.flush()\n"
    "atexit.register(_report)\n"
    "_real_exit = os._exit\n"
    "def _exit(code):\n"
    "    _report(); _real_exit(code)\n"
    "os._exit = _exit\n"
)


def modules_loaded_by_hook(data: bytes) -> set[str]:
    """Run the real hook script and report sys.modules at exit."""
    hook = str(HOOKS_DIR / "post_tool_use.py")
    probe = PROBE + (
        f"g = {{'__file__': {hook!r}, '__name__': '__main__'}}\n"
        f"exec(compile(open({hook!r}).read(), {hook!r}, 'exec'), g)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], input=data, capture_output=True, timeout=60)
    assert proc.returncode == 0
    return set(proc.stderr.decode().split("MODS ", 1)[1].split())


HEAVY = {"pydantic", "filelock", "platformdirs", "governor.config", "governor.policy.memory_cap", "governor.fsutil"}


def test_non_memory_file_decided_without_heavy_imports(tmp_path: Path) -> None:
    write_budget({"paths": ["**/AI_CONTEXT.md"]})
    path = tmp_path / "src" / "app.py"
    mods = modules_loaded_by_hook(json.dumps(payload("Edit", path)).encode())
    assert "governor.guards.memory_paths" in mods  # the quick path decided it
    assert not mods & HEAVY
    assert "json" not in mods and "governor.guards.runtime" not in mods  # before the full hook is even loaded


def test_memory_file_does_load_the_capping_code() -> None:
    mods = modules_loaded_by_hook(json.dumps(payload("Edit", memory_index())).encode())
    assert {"governor.config", "governor.policy.memory_cap", "filelock"} <= mods


def test_read_of_a_memory_file_changes_nothing() -> None:
    path = memory_index()
    before = path.read_bytes()
    assert_silent(run_hook("post_tool_use.py", payload("Read", path)))
    assert path.read_bytes() == before


def test_relative_file_path_resolves_against_cwd() -> None:
    path = memory_index()
    proc = run_hook("post_tool_use.py", payload("Edit", "memory/MEMORY.md", cwd=str(path.parent.parent)))
    assert "line 2" in context_of(proc)
    assert len(path.read_text().split("\n")[1]) <= 350


def test_memory_paths_glob_adds_files(tmp_path: Path) -> None:
    write_budget({"paths": ["**/AI_CONTEXT.md"]})
    path = tmp_path / "repo" / "AI_CONTEXT.md"
    path.parent.mkdir()
    path.write_text(f"{LONG}\n")
    other = tmp_path / "repo" / "README.md"
    other.write_text(f"{LONG}\n")
    assert "line 1" in context_of(run_hook("post_tool_use.py", payload("Write", path)))
    assert len(path.read_text().rstrip("\n")) <= 350
    assert ENTRY.findall((tmp_path / "repo" / "AI_CONTEXT.overflow.md").read_text()) == [("1", LONG)]
    assert_silent(run_hook("post_tool_use.py", payload("Write", other)))
    assert other.read_text() == f"{LONG}\n"


def test_symlink_leading_outside_is_not_written(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "notes.md"
    outside.parent.mkdir()
    outside.write_text(f"{LONG}\n")
    link = projects_root() / "-home-dev-proj" / "memory" / "MEMORY.md"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    assert_silent(run_hook("post_tool_use.py", payload("Edit", link)))
    assert outside.read_text() == f"{LONG}\n"
    assert link.is_symlink()
    assert not list(link.parent.glob("*.overflow.md")) and not list(outside.parent.glob("*.overflow.md"))


def test_symlink_to_another_memory_index_caps_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = memory_index("-home-dev-main")
    link = projects_root() / "-home-dev-worktree" / "memory" / "MEMORY.md"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    assert "line 2" in context_of(run_hook("post_tool_use.py", payload("Edit", link)))
    assert link.is_symlink() and len(target.read_text().split("\n")[1]) <= 350


def test_kill_switch_turns_it_off() -> None:
    path = memory_index()
    before = path.read_bytes()
    assert_silent(run_hook("post_tool_use.py", payload("Edit", path), env={"GOVERNOR_DISABLE": "1"}))
    assert path.read_bytes() == before


def test_memory_enabled_false_turns_it_off() -> None:
    write_budget({"enabled": False})
    path = memory_index()
    before = path.read_bytes()
    assert_silent(run_hook("post_tool_use.py", payload("Edit", path)))
    assert path.read_bytes() == before


def test_line_cap_from_budget_json() -> None:
    write_budget({"line_cap": 100})
    path = memory_index()
    assert "to 100 chars" in context_of(run_hook("post_tool_use.py", payload("Edit", path)))
    assert len(path.read_text().split("\n")[1]) <= 100


def test_invalid_budget_json_fails_open_and_logs() -> None:
    Path(os.environ["GOVERNOR_HOME"], "budget.json").write_text('{"memory": {"line_cap": "wide"}}')
    path = memory_index()
    before = path.read_bytes()
    assert_silent(run_hook("post_tool_use.py", payload("Edit", path)))
    assert path.read_bytes() == before
    assert "PostToolUse failed open" in Path(os.environ["GOVERNOR_HOME"], "governor.log").read_text()


def test_over_the_load_limit_warns_and_keeps_every_line() -> None:
    text = "# Memory\n" + "".join(f"- [Entry {i}](e{i}.md) — short\n" for i in range(259))
    path = memory_index(text=text)
    ctx = context_of(run_hook("post_tool_use.py", payload("Write", path)))
    assert "lines 201-260 of 260" in ctx and "are not loaded" in ctx and "topic files" in ctx
    assert path.read_text() == text


def test_context_stays_short_with_many_cuts_over_the_limit_in_a_deep_project() -> None:
    text = "".join(f"{LONG} #{i}\n" for i in range(5)) + "".join(f"- [E{i}](e{i}.md)\n" for i in range(300))
    path = memory_index("-home-dev-" + "very-long-project-name-" * 3, text)
    ctx = context_of(run_hook("post_tool_use.py", payload("Write", path)))
    assert "line 1" in ctx and "line 2" in ctx and "and 3 more" in ctx and "lines 201-305" in ctx
    assert len(ctx) - len(str(path)) <= 500
    assert len(path.read_text().split("\n")) == 306


def test_crlf_and_mode_survive_the_hook() -> None:
    path = memory_index(text="")
    path.write_bytes(b"# Memory\r\n" + LONG.encode() + b"\r\n")
    path.chmod(0o640)
    context_of(run_hook("post_tool_use.py", payload("Edit", path)))
    data = path.read_bytes()
    assert data.count(b"\r\n") == 2 and data.endswith(b" \xe2\x80\xa6\r\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize(
    "stdin",
    [
        b"", b"   ", b"not json", b"[]", b"null", b'{"tool_input": 5}',
        b'{"tool_name": "Edit", "tool_input": 7}',
        b'{"tool_name": "Edit", "tool_input": {"file_path": 7}}',
        b'{"tool_name": "Edit", "tool_input": {"file_path": ""}}',
        b'{"tool_name": "Write", "tool_input": {"file_path": "a\\u0000b"}}',
        b"\xff\xfe\x00garbage", b"{" * 5000,
    ],
)
def test_garbage_payloads_exit_0_silently(stdin: bytes) -> None:
    assert_silent(run_hook("post_tool_use.py", stdin))


def test_concurrent_hooks_on_one_file_cap_each_line_exactly_once() -> None:
    lines = ["# Memory"] + [f"{LONG} #{i}" for i in range(6)] + ["- [Short](short.md) — ok"]
    path = memory_index(text="\n".join(lines) + "\n")
    data = json.dumps(payload("MultiEdit", path)).encode()
    procs = [
        subprocess.Popen([sys.executable, str(HOOKS_DIR / "post_tool_use.py")], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(8)
    ]
    results = [p.communicate(data, timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs) and all(err == b"" for _, err in results)
    assert sum(1 for out, _ in results if out) == 1  # exactly one process did the capping and said so
    new = path.read_text().split("\n")
    assert len(new) == len(lines) + 1 and new[0] == lines[0] and new[7] == lines[7]
    assert all(len(line) <= 350 and line.endswith(" …") for line in new[1:7])
    entries = ENTRY.findall((path.parent / "MEMORY.overflow.md").read_text())
    assert sorted(entries) == sorted((str(i + 2), f"{LONG} #{i}") for i in range(6))
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


# --- quick_skip: the raw-bytes pre-check meant to run before any json/re/typing import ---

names = st.text(alphabet=st.sampled_from('abcXYZ019 ._-"\\/é😀\t'), min_size=1, max_size=12).filter(
    lambda s: s.strip("/") not in ("", ".", "..") and "/" not in s
)


def raw(tool: str, path: Path | str, ensure_ascii: bool = True) -> bytes:
    return json.dumps(payload(tool, path), ensure_ascii=ensure_ascii).encode()


@settings(max_examples=150, deadline=None)
@given(names, st.booleans(), st.sampled_from(["Write", "Edit", "MultiEdit"]))
def test_quick_skip_never_skips_a_memory_index(project: str, ascii_only: bool, tool: str) -> None:
    root = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects"
    assert quick_skip(raw(tool, root / project / "memory" / "MEMORY.md", ascii_only)) is False


@settings(max_examples=150, deadline=None)
@given(names, st.booleans())
def test_quick_skip_skips_ordinary_files_however_they_are_encoded(name: str, ascii_only: bool) -> None:
    path = Path("/home/dev/proj/src") / (name + ".py")
    skipped = quick_skip(raw("Edit", path, ascii_only))
    astral_escaped = ascii_only and any(ord(c) > 0xFFFF for c in name)  # \ud83d\ude00: left to json
    assert skipped is (not astral_escaped)


def test_quick_skip_agrees_with_the_full_guard(tmp_path: Path) -> None:
    index = memory_index()
    outside = tmp_path / "proj" / "notes.md"
    outside.parent.mkdir()
    outside.write_text(f"{LONG}\n")
    link_in = tmp_path / "proj" / "memory-link.md"  # a symlink from a project into the memory index
    link_in.symlink_to(index)
    assert quick_skip(raw("Edit", outside)) is True
    assert handle(payload("Edit", outside)) is None and outside.read_text() == f"{LONG}\n"
    assert quick_skip(raw("Edit", index)) is False
    assert quick_skip(raw("Edit", link_in)) is False
    assert handle(payload("Edit", link_in)) is not None  # the full guard caps through the link
    assert quick_skip(raw("Edit", "memory/MEMORY.md")) is False  # relative: needs cwd, left to json
    for garbage in (b"", b"not json", b"\xff", b'{"tool_input": {"file_path": 7}}', b"{" * 100):
        assert quick_skip(garbage) is False  # the full hook logs these


def test_quick_skip_reads_memory_paths_from_budget_json(tmp_path: Path) -> None:
    target = tmp_path / "repo" / "AI_CONTEXT.md"
    other = tmp_path / "repo" / "app.py"
    example = json.loads((Path(__file__).resolve().parent.parent / "budget.example.json").read_text())
    Path(os.environ["GOVERNOR_HOME"], "budget.json").write_text(json.dumps(example, indent=2))
    assert quick_skip(raw("Write", target)) is True  # the example's "paths": [] adds nothing
    write_budget({"paths": ["~/work/**/AI_CONTEXT.md", "/srv/notes/*.md"]})
    assert quick_skip(raw("Write", target)) is False
    assert quick_skip(raw("Write", tmp_path / "x" / "todo.md")) is False  # *.md may match
    assert quick_skip(raw("Write", other)) is True
    write_budget({"paths": "not a list"})  # invalid: the full guard reports it
    assert quick_skip(raw("Write", other)) is False


glob_parts = st.sampled_from(["*", "?", "**", "a", "b", ".md", "/", "x*y", "[ab]", "~"])
globs = st.lists(glob_parts, max_size=6).map("".join)
name_parts = st.sampled_from(["a", "b", "ab", ".md", "x", "y", "xy"])
path_names = st.lists(name_parts, min_size=1, max_size=4).map("".join)


@given(st.lists(path_names, min_size=1, max_size=4), globs)
def test_cheap_glob_check_is_a_superset_of_the_real_one(parts: list[str], pattern: str) -> None:
    path = "/" + "/".join(parts)
    if glob_matches(path, pattern):
        assert _may_match(path, pattern)
