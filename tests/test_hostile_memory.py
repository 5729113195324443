"""The memory guard in a hostile memory folder (issue 22): never writes through a link, never loses an
edit made while it runs, respects a read-only MEMORY.md or folder (and says so once), and stays
idempotent there. Permission cases run as a throwaway non-root user when the tests run as root."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from governor.guards import memory_file
from tests.helpers import HOOKS_DIR, REPO_ROOT, run_hook
from tests.test_memory_hook import LONG, memory_index, payload


def test_a_symlinked_archive_is_never_written_through(tmp_path: Path) -> None:
    path = memory_index()
    outside = tmp_path / "outside.md"
    outside.write_text("mine\n")
    (path.parent / "MEMORY.overflow.md").symlink_to(outside)
    before = path.read_bytes()
    proc = run_hook("post_tool_use.py", payload("Write", path))
    assert proc.returncode == 0 and proc.stdout == b""
    assert outside.read_text() == "mine\n" and path.read_bytes() == before  # nothing cut without its archive
    assert (path.parent / "MEMORY.overflow.md").is_symlink()


def test_a_fifo_as_archive_or_index_never_hangs() -> None:
    path = memory_index()
    os.mkfifo(path.parent / "MEMORY.overflow.md")
    proc = run_hook("post_tool_use.py", payload("Write", path), timeout=10)
    assert proc.returncode == 0 and proc.stdout == b""
    assert LONG in path.read_text()
    path.unlink()
    os.mkfifo(path)
    proc = run_hook("post_tool_use.py", payload("Write", path), timeout=10)
    assert proc.returncode == 0 and proc.stdout == b""


def test_an_edit_made_while_the_guard_runs_is_redone_on_not_overwritten(monkeypatch) -> None:
    """The race made certain: another writer (a real process, no lock) replaces MEMORY.md after the guard
    read it and before its rename; the guard redoes the cut on the new content."""
    path = memory_index()
    real = memory_file._append_archive
    raced: list[int] = []
    writer = (
        "import os, sys; p = sys.argv[1]; t = p + '.other.tmp'\n"
        "open(t, 'w').write(open(p).read() + '- [New](new.md) — added by Claude Code\\n'); os.replace(t, p)\n"
    )

    def race_then_archive(*args):
        if not raced:
            raced.append(1)
            subprocess.run([sys.executable, "-c", writer, str(path)], check=True)
        return real(*args)

    monkeypatch.setattr(memory_file, "_append_archive", race_then_archive)
    applied = memory_file.apply_cap(str(path), 350)
    text = path.read_text()
    assert "- [New](new.md) — added by Claude Code" in text and LONG not in text
    assert [c.line_no for c in applied.changes] == [2]
    archive = (path.parent / "MEMORY.overflow.md").read_text()
    assert archive.count(LONG) == 1


def _user() -> str | None:
    """A throwaway non-root user to run as (root ignores permission bits), or None."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    name = "govtest"
    try:
        pwd.getpwnam(name)
    except KeyError:
        if shutil.which("useradd") is None:
            return None
        if subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                          capture_output=True).returncode != 0:
            return None
    return name


def user_or_skip() -> str:
    """The unprivileged user these tests run governor as, or a skip naming what is missing: the user, or
    read access to this checkout (a clone under a 0700 directory such as `mktemp -d` is out of its reach)."""
    user = _user()
    if user is None or (os.geteuid() == 0 and shutil.which("setpriv") is None):
        pytest.skip("needs a non-root user: useradd and setpriv unavailable")
    if os.geteuid() == 0:
        probe = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "test", "-r",
                 str(HOOKS_DIR / "post_tool_use.py")]
        if subprocess.run(probe, capture_output=True).returncode != 0:
            pytest.skip(f"user {user} cannot read this checkout ({REPO_ROOT}): a parent directory is private")
    return user


def _run_as(user: str, hook_payload: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    import json

    command = [sys.executable, str(HOOKS_DIR / "post_tool_use.py")]
    if os.geteuid() == 0:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, input=json.dumps(hook_payload).encode(), capture_output=True, timeout=30,
                          env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)})


@pytest.mark.parametrize("umask", [0o022, 0o000])
@pytest.mark.parametrize("read_only", ["file 0444", "folder 0555"])
def test_read_only_memory_is_respected_idempotently_as_a_user(read_only: str, umask: int, tmp_path: Path) -> None:
    user = user_or_skip()
    path = memory_index()
    uid = pwd.getpwnam(user).pw_uid
    home = Path(os.environ["HOME"])
    for dirpath, _dirs, files in os.walk(home):
        os.chown(dirpath, uid, -1)
        for name in files:
            os.chown(os.path.join(dirpath, name), uid, -1)
    for parent in list(home.parents)[:-1]:  # pytest's tmp dirs are 0700: let the user reach its home
        os.chmod(parent, os.stat(parent).st_mode | 0o005)
    if read_only == "file 0444":
        path.chmod(0o444)
    else:
        path.parent.chmod(0o555)
    before = path.read_bytes()
    old_umask = os.umask(umask)
    try:
        runs = [_run_as(user, payload("Write", path), {}) for _ in range(3)]
    finally:
        os.umask(old_umask)
        path.parent.chmod(0o755)
    for proc in runs:
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    assert path.read_bytes() == before
    assert not (path.parent / "MEMORY.overflow.md").exists()
    said = [proc.stdout for proc in runs]
    assert b"not cut" in said[0] and said[1:] == [b"", b""]  # said once
    state = Path(os.environ["GOVERNOR_HOME"])
    assert all(os.stat(p).st_mode & 0o077 == 0 for p in [state, *state.rglob("*")] if not p.is_symlink())
