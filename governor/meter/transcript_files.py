"""Which Claude Code transcript files there are: every *.jsonl under the roots, and one session's own files."""

from __future__ import annotations

import os
from collections.abc import Iterable


def discover(roots: Iterable[str]) -> list[tuple[str, str, os.stat_result]]:
    """(path, project, stat) of every transcript: <root>/<project>/*.jsonl and the subagent files
    <root>/<project>/<session>/subagents/**/agent-*.jsonl."""
    found: list[tuple[str, str, os.stat_result]] = []
    for root in roots:
        try:
            projects = [e for e in os.scandir(root) if e.is_dir()]
        except OSError:
            continue
        for project in projects:
            try:
                entries = list(os.scandir(project.path))
            except OSError:
                continue
            for entry in entries:
                if entry.name.endswith(".jsonl") and entry.is_file():
                    found.append((entry.path, project.name, entry.stat()))
                elif entry.is_dir() and os.path.isdir(os.path.join(entry.path, "subagents")):
                    for dirpath, _dirs, files in os.walk(os.path.join(entry.path, "subagents")):
                        for name in files:
                            if name.startswith("agent-") and name.endswith(".jsonl"):
                                path = os.path.join(dirpath, name)
                                found.append((path, project.name, os.stat(path)))
    return found


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


def session_files(transcript_path: object, roots: list[str]) -> list[tuple[str, str, os.stat_result]]:
    """(path, project, stat) of one session: its transcript and its subagent transcripts, named as
    discover() names them; [] when the transcript is not under one of the roots."""
    found: list[tuple[str, str, os.stat_result]] = []
    spelt = as_discovered(transcript_path, roots)
    if spelt is None:
        return found
    transcript_path = spelt
    project = os.path.basename(os.path.dirname(transcript_path))
    try:
        found.append((transcript_path, project, os.stat(transcript_path)))
    except OSError:
        return []
    sub = os.path.join(transcript_path[: -len(".jsonl")], "subagents")
    if os.path.isdir(sub):
        for dirpath, _dirs, files in os.walk(sub):
            for name in files:
                if name.startswith("agent-") and name.endswith(".jsonl"):
                    path = os.path.join(dirpath, name)
                    found.append((path, project, os.stat(path)))
    return found
