"""One bad file never switches governor off (issue 22): FIFOs, devices, link loops, dangling links, names
that are not UTF-8, over-long lines and transcripts deleted mid-scan are skipped, counted and logged
once; every other transcript is read exactly, and no hook or report hangs or tracebacks."""

from __future__ import annotations

import json
import os
from pathlib import Path

from governor import paths
from governor.meter import db, ledger, parse_pool, tail
from tests.helpers import assistant_row, jsonl, projects_root, run_cli, run_hook

ROWS = [assistant_row(message_id="msg_ok", output_tokens=31)]


def _hostile_tree(root: Path) -> Path:
    project = root / "p"
    (project / "sess-9" / "subagents").mkdir(parents=True)
    good = project / "good.jsonl"
    good.write_text(jsonl(ROWS))
    os.mkfifo(project / "fifo.jsonl")
    os.symlink("/dev/zero", project / "zero.jsonl")
    os.symlink("/dev/urandom", project / "sess-9" / "subagents" / "agent-urandom.jsonl")
    os.symlink("missing.jsonl", project / "sess-9" / "subagents" / "agent-dangling.jsonl")
    os.symlink("loop2.jsonl", project / "loop1.jsonl")
    os.symlink("loop1.jsonl", project / "loop2.jsonl")
    os.symlink(".", project / "dirloop")  # a directory link loop
    with open(os.path.join(os.fsencode(project), b"caf\xe9.jsonl"), "wb") as fh:  # not UTF-8
        fh.write(jsonl([assistant_row(message_id="msg_latin1")]).encode())
    return good


def _totals(conn) -> tuple[int, int]:
    return conn.execute("SELECT COUNT(*), COALESCE(SUM(output), 0) FROM usage").fetchone()


def test_ingest_skips_what_it_cannot_read_and_logs_it_once() -> None:
    root = projects_root()
    _hostile_tree(root)
    conn = db.connect()
    stats = ledger.ingest(conn, [str(root)], parallel=False)
    assert _totals(conn) == (1, 31)
    reasons = sorted(u.rsplit(" (", 1)[1] for u in stats.unreadable)
    assert reasons == ["No such file or directory)", "Too many levels of symbolic links)",
                       "Too many levels of symbolic links)", "name is not UTF-8)", "not a regular file)",
                       "not a regular file)", "not a regular file)"]
    again = ledger.ingest(conn, [str(root)], parallel=False)
    assert len(again.unreadable) == 7
    log = Path(paths.log_path()).read_text()
    assert log.count("cannot be read") == 1 and "Traceback" not in log


def test_a_transcript_deleted_between_discovery_and_read_is_skipped(monkeypatch) -> None:
    root = projects_root()
    good = _hostile_tree(root)
    other = root / "p" / "gone.jsonl"
    other.write_text(jsonl([assistant_row(message_id="msg_gone", output_tokens=5)]))
    real = parse_pool._parse_file

    def delete_then_parse(job, fast=False, limit=None):
        if job[0].endswith("gone.jsonl"):
            os.unlink(job[0])  # Claude Code's cleanup sweep, just after discovery
        return real(job, fast, limit)

    monkeypatch.setattr(parse_pool, "_parse_file", delete_then_parse)
    conn = db.connect()
    stats = ledger.ingest(conn, [str(root)], parallel=False)
    assert _totals(conn) == (1, 31) and good.exists()
    assert any("gone.jsonl (FileNotFoundError" in u for u in stats.unreadable)
    assert conn.execute("SELECT COUNT(*) FROM files WHERE path LIKE '%gone.jsonl'").fetchone() == (0,)


def test_an_over_long_line_is_skipped_without_being_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    good = jsonl(ROWS).encode()
    with open(path, "wb") as fh:
        fh.write(good)
        fh.write(b'{"x":"' + b"a" * (5 * 1024 * 1024) + b'"}\n')  # 5 MB line; max_line 1 MB below
        fh.write(good)
        fh.write(b"b" * (3 * 1024 * 1024))  # a torn over-long tail without a newline
    blocks = tail.Blocks(str(path), 0, block=256 * 1024, max_line=1024 * 1024)
    got = list(blocks)
    assert b"".join(b for b, _ in got) == good + good
    assert max(len(b) for b, _ in got) <= 1024 * 1024 + 256 * 1024
    assert got[-1][1] == 2 * len(good) + 5 * 1024 * 1024 + 9  # the cursor: past the skipped line
    assert blocks.overlong == 2


def test_hooks_and_reports_do_not_hang_on_fifos_and_devices() -> None:
    root = projects_root()
    _hostile_tree(root)
    fifo = str(root / "p" / "fifo.jsonl")
    for transcript in (fifo, str(root / "p" / "zero.jsonl"), "/dev/zero"):
        payload = {"session_id": "s", "transcript_path": transcript, "cwd": "/tmp",
                   "hook_event_name": "UserPromptSubmit", "prompt": "hello"}
        for script in ("user_prompt_submit.py", "statusline.py"):
            result = run_hook(script, payload, timeout=10)
            assert result.returncode == 0, result.stderr
            assert b"Traceback" not in result.stderr
    for args in (("daily", "--json"), ("status",), ("sessions",)):
        result = run_cli(*args, timeout=20)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stderr)
    assert json.loads(run_cli("daily", "--json").stdout)["totals"]["output_tokens"] == 31



def _hostile_codex_home() -> tuple[Path, int]:
    """CODEX_HOME/sessions with one real rollout beside a FIFO, a link to /dev/zero, a dangling link, a link
    loop and a name that is not UTF-8, all named rollout-*.jsonl; returns the real one and the number of
    unreadable ones."""
    from tests.codex_fixtures import REAL_0169

    day = Path(os.environ["CODEX_HOME"]) / "sessions" / "2026" / "11" / "23"
    day.mkdir(parents=True)
    good = day / REAL_0169.name
    good.write_bytes(REAL_0169.read_bytes())
    os.mkfifo(day / "rollout-fifo.jsonl")
    os.symlink("/dev/zero", day / "rollout-zero.jsonl")
    os.symlink("rollout-missing.jsonl", day / "rollout-dangling.jsonl")
    os.symlink("rollout-loop2.jsonl", day / "rollout-loop1.jsonl")
    os.symlink("rollout-loop1.jsonl", day / "rollout-loop2.jsonl")
    with open(os.path.join(os.fsencode(day), b"rollout-caf\xe9.jsonl"), "wb") as fh:
        fh.write(REAL_0169.read_bytes())
    return good, 6


def test_unreadable_codex_rollouts_are_skipped_counted_and_logged_once() -> None:
    from governor.meter.codex_ingest import ingest_codex, token_totals
    from tests.codex_fixtures import REAL_0169, record_totals

    _hostile_codex_home()
    conn = db.connect()
    stats = ingest_codex(conn, now=1795_900_000)
    totals = token_totals(conn, None, None)
    assert tuple(totals[k] for k in ("input", "cached_input", "output", "reasoning", "total")) == record_totals(
        REAL_0169)
    assert stats.files_read == 1
    reasons = sorted(u.rsplit(" (", 1)[1] for u in stats.unreadable)
    assert reasons == ["No such file or directory)", "Too many levels of symbolic links)",
                       "Too many levels of symbolic links)", "name is not UTF-8)", "not a regular file)",
                       "not a regular file)"]
    assert len(ingest_codex(conn, now=1795_900_000).unreadable) == 6
    log = Path(paths.log_path()).read_text()
    assert log.count("Codex rollout file(s) that cannot be read") == 1 and "Traceback" not in log
    out = run_cli("daily")  # the CLI reads the Codex lane too: one report, no traceback
    assert out.returncode == 0 and out.stderr == "" and "Traceback" not in Path(paths.log_path()).read_text()


def test_a_rollout_without_read_permission_is_skipped_as_a_user() -> None:
    import pwd
    import subprocess
    import sys

    from tests.helpers import REPO_ROOT
    from tests.test_hostile_memory import user_or_skip

    user = user_or_skip()
    good, _n = _hostile_codex_home()
    secret = good.with_name("rollout-secret.jsonl")
    secret.write_bytes(good.read_bytes())
    home = Path(os.environ["HOME"])
    uid = pwd.getpwnam(user).pw_uid
    for dirpath, _dirs, files in os.walk(home):
        os.chown(dirpath, uid, -1)
        for name in files:
            os.lchown(os.path.join(dirpath, os.fsdecode(name)), uid, -1)
    for parent in list(home.parents)[:-1]:  # pytest's tmp dirs are 0700: let the user reach its home
        os.chmod(parent, os.stat(parent).st_mode | 0o005)
    secret.chmod(0)
    command = [sys.executable, "-m", "governor", "status", "--json"]
    if os.geteuid() == 0:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    runs = [subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=str(REPO_ROOT),
                           env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}) for _ in range(2)]
    for proc in runs:
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    log = Path(paths.log_path()).read_text()
    assert log.count("ingest: skipped 7 Codex rollout file(s) that cannot be read") == 1  # 6 + Permission denied
    assert "Traceback" not in log and json.loads(runs[1].stdout)["codex"]["tokens_cycle"] is not None


def _discover_with_os_walk(root: str) -> list[tuple[str, str]]:
    """What discover() found before it walked subagents/ itself: the same files, in the same order."""
    from governor.meter import transcript_files as tf

    found: list[tf.Found] = []
    for project in list(os.scandir(root)):  # scandir order, as discover
        if not project.is_dir():
            continue
        for entry in list(os.scandir(project.path)):
            if entry.name.endswith(".jsonl"):
                tf._add(found, None, entry.path, project.name)
            elif tf._is_dir(entry):
                sub = os.path.join(entry.path, "subagents")
                if os.path.isdir(sub):
                    for dirpath, _dirs, files in os.walk(sub):
                        for name in files:
                            if name.startswith("agent-") and name.endswith(".jsonl"):
                                tf._add(found, None, os.path.join(dirpath, name), project.name)
    return [(path, project) for path, project, _st in found]


def test_subagent_discovery_finds_what_os_walk_found_links_loops_and_fifos_included(tmp_path: Path) -> None:
    from governor.meter import transcript_files

    root = tmp_path / "projects"
    session = root / "-home-dev-proj" / "sess-1"
    nested = session / "subagents" / "deeper" / "deepest"
    nested.mkdir(parents=True)
    (root / "-home-dev-proj" / "sess-1.jsonl").write_text("{}\n")
    for directory, name in ((session / "subagents", "agent-a.jsonl"), (nested.parent, "agent-b.jsonl"),
                            (nested, "agent-c.jsonl"), (nested, "notes.jsonl"), (nested.parent, "agent-d.txt")):
        (directory / name).write_text("{}\n")
    (session / "subagents" / "loop").symlink_to(session / "subagents")  # a directory link: never walked
    (nested / "agent-link.jsonl").symlink_to(nested / "agent-c.jsonl")  # a file link: read as the file
    os.mkfifo(nested / "agent-fifo.jsonl")  # seen and skipped, never opened
    (root / "-home-dev-proj" / "sess-2").mkdir()  # a session directory without subagents/
    (root / "-home-dev-proj" / "sess-3").mkdir()
    (root / "-home-dev-proj" / "sess-3" / "subagents").write_text("not a directory")
    skipped: list[str] = []
    found = [(path, project) for path, project, _st in transcript_files.discover([str(root)], skipped)]
    assert found == _discover_with_os_walk(str(root))
    assert sorted(os.path.basename(p) for p, _ in found) == [
        "agent-a.jsonl", "agent-b.jsonl", "agent-c.jsonl", "agent-link.jsonl", "sess-1.jsonl"]
    assert [s.rsplit("/", 1)[-1] for s in skipped] == ["agent-fifo.jsonl (not a regular file)"]
