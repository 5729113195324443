"""Ingest Claude Code transcripts into the ledger, incrementally and de-duplicated.

One record per API response: among rows with the same key the whole row with the highest
output_tokens wins (ties: highest 4-field total, then non-sidechain); its time and session are those
of the earliest row (the original, not a resume copy). Both rules are decided inside SQLite by
UPSERT, so file order, chunking, repeats and concurrent updaters cannot change the totals.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

from governor.meter import db, tail
from governor.meter.transcript import parse_block

KIND = "claude"
Job = tuple[str, str, int]  # a file to parse: (path, project, offset to read from)
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this a single process is faster than a pool
# From here a scan outside a hook loads in one transaction without the usage indexes and roll-up triggers
# and rebuilds them after, which costs time in proportion to the whole ledger: worth it for this much new
# transcript, or for any parallel scan into an empty ledger (a first scan).
BULK_MIN_BYTES = 256 * 1024 * 1024
BATCH_BYTES = 64 * 1024 * 1024  # transcript bytes per transaction outside hooks
FAST_PARSE_MIN_BYTES = 32 * 1024 * 1024  # from here transcript_fast repays its ~25 ms import (msgspec)
TASK_BYTES = 32 * 1024 * 1024  # transcript bytes a worker parses per task
IN_FLIGHT = 3  # tasks queued or parsed but not yet written, per worker, at most: bounds memory

_BETTER = (
    "(excluded.output > usage.output OR (excluded.output = usage.output AND ("
    "excluded.input + excluded.cache_creation + excluded.cache_read > "
    "usage.input + usage.cache_creation + usage.cache_read OR ("
    "excluded.input + excluded.cache_creation + excluded.cache_read = "
    "usage.input + usage.cache_creation + usage.cache_read AND ("
    "excluded.sidechain < usage.sidechain OR (excluded.sidechain = usage.sidechain AND "
    "COALESCE(excluded.cache_1h, -1) > COALESCE(usage.cache_1h, -1)))))))"
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
)
UPSERT = (
    "INSERT INTO usage(key, ts, session_id, project, model, input, output, cache_creation, cache_read,"
    " cache_5m, cache_1h, sidechain) VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET "
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

    def __repr__(self) -> str:
        return f"IngestStats({self.__dict__})"


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


def _parse_file(job: Job, fast: bool = False) -> tuple[str, list[tuple[Any, ...]], int, int]:
    """Parse one file from `start`: (path, its records pre-merged per key as plain tuples for UPSERT,
    offset after the last complete line, bad lines). `fast`: parse with transcript_fast (worth its ~25 ms
    import on a scan)."""
    path, project, start = job
    parse: Callable[[bytes, str], tuple[list[Any], int]] = parse_block
    if fast:
        from governor.meter.transcript_fast import parse_block as parse
    records: list[tuple[Any, ...]] = []
    bad = 0
    offset = start
    for block, end in tail.iter_blocks(path, start):
        offset = end
        got, bad_here = parse(block, project)
        records.extend(got)
        bad += bad_here
    return path, _collapse(records), offset, bad


def _collapse(records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Pre-merge repeats within one file (one row per content block) by UPSERT's rules, so SQLite sees
    one row per key; plain tuples (a worker pickles them, and sqlite3 binds them, several times faster
    than a tuple subclass). Indexes, not field names: a first scan runs this a million times."""
    best: dict[str, tuple[Any, ...]] = {}
    for rec in records:
        key = rec[0]
        kept = best.get(key)
        if kept is None:  # most records: the first row of its response
            best[key] = tuple(rec)
            continue
        winner: tuple[Any, ...]
        other: tuple[Any, ...]
        if rec[4:] != kept[4:] and _rank(rec) > _rank(kept):
            winner, other = rec, kept
        else:  # a tie (every block of a response may carry the same usage) keeps the kept row
            winner, other = kept, rec
        # the time, session and project of the earliest row: (ts, sidechain, session_id) as _EARLIER
        first = other if (other[1], other[11], other[2]) < (winner[1], winner[11], winner[2]) else winner
        if first is not kept or winner is not kept:  # rows in time order with the same usage change nothing
            best[key] = (key, first[1], first[2], first[3], *winner[4:])
    return list(best.values())


def _rank(rec: tuple[Any, ...]) -> tuple[int, int, int, int]:
    """UPSERT's _BETTER as a sort key: output, then 4-field total, then not a sidechain, then 1-hour writes."""
    return (rec[6], rec[5] + rec[6] + rec[7] + rec[8], -rec[11], -1 if rec[10] is None else rec[10])


def ingest(
    conn: sqlite3.Connection,
    roots: list[str],
    since: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    parallel: bool = True,
    only: list[tuple[str, str, os.stat_result]] | None = None,
    budget_s: float | None = None,
) -> IngestStats:
    """Read what was appended since the last ingest. Files untouched since `since` (epoch s) and never
    read before are skipped; `only` limits the ingest to those files (see session_files). Each file's
    rows and cursor commit together, so a killed process leaves the ledger consistent and keeps the
    files it finished; with `budget_s` (a hook) it stops after that long and the next call goes on."""
    stats = IngestStats(list(roots))
    found = discover(roots) if only is None else only
    stats.files_seen = len(found)
    now = time.time()
    deadline = None if budget_s is None else time.monotonic() + budget_s
    if only is None:
        cursors = tail.load_cursors(conn, KIND)
    else:  # a hook reading one session: look up just its files' cursors, not thousands
        cursors = {p: c for p, _proj, _st in found if (c := tail.load_cursor(conn, p)) is not None}
    jobs: list[Job] = []
    stat_of: dict[str, os.stat_result] = {}
    for path, project, st in found:
        cursor = cursors.get(path)
        if cursor is None and since is not None and st.st_mtime < since:
            stats.skipped_old += 1
            continue
        start = tail.start_offset(st, cursor)
        if start is None:
            continue
        jobs.append((path, project, start))
        stat_of[path] = st
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
    results = _parse_all(jobs, parallel, fast)
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
        for path, records, offset, bad in results:
            st = stat_of[path]
            if tx is None:
                tx = db.transaction(conn)
                tx.__enter__()
            # Upserts are idempotent, so a concurrent updater that read the same bytes changes nothing;
            # the cursor is re-read inside the write lock so it never moves backwards.
            current = held.get(path) if held is not None else tail.load_cursor(conn, path)
            if not (current and (current.dev, current.ino) == (st.st_dev, st.st_ino) and current.offset > offset):
                conn.executemany(UPSERT, records)
                cursor = tail.Cursor(st.st_dev, st.st_ino, offset, st.st_size, st.st_mtime_ns)
                tail.save_cursor(conn, path, KIND, cursor, bad, now)
                stats.records += len(records)
                stats.bad_lines += bad
            stats.files_read += 1
            done_bytes += st.st_size
            pending_bytes += st.st_size
            if pending_bytes >= batch_limit:
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
    if tx is not None:
        try:
            if saved is not None:
                db.restore_usage_derivatives(conn, saved)
        except BaseException as exc:
            tx.__exit__(type(exc), exc, None)
            raise
        tx.__exit__(None, None, None)
    return stats


def _close(results: Iterable[object]) -> None:
    close = getattr(results, "close", None)
    if close:
        close()


def _parse_all(
    jobs: list[Job], parallel: bool, fast: bool
) -> Iterable[tuple[str, list[tuple[Any, ...]], int, int]]:
    if not parallel or len(jobs) < 2 or (os.cpu_count() or 1) < 2:
        return (_parse_file(job, fast) for job in jobs)
    return _parse_in_pool(jobs, fast)


def _parse_files(jobs: list[Job], fast: bool) -> list[tuple[str, list[tuple[Any, ...]], int, int]]:
    return [_parse_file(job, fast) for job in jobs]


def _tasks(jobs: list[Job]) -> list[list[Job]]:
    """Jobs in groups of about TASK_BYTES, most unread bytes first (balances the workers' last tasks): a task
    per file would cost a round trip to a worker for each of thousands of small transcripts."""
    unread = sorted(((_size(job[0]) - job[2], job) for job in jobs), key=lambda sized: -sized[0])
    tasks: list[list[Job]] = []
    size = TASK_BYTES
    for job_bytes, job in unread:
        if size >= TASK_BYTES:
            tasks.append([])
            size = 0
        tasks[-1].append(job)
        size += job_bytes
    return tasks


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _parse_in_pool(
    jobs: list[Job], fast: bool
) -> Iterable[tuple[str, list[tuple[Any, ...]], int, int]]:
    """Results as they are parsed, by worker processes and by this one: whenever no worker result waits
    for the writer, this process parses the next task itself, so one process per core is busy and none
    waits (a pool of one worker per core plus this writer oversubscribes the cores by a third). At most
    IN_FLIGHT tasks are queued per worker: a slow writer cannot pile results up in memory."""
    import multiprocessing
    import queue

    workers = max(1, min((os.cpu_count() or 2) - 1, 3))
    if fast:
        import governor.meter.transcript_fast  # noqa: F401  (imported once here, not in every forked worker)
    tasks = iter(_tasks(jobs))
    finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
    pool = multiprocessing.get_context("fork").Pool(workers)
    queued = 0

    def top_up() -> None:
        nonlocal queued
        while queued < IN_FLIGHT * workers and (task := next(tasks, None)) is not None:
            pool.apply_async(_parse_files, (task, fast), callback=finished.put, error_callback=finished.put)
            queued += 1

    try:
        top_up()
        while queued:
            try:
                results = finished.get_nowait()
            except queue.Empty:
                task = next(tasks, None)
                if task is not None:
                    yield from _parse_files(task, fast)  # the workers are busy: parse here rather than wait
                    continue
                results = finished.get()
            queued -= 1
            if isinstance(results, BaseException):
                raise results
            top_up()
            yield from results
    finally:
        pool.terminate()
