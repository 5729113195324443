"""The parse side of an ingest: files grouped into tasks and parsed in this process or a worker pool,
results handed back in file order with bounded memory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from governor.meter import tail
from governor.meter.account import cost_state_items, forks_in
from governor.meter.transcript import parse_block

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

# (path, records, offset after the last complete line, bad lines, cost-state and fork items,
#  why the file could not be read or None)
Parsed = tuple[str, list[tuple["Any", ...]], int, int, list[tuple["Any", ...]], str | None]  # "Any": no typing import


def _close(results: Iterable[object]) -> None:
    close = getattr(results, "close", None)
    if close:
        close()


def _parse_all(jobs: list[Job], parallel: bool, fast: bool, limit: int | None = None) -> Iterable[Parsed]:
    if not parallel or len(jobs) < 2 or (os.cpu_count() or 1) < 2:
        return (_parse_file(job, fast, limit) for job in jobs)
    return _parse_in_pool(jobs, fast, limit)


def _parse_files(jobs: list[Job], fast: bool, limit: int | None = None) -> list[Parsed]:
    return [_parse_file(job, fast, limit) for job in jobs]


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


def _parse_in_pool(jobs: list[Job], fast: bool, limit: int | None) -> Iterable[Parsed]:
    """Results as they are parsed, by worker processes and by this one: whenever no worker result waits
    for the writer, this process parses the next file of a task itself, so one process per core is busy
    and none waits (a pool of one worker per core plus this writer oversubscribes the cores by a third).
    A file, not a whole task, at a time: the writer parsing a task while results pile up left the cores
    unevenly loaded (it parsed half the bytes besides writing them all). At most
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
            pool.apply_async(_parse_files, (task, fast, limit), callback=finished.put, error_callback=finished.put)
            queued += 1

    own: list[Job] = []  # the rest of a task this process took, in reverse: parsed one file per idle moment
    try:
        top_up()
        while queued or own:
            try:
                results = finished.get_nowait()
            except queue.Empty:
                if not own and (task := next(tasks, None)) is not None:
                    own = task[::-1]
                if own:  # the workers are busy: parse a file here rather than wait, then look again, so
                    # this process (the writer) parses only while it has nothing to write
                    yield _parse_file(own.pop(), fast, limit)
                    continue
                results = finished.get()
            queued -= 1
            if isinstance(results, BaseException):
                raise results
            top_up()
            yield from results
    finally:
        pool.terminate()


Job = tuple[str, str, int]  # a file to parse: (path, project, offset to read from)


TASK_BYTES = 32 * 1024 * 1024  # transcript bytes a worker parses per task


IN_FLIGHT = 3  # tasks queued or parsed but not yet written, per worker, at most: bounds memory


def _parse_file(job: Job, fast: bool = False, limit: int | None = None) -> Parsed:
    """Parse one file from `start`: (path, its records pre-merged per key as plain tuples for UPSERT,
    offset after the last complete line, bad lines, cost-state and fork items, None), or
    (path, [], start, 0, [], why) when the file
    cannot be read (gone, a FIFO, a device, a link loop). `fast`: parse with transcript_fast (worth its
    ~25 ms import on a scan); `limit`: read at most about that many bytes (a hook)."""
    path, project, start = job
    parse: Callable[[bytes, str, list[int]], tuple[list[Any], int]] = parse_block
    if fast:
        from governor.meter.transcript_fast import parse_block as parse
    records: list[tuple[Any, ...]] = []
    account: list[tuple[Any, ...]] = []
    bad = 0
    offset = start
    blocks = tail.Blocks(path, start, limit=limit)
    try:
        for block, end in blocks:
            offset = end
            cost_states: list[int] = []
            got, bad_here = parse(block, project, cost_states)
            records.extend(got)
            bad += bad_here
            if cost_states:
                account.extend(cost_state_items(block, cost_states, end - len(block), path))
    except OSError as exc:
        return path, [], start, 0, [], f"{type(exc).__name__}: {exc}"
    merged = _collapse(records)
    return path, merged, offset, bad + blocks.overlong, account + forks_in(path, merged), None


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


def _rank(rec: tuple[Any, ...]) -> tuple[int, int, int, int, int]:
    """UPSERT's _BETTER as a sort key: not a sidechain, output, 4-field total, 1-hour writes, web searches."""
    return (-rec[11], rec[6], rec[5] + rec[6] + rec[7] + rec[8], -1 if rec[10] is None else rec[10], rec[12])
