"""Ingest Claude Code transcripts into the ledger, incrementally and de-duplicated.

One record per API response: among rows with the same key a non-sidechain row wins over a sidechain
replay, then the whole row with the highest output_tokens (ties: highest 4-field total, 1-hour writes,
web searches); its time and session are those
of the earliest row (the original, not a resume copy). Both rules are decided inside SQLite by
UPSERT, so file order, chunking, repeats and concurrent updaters cannot change the totals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from governor.fastsqlite import sqlite3
from governor.log import log
from governor.meter import db, tail
from governor.meter.parse_pool import Job, _close, _parse_all
from governor.meter.transcript_files import Found, discover

KIND = "claude"
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this a single process is faster than a pool
# From here a scan outside a hook loads in one transaction without the usage indexes and roll-up triggers
# and rebuilds them after, which costs time in proportion to the whole ledger: worth it for this much new
# transcript, or for any parallel scan into an empty ledger (a first scan).
BULK_MIN_BYTES = 256 * 1024 * 1024
BATCH_BYTES = 64 * 1024 * 1024  # transcript bytes per transaction outside hooks
FAST_PARSE_MIN_BYTES = 32 * 1024 * 1024  # from here transcript_fast repays its ~25 ms import (msgspec)
HOOK_READ_BYTES = 32 * 1024 * 1024  # what a hook (budget_s) reads of one file per call; the next goes on

_BETTER = (  # a non-sidechain row beats any sidechain replay (ccusage's /btw case), then the most output
    "(excluded.sidechain < usage.sidechain OR (excluded.sidechain = usage.sidechain AND ("
    "excluded.output > usage.output OR (excluded.output = usage.output AND ("
    "excluded.input + excluded.cache_creation + excluded.cache_read > "
    "usage.input + usage.cache_creation + usage.cache_read OR ("
    "excluded.input + excluded.cache_creation + excluded.cache_read = "
    "usage.input + usage.cache_creation + usage.cache_read AND ("
    "COALESCE(excluded.cache_1h, -1) > COALESCE(usage.cache_1h, -1) OR ("
    "COALESCE(excluded.cache_1h, -1) = COALESCE(usage.cache_1h, -1) AND "
    "excluded.web_search > usage.web_search))))))))"
)
_EARLIER = (
    "(excluded.ts < usage.ts OR (excluded.ts = usage.ts AND (excluded.sidechain < usage.sidechain OR "
    "(excluded.sidechain = usage.sidechain AND excluded.session_id < usage.session_id))))"
)
_TOKEN_COLS = (
    "model",
    "input",
    "output",
    "cache_creation",
    "cache_read",
    "cache_5m",
    "cache_1h",
    "sidechain",
    "web_search",
)
UPSERT = (
    "INSERT INTO usage(key, ts, session_id, project, model, input, output, cache_creation, cache_read,"
    " cache_5m, cache_1h, sidechain, web_search) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET "
    + ", ".join(f"{c} = CASE WHEN {_BETTER} THEN excluded.{c} ELSE usage.{c} END" for c in _TOKEN_COLS)
    + ", "
    + ", ".join(
        f"{c} = CASE WHEN {_EARLIER} THEN excluded.{c} ELSE usage.{c} END"
        for c in ("ts", "session_id", "project")
    )
    + f" WHERE {_BETTER} OR {_EARLIER}"
)


class IngestStats:
    """What one ingest did (a plain class: `dataclasses` costs the hook ~10 ms of imports)."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.files_seen = self.files_read = self.bytes_read = self.records = self.bad_lines = 0
        self.skipped_old = self.unfinished = 0  # unfinished: files left for the next call (budget_s)
        self.bad_files: list[str] = []  # files with malformed lines in this read
        self.unreadable: list[str] = []  # files that could not be read, and why (logged when they change)

    def __repr__(self) -> str:
        return f"IngestStats({self.__dict__})"


def ingest(
    conn: sqlite3.Connection,
    roots: list[str],
    since: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    parallel: bool = True,
    only: list[Found] | None = None,
    budget_s: float | None = None,
) -> IngestStats:
    """Read what was appended since the last ingest. Files untouched since `since` (epoch s) and never
    read before are skipped; `only` limits the ingest to those files (see session_files). Each file's
    rows and cursor commit together, so a killed process leaves the ledger consistent and keeps the
    files it finished; with `budget_s` (a hook) it stops after that long and the next call goes on."""
    stats = IngestStats(list(roots))
    found = discover(roots, stats.unreadable) if only is None else only
    stats.files_seen = len(found)
    now = time.time()
    deadline = None if budget_s is None else time.monotonic() + budget_s
    if only is None:  # one query for every file's position; a whole cursor only for a file that changed
        positions = tail.load_positions(conn, KIND)
        cursors = {}
    else:  # a hook reading one session: look up just its files' cursors, not thousands
        positions = {}
        cursors = {p: c for p, _proj, _st in found if (c := tail.load_cursor(conn, p)) is not None}
    jobs: list[Job] = []
    stat_of: dict[str, os.stat_result] = {}
    start_of: dict[str, tuple[int, str]] = {}
    touched: set[str] = set()  # sessions whose rows or cost-state checkpoints changed in this transaction
    account_changed = False  # cost-state lines or forks read, or checkpoints dropped, in this transaction
    for path, project, st in found:
        position = positions.get(path)
        if position is not None:
            if tail.unchanged(st, position):  # a full scan's usual case: passed over without a Cursor or a read
                continue
            if (cursor := tail.load_cursor(conn, path)) is not None:
                cursors[path] = cursor
        if tail.too_old(st, cursor := cursors.get(path), since):
            stats.skipped_old += 1
            continue
        start = tail.start_offset(st, cursor)
        if start is None:
            continue
        jobs.append((path, project, start))
        stat_of[path] = st
        start_of[path] = (start, project)
        stats.bytes_read += st.st_size - start
    total_bytes, done_bytes = stats.bytes_read, 0
    fast = total_bytes >= FAST_PARSE_MIN_BYTES
    parallel = parallel and total_bytes >= PARALLEL_MIN_BYTES
    bulk = budget_s is None and (
        total_bytes >= BULK_MIN_BYTES
        or (total_bytes >= PARALLEL_MIN_BYTES and conn.execute("SELECT 1 FROM usage LIMIT 1").fetchone() is None)
    )
    # Commit every BATCH_BYTES of transcript (a hook: every file), so a kill loses at most one batch and
    # a scan is not slowed down by a commit (and WAL checkpoint) per file. A big first scan outside a hook
    # is one transaction that loads without the indexes and roll-up triggers and rebuilds them at the end:
    # several times faster, and a kill still leaves the ledger as it was.
    batch_limit: float = 0 if budget_s is not None else BATCH_BYTES
    results = _parse_all(jobs, parallel, fast, HOOK_READ_BYTES if budget_s is not None else None)
    pending_bytes = 0
    tx: db.transaction | None = None
    saved: list[str] | None = None
    held: dict[str, tail.Cursor] | None = None  # the cursors as of our write lock, when we hold it throughout
    if bulk:
        conn.execute("PRAGMA cache_size=-131072")
        tx = db.transaction(conn)
        tx.__enter__()
        saved, batch_limit = db.drop_usage_derivatives(conn), float("inf")
        held = tail.load_cursors(conn, KIND)
    try:
        for path, records, offset, bad, account, error in results:
            st = stat_of[path]
            if error is not None:  # gone, or no longer a regular file, since discovery: no cursor moves
                stats.unreadable.append(f"{path} ({error})")
                continue
            if tx is None:
                begun = db.transaction(conn)
                begun.__enter__()  # may raise "database is locked": then there is nothing to roll back
                tx = begun
            # Upserts are idempotent, so a concurrent updater that read the same bytes changes nothing;
            # the cursor is re-read inside the write lock so it never moves backwards over bytes another
            # updater read (a cursor past the file's end is from before a truncation in place: replaced).
            current = held.get(path) if held is not None else tail.load_cursor(conn, path)
            if not (current and tail.ahead(current, path, st, offset)):
                conn.executemany(UPSERT, records)
                touched.update([r[2] for r in records])  # a list: a generator costs twice as much
                if account or start_of[path][0] == 0:  # cost-state lines or forks, or a file read anew
                    from governor.meter.account import store as store_account

                    stored = store_account(conn, path, start_of[path][1], start_of[path][0], account)
                    account_changed = account_changed or bool(stored)
                    touched |= stored
                cursor = tail.Cursor(st.st_dev, st.st_ino, offset, st.st_size, st.st_mtime_ns)
                tail.save_cursor(conn, path, KIND, cursor, bad, now)
                stats.records += len(records)
                stats.bad_lines += bad
                if bad:
                    stats.bad_files.append(path)
            stats.files_read += 1
            done_bytes += st.st_size
            pending_bytes += st.st_size
            if pending_bytes >= batch_limit:
                _reconcile(conn, touched, account_changed)
                touched, account_changed = set(), False
                tx.__exit__(None, None, None)
                tx, pending_bytes = None, 0
            if progress:
                progress(min(done_bytes, total_bytes), total_bytes)
            if deadline is not None and time.monotonic() > deadline and stats.files_read < len(jobs):
                stats.unfinished = len(jobs) - stats.files_read
                break
    except BaseException as exc:
        if tx is not None:
            tx.__exit__(type(exc), exc, None)
        raise
    finally:
        _close(results)
    if stats.unreadable:
        tail.log_unreadable(conn, stats.unreadable, "unreadable_transcripts", "transcript")
    if stats.bad_files:  # once per reading of the bad lines: the cursor moves past them
        more = f" and {len(stats.bad_files) - 1} more file(s)" if len(stats.bad_files) > 1 else ""
        log(f"ingest: skipped {stats.bad_lines} malformed line(s) in {stats.bad_files[0]}{more}")
    if tx is not None:
        try:
            if saved is not None:
                db.restore_usage_derivatives(conn, saved)
            _reconcile(conn, touched, account_changed)  # after the restore: its queries want the indexes
        except BaseException as exc:
            tx.__exit__(type(exc), exc, None)
            raise
        tx.__exit__(None, None, None)
    return stats




def _reconcile(conn: sqlite3.Connection, sessions: set[str], account_changed: bool) -> None:
    """The client-account records of the sessions whose rows or cost-state changed (account_reconcile);
    nothing to import or ask when the ledger holds no cost-state line and none was just dropped."""
    if sessions and (account_changed or conn.execute("SELECT 1 FROM cost_state LIMIT 1").fetchone() is not None):
        from governor.meter.account_reconcile import reconcile

        reconcile(conn, sessions)
