"""The sync folder's layout and line format, shared by export and merge.

    <sync dir>/governor/<machine id>/machine.json    the owner's name, version, last export (atomic writes)
    <sync dir>/governor/<machine id>/YYYY-MM.jsonl   its records, one self-contained line each, append-only

Only the owning machine writes in its directory. Each file starts with a header line
({"governor": "sync", "v": 1, ...}); every line after it is one record with its format version `v`, a
per-machine sequence number `n` and its type `t`: "u" a usage record (never prompt text), "gone" the
removal of one (Claude Code's own-account records are recomputed), "capture" an official /usage figure.
A sync engine's conflict copy of a file (`2026-12.sync-conflict-….jsonl`, `2026-12 (conflicted copy).jsonl`,
`2026-12.jsonl~`) is read as the same machine's data: every record is keyed, so it counts once.
"""

from __future__ import annotations

import os
import re

FORMAT = 1  # the line format this governor writes and reads; a newer one is skipped, said once
NAME = "governor"  # the subdirectory of the sync dir governor uses
MACHINE_FILE = "machine.json"
MAX_LINE_BYTES = 64 * 1024  # a record line is ~400 bytes; a longer one is not ours
MACHINE_FILE_BYTES = 64 * 1024
_ID = re.compile(r"^[0-9a-f]{8,64}$")
# YYYY-MM.jsonl and what sync engines make of it: Syncthing's .sync-conflict-<date>-<time>-<device>.jsonl,
# Dropbox/OneDrive/Nextcloud's " (… conflicted copy …)", editors' and engines' "~" backups.
_EXPORT = re.compile(r"^\d{4}-\d{2}(\.jsonl|\.sync-conflict-[^/]*\.jsonl| \([^/]*conflict[^/]*\)\.jsonl)~?$",
                     re.IGNORECASE)


def root(sync_dir: str) -> str:
    return os.path.join(sync_dir, NAME)


def is_machine_id(name: str) -> bool:
    return bool(_ID.match(name))


def is_export_file(name: str) -> bool:
    """A month file or a sync engine's copy of one (temp files of engines start with '.' or '~')."""
    return bool(_EXPORT.match(name))


def is_conflict_copy(name: str) -> bool:
    return is_export_file(name) and not re.match(r"^\d{4}-\d{2}\.jsonl$", name)


def month_file(machine_dir: str, now: float) -> str:
    import time

    return os.path.join(machine_dir, time.strftime("%Y-%m", time.gmtime(now)) + ".jsonl")


def hash_project(project: str | None) -> str | None:
    """`sync.hash_projects`: the same label on every machine, not the directory name."""
    if project is None:
        return None
    import hashlib

    return "sha256:" + hashlib.sha256(project.encode("utf-8", "replace")).hexdigest()[:16]
