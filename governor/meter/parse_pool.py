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


def _tasks(jobs: list[Job], processes: int = 2) -> list[list[Job]]:
    """Jobs in groups of at most TASK_BYTES, most unread bytes first: a task per file would cost a round
    trip to a worker for each of thousands of small transcripts. The groups shrink towards the end (each
    about 1/TAIL_SHARE of what is left per process, down to MIN_TASK_BYTES), so the processes run out of
    work together: with equal groups the writer waited for the worker's last queued tasks (~0.1 s a GB)."""
    unread = sorted(((_size(job[0]) - job[2], job) for job in jobs), key=lambda sized: -sized[0])
    left = sum(job_bytes for job_bytes, _job in unread)
    tasks: list[list[Job]] = []
    size = limit = 0
    for job_bytes, job in unread:
        if size >= limit:
            tasks.append([])
            size = 0
            limit = max(MIN_TASK_BYTES, min(TASK_BYTES, left // (TAIL_SHARE * processes)))
        tasks[-1].append(job)
        size += job_bytes
        left -= job_bytes
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
    unevenly loaded (it parsed half the bytes besides writing them all). At most IN_FLIGHT tasks are
    queued per worker: a slow writer cannot pile results up in memory.

    Forked processes on a pipe each, not multiprocessing.Pool: the pool's three threads in this process
    (results unpickled by one of them) took the GIL from the writer; here the writer reads a result when
    it wants one. The workers inherit the task list, so a task goes to them as its index: a send never
    waits on a worker that is itself waiting to send a result. Results travel as marshal (plain tuples,
    lists and dicts of str, int, float and None), which loads in half pickle's time in the writer."""
    import marshal
    import multiprocessing
    import pickle
    from multiprocessing.connection import wait

    workers = max(1, min((os.cpu_count() or 2) - 1, 3))
    if fast:
        import governor.meter.transcript_fast  # noqa: F401  (imported once here, not in every forked worker)
    tasks = _tasks(jobs, workers + 1)
    context = multiprocessing.get_context("fork")
    procs: list[Any] = []
    queued: dict[Any, int] = {}  # a worker's end of its pipe -> its tasks not yet read back
    taken = 0  # tasks handed out, to a worker or to this process

    def top_up(link: Any) -> None:
        nonlocal taken
        while queued[link] < IN_FLIGHT and taken < len(tasks):
            try:
                link.send(taken)
            except OSError:  # the worker is gone: reading its pipe says so
                return
            taken += 1
            queued[link] += 1

    try:
        for _ in range(workers):
            link, theirs = context.Pipe()
            proc = context.Process(target=_work, args=(theirs, tasks, fast, limit), daemon=True)
            proc.start()
            theirs.close()
            procs.append(proc)
            queued[link] = 0
            top_up(link)
        own: list[Job] = []  # the rest of a task this process took, in reverse: parsed one file per idle moment
        while own or any(queued.values()):
            busy = [link for link, count in queued.items() if count]
            ready: list[Any] = [link for link in busy if link.poll()]
            if not ready:
                if not own and taken < len(tasks):
                    own = tasks[taken][::-1]
                    taken += 1
                if own:  # the workers are busy: parse a file here rather than wait, then look again, so
                    # this process (the writer) parses only while it has nothing to write
                    yield _parse_file(own.pop(), fast, limit)
                    continue
                ready = list(wait(busy))
            for worker in ready:
                try:
                    message = worker.recv_bytes()
                except (EOFError, OSError):  # it died without a word (killed, out of memory)
                    proc = procs[list(queued).index(worker)]
                    proc.join()
                    raise RuntimeError(f"a transcript parser process died (exit code {proc.exitcode})") from None
                queued[worker] -= 1
                body = memoryview(message)[1:]  # no copy of a result's megabytes
                if message[:1] != _RESULTS:
                    raise pickle.loads(body)
                top_up(worker)
                yield from marshal.loads(body)
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.join()
        for link in queued:
            link.close()


def _work(link: Any, tasks: list[list[Job]], fast: bool, limit: int | None) -> None:
    """A worker: parse the tasks whose indexes arrive, send each result back; the end of the pipe ends it.
    Whatever it raises goes back to the writer, which raises it; Ctrl-C is the writer's to handle."""
    import marshal
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        while True:
            try:
                index = link.recv()
            except EOFError:
                return
            link.send_bytes(_RESULTS + marshal.dumps(_parse_files(tasks[index], fast, limit)))
    except OSError:  # the pipe is gone, and with it the writer (reading a file never raises: _parse_file)
        return
    except Exception as exc:  # the writer raises it (as itself when it pickles)
        try:
            payload = pickle.dumps(exc)
        except Exception:  # noqa: BLE001 (an exception that does not pickle: its type and text)
            payload = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        try:
            link.send_bytes(_ERROR + payload)
        except OSError:
            return


_RESULTS, _ERROR = b"m", b"e"  # a worker's message: marshalled results, or the pickled exception it raised


Job = tuple[str, str, int]  # a file to parse: (path, project, offset to read from)


TASK_BYTES = 32 * 1024 * 1024  # transcript bytes a worker parses per task, at most
MIN_TASK_BYTES = 1024 * 1024  # and at least, but for the last task (see _tasks)
TAIL_SHARE = 4  # a task is at most 1/TAIL_SHARE of the bytes left per process


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
