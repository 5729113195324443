"""Which Claude Code transcript files there are: every *.jsonl under the roots, and one session's own files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

Found = tuple[str, str, os.stat_result]  # (path, project, stat)


def storable(path: str) -> bool:
    """Whether a path can be a ledger key: a name that is not UTF-8 (os gives it with surrogates) cannot be
    stored as SQLite text."""
    if path.isascii():  # nearly every path (uuids under a dashed cwd): ~5x cheaper than encoding it
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _add(found: list[Found], skipped: list[str] | None, path: str, project: str) -> None:
    """Append `path` when it is a regular file (after links) with a storable name; otherwise note why
    not in `skipped`. A FIFO, a device, a link loop, a dangling link or a file deleted while we look is
    never opened (a FIFO blocks a reader, /dev/zero never ends)."""
    st = checked(path, skipped)
    if st is not None:
        found.append((path, project, st))


def checked(path: str, skipped: list[str] | None) -> os.stat_result | None:
    """`path`'s stat when it is a regular file (after links) with a storable name, else None with the
    reason noted in `skipped` (see _add). Transcripts and Codex rollouts alike."""
    if not storable(path):
        reason = "name is not UTF-8"
    else:
        try:
            st = os.stat(path)
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
            reason = getattr(exc, "strerror", None) or type(exc).__name__
        else:
            if stat.S_ISREG(st.st_mode):
                return st
            reason = "not a regular file"
    if skipped is not None:
        skipped.append(f"{os.fsencode(path).decode('utf-8', 'replace')} ({reason})")
    return None


def _subagent_files(found: list[Found], skipped: list[str] | None, session_dir: str, project: str) -> None:
    _agent_files(found, skipped, os.path.join(session_dir, "subagents"), project)


def _agent_files(found: list[Found], skipped: list[str] | None, directory: str, project: str) -> None:
    """The agent-*.jsonl files under `directory`, in os.walk's order (a directory's files, then its
    subdirectories); like os.walk it follows no directory links (no loops). Its own scandir walk, without
    os.walk's generator and isdir check: discovering 3,627 transcripts took 22 ms instead of 25-40 ms."""
    try:
        entries = list(os.scandir(directory))
    except OSError:  # no subagents/ (most sessions), or unreadable
        return
    below = []
    for entry in entries:
        if _is_dir(entry):
            try:
                link = entry.is_symlink()
            except OSError:
                link = False
            if not link:
                below.append(entry.path)
        elif entry.name.startswith("agent-") and entry.name.endswith(".jsonl"):
            _add(found, skipped, entry.path, project)
    for path in below:
        _agent_files(found, skipped, path, project)


def discover(roots: Iterable[str], skipped: list[str] | None = None) -> list[Found]:
    """(path, project, stat) of every transcript: <root>/<project>/*.jsonl and the subagent files
    <root>/<project>/<session>/subagents/**/agent-*.jsonl. What cannot be read is left out and, with
    `skipped`, described there."""
    found: list[Found] = []
    for root in roots:
        try:
            projects = [e for e in os.scandir(root) if _is_dir(e)]
        except OSError:
            continue
        for project in projects:
            if not storable(project.path):
                if skipped is not None:
                    skipped.append(f"{os.fsencode(project.path).decode('utf-8', 'replace')} (name is not UTF-8)")
                continue
            try:
                entries = list(os.scandir(project.path))
            except OSError:
                continue
            for entry in entries:
                if entry.name.endswith(".jsonl"):
                    _add(found, skipped, entry.path, project.name)
                elif _is_dir(entry):
                    _subagent_files(found, skipped, entry.path, project.name)
    return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link loop
        return False


def as_discovered(transcript_path: object, roots: list[str]) -> str | None:
    """A payload's transcript path spelt as discover() spells it, when it is a session file directly under
    a project of one of the roots; None otherwise (a path spelt differently would get a second cursor, a
    file elsewhere is not ours to read)."""
    if not isinstance(transcript_path, str) or not transcript_path.endswith(".jsonl"):
        return None
    full = os.path.abspath(os.path.expanduser(transcript_path))
    project_dir, name = os.path.split(full)
    root, project = os.path.split(project_dir)
    for candidate in roots:
        if os.path.abspath(candidate) == root:
            return os.path.join(candidate, project, name)
    return None


def session_files(transcript_path: object, roots: list[str], skipped: list[str] | None = None) -> list[Found]:
    """(path, project, stat) of one session: its transcript and its subagent transcripts, named as
    discover() names them; [] when the transcript is not under one of the roots or is not a regular
    file (a FIFO or a device is never opened)."""
    found: list[Found] = []
    spelt = as_discovered(transcript_path, roots)
    if spelt is None:
        return found
    project = os.path.basename(os.path.dirname(spelt))
    _add(found, skipped, spelt, project)
    if found:
        _subagent_files(found, skipped, spelt[: -len(".jsonl")], project)
    return found
